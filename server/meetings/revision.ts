// The one way an action commits a change to a meeting's state (ARCHITECTURE rule 4): the
// revision is claimed in the same store write as the meeting-document change, the rest of the
// change is written stamped with that revision, and events go out with the stored revision only.
import type { Types, UpdateQuery } from 'mongoose';
import { MeetingModel, type Meeting } from './model.js';
import { NotFound } from '../lib/errors.js';
import { publish, type EventAudience } from '../lib/events.js';
import { forgetMeeting } from './cache.js';
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
  /**
   * A consequence the screens must hear, not a change of its own (the headcounts after someone is
   * added): left out of the audit entry's list of what changed.
   */
  consequence?: boolean;
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
  const meetingKey = String(change.meetingId);
  const claim = startClaim(meetingKey);
  try {
    const meeting = await claimRevision(change);
    // Pages read the changed meeting from now on, not when its events go out (cache.ts).
    forgetMeeting(meetingKey);
    const revision = meeting.revision;
    claim.revision = revision;
    claim.barrier = claimCounter;
    const result = change.write ? await change.write(revision, meeting) : (undefined as T);
    if (change.write) forgetMeeting(meetingKey);
    const meetingId = String(meeting._id);
    const events = change.events(result, revision, meeting);
    if (change.audit) await recordAudit(meeting._id, revision, change.audit, events.filter((event) => !event.consequence).map((event) => event.type));
    claim.publish = () => {
      for (const event of events) {
        publish({ type: event.type, meetingId, revision, payload: event.payload, ...(event.siteId ? { siteId: event.siteId } : {}), ...(event.audience ? { audience: event.audience } : {}) });
      }
    };
    return { revision, meeting, result };
  } finally {
    // Published now, or as soon as the earlier revisions of this process are (or failed).
    settle(meetingKey, claim);
  }
}

// ---------------------------------------------------------------------------------------------
// Events in revision order. Two changes of one meeting at once: the later revision's write may
// finish first. Its events then wait for the earlier claims of this process, so every screen
// receives a meeting's events in revision order (a screen still fills a gap left by a change
// that failed after its claim, or was made on another instance, with a snapshot).

interface Claim {
  /** Order in which this process started claiming. */
  seq: number;
  /** The revision the store gave, once known. */
  revision?: number;
  /** Claims started up to here may have taken a lower revision: wait for them. */
  barrier?: number;
  /** Set when the change is written: sends its events. Unset when the change failed. */
  publish?: () => void;
  settled?: boolean;
}

const inFlight = new Map<string, Claim[]>();
let claimCounter = 0;
/** A claim whose earlier revisions are still unsettled after this long is published anyway. */
const maxHoldMs = 5_000;

function startClaim(meetingKey: string): Claim {
  const claim: Claim = { seq: ++claimCounter };
  const claims = inFlight.get(meetingKey);
  if (claims) claims.push(claim);
  else inFlight.set(meetingKey, [claim]);
  return claim;
}

function settle(meetingKey: string, claim: Claim): void {
  claim.settled = true;
  flush(meetingKey);
  if (claim.publish && inFlight.get(meetingKey)?.includes(claim)) {
    setTimeout(() => {
      const claims = inFlight.get(meetingKey);
      if (!claims?.includes(claim)) return;
      removeClaim(meetingKey, claims, claim);
      claim.publish!();
      flush(meetingKey);
    }, maxHoldMs).unref();
  }
}

/** Sends, in revision order, every settled claim no unsettled earlier claim can precede. */
function flush(meetingKey: string): void {
  for (;;) {
    const claims = inFlight.get(meetingKey);
    if (!claims) return;
    const next = claims
      .filter((claim) => claim.settled)
      .sort((a, b) => (a.revision ?? -1) - (b.revision ?? -1))
      .find((claim) => claim.revision === undefined || !claims.some((other) => other !== claim && mayPrecede(other, claim)));
    if (!next) return;
    removeClaim(meetingKey, claims, next);
    next.publish?.();
  }
}

/** `other` has, or may still get, a lower revision than `claim`. */
function mayPrecede(other: Claim, claim: Claim): boolean {
  if (other.revision !== undefined) return other.revision < claim.revision!;
  return other.seq <= claim.barrier!;
}

function removeClaim(meetingKey: string, claims: Claim[], claim: Claim): void {
  claims.splice(claims.indexOf(claim), 1);
  if (claims.length === 0) inFlight.delete(meetingKey);
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
