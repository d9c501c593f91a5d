import { Schema, model, type InferSchemaType } from 'mongoose';
import { absenceReasons, attendanceStatuses } from '../live/contract.js';

const absenceSchema = new Schema(
  {
    reason: { type: String, enum: absenceReasons, required: true },
    delegateName: { type: String },
    note: { type: String },
  },
  { _id: false },
);

/** One state of a record, kept so `undo` can step back. */
const stateFields = {
  status: { type: String, enum: attendanceStatuses, required: true, default: 'expected' },
  presentAt: { type: Date, default: null },
  leftAt: { type: Date, default: null },
  late: { type: Boolean, default: false },
  absence: { type: absenceSchema, default: null },
  changedBy: { type: String, default: null },
};

const previousStateSchema = new Schema(stateFields, { _id: false });

/** One attendee's attendance at the meeting; created at their first change (none means expected). */
const attendanceSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, required: true },
    attendeeId: { type: Schema.Types.ObjectId, required: true },
    /** The site the change was counted at (the attendee's site when it happened). */
    siteId: { type: Schema.Types.ObjectId, required: true },
    walkIn: { type: Boolean, default: false },
    /**
     * The attendee's organization ('' when none) and role, kept in step with the attendee (set when
     * the record is created, and by attendees/actions.ts when either changes): the attendance
     * report counts records per organization and role from an index, without reading attendees.
     * Absent on records written before they were kept (the report joins those to their attendee).
     */
    organization: { type: String },
    role: { type: String },
    ...stateFields,
    changedAt: { type: Date, default: null },
    /** Earlier states, newest last (at most 20). */
    history: { type: [previousStateSchema], default: [] },
    /** Compare-and-set guard: every change moves it by one, so two changes never both apply. */
    version: { type: Number, required: true, default: 0 },
    /** The meeting revision of the last change (stale writes check `revision: { $lt: R }`). */
    revision: { type: Number, required: true, default: 0 },
    /**
     * Set with a change of the record, cleared once the site's counters have moved with it: a
     * process that died in between leaves it set, and attendance/recount.ts counts the site again.
     * While it is set no other change of this person starts (one change at a time per person).
     */
    pendingSince: { type: Date, default: null },
    /**
     * Set with `pendingSince` while the attendee moves to another site (attendance/actions.ts
     * detachAttendance): the site the record left, whose counters have not moved yet either. A
     * recount of that site waits for it too, and a dead process's move is settled at both sites.
     */
    movingFrom: { type: Schema.Types.ObjectId, default: null },
    /** Wrong self check-in codes in the current window. */
    codeFailures: { type: Number, default: 0 },
    codeFailuresSince: { type: Date, default: null },
  },
  { timestamps: true },
);

attendanceSchema.index({ meetingId: 1, attendeeId: 1 }, { unique: true });
attendanceSchema.index({ meetingId: 1, siteId: 1 });
// The attendance report's counts per site, organization, role and state, read from this index
// alone (the store's covered $group: server/embedded-mongo/covered-group.ts), not from the records.
attendanceSchema.index({ meetingId: 1, siteId: 1, organization: 1, role: 1, status: 1, late: 1, walkIn: 1, 'absence.reason': 1 });
// The dashboard's latecomers (attendance/queries.ts latecomerRecords), without reading everyone's records.
attendanceSchema.index({ meetingId: 1, late: 1, presentAt: -1 });
// Changes whose count never happened (attendance/recount.ts), without reading every record.
attendanceSchema.index({ pendingSince: 1 }, { partialFilterExpression: { pendingSince: { $type: 'date' } } });

export type Attendance = InferSchemaType<typeof attendanceSchema>;
export const AttendanceModel = model('Attendance', attendanceSchema);
