// Every change to a meeting's attendee list: create, edit (one field inline or the whole
// record), remove, move to another site, and rotate the personal link. Import lives in import.ts.
import './messages.js';
import { Types } from 'mongoose';
import { z } from 'zod';
import { requireMeetingViewer, type Actor } from '../lib/actor.js';
import { Conflict, Forbidden, Invalid, NotFound, isDuplicateKeyError } from '../lib/errors.js';
import { cleanName, cleanText } from '../lib/input.js';
import { newToken } from '../lib/text.js';
import { objectId, parseInput } from '../lib/validation.js';
import { requireOpenMeeting } from '../meetings/guard.js';
import { canEditAttendeesAt } from '../meetings/capabilities.js';
import { commitMeetingChange, type MeetingChangeEvent } from '../meetings/revision.js';
import { MeetingModel } from '../meetings/model.js';
import { detachAttendance } from '../attendance/actions.js';
import { AttendanceModel } from '../attendance/model.js';
import { siteAcceptsAttendees } from '../sites/actions.js';
import { SiteModel } from '../sites/model.js';
import { CalendarFeedModel } from '../calendar/model.js';
import { AttendeeModel, attendeeRoles, searchFields, type Attendee } from './model.js';
import { attendeeEventView, attendeeView, type AttendeeView } from './queries.js';
import { countsEvents, rosterAfterListChange } from '../live/counts.js';

// ---------------------------------------------------------------------------------------------
// Field schemas, shared with the import so a row is valid exactly when the form would accept it.

export const phonePattern = /^\+?[\d\s().-]{6,20}$/;

const trimmed = cleanText;
const nullToEmpty = (value: unknown) => (value === null ? '' : value);

export const fieldSchemas = {
  fullName: z.preprocess(cleanName, z.string({ error: 'attendees.fullName.required' }).min(1, 'attendees.fullName.required').max(200)),
  position: z.preprocess((v) => trimmed(nullToEmpty(v)), z.string().max(300)),
  organization: z.preprocess((v) => trimmed(nullToEmpty(v)), z.string().max(300)),
  /** '' clears the email (the field is then absent, outside the unique index). */
  email: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().toLowerCase() : nullToEmpty(v)),
    z.union([z.literal(''), z.email('attendees.email.invalid').max(254, 'attendees.email.invalid')], { error: 'attendees.email.invalid' }),
  ),
  phone: z.preprocess((v) => trimmed(nullToEmpty(v)), z.union([z.literal(''), z.string().regex(phonePattern, 'attendees.phone.invalid')], { error: 'attendees.phone.invalid' })),
  siteId: z.preprocess((v) => (v === '' || v === null ? undefined : v), objectId.optional()),
  role: z.preprocess((v) => (v === '' || v === null ? undefined : v), z.enum(attendeeRoles, 'attendees.role.invalid').optional()),
};

const ids = { meetingId: objectId, attendeeId: objectId };

/** Every field optional: a PATCH of one cell sends just that field. */
const optionalFields = {
  fullName: fieldSchemas.fullName.optional(),
  position: fieldSchemas.position.optional(),
  organization: fieldSchemas.organization.optional(),
  email: fieldSchemas.email.optional(),
  phone: fieldSchemas.phone.optional(),
  siteId: fieldSchemas.siteId,
  role: fieldSchemas.role,
};

const createSchema = z.object({ meetingId: objectId, ...optionalFields, fullName: fieldSchemas.fullName });
const updateSchema = z.object({ ...ids, ...optionalFields });

const editableFields = ['fullName', 'position', 'organization', 'email', 'phone', 'siteId', 'role'] as const;

// ---------------------------------------------------------------------------------------------
// Permission helpers.

/** Who may add or change people at `siteId` (the rule is canEditAttendeesAt, shared with the pages). */
function canEditSite(actor: Actor, meetingId: string, siteId: string): boolean {
  requireMeetingViewer(actor, meetingId);
  return canEditAttendeesAt(actor, siteId);
}

