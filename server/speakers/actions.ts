// Requests to speak, one action per change (OpenSlides' list of speakers): request (a site on
// behalf of someone there, or an attendee), withdraw, reorder, give the floor, end the speech.
// The queue order and who has the floor live in the meeting's live state (one write with the
// revision); each request is a document stamped with the revision of its last change.
import './messages.js';
import { Types } from 'mongoose';
import { SpeakerRequestModel } from './model.js';
import { loadSpeakers } from './queries.js';
import { AttendeeModel } from '../attendees/model.js';
import { SiteModel } from '../sites/model.js';
import type { MeetingRecord } from '../meetings/revision.js';
import { endSpeechInput, grantFloorInput, reorderSpeakersInput, requestToSpeakInput, withdrawRequestInput, type SpeakerRequestView, type SpeakersView } from '../live/contract.js';
import { commitGuarded } from '../live/guarded.js';
import { onceOnly } from '../live/operations.js';
import { actorLabel, canRunMeeting, requireMeetingRunner, requireSignedIn } from '../live/permissions.js';
import type { Actor } from '../lib/actor.js';
import { Conflict, Forbidden, Invalid, NotFound } from '../lib/errors.js';
import { parseInput } from '../lib/validation.js';

export interface SpeakersAck {
  revision: number;
  changed: boolean;
  speakers: SpeakersView;
  request?: SpeakerRequestView;
  [key: string]: unknown;
}

const requestsClosed = { draft: 'speakers.closed.draft', ended: 'speakers.closed.ended', cancelled: 'speakers.closed.cancelled' };
const floorClosed = { ...requestsClosed, scheduled: 'speakers.floor.notLive' };

function speakersState(meeting: MeetingRecord) {
  const state = meeting.live?.speakers as { queue?: Types.ObjectId[]; floorId?: Types.ObjectId | null } | undefined;
  return { queue: state?.queue ?? [], floorId: state?.floorId ?? null };
}

function announce(action: string) {
  return (speakers: SpeakersView) => [{ type: 'speakers.changed', payload: { action, speakers, serverNow: new Date().toISOString() } }];
}

async function ack(meetingId: string, committed: { revision: number; meeting: MeetingRecord; result: SpeakersView | undefined; changed: boolean }, requestId?: string): Promise<SpeakersAck> {
  const speakers = committed.result ?? (await loadSpeakers(meetingId, speakersState(committed.meeting), committed.revision));
  const request = requestId ? [...speakers.queue, ...(speakers.floor ? [speakers.floor] : []), ...speakers.done].find((entry) => entry.id === requestId) : undefined;
  return { revision: committed.revision, changed: committed.changed, speakers, ...(request ? { request } : {}) };
}

/** Who speaks and for which site, as the asker may say it. */
async function resolveSpeaker(actor: Actor, data: { meetingId: string; siteId?: string; attendeeId?: string; name?: string }) {
  requireSignedIn(actor);
  if (actor.kind !== 'organizer' && actor.meetingId !== data.meetingId) throw new Forbidden();
  if (actor.kind === 'attendee') {
    // An attendee asks for themself only, for their own site.
    if ((data.attendeeId && data.attendeeId !== actor.attendeeId) || data.name) throw new Forbidden('speakers.forbidden.onlySelf');
    const self = await AttendeeModel.findOne({ _id: actor.attendeeId, meetingId: data.meetingId }, { fullName: 1, position: 1, siteId: 1 }).lean();
    if (!self) throw new NotFound('attendance.attendee.notFound');
    if (data.siteId && data.siteId !== String(self.siteId)) throw new Forbidden('speakers.forbidden.onlySelf');
    return { siteId: self.siteId, attendeeId: self._id, name: self.fullName, position: self.position ?? '', requestedByAttendeeId: self._id };
  }
  let siteId = data.siteId;
  if (actor.kind === 'coordinator') {
    if (siteId && siteId !== actor.siteId) throw new Forbidden('live.forbidden.otherSite');
    siteId = actor.siteId;
  }
  const site = siteId ? await SiteModel.findOne({ _id: siteId, meetingId: data.meetingId }, { name: 1 }).lean() : undefined;
  if (siteId && !site) throw new NotFound('attendance.site.notFound');
  if (data.attendeeId) {
    const person = await AttendeeModel.findOne({ _id: data.attendeeId, meetingId: data.meetingId }, { fullName: 1, position: 1, siteId: 1 }).lean();
    if (!person) throw new NotFound('attendance.attendee.notFound');
    if (actor.kind === 'coordinator' && String(person.siteId) !== actor.siteId) throw new Forbidden('live.forbidden.otherSite');
    return { siteId: siteId ? new Types.ObjectId(siteId) : person.siteId, attendeeId: person._id, name: person.fullName, position: person.position ?? '', requestedByAttendeeId: actor.kind === 'chair' ? new Types.ObjectId(actor.attendeeId) : null };
  }
  const name = data.name ?? site?.name;
  if (!name) throw new Invalid({ name: { key: 'speakers.name.required' } });
  return { siteId: siteId ? new Types.ObjectId(siteId) : null, attendeeId: null, name, position: '', requestedByAttendeeId: actor.kind === 'chair' ? new Types.ObjectId(actor.attendeeId) : null };
}

