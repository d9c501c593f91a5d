// Attendance on the day, one action per change: check in (coordinator, organizer, chair), self
// check-in with the site's code (the attendee), absent with a reason, left early, walk-in, undo.
// Each carries a client-made operation id (live/operations.ts: counted once, by a unique index).
// The record changes by compare-and-set first, marked `pendingSince`; the site's counters then
// move in the same write as the meeting's revision (commitMeetingChange), so counts and revision
// never disagree, and the mark goes. A process that dies between the two writes leaves the mark:
// recount.ts counts that site again from its records (a resend, the next change of the person,
// or the sweep finds it).
import './messages.js';
import { Types } from 'mongoose';
import { AttendanceModel, type Attendance } from './model.js';
import { isCurrentCode } from './codes.js';
import { recordView, type AttendeeFacts } from './queries.js';
import { counterDelta, countedBy, stateOf, type State } from './counting.js';
import { countedLate, countWithin, personBusy, recountSite, settledRecord } from './recount.js';
import { AttendeeModel } from '../attendees/model.js';
import { attendeeEventView } from '../attendees/queries.js';
import { MeetingModel } from '../meetings/model.js';
import { commitMeetingChange, type MeetingChangeEvent } from '../meetings/revision.js';
import { requireOpenMeeting } from '../meetings/guard.js';
import { SiteModel } from '../sites/model.js';
import { addWalkInInput, checkInInput, leftEarlyInput, markAbsentInput, selfCheckInInput, undoAttendanceInput, type AttendanceCounts, type AttendanceRecordView } from '../live/contract.js';
import { countsOf, forgetInvited, invitedBySite, invitedBySiteAfterChangeOf } from '../live/counts.js';
import { onceOnly } from '../live/operations.js';
import { actorLabel, requireSignedIn, requireSiteActor } from '../live/permissions.js';
import type { Actor } from '../lib/actor.js';
import { AppError, Conflict, Forbidden, Invalid, isDuplicateKeyError, NotFound, TooManyRequests } from '../lib/errors.js';
import { parseInput } from '../lib/validation.js';

export interface AttendanceAck {
  revision: number;
  changed: boolean;
  record: AttendanceRecordView;
  counts: AttendanceCounts;
  [key: string]: unknown;
}

type StoredRecord = Attendance & { _id: Types.ObjectId };

const openStatuses = ['scheduled', 'live'];
const journaled = { writeConcern: { j: true } };
const maxHistory = 20;
const wrongCodeLimit = 5;
const wrongCodeSiteLimit = 30;
const wrongCodeWindowMs = 10 * 60_000;

// ---------------------------------------------------------------------------------------------
// Actions

export async function checkIn(actor: Actor, input: unknown): Promise<AttendanceAck> {
  const data = parseInput(checkInInput, input);
  const { attendee, meeting } = await attendeeAndMeeting(actor, data.meetingId, data.attendeeId);
  if (actor.kind === 'attendee') throw new Forbidden('attendance.forbidden.useCode');
  requireSiteActor(actor, data.meetingId, String(attendee.siteId));
  return onceOnly({ meetingId: data.meetingId, opId: data.opId, command: 'attendance:checkIn', target: data.attendeeId, input: data }, () =>
    change(
      actor,
      attendee,
      (current, meeting) => {
        if (current.status === 'present') return undefined;
        const presentAt = plausibleInstant(data.at, meeting);
        return { ...cleared(actor), status: 'present', presentAt, late: isLate(presentAt, meeting) };
      },
      { meeting },
    ),
  );
}

/** The attendee checks themself in with the code on their site's wall display. */
export async function selfCheckIn(actor: Actor, input: unknown): Promise<AttendanceAck> {
  const data = parseInput(selfCheckInInput, input);
  requireSignedIn(actor);
  if (actor.kind !== 'attendee' && actor.kind !== 'chair') throw new Forbidden('attendance.forbidden.selfOnly');
  if (actor.meetingId !== data.meetingId) throw new Forbidden();
  const attendee = await attendeeOf(data.meetingId, actor.attendeeId);
  return onceOnly({ meetingId: data.meetingId, opId: data.opId, command: 'attendance:selfCheckIn', target: actor.attendeeId }, async () => {
    await requireSiteCode(attendee, data.code);
    return change(actor, attendee, (current, meeting) => {
      if (current.status === 'present') return undefined;
      const presentAt = new Date();
      return { ...cleared(actor), status: 'present', presentAt, late: isLate(presentAt, meeting) };
    });
  });
}

