// Every change an organizer can make to a meeting: create, edit, schedule/cancel/reinstate,
// duplicate last year's conference, delete a draft. Changes commit through ./revision.ts.
import './messages.js';
import { z } from 'zod';
import { DateTime } from 'luxon';
import { Types } from 'mongoose';
import { MeetingModel, meetingStatuses } from './model.js';
import { loadMeetingFor, requireOpenMeeting } from './guard.js';
import { commitMeetingChange } from './revision.js';
import { statusActions, transitions } from './capabilities.js';
import { SiteModel } from '../sites/model.js';
import { AttendeeModel } from '../attendees/model.js';
import { AgendaItemModel } from '../agenda/model.js';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { unitForNewMeeting } from '../units/actions.js';
import { Conflict, Invalid, type FieldMessages } from '../lib/errors.js';
import { publish } from '../lib/events.js';
import { defaultTimeZone, fromLocalInput, isTimeZone, toLocalInput } from '../lib/time.js';
import { newToken } from '../lib/text.js';
import { BoundedMap } from '../lib/bounded-map.js';
import { cleanName, decimalIntegerInput } from '../lib/input.js';
import { invalidFromZod, objectId, parseInput } from '../lib/validation.js';

export type { MeetingRecord } from './revision.js';
import type { MeetingRecord } from './revision.js';

const maxMinutes = 7 * 24 * 60;
const titleMax = 300;

// ---------------------------------------------------------------------------------------------
// Input schemas. Time fields are plain strings here; they are read in the meeting's time zone by
// `resolveTimes`, whose messages are merged with zod's so the user sees every problem at once.

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : value);
const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : text(value));
const timeString = z.preprocess(emptyToUndefined, z.string().max(40).optional());
const durationMinutes = z.preprocess(
  decimalIntegerInput,
  z.number({ error: 'meeting.durationMinutes.invalid' }).int('meeting.durationMinutes.invalid').min(1, 'meeting.durationMinutes.invalid').max(maxMinutes, 'meeting.durationMinutes.invalid').optional(),
);
const title = z.preprocess(cleanName, z.string({ error: 'meeting.title.required' }).min(1, 'meeting.title.required').max(titleMax, 'meeting.title.tooLong'));

const detailFields = {
  description: z.preprocess((value) => (value === undefined || value === null ? undefined : text(value)), z.string().max(10_000).optional()),
  organizingUnit: z.preprocess((value) => (value === undefined || value === null ? undefined : text(value)), z.string().max(300).optional()),
  timeZone: z.preprocess(emptyToUndefined, z.string().max(64).optional()),
  start: timeString,
  end: timeString,
  durationMinutes,
};

const createSchema = z.object({
  title,
  ...detailFields,
  status: z.preprocess(emptyToUndefined, z.enum(['draft', 'scheduled'], { error: 'meeting.status.invalid' }).default('draft')),
});

const updateSchema = z.object({
  meetingId: objectId,
  title: title.optional(),
  ...detailFields,
});

type TimeInput = { timeZone?: string; start?: string; end?: string; durationMinutes?: number };
type Times = { timeZone: string; startsAt: Date; endsAt: Date };

/**
 * Reads start/end (or duration) as wall-clock time in the meeting's zone. `current` supplies
 * what an edit leaves out: a new start alone moves the meeting and keeps its length.
 */
function resolveTimes(input: TimeInput, current: Times | undefined, fields: FieldMessages): Times | undefined {
  const timeZone = input.timeZone ?? current?.timeZone ?? defaultTimeZone;
  if (!isTimeZone(timeZone)) {
    fields.timeZone = { key: 'meeting.timeZone.invalid' };
    return undefined;
  }
  let startsAt = current?.startsAt;
  if (input.start !== undefined) {
    startsAt = fromLocalInput(input.start, timeZone);
    if (!startsAt) fields.start = { key: 'meeting.start.invalid' };
  } else if (!current) {
    fields.start = { key: 'meeting.start.required' };
  }
  let endsAt: Date | undefined;
  if (input.end !== undefined) {
    endsAt = fromLocalInput(input.end, timeZone);
    if (!endsAt) fields.end = { key: 'meeting.end.invalid' };
  } else if (input.durationMinutes !== undefined) {
    if (startsAt) endsAt = new Date(startsAt.getTime() + input.durationMinutes * 60_000);
  } else if (current && startsAt) {
    endsAt = new Date(startsAt.getTime() + (current.endsAt.getTime() - current.startsAt.getTime()));
  } else if (!current) {
    fields.end = { key: 'meeting.end.required' };
  }
  if (!startsAt || !endsAt) return undefined;
  if (endsAt.getTime() <= startsAt.getTime()) {
    fields[input.end !== undefined || input.durationMinutes === undefined ? 'end' : 'durationMinutes'] = { key: 'meeting.end.afterStart' };
    return undefined;
  }
  if (endsAt.getTime() - startsAt.getTime() > maxMinutes * 60_000) {
    fields.end = { key: 'meeting.end.tooLong' };
    return undefined;
  }
  return { timeZone, startsAt, endsAt };
}

