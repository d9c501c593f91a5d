// A client nobody here wrote: Debian's python3-socketio, driven by a script that follows
// docs/api/live.md (tests/live/clients/python_client.py), takes part in the day like our pages.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { conferenceDay, nextEvent, opId, Screens, type DayFixture } from './fixtures.js';
import { AttendanceModel } from '../../server/attendance/model.js';

const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('./clients/python_client.py', import.meta.url));

let app: TestApp;
let day: DayFixture;
let screens: Screens;

beforeAll(async () => {
  app = await startTestApp();
  day = await conferenceDay(app.organizer, { title: 'Hội nghị thử với máy trạm Python' });
  screens = new Screens(app.baseUrl);
});

afterAll(async () => {
  screens.closeAll();
  await app.stop();
});

describe('a Python Socket.IO client (python3-socketio)', () => {
  it('joins with a coordinator token, checks someone in once for two sends of one opId, gets an error ack in English for bad input, and the dashboard sees it', async () => {
    // .ci/run installs python3-socketio; without it this fails saying so.
    expect(existsSync(python), `${python} is missing`).toBe(true);
    const [, cao] = day.sites;
    const person = day.people[1][0];
    const organizerCookie = (await app.signInOrganizer()).cookieHeader();
    const dashboard = await screens.join(day.meetingId, {}, { cookie: organizerCookie });
    const seen = nextEvent(dashboard, 'attendance.changed', (event) => event.payload.record.attendeeId === person.id, 20_000);
    const op = opId();

    const { stdout } = await promisify(execFile)(python, [script, app.baseUrl, cao.token, day.meetingId, person.id, op], { timeout: 30_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);

    expect(result.joined.ok).toBe(true);
    expect(result.first).toMatchObject({ ok: true, changed: true, record: { attendeeId: person.id, siteId: cao.id, status: 'present', changedBy: 'coordinator' }, counts: { expected: 4, present: 1, pending: 3 } });
    expect(result.again).toMatchObject({ ok: true, replayed: true, revision: result.first.revision, record: { status: 'present' }, counts: { present: 1 } });
    expect(result.refused.ok).toBe(false);
    expect(result.refused.error.code).toBe('invalid');
    expect(Object.keys(result.refused.error.fields)).toEqual(['attendeeId']);
    expect(result.refused.error.fields.attendeeId).toMatch(/[A-Za-z]/);
    const counts = result.events.filter((event: { type: string }) => event.type === 'attendance.counts');
    expect(counts).toHaveLength(1);
    expect(counts[0]).toMatchObject({ meetingId: day.meetingId, revision: result.first.revision, payload: { siteId: cao.id, counts: { present: 1 } } });

    expect((await seen).revision).toBe(result.first.revision);
    expect(await AttendanceModel.countDocuments({ attendeeId: person.id, status: 'present' })).toBe(1);
  });
});