export async function markAbsent(actor: Actor, input: unknown): Promise<AttendanceAck> {
  const data = parseInput(markAbsentInput, input);
  const { attendee, meeting } = await attendeeAndMeeting(actor, data.meetingId, data.attendeeId);
  requireSiteActor(actor, data.meetingId, String(attendee.siteId));
  const absence = { reason: data.reason, ...(data.delegateName && data.reason === 'delegate' ? { delegateName: data.delegateName } : {}), ...(data.note ? { note: data.note } : {}) };
  return onceOnly({ meetingId: data.meetingId, opId: data.opId, command: 'attendance:markAbsent', target: data.attendeeId, input: data }, () =>
    change(
      actor,
      attendee,
      (current) => {
        if (current.status === 'absent' && JSON.stringify(current.absence) === JSON.stringify(absence)) return undefined;
        return { ...cleared(actor), status: 'absent', absence };
      },
      { meeting },
    ),
  );
}

export async function markLeftEarly(actor: Actor, input: unknown): Promise<AttendanceAck> {
  const data = parseInput(leftEarlyInput, input);
  const { attendee, meeting } = await attendeeAndMeeting(actor, data.meetingId, data.attendeeId);
  requireSiteActor(actor, data.meetingId, String(attendee.siteId));
  return onceOnly({ meetingId: data.meetingId, opId: data.opId, command: 'attendance:leftEarly', target: data.attendeeId, input: data }, () =>
    change(
      actor,
      attendee,
      (current, meeting) => {
        if (current.status === 'leftEarly') return undefined;
        if (current.status !== 'present') throw new Conflict('attendance.leftEarly.notPresent');
        return { ...current, changedBy: actorLabel(actor), status: 'leftEarly', leftAt: plausibleInstant(data.at, meeting) };
      },
      { meeting },
    ),
  );
}

export async function undoAttendance(actor: Actor, input: unknown): Promise<AttendanceAck> {
  const data = parseInput(undoAttendanceInput, input);
  const { attendee, meeting } = await attendeeAndMeeting(actor, data.meetingId, data.attendeeId);
  requireSiteActor(actor, data.meetingId, String(attendee.siteId));
  return onceOnly({ meetingId: data.meetingId, opId: data.opId, command: 'attendance:undo', target: data.attendeeId, input: data }, () => change(actor, attendee, 'undo', { meeting }));
}

/** Someone not on the list turns up: added to the site's attendees, marked walk-in, present. */
export async function addWalkIn(actor: Actor, input: unknown): Promise<AttendanceAck> {
  const data = parseInput(addWalkInInput, input);
  requireSiteActor(actor, data.meetingId, data.siteId);
  const site = await SiteModel.exists({ _id: data.siteId, meetingId: data.meetingId });
  if (!site) throw new NotFound('attendance.site.notFound');
  return onceOnly({ meetingId: data.meetingId, opId: data.opId, command: 'attendance:addWalkIn', target: data.siteId, input: data }, async () => {
    const meeting = await openMeeting(actor, data.meetingId);
    const created = await walkInAttendee(data);
    forgetInvited(data.meetingId);
    const attendee = created.toObject() as AttendeeFacts & { _id: Types.ObjectId };
    const presentAt = plausibleInstant(data.at, meeting);
    // A person an earlier run of this command added may already be counted (it stopped after the
    // count, before the operation was marked done) or changed since: the resend leaves them as they are
    // (a second arrival would move presentAt and push a history entry a single undo then restores).
    const arrival = (current: State): State | undefined => (current.status !== 'expected' ? undefined : { ...cleared(actor), status: 'present', presentAt, late: isLate(presentAt, meeting) });
    const ack = await change(actor, attendee, arrival, {
      walkIn: true,
      extraEvents: [{ type: 'attendee.created', siteId: data.siteId, payload: { attendee: attendeeEventView(created.toObject()) } }],
    });
    return ack;
  });
}