export async function requestToSpeak(actor: Actor, input: unknown): Promise<SpeakersAck> {
  const data = parseInput(requestToSpeakInput, input);
  const speaker = await resolveSpeaker(actor, data);
  return onceOnly({ meetingId: data.meetingId, opId: data.opId, command: 'speakers:request', target: data.topic, input: data }, async () => {
    const requestId = new Types.ObjectId();
    // The request exists before its id enters the queue (unseen until then: screens list the
    // queue's ids), so a second request of the same attendee, retried after the first one's
    // write, always finds the first one's owner.
    await SpeakerRequestModel.create({ _id: requestId, meetingId: data.meetingId, ...speaker, topic: data.topic, requestedBy: actorLabel(actor), requestedAt: new Date(), revision: 0 });
    try {
      const committed = await commitGuarded<SpeakersView>({
        actor,
        meetingId: data.meetingId,
        part: 'speakers',
        closed: requestsClosed,
        plan: async (meeting) => {
          // An attendee waits in the queue once (their own phone could otherwise fill it for everyone).
          if (actor.kind === 'attendee' && (await SpeakerRequestModel.exists({ _id: { $in: speakersState(meeting).queue }, attendeeId: speaker.attendeeId }))) {
            throw new Conflict('speakers.request.alreadyWaiting');
          }
          return {
            update: { $push: { 'live.speakers.queue': requestId } },
            write: async (revision, stored) => {
              await SpeakerRequestModel.updateOne({ _id: requestId }, { $set: { revision } });
              return loadSpeakers(data.meetingId, speakersState(stored), revision);
            },
            events: announce('request'),
          };
        },
      });
      if (!committed.changed) await SpeakerRequestModel.deleteOne({ _id: requestId });
      return ack(data.meetingId, committed, String(requestId));
    } catch (error) {
      await SpeakerRequestModel.deleteOne({ _id: requestId });
      throw error;
    }
  });
}

export async function withdrawRequest(actor: Actor, input: unknown): Promise<SpeakersAck> {
  const data = parseInput(withdrawRequestInput, input);
  requireSignedIn(actor);
  const request = await SpeakerRequestModel.findOne({ _id: data.requestId, meetingId: data.meetingId }).lean();
  if (!request) throw new NotFound('speakers.notFound');
  const mine =
    canRunMeeting(actor, data.meetingId) ||
    (actor.kind === 'coordinator' && actor.meetingId === data.meetingId && String(request.siteId) === actor.siteId) ||
    (actor.kind === 'attendee' && actor.meetingId === data.meetingId && (String(request.requestedByAttendeeId) === actor.attendeeId || String(request.attendeeId) === actor.attendeeId));
  if (!mine) throw new Forbidden('speakers.forbidden.notYours');
  const committed = await commitGuarded<SpeakersView>({
    actor,
    meetingId: data.meetingId,
    part: 'speakers',
    closed: requestsClosed,
    plan: (meeting) => {
      if (!speakersState(meeting).queue.some((id) => String(id) === data.requestId)) return undefined;
      return {
        update: { $pull: { 'live.speakers.queue': new Types.ObjectId(data.requestId) } },
        write: async (revision, stored) => {
          await SpeakerRequestModel.updateOne({ _id: data.requestId, status: 'waiting' }, { $set: { status: 'withdrawn', endedAt: new Date(), revision } });
          return loadSpeakers(data.meetingId, speakersState(stored), revision);
        },
        events: announce('withdraw'),
      };
    },
  });
  return ack(data.meetingId, committed, data.requestId);
}

