// Writes one audit entry for a committed change. Keyed by (meeting, revision) and inserted with
// $setOnInsert, so writing it twice (a retried commit) leaves exactly one entry.
import type { Types } from 'mongoose';
import { AuditEntryModel } from './model.js';
import type { Actor } from '../lib/actor.js';

export interface AuditNote {
  actor: Actor;
  /** A short detail for the trail (what was touched), optional. */
  detail?: string;
}

function actorRef(actor: Actor): { kind: string; id: string; name: string } {
  switch (actor.kind) {
    case 'anonymous':
      return { kind: 'anonymous', id: '', name: '' };
    case 'organizer':
      return { kind: 'organizer', id: actor.userId, name: actor.name };
    case 'coordinator':
      return { kind: 'coordinator', id: actor.siteId, name: actor.name };
    case 'chair':
    case 'attendee':
      return { kind: actor.kind, id: actor.attendeeId, name: actor.name };
  }
}

export async function recordAudit(meetingId: Types.ObjectId | string, revision: number, note: AuditNote, events: string[], at: Date = new Date()): Promise<void> {
  await AuditEntryModel.updateOne(
    { meetingId, revision },
    { $setOnInsert: { meetingId, revision, at, actor: actorRef(note.actor), events: [...new Set(events)], detail: (note.detail ?? '').slice(0, 300) } },
    { upsert: true },
  );
}