/**
 * The person a walk-in command adds, once: the command's operation id is stored on them, so a
 * resend after a failed or interrupted first run (whose claim on the id was let go) finds the same
 * person instead of adding a second one.
 */
async function walkInAttendee(data: { meetingId: string; siteId: string; opId: string; fullName: string; position?: string; organization?: string }) {
  // The claim on the id is gone, and with it onceOnly's check of the input: the person found must
  // be the one this command adds (same site, name, position, organization), else the id is reused
  // for someone else (or the person was moved or edited since) and nobody is checked in.
  const find = async () => {
    const found = await AttendeeModel.findOne({ meetingId: data.meetingId, walkInOpId: data.opId });
    if (!found) return null;
    const same =
      String(found.siteId) === data.siteId &&
      found.fullName === data.fullName.trim() &&
      (found.position ?? '') === (data.position ?? '') &&
      (found.organization ?? '') === (data.organization ?? '');
    if (!same) throw new Conflict('live.opId.reused');
    return found;
  };
  const earlier = await find();
  if (earlier) return earlier;
  try {
    return await AttendeeModel.create({
      meetingId: data.meetingId,
      siteId: data.siteId,
      fullName: data.fullName,
      position: data.position ?? '',
      organization: data.organization ?? '',
      role: 'guest',
      walkIn: true,
      walkInOpId: data.opId,
    });
  } catch (error) {
    const same = isDuplicateKeyError(error) ? await find() : null;
    if (same) return same;
    throw error;
  }
}

/** What `detachAttendance` did: the counter change to write with the revision, and how to end it. */
export interface DetachedAttendance {
  /** `$inc` on the meeting document (live.sites.<siteId>.<counter>), empty when there is no record. */
  inc: Record<string, number>;
  /**
   * Refuses (Conflict, busy) a commit that comes too late: a recount may already take the record's
   * mark for a dead process's (recount.ts). Call it right before the caller's commitMeetingChange.
   */
  inTime: () => void;
  /** Ends it once the caller's commit happened: the mark goes (a removed person's record goes). */
  done: () => Promise<void>;
  /** Puts the record back as it was, when the caller's commit did not happen. */
  undo: () => Promise<void>;
}

/**
 * An attendee is removed (`toSiteId` null) or moved to another site: their attendance record goes
 * or moves with them, by compare-and-set, and the site counters it contributed must leave the old
 * site (and join the new one) in the caller's commitMeetingChange update (`inc`). A change racing
 * with it either lands first (then this one reads it) or finds the record moved and counts there.
 *
 * Like a change, it marks the record (`pendingSince`, and `movingFrom` for a move) until the
 * caller's commit is done: a recount of either site meanwhile waits instead of counting the record
 * where its counters are not yet, and a process that dies in between leaves a mark that the
 * recount settles from the attendee list (recount.ts: the record follows the attendee, or goes
 * with them). A removed person's record is only marked here, and deleted by `done`.
 */
export async function detachAttendance(meetingId: string, attendeeId: string, toSiteId: string | null): Promise<DetachedAttendance> {
  const nothing: DetachedAttendance = { inc: {}, inTime: () => undefined, done: async () => undefined, undo: async () => undefined };
  for (let attempt = 0; attempt < 6; attempt++) {
    const found = await AttendanceModel.findOne({ meetingId, attendeeId }).lean<StoredRecord>();
    // A change of the person still being counted finishes first: its counters are not yet moved.
    const record = found && (await settledRecord(found));
    const fromSiteId = record ? String(record.siteId) : null;
    if (!record || fromSiteId === toSiteId) return nothing;
    const inc: Record<string, number> = {};
    for (const [key, value] of Object.entries(countedBy(record))) {
      if (!value) continue;
      inc[`live.sites.${fromSiteId}.${key}`] = -value;
      if (toSiteId) inc[`live.sites.${toSiteId}.${key}`] = value;
    }
    const mark = new Date();
    const marked = { _id: record._id, pendingSince: mark };
    const inTime = () => {
      if (!countWithin(mark)) throw new Conflict('attendance.busy');
    };
    // The version stays: a change that read the record before still applies once the mark is gone
    // (and counts at the new site).
    const moved = await AttendanceModel.updateOne(
      { _id: record._id, version: record.version, siteId: record.siteId, pendingSince: null },
      { $set: { pendingSince: mark, ...(toSiteId ? { siteId: new Types.ObjectId(toSiteId), movingFrom: record.siteId } : {}) } },
      journaled,
    );
    if (moved.modifiedCount !== 1) continue;
    const unmark = { $set: { pendingSince: null, movingFrom: null } };
    return {
      inc,
      inTime,
      done: async () => void (toSiteId ? await AttendanceModel.updateOne(marked, unmark) : await AttendanceModel.deleteOne(marked)),
      undo: async () => void (await AttendanceModel.updateOne(marked, { $set: { ...unmark.$set, siteId: record.siteId } })),
    };
  }
  throw new Conflict('attendance.busy');
}

