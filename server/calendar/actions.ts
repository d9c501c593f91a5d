// Every change the calendar part allows: an attendee's reply (RSVP), making/regenerating and
// revoking subscription feed links, and queueing invitation e-mails (delivered by mail.ts).
import './messages.js';
import { Types } from 'mongoose';
import { z } from 'zod';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { Conflict, Forbidden, Invalid, NotFound, Unauthorized, isDuplicateKeyError } from '../lib/errors.js';
import { isLocale, type Locale } from '../lib/i18n.js';
import { newToken } from '../lib/text.js';
import { objectId, parseInput } from '../lib/validation.js';
import { AttendeeModel } from '../attendees/model.js';
import { commitMeetingChange, type MeetingChangeEvent } from '../meetings/revision.js';
import { countsOf, forgetInvited, invitedBySite, type SiteRoster } from '../live/counts.js';
import { loadMeetingFor } from '../meetings/guard.js';
import { SiteModel } from '../sites/model.js';
import { CalendarFeedModel, InvitationModel, RsvpModel, feedScopes, rsvpResponses, type FeedScope, type RsvpResponse } from './model.js';
import { siteRsvpCounts, unitKeyOf } from './queries.js';
import { calendarSettings } from './settings.js';
import { deliverInvitations } from './mail.js';

// ---------------------------------------------------------------------------------------------
// RSVP.

const trimmed = (value: unknown) => (typeof value === 'string' ? value.normalize('NFC').trim() : value === null ? undefined : value);

const rsvpSchema = z
  .object({
    response: z.enum(rsvpResponses, { error: 'calendar.rsvp.response.invalid' }),
    reason: z.preprocess(trimmed, z.string().max(500, 'error.tooLong').optional()),
    delegateName: z.preprocess(trimmed, z.string().max(200, 'error.tooLong').optional()),
    delegateEmail: z.preprocess(
      (value) => (typeof value === 'string' ? value.trim().toLowerCase() : value === null ? undefined : value),
      z.union([z.literal(''), z.email('error.email').max(254, 'error.email')], { error: 'error.email' }).optional(),
    ),
    locale: z.preprocess((value) => (isLocale(value) ? value : undefined), z.enum(['vi', 'en']).optional()),
  })
  .superRefine((value, context) => {
    if (value.response === 'declined' && !value.reason) context.addIssue({ code: 'custom', path: ['reason'], message: 'calendar.rsvp.reason.required' });
    if (value.response === 'delegated' && !value.delegateName) context.addIssue({ code: 'custom', path: ['delegateName'], message: 'calendar.rsvp.delegateName.required' });
  });

export type RsvpInput = z.input<typeof rsvpSchema>;

export interface RsvpEventPayload {
  attendeeId: string;
  siteId: string;
  response: RsvpResponse | 'needs-action';
  reason?: string;
  delegateName?: string;
  respondedAt: string;
  site: { id: string; expectedHeadcount: number };
  counts: { accepted: number; declined: number; delegated: number; pending: number };
}

/** Answering "not coming" takes the person off their site's expected headcount; changing one's mind puts them back. */
const comes = (response: RsvpResponse | undefined) => response !== 'declined';

/**
 * The attendee (or chair) answers their own invitation: accept, decline with a reason, or name a
 * delegate. Later invitations carry the answer as PARTSTAT; the site's expected headcount and the
 * organizers' screens follow at once (event `attendee.rsvp`).
 */
