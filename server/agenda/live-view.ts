// The agenda as the day runs: every item's scheduled (published), planned (shifted by delays and
// extensions) and actual times, the current item and its timer. Computed from the meeting's live
// state, so every screen reads the same thing.
import type { Types } from 'mongoose';
import { AgendaItemModel, scheduleTimes } from './model.js';
import type { LiveAgendaItemView, LiveAgendaView, TimerView } from '../live/contract.js';

export interface AgendaRun {
  itemId: Types.ObjectId;
  startedAt: Date;
  endedAt?: Date | null;
  spentMs?: number | null;
  extendedMinutes?: number | null;
}

export interface AgendaTimer {
  itemId: Types.ObjectId;
  plannedMs: number;
  elapsedMs?: number | null;
  runningSince?: Date | null;
  paused?: boolean | null;
}

export interface AgendaLiveState {
  currentItemId?: Types.ObjectId | null;
  runs?: AgendaRun[];
  timer?: AgendaTimer | null;
}

export interface PlainAgendaItem {
  _id: Types.ObjectId;
  order: number;
  title: string;
  kind: string;
  plannedMinutes: number;
  speakers?: Array<{ name: string; position?: string | null; attendeeId?: Types.ObjectId | null }>;
}

export async function loadAgendaItems(meetingId: string): Promise<PlainAgendaItem[]> {
  return AgendaItemModel.find({ meetingId }, { order: 1, title: 1, kind: 1, plannedMinutes: 1, speakers: 1 }).sort({ order: 1 }).lean<PlainAgendaItem[]>();
}

/** Time spent on the timer's item so far. */
export function timerElapsed(timer: AgendaTimer, now: number): number {
  return (timer.elapsedMs ?? 0) + (timer.runningSince && !timer.paused ? Math.max(0, now - new Date(timer.runningSince).getTime()) : 0);
}

export function timerView(timer: AgendaTimer | null | undefined, now: number): TimerView | null {
  if (!timer) return null;
  const running = Boolean(timer.runningSince) && !timer.paused;
  const elapsedMs = timer.elapsedMs ?? 0;
  const endsAt = running ? new Date(new Date(timer.runningSince!).getTime() + timer.plannedMs - elapsedMs) : null;
  return {
    itemId: String(timer.itemId),
    plannedMs: timer.plannedMs,
    elapsedMs,
    runningSince: running ? new Date(timer.runningSince!).toISOString() : null,
    paused: !running,
    endsAt: endsAt ? endsAt.toISOString() : null,
    overrun: timerElapsed(timer, now) > timer.plannedMs,
  };
}

export function liveAgendaView(items: PlainAgendaItem[], meetingStartsAt: Date, state: AgendaLiveState | undefined, revision: number, now = Date.now()): LiveAgendaView {
  const runs = new Map((state?.runs ?? []).map((run) => [String(run.itemId), run]));
  const currentId = state?.currentItemId ? String(state.currentItemId) : null;
  const timer = state?.timer ?? null;
  const scheduled = scheduleTimes(items, meetingStartsAt);
  const anyRun = runs.size > 0;
  let cursor = meetingStartsAt.getTime();
  let delayMs: number | null = null;
  const views: LiveAgendaItemView[] = scheduled.map((item) => {
    const id = String(item._id);
    const run = runs.get(id);
    const extendedMinutes = run?.extendedMinutes ?? 0;
    const lengthMs = (item.plannedMinutes + extendedMinutes) * 60_000;
    const isCurrent = id === currentId;
    const state: LiveAgendaItemView['state'] = isCurrent ? 'current' : run?.endedAt ? 'done' : 'upcoming';
    let plannedStart: number;
    let plannedEnd: number;
    let spentMs = run?.spentMs ?? 0;
    if (state === 'done' && run) {
      plannedStart = new Date(run.startedAt).getTime();
      plannedEnd = new Date(run.endedAt!).getTime();
    } else if (isCurrent && run) {
      plannedStart = new Date(run.startedAt).getTime();
      const elapsed = timer && String(timer.itemId) === id ? timerElapsed(timer, now) : spentMs;
      spentMs = elapsed;
      plannedEnd = now + Math.max(0, lengthMs - elapsed);
    } else {
      // Before the day starts the plan is the schedule; once it runs, later items follow the cursor.
      plannedStart = anyRun ? cursor : item.startsAt.getTime();
      plannedEnd = plannedStart + lengthMs;
      if (delayMs === null && anyRun) delayMs = plannedStart - item.startsAt.getTime();
    }
    if (isCurrent) delayMs = plannedStart - item.startsAt.getTime();
    cursor = plannedEnd;
    return {
      id,
      order: item.order,
      title: item.title,
      kind: item.kind,
      plannedMinutes: item.plannedMinutes,
      extendedMinutes,
      speakers: (item.speakers ?? []).map((speaker) => ({ name: speaker.name, position: speaker.position ?? '', ...(speaker.attendeeId ? { attendeeId: String(speaker.attendeeId) } : {}) })),
      scheduledStartsAt: item.startsAt.toISOString(),
      scheduledEndsAt: item.endsAt.toISOString(),
      plannedStartsAt: new Date(plannedStart).toISOString(),
      plannedEndsAt: new Date(plannedEnd).toISOString(),
      actualStartedAt: run ? new Date(run.startedAt).toISOString() : null,
      actualEndedAt: run?.endedAt ? new Date(run.endedAt).toISOString() : null,
      spentMs,
      state,
    };
  });
  const currentIndex = currentId ? views.findIndex((item) => item.id === currentId) : -1;
  const nextItem = currentIndex >= 0 ? views[currentIndex + 1] : views.find((item) => item.state === 'upcoming');
  return {
    currentItemId: currentIndex >= 0 ? currentId : null,
    nextItemId: nextItem?.id ?? null,
    timer: timerView(timer, now),
    items: views,
    delayMinutes: Math.round((delayMs ?? 0) / 60_000),
    revision,
  };
}
