// The conference day's wire contract (docs/api/live.md): the input of every live command (socket
// event or HTTP POST), the acknowledgement, the snapshot and the pushed events. Server actions
// parse with these schemas; browser code imports the types only (`import type`), so zod stays
// out of the client bundles.
import { z } from 'zod';
import { objectId } from '../lib/validation.js';

// ---------------------------------------------------------------------------------------------
// Shared pieces

/**
 * A client-made operation id (a UUID or any 8-64 letters, digits, '-' or '_'). Sending the same
 * id again is answered with the first answer and changes nothing (a unique index decides).
 */
export const operationId = z.string({ error: 'live.opId.invalid' }).regex(/^[A-Za-z0-9_-]{8,64}$/, 'live.opId.invalid');

/** An instant the client saw (ISO 8601), e.g. when an offline check-in was made. */
const clientInstant = z.iso.datetime({ offset: true, error: 'live.at.invalid' }).optional();

const trimmed = (max: number, requiredKey = 'error.required') =>
  z.preprocess((value) => (typeof value === 'string' ? value.trim() : value), z.string({ error: requiredKey }).min(1, requiredKey).max(max));
const optionalTrimmed = (max: number) =>
  z.preprocess((value) => (typeof value === 'string' ? (value.trim() === '' ? undefined : value.trim()) : value), z.string().max(max).optional());

export const screenKinds = ['coordinator', 'wall', 'dashboard', 'chair', 'attendee'] as const;
export type ScreenKind = (typeof screenKinds)[number];

export const attendanceStatuses = ['expected', 'present', 'absent', 'leftEarly'] as const;
export type AttendanceStatus = (typeof attendanceStatuses)[number];

export const absenceReasons = ['sick', 'mission', 'delegate', 'other'] as const;
export type AbsenceReason = (typeof absenceReasons)[number];

export const linkStatuses = ['ready', 'audioProblem', 'videoProblem', 'offline'] as const;
export type LinkStatus = (typeof linkStatuses)[number];

// ---------------------------------------------------------------------------------------------
// Commands: socket event name -> input schema. The same names are the HTTP command names
// (POST /api/v1/meetings/:meetingId/live/commands/:name, body = the input without meetingId).

const meetingOnly = z.object({ meetingId: objectId });

export const joinInput = z.object({ meetingId: objectId, screen: z.enum(screenKinds, { error: 'live.screen.invalid' }).optional(), batched: z.boolean({ error: 'live.batched.invalid' }).optional() });
export const snapshotInput = meetingOnly;

export const startMeetingInput = meetingOnly;
export const endMeetingInput = meetingOnly;
export const setQuorumInput = z.object({
  meetingId: objectId,
  quorumPercent: z.number({ error: 'live.quorum.invalid' }).int('live.quorum.invalid').min(1, 'live.quorum.invalid').max(100, 'live.quorum.invalid'),
});

export const checkInInput = z.object({ meetingId: objectId, attendeeId: objectId, opId: operationId, at: clientInstant });
export const selfCheckInInput = z.object({
  meetingId: objectId,
  opId: operationId,
  code: z.preprocess((value) => (typeof value === 'string' ? value.replace(/\s+/g, '') : value), z.string({ error: 'attendance.code.required' }).regex(/^\d{6}$/, 'attendance.code.format')),
});
export const markAbsentInput = z
  .object({
    meetingId: objectId,
    attendeeId: objectId,
    opId: operationId,
    reason: z.enum(absenceReasons, { error: 'attendance.reason.invalid' }),
    /** Who comes instead (required when reason is "delegate"). */
    delegateName: optionalTrimmed(200),
    /** Free text (required when reason is "other"). */
    note: optionalTrimmed(500),
  })
  .superRefine((input, ctx) => {
    if (input.reason === 'delegate' && !input.delegateName) ctx.addIssue({ code: 'custom', path: ['delegateName'], message: 'attendance.delegateName.required' });
    if (input.reason === 'other' && !input.note) ctx.addIssue({ code: 'custom', path: ['note'], message: 'attendance.note.required' });
  });
