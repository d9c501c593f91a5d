// The summary article of a meeting: one per language, its current draft (text and version), what
// was published (a copy: editing the draft afterwards does not change the public page until it is
// published again), and every saved version.
import { Schema, model, type InferSchemaType, type Types } from 'mongoose';
import { locales } from '../lib/i18n.js';

const authorSchema = new Schema({ id: { type: String, default: '' }, name: { type: String, default: '' } }, { _id: false });

const summaryArticleSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    locale: { type: String, enum: locales, required: true },
    text: { type: String, default: '' },
    version: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: authorSchema, required: true },
    /** What the public page shows, or null while not published. */
    published: {
      type: new Schema({ text: { type: String, default: '' }, version: { type: Number, required: true }, at: { type: Date, required: true }, by: { type: authorSchema, required: true } }, { _id: false }),
      default: null,
    },
    revision: { type: Number, required: true },
  },
  { versionKey: false },
);
summaryArticleSchema.index({ meetingId: 1, locale: 1 }, { unique: true });

const summaryVersionSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    locale: { type: String, enum: locales, required: true },
    version: { type: Number, required: true },
    text: { type: String, default: '' },
    at: { type: Date, required: true },
    by: { type: authorSchema, required: true },
    revision: { type: Number, required: true },
  },
  { versionKey: false },
);
summaryVersionSchema.index({ meetingId: 1, locale: 1, version: 1 }, { unique: true });

export type SummaryArticle = InferSchemaType<typeof summaryArticleSchema>;
export type SummaryArticleRecord = SummaryArticle & { _id: Types.ObjectId };
export type SummaryVersionRecord = InferSchemaType<typeof summaryVersionSchema> & { _id: Types.ObjectId };
export const SummaryArticleModel = model('SummaryArticle', summaryArticleSchema);
export const SummaryVersionModel = model('SummaryVersion', summaryVersionSchema);
