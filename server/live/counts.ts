// Attendance counts per site, read from the meeting's live state (kept by the attendance actions
// in the same write as the revision) plus who each site expects (people invited, less those who
// declined the invitation), which changes only when the list or an answer does and is cached
// briefly per meeting.
import { Types } from 'mongoose';
import { AttendeeModel } from '../attendees/model.js';
import { AttendanceModel } from '../attendance/model.js';
import { RsvpModel } from '../calendar/model.js';
import { subscribe } from '../lib/events.js';
import type { AttendanceCounts, QuorumView } from './contract.js';
import { quorumOf } from './quorum.js';

export interface SiteCounters {
  present?: number;
  absent?: number;
  leftEarly?: number;
  late?: number;
  walkIns?: number;
  /** Invited people (not walk-ins) who are no longer "expected". */
  resolved?: number;
}

/** Who a site expects: its invited people, and those of them who declined the invitation. */
export interface SiteRoster {
  /** Invited (walk-ins excluded). */
  invited: number;
  /** Invited people who declined (RSVP): not expected. */
  declined: number;
  /** Declined people who have an attendance state anyway (came after all, marked absent...). */
  declinedResolved: number;
}

interface MeetingRoster {
  bySite: Map<string, SiteRoster>;
  declinedIds: Set<string>;
}

/** Per meeting, the roster being read or read: every check-in at once shares one read (no herd when it expires). */
const rosterCache = new Map<string, { roster: Promise<MeetingRoster>; loadedAt: number }>();
const rosterLifetimeMs = 2_000;

subscribe((event) => {
  // attendee.* includes attendee.rsvp: a decline changes who is expected; a removed site's people move.
  if (event.type.startsWith('attendee.') || event.type.startsWith('import.') || event.type === 'site.removed') rosterCache.delete(event.meetingId);
});

function rosterOf(meetingId: string): Promise<MeetingRoster> {
  const cached = rosterCache.get(meetingId);
  if (cached && Date.now() - cached.loadedAt < rosterLifetimeMs) return cached.roster;
  const roster = loadRoster(meetingId);
  if (rosterCache.size > 500) rosterCache.clear();
  const entry = { roster, loadedAt: Date.now() };
  rosterCache.set(meetingId, entry);
  // A failed read is not kept; the lifetime counts from when the answer came.
  roster.then(
    () => {
      if (rosterCache.get(meetingId) === entry) entry.loadedAt = Date.now();
    },
    () => {
      if (rosterCache.get(meetingId) === entry) rosterCache.delete(meetingId);
    },
  );
  return roster;
}

async function loadRoster(meetingId: string): Promise<MeetingRoster> {
  const id = new Types.ObjectId(meetingId);
  const [rows, declines] = await Promise.all([
    AttendeeModel.aggregate<{ _id: Types.ObjectId; count: number }>([{ $match: { meetingId: id, walkIn: { $ne: true } } }, { $group: { _id: '$siteId', count: { $sum: 1 } } }]),
    RsvpModel.find({ meetingId: id, response: 'declined' }, { attendeeId: 1 }).lean(),
  ]);
  const bySite = new Map<string, SiteRoster>(rows.map((row) => [String(row._id), { invited: row.count, declined: 0, declinedResolved: 0 }]));
  const declinedIds = new Set<string>();
  if (declines.length > 0) {
    const people = await AttendeeModel.find({ _id: { $in: declines.map((rsvp) => rsvp.attendeeId) }, meetingId: id, walkIn: { $ne: true } }, { siteId: 1 }).lean();
    const resolved = await AttendanceModel.find({ meetingId: id, attendeeId: { $in: people.map((person) => person._id) }, status: { $ne: 'expected' } }, { attendeeId: 1 }).lean();
    const resolvedIds = new Set(resolved.map((record) => String(record.attendeeId)));
    for (const person of people) {
      const roster = bySite.get(String(person.siteId));
      if (!roster) continue;
      declinedIds.add(String(person._id));
      roster.declined += 1;
      if (resolvedIds.has(String(person._id))) roster.declinedResolved += 1;
    }
  }
  return { bySite, declinedIds };
}

/** Who each site expects (invited, declined), by index-backed reads, cached ~2 s per meeting. */
export async function invitedBySite(meetingId: string): Promise<Map<string, SiteRoster>> {
  return (await rosterOf(meetingId)).bySite;
}

