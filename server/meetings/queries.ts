// Reads the meeting pages and the API need: the list (upcoming/past), one meeting, and the
// dashboard counts, computed by the database (aggregate/count), never by loading every attendee.
import './messages.js';
import { Types } from 'mongoose';
import { MeetingModel, type MeetingStatus } from './model.js';
import { SiteModel } from '../sites/model.js';
import { AttendeeModel } from '../attendees/model.js';
import { AgendaItemModel } from '../agenda/model.js';
import type { Actor } from '../lib/actor.js';
import { Forbidden, NotFound, Unauthorized } from '../lib/errors.js';
import { toLocalInput } from '../lib/time.js';
import type { MeetingRecord } from './actions.js';
import { BoundedMap } from '../lib/bounded-map.js';
import { loadMeetingFor, readMeetingFor } from './guard.js';
import { isObjectIdString } from '../lib/input.js';

export const meetingTabs = ['upcoming', 'past'] as const;
export type MeetingTab = (typeof meetingTabs)[number];

export interface MeetingListOptions {
  tab?: MeetingTab;
  page?: number;
  pageSize?: number;
  now?: Date;
}

export interface MeetingListItem {
  meeting: MeetingRecord;
  siteCount: number;
}

export interface MeetingList {
  tab: MeetingTab;
  items: MeetingListItem[];
  total: number;
  page: number;
  pageSize: number;
  pageCount: number;
}

/**
 * How long a scheduled meeting stays "upcoming" past its planned end: one that has not been held
 * yet is still to be started that day (a rehearsal, a conference that starts late), not history.
 */
const scheduledGraceMs = 12 * 3600_000;

/**
 * Upcoming: live now, not yet at its planned end (unless ended early), or scheduled and less
 * than 12 hours past it. Past: every other meeting (ended, cancelled or drafts whose time is over,
 * and scheduled ones long past).
 */
function upcomingFilter(now: Date): Record<string, unknown> {
  return {
    $or: [{ endsAt: { $gte: now }, status: { $ne: 'ended' } }, { status: 'live' }, { status: 'scheduled', endsAt: { $gte: new Date(now.getTime() - scheduledGraceMs) } }],
  };
}

/**
 * Upcoming meetings (see upcomingFilter) soonest first; past meetings most recent first. Organizers
 * see every meeting; anyone signed in by a link sees only their own meeting.
 */
export async function listMeetings(actor: Actor, options: MeetingListOptions = {}): Promise<MeetingList> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  const tab: MeetingTab = options.tab === 'past' ? 'past' : 'upcoming';
  const pageSize = Math.min(Math.max(Math.trunc(options.pageSize ?? 20), 1), 100);
  const requestedPage = Math.max(Math.trunc(Number(options.page) || 1), 1);
  const now = options.now ?? new Date();
  const filter: Record<string, unknown> = tab === 'upcoming' ? upcomingFilter(now) : { $nor: [upcomingFilter(now)] };
  if (actor.kind !== 'organizer') filter._id = new Types.ObjectId(actor.meetingId);
  else if (!actor.isAdmin) filter.unitId = actor.unitId ? new Types.ObjectId(actor.unitId) : null;

  const total = await MeetingModel.countDocuments(filter);
  const pageCount = Math.max(Math.ceil(total / pageSize), 1);
  const page = Math.min(requestedPage, pageCount);
  const meetings = await MeetingModel.find(filter)
    .sort(tab === 'upcoming' ? { startsAt: 1, _id: 1 } : { startsAt: -1, _id: -1 })
    .skip((page - 1) * pageSize)
    .limit(pageSize)
    .lean<MeetingRecord[]>();

  const siteCounts = new Map<string, number>();
  if (meetings.length > 0) {
    const rows = await SiteModel.aggregate<{ _id: Types.ObjectId; count: number }>([
      { $match: { meetingId: { $in: meetings.map((meeting) => meeting._id) } } },
      { $group: { _id: '$meetingId', count: { $sum: 1 } } },
    ]);
    for (const row of rows) siteCounts.set(String(row._id), row.count);
  }
  return {
    tab,
    items: meetings.map((meeting) => ({ meeting, siteCount: siteCounts.get(String(meeting._id)) ?? 0 })),
    total,
    page,
    pageSize,
    pageCount,
  };
}

