// An attendance change that could not be counted (the meeting closed between the record write and
// the count) is put back exactly: for an undo, the history entry it popped comes back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { conferenceDay, opId, send, Screens, type DayFixture } from './fixtures.js';
import { putBack } from '../../server/attendance/actions.js';
import { AttendanceModel } from '../../server/attendance/model.js';

let app: TestApp;
let day: DayFixture;
let screens: Screens;

beforeAll(async () => {
  app = await startTestApp();
  day = await conferenceDay(app.organizer);
  screens = new Screens(app.baseUrl);
});

afterAll(async () => {
  screens.closeAll();
  await app.stop();
});

describe('putting back a change the meeting closed on', () => {
  it('an undo rolled back restores the popped history entry, so the coordinator can still undo it afterwards', async () => {
    const [, cao] = day.sites;
    const person = day.people[1][0];
    const coordinator = await screens.join(day.meetingId, { token: cao.token }, {}, { screen: 'coordinator' });
    expect((await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).ok).toBe(true);
    expect((await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: person.id, reason: 'sick', opId: opId() })).ok).toBe(true);
    const filter = { meetingId: new Types.ObjectId(day.meetingId), attendeeId: new Types.ObjectId(person.id) };
    const absent = (await AttendanceModel.findOne(filter).lean())!;
    expect(absent.history.map((state) => state.status)).toEqual(['expected', 'present']);

    // The undo's record write, as the action makes it, before its count is refused.
    const popped = absent.history.at(-1)!;
    const undone = (await AttendanceModel.findOneAndUpdate({ _id: absent._id, version: absent.version }, { $set: { status: 'present', presentAt: popped.presentAt, absence: null }, $pop: { history: 1 }, $inc: { version: 1 } }, { returnDocument: 'after' }).lean())!;
    const before = { status: absent.status, presentAt: absent.presentAt, leftAt: absent.leftAt, late: absent.late, absence: absent.absence, changedBy: absent.changedBy };
    expect(await putBack(undone, before, { status: popped.status, presentAt: popped.presentAt, leftAt: popped.leftAt, late: popped.late, absence: popped.absence ?? null, changedBy: popped.changedBy })).toBe(true);

    const restored = (await AttendanceModel.findOne(filter).lean())!;
    expect(restored.status).toBe('absent');
    expect(restored.absence?.reason).toBe('sick');
    expect(restored.history.map((state) => state.status)).toEqual(['expected', 'present']);
    const again = await send(coordinator, 'attendance:undo', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() });
    expect(again).toMatchObject({ ok: true, record: { status: 'present' } });
  });

  it('a check-in rolled back drops only the history entry it pushed', async () => {
    const [, , thap] = day.sites;
    const person = day.people[2][0];
    const coordinator = await screens.join(day.meetingId, { token: thap.token }, {}, { screen: 'coordinator' });
    expect((await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: person.id, reason: 'sick', opId: opId() })).ok).toBe(true);
    const filter = { meetingId: new Types.ObjectId(day.meetingId), attendeeId: new Types.ObjectId(person.id) };
    const absent = (await AttendanceModel.findOne(filter).lean())!;
    const present = (await AttendanceModel.findOneAndUpdate({ _id: absent._id, version: absent.version }, { $set: { status: 'present', absence: null }, $push: { history: { status: 'absent', absence: { reason: 'sick' } } }, $inc: { version: 1 } }, { returnDocument: 'after' }).lean())!;
    expect(await putBack(present, { status: 'absent', presentAt: null, leftAt: null, late: false, absence: { reason: 'sick' }, changedBy: absent.changedBy })).toBe(true);
    const restored = (await AttendanceModel.findOne(filter).lean())!;
    expect(restored.status).toBe('absent');
    expect(restored.history.map((state) => state.status)).toEqual(['expected']);
  });
});