/** zod's field messages (if any) plus the time messages, as one Invalid. */
function parseWithTimes<S extends z.ZodType>(schema: S, input: unknown, current?: Times): { data: z.output<S>; times: Times | undefined } {
  const result = schema.safeParse(input);
  const fields: FieldMessages = result.success ? {} : { ...invalidFromZod(result.error).fields };
  // Time messages are computed even when other fields failed, from whatever time input is readable.
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const timeInput: TimeInput = {};
  for (const key of ['timeZone', 'start', 'end', 'durationMinutes'] as const) {
    const field = detailFields[key].safeParse(raw[key]);
    if (field.success && field.data !== undefined) (timeInput as Record<string, unknown>)[key] = field.data;
  }
  const timeFields: FieldMessages = {};
  const times = resolveTimes(timeInput, current, timeFields);
  // A time field zod already refused counts as given: no second "required" message for its partner.
  const refused = new Set(Object.keys(fields));
  const dependsOnRefused = (path: string) => path === 'end' && (refused.has('durationMinutes') || refused.has('start') || refused.has('timeZone'));
  for (const [path, message] of Object.entries(timeFields)) if (!dependsOnRefused(path)) fields[path] ??= message;
  if (!result.success || Object.keys(fields).length > 0) throw new Invalid(fields);
  return { data: result.data, times };
}

// ---------------------------------------------------------------------------------------------

export async function createMeeting(actor: Actor, input: unknown): Promise<MeetingRecord> {
  const { data, times } = parseWithTimes(createSchema, input);
  requireOrganizer(actor);
  const unit = await unitForNewMeeting(actor, (input as { unitId?: unknown } | null)?.unitId, data.organizingUnit);
  const created = await MeetingModel.create({
    title: data.title,
    description: data.description ?? '',
    organizingUnit: data.organizingUnit || unit.name,
    unitId: unit._id,
    timeZone: times!.timeZone,
    startsAt: times!.startsAt,
    endsAt: times!.endsAt,
    status: data.status,
    createdBy: actor.userId,
  });
  const meeting = created.toObject() as MeetingRecord;
  publish({ type: 'meeting.created', meetingId: String(meeting._id), revision: meeting.revision, payload: meetingEventPayload(meeting) });
  return meeting;
}

/** A cancelled or ended meeting's own details are read-only. */
const closedForEdits = { cancelled: 'meeting.cancelled.readonly', ended: 'meeting.ended.readonly' };

/**
 * Edit title, description, organizing unit, times or time zone. Changes that show in a calendar
 * invite (title, description, times) bump the iCalendar SEQUENCE so calendars update in place.
 */
export async function updateMeeting(actor: Actor, input: unknown): Promise<MeetingRecord> {
  const { meetingId } = parseInput(z.object({ meetingId: objectId }), input);
  requireOrganizer(actor);
  const { meeting: current, stillOpen } = await requireOpenMeeting(actor, meetingId, closedForEdits);
  // Times are read in the meeting's zone (or the new one), so the full parse needs the meeting.
  const { data, times } = parseWithTimes(updateSchema, input, current);

  const set: Partial<MeetingRecord> = {};
  if (data.title !== undefined) set.title = data.title;
  if (data.description !== undefined) set.description = data.description;
  if (data.organizingUnit !== undefined) set.organizingUnit = data.organizingUnit;
  if (times) Object.assign(set, times);

  const changed = (Object.keys(set) as Array<keyof MeetingRecord>).filter((key) => !sameValue(set[key], current[key]));
  if (changed.length === 0) return current;
  const calendarRelevant = changed.some((key) => ['title', 'description', 'startsAt', 'endsAt', 'timeZone'].includes(key));

  const { meeting } = await commitMeetingChange({
    audit: { actor },
    meetingId: current._id,
    ...stillOpen,
    update: { $set: set },
    calendar: calendarRelevant,
    events: (_result, _revision, updated) => [{ type: 'meeting.updated', payload: { ...meetingEventPayload(updated), changed } }],
  });
  return meeting;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}

