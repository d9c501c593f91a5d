// Running the agenda on the day (organizer or chair): start an item, next, previous, extend the
// current one, pause and resume its timer. The position, the runs (actual times) and the timer
// are the meeting's live state: each change is one write with the revision (live/guarded.ts).
import '../live/messages.js';
import './messages.js';
import { liveAgendaView, loadAgendaItems, timerElapsed, type AgendaLiveState, type AgendaRun, type PlainAgendaItem } from './live-view.js';
import type { MeetingRecord } from '../meetings/revision.js';
import { agendaExtendInput, agendaPauseInput, agendaResumeInput, agendaStartInput, agendaStepInput, type LiveAgendaView } from '../live/contract.js';
import { commitGuarded, type GuardedPlan } from '../live/guarded.js';
import { onceOnly } from '../live/operations.js';
import { requireMeetingRunner } from '../live/permissions.js';
import type { Actor } from '../lib/actor.js';
import { Conflict, NotFound } from '../lib/errors.js';
import { parseInput } from '../lib/validation.js';

export interface AgendaControlAck {
  revision: number;
  changed: boolean;
  agenda: LiveAgendaView;
  [key: string]: unknown;
}

type Action = 'start' | 'next' | 'previous' | 'extend' | 'pause' | 'resume';
type Decision = { state: AgendaLiveState } | undefined;

const closed = { draft: 'agenda.live.notLive', scheduled: 'agenda.live.notLive', ended: 'agenda.live.ended', cancelled: 'agenda.live.cancelled' };

function stateOf(meeting: MeetingRecord): Required<AgendaLiveState> {
  const agenda = meeting.live?.agenda as AgendaLiveState | undefined;
  return { currentItemId: agenda?.currentItemId ?? null, runs: (agenda?.runs ?? []).map((run) => ({ ...run })), timer: agenda?.timer ? { ...agenda.timer } : null };
}

/** The current item's run closes at `now`, with the time spent on it. */
function closeCurrent(state: Required<AgendaLiveState>, now: Date): void {
  if (!state.currentItemId) return;
  const run = state.runs.find((entry) => String(entry.itemId) === String(state.currentItemId));
  if (run && !run.endedAt) {
    run.endedAt = now;
    run.spentMs = state.timer && String(state.timer.itemId) === String(run.itemId) ? timerElapsed(state.timer, now.getTime()) : (run.spentMs ?? 0);
  }
  state.currentItemId = null;
  state.timer = null;
}

/** `item` becomes current: a new run, or an earlier one re-opened (its timer continues). */
function open(state: Required<AgendaLiveState>, item: PlainAgendaItem, now: Date): void {
  closeCurrent(state, now);
  let run = state.runs.find((entry) => String(entry.itemId) === String(item._id));
  if (run) run.endedAt = null;
  else {
    run = { itemId: item._id, startedAt: now, endedAt: null, spentMs: 0, extendedMinutes: 0 } satisfies AgendaRun;
    state.runs.push(run);
  }
  state.currentItemId = item._id;
  state.timer = { itemId: item._id, plannedMs: (item.plannedMinutes + (run.extendedMinutes ?? 0)) * 60_000, elapsedMs: run.spentMs ?? 0, runningSince: now, paused: false };
}

async function control(actor: Actor, meetingId: string, action: Action, decide: (state: Required<AgendaLiveState>, items: PlainAgendaItem[], now: Date) => Decision): Promise<AgendaControlAck> {
  requireMeetingRunner(actor, meetingId);
  const items = await loadAgendaItems(meetingId);
  const committed = await commitGuarded<undefined>({
    actor,
    meetingId,
    part: 'agenda',
    closed,
    plan: (meeting): GuardedPlan<undefined> | undefined => {
      const now = new Date();
      const decision = decide(stateOf(meeting), items, now);
      if (!decision) return undefined;
      return {
        update: { $set: { 'live.agenda.currentItemId': decision.state.currentItemId ?? null, 'live.agenda.runs': decision.state.runs ?? [], 'live.agenda.timer': decision.state.timer ?? null } },
        events: (_result, revision, stored) => [
          { type: 'agenda.live', payload: { action, agenda: liveAgendaView(items, stored.startsAt, stored.live?.agenda as AgendaLiveState, revision), serverNow: new Date().toISOString() } },
        ],
      };
    },
  });
  return { revision: committed.revision, changed: committed.changed, agenda: liveAgendaView(items, committed.meeting.startsAt, committed.meeting.live?.agenda as AgendaLiveState, committed.revision) };
}