export async function respondToInvitation(actor: Actor, input: unknown): Promise<RsvpEventPayload> {
  const data = parseInput(rsvpSchema, input);
  if (actor.kind === 'anonymous') throw new Unauthorized();
  if (actor.kind !== 'attendee' && actor.kind !== 'chair') throw new Forbidden('calendar.rsvp.onlyAttendee');
  const attendee = await AttendeeModel.findOne({ _id: actor.attendeeId, meetingId: actor.meetingId }, { siteId: 1 }).lean();
  if (!attendee) throw new NotFound('attendees.notFound');
  const meetingId = new Types.ObjectId(actor.meetingId);
  const attendeeId = attendee._id;
  const respondedAt = new Date();

  const { result } = await commitMeetingChange<RsvpEventPayload & { roster?: Map<string, SiteRoster> }>({
    meetingId,
    when: { status: { $in: ['draft', 'scheduled', 'live'] } },
    rejected: () => new Conflict('calendar.rsvp.closed'),
    audit: { actor },
    write: async (revision) => {
      const answer = {
        meetingId,
        attendeeId,
        response: data.response,
        reason: data.response === 'declined' ? (data.reason ?? '') : '',
        delegateName: data.response === 'delegated' ? (data.delegateName ?? '') : '',
        delegateEmail: data.response === 'delegated' ? (data.delegateEmail ?? '') : '',
        respondedAt,
        revision,
        ...(data.locale ? { locale: data.locale } : {}),
      };
      // The previous answer, read and replaced in one write: two quick answers each move the
      // headcount by exactly their own change.
      let previous;
      try {
        previous = await RsvpModel.findOneAndUpdate({ attendeeId, revision: { $lt: revision } }, { $set: answer, $setOnInsert: { siteId: attendee.siteId } }, { upsert: true, returnDocument: 'before' }).lean();
      } catch (error) {
        // A newer answer was stored first (its revision is higher): this older one is dropped.
        if (!isDuplicateKeyError(error)) throw error;
        const newer = await RsvpModel.findOne({ attendeeId }).lean();
        return payloadFor(attendeeId, newer?.siteId ?? attendee.siteId, newer?.response as RsvpResponse, newer ?? answer, meetingId);
      }
      const headcountSiteId = previous?.siteId ?? attendee.siteId;
      const was = previous?.response as RsvpResponse | undefined;
      let taken = previous?.headcountTaken ?? false;
      if (comes(was) && !comes(data.response)) {
        const changed = await SiteModel.updateOne({ _id: attendee.siteId, expectedHeadcount: { $gt: 0 } }, { $inc: { expectedHeadcount: -1 }, $max: { revision } });
        taken = changed.modifiedCount > 0;
      } else if (!comes(was) && comes(data.response)) {
        if (taken) await SiteModel.updateOne({ _id: headcountSiteId }, { $inc: { expectedHeadcount: 1 }, $max: { revision } });
        taken = false;
      }
      // The site a decline counted against is remembered, so undoing it gives the place back there.
      const siteId = !comes(was) && !comes(data.response) ? headcountSiteId : attendee.siteId;
      await RsvpModel.updateOne({ attendeeId, revision }, { $set: { headcountTaken: taken, siteId } });
      // A decline (or taking it back) changes whom the site expects on the day: screens hear the new counts.
      const movesExpected = comes(was) !== comes(data.response);
      if (movesExpected) forgetInvited(String(meetingId));
      const roster = movesExpected ? await invitedBySite(String(meetingId)) : undefined;
      return { ...(await payloadFor(attendeeId, attendee.siteId, data.response, answer, meetingId)), roster };
    },
    events: ({ roster, ...payload }, revision, meeting) => {
      const events: MeetingChangeEvent[] = [{ type: 'attendee.rsvp', siteId: payload.siteId, payload }];
      if (roster) {
        const { counts, totals, quorum } = countsOf(meeting, roster, payload.siteId);
        events.unshift({ type: 'attendance.counts', payload: { siteId: payload.siteId, counts: { ...counts, revision }, totals: { ...totals, revision }, quorum } });
      }
      return events;
    },
  });
  const { roster: _roster, ...answered } = result;
  return answered;
}

async function payloadFor(
  attendeeId: Types.ObjectId,
  siteId: Types.ObjectId,
  response: RsvpResponse | undefined,
  answer: { reason?: string; delegateName?: string; respondedAt: Date },
  meetingId: Types.ObjectId,
): Promise<RsvpEventPayload> {
  const [site, counts] = await Promise.all([SiteModel.findById(siteId, { expectedHeadcount: 1 }).lean(), siteRsvpCounts(meetingId, siteId)]);
  return {
    attendeeId: String(attendeeId),
    siteId: String(siteId),
    response: response ?? 'needs-action',
    ...(response === 'declined' && answer.reason ? { reason: answer.reason } : {}),
    ...(response === 'delegated' && answer.delegateName ? { delegateName: answer.delegateName } : {}),
    respondedAt: answer.respondedAt.toISOString(),
    site: { id: String(siteId), expectedHeadcount: site?.expectedHeadcount ?? 0 },
    counts,
  };
}

// ---------------------------------------------------------------------------------------------
// Subscription feeds.

const feedSchema = z.object({
  scope: z.enum(feedScopes, { error: 'calendar.feed.scope.invalid' }),
  meetingId: objectId,
  siteId: objectId.optional(),
});