// ---------------------------------------------------------------------------------------------

export { statusActions, type StatusAction } from './capabilities.js';

const statusSchema = z.object({
  meetingId: objectId,
  action: z.enum(statusActions, { error: 'meeting.statusAction.invalid' }),
});

export async function setMeetingStatus(actor: Actor, input: unknown): Promise<MeetingRecord> {
  const { meetingId, action } = parseInput(statusSchema, input);
  requireOrganizer(actor);
  await requireOpenMeeting(actor, meetingId, {});
  const transition = transitions[action];
  const { meeting } = await commitMeetingChange({
    audit: { actor },
    meetingId,
    when: { status: { $in: transition.from } },
    rejected: (current) => new Conflict(`meeting.transition.refused.${current.status}`, { from: current.status }),
    update: { $set: { status: transition.to } },
    calendar: transition.bumpsCalendar,
    events: (_result, _revision, updated) => [{ type: 'meeting.updated', payload: { ...meetingEventPayload(updated), changed: ['status'] } }],
  });
  return meeting;
}

// ---------------------------------------------------------------------------------------------

const duplicateSchema = z.object({
  meetingId: objectId,
  title: z.preprocess(emptyToUndefined, z.string().max(titleMax, 'meeting.title.tooLong').optional()),
  start: timeString,
  copyAttendees: z.preprocess((value) => value === true || value === 'true' || value === 'on' || value === '1', z.boolean()),
});

/** Last year's title with its years moved along: "năm 2021" -> "năm 2022" for a one-year shift. */
export function shiftYearsInTitle(title: string, years: number): string {
  if (years === 0) return title;
  return title.replace(/\b(19|20)\d{2}\b/g, (year) => String(Number(year) + years));
}

/**
 * The default new start of a duplicate: the same wall-clock date and time on the next anniversary
 * that is still ahead of `now` (a copy of the 2021 demo made in 2026 defaults to 2026 or 2027, not 2022).
 */
export function defaultDuplicateStart(meeting: Pick<MeetingRecord, 'startsAt' | 'timeZone'>, now: Date = new Date()): string {
  return nextAnniversary(meeting, now).start;
}

/** What the duplicate form starts from: the next anniversary, and the title with its years moved along. */
export function duplicateDefaults(meeting: Pick<MeetingRecord, 'title' | 'startsAt' | 'timeZone'>, now: Date = new Date()): { start: string; title: string } {
  const { start, years } = nextAnniversary(meeting, now);
  return { start, title: shiftYearsInTitle(meeting.title, years) };
}

interface Anniversary {
  /** Its start as a local date and time in the meeting's zone. */
  start: string;
  /** Years after the meeting. */
  years: number;
  /** The instants between which it stays the next one: from when it was worked out until it passes. */
  from: number;
  until: number;
}

// Every dashboard view shows the duplicate form: its zone arithmetic cost 80 µs of a 1.2 ms page.
// The answer only changes when the anniversary passes (a year's turn in the meeting's zone moves
// the first anniversary tried to that year, which is never after the one already found).
const anniversaries = new BoundedMap<string, Anniversary>(1_000);

function nextAnniversary(meeting: Pick<MeetingRecord, 'startsAt' | 'timeZone'>, now: Date): Anniversary {
  const key = `${meeting.startsAt.getTime()}|${meeting.timeZone}`;
  const at = now.getTime();
  const known = anniversaries.get(key);
  if (known && known.from <= at && at < known.until) return known;
  const original = DateTime.fromJSDate(meeting.startsAt, { zone: meeting.timeZone });
  const today = DateTime.fromJSDate(now, { zone: meeting.timeZone });
  let years = Math.max(1, today.year - original.year);
  let next = original.plus({ years });
  while (next.toMillis() <= at) {
    years += 1;
    next = original.plus({ years });
  }
  const anniversary = { start: toLocalInput(next.toJSDate(), meeting.timeZone), years, from: at, until: next.toMillis() };
  anniversaries.set(key, anniversary);
  return anniversary;
}