/** What most pages and reads show of a meeting, as plain values. */
export interface MeetingSummary {
  id: string;
  title: string;
  organizingUnit: string;
  startsAt: Date;
  endsAt: Date;
  timeZone: string;
  status: MeetingStatus;
  revision: number;
  publicId: string;
}

const summaryFields = { title: 1, organizingUnit: 1, startsAt: 1, endsAt: 1, timeZone: 1, status: 1, revision: 1, publicId: 1 } as const;

/** The summary of a meeting already loaded (e.g. by loadMeetingFor). */
export function toMeetingSummary(meeting: Pick<MeetingRecord, '_id' | 'title' | 'organizingUnit' | 'startsAt' | 'endsAt' | 'timeZone' | 'status' | 'revision' | 'publicId'>): MeetingSummary {
  return {
    id: String(meeting._id),
    title: meeting.title,
    organizingUnit: meeting.organizingUnit ?? '',
    startsAt: meeting.startsAt,
    endsAt: meeting.endsAt,
    timeZone: meeting.timeZone,
    status: meeting.status as MeetingStatus,
    revision: meeting.revision,
    publicId: meeting.publicId,
  };
}

/** The summary of a meeting for an asker who may see it (loadMeetingFor decides), else NotFound with `notFoundKey`. */
export async function findMeetingSummaryFor(actor: Actor, meetingId: string | Types.ObjectId, notFoundKey = 'meeting.notFound'): Promise<MeetingSummary> {
  return toMeetingSummary(await readMeetingFor(actor, meetingId, notFoundKey));
}

/**
 * One meeting's summary, by id or publicId, or NotFound with `notFoundKey` (also for an id that
 * is not an ObjectId: a path naming nothing is a 404, not a 422). No permission check: callers
 * check the actor first.
 */
export async function findMeetingSummary(where: { id: string | Types.ObjectId } | { publicId: string }, notFoundKey = 'meeting.notFound'): Promise<MeetingSummary> {
  if ('id' in where && typeof where.id === 'string' && !isObjectIdString(where.id)) throw new NotFound(notFoundKey);
  const filter = 'id' in where ? { _id: where.id } : { publicId: where.publicId };
  const meeting = await MeetingModel.findOne(filter, summaryFields).lean();
  if (!meeting) throw new NotFound(notFoundKey);
  return toMeetingSummary(meeting);
}

/** One meeting, for anyone who may see it (organizers; the chair, coordinators and attendees of it). */
export async function getMeeting(actor: Actor, meetingId: string): Promise<MeetingRecord> {
  return loadMeetingFor(actor, meetingId);
}

export interface DashboardSite {
  id: string;
  name: string;
  address: string;
  isMain: boolean;
  order: number;
  expectedHeadcount: number;
  attendeeCount: number;
}

export interface MeetingDashboard {
  meeting: MeetingRecord;
  sites: DashboardSite[];
  hasMainSite: boolean;
  totals: { sites: number; attendees: number; expectedHeadcount: number };
  agenda: { count: number; minutes: number };
}

type DashboardCounts = Omit<MeetingDashboard, 'meeting'>;

/**
 * Dashboard counts per meeting revision. Every action that changes sites, attendees or the
 * agenda bumps the meeting's revision, so counts computed for revision R stay right until the
 * revision moves; the short lifetime also bounds staleness after writes that bypass the actions
 * (seed scripts, maintenance). A busy dashboard then costs one aggregate per change, not per view.
 */
const countsCache = new BoundedMap<string, { revision: number; computedAt: number; counts: DashboardCounts }>(1_000);
const countsLifetimeMs = 2_000;

/**
 * The organizer's (and the chair's) overview: attendees per site, expected headcount, agenda
 * size and length. Counting is grouped by the database; only the sites (a dozen) are loaded.
 */
