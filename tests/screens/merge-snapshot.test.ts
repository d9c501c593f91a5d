// A second reader's edge cases of mergeSnapshot (client/_live.ts): a snapshot onto what a screen
// shows, entity by entity. The interesting answers are the stale ones (an instance whose copy of
// the meeting lags behind the events it relays): they must take nothing back.
import { describe, expect, it } from 'vitest';
import { applyEvent, mergeSnapshot } from '../../client/_live.js';
import type { AttendanceCounts, AttendanceRecordView, LiveEvent, LiveSnapshot, SiteLiveView } from '../../server/live/contract.js';

const zero: AttendanceCounts = { expected: 0, present: 0, absent: 0, leftEarly: 0, late: 0, walkIns: 0, pending: 0 };

function site(id: string, revision: number, counts: Partial<AttendanceCounts> = {}): SiteLiveView {
  return {
    id,
    name: `Điểm cầu ${id}`,
    isMain: id === 'main',
    order: 0,
    counts: { ...zero, ...counts, revision },
    link: { status: null, note: '', at: null, revision },
    presence: { connected: false, lastSeenAt: null, revision },
  };
}

function record(attendeeId: string, revision: number, status: AttendanceRecordView['status'] = 'present'): AttendanceRecordView {
  return { attendeeId, siteId: 'main', fullName: attendeeId, status, revision } as AttendanceRecordView;
}

/** A snapshot at `revision` (every entity stamped with it, as the server does). */
function snapshot(revision: number, parts: Partial<LiveSnapshot> = {}): LiveSnapshot {
  const sites = parts.sites ?? [site('main', revision, { expected: 10, present: 4 })];
  const totals = { ...zero, expected: 10, present: 4, revision };
  return {
    revision,
    serverNow: new Date().toISOString(),
    meeting: { id: 'm', title: 'Hội nghị', status: 'live', timeZone: 'Asia/Ho_Chi_Minh', startsAt: '', endsAt: '', startedAt: null, endedAt: null, quorumPercent: 50, revision },
    sites,
    totals,
    quorum: { percent: 50, needed: 5, present: 4, reached: false },
    agenda: { revision } as LiveSnapshot['agenda'],
    speakers: { revision } as LiveSnapshot['speakers'],
    attendance: [],
    checkInCode: null,
    you: {} as LiveSnapshot['you'],
    ...parts,
  };
}

describe('mergeSnapshot', () => {
  it('a stale snapshot keeps what events newer than it showed, and the meeting ended stays ended', () => {
    const shown = snapshot(20, { sites: [site('main', 20, { expected: 10, present: 7 })], attendance: [record('a', 18), record('b', 12, 'absent')] });
    shown.meeting = { ...shown.meeting, status: 'ended', revision: 20 };
    const stale = snapshot(15, { attendance: [record('a', 9, 'expected'), record('b', 12, 'absent')] });
    const merged = mergeSnapshot(shown, stale);
    expect(merged.meeting.status).toBe('ended');
    expect(merged.revision).toBe(20);
    expect(merged.sites[0].counts).toMatchObject({ present: 7, revision: 20 });
    expect(merged.attendance.find((known) => known.attendeeId === 'a')).toMatchObject({ status: 'present', revision: 18 });
  });

  it('a record the snapshot no longer lists goes if it is no newer than the snapshot (removed), stays if newer (written after)', () => {
    const shown = snapshot(20, { attendance: [record('gone', 10), record('new', 19)] });
    const merged = mergeSnapshot(shown, snapshot(15));
    expect(merged.attendance.map((known) => known.attendeeId)).toEqual(['new']);
  });

  it('a stale snapshot does not take back a site the screen learnt of from a newer snapshot (added after the stale copy)', () => {
    // The page read a fresh snapshot at 20 with a site added at 18; a lagging instance answers 15.
    const shown = snapshot(20, { sites: [site('main', 20, { expected: 10, present: 4 }), site('late', 20, { expected: 3, present: 1 })] });
    const merged = mergeSnapshot(shown, snapshot(15));
    expect(merged.sites.map((known) => known.id)).toEqual(['main', 'late']);
  });

  it('the quorum line agrees with the totals shown when the snapshot brings newer totals but the screen has a newer meeting', () => {
    // Shown: counts heard at 12 (present 4), then meeting.started at 20; revisions 13-19 missing.
    // A stale answer at 18 has newer totals (present 6, check-ins in the gap).
    const shown = snapshot(20, { sites: [site('main', 12, { expected: 10, present: 4 })], totals: { ...zero, expected: 10, present: 4, revision: 12 } });
    shown.meeting = { ...shown.meeting, status: 'live', revision: 20 };
    const stale = snapshot(18, {
      sites: [site('main', 18, { expected: 10, present: 6 })],
      totals: { ...zero, expected: 10, present: 6, revision: 18 },
      quorum: { percent: 50, needed: 5, present: 6, reached: true },
    });
    stale.meeting = { ...stale.meeting, status: 'scheduled' };
    const merged = mergeSnapshot(shown, stale);
    expect(merged.meeting.status).toBe('live');
    expect(merged.totals.present).toBe(6);
    expect(merged.quorum).toEqual({ percent: 50, needed: 5, present: 6, reached: true });
  });

  it('a new quorum share heard after the snapshot stays, recounted on the totals shown', () => {
    const shown = snapshot(20, { totals: { ...zero, expected: 10, present: 4, revision: 12 }, quorum: { percent: 75, needed: 8, present: 4, reached: false } });
    shown.meeting = { ...shown.meeting, quorumPercent: 75, revision: 20 };
    const stale = snapshot(18, { totals: { ...zero, expected: 10, present: 6, revision: 18 }, quorum: { percent: 50, needed: 5, present: 6, reached: true } });
    const merged = mergeSnapshot(shown, stale);
    expect(merged.quorum).toEqual({ percent: 75, needed: 8, present: 6, reached: false });
  });
});

describe('applyEvent, events crossing between instances (a lower revision after a higher one)', () => {
  const counts = (revision: number, present: number, percent: number): LiveEvent => ({
    type: 'attendance.counts',
    meetingId: 'm',
    revision,
    payload: {
      siteId: 'main',
      counts: { ...zero, expected: 10, present, revision },
      totals: { ...zero, expected: 10, present, revision },
      quorum: { percent, needed: Math.ceil((10 * percent) / 100), present, reached: present >= Math.ceil((10 * percent) / 100) },
    },
  });
  const quorumChanged = (revision: number, percent: number, present: number): LiveEvent => {
    const base = snapshot(revision);
    return {
      type: 'meeting.quorumChanged',
      meetingId: 'm',
      revision,
      payload: { meeting: { ...base.meeting, quorumPercent: percent }, quorum: { percent, needed: Math.ceil((10 * percent) / 100), present, reached: present >= Math.ceil((10 * percent) / 100) } },
    };
  };

  it('an older share change after newer counts leaves the quorum line on the counts shown', () => {
    const state = snapshot(10);
    applyEvent(state, counts(12, 6, 75)); // made after the share became 75 % at 11
    applyEvent(state, quorumChanged(11, 75, 4));
    expect(state.totals.present).toBe(6);
    expect(state.quorum).toEqual({ percent: 75, needed: 8, present: 6, reached: false });
  });

  it('older counts after a newer share change keep the new share', () => {
    const state = snapshot(10);
    applyEvent(state, quorumChanged(12, 75, 4));
    applyEvent(state, counts(11, 5, 50)); // made before the share changed
    expect(state.totals.present).toBe(5);
    expect(state.quorum).toEqual({ percent: 75, needed: 8, present: 5, reached: false });
  });
});
