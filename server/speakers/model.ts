import { Schema, model, type InferSchemaType } from 'mongoose';

export const speakerRequestStatuses = ['waiting', 'speaking', 'done', 'withdrawn'] as const;

/** A request to speak: from a site (on behalf of someone there) or from an attendee. */
const speakerRequestSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, required: true },
    siteId: { type: Schema.Types.ObjectId, default: null },
    /** Who will speak, when they are on the attendee list. */
    attendeeId: { type: Schema.Types.ObjectId, default: null },
    name: { type: String, required: true, trim: true },
    position: { type: String, default: '' },
    topic: { type: String, required: true, trim: true },
    status: { type: String, enum: speakerRequestStatuses, required: true, default: 'waiting' },
    /** "coordinator", "attendee", "organizer", "chair". */
    requestedBy: { type: String, required: true },
    /** The attendee who asked (for withdrawing their own request). */
    requestedByAttendeeId: { type: Schema.Types.ObjectId, default: null },
    requestedAt: { type: Date, required: true },
    startedAt: { type: Date, default: null },
    endedAt: { type: Date, default: null },
    /** Time spoken in finished speeches, ms. */
    spokenMs: { type: Number, default: 0 },
    /** The meeting revision of this document's last change. */
    revision: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);

speakerRequestSchema.index({ meetingId: 1, requestedAt: 1 });

export type SpeakerRequest = InferSchemaType<typeof speakerRequestSchema>;
export const SpeakerRequestModel = model('SpeakerRequest', speakerRequestSchema);
