import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { newToken, searchKey, searchTokens } from '../lib/text.js';

export const attendeeRoles = ['chair', 'speaker', 'delegate', 'guest', 'press'] as const;
export type AttendeeRole = (typeof attendeeRoles)[number];

const attendeeSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    fullName: { type: String, required: true, trim: true },
    position: { type: String, default: '' },
    organization: { type: String, default: '' },
    /** Lower-cased; unique per meeting when present. */
    email: { type: String, lowercase: true, trim: true },
    phone: { type: String, default: '' },
    siteId: { type: Schema.Types.ObjectId, ref: 'Site', required: true },
    role: { type: String, enum: attendeeRoles, required: true, default: 'delegate' },
    /** Secret of the attendee's personal link (/a/:accessToken). */
    accessToken: { type: String, required: true, default: () => newToken() },
    /** Name and organization without diacritics, lower-cased: what search matches against. */
    searchText: { type: String, required: true, default: '' },
    /** The words of searchText (and their tails after punctuation): search matches word starts through an index. */
    searchTokens: { type: [String], default: undefined },
    /** Turned up on the day without being on the list (added by the site's coordinator). */
    walkIn: { type: Boolean, default: false },
    /** The operation id of the walk-in command that added them: a resend finds them instead of adding them twice. */
    walkInOpId: { type: String },
    /** The meeting revision of this document's last change (stale writes check `revision: { $lt: R }`). */
    revision: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);

/** What search matches against, from the fields people search by (also for updates that bypass save()). */
export function searchFields(attendee: { fullName: string; organization?: string | null; position?: string | null; email?: string | null }): { searchText: string; searchTokens: string[] } {
  const searchText = searchKey(`${attendee.fullName} ${attendee.organization ?? ''} ${attendee.position ?? ''} ${attendee.email ?? ''}`);
  return { searchText, searchTokens: searchTokens(searchText) };
}

attendeeSchema.pre('validate', function deriveSearchText() {
  Object.assign(this, searchFields(this));
});

attendeeSchema.index({ meetingId: 1, email: 1 }, { unique: true, partialFilterExpression: { email: { $type: 'string' } } });
attendeeSchema.index({ meetingId: 1, fullName: 1 });
attendeeSchema.index({ meetingId: 1, siteId: 1, fullName: 1 });
// The table sorts by searchText (name without diacritics); a site's page (meetingId and siteId
// fixed) reads its page of names in this index's order and stops at the limit.
attendeeSchema.index({ meetingId: 1, siteId: 1, searchText: 1 });
// The whole meeting's table by name: the first page is read in index order, stopping at the limit.
attendeeSchema.index({ meetingId: 1, searchText: 1 });
// Search: the longest typed word is looked up as a prefix range of the meeting's words.
attendeeSchema.index({ meetingId: 1, searchTokens: 1 });
attendeeSchema.index({ meetingId: 1, organization: 1 });
attendeeSchema.index({ meetingId: 1, role: 1 });
// The attendance report's invited people per site, organization and role, read from this index
// alone (the store's covered $group: server/embedded-mongo/covered-group.ts).
attendeeSchema.index({ meetingId: 1, siteId: 1, organization: 1, role: 1, walkIn: 1 });
attendeeSchema.index({ accessToken: 1 }, { unique: true });
attendeeSchema.index({ meetingId: 1, walkInOpId: 1 }, { unique: true, partialFilterExpression: { walkInOpId: { $type: 'string' } } });
// A person's calendar feed lists every meeting where someone has their e-mail address.
attendeeSchema.index({ email: 1 }, { partialFilterExpression: { email: { $type: 'string' } } });

export type Attendee = InferSchemaType<typeof attendeeSchema>;
export type AttendeeDocument = HydratedDocument<Attendee>;
export const AttendeeModel = model('Attendee', attendeeSchema);
