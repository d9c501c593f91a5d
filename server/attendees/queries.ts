// Reads of the attendees part: who may see which attendees (scope), the paginated table, one
// attendee, the filter facets and the attendee's own home page. Pagination, counting and
// filtering happen in the database, so a page costs the same for 20 or 2,000 attendees.
import './messages.js';
import { Types, type QueryFilter } from 'mongoose';
import { z } from 'zod';
import { requireMeetingViewer, type Actor } from '../lib/actor.js';
import { Forbidden, NotFound, Unauthorized } from '../lib/errors.js';
import { escapeRegex, searchKey } from '../lib/text.js';
import { objectId, parseInput } from '../lib/validation.js';
import { findMeetingSummaryFor, type MeetingSummary } from '../meetings/queries.js';
import { canEditAttendeesAt } from '../meetings/capabilities.js';
import { SiteModel } from '../sites/model.js';
import { AttendeeModel, attendeeRoles, type Attendee, type AttendeeRole } from './model.js';
import { BoundedMap } from '../lib/bounded-map.js';
import { decimalIntegerInput, isObjectIdString, searchParam, singleParam } from '../lib/input.js';

/** Which attendees of a meeting an actor may read. */
export type AttendeeScope = { kind: 'all' } | { kind: 'site'; siteId: string } | { kind: 'self'; attendeeId: string };

export function readScope(actor: Actor, meetingId: string): AttendeeScope {
  requireMeetingViewer(actor, meetingId);
  switch (actor.kind) {
    case 'organizer':
    case 'chair':
      return { kind: 'all' };
    case 'coordinator':
      return { kind: 'site', siteId: actor.siteId };
    case 'attendee':
      return { kind: 'self', attendeeId: actor.attendeeId };
    default:
      throw new Forbidden();
  }
}

export { isObjectIdString };

export type { MeetingSummary };

/** The meeting an attendee request is about, for this asker, or NotFound (also for malformed ids in URLs). */
export function findMeetingFor(actor: Actor, meetingId: string): Promise<MeetingSummary> {
  return findMeetingSummaryFor(actor, meetingId, 'attendees.meetingNotFound');
}


export interface AttendeeView {
  id: string;
  meetingId: string;
  fullName: string;
  position: string;
  organization: string;
  /** Absent when the reader may not see this attendee's contact details. */
  email?: string;
  phone?: string;
  siteId: string;
  role: AttendeeRole;
  /** Only organizers get the personal-link secret (to copy /a/<token> for the attendee). */
  accessToken?: string;
  createdAt?: Date;
  updatedAt?: Date;
}

type AttendeeRecord = Attendee & { _id: Types.ObjectId; createdAt?: Date; updatedAt?: Date };

/** Organizers and the chair see everyone's contacts, a coordinator their own site's, an attendee their own. */
export function canSeeContacts(actor: Actor, attendee: { _id: unknown; siteId: unknown }): boolean {
  switch (actor.kind) {
    case 'organizer':
    case 'chair':
      return true;
    case 'coordinator':
      return String(attendee.siteId) === actor.siteId;
    case 'attendee':
      return String(attendee._id) === actor.attendeeId;
    default:
      return false;
  }
}

export function attendeeView(actor: Actor, attendee: AttendeeRecord): AttendeeView {
  const contacts = canSeeContacts(actor, attendee);
  return {
    id: String(attendee._id),
    meetingId: String(attendee.meetingId),
    fullName: attendee.fullName,
    position: attendee.position ?? '',
    organization: attendee.organization ?? '',
    ...(contacts ? { email: attendee.email ?? '', phone: attendee.phone ?? '' } : {}),
    siteId: String(attendee.siteId),
    role: attendee.role as AttendeeRole,
    ...(actor.kind === 'organizer' ? { accessToken: attendee.accessToken } : {}),
    createdAt: attendee.createdAt,
    updatedAt: attendee.updatedAt,
  };
}

/** The full record, for events and the organizers' room: everything but the link secret. */
export function attendeeEventView(attendee: AttendeeRecord): AttendeeView {
  const { accessToken: _secret, ...view } = attendeeView({ kind: 'organizer', userId: 'event', name: 'event', isAdmin: false }, attendee);
  return view;
}

const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

export const attendeeSorts = ['name', '-name', 'organization', '-createdAt'] as const;
export type AttendeeSort = (typeof attendeeSorts)[number];

/** A query parameter given twice (`?siteId=a&siteId=b`) counts once: the first. */
const single = (value: unknown) => blankToUndefined(singleParam(value));

