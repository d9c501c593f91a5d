// What a killed process leaves behind, put right. Counts: a check-in writes the person's record, then moves the site's counters
// with the meeting's revision: a process killed between the two writes leaves the record changed
// and the counters not (or the counters moved and the record still marked). These tests write
// exactly what such a process leaves in the store, then check that the resend, the person's next
// change, or the sweep counts the site again from its records: once, never twice, live on every
// screen, and in the audit trail.
import { Writable } from 'node:stream';
import mongoose from 'mongoose';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { conferenceDay, nextEvent, opId, send, sharedDayApp, writeCheckInRecord, type DayFixture } from './fixtures.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { orphanAfterMs, recountAbandoned, recountSite, startRecounts } from '../../server/attendance/recount.js';
import { LiveOperationModel, fingerprintOf } from '../../server/live/operations.js';
import { MeetingModel } from '../../server/meetings/model.js';
import type { LiveSnapshot } from '../../server/live/contract.js';

const shared = sharedDayApp();

async function snapshot(day: DayFixture): Promise<LiveSnapshot> {
  return (await send(shared.screens.open({}, { cookie: shared.organizer.cookieHeader() }), 'live:snapshot', { meetingId: day.meetingId })).snapshot;
}
const countsAt = (snap: LiveSnapshot, siteId: string) => snap.sites.find((site) => site.id === siteId)!.counts;

/** Longer ago than a living process holds a change uncounted: its process died. */
const deadSince = () => new Date(Date.now() - orphanAfterMs - 5_000);

/** What a process killed right after writing a check-in's record leaves: the record, marked, and its claimed operation. */
async function checkInWrittenNotCounted(day: DayFixture, siteIndex: number, personIndex: number, operation?: { opId: string }): Promise<void> {
  const person = day.people[siteIndex][personIndex];
  const since = deadSince();
  await writeCheckInRecord({ meetingId: day.meetingId, attendeeId: person.id, siteId: day.sites[siteIndex].id, at: since, pendingSince: since });
  if (operation) {
    const input = { meetingId: day.meetingId, attendeeId: person.id };
    await LiveOperationModel.create({ meetingId: day.meetingId, opId: operation.opId, command: 'attendance:checkIn', target: person.id, fingerprint: fingerprintOf(input), state: 'pending', claimedAt: since });
  }
}