// ---------------------------------------------------------------------------------------------
// The one way a record changes

type MeetingFacts = { _id: Types.ObjectId; status: string; startsAt: Date; live?: { startedAt?: Date | null } | null };
type Next = ((current: State, meeting: MeetingFacts) => State | undefined) | 'undo';

async function change(
  actor: Actor,
  attendee: AttendeeFacts & { _id: Types.ObjectId },
  next: Next,
  options: { walkIn?: boolean; extraEvents?: MeetingChangeEvent[]; meeting?: Promise<MeetingFacts> } = {},
): Promise<AttendanceAck> {
  const meetingId = String(attendee.meetingId);
  const meeting = await (options.meeting ?? openMeeting(actor, meetingId));
  // A change that would go ahead from the implicit "expected" state (an arrival, an absence) needs
  // the record whether or not it exists yet: one upsert reads or creates it. Others look first, so
  // a refusal (nothing to undo, not there to leave early) leaves no record behind.
  let record: StoredRecord;
  if (next !== 'undo' && goesAhead(() => next(stateOf({}), meeting))) {
    record = await ensureRecord(attendee, options.walkIn ?? false);
  } else {
    const existing = await AttendanceModel.findOne({ meetingId: attendee.meetingId, attendeeId: attendee._id }).lean<StoredRecord>();
    if (!existing) {
      if (next === 'undo') throw new Conflict('attendance.undo.nothing');
      next(stateOf({}), meeting);
    }
    record = existing ?? (await ensureRecord(attendee, options.walkIn ?? false));
  }
  for (let attempt = 0; ; attempt++) {
    // One change of a person at a time: the one still being counted goes first.
    record = await settledRecord(record);
    const before = stateOf(record);
    let after: State | undefined;
    let update: Record<string, unknown>;
    const changedAt = new Date();
    if (next === 'undo') {
      const previous = record.history.at(-1);
      if (!previous) throw new Conflict('attendance.undo.nothing');
      after = stateOf(previous as State);
      update = { $set: { ...after, changedAt, pendingSince: changedAt }, $pop: { history: 1 }, $inc: { version: 1 } };
    } else {
      after = next(before, meeting);
      if (!after) return unchanged(record, attendee);
      update = { $set: { ...after, changedAt, pendingSince: changedAt }, $push: { history: { $each: [before], $slice: -maxHistory } }, $inc: { version: 1 } };
    }
    const changed = await AttendanceModel.findOneAndUpdate({ _id: record._id, version: record.version, pendingSince: null }, update, { returnDocument: 'after', ...journaled }).lean<StoredRecord>();
    if (changed) return count(actor, record, changed, before, after, attendee, options.extraEvents ?? [], next === 'undo' ? (record.history.at(-1) as State) : undefined);
    // Someone else changed the record meanwhile: decide again from what it is now.
    if (attempt >= 5) throw new Conflict('attendance.busy');
    const now = await AttendanceModel.findById(record._id).lean<StoredRecord>();
    // The attendee was removed meanwhile (their record with them).
    if (!now) throw new NotFound('attendance.attendee.notFound');
    record = now;
  }
}

