// The one way an action commits a change to a meeting's state (ARCHITECTURE rule 4): the
// revision is claimed in the same store write as the meeting-document change, the rest of the
// change is written stamped with that revision, and events go out with the stored revision only.
import type { Types, UpdateQuery } from 'mongoose';
import { MeetingModel, type Meeting } from './model.js';
import { NotFound } from '../lib/errors.js';
import { publish, type EventAudience } from '../lib/events.js';
import { recordAudit, type AuditNote } from '../audit/record.js';

export type MeetingRecord = Meeting & { _id: Types.ObjectId; createdAt?: Date; updatedAt?: Date };

/** An event an action announces; `meetingId` and `revision` are filled in from the stored write. */
export interface MeetingChangeEvent {
  type: string;
  /** Present when only one site's room may see the payload. */
  siteId?: string;
  /**
   * Only organizers of the meeting's unit (`organizers`: minutes) or the organizers and the chair
   * (`desk`: a unit's task) may see the payload; other screens get a bare `revision`.
   */
  audience?: EventAudience;
  payload: unknown;
}

export interface MeetingChange<T> {
  meetingId: string | Types.ObjectId;
  /** Extra filter the meeting document must match, checked in the same write (a status guard). */
  when?: Record<string, unknown>;
  /** Thrown when the meeting exists but `when` does not match (default: NotFound meeting); gets the meeting as it is. */
  rejected?: (current: MeetingRecord) => Error;
  /** Meeting-document change, written in the same `findOneAndUpdate` as `$inc: { revision: 1 }`. */
  update?: UpdateQuery<Meeting>;
  /** The change shows in calendar invites: iCalendar SEQUENCE moves too. */
  calendar?: boolean;
  /**
   * The rest of the change (other collections), written after the claim and stamped with
   * `revision`. If it throws, the claimed revision stays (a gap clients fill with a snapshot)
   * and no event is published.
   */
  write?: (revision: number, meeting: MeetingRecord) => Promise<T>;
  events: (result: T, revision: number, meeting: MeetingRecord) => MeetingChangeEvent[];
  /**
   * Who made the change, for the audit trail: one entry keyed by (meeting, revision), written
   * after `write` succeeded and before the events go out (audit/record.ts).
   */
  audit?: AuditNote;
}

export interface CommittedChange<T> {
  revision: number;
  /** The meeting document after the write (with the new revision). */
  meeting: MeetingRecord;
  result: T;
}

export async function commitMeetingChange<T = undefined>(change: MeetingChange<T>): Promise<CommittedChange<T>> {
  const meeting = await claimRevision(change);
  const revision = meeting.revision;
  const result = change.write ? await change.write(revision, meeting) : (undefined as T);
  const meetingId = String(meeting._id);
  const events = change.events(result, revision, meeting);
  if (change.audit) await recordAudit(meeting._id, revision, change.audit, events.map((event) => event.type));
  for (const event of events) {
    publish({ type: event.type, meetingId, revision, payload: event.payload, ...(event.siteId ? { siteId: event.siteId } : {}), ...(event.audience ? { audience: event.audience } : {}) });
  }
  return { revision, meeting, result };
}

/** Filter, `$inc` and the caller's update in one write; the document after it, or the right error. */
async function claimRevision<T>(change: MeetingChange<T>): Promise<MeetingRecord> {
  const update: UpdateQuery<Meeting> = { ...(change.update ?? {}) };
  const inc: Record<string, number> = { ...((update.$inc as Record<string, number> | undefined) ?? {}), revision: 1 };
  if (change.calendar) inc.calendarSequence = 1;
  update.$inc = inc;
  const filter = { ...(change.when ?? {}), _id: change.meetingId };
  const meeting = await MeetingModel.findOneAndUpdate(filter, update, { returnDocument: 'after', runValidators: true }).lean<MeetingRecord>();
  if (meeting) return meeting;
  const current = change.when && change.rejected ? await MeetingModel.findById(change.meetingId).lean<MeetingRecord>() : null;
  if (current) throw change.rejected!(current);
  throw new NotFound('meeting.notFound');
}
