// What the calendar part reads: the entries (meeting + place + agenda + attendee) its files are
// built from, feeds by token, RSVP summaries and the organizer's calendar page. Reads are batched:
// a fixed number of queries whatever the number of attendees or meetings.
import { Types } from 'mongoose';
import { AgendaItemModel, scheduleTimes } from '../agenda/model.js';
import { AttendeeModel } from '../attendees/model.js';
import { MeetingModel, type MeetingStatus } from '../meetings/model.js';
import type { MeetingRecord } from '../meetings/revision.js';
import { SiteModel } from '../sites/model.js';
import { UnitModel } from '../units/model.js';
import { Forbidden, NotFound, Unauthorized } from '../lib/errors.js';
import { canSeeSite, requireOrganizer, type Actor } from '../lib/actor.js';
import { loadMeetingFor } from '../meetings/guard.js';
import { CalendarFeedModel, InvitationModel, RsvpModel, type FeedScope, type PartStat, type RsvpResponse } from './model.js';
import type { IcsAgendaItem, IcsAttendee, IcsEntry, IcsMeeting, IcsPlace } from './ics.js';
import { calendarSettings } from './settings.js';
import { isObjectIdString } from '../lib/input.js';

const meetingFields = { title: 1, organizingUnit: 1, unitId: 1, startsAt: 1, endsAt: 1, timeZone: 1, status: 1, calendarSequence: 1, publicId: 1, updatedAt: 1, revision: 1 } as const;
const siteFields = { meetingId: 1, name: 1, address: 1, isMain: 1, order: 1, expectedHeadcount: 1 } as const;
const attendeeFields = { meetingId: 1, fullName: 1, email: 1, role: 1, siteId: 1, accessToken: 1 } as const;

/** Most meetings a feed lists (the latest first when there are more). */
export const feedMeetingLimit = 1_000;

type MeetingLean = Pick<MeetingRecord, '_id' | 'title' | 'organizingUnit' | 'unitId' | 'startsAt' | 'endsAt' | 'timeZone' | 'status' | 'calendarSequence' | 'publicId' | 'updatedAt' | 'revision'>;
type SiteLean = { _id: Types.ObjectId; meetingId: Types.ObjectId; name: string; address?: string | null; isMain: boolean; order: number; expectedHeadcount?: number | null };
type AttendeeLean = { _id: Types.ObjectId; meetingId: Types.ObjectId; fullName: string; email?: string | null; role: string; siteId: Types.ObjectId; accessToken: string };
type RsvpLean = { attendeeId: Types.ObjectId; response: RsvpResponse; reason?: string; delegateName?: string; delegateEmail?: string; respondedAt: Date; updatedAt?: Date };

export function icsMeeting(meeting: MeetingLean): IcsMeeting {
  return {
    id: String(meeting._id),
    title: meeting.title,
    organizingUnit: meeting.organizingUnit ?? '',
    startsAt: meeting.startsAt,
    endsAt: meeting.endsAt,
    timeZone: meeting.timeZone,
    status: meeting.status,
    calendarSequence: meeting.calendarSequence,
    publicId: meeting.publicId,
    updatedAt: meeting.updatedAt,
  };
}

function icsPlace(site: SiteLean | undefined): IcsPlace | undefined {
  return site ? { name: site.name, address: site.address ?? '' } : undefined;
}

const partStatOf: Record<RsvpResponse, PartStat> = { accepted: 'ACCEPTED', declined: 'DECLINED', delegated: 'DELEGATED' };

export function icsAttendee(attendee: AttendeeLean, rsvp: RsvpLean | undefined): IcsAttendee {
  return {
    id: String(attendee._id),
    fullName: attendee.fullName,
    ...(attendee.email ? { email: attendee.email } : {}),
    role: attendee.role,
    partStat: rsvp ? partStatOf[rsvp.response] : 'NEEDS-ACTION',
    ...(rsvp?.response === 'delegated' ? { delegate: { name: rsvp.delegateName ?? '', ...(rsvp.delegateEmail ? { email: rsvp.delegateEmail } : {}) } } : {}),
  };
}

