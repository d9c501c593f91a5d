// Delivery of queued invitation e-mails (records written by actions.queueInvitations): claims
// records in batches, builds each attendee's METHOD:REQUEST (or CANCEL) invitation from one
// batched read, sends it over SMTP_URL and marks it sent. A record claimed by a process that
// died mid-send is taken over after `staleClaimMs`, so sending always resumes.
import { randomUUID } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { Types } from 'mongoose';
import { t, type Locale } from '../lib/i18n.js';
import { formatDateTime, formatTime } from '../lib/time.js';
import { escapeHtml } from '../lib/text.js';
import { AttendeeModel } from '../attendees/model.js';
import { MeetingModel } from '../meetings/model.js';
import { InvitationModel } from './model.js';
import { invitationIcs, locationText, meetingPageUrl, type IcsEntry } from './ics.js';
import { icsMeeting, invitationEntries } from './queries.js';
import { calendarSettings } from './settings.js';
import './messages.js';

export const staleClaimMs = 5 * 60_000;
const batchSize = 50;
const maxAttempts = 5;

let transport: { url: string; transporter: Transporter } | undefined;

function transporter(): Transporter | undefined {
  const url = calendarSettings().smtpUrl;
  if (!url) return undefined;
  if (transport?.url !== url) transport = { url, transporter: nodemailer.createTransport(url) };
  return transport.transporter;
}

/** Deliveries running in this process, by meeting: one loop per meeting at a time. */
const running = new Map<string, Promise<void>>();

/** Start (or join) delivery of a meeting's pending invitations, in the background. */
export function deliverInvitations(meetingId: string): Promise<void> {
  let loop = running.get(meetingId);
  if (!loop) {
    loop = deliveryLoop(meetingId)
      .catch((error: unknown) => {
        console.error('invitation delivery stopped', error);
      })
      .finally(() => running.delete(meetingId));
    running.set(meetingId, loop);
  }
  return loop;
}

/** For tests and shutdown: every delivery running in this process has finished. */
export async function deliveriesSettled(): Promise<void> {
  while (running.size > 0) await Promise.all([...running.values()]);
}

/** At start: pick up what a previous process left (pending, or claimed by a process that died). */
export async function resumeInvitationDelivery(): Promise<number> {
  if (!calendarSettings().smtpUrl) return 0;
  const meetingIds = await InvitationModel.distinct('meetingId', { $or: [{ state: 'pending' as const }, { state: 'sending' as const, claimedAt: { $lt: new Date(Date.now() - staleClaimMs) } }] });
  for (const meetingId of meetingIds) void deliverInvitations(String(meetingId));
  return meetingIds.length;
}

async function deliveryLoop(meetingId: string): Promise<void> {
  const mailer = transporter();
  if (!mailer) return;
  const id = new Types.ObjectId(meetingId);
  for (;;) {
    const claimed = await claimBatch(id);
    if (claimed.length === 0) return;
    const meeting = await MeetingModel.findById(id, { calendarSequence: 1 }).lean();
    if (!meeting) {
      await InvitationModel.updateMany({ _id: { $in: claimed.map((record) => record._id) } }, { $set: { state: 'superseded' } });
      return;
    }
    // A record of an older version is not sent: the organizer sends the current one instead. A
    // cancellation for someone removed carries its own SEQUENCE (above their last invitation).
    const stale = claimed.filter((record) => !record.removed && record.sequence !== meeting.calendarSequence);
    if (stale.length > 0) await InvitationModel.updateMany({ _id: { $in: stale.map((record) => record._id) } }, { $set: { state: 'superseded' } });
    const current = claimed.filter((record) => !record.removed && record.sequence === meeting.calendarSequence);
    const removed = claimed.filter((record) => record.removed);
    if (current.length === 0 && removed.length === 0) continue;
    const { meeting: full, entries } = await invitationEntries(id, { _id: { $in: current.map((record) => record.attendeeId) } });
    for (const record of removed) {
      const entry = {
        meeting: { ...icsMeeting(full), calendarSequence: record.sequence },
        agenda: [],
        attendee: { id: String(record.attendeeId), fullName: record.fullName || record.email, email: record.email, role: 'delegate', partStat: 'NEEDS-ACTION' as const },
      };
      const message = invitationMessage(entry, { locale: record.locale === 'en' ? 'en' : 'vi', baseUrl: record.baseUrl, isUpdate: true, cancel: true });
      await deliver(mailer, record, entry.attendee, message);
    }
    const entryByAttendee = new Map(entries.map((entry) => [entry.attendee.id, entry]));
    const tokens = new Map((await AttendeeModel.find({ _id: { $in: current.map((record) => record.attendeeId) } }, { accessToken: 1 }).lean()).map((attendee) => [String(attendee._id), attendee.accessToken]));
    const everSent = new Set((await InvitationModel.distinct('attendeeId', { meetingId: id, state: 'sent', attendeeId: { $in: current.map((record) => record.attendeeId) } })).map(String));
    for (const record of current) {
      const entry = entryByAttendee.get(String(record.attendeeId));
      if (!entry || !entry.attendee.email) {
        await InvitationModel.updateOne({ _id: record._id, claim: record.claim }, { $set: { state: 'superseded' } });
        continue;
      }
      const locale = (record.locale === 'en' ? 'en' : 'vi') as Locale;
      const message = invitationMessage(entry, {
        locale,
        baseUrl: record.baseUrl,
        personalUrl: tokens.get(String(record.attendeeId)) ? `${record.baseUrl.replace(/\/+$/, '')}/a/${tokens.get(String(record.attendeeId))}` : undefined,
        isUpdate: everSent.has(String(record.attendeeId)),
      });
      await deliver(mailer, record, { fullName: entry.attendee.fullName, email: entry.attendee.email }, message);
    }
  }
}