export const listQuerySchema = z.object({
  // Search text is cut to a sane length, never refused: a pasted paragraph still shows results.
  q: z.preprocess(searchParam, z.string().optional()),
  siteId: z.preprocess(single, objectId.optional()),
  organization: z.preprocess(single, z.string().trim().max(300).optional()),
  role: z.preprocess(single, z.enum(attendeeRoles, 'attendees.role.invalid').optional()),
  // Query strings are typed by hand: a bad page number shows page 1 rather than an error page.
  page: z.preprocess((value) => decimalIntegerInput(singleParam(value)), z.number().int().min(1).max(100_000)).catch(1),
  pageSize: z.preprocess((value) => decimalIntegerInput(singleParam(value)), z.number().int().min(1).max(200)).catch(50),
  sort: z.preprocess(singleParam, z.enum(attendeeSorts)).catch('name'),
});
export type ListQuery = z.output<typeof listQuerySchema>;

const sortSpecs: Record<AttendeeSort, Record<string, 1 | -1>> = {
  // searchText starts with the name without diacritics, so "Đặng" sorts with "Dương", not after "Trần".
  name: { searchText: 1, _id: 1 },
  '-name': { searchText: -1, _id: -1 },
  organization: { organization: 1, searchText: 1, _id: 1 },
  '-createdAt': { createdAt: -1, _id: -1 },
};

/** The database filter for a table query within the reader's scope (also used by export). */
export function attendeeFilter(actor: Actor, meetingId: string, query: Pick<ListQuery, 'q' | 'siteId' | 'organization' | 'role'>): QueryFilter<Attendee> {
  const scope = readScope(actor, meetingId);
  if (scope.kind === 'site' && query.siteId && query.siteId !== scope.siteId) throw new Forbidden();
  const siteId = scope.kind === 'site' ? scope.siteId : query.siteId;
  // siteId first: a planner that takes the first indexed field (the embedded store's) then walks
  // one site's entries instead of the whole meeting's. Key order means nothing to MongoDB.
  const filter: QueryFilter<Attendee> = siteId ? { siteId: new Types.ObjectId(siteId), meetingId: new Types.ObjectId(meetingId) } : { meetingId: new Types.ObjectId(meetingId) };
  if (scope.kind === 'self') filter._id = new Types.ObjectId(scope.attendeeId);
  if (query.organization) filter.organization = query.organization;
  if (query.role) filter.role = query.role;
  const terms = query.q ? searchKey(query.q.normalize('NFC')).split(' ').filter(Boolean).slice(0, 8) : [];
  // Every typed word must start a word somewhere (name, organization, position, e-mail), in any
  // order: "nguyen van" finds "Nguyễn Văn …" and "Trương Văn Nguyễn", "nguy" finds "Nguyễn".
  // Anchored prefixes on the indexed words let the database read only the entries of the longest
  // typed word instead of scanning the meeting's attendees.
  const conditions = terms.map((term) => ({ searchTokens: { $regex: `^${escapeRegex(term)}` } }));
  if (conditions.length === 1) Object.assign(filter, conditions[0]);
  else if (conditions.length > 1) filter.$and = conditions;
  return filter;
}

export interface AttendeePage {
  items: AttendeeView[];
  total: number;
  page: number;
  pageSize: number;
  pageCount: number;
  query: ListQuery;
}

// Every change to a meeting's attendees bumps its revision, so a count for (meeting, revision,
// filter) never goes stale: the database counts once per change, not once per page view.
// These revision-keyed caches still expire after `revisionCacheTtlMs`, so a write that bypassed
// the revision (a script, a repair in the shell) is seen within that time.
export const revisionCacheTtlMs = 30_000;
const totalCache = new BoundedMap<string, number>(1000, { ttlMs: revisionCacheTtlMs });

async function countAttendees(filter: QueryFilter<Attendee>, meetingId: string, revision: number): Promise<number> {
  const key = `${meetingId}:${revision}:${JSON.stringify(filter)}`;
  const cached = totalCache.get(key);
  if (cached !== undefined) return cached;
  const total = await AttendeeModel.countDocuments(filter);
  totalCache.set(key, total);
  return total;
}

/** The search fields are only for the database; not reading them halves what a page decodes. */
const tableProjection = { searchText: 0, searchTokens: 0, __v: 0 } as const;

/** `meeting`, when the caller has just loaded it, saves reading it again. */
export async function listAttendees(actor: Actor, meetingId: string, input: unknown = {}, meeting?: MeetingSummary): Promise<AttendeePage> {
  const current = meeting?.id === meetingId ? meeting : await findMeetingFor(actor, meetingId);
  const query = parseInput(listQuerySchema, input ?? {});
  const filter = attendeeFilter(actor, meetingId, query);
  const skip = (query.page - 1) * query.pageSize;
  const docs = await AttendeeModel.find(filter, tableProjection).sort(sortSpecs[query.sort]).skip(skip).limit(query.pageSize).lean<AttendeeRecord[]>();
  // A page that is not full is the last one: its end is the total, no second pass needed.
  const lastPage = docs.length < query.pageSize && (docs.length > 0 || skip === 0);
  const total = lastPage ? skip + docs.length : await countAttendees(filter, meetingId, current.revision);
  return {
    items: docs.map((doc) => attendeeView(actor, doc)),
    total,
    page: query.page,
    pageSize: query.pageSize,
    pageCount: Math.max(1, Math.ceil(total / query.pageSize)),
    query,
  };
}