/** Whose feed the asker names, after checking they may manage it. */
async function feedOwner(actor: Actor, input: unknown): Promise<{ scope: FeedScope; key: string; meetingId: Types.ObjectId }> {
  // Someone not signed in is told so, whatever they sent (not that their input is invalid).
  if (actor.kind === 'anonymous') throw new Unauthorized();
  const data = parseInput(feedSchema, input);
  const meetingId = new Types.ObjectId(data.meetingId);
  if (data.scope === 'attendee') {
    // One's own feed only.
    if ((actor.kind !== 'attendee' && actor.kind !== 'chair') || actor.meetingId !== data.meetingId) throw new Forbidden();
    return { scope: 'attendee', key: actor.attendeeId, meetingId };
  }
  if (data.scope === 'site') {
    if (!data.siteId) throw new Invalid({ siteId: { key: 'calendar.invite.site.required' } });
    const allowed = actor.kind === 'organizer' || (actor.kind === 'coordinator' && actor.meetingId === data.meetingId && actor.siteId === data.siteId);
    if (!allowed) throw new Forbidden();
    await loadMeetingFor(actor, meetingId);
    if (!(await SiteModel.exists({ _id: data.siteId, meetingId }))) throw new NotFound('site.notFound');
    return { scope: 'site', key: data.siteId, meetingId };
  }
  requireOrganizer(actor);
  const meeting = await loadMeetingFor(actor, meetingId);
  const key = unitKeyOf(meeting);
  if (!key) throw new Conflict('calendar.feed.unitMissing');
  return { scope: 'unit', key, meetingId };
}

/** A new unguessable feed link; the previous one (if any) stops working at once. */
export async function regenerateFeed(actor: Actor, input: unknown): Promise<{ scope: FeedScope; token: string }> {
  const owner = await feedOwner(actor, input);
  const token = newToken(24);
  await CalendarFeedModel.updateOne({ scope: owner.scope, key: owner.key }, { $set: { token, meetingId: owner.meetingId } }, { upsert: true });
  return { scope: owner.scope, token };
}

/** The feed link stops working (404, like any wrong link); a new one can be made later. */
export async function revokeFeed(actor: Actor, input: unknown): Promise<{ scope: FeedScope }> {
  const owner = await feedOwner(actor, input);
  await CalendarFeedModel.updateOne({ scope: owner.scope, key: owner.key }, { $unset: { token: 1 } });
  return { scope: owner.scope };
}

// ---------------------------------------------------------------------------------------------
// Invitation e-mails.

export const invitationScopes = ['all', 'site', 'notInvited'] as const;

const invitationSchema = z.object({
  meetingId: objectId,
  scope: z.enum(invitationScopes, { error: 'calendar.invite.scope.invalid' }),
  siteId: z.preprocess((value) => (value === '' || value === null ? undefined : value), objectId.optional()),
  locale: z.preprocess((value) => (value === '' || value === undefined ? 'attendee' : value), z.enum(['vi', 'en', 'attendee'], { error: 'calendar.invite.locale.invalid' })),
});

/**
 * The organizer sends the current version of the invitation (or the cancellation) to everyone
 * in scope who has an e-mail address and has not received this version yet. One record per
 * attendee per calendarSequence is written first; delivery (mail.ts) works through those
 * records, so a crash mid-send resumes where it stopped and nobody is mailed twice per change.
 */
