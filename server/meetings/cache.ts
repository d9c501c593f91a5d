// The meeting record as pages read it, kept in memory between requests: a page of the attendee
// table otherwise spends one of its two store round trips on the meeting alone.
//
// Never older than the meeting's last change: every write of a meeting (commitMeetingChange,
// deleteMeeting) forgets it here before the action returns, every domain event of the meeting
// forgets it again, and realtime/ relays each event's meeting to the other app instances over
// Redis (changedElsewhere), which forget it as soon as the relay arrives. A write that bypasses
// all of these (a script in the shell) is seen after `lifetimeMs` at the latest. A read that
// raced with a change is not kept (generations). Actions never use it: they load the meeting
// fresh (guard.ts loadMeetingFor), so a rule is always checked against the stored meeting.
import { BoundedMap } from '../lib/bounded-map.js';
import { onChangedElsewhere, subscribe } from '../lib/events.js';
import { MeetingModel } from './model.js';
import type { MeetingRecord } from './revision.js';

const lifetimeMs = 2_000;
const entries = new BoundedMap<string, Readonly<MeetingRecord>>(1_000, { ttlMs: lifetimeMs });
/** Bumped by every change of a meeting, so a read that started before it is not kept. */
const generations = new BoundedMap<string, number>(10_000);

export function forgetMeeting(meetingId: string): void {
  entries.delete(meetingId);
  generations.set(meetingId, (generations.get(meetingId) ?? 0) + 1);
}

/**
 * How many times the meeting was forgotten here: a read of its other collections that started at
 * one generation and finished at another may have raced with a change's write (live/queries.ts).
 */
export function meetingGeneration(meetingId: string): number {
  return generations.get(meetingId) ?? 0;
}

/** The stored meeting `meetingId` (a valid ObjectId string), or null; shared between requests, so frozen. */
export async function readMeeting(meetingId: string): Promise<Readonly<MeetingRecord> | null> {
  const cached = entries.get(meetingId);
  if (cached) return cached;
  const generation = generations.get(meetingId) ?? 0;
  const meeting = await MeetingModel.findById(meetingId).lean<MeetingRecord>();
  if (!meeting) return null;
  Object.freeze(meeting);
  if ((generations.get(meetingId) ?? 0) === generation) entries.set(meetingId, meeting);
  return meeting;
}

subscribe((event) => forgetMeeting(event.meetingId));
onChangedElsewhere(forgetMeeting);
