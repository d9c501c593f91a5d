import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { newToken } from '../lib/text.js';

const videoLinkSchema = new Schema(
  {
    platform: { type: String, default: '' },
    url: { type: String, default: '' },
    roomId: { type: String, default: '' },
    passcode: { type: String, default: '' },
    notes: { type: String, default: '' },
  },
  { _id: false },
);

const siteSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    name: { type: String, required: true, trim: true },
    address: { type: String, default: '' },
    /** Exactly one main site per meeting (the provincial office); the others are remote bridge points. */
    isMain: { type: Boolean, required: true, default: false },
    coordinatorName: { type: String, default: '' },
    coordinatorPhone: { type: String, default: '' },
    expectedHeadcount: { type: Number, default: 0, min: 0 },
    videoLink: { type: videoLinkSchema, default: () => ({}) },
    /** Display order on lists and the wall display. */
    order: { type: Number, required: true, default: 0 },
    /** Secret of the coordinator's signed link (/s/:coordinatorToken); rotate to revoke. */
    coordinatorToken: { type: String, required: true, default: () => newToken() },
    /** The meeting revision of this document's last change (stale writes check `revision: { $lt: R }`). */
    revision: { type: Number, required: true, default: 0 },
    /** Set while the site is being removed (a short lease): attendee writes landing meanwhile undo themselves. */
    removingUntil: { type: Date },
    /** Wrong self check-in codes tried at this site (by all its attendees) in the current window. */
    codeFailures: { type: Number, default: 0 },
    codeFailuresSince: { type: Date, default: null },
  },
  { timestamps: true },
);

siteSchema.index({ meetingId: 1, order: 1 });
siteSchema.index({ meetingId: 1, name: 1 }, { unique: true });
// The database itself refuses a second main site, whatever races the actions lose.
siteSchema.index({ meetingId: 1, isMain: 1 }, { unique: true, partialFilterExpression: { isMain: true } });
siteSchema.index({ coordinatorToken: 1 }, { unique: true });
// A site's calendar feed lists every meeting with a bridge point of the same name.
siteSchema.index({ name: 1 });

export type Site = InferSchemaType<typeof siteSchema>;
export type SiteDocument = HydratedDocument<Site>;
export const SiteModel = model('Site', siteSchema);
