// The crash-safe attendance counts (attendance/recount.ts) against the other writers of a record:
// a site that is never quiet, a walk-in whose arrival was refused and put back, an attendee moved
// or removed by a process that stopped half-way. Each test writes what the store holds in that
// moment (as tests/live/crash.test.ts does) and checks that nothing waits forever and that the
// counts end where the records and the list of attendees say.
import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { conferenceDay, opId, send, sharedDayApp, type DayFixture } from './fixtures.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import { putBack } from '../../server/attendance/actions.js';
import { orphanAfterMs, recountSite } from '../../server/attendance/recount.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { liveSitesOf } from '../../server/live/counts.js';
import type { LiveSnapshot } from '../../server/live/contract.js';

const shared = sharedDayApp();

async function snapshot(day: DayFixture): Promise<LiveSnapshot> {
  return (await send(shared.screens.open({}, { cookie: shared.organizer.cookieHeader() }), 'live:snapshot', { meetingId: day.meetingId })).snapshot;
}
const countsAt = (snap: LiveSnapshot, siteId: string) => snap.sites.find((site) => site.id === siteId)!.counts;
const deadSince = () => new Date(Date.now() - orphanAfterMs - 5_000);
async function storedCounters(day: DayFixture, siteId: string): Promise<Record<string, unknown>> {
  return liveSitesOf((await MeetingModel.findById(day.meetingId, { live: 1 }).lean())!.live)[siteId] ?? {};
}

describe('crash-safe counts against the other writers of a record', () => {
  it('a change of someone whose dead check-in cannot be recounted (the site is never quiet) is refused as busy, not held forever', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị điểm cầu không lúc nào yên' });
    const site = day.sites[1];
    const coordinator = await shared.screens.join(day.meetingId, { token: site.token });
    const [dead, busy] = [day.people[1][0], day.people[1][1]];
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: dead.id, opId: opId() })).toMatchObject({ ok: true });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: busy.id, opId: opId() })).toMatchObject({ ok: true });
    // One person's change was left by a dead process; another's always looks in flight (check-ins
    // arriving without a pause at this site: the recount never finds it quiet).
    await AttendanceModel.updateOne({ attendeeId: dead.id }, { $set: { pendingSince: deadSince() } });
    await AttendanceModel.updateOne({ attendeeId: busy.id }, { $set: { pendingSince: new Date(Date.now() + 3_600_000) } });
    try {
      const ack = await coordinator.timeout(25_000).emitWithAck('attendance:markAbsent', { meetingId: day.meetingId, attendeeId: dead.id, opId: opId(), reason: 'sick' });
      expect(ack).toMatchObject({ ok: false, error: { code: 'conflict' } });
    } finally {
      await AttendanceModel.updateOne({ attendeeId: busy.id }, { $set: { pendingSince: null } });
    }
    // Once the site is quiet the same change goes through.
    expect(await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: dead.id, opId: opId(), reason: 'sick' })).toMatchObject({ ok: true, counts: { present: 1, absent: 1 } });
  });

  it('a walk-in whose arrival was refused and put back is not counted as a walk-in by a recount', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị khách vãng lai bị từ chối' });
    const site = day.sites[2];
    const guest = await AttendeeModel.create({ meetingId: day.meetingId, siteId: site.id, fullName: 'Khách vãng lai', role: 'guest', walkIn: true });
    // What addWalkIn's change writes (the first change of a walk-in: marked, version 1)...
    const since = new Date();
    const before = { status: 'expected', presentAt: null, leftAt: null, late: false, absence: null, changedBy: null } as const;
    const { insertedId } = await AttendanceModel.collection.insertOne({
      meetingId: new Types.ObjectId(day.meetingId),
      attendeeId: guest._id,
      siteId: new Types.ObjectId(site.id),
      walkIn: true,
      status: 'present',
      presentAt: since,
      leftAt: null,
      late: false,
      absence: null,
      changedBy: 'Điểm cầu',
      changedAt: since,
      history: [before],
      version: 1,
      revision: 0,
      pendingSince: since,
      codeFailures: 0,
      codeFailuresSince: null,
      createdAt: since,
      updatedAt: since,
    });
    // ...and what its count does when refused (the meeting closed meanwhile, or too late).
    expect(await putBack({ _id: insertedId, version: 1 }, before)).toBe(true);

    expect(await recountSite(day.meetingId, site.id)).toBeUndefined();
    expect(countsAt(await snapshot(day), site.id)).toMatchObject({ walkIns: 0, present: 0 });
    // The guest arriving after all is one walk-in.
    const coordinator = await shared.screens.join(day.meetingId, { token: site.token });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: String(guest._id), opId: opId() })).toMatchObject({ ok: true, counts: { walkIns: 1, present: 1 } });
    expect(await recountSite(day.meetingId, site.id)).toBeUndefined();
    expect(await storedCounters(day, site.id)).toMatchObject({ walkIns: 1, present: 1 });
  });
});