export async function startAgendaItem(actor: Actor, input: unknown): Promise<AgendaControlAck> {
  const data = parseInput(agendaStartInput, input);
  return control(actor, data.meetingId, 'start', (state, items, now) => {
    const item = items.find((entry) => String(entry._id) === data.itemId);
    if (!item) throw new NotFound('agenda.notFound');
    if (String(state.currentItemId) === data.itemId) return undefined;
    open(state, item, now);
    return { state };
  });
}

/** Next item; on the last one, it ends (no current item). With `fromItemId`, a resend moves once. */
export async function nextAgendaItem(actor: Actor, input: unknown): Promise<AgendaControlAck> {
  const data = parseInput(agendaStepInput, input);
  return control(actor, data.meetingId, 'next', (state, items, now) => {
    if (data.fromItemId && String(state.currentItemId) !== data.fromItemId) return undefined;
    const index = state.currentItemId ? items.findIndex((item) => String(item._id) === String(state.currentItemId)) : -1;
    if (index === -1) {
      // Nothing running: the first item not yet done.
      const done = new Set(state.runs.filter((run) => run.endedAt).map((run) => String(run.itemId)));
      const first = items.find((item) => !done.has(String(item._id)));
      if (!first) return undefined;
      open(state, first, now);
      return { state };
    }
    const next = items[index + 1];
    if (next) open(state, next, now);
    else closeCurrent(state, now);
    return { state };
  });
}

export async function previousAgendaItem(actor: Actor, input: unknown): Promise<AgendaControlAck> {
  const data = parseInput(agendaStepInput, input);
  return control(actor, data.meetingId, 'previous', (state, items, now) => {
    if (data.fromItemId && String(state.currentItemId) !== data.fromItemId) return undefined;
    const index = state.currentItemId ? items.findIndex((item) => String(item._id) === String(state.currentItemId)) : items.length;
    const previous = items[index - 1];
    if (!previous) return undefined;
    open(state, previous, now);
    return { state };
  });
}

export async function extendAgendaItem(actor: Actor, input: unknown): Promise<AgendaControlAck> {
  const data = parseInput(agendaExtendInput, input);
  const run = () =>
    control(actor, data.meetingId, 'extend', (state) => {
      if (!state.currentItemId || !state.timer) throw new Conflict('agenda.live.nothingRunning');
      const current = state.runs.find((entry) => String(entry.itemId) === String(state.currentItemId));
      if (current) current.extendedMinutes = (current.extendedMinutes ?? 0) + data.minutes;
      state.timer.plannedMs += data.minutes * 60_000;
      return { state };
    });
  if (!data.opId) return run();
  requireMeetingRunner(actor, data.meetingId);
  return onceOnly({ meetingId: data.meetingId, opId: data.opId, command: 'agenda:extend', target: String(data.minutes) }, run);
}

export async function pauseAgendaItem(actor: Actor, input: unknown): Promise<AgendaControlAck> {
  const data = parseInput(agendaPauseInput, input);
  return control(actor, data.meetingId, 'pause', (state, _items, now) => {
    if (!state.timer) throw new Conflict('agenda.live.nothingRunning');
    if (state.timer.paused || !state.timer.runningSince) return undefined;
    state.timer = { ...state.timer, elapsedMs: timerElapsed(state.timer, now.getTime()), runningSince: null, paused: true };
    return { state };
  });
}

export async function resumeAgendaItem(actor: Actor, input: unknown): Promise<AgendaControlAck> {
  const data = parseInput(agendaResumeInput, input);
  return control(actor, data.meetingId, 'resume', (state, _items, now) => {
    if (!state.timer) throw new Conflict('agenda.live.nothingRunning');
    if (!state.timer.paused) return undefined;
    state.timer = { ...state.timer, runningSince: now, paused: false };
    return { state };
  });
}

