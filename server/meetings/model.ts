import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { defaultTimeZone } from '../lib/time.js';
import { newToken } from '../lib/text.js';
import { liveStateSchema } from '../live/state.js';

export const meetingStatuses = ['draft', 'scheduled', 'live', 'ended', 'cancelled'] as const;
export type MeetingStatus = (typeof meetingStatuses)[number];

const meetingSchema = new Schema(
  {
    title: { type: String, required: true, trim: true },
    description: { type: String, default: '' },
    organizingUnit: { type: String, default: '' },
    /** The organizing unit whose organizers see and change this meeting (units/model.ts). */
    unitId: { type: Schema.Types.ObjectId, ref: 'Unit' },
    /** Instants in UTC; `timeZone` is for display and calendars. */
    startsAt: { type: Date, required: true },
    endsAt: { type: Date, required: true },
    timeZone: { type: String, required: true, default: defaultTimeZone },
    status: { type: String, enum: meetingStatuses, required: true, default: 'draft' },
    /** iCalendar SEQUENCE: bumped whenever the invite changes, so calendars update instead of duplicating. */
    calendarSequence: { type: Number, required: true, default: 0 },
    /** Live-state revision (ARCHITECTURE rule 4): bumped by every action touching the meeting. */
    revision: { type: Number, required: true, default: 0 },
    /** Unguessable slug of the public page (/p/:publicId). */
    publicId: { type: String, required: true, default: () => newToken(9) },
    createdBy: { type: String },
    /** Set when this meeting was duplicated from another (last year's conference as a template). */
    duplicatedFrom: { type: Schema.Types.ObjectId, ref: 'Meeting' },
    /** The day's live state (counts, agenda position and timer, speaker queue): see live/state.ts. */
    live: { type: liveStateSchema, default: () => ({}) },
  },
  { timestamps: true },
);

meetingSchema.index({ publicId: 1 }, { unique: true });
meetingSchema.index({ startsAt: -1 });
meetingSchema.index({ status: 1, startsAt: -1 });
meetingSchema.index({ unitId: 1, endsAt: 1 });
// The organizing unit's calendar feed.
meetingSchema.index({ organizingUnit: 1, startsAt: -1 });

export type Meeting = InferSchemaType<typeof meetingSchema>;
export type MeetingDocument = HydratedDocument<Meeting>;
export const MeetingModel = model('Meeting', meetingSchema);