/** For a person already at `siteId`: someone else's people are simply off limits. */
function requireSiteEditor(actor: Actor, meetingId: string, siteId: string): void {
  if (!canEditSite(actor, meetingId, siteId)) throw new Forbidden();
}

/** For the site a form asks for: a coordinator choosing another site gets a message on that field. */
function requireTargetSite(actor: Actor, meetingId: string, siteId: string): void {
  if (canEditSite(actor, meetingId, siteId)) return;
  if (actor.kind === 'coordinator') throw new Invalid({ siteId: { key: 'attendees.site.notYours' } });
  throw new Forbidden();
}

const siteNotInMeeting = () => new Invalid({ siteId: { key: 'attendees.site.notInMeeting' } });

async function requireSiteInMeeting(meetingId: string, siteId: string): Promise<void> {
  if (!(await siteAcceptsAttendees(meetingId, siteId))) throw siteNotInMeeting();
}

export type AttendeeRecord = Attendee & { _id: Types.ObjectId; createdAt?: Date; updatedAt?: Date };

async function loadAttendee(meetingId: string, attendeeId: string): Promise<AttendeeRecord> {
  const attendee = await AttendeeModel.findOne({ _id: attendeeId, meetingId }).lean<AttendeeRecord>();
  if (!attendee) throw new NotFound('attendees.notFound');
  return attendee;
}

/**
 * The unique (meeting, email) index is the truth under races; its refusal is a field message that
 * says the address cannot be used, not that someone in the meeting has it (a coordinator must not
 * learn who else is on the list by trying addresses).
 */
function emailRefused(email: string): Invalid {
  return new Invalid({ email: { key: 'attendees.email.taken', params: { email } } });
}

function asEmailRefusal(error: unknown, email: string | undefined): unknown {
  if (isDuplicateKeyError(error) && !('accessToken' in (error.keyPattern ?? {}))) return emailRefused(email ?? '');
  return error;
}

async function emailTaken(meetingId: string, email: string, exceptId?: string): Promise<boolean> {
  const filter: Record<string, unknown> = { meetingId, email };
  if (exceptId) filter._id = { $ne: new Types.ObjectId(exceptId) };
  return Boolean(await AttendeeModel.exists(filter));
}

/** The event every room that may see this attendee gets (their site's room carries contacts). */
function attendeeEvent(type: string, attendee: AttendeeRecord, extra: Record<string, unknown> = {}): MeetingChangeEvent {
  return { type, siteId: String(attendee.siteId), payload: { attendee: attendeeEventView(attendee), ...extra } };
}

/** An attendee update stamped with the meeting revision, refused if a newer change got there first. */
async function updateStamped(meetingId: string, attendeeId: string, revision: number, update: { $set?: Record<string, unknown>; $unset?: Record<string, 1> }): Promise<AttendeeRecord> {
  const updated = await AttendeeModel.findOneAndUpdate(
    { _id: attendeeId, meetingId, revision: { $lt: revision } },
    { ...update, $set: { ...(update.$set ?? {}), revision } },
    { returnDocument: 'after', runValidators: true },
  ).lean<AttendeeRecord>();
  if (updated) return updated;
  if (await AttendeeModel.exists({ _id: attendeeId, meetingId })) throw new Conflict('error.changedMeanwhile');
  throw new NotFound('attendees.notFound');
}

// ---------------------------------------------------------------------------------------------
// Actions.

/** A cancelled meeting's list is read-only until it is reinstated, like its sites and agenda. */
const closedKey = 'attendees.meeting.closed';

