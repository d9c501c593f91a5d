// What screens read about attendance: one record as a view, a site's or the meeting's records.
import { Types } from 'mongoose';
import { AttendanceModel, type Attendance } from './model.js';
import { AttendeeModel } from '../attendees/model.js';
import type { AttendanceRecordView } from '../live/contract.js';

export interface AttendeeFacts {
  _id: Types.ObjectId;
  meetingId: Types.ObjectId;
  siteId: Types.ObjectId;
  fullName: string;
  position?: string | null;
  organization?: string | null;
  role?: string | null;
  walkIn?: boolean | null;
}

const iso = (value: Date | null | undefined) => (value ? new Date(value).toISOString() : null);

export function recordView(record: Partial<Attendance> & { revision?: number } | null, attendee: AttendeeFacts): AttendanceRecordView {
  const absence = record?.absence ?? null;
  return {
    attendeeId: String(attendee._id),
    siteId: String(record?.siteId ?? attendee.siteId),
    fullName: attendee.fullName,
    position: attendee.position ?? '',
    organization: attendee.organization ?? '',
    status: (record?.status ?? 'expected') as AttendanceRecordView['status'],
    presentAt: iso(record?.presentAt),
    leftAt: iso(record?.leftAt),
    late: Boolean(record?.late),
    walkIn: Boolean(record?.walkIn ?? attendee.walkIn),
    absence: absence ? { reason: absence.reason as 'sick', ...(absence.delegateName ? { delegateName: absence.delegateName } : {}), ...(absence.note ? { note: absence.note } : {}) } : null,
    changedBy: record?.changedBy ?? null,
    canUndo: (record?.history?.length ?? 0) > 0,
    revision: record?.revision ?? 0,
  };
}

/** Every attendee of the meeting (or of one site, or one person) with their attendance, sorted by name. */
export async function attendanceRecords(meetingId: string, scope: { siteId?: string; attendeeId?: string } = {}): Promise<AttendanceRecordView[]> {
  const filter: Record<string, unknown> = { meetingId: new Types.ObjectId(meetingId) };
  if (scope.siteId) filter.siteId = new Types.ObjectId(scope.siteId);
  if (scope.attendeeId) filter._id = new Types.ObjectId(scope.attendeeId);
  const recordFilter: Record<string, unknown> = { meetingId: filter.meetingId };
  if (scope.attendeeId) recordFilter.attendeeId = filter._id;
  else if (scope.siteId) recordFilter.siteId = filter.siteId;
  const [attendees, records] = await Promise.all([
    // One person needs no order (a sort made the store walk the meeting's name index, not _id).
    AttendeeModel.find(filter, { meetingId: 1, siteId: 1, fullName: 1, position: 1, organization: 1, walkIn: 1, searchText: 1 })
      .sort(scope.attendeeId ? {} : { searchText: 1 })
      .lean(),
    AttendanceModel.find(recordFilter, { codeFailures: 0, codeFailuresSince: 0 }).lean(),
  ]);
  const byAttendee = new Map(records.map((record) => [String(record.attendeeId), record]));
  return attendees.map((attendee) => recordView(byAttendee.get(String(attendee._id)) ?? null, attendee as AttendeeFacts));
}

/** How many latecomers a dashboard shows when it opens (the most recent; later ones arrive as events). */
export const latecomersShown = 200;

/**
 * The meeting's latecomers, most recent first, at most `latecomersShown`: what the organizer's
 * dashboard and the chair's view list. Reads only late records (an index on them) and those
 * attendees, so a 2,000-attendee meeting costs what its latecomers cost, not its list.
 */
export async function latecomerRecords(meetingId: string): Promise<AttendanceRecordView[]> {
  const id = new Types.ObjectId(meetingId);
  const records = await AttendanceModel.find({ meetingId: id, late: true }, { codeFailures: 0, codeFailuresSince: 0 }).sort({ presentAt: -1 }).limit(latecomersShown).lean();
  if (records.length === 0) return [];
  const attendees = await AttendeeModel.find({ meetingId: id, _id: { $in: records.map((record) => record.attendeeId) } }, { meetingId: 1, siteId: 1, fullName: 1, position: 1, organization: 1, walkIn: 1 }).lean();
  const byId = new Map(attendees.map((attendee) => [String(attendee._id), attendee]));
  return records.flatMap((record) => {
    const attendee = byId.get(String(record.attendeeId));
    return attendee ? [recordView(record, attendee as AttendeeFacts)] : [];
  });
}