/** Moves the site's counters with the revision, stamps the record, and announces both. */
async function count(actor: Actor, previous: StoredRecord, record: StoredRecord, before: State, after: State, attendee: AttendeeFacts & { _id: Types.ObjectId }, extraEvents: MeetingChangeEvent[], undone?: State): Promise<AttendanceAck> {
  const meetingId = String(record.meetingId);
  const siteId = String(record.siteId);
  // A walk-in's first change is their arrival: the site has one more walk-in from then on.
  const delta = counterDelta(before, after, record.walkIn, record.walkIn && previous.version === 0 ? 1 : 0);
  const inc = Object.fromEntries(Object.entries(delta).map(([key, value]) => [`live.sites.${siteId}.${key}`, value]));
  const invited = await invitedBySiteAfterChangeOf(meetingId, String(record.attendeeId));
  let claimed = false;
  try {
    // A change this late to be counted may already be counted again by a recount (recount.ts
    // takes a mark this old for one whose process died): it is taken back instead.
    if (!countWithin(record.pendingSince)) throw personBusy();
    const committed = await commitMeetingChange({
      meetingId,
      audit: { actor, detail: `${attendee.fullName}: ${after.status}` },
      when: { status: { $in: openStatuses } },
      rejected: () => new Conflict('attendance.closed'),
      update: Object.keys(inc).length > 0 ? { $inc: inc } : undefined,
      write: async (revision) => {
        claimed = true;
        // Counted: the record carries the revision and loses its mark, and the next change of the
        // person may start. (No other change ran meanwhile: they wait for the mark to go.)
        const stamped = await AttendanceModel.findOneAndUpdate({ _id: record._id, version: record.version }, { $set: { revision, pendingSince: null } }, { returnDocument: 'after' }).lean<StoredRecord>();
        return stamped ?? (await AttendanceModel.findById(record._id).lean<StoredRecord>()) ?? { ...record, revision };
      },
      events: (stamped, revision, meeting) => {
        const view = recordView(stamped, attendee);
        const { counts, totals, quorum } = countsOf(meeting, invited, siteId);
        return [
          // The meeting-wide event first: screens that may not see the record then need no "revision" event.
          { type: 'attendance.counts', payload: { siteId, counts: { ...counts, revision }, totals: { ...totals, revision }, quorum } },
          ...extraEvents,
          { type: 'attendance.changed', siteId, payload: { record: view } },
        ];
      },
    });
    // Counted late: a recount elsewhere may have counted this record too; the records settle it
    // (briefly: the asker waits; a site still busy is left as it is).
    if (countedLate(record.pendingSince)) await recountSite(meetingId, siteId, Date.now() + 2_000).catch(() => undefined);
    const { counts } = countsOf(committed.meeting, invited, siteId);
    return { revision: committed.revision, changed: true, record: recordView(committed.result, attendee), counts };
  } catch (error) {
    if (claimed) throw error;
    // Refused (the meeting closed between our check and the count, or too late): the record goes
    // back as it was. A failed write may still have counted (the store applied it, its answer was
    // lost): the record keeps its mark, and the recount settles the site from the records.
    if (error instanceof AppError) await putBack(record, before, undone);
    throw error;
  }
}

/**
 * Undoes a record change that could not be counted (the meeting closed meanwhile), if nothing
 * changed the record since: a change drops the history entry it pushed; an undo, which popped
 * one (`undone`), pushes that entry back. The version goes back too: the record is again exactly
 * what it was (nothing else writes a marked record, so a change that read it then still applies),
 * and a walk-in whose arrival was refused stays "never changed" (version 0), which is what the
 * recount (counting.ts countedBy) and the walk-in's next change count from.
 */
export async function putBack(record: { _id: Types.ObjectId; version: number }, before: State, undone?: State): Promise<boolean> {
  const history = undone ? { $push: { history: { $each: [undone], $slice: -maxHistory } } } : { $pop: { history: 1 as const } };
  const result = await AttendanceModel.updateOne({ _id: record._id, version: record.version }, { $set: { ...before, pendingSince: null, version: record.version - 1 }, ...history });
  return result.modifiedCount === 1;
}

