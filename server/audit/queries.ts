// What the audit page and API read: a meeting's entries, newest first, a page at a time, for
// organizers of the meeting's unit only (another unit's organizer is told it does not exist).
import './messages.js';
import { AuditEntryModel, type AuditEntryRecord } from './model.js';
import { loadMeetingFor } from '../meetings/guard.js';
import type { MeetingRecord } from '../meetings/revision.js';
import { recountActor, requireOrganizer, type Actor } from '../lib/actor.js';

export const auditPageSize = 50;

export interface AuditEntryView {
  revision: number;
  at: Date;
  actor: { kind: string; id: string; name: string };
  events: string[];
  detail: string;
}

export interface AuditPage {
  meeting: MeetingRecord;
  entries: AuditEntryView[];
  page: number;
  pageCount: number;
  total: number;
}

export async function getAuditTrail(actor: Actor, meetingId: string, options: { page?: unknown; pageSize?: number } = {}): Promise<AuditPage> {
  requireOrganizer(actor);
  const meeting = await loadMeetingFor(actor, meetingId);
  const pageSize = options.pageSize ?? auditPageSize;
  const asked = Number.parseInt(String(options.page ?? '1'), 10);
  const total = await AuditEntryModel.countDocuments({ meetingId: meeting._id });
  const pageCount = Math.max(1, Math.ceil(total / pageSize));
  const page = Number.isFinite(asked) && asked >= 1 ? Math.min(asked, pageCount) : 1;
  const rows = await AuditEntryModel.find({ meetingId: meeting._id })
    .sort({ revision: -1 })
    .skip((page - 1) * pageSize)
    .limit(pageSize)
    .lean<AuditEntryRecord[]>();
  return {
    meeting,
    page,
    pageCount,
    total,
    entries: rows.map((row) => ({ revision: row.revision, at: row.at, actor: row.actor?.id === 'system' /* lib/actor.ts systemActor: the demo seed */ ? { kind: 'system', id: '', name: '' } : row.actor?.id === recountActor.userId ? { kind: 'recount', id: '', name: '' } : { kind: row.actor?.kind ?? 'anonymous', id: row.actor?.id ?? '', name: row.actor?.name ?? '' }, events: row.events ?? [], detail: row.detail ?? '' })),
  };
}
