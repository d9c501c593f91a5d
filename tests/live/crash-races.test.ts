// The crash-safe attendance counts (attendance/recount.ts) against the other writers of a record:
// a site that is never quiet, a walk-in whose arrival was refused and put back, an attendee moved
// or removed by a process that stopped half-way. Each test writes what the store holds in that
// moment (as tests/live/crash.test.ts does) and checks that nothing waits forever and that the
// counts end where the records and the list of attendees say.
import mongoose from 'mongoose';
import { describe, expect, it } from 'vitest';
import { conferenceDay, eventually, opId, record, send, sharedDayApp, writeCheckInRecord, type DayFixture } from './fixtures.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import { detachAttendance, putBack } from '../../server/attendance/actions.js';
import { orphanAfterMs, recountAbandoned, recountMeeting, recountSite } from '../../server/attendance/recount.js';
import { removeSite } from '../../server/sites/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { liveSitesOf } from '../../server/live/counts.js';
import type { LiveSnapshot } from '../../server/live/contract.js';
import { clearFailPoint, setFailPoint } from '../helpers/fail-point.js';

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
  it('a change of someone whose dead check-in cannot be recounted (the site is never quiet) is answered "busy, try again", not held forever nor refused', async () => {
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
      // Not a refusal (a coordinator's offline queue would drop it): the screen sends it again.
      expect(ack).toMatchObject({ ok: false, error: { code: 'too_many_requests', retryAfterMs: expect.any(Number) } });
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
    const insertedId = await writeCheckInRecord({ meetingId: day.meetingId, attendeeId: guest._id, siteId: site.id, at: since, pendingSince: since, walkIn: true });
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

  it('an attendee move whose process stopped after moving the record, before the count, ends with the record and the counts where the attendee is', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị chuyển điểm cầu giữa chừng' });
    const [from, to] = [day.sites[1], day.sites[2]];
    const person = day.people[1][0];
    const coordinator = await shared.screens.join(day.meetingId, { token: from.token });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: true, counts: { present: 1 } });
    // The organizer's move, stopped right after its first write (the process was killed), and
    // found by the sweep once its mark is a dead process's.
    await detachAttendance(day.meetingId, person.id, to.id);
    await AttendanceModel.updateMany({ attendeeId: person.id, pendingSince: { $ne: null } }, { $set: { pendingSince: deadSince() } });
    await recountAbandoned();

    // The person is still on the first site's list: their next change counts there, once.
    expect(await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: person.id, opId: opId(), reason: 'sick' })).toMatchObject({ ok: true, record: { siteId: from.id }, counts: { present: 0, absent: 1 } });
    const snap = await snapshot(day);
    expect(countsAt(snap, from.id)).toMatchObject({ present: 0, absent: 1 });
    expect(countsAt(snap, to.id)).toMatchObject({ present: 0, absent: 0 });
    expect(snap.totals).toMatchObject({ present: 0, absent: 1 });
  });

  it('an attendee removal whose process stopped after its first write leaves the attendee and their check-in counted once', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị xoá đại biểu giữa chừng' });
    const site = day.sites[3];
    const person = day.people[3][1];
    const coordinator = await shared.screens.join(day.meetingId, { token: site.token });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: true, counts: { present: 1 } });
    await detachAttendance(day.meetingId, person.id, null);
    await AttendanceModel.updateMany({ attendeeId: person.id, pendingSince: { $ne: null } }, { $set: { pendingSince: deadSince() } });
    await recountAbandoned();

    // Not removed after all: still present, and checking them in again changes nothing.
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: true, changed: false, counts: { present: 1 } });
    expect(countsAt(await snapshot(day), site.id)).toMatchObject({ present: 1 });
  });

  it('a recount of either site while an attendee move is under way waits for it instead of counting the record where its counters are not yet', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị đếm lại khi đang chuyển' });
    const [from, to] = [day.sites[1], day.sites[3]];
    const person = day.people[1][2];
    const coordinator = await shared.screens.join(day.meetingId, { token: from.token });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: true });
    const revision = (await MeetingModel.findById(day.meetingId, { revision: 1 }).lean())!.revision;
    // The move's first write is done, its count not yet (another instance starting up recounts
    // every site of the meeting in this moment).
    const detached = await detachAttendance(day.meetingId, person.id, to.id);
    try {
      // Asked by someone who waits a second at most: the recount waits for the move, so nothing yet.
      expect(await recountSite(day.meetingId, to.id, Date.now() + 1_000)).toBe(false);
      expect(await recountSite(day.meetingId, from.id, Date.now() + 1_000)).toBe(false);
      expect((await MeetingModel.findById(day.meetingId, { revision: 1 }).lean())!.revision).toBe(revision);
    } finally {
      await detached.undo();
    }
    expect(await recountSite(day.meetingId, from.id)).toBeUndefined();
    expect(await recountSite(day.meetingId, to.id)).toBeUndefined();
  });
});