async function unchanged(record: StoredRecord, attendee: AttendeeFacts & { _id: Types.ObjectId }): Promise<AttendanceAck> {
  const meetingId = String(record.meetingId);
  const [meeting, invited] = await Promise.all([MeetingModel.findById(meetingId, { revision: 1, live: 1 }).lean(), invitedBySite(meetingId)]);
  return { revision: meeting!.revision, changed: false, record: recordView(record, attendee), counts: countsOf(meeting!, invited, String(record.siteId)).counts };
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function attendeeOf(meetingId: string, attendeeId: string): Promise<AttendeeFacts & { _id: Types.ObjectId }> {
  const attendee = await AttendeeModel.findOne({ _id: attendeeId, meetingId }, { meetingId: 1, siteId: 1, fullName: 1, position: 1, organization: 1, role: 1, walkIn: 1 }).lean();
  if (!attendee) throw new NotFound('attendance.attendee.notFound');
  return attendee as AttendeeFacts & { _id: Types.ObjectId };
}

/**
 * The attendee, with the meeting read at the same time (one store round trip less before the
 * change and its event). The attendee's refusals still come first, and the meeting's when the
 * change reads it, as when they were read one after the other.
 */
async function attendeeAndMeeting(actor: Actor, meetingId: string, attendeeId: string): Promise<{ attendee: AttendeeFacts & { _id: Types.ObjectId }; meeting: Promise<MeetingFacts> }> {
  const meeting = openMeeting(actor, meetingId);
  // Answered below (or not at all, when the attendee's refusal comes first).
  meeting.catch(() => undefined);
  return { attendee: await attendeeOf(meetingId, attendeeId), meeting };
}

/** The meeting, if the asker may work on it and check-in is open (scheduled or live). */
async function openMeeting(actor: Actor, meetingId: string): Promise<MeetingFacts> {
  const { meeting } = await requireOpenMeeting(actor, meetingId, { draft: 'attendance.closed.draft', ended: 'attendance.closed.ended', cancelled: 'attendance.closed.cancelled' });
  return meeting as MeetingFacts;
}

/** Whether a decision changes something (it may also refuse by throwing, or find nothing to do). */
function goesAhead(decide: () => State | undefined): boolean {
  try {
    return decide() !== undefined;
  } catch {
    return false;
  }
}

/** The attendee's record, created as "expected" on first use (a unique index keeps it one): one upsert, read back in the same call. */
async function ensureRecord(attendee: AttendeeFacts & { _id: Types.ObjectId }, walkIn: boolean): Promise<StoredRecord> {
  const filter = { meetingId: attendee.meetingId, attendeeId: attendee._id };
  const now = new Date();
  try {
    // Only $setOnInsert: an existing record is read, not touched (timestamps off, set on insert here).
    const record = await AttendanceModel.findOneAndUpdate(
      filter,
      {
        $setOnInsert: {
          siteId: attendee.siteId,
          walkIn: walkIn || Boolean(attendee.walkIn),
          // What the report counts the record under (kept in step by attendees/actions.ts).
          organization: attendee.organization ?? '',
          ...(attendee.role ? { role: attendee.role } : {}),
          status: 'expected',
          version: 0,
          revision: 0,
          history: [],
          createdAt: now,
          updatedAt: now,
        },
      },
      // Not journaled on its own: an "expected" record says nothing yet, and the change that
      // follows is journaled (the journal is written in order, so this insert with it).
      { upsert: true, returnDocument: 'after', timestamps: false },
    ).lean<StoredRecord>();
    if (record) {
      if (record.createdAt?.getTime() === now.getTime()) await followAttendee(record);
      return record;
    }
  } catch (error) {
    // Two first changes at once: the other one created it.
    if ((error as { code?: number }).code !== 11000) throw error;
  }
  return (await AttendanceModel.findOne(filter).lean<StoredRecord>())!;
}

/**
 * A record this call just created carries the organization and role of the attendee as read at
 * the start of the change; one changed since (updateAttendee) may have found no record to keep in
 * step. Read again after the creation: either that change's own update of the record comes after
 * it, or this read sees the change (or sees the person removed, or moved). Only on a record's creation
 * (once per person and meeting).
 */
async function followAttendee(record: StoredRecord): Promise<void> {
  const attendee = await AttendeeModel.findOne({ _id: record.attendeeId, meetingId: record.meetingId }, { organization: 1, role: 1, siteId: 1 }).lean();
  if (!attendee) {
    // Removed after this change first read them and before the record was created: the removal
    // found no record to take with it, so this one would stay behind, counted, for nobody.
    await AttendanceModel.deleteOne({ _id: record._id }, journaled);
    throw new NotFound('attendance.attendee.notFound');
  }
  if (String(attendee.siteId) !== String(record.siteId)) {
    // Moved meanwhile: the move found no record to take along, so this one, not counted anywhere
    // yet (status expected), follows the person to their new site, where the change then counts it.
    // Unless another change took it first (it then counted it where it is, as before).
    const moved = await AttendanceModel.updateOne({ _id: record._id, version: record.version, pendingSince: null, siteId: record.siteId }, { $set: { siteId: attendee.siteId } }, journaled);
    if (moved.modifiedCount === 1) record.siteId = attendee.siteId;
  }
  const organization = attendee.organization ?? '';
  if (organization === record.organization && (!attendee.role || attendee.role === record.role)) return;
  const set = { organization, ...(attendee.role ? { role: attendee.role } : {}) };
  await AttendanceModel.updateOne({ _id: record._id }, { $set: set }, journaled);
  Object.assign(record, set);
}

function cleared(actor: Actor): State {
  return { status: 'expected', presentAt: null, leftAt: null, late: false, absence: null, changedBy: actorLabel(actor) };
}

function isLate(presentAt: Date, meeting: MeetingFacts): boolean {
  const startedAt = meeting.live?.startedAt;
  return Boolean(startedAt && presentAt.getTime() > startedAt.getTime());
}

/** A client's "when it happened" (an offline check-in), if it lies between a day before the meeting and now. */
function plausibleInstant(at: string | undefined, meeting: MeetingFacts): Date {
  const now = new Date();
  if (!at) return now;
  const instant = new Date(at);
  if (instant.getTime() > now.getTime() || instant.getTime() < meeting.startsAt.getTime() - 24 * 3600_000) return now;
  return instant;
}

/**
 * The code on the attendee's site's wall display, with at most 5 wrong guesses per attendee and
 * 30 per site per 10 minutes: a script holding many attendees' links cannot guess a site's code.
 */
async function requireSiteCode(attendee: AttendeeFacts & { _id: Types.ObjectId }, code: string): Promise<void> {
  const site = await SiteModel.findById(attendee.siteId, { coordinatorToken: 1, codeFailuresSince: 1 }).lean();
  if (!site) throw new NotFound('attendance.site.notFound');
  const record = await ensureRecord(attendee, false);
  // Each guess takes its attempts (the attendee's, then the site's) in one atomic write each,
  // before the code is compared, so guesses sent all at once cannot all pass a check read before
  // any of them counted.
  if (!(await takeAttempt(AttendanceModel.collection, record._id, record.codeFailuresSince, wrongCodeLimit))) throw new TooManyRequests('attendance.code.tooMany');
  if (!(await takeAttempt(SiteModel.collection, site._id, site.codeFailuresSince ?? null, wrongCodeSiteLimit))) {
    await giveAttemptBack(AttendanceModel.collection, record._id);
    throw new TooManyRequests('attendance.code.siteTooMany');
  }
  if (isCurrentCode(site.coordinatorToken, String(attendee.siteId), code)) {
    // A right code is not a wrong guess: give the attempts back.
    await Promise.all([giveAttemptBack(AttendanceModel.collection, record._id), giveAttemptBack(SiteModel.collection, site._id)]);
    return;
  }
  throw new Invalid({ code: { key: 'attendance.code.wrong' } });
}

/** A collection whose documents count wrong codes (`codeFailures` since `codeFailuresSince`). */
type CodeCounter = typeof AttendanceModel.collection;

/** Takes one attempt of `limit` in the current window (a window that has run out starts again). */
async function takeAttempt(model: CodeCounter, id: Types.ObjectId, since: Date | null | undefined, limit: number): Promise<boolean> {
  // Restarted only once, if two guesses find the window over at the same time.
  if (!since || Date.now() - since.getTime() >= wrongCodeWindowMs) {
    await model.updateOne({ _id: id, codeFailuresSince: since ?? null }, { $set: { codeFailures: 0, codeFailuresSince: new Date() } });
  }
  const taken = await model.findOneAndUpdate({ _id: id, codeFailures: { $lt: limit } }, { $inc: { codeFailures: 1 } }, { returnDocument: 'after', projection: { _id: 1 } });
  return Boolean(taken);
}

async function giveAttemptBack(model: CodeCounter, id: Types.ObjectId): Promise<void> {
  await model.updateOne({ _id: id, codeFailures: { $gt: 0 } }, { $inc: { codeFailures: -1 } });
}