/** Sends one message and records the outcome on its record (sent, or pending/failed with the error). */
async function deliver(mailer: Transporter, record: ClaimedRecord, to: { fullName: string; email: string }, message: InvitationMessage): Promise<void> {
  try {
    await mailer.sendMail({ from: calendarSettings().mailFrom, to: { name: to.fullName, address: to.email }, ...message });
    await InvitationModel.updateOne({ _id: record._id, claim: record.claim }, { $set: { state: 'sent', sentAt: new Date(), method: message.icalEvent.method.toUpperCase(), email: to.email, lastError: '' }, $unset: { claim: 1 } });
  } catch (error) {
    // Tried again at once a few times (a dropped connection), then left failed for the organizer to resend.
    const state = record.attempts >= maxAttempts ? 'failed' : 'pending';
    await InvitationModel.updateOne({ _id: record._id, claim: record.claim }, { $set: { state, lastError: String((error as Error)?.message ?? error).slice(0, 500) }, $unset: { claim: 1 } });
  }
}

type ClaimedRecord = { _id: Types.ObjectId; attendeeId: Types.ObjectId; sequence: number; locale: string; baseUrl: string; attempts: number; claim: string; email: string; fullName?: string | null; removed?: boolean | null };

/** Takes up to `batchSize` pending (or stale) records for this process, atomically per record. */
async function claimBatch(meetingId: Types.ObjectId): Promise<ClaimedRecord[]> {
  const claimable = { meetingId, $or: [{ state: 'pending' as const }, { state: 'sending' as const, claimedAt: { $lt: new Date(Date.now() - staleClaimMs) } }] };
  const candidates = await InvitationModel.find(claimable, { _id: 1 }).limit(batchSize).lean();
  if (candidates.length === 0) return [];
  const claim = randomUUID();
  await InvitationModel.updateMany({ ...claimable, _id: { $in: candidates.map((record) => record._id) } }, { $set: { state: 'sending', claimedAt: new Date(), claim }, $inc: { attempts: 1 } });
  return InvitationModel.find({ claim }, { attendeeId: 1, sequence: 1, locale: 1, baseUrl: 1, attempts: 1, claim: 1, email: 1, fullName: 1, removed: 1 }).lean<ClaimedRecord[]>();
}

export interface InvitationMessage {
  subject: string;
  text: string;
  html: string;
  icalEvent: { method: string; filename: string; content: string };
  attachments: Array<{ filename: string; content: string; contentType: string }>;
}

/** The e-mail of one invitation: text and HTML, the text/calendar part and the same file attached. */
export function invitationMessage(
  entry: IcsEntry & { attendee: NonNullable<IcsEntry['attendee']> },
  options: { locale: Locale; baseUrl: string; personalUrl?: string; isUpdate: boolean; cancel?: boolean },
): InvitationMessage {
  const { locale } = options;
  const { method, ics } = invitationIcs(entry, { locale, baseUrl: options.baseUrl, organizerEmail: calendarSettings().mailFrom, stamp: new Date() }, { cancel: options.cancel });
  const { meeting, attendee } = entry;
  const params = { title: meeting.title, name: attendee.fullName };
  // A cancellation of a meeting that goes on is a withdrawn invitation (the attendee was removed).
  const kind = method === 'CANCEL' ? (meeting.status === 'cancelled' ? 'cancel' : 'withdrawn') : options.isUpdate ? 'update' : 'request';
  const subject = t(locale, `calendar.mail.subject.${kind}`, params);
  const when = `${formatDateTime(meeting.startsAt, meeting.timeZone, locale)} – ${formatTime(meeting.endsAt, meeting.timeZone)} (${meeting.timeZone})`;
  const filename = method === 'CANCEL' ? 'cancel.ics' : 'invite.ics';
  const rows: Array<[string, string]> = [
    [t(locale, 'calendar.mail.when'), when],
    ...(entry.place ? [[t(locale, 'calendar.mail.where'), locationText(entry.place)] as [string, string]] : []),
    [t(locale, 'calendar.mail.page'), meetingPageUrl(options.baseUrl, meeting)],
    ...(options.personalUrl && method !== 'CANCEL' ? [[t(locale, 'calendar.mail.reply'), options.personalUrl] as [string, string]] : []),
  ];
  const intro = t(locale, `calendar.mail.${kind}`, params);
  const signature = meeting.organizingUnit || t(locale, 'calendar.ics.organizerFallback');
  const text = [
    t(locale, 'calendar.mail.greeting', params),
    '',
    intro,
    '',
    ...rows.map(([label, value]) => `${label}: ${value}`),
    '',
    t(locale, 'calendar.mail.attachment', { file: filename }),
    '',
    t(locale, 'calendar.mail.closing'),
    signature,
  ].join('\n');
  const html = [
    `<p>${escapeHtml(t(locale, 'calendar.mail.greeting', params))}</p>`,
    `<p>${escapeHtml(intro)}</p>`,
    '<table>',
    ...rows.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${/^https?:\/\//.test(value) ? `<a href="${escapeHtml(value)}">${escapeHtml(value)}</a>` : escapeHtml(value)}</td></tr>`),
    '</table>',
    `<p>${escapeHtml(t(locale, 'calendar.mail.closing'))}<br>${escapeHtml(signature)}</p>`,
  ].join('\n');
  return {
    subject,
    text,
    html,
    icalEvent: { method: method.toLowerCase(), filename, content: ics },
    attachments: [{ filename, content: ics, contentType: `application/ics; charset=utf-8; method=${method}` }],
  };
}
