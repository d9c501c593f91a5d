// Every change to a meeting's attendee list: create, edit (one field inline or the whole
// record), remove, move to another site, and rotate the personal link. Import lives in import.ts.
import './messages.js';
import { Types } from 'mongoose';
import { z } from 'zod';
import { requireMeetingViewer, type Actor } from '../lib/actor.js';
import { Forbidden, Invalid, NotFound, isDuplicateKeyError } from '../lib/errors.js';
import { publish } from '../lib/events.js';
import { newToken } from '../lib/text.js';
import { objectId, parseInput } from '../lib/validation.js';
import { bumpRevision } from '../meetings/actions.js';
import { requireOpenMeeting } from '../meetings/queries.js';
import { SiteModel } from '../sites/model.js';
import { AttendeeModel, attendeeRoles, type AttendeeDocument } from './model.js';
import { attendeeEventView, attendeeView, type AttendeeView } from './queries.js';

// ---------------------------------------------------------------------------------------------
// Field schemas, shared with the import so a row is valid exactly when the form would accept it.

export const phonePattern = /^\+?[\d\s().-]{6,20}$/;

const trimmed = (value: unknown) => (typeof value === 'string' ? value.normalize('NFC').trim() : value);
const nullToEmpty = (value: unknown) => (value === null ? '' : value);