/**
 * The same, read afresh when `attendeeId` declined: their attendance change (just written) moves
 * `declinedResolved`, which the counters in the meeting document do not hold.
 */
export async function invitedBySiteAfterChangeOf(meetingId: string, attendeeId: string): Promise<Map<string, SiteRoster>> {
  const roster = await rosterOf(meetingId);
  if (!roster.declinedIds.has(attendeeId)) return roster.bySite;
  rosterCache.delete(meetingId);
  return (await rosterOf(meetingId)).bySite;
}

export function forgetInvited(meetingId: string): void {
  rosterCache.delete(meetingId);
}

/**
 * Who each site expects, read afresh after a change of the attendee list (someone added, removed,
 * moved, a list imported), when screens follow the meeting's counts (it is scheduled or live);
 * undefined otherwise. With `countsEvents` it tells every screen the sites' new headcounts.
 */
export async function rosterAfterListChange(meeting: { _id: unknown; status?: string }): Promise<Map<string, SiteRoster> | undefined> {
  if (meeting.status !== 'scheduled' && meeting.status !== 'live') return undefined;
  const meetingId = String(meeting._id);
  forgetInvited(meetingId);
  return invitedBySite(meetingId);
}

/**
 * `attendance.counts` of the given sites at `revision` (none without a roster): consequences of
 * the change (its audit entry names what was done, not these).
 */
export function countsEvents(meeting: { live?: unknown }, roster: Map<string, SiteRoster> | undefined, revision: number, siteIds: string[]) {
  if (!roster) return [];
  return [...new Set(siteIds)].map((siteId) => {
    const { counts, totals, quorum } = countsOf(meeting, roster, siteId);
    return { type: 'attendance.counts', consequence: true, payload: { siteId, counts: { ...counts, revision }, totals: { ...totals, revision }, quorum } };
  });
}

/** A site's counts: `expected` leaves out those who declined, unless they turn up (then they count as present). */
export function siteCounts(counters: SiteCounters | undefined, roster: SiteRoster | undefined): AttendanceCounts {
  const c = counters ?? {};
  const { invited = 0, declined = 0, declinedResolved = 0 } = roster ?? {};
  const expected = Math.max(0, invited - declined);
  const resolved = Math.max(0, (c.resolved ?? 0) - declinedResolved);
  return {
    expected,
    present: c.present ?? 0,
    absent: c.absent ?? 0,
    leftEarly: c.leftEarly ?? 0,
    late: c.late ?? 0,
    walkIns: c.walkIns ?? 0,
    pending: Math.max(0, expected - resolved),
  };
}

/** A site's counts, the meeting's totals and its quorum, from the meeting document and the roster. */
export function countsOf(meeting: { live?: unknown }, roster: Map<string, SiteRoster>, siteId: string): { counts: AttendanceCounts; totals: AttendanceCounts; quorum: QuorumView } {
  const live = meeting.live as { sites?: unknown; quorumPercent?: number } | undefined;
  const sites = liveSitesOf(live);
  const ids = new Set([...roster.keys(), ...Object.keys(sites)]);
  const totals = sumCounts([...ids].map((id) => siteCounts(sites[id], roster.get(id))));
  return { counts: siteCounts(sites[siteId], roster.get(siteId)), totals, quorum: quorumOf(totals, live?.quorumPercent ?? 50) };
}

export function sumCounts(all: AttendanceCounts[]): AttendanceCounts {
  const total: AttendanceCounts = { expected: 0, present: 0, absent: 0, leftEarly: 0, late: 0, walkIns: 0, pending: 0 };
  for (const counts of all) for (const key of Object.keys(total) as Array<keyof AttendanceCounts>) total[key] += counts[key];
  return total;
}

/** A meeting's live `sites` map as a plain object, whether mongoose gave a Map or an object. */
export function liveSitesOf(live: { sites?: unknown } | undefined | null): Record<string, SiteCounters & Record<string, unknown>> {
  const sites = live?.sites;
  if (!sites) return {};
  if (sites instanceof Map) return Object.fromEntries(sites) as Record<string, SiteCounters & Record<string, unknown>>;
  return sites as Record<string, SiteCounters & Record<string, unknown>>;
}
