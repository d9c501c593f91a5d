// Every change an organizer can make to a meeting's agenda. Each validates, checks the actor,
// writes, bumps the meeting's revision and publishes "agenda.changed" with the full agenda.
import { z } from 'zod';
import { Types } from 'mongoose';
import './messages.js';
import { AgendaItemModel, agendaKinds } from './model.js';
import { loadAgenda, type AgendaItemView, type AgendaView } from './queries.js';
import { AttendeeModel } from '../attendees/model.js';
import { requireOpenMeeting, type OpenMeeting } from '../meetings/guard.js';
import { commitMeetingChange } from '../meetings/revision.js';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { Invalid, NotFound, type FieldMessages } from '../lib/errors.js';
import { decimalIntegerInput } from '../lib/input.js';
import { objectId, optionalText, requiredText, parseInput } from '../lib/validation.js';

const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/** Whole minutes, from a JSON number or a form string. */
const minutes = z.preprocess(
  decimalIntegerInput,
  z.number({ error: 'agenda.minutes.invalid' }).int('agenda.minutes.invalid').min(0, 'agenda.minutes.invalid').max(24 * 60, 'agenda.minutes.invalid'),
);

const kind = z.enum(agendaKinds, { error: 'agenda.kind.invalid' });

/** Either `{attendeeId}` (name and position are copied from the attendee) or `{name, position}`. */
const speakerInput = z
  .object({
    attendeeId: z.preprocess(emptyToUndefined, objectId.optional()),
    name: optionalText(200),
    position: optionalText(300),
  })
  .superRefine((speaker, ctx) => {
    if (!speaker.attendeeId && !speaker.name) ctx.addIssue({ code: 'custom', path: ['name'], message: 'error.required' });
  });

const speakers = z.array(speakerInput).max(30);
type SpeakerInput = z.infer<typeof speakerInput>;

const addSchema = z.object({
  meetingId: objectId,
  title: requiredText(300, 'agenda.title.required'),
  kind: kind.default('report'),
  plannedMinutes: minutes.default(15),
  notes: optionalText(10_000),
  speakers: speakers.default([]),
});

const updateSchema = z.object({
  meetingId: objectId,
  itemId: objectId,
  title: requiredText(300, 'agenda.title.required').optional(),
  kind: kind.optional(),
  plannedMinutes: minutes.optional(),
  // Present-but-empty notes clear them; absent notes stay as they are.
  notes: z.preprocess((value) => (typeof value === 'string' ? value.trim() : value), z.string().max(10_000).optional()),
  speakers: speakers.optional(),
});

const removeSchema = z.object({ meetingId: objectId, itemId: objectId });

const reorderSchema = z.object({ meetingId: objectId, orderedIds: z.array(objectId).max(500) });

export type AddAgendaItemInput = z.input<typeof addSchema>;
export type UpdateAgendaItemInput = z.input<typeof updateSchema>;
export type ReorderAgendaInput = z.input<typeof reorderSchema>;

export interface AgendaChange {
  item?: AgendaItemView;
  agenda: AgendaView;
}

/** A cancelled meeting's agenda is read-only until it is reinstated. */
const closedKey = 'agenda.meeting.closed';

/**
 * Attendee speakers must belong to the same meeting; their name and position are copied so the
 * agenda reads correctly without a join (and survives the attendee being removed later).
 */
async function resolveSpeakers(meetingId: string, input: SpeakerInput[]) {
  const ids = [...new Set(input.flatMap((speaker) => (speaker.attendeeId ? [speaker.attendeeId] : [])))];
  const attendees = ids.length
    ? await AttendeeModel.find({ _id: { $in: ids }, meetingId }).select({ fullName: 1, position: 1 }).lean()
    : [];
  const byId = new Map(attendees.map((attendee) => [String(attendee._id), attendee]));
  const fields: FieldMessages = {};
  const resolved = input.map((speaker, index) => {
    if (speaker.attendeeId) {
      const attendee = byId.get(speaker.attendeeId);
      if (!attendee) {
        fields[`speakers.${index}.attendeeId`] = { key: 'agenda.speaker.notInMeeting' };
        return { name: '', position: '' };
      }
      return { attendeeId: new Types.ObjectId(speaker.attendeeId), name: attendee.fullName, position: attendee.position ?? '' };
    }
    return { name: speaker.name ?? '', position: speaker.position ?? '' };
  });
  if (Object.keys(fields).length > 0) throw new Invalid(fields);
  return resolved;
}