/** The meeting for its edit form: organizers only, and refused (Conflict) once cancelled or ended. */
export async function getMeetingForEdit(actor: Actor, meetingId: string): Promise<MeetingRecord> {
  requireOrganizer(actor);
  return (await requireOpenMeeting(actor, meetingId, closedForEdits)).meeting;
}

/** Attendees are copied this many at a time, yielding between batches (see `copyAttendees`). */
export const duplicateBatchSize = 500;

/**
 * Copy a meeting as a new draft: sites (new coordinator links), agenda, and optionally attendees
 * (new personal links). Speakers keep their attendee link only when the attendees were copied.
 *
 * The copy is written under a fresh id that nothing shows yet, and the meeting document itself
 * is created last: that one insert stores the new meeting with its revision and makes it visible,
 * so an organizer never sees (or opens invitations for) a meeting whose attendee list is still
 * being copied. A failure on the way removes everything written under the new id and reports the
 * error, as if the copy had never been asked for.
 */
export async function duplicateMeeting(actor: Actor, input: unknown): Promise<MeetingRecord> {
  const data = parseInput(duplicateSchema, input);
  requireOrganizer(actor);
  const source = await loadMeetingFor(actor, data.meetingId);
  const fields: FieldMessages = {};
  const startsAt = data.start === undefined ? fromLocalInput(defaultDuplicateStart(source), source.timeZone) : fromLocalInput(data.start, source.timeZone);
  if (!startsAt) fields.start = { key: 'meeting.start.invalid' };
  if (Object.keys(fields).length > 0) throw new Invalid(fields);
  const shiftedYears = DateTime.fromJSDate(startsAt!, { zone: source.timeZone }).year - DateTime.fromJSDate(source.startsAt, { zone: source.timeZone }).year;

  const [sites, agendaItems] = await Promise.all([
    SiteModel.find({ meetingId: source._id }).sort({ order: 1 }).lean(),
    AgendaItemModel.find({ meetingId: source._id }).sort({ order: 1 }).lean(),
  ]);

  const meetingId = new Types.ObjectId();
  const siteIds = new Map(sites.map((site) => [String(site._id), new Types.ObjectId()]));
  // Only the attendees the agenda names as speakers need their copy's id remembered.
  const speakerIds = new Map<string, Types.ObjectId | undefined>();
  for (const item of agendaItems) for (const speaker of item.speakers) if (speaker.attendeeId) speakerIds.set(String(speaker.attendeeId), undefined);
  try {
    if (sites.length > 0) {
      await SiteModel.insertMany(
        sites.map((site) => ({
          _id: siteIds.get(String(site._id)),
          meetingId,
          name: site.name,
          address: site.address,
          isMain: site.isMain,
          coordinatorName: site.coordinatorName,
          coordinatorPhone: site.coordinatorPhone,
          expectedHeadcount: site.expectedHeadcount,
          videoLink: site.videoLink,
          order: site.order,
          coordinatorToken: newToken(),
        })),
      );
    }
    if (data.copyAttendees && siteIds.size > 0) await copyAttendees(source._id, meetingId, siteIds, speakerIds);
    if (agendaItems.length > 0) {
      await AgendaItemModel.insertMany(
        agendaItems.map((item) => ({
          meetingId,
          order: item.order,
          title: item.title,
          kind: item.kind,
          plannedMinutes: item.plannedMinutes,
          notes: item.notes,
          speakers: item.speakers.map((speaker) => {
            const copiedId = speaker.attendeeId ? speakerIds.get(String(speaker.attendeeId)) : undefined;
            return { name: speaker.name, position: speaker.position, ...(copiedId ? { attendeeId: copiedId } : {}) };
          }),
        })),
      );
    }
    const created = await MeetingModel.create({
      _id: meetingId,
      title: data.title ?? shiftYearsInTitle(source.title, shiftedYears),
      description: source.description,
      organizingUnit: source.organizingUnit,
      unitId: source.unitId,
      timeZone: source.timeZone,
      startsAt: startsAt!,
      endsAt: new Date(startsAt!.getTime() + (source.endsAt.getTime() - source.startsAt.getTime())),
      status: 'draft',
      createdBy: actor.userId,
      duplicatedFrom: source._id,
    });
    const meeting = created.toObject() as MeetingRecord;
    publish({ type: 'meeting.created', meetingId: String(meetingId), revision: meeting.revision, payload: meetingEventPayload(meeting) });
    return meeting;
  } catch (error) {
    // Nothing half-saved: remove whatever part of the copy was written.
    await Promise.allSettled([
      AgendaItemModel.deleteMany({ meetingId }),
      AttendeeModel.deleteMany({ meetingId }),
      SiteModel.deleteMany({ meetingId }),
      MeetingModel.deleteOne({ _id: meetingId }),
    ]);
    throw error;
  }
}