export async function getMeetingDashboard(actor: Actor, meetingId: string): Promise<MeetingDashboard> {
  // The page reads the meeting as cache.ts keeps it (forgotten at every change of it).
  const meeting = await readMeetingFor(actor, meetingId);
  if (actor.kind !== 'organizer' && actor.kind !== 'chair') throw new Forbidden();
  const key = String(meeting._id);
  const cached = countsCache.get(key);
  if (cached && cached.revision === meeting.revision && Date.now() - cached.computedAt < countsLifetimeMs) return { meeting, ...cached.counts };
  const counts = await countDashboard(meeting);
  countsCache.set(key, { revision: meeting.revision, computedAt: Date.now(), counts });
  return { meeting, ...counts };
}

/** The meeting a copy was made from, by title, for the organizer's dashboard ("Duplicated from ..."); null when gone. */
export async function getDuplicateSource(actor: Actor, meeting: Pick<MeetingRecord, 'duplicatedFrom'>): Promise<{ id: string; title: string } | null> {
  if (actor.kind !== 'organizer' || !meeting.duplicatedFrom) return null;
  const source = await MeetingModel.findById(meeting.duplicatedFrom, { title: 1 }).lean<{ _id: Types.ObjectId; title: string }>();
  return source ? { id: String(source._id), title: source.title } : null;
}

async function countDashboard(meeting: MeetingRecord): Promise<DashboardCounts> {
  const [sites, attendeeCounts, agendaTotals] = await Promise.all([
    SiteModel.find({ meetingId: meeting._id }, { name: 1, address: 1, isMain: 1, order: 1, expectedHeadcount: 1 }).sort({ order: 1, _id: 1 }).lean(),
    AttendeeModel.aggregate<{ _id: Types.ObjectId; count: number }>([
      { $match: { meetingId: meeting._id } },
      { $group: { _id: '$siteId', count: { $sum: 1 } } },
    ]),
    AgendaItemModel.aggregate<{ _id: null; count: number; minutes: number }>([
      { $match: { meetingId: meeting._id } },
      { $group: { _id: null, count: { $sum: 1 }, minutes: { $sum: '$plannedMinutes' } } },
    ]),
  ]);
  const countBySite = new Map(attendeeCounts.map((row) => [String(row._id), row.count]));
  const dashboardSites: DashboardSite[] = sites.map((site) => ({
    id: String(site._id),
    name: site.name,
    address: site.address ?? '',
    isMain: site.isMain,
    order: site.order,
    expectedHeadcount: site.expectedHeadcount ?? 0,
    attendeeCount: countBySite.get(String(site._id)) ?? 0,
  }));
  return {
    sites: dashboardSites,
    hasMainSite: dashboardSites.some((site) => site.isMain),
    totals: {
      sites: dashboardSites.length,
      attendees: attendeeCounts.reduce((sum, row) => sum + row.count, 0),
      expectedHeadcount: dashboardSites.reduce((sum, site) => sum + site.expectedHeadcount, 0),
    },
    agenda: { count: agendaTotals[0]?.count ?? 0, minutes: agendaTotals[0]?.minutes ?? 0 },
  };
}

/** The API's view of a meeting: instants in UTC plus the same instants as local input strings. */
export function meetingJson(meeting: MeetingRecord) {
  return {
    id: String(meeting._id),
    title: meeting.title,
    description: meeting.description ?? '',
    organizingUnit: meeting.organizingUnit ?? '',
    unitId: meeting.unitId ? String(meeting.unitId) : null,
    status: meeting.status,
    timeZone: meeting.timeZone,
    startsAt: meeting.startsAt.toISOString(),
    endsAt: meeting.endsAt.toISOString(),
    start: toLocalInput(meeting.startsAt, meeting.timeZone),
    end: toLocalInput(meeting.endsAt, meeting.timeZone),
    calendarSequence: meeting.calendarSequence,
    revision: meeting.revision,
    publicId: meeting.publicId,
    duplicatedFrom: meeting.duplicatedFrom ? String(meeting.duplicatedFrom) : null,
    createdAt: meeting.createdAt?.toISOString(),
    updatedAt: meeting.updatedAt?.toISOString(),
  };
}
