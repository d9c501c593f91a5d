// A live command that fails for a reason that is not the asker's (the store refused a write, a
// bug) is answered "internal error" without details, and logged on the server with the command,
// so the operator learns of it (the app's own log, not the asker, is where the cause goes).
import { Writable } from 'node:stream';
import mongoose from 'mongoose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conferenceDay, opId, Screens, send } from './fixtures.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

describe('a store failure in the middle of a change', () => {
  const lines: Array<Record<string, unknown>> = [];
  let app: TestApp;
  let screens: Screens;
  beforeAll(async () => {
    app = await startTestApp({ logger: pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk))), done()) })) });
    screens = new Screens(app.baseUrl);
  });
  afterAll(async () => {
    screens?.closeAll();
    await app?.stop();
  });

  it('an answer of "internal error" is logged on the server with the command that failed', async () => {
    const day = await conferenceDay(app.organizer, { title: 'Hội nghị máy chủ dữ liệu lỗi' });
    const site = day.sites[1];
    const person = day.people[1][0];
    const coordinator = await screens.join(day.meetingId, { token: site.token });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: true });
    // The record's write goes through; the count's write (the second findAndModify) fails in the store.
    await mongoose.connection.db!.admin().command({ configureFailPoint: 'failCommand', mode: { times: 1, skip: 1 }, data: { failCommands: ['findAndModify'], errorCode: 2 } });
    const ack = await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: person.id, opId: opId(), reason: 'sick' });
    expect(ack).toMatchObject({ ok: false, error: { code: 'internal' } });
    const logged = lines.filter((line) => line.level === 50 && line.event === 'attendance:markAbsent');
    expect(logged).toHaveLength(1);
    expect(logged[0].err).toMatchObject({ message: expect.stringContaining('failCommand') });
  });
});
