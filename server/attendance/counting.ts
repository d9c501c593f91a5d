// What one attendance record adds to its site's counters (present, absent, left early, late,
// resolved, walk-ins). The actions move the counters by the difference a change makes; the
// recount (recount.ts) adds them up again from the records.
import type { Attendance } from './model.js';

export type State = Pick<Attendance, 'status' | 'presentAt' | 'leftAt' | 'late' | 'absence' | 'changedBy'>;

export const counterKinds = ['present', 'absent', 'leftEarly', 'late', 'walkIns', 'resolved'] as const;

export function stateOf(source: Partial<State>): State {
  return {
    status: source.status ?? 'expected',
    presentAt: source.presentAt ?? null,
    leftAt: source.leftAt ?? null,
    late: source.late ?? false,
    absence: source.absence ? { reason: source.absence.reason, ...(source.absence.delegateName ? { delegateName: source.absence.delegateName } : {}), ...(source.absence.note ? { note: source.absence.note } : {}) } : null,
    changedBy: source.changedBy ?? null,
  };
}

/** The counters a record contributes in one state; a change moves the site by the difference. */
export function contribution(state: State, walkIn: boolean): Record<string, number> {
  const here = state.status === 'present' || state.status === 'leftEarly';
  return {
    present: state.status === 'present' ? 1 : 0,
    absent: state.status === 'absent' ? 1 : 0,
    leftEarly: state.status === 'leftEarly' ? 1 : 0,
    late: here && state.late ? 1 : 0,
    resolved: !walkIn && state.status !== 'expected' ? 1 : 0,
  };
}

/** Everything a stored record counts for, walk-ins included (a walk-in counts from their first change). */
export function countedBy(record: Partial<State> & { walkIn?: boolean | null; version?: number | null }): Record<string, number> {
  const walkIn = Boolean(record.walkIn);
  return { ...contribution(stateOf(record), walkIn), walkIns: walkIn && (record.version ?? 0) > 0 ? 1 : 0 };
}

export function counterDelta(before: State, after: State, walkIn: boolean, walkInsAdded: number): Record<string, number> {
  const a = contribution(before, walkIn);
  const b = contribution(after, walkIn);
  const delta: Record<string, number> = {};
  for (const key of Object.keys(a)) if (b[key] !== a[key]) delta[key] = b[key] - a[key];
  if (walkInsAdded) delta.walkIns = walkInsAdded;
  return delta;
}
