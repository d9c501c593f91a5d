// The meeting's day: start it (scheduled -> live) and end it (live -> ended), by an organizer or
// the chair; and the quorum share (organizers). Each is one write through commitMeetingChange.
import '../live/messages.js';
import './messages.js';
import { commitMeetingChange, type MeetingRecord } from './revision.js';
import { MeetingModel } from './model.js';
import { requireOpenMeeting } from './guard.js';
import { finishSpeech } from '../speakers/actions.js';
import { endMeetingInput, setQuorumInput, startMeetingInput, type LiveMeetingView, type QuorumView } from '../live/contract.js';
import { invitedBySite, siteCounts, sumCounts, liveSitesOf } from '../live/counts.js';
import { quorumOf } from '../live/quorum.js';
import { requireMeetingRunner } from '../live/permissions.js';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { Conflict } from '../lib/errors.js';
import { parseInput } from '../lib/validation.js';

export function liveMeetingView(meeting: MeetingRecord): LiveMeetingView {
  const live = (meeting.live ?? {}) as { startedAt?: Date | null; endedAt?: Date | null; quorumPercent?: number };
  return {
    id: String(meeting._id),
    title: meeting.title,
    status: meeting.status,
    timeZone: meeting.timeZone,
    startsAt: meeting.startsAt.toISOString(),
    endsAt: meeting.endsAt.toISOString(),
    startedAt: live.startedAt ? new Date(live.startedAt).toISOString() : null,
    endedAt: live.endedAt ? new Date(live.endedAt).toISOString() : null,
    quorumPercent: live.quorumPercent ?? 50,
    revision: meeting.revision,
  };
}

async function refusal(meetingId: string, action: 'start' | 'end'): Promise<never> {
  const current = await MeetingModel.findById(meetingId, { status: 1 }).lean();
  throw new Conflict(`meeting.${action}.refused.${current?.status ?? 'draft'}`);
}

export async function startMeeting(actor: Actor, input: unknown): Promise<{ revision: number; meeting: LiveMeetingView }> {
  const { meetingId } = parseInput(startMeetingInput, input);
  requireMeetingRunner(actor, meetingId);
  await requireOpenMeeting(actor, meetingId, {});
  const now = new Date();
  try {
    const { revision, meeting } = await commitMeetingChange({
      audit: { actor },
      meetingId,
      when: { status: 'scheduled' },
      rejected: () => new Conflict('meeting.start.refused'),
      update: { $set: { status: 'live', 'live.startedAt': now, 'live.endedAt': null } },
      events: (_result, _revision, stored) => [{ type: 'meeting.started', payload: { meeting: liveMeetingView(stored) } }],
    });
    return { revision, meeting: liveMeetingView(meeting) };
  } catch (error) {
    if (error instanceof Conflict) return refusal(meetingId, 'start');
    throw error;
  }
}

/** Ends the day: the running agenda item and speech stop at this instant. */
export async function endMeeting(actor: Actor, input: unknown): Promise<{ revision: number; meeting: LiveMeetingView }> {
  const { meetingId } = parseInput(endMeetingInput, input);
  requireMeetingRunner(actor, meetingId);
  const { meeting: current } = await requireOpenMeeting(actor, meetingId, {});
  if (current.status !== 'live') return refusal(meetingId, 'end');
  const now = new Date();
  const agenda = current.live?.agenda;
  const runs = (agenda?.runs ?? []).map((run) => {
    if (run.endedAt || !agenda?.timer || String(agenda.timer.itemId) !== String(run.itemId)) return run;
    const running = agenda.timer.runningSince ? now.getTime() - new Date(agenda.timer.runningSince).getTime() : 0;
    return { ...run, endedAt: now, spentMs: (agenda.timer.elapsedMs ?? 0) + running };
  });
  const floorId = current.live?.speakers?.floorId;
  try {
    const { revision, meeting } = await commitMeetingChange({
      audit: { actor },
      meetingId,
      when: { status: 'live' },
      rejected: () => new Conflict('meeting.end.refused'),
      update: {
        $set: { status: 'ended', 'live.endedAt': now, 'live.agenda.runs': runs, 'live.agenda.timer': null, 'live.agenda.currentItemId': null, 'live.speakers.floorId': null },
        $inc: { 'live.agenda.version': 1, 'live.speakers.version': 1 },
      },
      write: async (revision) => {
        if (floorId) await finishSpeech(floorId, now, revision);
      },
      events: (_result, _revision, stored) => [{ type: 'meeting.ended', payload: { meeting: liveMeetingView(stored) } }],
    });
    return { revision, meeting: liveMeetingView(meeting) };
  } catch (error) {
    if (error instanceof Conflict) return refusal(meetingId, 'end');
    throw error;
  }
}

export async function setQuorum(actor: Actor, input: unknown): Promise<{ revision: number; quorum: QuorumView; meeting: LiveMeetingView }> {
  const { meetingId, quorumPercent } = parseInput(setQuorumInput, input);
  requireOrganizer(actor);
  await requireOpenMeeting(actor, meetingId, {});
  const invited = await invitedBySite(meetingId);
  const quorumFor = (stored: MeetingRecord) => {
    const sites = liveSitesOf(stored.live);
    const ids = new Set([...invited.keys(), ...Object.keys(sites)]);
    return quorumOf(sumCounts([...ids].map((id) => siteCounts(sites[id], invited.get(id)))), quorumPercent);
  };
  const { revision, meeting } = await commitMeetingChange({
    audit: { actor },
    meetingId,
    when: { status: { $nin: ['ended', 'cancelled'] } },
    rejected: () => new Conflict('meeting.ended.readonly'),
    update: { $set: { 'live.quorumPercent': quorumPercent } },
    events: (_result, _revision, stored) => [{ type: 'meeting.quorumChanged', payload: { meeting: liveMeetingView(stored), quorum: quorumFor(stored) } }],
  });
  return { revision, quorum: quorumFor(meeting), meeting: liveMeetingView(meeting) };
}