describe('attendance counts after a process stopped between the record and the count', () => {
  it('the coordinator’s resend of a check-in whose count never happened counts it, once, and every screen hears the new count', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị mất điện giữa chừng' });
    const site = day.sites[1];
    const coordinator = await shared.screens.join(day.meetingId, { token: site.token });
    const dashboard = await shared.screens.join(day.meetingId, {}, { cookie: shared.organizer.cookieHeader() });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][0].id, opId: opId() })).toMatchObject({ ok: true, counts: { present: 1 } });

    const lost = { opId: opId() };
    await checkInWrittenNotCounted(day, 1, 1, lost);
    expect(countsAt(await snapshot(day), site.id)).toMatchObject({ present: 1, pending: 3 });

    const heard = nextEvent(dashboard, 'attendance.counts', (event) => event.payload.siteId === site.id && event.payload.counts.present === 2);
    const resent = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][1].id, opId: lost.opId });
    // Already present by the record: nothing changes, and the answer carries the true count.
    expect(resent).toMatchObject({ ok: true, changed: false, record: { status: 'present' }, counts: { present: 2, pending: 2 } });
    expect((await heard).payload.totals).toMatchObject({ present: 2 });
    expect(countsAt(await snapshot(day), site.id)).toMatchObject({ present: 2, pending: 2 });
    expect(await AttendanceModel.countDocuments({ meetingId: day.meetingId, pendingSince: { $ne: null } })).toBe(0);

    // Sent once more: still two.
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][1].id, opId: lost.opId })).toMatchObject({ ok: true, counts: { present: 2 } });
    const trail = (await shared.organizer.getJson(`/api/v1/meetings/${day.meetingId}/audit`)).json as { entries: Array<{ actor: { kind: string }; detail: string }> };
    expect(trail.entries.filter((entry) => entry.actor.kind === 'recount').map((entry) => entry.detail)).toEqual(['present: 1 → 2, resolved: 1 → 2']);
  });

  it('a change the process counted but could not finish marking is not counted twice', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị dừng sau khi đếm' });
    const site = day.sites[2];
    const coordinator = await shared.screens.join(day.meetingId, { token: site.token });
    const person = day.people[2][0];
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: true, counts: { present: 1 } });
    // As if killed after the count, before the record lost its mark.
    await AttendanceModel.updateOne({ attendeeId: person.id }, { $set: { pendingSince: deadSince() } });
    const revision = (await MeetingModel.findById(day.meetingId, { revision: 1 }).lean())!.revision;

    expect(await recountAbandoned()).toEqual([]);
    expect(countsAt(await snapshot(day), site.id)).toMatchObject({ present: 1 });
    expect((await MeetingModel.findById(day.meetingId, { revision: 1 }).lean())!.revision).toBe(revision);
    expect((await AttendanceModel.findOne({ attendeeId: person.id }).lean())!.pendingSince).toBeNull();
    // The person's next change goes through as usual.
    expect(await send(coordinator, 'attendance:leftEarly', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: true, counts: { present: 0, leftEarly: 1 } });
  });

  it('nobody resends: the sweep the app runs counts the site again, logs it, and the dashboard hears it', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị không ai gửi lại' });
    const site = day.sites[3];
    const dashboard = await shared.screens.join(day.meetingId, {}, { cookie: shared.organizer.cookieHeader() });
    await checkInWrittenNotCounted(day, 3, 0);
    await checkInWrittenNotCounted(day, 3, 2);

    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
    // Matched on the recount's figures: counts of the day's setup may still be on their way.
    const heard = nextEvent(dashboard, 'attendance.counts', (event) => event.payload.siteId === site.id && event.payload.counts.present === 2, 15_000);
    const stop = startRecounts(logger);
    try {
      expect((await heard).payload.counts).toMatchObject({ present: 2, pending: 2 });
    } finally {
      await stop();
    }
    expect(countsAt(await snapshot(day), site.id)).toMatchObject({ present: 2, pending: 2 });
    const warnings = lines.map((line) => JSON.parse(line)).filter((line) => line.level === 40 && line.recount?.siteId === site.id);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].recount).toMatchObject({ before: { present: 0 }, after: { present: 2, resolved: 2 } });
  });

  it('the next change of someone whose check-in was never counted starts from the true count', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị đổi trạng thái sau sự cố' });
    const site = day.sites[1];
    const coordinator = await shared.screens.join(day.meetingId, { token: site.token });
    await checkInWrittenNotCounted(day, 1, 3);
    const ack = await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: day.people[1][3].id, opId: opId(), reason: 'sick' });
    expect(ack).toMatchObject({ ok: true, changed: true, counts: { present: 0, absent: 1, pending: 3 } });
    // Undo steps back to present, and that is counted too.
    expect(await send(coordinator, 'attendance:undo', { meetingId: day.meetingId, attendeeId: day.people[1][3].id, opId: opId() })).toMatchObject({ ok: true, counts: { present: 1, absent: 0 } });
  });

  it('a change still in flight is left to its own process: the recount waits for it and counts nothing twice', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị đang điểm danh' });
    const site = day.sites[2];
    const coordinator = await shared.screens.join(day.meetingId, { token: site.token });
    const [person, next] = day.people[2];
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: true });
    // A living process has just written this change and is about to count it.
    await AttendanceModel.updateOne({ attendeeId: person.id }, { $set: { status: 'absent', absence: { reason: 'sick' }, pendingSince: new Date() }, $inc: { version: 1 } });
    const revision = (await MeetingModel.findById(day.meetingId, { revision: 1 }).lean())!.revision;
    const recount = recountSite(day.meetingId, site.id);
    // Asked by someone who waits a second at most: nothing yet, and nothing written.
    expect(await recountSite(day.meetingId, site.id, Date.now() + 1_000)).toBe(false);
    expect((await MeetingModel.findById(day.meetingId, { revision: 1 }).lean())!.revision).toBe(revision);
    // The process counts its change (counters with the revision), then clears its mark.
    const counted = await MeetingModel.findOneAndUpdate({ _id: day.meetingId }, { $inc: { revision: 1, [`live.sites.${site.id}.present`]: -1, [`live.sites.${site.id}.absent`]: 1 } }, { new: true }).lean();
    await AttendanceModel.updateOne({ attendeeId: person.id }, { $set: { pendingSince: null, revision: counted!.revision } });

    expect(await recount).toBeUndefined();
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: next.id, opId: opId() })).toMatchObject({ ok: true, changed: true, counts: { present: 1, absent: 1 } });
    expect(countsAt(await snapshot(day), site.id)).toMatchObject({ present: 1, absent: 1 });
  });
});

