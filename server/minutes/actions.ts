// The one change minutes allow: an organizer of the meeting's unit saves an agenda item's note.
// A save names the version it was typed on (`baseVersion`): on any other version it is a
// conflict the page shows, never a silent overwrite; a resend of a save whose answer was lost
// (same `saveId`) is recognized. Each save is one meeting revision, one stored version (history),
// one audit entry and a `minutes.changed` event for the organizers' screens.
import './messages.js';
import { z } from 'zod';
import { MinuteNoteModel, MinuteVersionModel, type MinuteNoteRecord } from './model.js';
import { loadAgendaItem, loadMinutesMeeting, noteView, type MinuteNoteView } from './queries.js';
import { requireOpen } from '../meetings/guard.js';
import { commitMeetingChange } from '../meetings/revision.js';
import type { Actor } from '../lib/actor.js';
import { Conflict, isDuplicateKeyError } from '../lib/errors.js';
import { objectId, parseInput } from '../lib/validation.js';

export const minutesTextMax = 50_000;

const saveSchema = z.object({
  meetingId: objectId,
  agendaItemId: objectId,
  text: z.string({ error: 'minutes.text.invalid' }).max(minutesTextMax, 'minutes.text.tooLong'),
  baseVersion: z.number({ error: 'minutes.baseVersion.invalid' }).int('minutes.baseVersion.invalid').min(0, 'minutes.baseVersion.invalid'),
  saveId: z.string({ error: 'minutes.saveId.invalid' }).regex(/^[\w:-]{8,100}$/, 'minutes.saveId.invalid'),
});

export interface SavedMinute extends MinuteNoteView {
  /** The save had already been stored (its answer was lost): nothing was written again. */
  replayed?: true;
}

export async function saveMinute(actor: Actor, input: unknown, now: Date = new Date()): Promise<SavedMinute> {
  const data = parseInput(saveSchema, input);
  const meeting = await loadMinutesMeeting(actor, data.meetingId);
  if (actor.kind !== 'organizer') throw new Error('unreachable: loadMinutesMeeting requires an organizer');
  const { stillOpen } = requireOpen(meeting, 'minutes.meeting.cancelled');
  const item = await loadAgendaItem(meeting._id, data.agendaItemId);
  const current = await MinuteNoteModel.findOne({ meetingId: meeting._id, agendaItemId: item._id }).lean<MinuteNoteRecord>();
  const currentVersion = current?.version ?? 0;
  if (currentVersion !== data.baseVersion) {
    // Not the version it was typed on: only this editor's own save, whose answer it never heard, may be built on.
    if (!current || current.saveId !== data.saveId || currentVersion !== data.baseVersion + 1) throw new Conflict('minutes.conflict');
    if (current.text === data.text) return { ...noteView(data.agendaItemId, current), replayed: true };
  } else if (current && current.text === data.text) {
    return noteView(data.agendaItemId, current);
  }
  const version = currentVersion + 1;
  const by = { id: actor.userId, name: actor.name };
  const { result } = await commitMeetingChange({
    meetingId: meeting._id,
    ...stillOpen,
    audit: { actor, detail: item.title },
    write: async (revision) => {
      const fields = { text: data.text, version, updatedAt: now, updatedBy: by, saveId: data.saveId, revision };
      try {
        if (!current) {
          await MinuteNoteModel.create({ meetingId: meeting._id, agendaItemId: item._id, ...fields });
        } else {
          const updated = await MinuteNoteModel.updateOne({ _id: current._id, version: currentVersion }, { $set: fields });
          if (updated.matchedCount !== 1) throw new Conflict('minutes.conflict');
        }
        await MinuteVersionModel.create({ meetingId: meeting._id, agendaItemId: item._id, version, text: data.text, at: now, by, revision });
      } catch (error) {
        // Another organizer's save of the same version got there first.
        if (isDuplicateKeyError(error)) throw new Conflict('minutes.conflict');
        throw error;
      }
      return noteView(data.agendaItemId, { text: data.text, version, updatedAt: now, updatedBy: by });
    },
    events: (note) => [{ type: 'minutes.changed', audience: 'organizers', payload: { action: 'save', note } }],
  });
  return result;
}
