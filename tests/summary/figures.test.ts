// The summary's headline figure agrees with the attendance report: everyone invited who came is
// counted as attending, those who left early included. Real sockets, HTTP and store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { conferenceDay, opId, send, Screens } from '../live/fixtures.js';

let app: TestApp;
let screens: Screens;
let organizer: HttpClient;

beforeAll(async () => {
  app = await startTestApp();
  screens = new Screens(app.baseUrl);
  organizer = await app.signInOrganizer();
});

afterAll(async () => {
  screens.closeAll();
  await app.stop();
});

describe('the summary’s attendance figure', () => {
  it('counts those who left early as having attended, as the report does', async () => {
    const day = await conferenceDay(app.organizer, { title: 'Hội nghị số liệu bản tin' });
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token });
    const [stayed, leaver, away] = day.people[1];
    for (const person of [stayed, leaver]) expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: true });
    expect(await send(coordinator, 'attendance:leftEarly', { meetingId: day.meetingId, attendeeId: leaver.id, opId: opId() })).toMatchObject({ ok: true });
    expect(await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: away.id, opId: opId(), reason: 'sick' })).toMatchObject({ ok: true });

    const report = await organizer.getJson(`/api/v1/meetings/${day.meetingId}/report`);
    expect(report.json.totals).toMatchObject({ expected: 17, present: 2, leftEarly: 1, absent: 1 });
    const summary = await organizer.getJson(`/api/v1/meetings/${day.meetingId}/summary?locale=vi`);
    expect(summary.status).toBe(200);
    expect(summary.json.summary.text).toContain('Tham dự Hội nghị có 2 đại biểu trên tổng số 17 đại biểu được mời tại 4 điểm cầu.');
    const english = await organizer.getJson(`/api/v1/meetings/${day.meetingId}/summary?locale=en`);
    expect(english.json.summary.text).toContain('2 of the 17 invited delegates attended, at 4 bridge points.');
  });
});