describe('a walk-in whose first run stopped after adding the person', () => {
  it('is added once: the resend finds the person the first run added and checks them in', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị khách vãng lai' });
    const site = day.sites[2];
    const coordinator = await shared.screens.join(day.meetingId, { token: site.token });
    const walkIn = { meetingId: day.meetingId, siteId: site.id, opId: opId(), fullName: 'Phạm Thị Khách', organization: 'Báo Đồng Tháp' };
    // What a first run leaves when it stops (killed, or its store went away) after adding the
    // person and before counting them: the person, and no claim on the operation id any more.
    const left = await AttendeeModel.create({ meetingId: day.meetingId, siteId: site.id, fullName: walkIn.fullName, organization: walkIn.organization, role: 'guest', walkIn: true, walkInOpId: walkIn.opId });
    const ack = await send(coordinator, 'attendance:addWalkIn', walkIn);
    expect(ack).toMatchObject({ ok: true, record: { attendeeId: String(left._id), fullName: 'Phạm Thị Khách', walkIn: true, status: 'present' }, counts: { walkIns: 1, present: 1 } });
    // Sent again (its answer was lost): the same answer, and still one person.
    expect(await send(coordinator, 'attendance:addWalkIn', walkIn)).toMatchObject({ ok: true, replayed: true, record: { attendeeId: String(left._id) } });
    expect(await AttendeeModel.countDocuments({ meetingId: day.meetingId, fullName: 'Phạm Thị Khách' })).toBe(1);
    expect(countsAt(await snapshot(day), site.id)).toMatchObject({ walkIns: 1, present: 1 });
  });

  it('a first run that stopped after counting the arrival: the resend changes nothing, and one undo takes the arrival back', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị khách vãng lai đã đếm' });
    const site = day.sites[1];
    const coordinator = await shared.screens.join(day.meetingId, { token: site.token });
    const walkIn = { meetingId: day.meetingId, siteId: site.id, opId: opId(), fullName: 'Đỗ Văn Sớm', at: new Date(Date.now() - 60_000).toISOString() };
    const first = await send(coordinator, 'attendance:addWalkIn', walkIn);
    expect(first).toMatchObject({ ok: true, changed: true });
    // The process died after counting and before marking the operation done: its claim was freed.
    await LiveOperationModel.deleteOne({ meetingId: day.meetingId, opId: walkIn.opId });
    const stored = await AttendanceModel.findOne({ meetingId: day.meetingId, attendeeId: first.record.attendeeId }).lean();
    const resent = await send(coordinator, 'attendance:addWalkIn', walkIn);
    expect(resent).toMatchObject({ ok: true, record: { attendeeId: first.record.attendeeId, status: 'present' }, counts: { walkIns: 1, present: 1 } });
    const after = await AttendanceModel.findOne({ _id: stored!._id }).lean();
    expect({ version: after!.version, history: after!.history.length, presentAt: after!.presentAt }).toEqual({ version: stored!.version, history: stored!.history.length, presentAt: stored!.presentAt });
    // One undo: the walk-in is no longer present.
    expect(await send(coordinator, 'attendance:undo', { meetingId: day.meetingId, attendeeId: first.record.attendeeId, opId: opId() })).toMatchObject({ ok: true, record: { status: 'expected' }, counts: { present: 0 } });
  });

  it('the same operation id with another walk-in (another site, another name) is refused and checks in nobody', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị khách vãng lai trùng mã' });
    const [siteA, siteB] = [day.sites[1], day.sites[2]];
    const id = opId();
    // A first run at site A stopped after adding its person (no claim on the id any more).
    const left = await AttendeeModel.create({ meetingId: day.meetingId, siteId: siteA.id, fullName: 'Lê Văn Đến', organization: '', role: 'guest', walkIn: true, walkInOpId: id });
    // Site B's coordinator sends a walk-in with that id: it must not take (and check in) site A's person.
    const coordinatorB = await shared.screens.join(day.meetingId, { token: siteB.token });
    const other = await send(coordinatorB, 'attendance:addWalkIn', { meetingId: day.meetingId, siteId: siteB.id, opId: id, fullName: 'Trần Thị Khác' });
    expect(other).toMatchObject({ ok: false, error: { code: 'conflict' } });
    // Site A with the id and another name: refused as well.
    const coordinatorA = await shared.screens.join(day.meetingId, { token: siteA.token });
    const renamed = await send(coordinatorA, 'attendance:addWalkIn', { meetingId: day.meetingId, siteId: siteA.id, opId: id, fullName: 'Người Khác Hẳn' });
    expect(renamed).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await AttendanceModel.countDocuments({ meetingId: day.meetingId, attendeeId: left._id })).toBe(0);
    expect(await AttendeeModel.countDocuments({ meetingId: day.meetingId, walkIn: true })).toBe(1);
    const counts = await snapshot(day);
    expect(countsAt(counts, siteA.id)).toMatchObject({ walkIns: 0, present: 0 });
    expect(countsAt(counts, siteB.id)).toMatchObject({ walkIns: 0, present: 0 });
  });
});