/**
 * Claims the revision, runs `write` (stamped with it), then tells every screen the whole new
 * agenda, read after the write. The iCalendar SEQUENCE moves too: speakers' slot events change
 * time, and every invite's description lists the agenda.
 */
async function commitAgendaChange(actor: Actor, open: OpenMeeting, meetingId: string, write: (revision: number) => Promise<void>): Promise<AgendaView> {
  const { result } = await commitMeetingChange({
    meetingId,
    ...open.stillOpen,
    calendar: true,
    audit: { actor },
    write: async (revision) => {
      await write(revision);
      return loadAgenda(meetingId);
    },
    events: (agenda) => [{ type: 'agenda.changed', payload: agenda }],
  });
  return result;
}

async function itemOf(meetingId: string, itemId: string) {
  const item = await AgendaItemModel.findOne({ _id: itemId, meetingId }).select({ _id: 1 }).lean();
  if (!item) throw new NotFound('agenda.notFound');
  return item;
}

/** Appends an item to the end of the agenda. */
export async function addAgendaItem(actor: Actor, input: unknown): Promise<AgendaChange> {
  const data = parseInput(addSchema, input);
  requireOrganizer(actor);
  const open = await requireOpenMeeting(actor, data.meetingId, closedKey);
  const resolvedSpeakers = await resolveSpeakers(data.meetingId, data.speakers);
  const itemId = new Types.ObjectId();
  const agenda = await commitAgendaChange(actor, open, data.meetingId, async (revision) => {
    const last = await AgendaItemModel.findOne({ meetingId: data.meetingId }).sort({ order: -1 }).select({ order: 1 }).lean();
    await AgendaItemModel.create({
      _id: itemId,
      meetingId: data.meetingId,
      order: last ? last.order + 1 : 0,
      title: data.title,
      kind: data.kind,
      plannedMinutes: data.plannedMinutes,
      notes: data.notes ?? '',
      speakers: resolvedSpeakers,
      revision,
    });
  });
  return { item: agenda.items.find((item) => item.id === String(itemId)), agenda };
}

/** Changes any of title, kind, duration, notes and speakers; absent fields stay as they are. */
export async function updateAgendaItem(actor: Actor, input: unknown): Promise<AgendaChange> {
  const data = parseInput(updateSchema, input);
  requireOrganizer(actor);
  const open = await requireOpenMeeting(actor, data.meetingId, closedKey);
  await itemOf(data.meetingId, data.itemId);
  const set: Record<string, unknown> = {};
  if (data.title !== undefined) set.title = data.title;
  if (data.kind !== undefined) set.kind = data.kind;
  if (data.plannedMinutes !== undefined) set.plannedMinutes = data.plannedMinutes;
  if (data.notes !== undefined) set.notes = data.notes;
  if (data.speakers !== undefined) set.speakers = await resolveSpeakers(data.meetingId, data.speakers);
  if (Object.keys(set).length === 0) {
    // Nothing to change: no revision bump, no event.
    const agenda = await loadAgenda(data.meetingId);
    return { item: agenda.items.find((item) => item.id === data.itemId), agenda };
  }
  const agenda = await commitAgendaChange(actor, open, data.meetingId, async (revision) => {
    const updated = await AgendaItemModel.updateOne({ _id: data.itemId, meetingId: data.meetingId }, { $set: { ...set, revision } }, { runValidators: true });
    if (updated.matchedCount === 0) throw new NotFound('agenda.notFound');
  });
  return { item: agenda.items.find((item) => item.id === data.itemId), agenda };
}