/** Every listed meeting's agenda with its times, in one query. */
async function agendasOf(meetings: MeetingLean[]): Promise<Map<string, IcsAgendaItem[]>> {
  const agendas = new Map<string, IcsAgendaItem[]>(meetings.map((meeting) => [String(meeting._id), []]));
  if (meetings.length === 0) return agendas;
  const items = await AgendaItemModel.find({ meetingId: { $in: meetings.map((meeting) => meeting._id) } }, { meetingId: 1, order: 1, title: 1, plannedMinutes: 1, speakers: 1 })
    .sort({ meetingId: 1, order: 1, _id: 1 })
    .lean();
  const raw = new Map<string, typeof items>();
  for (const item of items) {
    const key = String(item.meetingId);
    let list = raw.get(key);
    if (!list) raw.set(key, (list = []));
    list.push(item);
  }
  for (const meeting of meetings) {
    const list = raw.get(String(meeting._id)) ?? [];
    agendas.set(
      String(meeting._id),
      scheduleTimes(list, meeting.startsAt).map((item) => ({
        id: String(item._id),
        title: item.title,
        startsAt: item.startsAt,
        endsAt: item.endsAt,
        speakers: (item.speakers ?? []).map((speaker) => ({ name: speaker.name, position: speaker.position ?? '', ...(speaker.attendeeId ? { attendeeId: String(speaker.attendeeId) } : {}) })),
      })),
    );
  }
  return agendas;
}

async function rsvpsOf(attendeeIds: Types.ObjectId[]): Promise<Map<string, RsvpLean>> {
  if (attendeeIds.length === 0) return new Map();
  const rsvps = await RsvpModel.find({ attendeeId: { $in: attendeeIds } }, { attendeeId: 1, response: 1, reason: 1, delegateName: 1, delegateEmail: 1, respondedAt: 1, updatedAt: 1 }).lean<RsvpLean[]>();
  return new Map(rsvps.map((rsvp) => [String(rsvp.attendeeId), rsvp]));
}

// ---------------------------------------------------------------------------------------------
// One meeting.

/** The public page's download: the meeting at its main site, for anyone with the public link. */
export async function publicEntry(publicId: string): Promise<IcsEntry> {
  if (typeof publicId !== 'string' || publicId.length === 0 || publicId.length > 100) throw new NotFound('public.notFound.title');
  const meeting = await MeetingModel.findOne({ publicId }, meetingFields).lean<MeetingLean>();
  if (!meeting) throw new NotFound('public.notFound.title');
  const [main, agendas] = await Promise.all([SiteModel.findOne({ meetingId: meeting._id, isMain: true }, siteFields).lean<SiteLean>(), agendasOf([meeting])]);
  return { meeting: icsMeeting(meeting), place: icsPlace(main ?? undefined), agenda: agendas.get(String(meeting._id)) ?? [] };
}

export interface PersonalEntry {
  entry: IcsEntry;
  attendee: AttendeeLean;
  rsvp?: RsvpLean;
  site?: SiteLean;
  meeting: MeetingLean;
}

/** The asker's own invitation (attendee or chair through their personal link). */
export async function personalEntry(actor: Actor): Promise<PersonalEntry> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  if (actor.kind !== 'attendee' && actor.kind !== 'chair') throw new Forbidden('calendar.rsvp.onlyAttendee');
  const [meeting, attendee] = await Promise.all([
    MeetingModel.findById(actor.meetingId, meetingFields).lean<MeetingLean>(),
    AttendeeModel.findOne({ _id: actor.attendeeId, meetingId: actor.meetingId }, attendeeFields).lean<AttendeeLean>(),
  ]);
  if (!meeting || !attendee) throw new NotFound('attendees.notFound');
  const [site, agendas, rsvps] = await Promise.all([SiteModel.findOne({ _id: attendee.siteId, meetingId: meeting._id }, siteFields).lean<SiteLean>(), agendasOf([meeting]), rsvpsOf([attendee._id])]);
  const rsvp = rsvps.get(String(attendee._id));
  return {
    entry: { meeting: icsMeeting(meeting), place: icsPlace(site ?? undefined), agenda: agendas.get(String(meeting._id)) ?? [], attendee: icsAttendee(attendee, rsvp) },
    attendee,
    rsvp,
    site: site ?? undefined,
    meeting,
  };
}