export const leftEarlyInput = z.object({ meetingId: objectId, attendeeId: objectId, opId: operationId, at: clientInstant });
export const addWalkInInput = z.object({
  meetingId: objectId,
  siteId: objectId,
  opId: operationId,
  fullName: trimmed(200, 'attendance.walkIn.nameRequired'),
  position: optionalTrimmed(300),
  organization: optionalTrimmed(300),
  at: clientInstant,
});
export const undoAttendanceInput = z.object({ meetingId: objectId, attendeeId: objectId, opId: operationId });

export const setSiteLinkInput = z.object({
  meetingId: objectId,
  siteId: objectId,
  status: z.enum(linkStatuses, { error: 'live.link.invalid' }),
  note: optionalTrimmed(300),
});
export const checkInCodeInput = z.object({ meetingId: objectId, siteId: objectId });

export const agendaStartInput = z.object({ meetingId: objectId, itemId: objectId });
/** `fromItemId`: only move if this item is still the current one (a resent "next" moves once). */
export const agendaStepInput = z.object({ meetingId: objectId, fromItemId: objectId.optional() });
export const agendaExtendInput = z.object({
  meetingId: objectId,
  minutes: z.number({ error: 'agenda.extend.invalid' }).int('agenda.extend.invalid').min(1, 'agenda.extend.invalid').max(240, 'agenda.extend.invalid'),
  opId: operationId.optional(),
});
export const agendaPauseInput = meetingOnly;
export const agendaResumeInput = meetingOnly;

export const requestToSpeakInput = z.object({
  meetingId: objectId,
  opId: operationId,
  topic: trimmed(300, 'speakers.topic.required'),
  /** Coordinator, organizer, chair: the site asking (a coordinator's own site by default). */
  siteId: objectId.optional(),
  /** On behalf of this attendee (must be at that site for a coordinator)... */
  attendeeId: objectId.optional(),
  /** ...or of someone named here (e.g. a walk-in); an attendee always asks for themself. */
  name: optionalTrimmed(200),
});
export const withdrawRequestInput = z.object({ meetingId: objectId, requestId: objectId });
export const reorderSpeakersInput = z.object({ meetingId: objectId, orderedIds: z.array(objectId).max(500) });
export const grantFloorInput = z.object({ meetingId: objectId, requestId: objectId });
export const endSpeechInput = meetingOnly;

export const liveCommands = {
  'meeting:join': joinInput,
  'live:snapshot': snapshotInput,
  'meeting:start': startMeetingInput,
  'meeting:end': endMeetingInput,
  'meeting:setQuorum': setQuorumInput,
  'attendance:checkIn': checkInInput,
  'attendance:selfCheckIn': selfCheckInInput,
  'attendance:markAbsent': markAbsentInput,
  'attendance:leftEarly': leftEarlyInput,
  'attendance:addWalkIn': addWalkInInput,
  'attendance:undo': undoAttendanceInput,
  'site:setLink': setSiteLinkInput,
  'site:checkInCode': checkInCodeInput,
  'agenda:start': agendaStartInput,
  'agenda:next': agendaStepInput,
  'agenda:previous': agendaStepInput,
  'agenda:extend': agendaExtendInput,
  'agenda:pause': agendaPauseInput,
  'agenda:resume': agendaResumeInput,
  'speakers:request': requestToSpeakInput,
  'speakers:withdraw': withdrawRequestInput,
  'speakers:reorder': reorderSpeakersInput,
  'speakers:grant': grantFloorInput,
  'speakers:end': endSpeechInput,
} as const;
export type LiveCommandName = keyof typeof liveCommands;
export type LiveCommandInput<N extends LiveCommandName> = z.input<(typeof liveCommands)[N]>;

// ---------------------------------------------------------------------------------------------
// Acknowledgement