export async function queueInvitations(actor: Actor, input: unknown, options: { baseUrl: string }): Promise<{ queued: number; sequence: number }> {
  const data = parseInput(invitationSchema, input);
  requireOrganizer(actor);
  if (data.scope === 'site' && !data.siteId) throw new Invalid({ siteId: { key: 'calendar.invite.site.required' } });
  const meeting = await loadMeetingFor(actor, data.meetingId);
  if (!calendarSettings().smtpUrl) throw new Conflict('calendar.invite.noSmtp');
  if (meeting.status === 'draft') throw new Conflict('calendar.invite.draft');
  if (data.siteId && !(await SiteModel.exists({ _id: data.siteId, meetingId: meeting._id }))) throw new Invalid({ siteId: { key: 'attendees.site.notInMeeting' } });

  const filter: Record<string, unknown> = { meetingId: meeting._id, email: { $type: 'string' } };
  if (data.scope === 'site') filter.siteId = new Types.ObjectId(data.siteId);
  const cancelled = meeting.status === 'cancelled';
  const [attendees, invitedIds] = await Promise.all([
    AttendeeModel.find(filter, { email: 1, fullName: 1 }).lean(),
    InvitationModel.distinct('attendeeId', { meetingId: meeting._id, state: 'sent' }),
  ]);
  const invited = new Set(invitedIds.map(String));
  // A cancellation only goes to people who were invited; "not yet invited" skips everyone who was.
  const targets = attendees.filter((attendee) => (cancelled || data.scope === 'notInvited' ? invited.has(String(attendee._id)) === cancelled : true));
  const locales = data.locale === 'attendee' ? await attendeeLocales(targets.map((attendee) => attendee._id)) : new Map<string, Locale>();
  const sequence = meeting.calendarSequence;
  const method = cancelled ? 'CANCEL' : 'REQUEST';
  let queued = 0;
  if (targets.length > 0) {
    const result = await InvitationModel.bulkWrite(
      targets.map((attendee) => ({
        updateOne: {
          // Only a record that is new, failed before, was dropped (no address when its turn came) or
          // went to an address the organizer has since corrected is (re)queued: the rest stay sent.
          filter: { attendeeId: attendee._id, sequence, $or: [{ state: { $in: ['failed', 'superseded'] } }, { state: 'sent', email: { $ne: attendee.email } }] },
          update: { $set: { state: 'pending', lastError: '', email: attendee.email! } },
        },
      })),
      { ordered: false },
    );
    queued += result.modifiedCount;
    const inserted = await InvitationModel.bulkWrite(
      targets.map((attendee) => ({
        updateOne: {
          filter: { attendeeId: attendee._id, sequence },
          update: {
            $setOnInsert: {
              meetingId: meeting._id,
              method,
              locale: data.locale === 'attendee' ? (locales.get(String(attendee._id)) ?? 'vi') : data.locale,
              email: attendee.email!,
              fullName: attendee.fullName,
              state: 'pending',
              attempts: 0,
              baseUrl: options.baseUrl,
            },
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
    queued += inserted.upsertedCount;
  }
  if (data.scope === 'all') {
    const removed = await removedInvitees(meeting._id, sequence);
    if (removed.length > 0) {
      // A cancellation the mail server kept refusing is tried again, as invitations are.
      const retried = await InvitationModel.bulkWrite(
        removed.map((record) => ({
          updateOne: { filter: { attendeeId: record.attendeeId, sequence: record.cancelSequence, state: 'failed' }, update: { $set: { state: 'pending', lastError: '' } } },
        })),
        { ordered: false },
      );
      queued += retried.modifiedCount;
      const result = await InvitationModel.bulkWrite(
        removed.map((record) => ({
          updateOne: {
            filter: { attendeeId: record.attendeeId, sequence: record.cancelSequence },
            update: {
              $setOnInsert: {
                meetingId: meeting._id,
                method: 'CANCEL',
                removed: true,
                locale: data.locale === 'attendee' ? record.locale : data.locale,
                email: record.email,
                fullName: record.fullName ?? '',
                state: 'pending',
                attempts: 0,
                baseUrl: options.baseUrl,
              },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      );
      queued += result.upsertedCount;
    }
  }
  if (queued > 0) deliverInvitations(String(meeting._id));
  return { queued, sequence };
}

/**
 * People an invitation reached who have since been removed from the meeting and were not yet told
 * it is off for them: one METHOD:CANCEL each, with a SEQUENCE above the last one they received
 * (removing someone does not move the meeting's own SEQUENCE, which would re-mail everyone else).
 */
async function removedInvitees(meetingId: Types.ObjectId, currentSequence: number) {
  const [records, present, addresses] = await Promise.all([
    InvitationModel.find({ meetingId, state: { $in: ['sent', 'pending', 'sending'] } }, { attendeeId: 1, sequence: 1, method: 1, state: 1, email: 1, locale: 1, fullName: 1 })
      .sort({ sequence: -1 })
      .lean(),
    AttendeeModel.distinct('_id', { meetingId }),
    AttendeeModel.distinct('email', { meetingId, email: { $type: 'string' } }),
  ]);
  const here = new Set(present.map(String));
  // Removed and added again (a new record, the same address): they are invited, not cancelled.
  const invitedAddresses = new Set(addresses.map(String));
  // Newest first, per person: a cancellation already sent or on its way settles it; else the
  // newest invitation that reached them is the one to cancel (one still queued never left).
  const decided = new Map<string, (typeof records)[number] | null>();
  for (const record of records) {
    const key = String(record.attendeeId);
    if (here.has(key) || decided.has(key) || invitedAddresses.has(record.email)) continue;
    if (record.method === 'CANCEL') decided.set(key, null);
    else if (record.state === 'sent') decided.set(key, record);
  }
  return [...decided.values()]
    .filter((record): record is NonNullable<typeof record> => record !== null)
    .map((record) => ({ ...record, locale: (isLocale(record.locale) ? record.locale : 'vi') as Locale, cancelSequence: Math.max(record.sequence + 1, currentSequence) }));
}

async function attendeeLocales(attendeeIds: Types.ObjectId[]): Promise<Map<string, Locale>> {
  const rsvps = await RsvpModel.find({ attendeeId: { $in: attendeeIds } }, { attendeeId: 1, locale: 1 }).lean();
  return new Map(rsvps.map((rsvp) => [String(rsvp.attendeeId), (isLocale(rsvp.locale) ? rsvp.locale : 'vi') as Locale]));
}