export async function createAttendee(actor: Actor, input: unknown): Promise<AttendeeView> {
  const data = parseInput(createSchema, input);
  requireMeetingViewer(actor, data.meetingId);
  const { stillOpen } = await requireOpenMeeting(actor, data.meetingId, closedKey);
  let siteId = data.siteId;
  if (!siteId && actor.kind === 'coordinator') siteId = actor.siteId;
  if (!siteId) {
    const main = await SiteModel.findOne({ meetingId: data.meetingId, isMain: true }, { _id: 1 }).lean();
    if (!main) throw new Invalid({ siteId: { key: 'attendees.site.required' } });
    siteId = String(main._id);
  }
  requireTargetSite(actor, data.meetingId, siteId);
  requireChairChangeAllowed(actor, undefined, data.role);
  await requireSiteInMeeting(data.meetingId, siteId);
  if (data.email && (await emailTaken(data.meetingId, data.email))) throw emailRefused(data.email);
  const { result } = await commitMeetingChange({
    audit: { actor },
    meetingId: data.meetingId,
    ...stillOpen,
    write: async (revision, meeting) => {
      let created: AttendeeRecord;
      try {
        const doc = await AttendeeModel.create({
          meetingId: data.meetingId,
          fullName: data.fullName,
          position: data.position ?? '',
          organization: data.organization ?? '',
          ...(data.email ? { email: data.email } : {}),
          phone: data.phone ?? '',
          siteId,
          role: data.role ?? 'delegate',
          revision,
        });
        created = doc.toObject() as AttendeeRecord;
      } catch (error) {
        throw asEmailRefusal(error, data.email);
      }
      // The site may have started being removed while we wrote: then this attendee goes again.
      if (!(await siteAcceptsAttendees(data.meetingId, siteId))) {
        await AttendeeModel.deleteOne({ _id: created._id });
        throw siteNotInMeeting();
      }
      // One more person expected at the site: screens following the day hear its counts.
      return { created, roster: await rosterAfterListChange(meeting) };
    },
    events: ({ created, roster }, revision, meeting) => [...countsEvents(meeting, roster, revision, [siteId]), attendeeEvent('attendee.created', created)],
  });
  return attendeeView(actor, result.created);
}

/** The chair sees the whole meeting, so only organizers make someone chair or stop them being it. */
function requireChairChangeAllowed(actor: Actor, from: string | undefined, to: string | undefined): void {
  if (to === undefined || to === from) return;
  if ((to === 'chair' || from === 'chair') && actor.kind !== 'organizer') throw new Forbidden('attendees.chairByOrganizer');
}

/**
 * Invitation e-mails carry the personal link: whoever sets the chair's address gets the chair's
 * link (the whole meeting) with the next invitation. Only organizers may, as for the role.
 */
function requireChairEmailChangeAllowed(actor: Actor, chair: { role: string; email?: string | null }, email: string | undefined): void {
  // The edit form sends every field: the address as it is (a phone changed) is not a change.
  const changes = email !== undefined && email !== (chair.email ?? '');
  if (changes && chair.role === 'chair' && actor.kind !== 'organizer') throw new Forbidden('attendees.chairEmailByOrganizer');
}

/**
 * Change some fields of an attendee. Organizers change anything; a coordinator changes people
 * of their own site (and cannot move them elsewhere); an attendee or the chair only their own
 * phone number.
 */