export async function reorderSpeakers(actor: Actor, input: unknown): Promise<SpeakersAck> {
  const data = parseInput(reorderSpeakersInput, input);
  requireMeetingRunner(actor, data.meetingId);
  const committed = await commitGuarded<SpeakersView>({
    actor,
    meetingId: data.meetingId,
    part: 'speakers',
    closed: requestsClosed,
    plan: (meeting) => {
      const queue = speakersState(meeting).queue.map(String);
      const asked = data.orderedIds;
      if (asked.length !== queue.length || new Set(asked).size !== asked.length || !asked.every((id) => queue.includes(id))) throw new Conflict('speakers.reorder.stale');
      if (asked.every((id, index) => id === queue[index])) return undefined;
      return {
        update: { $set: { 'live.speakers.queue': asked.map((id) => new Types.ObjectId(id)) } },
        write: async (revision, stored) => loadSpeakers(data.meetingId, speakersState(stored), revision),
        events: announce('reorder'),
      };
    },
  });
  return ack(data.meetingId, committed);
}

/** Ends a speech at `now`: its time is added to what the request has spoken. */
export async function finishSpeech(requestId: Types.ObjectId | string, now: Date, revision: number): Promise<void> {
  const request = await SpeakerRequestModel.findById(requestId).lean();
  if (!request || request.status !== 'speaking' || !request.startedAt) return;
  await SpeakerRequestModel.updateOne(
    { _id: requestId, status: 'speaking', revision: { $lt: revision } },
    { $set: { status: 'done', endedAt: now, spokenMs: (request.spokenMs ?? 0) + Math.max(0, now.getTime() - request.startedAt.getTime()), revision } },
  );
}

/** Gives the floor to a waiting request; whoever was speaking finishes now. */
export async function grantFloor(actor: Actor, input: unknown): Promise<SpeakersAck> {
  const data = parseInput(grantFloorInput, input);
  requireMeetingRunner(actor, data.meetingId);
  const committed = await commitGuarded<SpeakersView>({
    actor,
    meetingId: data.meetingId,
    part: 'speakers',
    closed: floorClosed,
    plan: (meeting) => {
      const state = speakersState(meeting);
      if (state.floorId && String(state.floorId) === data.requestId) return undefined;
      if (!state.queue.some((id) => String(id) === data.requestId)) throw new Conflict('speakers.grant.notWaiting');
      const now = new Date();
      return {
        update: { $pull: { 'live.speakers.queue': new Types.ObjectId(data.requestId) }, $set: { 'live.speakers.floorId': new Types.ObjectId(data.requestId) } },
        write: async (revision, stored) => {
          if (state.floorId) await finishSpeech(state.floorId, now, revision);
          await SpeakerRequestModel.updateOne({ _id: data.requestId, revision: { $lt: revision } }, { $set: { status: 'speaking', startedAt: now, revision } });
          return loadSpeakers(data.meetingId, speakersState(stored), revision);
        },
        events: announce('grant'),
      };
    },
  });
  return ack(data.meetingId, committed, data.requestId);
}

export async function endSpeech(actor: Actor, input: unknown): Promise<SpeakersAck> {
  const data = parseInput(endSpeechInput, input);
  requireMeetingRunner(actor, data.meetingId);
  const committed = await commitGuarded<SpeakersView>({
    actor,
    meetingId: data.meetingId,
    part: 'speakers',
    closed: floorClosed,
    plan: (meeting) => {
      const { floorId } = speakersState(meeting);
      if (!floorId) return undefined;
      const now = new Date();
      return {
        update: { $set: { 'live.speakers.floorId': null } },
        write: async (revision, stored) => {
          await finishSpeech(floorId, now, revision);
          return loadSpeakers(data.meetingId, speakersState(stored), revision);
        },
        events: announce('end'),
      };
    },
  });
  return ack(data.meetingId, committed);
}