/** Removes an item and closes the gap, so orders stay 0..n-1. */
export async function removeAgendaItem(actor: Actor, input: unknown): Promise<AgendaChange> {
  const data = parseInput(removeSchema, input);
  requireOrganizer(actor);
  const open = await requireOpenMeeting(actor, data.meetingId, closedKey);
  await itemOf(data.meetingId, data.itemId);
  const agenda = await commitAgendaChange(actor, open, data.meetingId, async (revision) => {
    const deleted = await AgendaItemModel.deleteOne({ _id: data.itemId, meetingId: data.meetingId });
    if (deleted.deletedCount === 0) throw new NotFound('agenda.notFound');
    const remaining = await AgendaItemModel.find({ meetingId: data.meetingId }).sort({ order: 1, _id: 1 }).select({ order: 1 }).lean();
    const renumber = remaining.flatMap((item, index) =>
      item.order === index ? [] : [{ updateOne: { filter: { _id: item._id, meetingId: data.meetingId }, update: { $set: { order: index, revision } } } }],
    );
    if (renumber.length > 0) await AgendaItemModel.bulkWrite(renumber, { ordered: true });
  });
  return { agenda };
}

/**
 * Puts the items in the given order. The list must name exactly the meeting's items, each once:
 * a stale or foreign list is refused whole, so nothing is half-reordered.
 */
export async function reorderAgenda(actor: Actor, input: unknown): Promise<AgendaChange> {
  const data = parseInput(reorderSchema, input);
  requireOrganizer(actor);
  const open = await requireOpenMeeting(actor, data.meetingId, closedKey);
  const current = await AgendaItemModel.find({ meetingId: data.meetingId }).select({ _id: 1 }).lean();
  const currentIds = new Set(current.map((item) => String(item._id)));
  const requested = data.orderedIds.map((id) => id.toLowerCase());
  const exact = requested.length === currentIds.size && new Set(requested).size === requested.length && requested.every((id) => currentIds.has(id));
  if (!exact) throw new Invalid({ orderedIds: { key: 'agenda.reorder.mismatch' } }, 'agenda.reorder.mismatch');
  const agenda = await commitAgendaChange(actor, open, data.meetingId, async (revision) => {
    if (requested.length === 0) return;
    await AgendaItemModel.bulkWrite(
      requested.map((id, index) => ({ updateOne: { filter: { _id: new Types.ObjectId(id), meetingId: new Types.ObjectId(data.meetingId) }, update: { $set: { order: index, revision } } } })),
      { ordered: true },
    );
  });
  return { agenda };
}

const moveSchema = z.object({ meetingId: objectId, itemId: objectId, direction: z.enum(['up', 'down'], { error: 'agenda.direction.invalid' }) });

/**
 * One step up or down (the no-JavaScript arrow buttons): swaps the item with its neighbour. The
 * first item moved up or the last moved down stays where it is (no revision, no event).
 */
export async function moveAgendaItem(actor: Actor, input: unknown): Promise<AgendaChange> {
  const data = parseInput(moveSchema, input);
  requireOrganizer(actor);
  const open = await requireOpenMeeting(actor, data.meetingId, closedKey);
  const ids = (await AgendaItemModel.find({ meetingId: data.meetingId }).sort({ order: 1, _id: 1 }).select({ _id: 1 }).lean()).map((item) => String(item._id));
  const from = ids.indexOf(data.itemId.toLowerCase());
  if (from < 0) throw new NotFound('agenda.notFound');
  const to = data.direction === 'up' ? from - 1 : from + 1;
  if (to < 0 || to >= ids.length) return { agenda: await loadAgenda(data.meetingId) };
  [ids[from], ids[to]] = [ids[to], ids[from]];
  const agenda = await commitAgendaChange(actor, open, data.meetingId, async (revision) => {
    await AgendaItemModel.bulkWrite(
      ids.map((id, index) => ({ updateOne: { filter: { _id: new Types.ObjectId(id), meetingId: new Types.ObjectId(data.meetingId) }, update: { $set: { order: index, revision } } } })),
      { ordered: true },
    );
  });
  return { item: agenda.items.find((item) => item.id === data.itemId.toLowerCase()), agenda };
}
