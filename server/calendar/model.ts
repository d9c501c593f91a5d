// What the calendar part stores: subscription feed tokens, attendees' replies (RSVP) and one
// record per invitation e-mail (per attendee per calendarSequence), which makes sending resumable.
import { Schema, model, type InferSchemaType } from 'mongoose';

export const feedScopes = ['attendee', 'site', 'unit'] as const;
export type FeedScope = (typeof feedScopes)[number];

const calendarFeedSchema = new Schema(
  {
    scope: { type: String, enum: feedScopes, required: true },
    /**
     * Whose feed: the attendee's or the site's id, or the organizing unit's key. One document per
     * (scope, key): regenerating replaces the token, revoking removes it.
     */
    key: { type: String, required: true },
    /** The meeting the feed was made from (the attendee's or site's meeting; any meeting of the unit). */
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    /** Secret of /calendar/feeds/:token.ics; absent once revoked. */
    token: { type: String },
  },
  { timestamps: true },
);
calendarFeedSchema.index({ scope: 1, key: 1 }, { unique: true });
calendarFeedSchema.index({ token: 1 }, { unique: true, partialFilterExpression: { token: { $type: 'string' } } });

export type CalendarFeed = InferSchemaType<typeof calendarFeedSchema>;
export const CalendarFeedModel = model('CalendarFeed', calendarFeedSchema, 'calendar_feeds');

export const rsvpResponses = ['accepted', 'declined', 'delegated'] as const;
export type RsvpResponse = (typeof rsvpResponses)[number];
export type PartStat = 'NEEDS-ACTION' | 'ACCEPTED' | 'DECLINED' | 'DELEGATED';

const rsvpSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    attendeeId: { type: Schema.Types.ObjectId, ref: 'Attendee', required: true },
    /** The attendee's site when they answered (the headcount that answer moved). */
    siteId: { type: Schema.Types.ObjectId, ref: 'Site', required: true },
    response: { type: String, enum: rsvpResponses, required: true },
    reason: { type: String, default: '' },
    delegateName: { type: String, default: '' },
    delegateEmail: { type: String, default: '' },
    respondedAt: { type: Date, required: true },
    /** The decline took one off `siteId`'s expected headcount (not when it was already 0): undoing puts it back. */
    headcountTaken: { type: Boolean, required: true, default: false },
    /** The language the attendee answered in: their invitation e-mails use it when the organizer leaves it to them. */
    locale: { type: String, enum: ['vi', 'en'], default: 'vi' },
    /** Meeting revision of the last change (ARCHITECTURE rule 4). */
    revision: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);
rsvpSchema.index({ attendeeId: 1 }, { unique: true });
rsvpSchema.index({ meetingId: 1, siteId: 1 });

export type Rsvp = InferSchemaType<typeof rsvpSchema>;
export const RsvpModel = model('Rsvp', rsvpSchema, 'calendar_rsvps');

export const invitationStates = ['pending', 'sending', 'sent', 'failed', 'superseded'] as const;
export type InvitationState = (typeof invitationStates)[number];

const invitationSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    attendeeId: { type: Schema.Types.ObjectId, ref: 'Attendee', required: true },
    /** The meeting's calendarSequence this e-mail carries: each attendee is mailed once per change. */
    sequence: { type: Number, required: true },
    method: { type: String, enum: ['REQUEST', 'CANCEL'], required: true },
    locale: { type: String, enum: ['vi', 'en'], required: true },
    email: { type: String, required: true },
    /** The attendee's name when queued: a cancellation for someone since removed still greets them. */
    fullName: { type: String },
    /** A cancellation for someone removed from the meeting after an invitation reached them. */
    removed: { type: Boolean },
    state: { type: String, enum: invitationStates, required: true, default: 'pending' },
    /** Set while a sender holds the record; a stale claim (a crash mid-send) is taken over. */
    claimedAt: { type: Date },
    /** Which delivery batch holds the record (a random id per claim). */
    claim: { type: String },
    attempts: { type: Number, required: true, default: 0 },
    sentAt: { type: Date },
    lastError: { type: String, default: '' },
    /** Base URL for links in the e-mail (PUBLIC_URL, else the organizer's address when queued). */
    baseUrl: { type: String, required: true },
  },
  { timestamps: true },
);
invitationSchema.index({ attendeeId: 1, sequence: 1 }, { unique: true });
invitationSchema.index({ meetingId: 1, state: 1 });
invitationSchema.index({ state: 1, claimedAt: 1 });
invitationSchema.index({ claim: 1 }, { partialFilterExpression: { claim: { $type: 'string' } } });

export type Invitation = InferSchemaType<typeof invitationSchema>;
export const InvitationModel = model('Invitation', invitationSchema, 'calendar_invitations');
