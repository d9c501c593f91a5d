// What the minutes page and API read: every agenda item with its note, one note, and a note's
// versions (who wrote what and when). Organizers of the meeting's unit only.
import './messages.js';
import { Types } from 'mongoose';
import { MinuteNoteModel, MinuteVersionModel, type MinuteNoteRecord, type MinuteVersionRecord } from './model.js';
import { AgendaItemModel } from '../agenda/model.js';
import { loadMeetingFor } from '../meetings/guard.js';
import type { MeetingRecord } from '../meetings/revision.js';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { NotFound } from '../lib/errors.js';

export interface MinuteNoteView {
  agendaItemId: string;
  text: string;
  version: number;
  updatedAt: string | null;
  updatedBy: string;
}

export interface MinuteVersionView {
  version: number;
  text: string;
  at: string;
  by: string;
}

export interface MinutesItemView {
  id: string;
  order: number;
  title: string;
  kind: string;
  note: MinuteNoteView;
}

export function noteView(agendaItemId: string, note: Pick<MinuteNoteRecord, 'text' | 'version' | 'updatedAt' | 'updatedBy'> | null): MinuteNoteView {
  if (!note) return { agendaItemId, text: '', version: 0, updatedAt: null, updatedBy: '' };
  return { agendaItemId, text: note.text ?? '', version: note.version, updatedAt: note.updatedAt.toISOString(), updatedBy: note.updatedBy?.name ?? '' };
}

/** The meeting, for an organizer of its unit (NotFound for another unit's, Forbidden for link holders). */
export async function loadMinutesMeeting(actor: Actor, meetingId: string): Promise<MeetingRecord> {
  requireOrganizer(actor);
  return loadMeetingFor(actor, meetingId);
}

export async function loadAgendaItem(meetingId: Types.ObjectId | string, agendaItemId: string) {
  const item = Types.ObjectId.isValid(agendaItemId) ? await AgendaItemModel.findOne({ _id: agendaItemId, meetingId }, { title: 1, order: 1, kind: 1 }).lean() : null;
  if (!item) throw new NotFound('minutes.item.notFound');
  return item;
}

export async function getMinutes(actor: Actor, meetingId: string): Promise<{ meeting: MeetingRecord; items: MinutesItemView[] }> {
  const meeting = await loadMinutesMeeting(actor, meetingId);
  const [items, notes] = await Promise.all([
    AgendaItemModel.find({ meetingId: meeting._id }, { title: 1, order: 1, kind: 1 }).sort({ order: 1, _id: 1 }).lean(),
    MinuteNoteModel.find({ meetingId: meeting._id }).lean<MinuteNoteRecord[]>(),
  ]);
  const byItem = new Map(notes.map((note) => [String(note.agendaItemId), note]));
  return {
    meeting,
    items: items.map((item) => ({ id: String(item._id), order: item.order, title: item.title, kind: item.kind, note: noteView(String(item._id), byItem.get(String(item._id)) ?? null) })),
  };
}

export async function getMinuteNote(actor: Actor, meetingId: string, agendaItemId: string): Promise<MinuteNoteView> {
  const meeting = await loadMinutesMeeting(actor, meetingId);
  await loadAgendaItem(meeting._id, agendaItemId);
  const note = await MinuteNoteModel.findOne({ meetingId: meeting._id, agendaItemId }).lean<MinuteNoteRecord>();
  return noteView(agendaItemId, note);
}

/** Every saved version of one item's note, newest first. */
export async function getMinuteHistory(actor: Actor, meetingId: string, agendaItemId: string): Promise<{ meeting: MeetingRecord; item: { id: string; title: string }; versions: MinuteVersionView[] }> {
  const meeting = await loadMinutesMeeting(actor, meetingId);
  const item = await loadAgendaItem(meeting._id, agendaItemId);
  const versions = await MinuteVersionModel.find({ meetingId: meeting._id, agendaItemId }).sort({ version: -1 }).limit(500).lean<MinuteVersionRecord[]>();
  return {
    meeting,
    item: { id: agendaItemId, title: item.title },
    versions: versions.map((entry) => ({ version: entry.version, text: entry.text ?? '', at: entry.at.toISOString(), by: entry.by?.name ?? '' })),
  };
}
