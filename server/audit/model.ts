// The audit trail: one entry per committed meeting change, keyed by meeting and revision, saying
// who made it and which events it announced. Written by commitMeetingChange (meetings/revision.ts).
import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

const auditEntrySchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    /** The meeting revision the change claimed: at most one entry per revision. */
    revision: { type: Number, required: true },
    at: { type: Date, required: true },
    actor: {
      kind: { type: String, required: true },
      /** User id, attendee id or site id, by kind. */
      id: { type: String, default: '' },
      name: { type: String, default: '' },
    },
    /** The event types the change published ("agenda.changed", "minutes.changed", ...). */
    events: { type: [String], default: [] },
    /** A short human detail (an agenda item's title, an attendee's name), in the store's words. */
    detail: { type: String, default: '' },
  },
  { versionKey: false },
);

// Ascending: read backwards for newest first (the embedded store mis-orders a limited sort on a descending key, see the report).
auditEntrySchema.index({ meetingId: 1, revision: 1 }, { unique: true });

export type AuditEntry = InferSchemaType<typeof auditEntrySchema>;
export type AuditEntryRecord = AuditEntry & { _id: Types.ObjectId };
export const AuditEntryModel = model('AuditEntry', auditEntrySchema);