/**
 * The source's attendees into the copy, `duplicateBatchSize` at a time through a cursor, each with
 * a new personal link, yielding to the event loop between batches: one insert of thousands of
 * documents would hold up every other request for seconds. Attendance and check-ins are not
 * attendee fields and stay behind; an attendee left on a removed site is not copied.
 */
async function copyAttendees(sourceId: Types.ObjectId, meetingId: Types.ObjectId, siteIds: Map<string, Types.ObjectId>, speakerIds: Map<string, Types.ObjectId | undefined>): Promise<void> {
  const cursor = AttendeeModel.find({ meetingId: sourceId })
    .select({ fullName: 1, position: 1, organization: 1, email: 1, phone: 1, siteId: 1, role: 1 })
    .sort({ _id: 1 })
    .lean()
    .cursor({ batchSize: duplicateBatchSize });
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const copies = batch;
    batch = [];
    await AttendeeModel.insertMany(copies);
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  try {
    for await (const attendee of cursor) {
      const siteId = siteIds.get(String(attendee.siteId));
      if (!siteId) continue;
      const _id = new Types.ObjectId();
      if (speakerIds.has(String(attendee._id))) speakerIds.set(String(attendee._id), _id);
      batch.push({
        _id,
        meetingId,
        fullName: attendee.fullName,
        position: attendee.position,
        organization: attendee.organization,
        ...(attendee.email ? { email: attendee.email } : {}),
        phone: attendee.phone,
        siteId,
        role: attendee.role,
        accessToken: newToken(),
      });
      if (batch.length >= duplicateBatchSize) await flush();
    }
    await flush();
  } finally {
    await cursor.close();
  }
}

// ---------------------------------------------------------------------------------------------

const deleteSchema = z.object({ meetingId: objectId });

/** Drafts only (a scheduled meeting is cancelled instead, so invites can be withdrawn). */
export async function deleteMeeting(actor: Actor, input: unknown): Promise<void> {
  const { meetingId } = parseInput(deleteSchema, input);
  requireOrganizer(actor);
  const notDraft = Object.fromEntries(meetingStatuses.filter((status) => status !== 'draft').map((status) => [status, 'meeting.delete.notDraft']));
  const { stillOpen } = await requireOpenMeeting(actor, meetingId, notDraft);
  // The last revision is claimed and stored like any change's, then the meeting is deleted only
  // if nothing claimed a later one meanwhile: the event carries a revision that was stored.
  await commitMeetingChange({
    meetingId,
    ...stillOpen,
    write: async (revision) => {
      const deleted = await MeetingModel.deleteOne({ _id: meetingId, revision, status: 'draft' });
      if (deleted.deletedCount === 0) throw new Conflict('error.changedMeanwhile');
      await Promise.all([AgendaItemModel.deleteMany({ meetingId }), AttendeeModel.deleteMany({ meetingId }), SiteModel.deleteMany({ meetingId })]);
    },
    events: () => [{ type: 'meeting.deleted', payload: { id: meetingId } }],
  });
}

/** What realtime clients get about a meeting: nothing secret, nothing site-private. */
export function meetingEventPayload(meeting: MeetingRecord) {
  return {
    id: String(meeting._id),
    title: meeting.title,
    status: meeting.status,
    startsAt: meeting.startsAt.toISOString(),
    endsAt: meeting.endsAt.toISOString(),
    timeZone: meeting.timeZone,
    calendarSequence: meeting.calendarSequence,
  };
}
