// A command that meets a database out of reach (a restart, a cut network) is answered
// `unavailable` with a time to try again, and the resend with the same opId counts once; an
// unexpected failure is answered `internal` and logged, never silently.
import { Writable } from 'node:stream';
import { setFailPoint, type FailCommandData } from '../helpers/fail-point.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { conferenceDay, opId, Screens, send } from './fixtures.js';

let app: TestApp;
let screens: Screens;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  app = await startTestApp({ logger });
  screens = new Screens(app.baseUrl);
});
afterAll(async () => {
  screens?.closeAll();
  await app?.stop();
});

/** The store's own fail point (as mongod's): the next `insert` (the operation's claim) fails so. */
function failNextInsert(data: Omit<FailCommandData, 'failCommands'>): Promise<void> {
  return setFailPoint({ times: 1 }, { failCommands: ['insert'], ...data });
}

describe('commands when the database fails', () => {
  it('a check-in that meets a dropped database connection is answered unavailable with a time to try again, logged as a warning, and its resend counts once', async () => {
    const day = await conferenceDay(app.organizer, { title: 'Hội nghị mất kết nối cơ sở dữ liệu' });
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token });
    const input = { meetingId: day.meetingId, attendeeId: day.people[1][0].id, opId: opId() };

    await failNextInsert({ closeConnection: true });
    const refused = await send(coordinator, 'attendance:checkIn', input);
    expect(refused).toMatchObject({ ok: false, error: { code: 'unavailable', retryAfterMs: 2000 } });
    expect(refused.error.message).toBe('Máy chủ tạm thời không truy cập được cơ sở dữ liệu. Vui lòng thử lại sau giây lát.');
    expect(lines.some((line) => line.level === 40 && line.msg === 'live command: database unreachable' && line.command === 'attendance:checkIn')).toBe(true);
    expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([]);

    expect(await send(coordinator, 'attendance:checkIn', input)).toMatchObject({ ok: true, counts: { present: 1 } });
    expect(await send(coordinator, 'attendance:checkIn', input)).toMatchObject({ ok: true, replayed: true, counts: { present: 1 } });
  });

  it('an unexpected database error is answered internal and logged with the command', async () => {
    const day = await conferenceDay(app.organizer, { title: 'Hội nghị lỗi không lường trước' });
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token });
    await failNextInsert({ errorCode: 8 });
    const answer = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][1].id, opId: opId() });
    expect(answer).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(JSON.stringify(answer)).not.toMatch(/stack|Mongo|at \//);
    expect(lines.some((line) => line.level === 50 && line.msg === 'live command failed' && line.command === 'attendance:checkIn')).toBe(true);
  });
});

describe('which failures mean the database is out of reach', () => {
  it('the driver’s network errors, mongoose giving up while disconnected, and a socket the store closed under a write', async () => {
    const { isDatabaseUnreachable } = await import('../../server/lib/errors.js');
    const named = (name: string, message = 'x') => Object.assign(new Error(message), { name });
    expect(isDatabaseUnreachable(named('MongoNetworkError'))).toBe(true);
    expect(isDatabaseUnreachable(named('MongoServerSelectionError'))).toBe(true);
    expect(isDatabaseUnreachable(named('MongooseError', 'Operation `attendances.findOne()` buffering timed out after 10000ms'))).toBe(true);
    // Seen in the full-size simulation when the store was killed mid-write.
    expect(isDatabaseUnreachable(Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }))).toBe(true);
    expect(isDatabaseUnreachable(named('MongoServerError', 'E11000 duplicate key'))).toBe(false);
    expect(isDatabaseUnreachable(new TypeError('x is undefined'))).toBe(false);
  });
});