describe('a recount while the rest of the meeting is busy', () => {
  it('a dead process’s check-in at a quiet site is counted again while another site checks people in without a pause', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị điểm cầu khác đang đông', peoplePerSite: 24 });
    const [quiet, busy] = [day.sites[2], day.sites[1]];
    const person = day.people[2][0];
    await writeCheckInRecord({ meetingId: day.meetingId, attendeeId: person.id, siteId: quiet.id, at: deadSince(), pendingSince: deadSince() });
    // The busy site: four screens checking its people in and out, several at once, until the recount is done.
    const screens = await Promise.all([0, 1, 2, 3].map(() => shared.screens.join(day.meetingId, { token: busy.token })));
    let done = false;
    const traffic = screens.map(async (screen, lane) => {
      for (let round = 0; !done; round++) {
        const attendeeId = day.people[1][(lane * 6 + (round % 6)) % 24].id;
        await send(screen, round % 12 < 6 ? 'attendance:checkIn' : 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId, opId: opId(), reason: 'sick' }).catch(() => undefined);
      }
    });
    let result;
    try {
      result = await recountSite(day.meetingId, quiet.id);
    } finally {
      done = true;
      await Promise.all(traffic);
    }
    expect(result).toMatchObject({ after: { present: 1 } });
    expect(countsAt(await snapshot(day), quiet.id)).toMatchObject({ present: 1 });
    // And the busy site's counters agree with its records.
    expect(await recountSite(day.meetingId, busy.id)).toBeUndefined();
  });
});

describe('a site removed while one of its check-ins was being counted', () => {
  it('the check-in counted under the removed site is not counted twice once its new site is counted again (at start-up)', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị bỏ điểm cầu khi đang điểm danh' });
    const [kept, removed] = [day.sites[1], day.sites[2]];
    const person = day.people[2][0];
    await removeSite(shared.app.organizer, { meetingId: day.meetingId, siteId: removed.id, reassignTo: kept.id });
    // The check-in of one of its people was in flight: its record moved with them (the removal
    // moves the site's records), and its count went to the removed site's counters.
    const now = new Date();
    await writeCheckInRecord({ meetingId: day.meetingId, attendeeId: person.id, siteId: kept.id, at: now, pendingSince: null });
    await MeetingModel.updateOne({ _id: day.meetingId }, { $inc: { revision: 1, [`live.sites.${removed.id}.present`]: 1, [`live.sites.${removed.id}.resolved`]: 1 } });
    const dashboard = await shared.screens.join(day.meetingId, {}, { cookie: shared.organizer.cookieHeader() });
    const heard = record(dashboard);

    // Another instance starts: every site of the open meeting is counted again.
    await recountMeeting(day.meetingId);
    const snap = await snapshot(day);
    expect(countsAt(snap, kept.id)).toMatchObject({ present: 1 });
    expect(snap.totals).toMatchObject({ present: 1 });
    // What the dashboards were told last agrees: one person present, not two.
    type CountsEvent = { type: string; payload: { siteId: string; totals: { present: number } } };
    // Once the dashboard has heard the snapshot's revision: the removal's own counts (totals of
    // nobody present) may still have been on their way when it joined.
    expect(await eventually(() => Math.max(0, ...heard.map((event) => event.revision)), (revision) => revision >= snap.revision, 10_000)).toBeGreaterThanOrEqual(snap.revision);
    const last = (heard as unknown as CountsEvent[]).filter((event) => event.type === 'attendance.counts').at(-1);
    expect(last?.payload.siteId).toBe(kept.id);
    expect(last?.payload.totals).toMatchObject({ present: 1 });
  });
});