export async function updateAttendee(actor: Actor, input: unknown): Promise<AttendeeView> {
  const data = parseInput(updateSchema, input);
  const changes = Object.fromEntries(editableFields.filter((field) => data[field] !== undefined).map((field) => [field, data[field]])) as Partial<
    Record<(typeof editableFields)[number], string>
  >;
  requireMeetingViewer(actor, data.meetingId);
  if (Object.keys(changes).length === 0) throw new Invalid({}, 'attendees.noFields');
  const { stillOpen } = await requireOpenMeeting(actor, data.meetingId, closedKey);
  const attendee = await loadAttendee(data.meetingId, data.attendeeId);

  if (actor.kind === 'attendee' || actor.kind === 'chair') {
    if (actor.attendeeId !== data.attendeeId) throw new Forbidden();
    const others = Object.keys(changes).filter((field) => field !== 'phone');
    if (others.length > 0) throw new Forbidden('attendees.onlyOwnPhone');
  } else {
    requireSiteEditor(actor, data.meetingId, String(attendee.siteId));
    requireChairChangeAllowed(actor, attendee.role, changes.role);
    requireChairEmailChangeAllowed(actor, attendee, changes.email);
    if (changes.siteId && changes.siteId !== String(attendee.siteId)) {
      requireTargetSite(actor, data.meetingId, changes.siteId);
      await requireSiteInMeeting(data.meetingId, changes.siteId);
    }
  }
  if (changes.email && (await emailTaken(data.meetingId, changes.email, data.attendeeId))) throw emailRefused(changes.email);

  const set: Record<string, unknown> = {};
  const unset: Record<string, 1> = {};
  for (const [field, value] of Object.entries(changes)) {
    const current = field === 'siteId' ? String(attendee.siteId) : (attendee as Record<string, unknown>)[field];
    if (field === 'email' && value === '') {
      if (attendee.email) unset.email = 1;
    } else if ((current ?? '') !== value) {
      set[field] = field === 'siteId' ? new Types.ObjectId(value) : value;
    }
  }
  if (Object.keys(set).length === 0 && Object.keys(unset).length === 0) return attendeeView(actor, attendee);
  const merged = { ...attendee, ...set, ...(unset.email ? { email: undefined } : {}) } as AttendeeRecord;
  Object.assign(set, searchFields(merged));
  // A personal link belongs to its address: invitations mail it there, and the person's calendar
  // feed lists every meeting of the unit with that address. Whoever held the link for the old
  // address (it was mistyped, or an editor set their own to receive it) loses it and its feed;
  // the next invitation brings the new link to the new address.
  const addressChanged = 'email' in set || unset.email === 1;
  if (addressChanged) set.accessToken = newToken();

  const previousSiteId = String(attendee.siteId);
  const moved = 'siteId' in set;
  // Their attendance (if the day has begun for them) moves along, and its counts with the revision.
  const detached = moved ? await detachAttendance(data.meetingId, data.attendeeId, String(set.siteId)) : undefined;
  const counters = detached && Object.keys(detached.inc).length > 0 ? detached.inc : undefined;
  let claimed = false;
  try {
    detached?.inTime();
  } catch (error) {
    await detached?.undo();
    throw error;
  }
  const committing = commitMeetingChange({
    audit: { actor },
    meetingId: data.meetingId,
    ...stillOpen,
    ...(counters ? { update: { $inc: counters } } : {}),
    // Another bridge point is another LOCATION in this person's invite: SEQUENCE must move.
    calendar: moved,
    write: async (revision, meeting) => {
      claimed = true;
      let updated: AttendeeRecord;
      try {
        updated = await updateStamped(data.meetingId, data.attendeeId, revision, { $set: set, ...(unset.email ? { $unset: unset } : {}) });
      } catch (error) {
        throw asEmailRefusal(error, changes.email);
      }
      if (addressChanged) await CalendarFeedModel.updateOne({ scope: 'attendee', key: data.attendeeId }, { $unset: { token: 1 } });
      if ('organization' in set || 'role' in set) {
        // The attendance record counts under the attendee's organization and role (the report).
        await AttendanceModel.updateOne({ meetingId: updated.meetingId, attendeeId: updated._id }, { $set: { organization: updated.organization ?? '', role: updated.role } });
      }
      if (moved && !(await siteAcceptsAttendees(data.meetingId, updated.siteId))) {
        // The new site is being removed: put the person back where they were (their attendance
        // and its counts follow below).
        await AttendeeModel.updateOne({ _id: updated._id, revision }, { $set: { siteId: attendee.siteId } });
        throw siteNotInMeeting();
      }
      // Moved: both sites' headcounts change (who they expect, and what the attendance counted).
      return { updated, roster: moved ? await rosterAfterListChange(meeting) : undefined };
    },
    events: ({ updated, roster }, revision, meeting) => [
      ...countsEvents(meeting, roster, revision, [previousSiteId, String(updated.siteId)]),
      // linkChanged: the open tables' copy buttons hold a dead link now (the event never carries the secret).
      attendeeEvent('attendee.updated', updated, { ...(moved ? { previousSiteId } : {}), ...(addressChanged ? { linkChanged: true } : {}) }),
      // The site the person left hears only that they left: its room may no longer see their contacts.
      ...(moved
        ? [{ type: 'attendee.moved', siteId: previousSiteId, payload: { attendeeId: data.attendeeId, fromSiteId: previousSiteId, toSiteId: String(updated.siteId) } }]
        : []),
    ],
  });
  let result: AttendeeRecord;
  try {
    result = (await committing).result.updated;
  } catch (error) {
    // Not moved after all: the attendance goes back, and so do its counts if they were written
    // with the claimed revision (which then has no event: screens fill the gap with a snapshot).
    // The counts first, while the record is still marked: a recount meanwhile waits for both.
    if (claimed && counters) await MeetingModel.updateOne({ _id: data.meetingId }, { $inc: Object.fromEntries(Object.entries(counters).map(([key, value]) => [key, -value])) });
    await detached?.undo();
    throw error;
  }
  await detached?.done();
  return attendeeView(actor, result);
}