/** A coordinator's view of their meeting: at their own bridge point. */
export async function coordinatorEntry(actor: Actor): Promise<{ entry: IcsEntry; site: SiteLean; meeting: MeetingLean }> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  if (actor.kind !== 'coordinator') throw new Forbidden();
  const [meeting, site] = await Promise.all([
    MeetingModel.findById(actor.meetingId, meetingFields).lean<MeetingLean>(),
    SiteModel.findOne({ _id: actor.siteId, meetingId: actor.meetingId }, siteFields).lean<SiteLean>(),
  ]);
  if (!meeting || !site) throw new NotFound('site.notFound');
  const agendas = await agendasOf([meeting]);
  return { entry: { meeting: icsMeeting(meeting), place: icsPlace(site), agenda: agendas.get(String(meeting._id)) ?? [] }, site, meeting };
}

/**
 * Personalised invitations of one meeting for every attendee matching `filter`: five queries in
 * all (meeting, sites, agenda, attendees, replies), whatever the number of attendees.
 */
export async function invitationEntries(meetingId: string | Types.ObjectId, filter: Record<string, unknown> = {}): Promise<{ meeting: MeetingLean; entries: Array<IcsEntry & { attendee: IcsAttendee }> }> {
  const id = typeof meetingId === 'string' ? new Types.ObjectId(meetingId) : meetingId;
  const meeting = await MeetingModel.findById(id, meetingFields).lean<MeetingLean>();
  if (!meeting) throw new NotFound('meeting.notFound');
  const [sites, agendas, attendees] = await Promise.all([
    SiteModel.find({ meetingId: id }, siteFields).lean<SiteLean[]>(),
    agendasOf([meeting]),
    AttendeeModel.find({ ...filter, meetingId: id }, attendeeFields).lean<AttendeeLean[]>(),
  ]);
  const rsvps = await rsvpsOf(attendees.map((attendee) => attendee._id));
  const sitesById = new Map(sites.map((site) => [String(site._id), site]));
  const base = icsMeeting(meeting);
  const agenda = agendas.get(String(meeting._id)) ?? [];
  return {
    meeting,
    entries: attendees.map((attendee) => ({
      meeting: base,
      place: icsPlace(sitesById.get(String(attendee.siteId))),
      agenda,
      attendee: icsAttendee(attendee, rsvps.get(String(attendee._id))),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Feeds.

export interface FeedContent {
  scope: FeedScope;
  /** Who or what the feed is for (attendee's name, site's name, unit). */
  name: string;
  entries: IcsEntry[];
}

/** Meetings a feed lists: anything announced (drafts are not), soonest last so the cap keeps the latest. */
const listedStatuses: MeetingStatus[] = ['scheduled', 'live', 'ended', 'cancelled'];

/** The feed a token names, or NotFound for a wrong or revoked token (nothing else is said). */
export async function feedByToken(token: string): Promise<FeedContent> {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{20,64}$/.test(token)) throw new NotFound('calendar.feed.notFound');
  const feed = await CalendarFeedModel.findOne({ token }, { scope: 1, key: 1, meetingId: 1 }).lean();
  if (!feed) throw new NotFound('calendar.feed.notFound');
  const content = feed.scope === 'attendee' ? await attendeeFeed(feed.key) : feed.scope === 'site' ? await siteFeed(feed.key) : await unitFeed(feed.key);
  if (!content) throw new NotFound('calendar.feed.notFound');
  return content;
}

/** Every meeting this person is invited to: their record in each meeting, by e-mail address. */
async function attendeeFeed(attendeeId: string): Promise<FeedContent | undefined> {
  if (!isObjectIdString(attendeeId)) return undefined;
  const self = await AttendeeModel.findById(attendeeId, attendeeFields).lean<AttendeeLean>();
  if (!self) return undefined;
  const unit = await unitOfMeeting(self.meetingId);
  // Only the meetings of the unit that invited them: an organizer types attendees' e-mail
  // addresses, so matching on one across units would show another unit's meetings to whoever
  // made an attendee with that address (and enough such records would crowd theirs out).
  const records = self.email ? await AttendeeModel.find({ email: self.email, meetingId: { $in: await listedMeetingIdsOf(unit) } }, attendeeFields).lean<AttendeeLean[]>() : [self];
  const meetings = await MeetingModel.find({ _id: { $in: records.map((record) => record.meetingId) }, unitId: unit, status: { $in: listedStatuses } }, meetingFields)
    .sort({ startsAt: -1 })
    .limit(feedMeetingLimit)
    .lean<MeetingLean[]>();
  const listed = new Set(meetings.map((meeting) => String(meeting._id)));
  const mine = records.filter((record) => listed.has(String(record.meetingId)));
  const [sites, agendas, rsvps] = await Promise.all([
    SiteModel.find({ _id: { $in: mine.map((record) => record.siteId) } }, siteFields).lean<SiteLean[]>(),
    agendasOf(meetings),
    rsvpsOf(mine.map((record) => record._id)),
  ]);
  const sitesById = new Map(sites.map((site) => [String(site._id), site]));
  const recordByMeeting = new Map(mine.map((record) => [String(record.meetingId), record]));
  const entries = meetings.map((meeting): IcsEntry => {
    const record = recordByMeeting.get(String(meeting._id))!;
    return { meeting: icsMeeting(meeting), place: icsPlace(sitesById.get(String(record.siteId))), agenda: agendas.get(String(meeting._id)) ?? [], attendee: icsAttendee(record, rsvps.get(String(record._id))) };
  });
  return { scope: 'attendee', name: self.fullName, entries: entries.reverse() };
}

/** Every meeting with this bridge point: sites of the same name in any meeting. */
async function siteFeed(siteId: string): Promise<FeedContent | undefined> {
  if (!isObjectIdString(siteId)) return undefined;
  const self = await SiteModel.findById(siteId, siteFields).lean<SiteLean>();
  if (!self) return undefined;
  const unit = await unitOfMeeting(self.meetingId);
  // Within the site's organizing unit: district sites bear the same names in every unit's meetings,
  // so other units' sites of this name (however many) must not crowd out this unit's.
  const sites = await SiteModel.find({ name: self.name, meetingId: { $in: await listedMeetingIdsOf(unit) } }, siteFields).lean<SiteLean[]>();
  const meetings = await MeetingModel.find({ _id: { $in: sites.map((site) => site.meetingId) }, unitId: unit, status: { $in: listedStatuses } }, meetingFields)
    .sort({ startsAt: -1 })
    .limit(feedMeetingLimit)
    .lean<MeetingLean[]>();
  const siteByMeeting = new Map(sites.map((site) => [String(site.meetingId), site]));
  const agendas = await agendasOf(meetings);
  const entries = meetings.map((meeting): IcsEntry => ({ meeting: icsMeeting(meeting), place: icsPlace(siteByMeeting.get(String(meeting._id))), agenda: agendas.get(String(meeting._id)) ?? [] }));
  return { scope: 'site', name: self.name, entries: entries.reverse() };
}

/** Every meeting of one organizing unit, at its main site. */
async function unitFeed(unitKey: string): Promise<FeedContent | undefined> {
  const unitId = unitIdOfKey(unitKey);
  if (!unitId) return undefined;
  const unit = await UnitModel.findById(unitId, { name: 1 }).lean();
  if (!unit) return undefined;
  const meetings = await MeetingModel.find({ unitId, status: { $in: listedStatuses } }, meetingFields)
    .sort({ startsAt: -1 })
    .limit(feedMeetingLimit)
    .lean<MeetingLean[]>();
  const [mains, agendas] = await Promise.all([
    SiteModel.find({ meetingId: { $in: meetings.map((meeting) => meeting._id) }, isMain: true }, siteFields).lean<SiteLean[]>(),
    agendasOf(meetings),
  ]);
  const mainByMeeting = new Map(mains.map((site) => [String(site.meetingId), site]));
  const entries = meetings.map((meeting): IcsEntry => ({ meeting: icsMeeting(meeting), place: icsPlace(mainByMeeting.get(String(meeting._id))), agenda: agendas.get(String(meeting._id)) ?? [] }));
  return { scope: 'unit', name: unit.name, entries: entries.reverse() };
}

/** Ids of the unit's meetings a feed may list (announced ones), the newest `feedMeetingLimit`. */
async function listedMeetingIdsOf(unit: Types.ObjectId | null): Promise<Types.ObjectId[]> {
  const meetings = await MeetingModel.find({ unitId: unit, status: { $in: listedStatuses } }, { _id: 1 }).sort({ startsAt: -1 }).limit(feedMeetingLimit).lean();
  return meetings.map((meeting) => meeting._id);
}

/** The organizing unit of a meeting (null when it has none: then only such meetings are listed). */
async function unitOfMeeting(meetingId: Types.ObjectId): Promise<Types.ObjectId | null> {
  const meeting = await MeetingModel.findById(meetingId, { unitId: 1 }).lean();
  return meeting?.unitId ?? null;
}

/**
 * A unit feed's key: the organizing unit's record ("unit:<id>"). Not the meeting's
 * `organizingUnit` text, which any organizer may set to another unit's name. Keys of the older
 * "name:<text>" form no longer resolve (their links answer 404; the organizer makes a new one).
 */
export function unitKeyOf(meeting: Pick<MeetingRecord, 'unitId'>): string | undefined {
  return meeting.unitId ? `unit:${String(meeting.unitId)}` : undefined;
}

function unitIdOfKey(unitKey: string): Types.ObjectId | undefined {
  const id = unitKey.startsWith('unit:') ? unitKey.slice('unit:'.length) : undefined;
  return isObjectIdString(id) ? new Types.ObjectId(id) : undefined;
}

// ---------------------------------------------------------------------------------------------
// RSVP summary and the pages.

export interface SiteRsvpSummary {
  siteId: string;
  name: string;
  expectedHeadcount: number;
  accepted: number;
  declined: number;
  delegated: number;
  pending: number;
}

/** Per site: how many accepted, declined, sent a delegate or have not answered, and the expected headcount. */
export async function rsvpSummary(meetingId: string | Types.ObjectId): Promise<SiteRsvpSummary[]> {
  const id = typeof meetingId === 'string' ? new Types.ObjectId(meetingId) : meetingId;
  const [sites, attendees, rsvps] = await Promise.all([
    SiteModel.find({ meetingId: id }, siteFields).sort({ order: 1, _id: 1 }).lean<SiteLean[]>(),
    AttendeeModel.find({ meetingId: id }, { siteId: 1 }).lean(),
    RsvpModel.find({ meetingId: id }, { attendeeId: 1, response: 1 }).lean(),
  ]);
  const responseOf = new Map(rsvps.map((rsvp) => [String(rsvp.attendeeId), rsvp.response as RsvpResponse]));
  const summaries = new Map(sites.map((site) => [String(site._id), { siteId: String(site._id), name: site.name, expectedHeadcount: site.expectedHeadcount ?? 0, accepted: 0, declined: 0, delegated: 0, pending: 0 }]));
  for (const attendee of attendees) {
    const summary = summaries.get(String(attendee.siteId));
    if (!summary) continue;
    const response = responseOf.get(String(attendee._id));
    if (response) summary[response] += 1;
    else summary.pending += 1;
  }
  return [...summaries.values()];
}

/** The summary as the asker may see it: organizers and the chair every site, a coordinator their own. */
export async function rsvpSummaryFor(actor: Actor, meetingId: string): Promise<SiteRsvpSummary[]> {
  await loadMeetingFor(actor, meetingId);
  if (actor.kind === 'attendee') throw new Forbidden();
  const summary = await rsvpSummary(meetingId);
  return summary.filter((site) => canSeeSite(actor, meetingId, site.siteId));
}

export async function siteRsvpCounts(meetingId: Types.ObjectId, siteId: Types.ObjectId): Promise<{ accepted: number; declined: number; delegated: number; pending: number }> {
  const [attendees, rsvps] = await Promise.all([
    AttendeeModel.find({ meetingId, siteId }, { _id: 1 }).lean(),
    RsvpModel.find({ meetingId, siteId }, { attendeeId: 1, response: 1 }).lean(),
  ]);
  const here = new Set(attendees.map((attendee) => String(attendee._id)));
  const counts = { accepted: 0, declined: 0, delegated: 0, pending: 0 };
  for (const rsvp of rsvps) if (here.has(String(rsvp.attendeeId))) counts[rsvp.response as RsvpResponse] += 1;
  counts.pending = here.size - counts.accepted - counts.declined - counts.delegated;
  return counts;
}

export interface FeedLink {
  https: string;
  webcal: string;
}

export function feedLinks(baseUrl: string, token: string): FeedLink {
  const https = `${baseUrl.replace(/\/+$/, '')}/calendar/feeds/${token}.ics`;
  return { https, webcal: https.replace(/^https?:/, 'webcal:') };
}

export async function feedTokenFor(scope: FeedScope, key: string): Promise<string | undefined> {
  const feed = await CalendarFeedModel.findOne({ scope, key }, { token: 1 }).lean();
  return feed?.token ?? undefined;
}

export interface InvitationStatus {
  sequence: number;
  sent: number;
  waiting: number;
  failed: number;
  everInvited: number;
  withEmail: number;
  withoutEmail: number;
}

export async function invitationStatus(meeting: Pick<MeetingLean, '_id' | 'calendarSequence'>): Promise<InvitationStatus> {
  const [current, everInvited, withEmail, total] = await Promise.all([
    // Cancellations for people since removed are not part of the current version's count.
    InvitationModel.find({ meetingId: meeting._id, sequence: meeting.calendarSequence, removed: { $ne: true } }, { state: 1 }).lean(),
    InvitationModel.distinct('attendeeId', { meetingId: meeting._id, state: 'sent' }),
    AttendeeModel.countDocuments({ meetingId: meeting._id, email: { $type: 'string' } }),
    AttendeeModel.countDocuments({ meetingId: meeting._id }),
  ]);
  const count = (states: string[]) => current.filter((record) => states.includes(record.state)).length;
  return { sequence: meeting.calendarSequence, sent: count(['sent']), waiting: count(['pending', 'sending']), failed: count(['failed']), everInvited: everInvited.length, withEmail, withoutEmail: total - withEmail };
}

export interface OrganizerCalendarPage {
  meeting: MeetingLean;
  smtpConfigured: boolean;
  unitKey?: string;
  unitFeedToken?: string;
  sites: Array<SiteRsvpSummary & { feedToken?: string }>;
  invitations: InvitationStatus;
}

/** The organizer's calendar page: downloads, feeds of the unit and of each site, invitations, RSVPs. */
export async function organizerCalendarPage(actor: Actor, meetingId: string): Promise<OrganizerCalendarPage> {
  requireOrganizer(actor);
  const meeting: MeetingLean = await loadMeetingFor(actor, meetingId);
  const unitKey = unitKeyOf(meeting);
  const [summary, siteFeeds, unitFeedToken, invitations] = await Promise.all([
    rsvpSummary(meeting._id),
    CalendarFeedModel.find({ scope: 'site', meetingId: meeting._id, token: { $type: 'string' } }, { key: 1, token: 1 }).lean(),
    unitKey ? feedTokenFor('unit', unitKey) : Promise.resolve(undefined),
    invitationStatus(meeting),
  ]);
  const tokenBySite = new Map(siteFeeds.map((feed) => [feed.key, feed.token ?? undefined]));
  return {
    meeting,
    smtpConfigured: Boolean(calendarSettings().smtpUrl),
    unitKey,
    unitFeedToken,
    sites: summary.map((site) => ({ ...site, feedToken: tokenBySite.get(site.siteId) })),
    invitations,
  };
}