export interface AckError {
  ok: false;
  error: { code: 'invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'too_many_requests' | 'bad_request' | 'too_large' | 'unavailable' | 'internal'; message: string; fields?: Record<string, string>; retryAfterMs?: number };
}
export type AckOk<T = Record<string, unknown>> = { ok: true; revision: number; /** True when this answers a resent operation id. */ replayed?: boolean } & T;
export type Ack<T = Record<string, unknown>> = AckOk<T> | AckError;

// ---------------------------------------------------------------------------------------------
// What screens read (snapshot) and what events carry. Every entity carries `revision`: the
// meeting revision of its last change.

export interface LiveMeetingView {
  id: string;
  title: string;
  status: 'draft' | 'scheduled' | 'live' | 'ended' | 'cancelled';
  timeZone: string;
  startsAt: string;
  endsAt: string;
  startedAt: string | null;
  endedAt: string | null;
  quorumPercent: number;
  revision: number;
}

export interface AttendanceRecordView {
  attendeeId: string;
  siteId: string;
  fullName: string;
  position: string;
  organization: string;
  status: AttendanceStatus;
  /** When checked in (null unless present or left early). */
  presentAt: string | null;
  leftAt: string | null;
  /** Checked in after the meeting started. */
  late: boolean;
  walkIn: boolean;
  absence: { reason: AbsenceReason; delegateName?: string; note?: string } | null;
  /** Who made the last change: "coordinator", "attendee", "organizer", "chair". */
  changedBy: string | null;
  /** An undo is possible (the record has an earlier state). */
  canUndo: boolean;
  revision: number;
}

export interface AttendanceCounts {
  /** Invited for the site, less those who declined the invitation (walk-ins not included). */
  expected: number;
  present: number;
  absent: number;
  leftEarly: number;
  /** Present (or left early) and checked in after the meeting started. */
  late: number;
  walkIns: number;
  /** Expected and not yet present, absent or gone. */
  pending: number;
}

export interface SiteLiveView {
  id: string;
  name: string;
  isMain: boolean;
  order: number;
  counts: AttendanceCounts & { revision: number };
  link: { status: LinkStatus | null; note: string; at: string | null; revision: number };
  /** Connected while a coordinator page or wall display of the site is open on any instance. */
  presence: { connected: boolean; lastSeenAt: string | null; revision: number };
}

export interface QuorumView {
  percent: number;
  /** Present people (walk-ins included) needed. */
  needed: number;
  present: number;
  reached: boolean;
}

export interface TimerView {
  itemId: string;
  /** Planned length of this item including extensions, ms. */
  plannedMs: number;
  /** Time spent on it before `runningSince` (earlier runs, pauses), ms. */
  elapsedMs: number;
  /** When the current run started; null while paused. */
  runningSince: string | null;
  paused: boolean;
  /** Running: the instant the planned time is used up (remaining = endsAt - now). */
  endsAt: string | null;
  /** Already over its time (remaining < 0) when the state was written; screens recompute. */
  overrun: boolean;
}

export interface LiveAgendaItemView {
  id: string;
  order: number;
  title: string;
  kind: string;
  plannedMinutes: number;
  extendedMinutes: number;
  speakers: Array<{ name: string; position: string; attendeeId?: string }>;
  /** From the meeting's start and the planned durations, as published. */
  scheduledStartsAt: string;
  scheduledEndsAt: string;
  /** Where the day actually stands: delays and extensions shift the items not yet done. */
  plannedStartsAt: string;
  plannedEndsAt: string;
  actualStartedAt: string | null;
  actualEndedAt: string | null;
  /** Time spent on the item so far, ms (all runs). */
  spentMs: number;
  state: 'upcoming' | 'current' | 'done';
}

export interface LiveAgendaView {
  currentItemId: string | null;
  nextItemId: string | null;
  timer: TimerView | null;
  items: LiveAgendaItemView[];
  /** Minutes the day runs behind its published schedule (negative: ahead). */
  delayMinutes: number;
  revision: number;
}

export interface SpeakerRequestView {
  id: string;
  siteId: string | null;
  siteName: string | null;
  attendeeId: string | null;
  name: string;
  position: string;
  topic: string;
  status: 'waiting' | 'speaking' | 'done' | 'withdrawn';
  requestedBy: string;
  requestedAt: string;
  startedAt: string | null;
  endedAt: string | null;
  /** Spoken so far, ms (running speech: up to `startedAt`; add now - startedAt). */
  spokenMs: number;
  revision: number;
}

export interface SpeakersView {
  /** Waiting requests in the order the chair will give the floor. */
  queue: SpeakerRequestView[];
  floor: SpeakerRequestView | null;
  /** Finished and withdrawn requests, most recent first (last 50). */
  done: SpeakerRequestView[];
  timeBySpeaker: Array<{ key: string; name: string; siteId: string | null; spokenMs: number; speeches: number }>;
  timeBySite: Array<{ siteId: string | null; siteName: string | null; spokenMs: number; speeches: number }>;
  revision: number;
}

export interface YouView {
  kind: 'organizer' | 'chair' | 'coordinator' | 'attendee';
  siteId: string | null;
  attendeeId: string | null;
  can: {
    runMeeting: boolean;
    controlAgenda: boolean;
    manageSpeakers: boolean;
    checkInSite: string | null | 'all';
    setLink: boolean;
    requestToSpeak: boolean;
    setQuorum: boolean;
  };
}

export interface LiveSnapshot {
  revision: number;
  /** The server's clock when read, so screens correct their own for the timer. */
  serverNow: string;
  meeting: LiveMeetingView;
  sites: SiteLiveView[];
  totals: AttendanceCounts & { revision: number };
  quorum: QuorumView;
  agenda: LiveAgendaView;
  speakers: SpeakersView;
  /**
   * Organizer and chair: everyone; coordinator: their site; attendee: themself. The dashboard,
   * chair and wall pages embed only the meeting's latecomers (live/queries.ts SnapshotOptions).
   */
  attendance: AttendanceRecordView[];
  /** Coordinator only: their site's current self check-in code. */
  checkInCode: CheckInCodeView | null;
  you: YouView;
}

export interface CheckInCodeView {
  siteId: string;
  code: string;
  /** When the next code takes over (the current one is still accepted a little after). */
  rotatesAt: string;
  periodSeconds: number;
}

// ---------------------------------------------------------------------------------------------
// Pushed events: socket event "event" with { type, meetingId, revision, payload }.

export interface LiveEventPayloads {
  'meeting.started': { meeting: LiveMeetingView };
  'meeting.ended': { meeting: LiveMeetingView };
  'meeting.quorumChanged': { meeting: LiveMeetingView; quorum: QuorumView };
  /** Site room, organizers' room, and the attendee's own room. */
  'attendance.changed': { record: AttendanceRecordView };
  /** Whole meeting. */
  'attendance.counts': { siteId: string; counts: AttendanceCounts & { revision: number }; totals: AttendanceCounts & { revision: number }; quorum: QuorumView };
  'site.link': { siteId: string; link: SiteLiveView['link'] };
  'site.presence': { siteId: string; presence: SiteLiveView['presence'] };
  'agenda.live': { action: 'start' | 'next' | 'previous' | 'extend' | 'pause' | 'resume' | 'end'; agenda: LiveAgendaView; serverNow: string };
  'speakers.changed': { action: 'request' | 'withdraw' | 'reorder' | 'grant' | 'end'; speakers: SpeakersView; serverNow: string };
  /** A revision whose event this screen may not see (another site's private change): no gap. */
  revision: null;
}
export type LiveEventType = keyof LiveEventPayloads;
export interface LiveEvent<T extends LiveEventType = LiveEventType> {
  type: T;
  meetingId: string;
  revision: number;
  payload: LiveEventPayloads[T];
}