const moveSchema = z.object({ ...ids, siteId: objectId });

/** Assign an attendee to another bridge point of the same meeting (organizers only). */
export async function moveAttendeeToSite(actor: Actor, input: unknown): Promise<AttendeeView> {
  const data = parseInput(moveSchema, input);
  requireMeetingViewer(actor, data.meetingId);
  if (actor.kind !== 'organizer') throw new Forbidden();
  return updateAttendee(actor, data);
}

const idsSchema = z.object(ids);

export async function removeAttendee(actor: Actor, input: unknown): Promise<{ id: string; fullName: string }> {
  const data = parseInput(idsSchema, input);
  requireMeetingViewer(actor, data.meetingId);
  const attendee = await loadAttendee(data.meetingId, data.attendeeId);
  requireSiteEditor(actor, data.meetingId, String(attendee.siteId));
  const { stillOpen } = await requireOpenMeeting(actor, data.meetingId, closedKey);
  // Their attendance record goes with them, and what it counted at their site with the revision.
  const detached = await detachAttendance(data.meetingId, data.attendeeId, null);
  try {
    detached.inTime();
    await commitMeetingChange({
      audit: { actor },
      meetingId: data.meetingId,
      ...stillOpen,
      ...(Object.keys(detached.inc).length > 0 ? { update: { $inc: detached.inc } } : {}),
      write: async (_revision, meeting) => {
        const deleted = await AttendeeModel.deleteOne({ _id: attendee._id, meetingId: data.meetingId });
        if (deleted.deletedCount === 0) throw new NotFound('attendees.notFound');
        // One fewer expected there (and what they counted gone with the revision): screens hear it.
        return rosterAfterListChange(meeting);
      },
      events: (roster, revision, meeting) => [...countsEvents(meeting, roster, revision, [String(attendee.siteId)]), attendeeEvent('attendee.removed', attendee)],
    });
  } catch (error) {
    await detached.undo();
    throw error;
  }
  await detached.done();
  return { id: String(attendee._id), fullName: attendee.fullName };
}

/** Revoke the attendee's personal link by giving them a new one (organizers only). */
export async function rotateAccessToken(actor: Actor, input: unknown): Promise<AttendeeView> {
  const data = parseInput(idsSchema, input);
  requireMeetingViewer(actor, data.meetingId);
  if (actor.kind !== 'organizer') throw new Forbidden();
  // Allowed on a cancelled meeting too: a leaked link must be stoppable.
  await requireOpenMeeting(actor, data.meetingId, {});
  await loadAttendee(data.meetingId, data.attendeeId);
  const { result } = await commitMeetingChange({
    audit: { actor },
    meetingId: data.meetingId,
    write: async (revision) => {
      const updated = await updateStamped(data.meetingId, data.attendeeId, revision, { $set: { accessToken: newToken() } });
      // The calendar feed link made through the old link goes with it: whoever held that link
      // could read (and copy) the feed's address from the attendee's page.
      await CalendarFeedModel.updateOne({ scope: 'attendee', key: data.attendeeId }, { $unset: { token: 1 } });
      return updated;
    },
    events: (updated) => [attendeeEvent('attendee.updated', updated, { linkChanged: true })],
  });
  return attendeeView(actor, result);
}