describe('site presence after the instance holding its screens was killed', () => {
  it('a site the store still shows as connected is shown as gone, and its screen coming back is heard by every dashboard', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị khởi động lại máy chủ' });
    const site = day.sites[2];
    // A killed instance had the site's screen: the store says connected, no room holds it.
    await MeetingModel.updateOne({ _id: day.meetingId }, { $set: { [`live.sites.${site.id}.connected`]: true, [`live.sites.${site.id}.lastSeenAt`]: new Date(Date.now() - 60_000) } });
    const dashboard = await shared.screens.join(day.meetingId, {}, { cookie: shared.organizer.cookieHeader() });
    const gone = nextEvent(dashboard, 'site.presence', (event) => event.payload.siteId === site.id && !event.payload.presence.connected);
    // A snapshot shows the state as of its revision (the stored presence) and sets the correction
    // off (so does the instance's presence sweep, every 15 s).
    await snapshot(day);
    expect((await gone).payload.presence.connected).toBe(false);
    expect((await snapshot(day)).sites.find((view) => view.id === site.id)!.presence.connected).toBe(false);

    const back = nextEvent(dashboard, 'site.presence', (event) => event.payload.siteId === site.id && event.payload.presence.connected);
    await shared.screens.join(day.meetingId, { token: site.token });
    expect((await back).payload.presence.connected).toBe(true);
    expect((await snapshot(day)).sites.find((view) => view.id === site.id)!.presence.connected).toBe(true);
  });
});

describe('what a check-in writes before it is acknowledged', () => {
  it('its operation id, the record’s change and the operation’s answer are journaled (j: true): a power cut after the ack keeps them', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị ghi nhật ký' });
    const coordinator = await shared.screens.join(day.meetingId, { token: day.sites[1].token });
    const calls: Array<{ name: string; args: unknown[] }> = [];
    // mongoose's debug hook sees every collection call with its arguments, the write concern included.
    mongoose.set('debug', (collection: string, method: string, ...args: unknown[]) => void calls.push({ name: `${collection}.${method}`, args }));
    try {
      expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][2].id, opId: opId() })).toMatchObject({ ok: true, changed: true });
    } finally {
      mongoose.set('debug', false);
    }
    const journaled = (call: { args: unknown[] }) =>
      call.args.some((arg) => {
        const options = arg as { j?: unknown; writeConcern?: { j?: unknown } } | null;
        return Boolean(options && typeof options === 'object' && (options.j === true || options.writeConcern?.j === true));
      });
    const claim = calls.find((call) => call.name === 'liveoperations.insertOne');
    const change = calls.find((call) => call.name === 'attendances.findOneAndUpdate' && (call.args[1] as { $set?: { status?: string } })?.$set?.status === 'present');
    const answer = calls.find((call) => call.name === 'liveoperations.updateOne' && (call.args[1] as { $set?: { state?: string } })?.$set?.state === 'done');
    expect({ claim: claim && journaled(claim), change: change && journaled(change), answer: answer && journaled(answer) }).toEqual({ claim: true, change: true, answer: true });
  });
});
