// Attendance counts per site, read from the meeting's live state (kept by the attendance actions
// in the same write as the revision) plus the number of people invited per site, which changes
// only when the attendee list does and is cached briefly per meeting.
import { Types } from 'mongoose';
import { AttendeeModel } from '../attendees/model.js';
import { subscribe } from '../lib/events.js';
import type { AttendanceCounts, QuorumView } from './contract.js';

export interface SiteCounters {
  present?: number;
  absent?: number;
  leftEarly?: number;
  late?: number;
  walkIns?: number;
  /** Invited people (not walk-ins) who are no longer "expected". */
  resolved?: number;
}

/** Per meeting, the counts being read or read: every check-in at once shares one read (no herd when it expires). */
const invitedCache = new Map<string, { bySite: Promise<Map<string, number>>; loadedAt: number }>();
const invitedLifetimeMs = 2_000;

subscribe((event) => {
  if (event.type.startsWith('attendee.') || event.type.startsWith('import.')) invitedCache.delete(event.meetingId);
});

/** People invited per site (walk-ins excluded), by one index-backed aggregation, cached ~2 s. */
export async function invitedBySite(meetingId: string): Promise<Map<string, number>> {
  const cached = invitedCache.get(meetingId);
  if (cached && Date.now() - cached.loadedAt < invitedLifetimeMs) return cached.bySite;
  const bySite = loadInvited(meetingId);
  if (invitedCache.size > 500) invitedCache.clear();
  const entry = { bySite, loadedAt: Date.now() };
  invitedCache.set(meetingId, entry);
  // A failed read is not kept; the lifetime counts from when the answer came.
  bySite.then(
    () => {
      if (invitedCache.get(meetingId) === entry) entry.loadedAt = Date.now();
    },
    () => {
      if (invitedCache.get(meetingId) === entry) invitedCache.delete(meetingId);
    },
  );
  return bySite;
}

async function loadInvited(meetingId: string): Promise<Map<string, number>> {
  const rows = await AttendeeModel.aggregate<{ _id: Types.ObjectId; count: number }>([
    { $match: { meetingId: new Types.ObjectId(meetingId), walkIn: { $ne: true } } },
    { $group: { _id: '$siteId', count: { $sum: 1 } } },
  ]);
  return new Map(rows.map((row) => [String(row._id), row.count]));
}

export function forgetInvited(meetingId: string): void {
  invitedCache.delete(meetingId);
}

export function siteCounts(counters: SiteCounters | undefined, expected: number): AttendanceCounts {
  const c = counters ?? {};
  const resolved = c.resolved ?? 0;
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

export function sumCounts(all: AttendanceCounts[]): AttendanceCounts {
  const total: AttendanceCounts = { expected: 0, present: 0, absent: 0, leftEarly: 0, late: 0, walkIns: 0, pending: 0 };
  for (const counts of all) for (const key of Object.keys(total) as Array<keyof AttendanceCounts>) total[key] += counts[key];
  return total;
}

export function quorumOf(totals: AttendanceCounts, percent: number): QuorumView {
  const needed = Math.ceil((totals.expected * percent) / 100);
  return { percent, needed, present: totals.present, reached: totals.expected > 0 && totals.present >= needed };
}

/** A meeting's live `sites` map as a plain object, whether mongoose gave a Map or an object. */
export function liveSitesOf(live: { sites?: unknown } | undefined | null): Record<string, SiteCounters & Record<string, unknown>> {
  const sites = live?.sites;
  if (!sites) return {};
  if (sites instanceof Map) return Object.fromEntries(sites) as Record<string, SiteCounters & Record<string, unknown>>;
  return sites as Record<string, SiteCounters & Record<string, unknown>>;
}