/**
 * Sends the person's check-in with its record's creation (an upsert: the check-in's first
 * findAndModify) held 3 s by the store, and runs `meanwhile` once that upsert is sent; answers the
 * check-in's ack.
 */
async function checkInHeldAtCreation(day: DayFixture, siteIndex: number, personId: string, meanwhile: () => Promise<void>) {
  const coordinator = await shared.screens.join(day.meetingId, { token: day.sites[siteIndex].token });
  // The coordinator's presence is written before the store is told to hold the next findAndModify.
  await eventually(async () => liveSitesOf((await MeetingModel.findById(day.meetingId, { live: 1 }).lean())!.live)[day.sites[siteIndex].id]?.connected === true, Boolean);
  const creating = new Promise<void>((resolve) => {
    mongoose.set('debug', (collection: string, method: string, query: Record<string, unknown>, _update: unknown, options?: { upsert?: boolean }) => {
      if (collection === 'attendances' && method === 'findOneAndUpdate' && options?.upsert && String(query.attendeeId) === personId) resolve();
    });
  });
  await setFailPoint({ times: 1 }, { failCommands: ['findAndModify'], blockConnection: true, blockTimeMS: 3_000 });
  try {
    const checkIn = send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: personId, opId: opId() });
    await creating;
    await meanwhile();
    return await checkIn;
  } finally {
    mongoose.set('debug', false);
    await clearFailPoint();
  }
}

describe('a check-in racing the removal of its attendee', () => {
  it('the removal lands between the check-in reading the person and creating their record: no record stays behind, the check-in is answered "not found", nothing is counted', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị xoá đại biểu giữa chừng' });
    const site = day.sites[2];
    const person = day.people[2][0];
    // The removal runs while the record's creation is held, finding no record to take with it.
    const checkIn = await checkInHeldAtCreation(day, 2, person.id, async () => {
      expect((await shared.organizer.json('DELETE', `/api/v1/meetings/${day.meetingId}/attendees/${person.id}`)).status).toBe(200);
    });
    expect(checkIn).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await AttendanceModel.countDocuments({ meetingId: day.meetingId, attendeeId: person.id })).toBe(0);
    expect(countsAt(await snapshot(day), site.id)).toMatchObject({ present: 0, expected: 3 });
  });

  it('a move landing there instead: the record follows the person to their new site and is counted there', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị chuyển điểm cầu giữa chừng' });
    const [from, to] = [day.sites[2], day.sites[1]];
    const person = day.people[2][0];
    const checkIn = await checkInHeldAtCreation(day, 2, person.id, async () => {
      expect((await shared.organizer.json('POST', `/api/v1/meetings/${day.meetingId}/attendees/${person.id}/move`, { siteId: to.id })).status).toBe(200);
    });
    expect(checkIn).toMatchObject({ ok: true, record: { status: 'present' } });
    expect(String((await AttendanceModel.findOne({ meetingId: day.meetingId, attendeeId: person.id }).lean())!.siteId)).toBe(to.id);
    const counts = await snapshot(day);
    expect(countsAt(counts, from.id)).toMatchObject({ present: 0 });
    expect(countsAt(counts, to.id)).toMatchObject({ present: 1 });
  });
});
