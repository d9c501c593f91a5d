// The one guard for actions that change a meeting or its parts (sites, attendees, agenda): the
// meeting exists, the asker may work on it, and it is open (a cancelled meeting is read-only
// until reinstated). It returns the `when`/`rejected` pair for commitMeetingChange, so the same
// rule is checked again atomically in the write that claims the revision.
import type { Types } from 'mongoose';
import { MeetingModel, type MeetingStatus } from './model.js';
import type { MeetingRecord } from './revision.js';
import { canSeeMeeting, organizerCoversUnit, type Actor } from '../lib/actor.js';
import { Conflict, Forbidden, NotFound, Unauthorized } from '../lib/errors.js';
import { isObjectIdString } from '../lib/input.js';
import { readMeeting } from './cache.js';

/** Which statuses refuse the change, each with the message the asker reads. */
export type ClosedMessages = Partial<Record<MeetingStatus, string>>;

export interface OpenMeeting {
  meeting: MeetingRecord;
  /** Spread into commitMeetingChange: the same status rule, checked in the claiming write. */
  stillOpen: { when: Record<string, unknown>; rejected: (current: MeetingRecord) => Error };
}

/**
 * The meeting `meetingId` names, for this asker, or NotFound (also for a malformed id, and for a
 * meeting the asker may not see as an organizer of another unit). Every action and query that
 * takes a meetingId loads the meeting through here, so one function decides who may see it.
 * Anonymous askers get Unauthorized; a link holder of another meeting Forbidden.
 */
export async function loadMeetingFor(actor: Actor, meetingId: string | Types.ObjectId, notFoundKey = 'meeting.notFound'): Promise<MeetingRecord> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  const id = String(meetingId);
  if (!isObjectIdString(id)) throw new NotFound(notFoundKey);
  const meeting = await MeetingModel.findById(id).lean<MeetingRecord>();
  if (!meeting) throw new NotFound(notFoundKey);
  requireMeetingAccess(actor, meeting, notFoundKey);
  return meeting;
}

/**
 * loadMeetingFor for pages and reads: the same checks, against the meeting as cache.ts keeps it
 * (forgotten at every change of it, on every instance). Actions use loadMeetingFor.
 */
export async function readMeetingFor(actor: Actor, meetingId: string | Types.ObjectId, notFoundKey = 'meeting.notFound'): Promise<Readonly<MeetingRecord>> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  const id = String(meetingId);
  if (!isObjectIdString(id)) throw new NotFound(notFoundKey);
  const meeting = await readMeeting(id);
  if (!meeting) throw new NotFound(notFoundKey);
  requireMeetingAccess(actor, meeting, notFoundKey);
  return meeting;
}

/**
 * Who may see and work on this meeting at all (roles within it are the action's own check):
 * administrators; organizers of its unit; the chair, coordinators and attendees of this meeting
 * only. To an organizer of another unit the meeting does not exist (NotFound, as for a wrong id).
 */
export function requireMeetingAccess(actor: Actor, meeting: Pick<MeetingRecord, '_id' | 'unitId'>, notFoundKey = 'meeting.notFound'): void {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  if (!canSeeMeeting(actor, String(meeting._id))) throw new Forbidden();
  if (actor.kind === 'organizer' && !organizerCoversUnit(actor, meeting.unitId)) throw new NotFound(notFoundKey);
}

/**
 * `closed` is a message key (refuses a cancelled meeting) or one key per refused status (the
 * meeting's own edits also refuse an ended meeting; `{}` refuses none). The returned `stillOpen`
 * re-checks the same rule in the write that claims the revision.
 */
export async function requireOpenMeeting(actor: Actor, meetingId: string | Types.ObjectId, closed: string | ClosedMessages = 'meeting.cancelled.readonly'): Promise<OpenMeeting> {
  const meeting = await loadMeetingFor(actor, meetingId);
  return requireOpen(meeting, closed);
}

/**
 * The same status rule for a meeting already loaded and authorized otherwise (an assigned unit's
 * organizer reporting on a task of another unit's meeting: followup/actions.ts).
 */
export function requireOpen(meeting: MeetingRecord, closed: string | ClosedMessages = 'meeting.cancelled.readonly'): OpenMeeting {
  const messages: ClosedMessages = typeof closed === 'string' ? { cancelled: closed } : closed;
  const refuse = (current: MeetingRecord) => new Conflict(messages[current.status as MeetingStatus] ?? Object.values(messages)[0] ?? 'meeting.cancelled.readonly', { status: current.status });
  if (messages[meeting.status as MeetingStatus]) throw refuse(meeting);
  return { meeting, stillOpen: { when: { status: { $nin: Object.keys(messages) } }, rejected: refuse } };
}