export async function getAttendee(actor: Actor, meetingId: string, attendeeId: string): Promise<AttendeeView> {
  const scope = readScope(actor, meetingId);
  await findMeetingFor(actor, meetingId);
  if (!isObjectIdString(attendeeId)) throw new NotFound('attendees.notFound');
  const doc = await AttendeeModel.findOne({ _id: attendeeId, meetingId }).lean<AttendeeRecord>();
  if (!doc) throw new NotFound('attendees.notFound');
  if (scope.kind === 'site' && String(doc.siteId) !== scope.siteId) throw new Forbidden();
  if (scope.kind === 'self' && String(doc._id) !== scope.attendeeId) throw new Forbidden();
  return attendeeView(actor, doc);
}

export interface AttendeeEditForm {
  attendee: AttendeeView;
  /** The sites this asker may put the attendee at: any for organizers, else only where they are. */
  siteChoices: SiteOption[];
}

/** One attendee's edit form: organizers change anyone, a coordinator only the people of their own site. */
export async function attendeeEditForm(actor: Actor, meetingId: string, attendeeId: string): Promise<AttendeeEditForm> {
  const [attendee, sites] = await Promise.all([getAttendee(actor, meetingId, attendeeId), listSiteOptions(meetingId)]);
  if (!canEditAttendeesAt(actor, attendee.siteId)) throw new Forbidden();
  return { attendee, siteChoices: actor.kind === 'organizer' ? sites : sites.filter((site) => site.id === attendee.siteId) };
}

export interface SiteOption {
  id: string;
  name: string;
  address: string;
  isMain: boolean;
}

// Sites change only through actions that bump the meeting's revision: like the organizations
// below, the options are read once per (meeting, revision) when the caller knows the revision.
const siteOptionsCache = new BoundedMap<string, SiteOption[]>(200, { ttlMs: revisionCacheTtlMs });

export async function listSiteOptions(meetingId: string, revision?: number): Promise<SiteOption[]> {
  const key = revision === undefined ? undefined : `${meetingId}:${revision}`;
  const cached = key === undefined ? undefined : siteOptionsCache.get(key);
  if (cached) return cached;
  const sites = await SiteModel.find({ meetingId }, { name: 1, address: 1, isMain: 1, order: 1 }).sort({ order: 1, name: 1 }).lean();
  const options = sites.map((site) => ({ id: String(site._id), name: site.name, address: site.address ?? '', isMain: site.isMain }));
  if (key !== undefined) {
    siteOptionsCache.set(key, options);
  }
  return options;
}

// Organizations change only through actions that bump the meeting's revision, so the distinct
// list is cached per (meeting, revision): the table's filter costs one distinct per change, not
// one per page view. Bounded so a long-running process does not grow without limit.
const organizationCache = new BoundedMap<string, string[]>(200, { ttlMs: revisionCacheTtlMs });

/** Distinct organizations for the filter, within the reader's scope. */
export async function listOrganizations(actor: Actor, meetingId: string, revision?: number): Promise<string[]> {
  const scope = readScope(actor, meetingId);
  if (scope.kind === 'self') return [];
  const meetingRevision = revision ?? (await findMeetingFor(actor, meetingId)).revision;
  const key = `${meetingId}:${meetingRevision}:${scope.kind === 'site' ? scope.siteId : '*'}`;
  const cached = organizationCache.get(key);
  if (cached) return cached;
  const filter: QueryFilter<Attendee> = { meetingId: new Types.ObjectId(meetingId) };
  if (scope.kind === 'site') filter.siteId = new Types.ObjectId(scope.siteId);
  const values = (await AttendeeModel.distinct('organization', filter)) as unknown[];
  const organizations = values
    .filter((value): value is string => typeof value === 'string' && value.trim() !== '')
    .sort((a, b) => searchKey(a).localeCompare(searchKey(b)));
  organizationCache.set(key, organizations);
  return organizations;
}

export interface MyHome {
  meeting: MeetingSummary;
  attendee: AttendeeView;
  site: SiteOption | null;
}

/** The attendee's (or chair's) own page reached through the personal link. */
export async function myHome(actor: Actor): Promise<MyHome> {
  if (actor.kind !== 'attendee' && actor.kind !== 'chair') {
    if (actor.kind === 'anonymous') throw new Unauthorized();
    throw new Forbidden();
  }
  const meeting = await findMeetingFor(actor, actor.meetingId);
  const doc = await AttendeeModel.findOne({ _id: actor.attendeeId, meetingId: actor.meetingId }).lean<AttendeeRecord>();
  if (!doc) throw new NotFound('attendees.notFound');
  const site = await SiteModel.findOne({ _id: doc.siteId, meetingId: actor.meetingId }, { name: 1, address: 1, isMain: 1 }).lean();
  return {
    meeting,
    attendee: attendeeView(actor, doc),
    site: site ? { id: String(site._id), name: site.name, address: site.address ?? '', isMain: site.isMain } : null,
  };
}
