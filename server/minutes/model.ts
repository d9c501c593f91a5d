// Minutes: one note per agenda item (its current text and version) and every saved version of it
// (who wrote what and when). A save names the version it was typed on; one written on an older
// version is a conflict, never a silent overwrite.
import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

const authorSchema = new Schema(
  {
    id: { type: String, default: '' },
    name: { type: String, default: '' },
  },
  { _id: false },
);

const minuteNoteSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    agendaItemId: { type: Schema.Types.ObjectId, ref: 'AgendaItem', required: true },
    text: { type: String, default: '' },
    /** 1 for the first save, +1 for each save after it. */
    version: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: authorSchema, required: true },
    /**
     * The id the editor sent with the save that made `version` (one per editor and base version):
     * a resend after a lost answer is recognized instead of counted twice or called a conflict.
     */
    saveId: { type: String, default: '' },
    /** The meeting revision of the last save. */
    revision: { type: Number, required: true },
  },
  { versionKey: false },
);
minuteNoteSchema.index({ meetingId: 1, agendaItemId: 1 }, { unique: true });

const minuteVersionSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    agendaItemId: { type: Schema.Types.ObjectId, ref: 'AgendaItem', required: true },
    version: { type: Number, required: true },
    text: { type: String, default: '' },
    at: { type: Date, required: true },
    by: { type: authorSchema, required: true },
    revision: { type: Number, required: true },
  },
  { versionKey: false },
);
minuteVersionSchema.index({ meetingId: 1, agendaItemId: 1, version: 1 }, { unique: true });

export type MinuteNote = InferSchemaType<typeof minuteNoteSchema>;
export type MinuteNoteRecord = MinuteNote & { _id: Types.ObjectId };
export type MinuteVersion = InferSchemaType<typeof minuteVersionSchema>;
export type MinuteVersionRecord = MinuteVersion & { _id: Types.ObjectId };
export const MinuteNoteModel = model('MinuteNote', minuteNoteSchema);
export const MinuteVersionModel = model('MinuteVersion', minuteVersionSchema);