export const fieldSchemas = {
  fullName: z.preprocess(trimmed, z.string({ error: 'attendees.fullName.required' }).min(1, 'attendees.fullName.required').max(200)),
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

/** Who may add or change people at `siteId`: organizers anywhere, a coordinator at their own site. */
function canEditSite(actor: Actor, meetingId: string, siteId: string): boolean {
  requireMeetingViewer(actor, meetingId);
  return actor.kind === 'organizer' || (actor.kind === 'coordinator' && actor.siteId === siteId);
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

async function requireSiteInMeeting(meetingId: string, siteId: string): Promise<void> {
  if (!(await SiteModel.exists({ _id: siteId, meetingId }))) throw new Invalid({ siteId: { key: 'attendees.site.notInMeeting' } });
}

async function loadAttendee(meetingId: string, attendeeId: string): Promise<AttendeeDocument> {
  const attendee = await AttendeeModel.findOne({ _id: attendeeId, meetingId });
  if (!attendee) throw new NotFound('attendees.notFound');
  return attendee;
}

/** The unique (meeting, email) index is the truth under races; its refusal is a field message. */
async function saveWithUniqueEmail(attendee: AttendeeDocument): Promise<void> {
  try {
    await attendee.save();
  } catch (error) {
    if (isDuplicateKeyError(error) && !('accessToken' in (error.keyPattern ?? {}))) {
      throw new Invalid({ email: { key: 'attendees.email.taken', params: { email: attendee.email ?? '' } } });
    }
    throw error;
  }
}

async function emailTaken(meetingId: string, email: string, exceptId?: string): Promise<boolean> {
  const filter: Record<string, unknown> = { meetingId, email };
  if (exceptId) filter._id = { $ne: new Types.ObjectId(exceptId) };
  return Boolean(await AttendeeModel.exists(filter));
}

async function announce(type: string, attendee: AttendeeDocument, extra: Record<string, unknown> = {}): Promise<number> {
  const revision = await bumpRevision(String(attendee.meetingId));
  publish({
    type,
    meetingId: String(attendee.meetingId),
    revision,
    siteId: String(attendee.siteId),
    payload: { attendee: attendeeEventView(attendee.toObject()), ...extra },
  });
  return revision;
}

// ---------------------------------------------------------------------------------------------
// Actions.

export async function createAttendee(actor: Actor, input: unknown): Promise<AttendeeView> {
  const data = parseInput(createSchema, input);
  requireMeetingViewer(actor, data.meetingId);
  await requireListOpen(data.meetingId);
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
  if (data.email && (await emailTaken(data.meetingId, data.email))) {
    throw new Invalid({ email: { key: 'attendees.email.taken', params: { email: data.email } } });
  }
  const attendee = new AttendeeModel({
    meetingId: data.meetingId,
    fullName: data.fullName,
    position: data.position ?? '',
    organization: data.organization ?? '',
    ...(data.email ? { email: data.email } : {}),
    phone: data.phone ?? '',
    siteId,
    role: data.role ?? 'delegate',
  });
  await saveWithUniqueEmail(attendee);
  await announce('attendee.created', attendee);
  return attendeeView(actor, attendee.toObject());
}

/**
 * Change some fields of an attendee. Organizers change anything; a coordinator changes people
 * of their own site (and cannot move them elsewhere); an attendee or the chair only their own
 * phone number.
 */
/** A cancelled meeting's list is read-only until it is reinstated, like its sites and agenda. */
const requireListOpen = (meetingId: string) => requireOpenMeeting(meetingId, 'attendees.meeting.closed');

/** The chair sees the whole meeting, so only organizers make someone chair or stop them being it. */
function requireChairChangeAllowed(actor: Actor, from: string | undefined, to: string | undefined): void {
  if (to === undefined || to === from) return;
  if ((to === 'chair' || from === 'chair') && actor.kind !== 'organizer') throw new Forbidden('attendees.chairByOrganizer');
}

export async function updateAttendee(actor: Actor, input: unknown): Promise<AttendeeView> {
  const data = parseInput(updateSchema, input);
  const changes = Object.fromEntries(editableFields.filter((field) => data[field] !== undefined).map((field) => [field, data[field]])) as Partial<
    Record<(typeof editableFields)[number], string>
  >;
  requireMeetingViewer(actor, data.meetingId);
  if (Object.keys(changes).length === 0) throw new Invalid({}, 'attendees.noFields');
  await requireListOpen(data.meetingId);
  const attendee = await loadAttendee(data.meetingId, data.attendeeId);

  if (actor.kind === 'attendee' || actor.kind === 'chair') {
    if (actor.attendeeId !== data.attendeeId) throw new Forbidden();
    const others = Object.keys(changes).filter((field) => field !== 'phone');
    if (others.length > 0) throw new Forbidden('attendees.onlyOwnPhone');
  } else {
    requireSiteEditor(actor, data.meetingId, String(attendee.siteId));
    requireChairChangeAllowed(actor, attendee.role, changes.role);
    if (changes.siteId && changes.siteId !== String(attendee.siteId)) {
      requireTargetSite(actor, data.meetingId, changes.siteId);
      await requireSiteInMeeting(data.meetingId, changes.siteId);
    }
  }
  if (changes.email && (await emailTaken(data.meetingId, changes.email, data.attendeeId))) {
    throw new Invalid({ email: { key: 'attendees.email.taken', params: { email: changes.email } } });
  }

  const previousSiteId = String(attendee.siteId);
  for (const [field, value] of Object.entries(changes)) {
    if (field === 'email') attendee.set('email', value === '' ? undefined : value);
    else attendee.set(field, value);
  }
  if (!attendee.isModified()) return attendeeView(actor, attendee.toObject());
  await saveWithUniqueEmail(attendee);
  const moved = previousSiteId !== String(attendee.siteId);
  const revision = await announce('attendee.updated', attendee, moved ? { previousSiteId } : {});
  if (moved) {
    // The site the person left hears only that they left: its room may no longer see their contacts.
    publish({ type: 'attendee.moved', meetingId: data.meetingId, revision, siteId: previousSiteId, payload: { attendeeId: data.attendeeId, fromSiteId: previousSiteId, toSiteId: String(attendee.siteId) } });
  }
  return attendeeView(actor, attendee.toObject());
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
  await requireListOpen(data.meetingId);
  await AttendeeModel.deleteOne({ _id: attendee._id, meetingId: data.meetingId });
  await announce('attendee.removed', attendee);
  return { id: String(attendee._id), fullName: attendee.fullName };
}

/** Revoke the attendee's personal link by giving them a new one (organizers only). */
export async function rotateAccessToken(actor: Actor, input: unknown): Promise<AttendeeView> {
  const data = parseInput(idsSchema, input);
  requireMeetingViewer(actor, data.meetingId);
  if (actor.kind !== 'organizer') throw new Forbidden();
  const attendee = await loadAttendee(data.meetingId, data.attendeeId);
  attendee.accessToken = newToken();
  await attendee.save();
  await announce('attendee.updated', attendee);
  return attendeeView(actor, attendee.toObject());
}
