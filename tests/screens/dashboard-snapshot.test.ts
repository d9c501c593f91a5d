// The organizer's live dashboard, the chair's view and the wall list latecomers, never everyone:
// the snapshot they embed carries only the meeting's latecomers (a 2,000-attendee meeting's page
// carried everyone's attendance, 663 KB, for that one list), while GET /live and the socket's
// live:snapshot still answer with every record the asker may see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';
import { conferenceDay, opId, type DayFixture } from '../live/fixtures.js';
import { checkIn } from '../../server/attendance/actions.js';
import { startMeeting } from '../../server/meetings/lifecycle.js';
import type { LiveSnapshot } from '../../server/live/contract.js';

let app: TestApp;
let organizer: HttpClient;
let day: DayFixture;

beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
  day = await conferenceDay(app.organizer, { peoplePerSite: 3 });
  // One person arrives before the start, two after it: only those two are latecomers.
  await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: day.people[1][0].id, opId: opId() });
  await startMeeting(app.organizer, { meetingId: day.meetingId });
  await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: day.people[2][1].id, opId: opId() });
  await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: day.people[3][2].id, opId: opId() });
});
afterAll(() => app?.stop());

function embeddedSnapshot(html: string): LiveSnapshot {
  const match = /<script type="application\/json" id="live-data">([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new Error('the page embeds no live snapshot');
  return JSON.parse(match[1]!) as LiveSnapshot;
}

describe('pages of the day that list only latecomers', () => {
  it.each(['live', 'chair', 'wall'])('/meetings/:id/%s embeds the latecomers and nobody else', async (page) => {
    const response = await organizer.get(`/meetings/${day.meetingId}/${page}`);
    expect(response.status).toBe(200);
    const snapshot = embeddedSnapshot(response.text);
    // The page orders them itself (client/live-dashboard.ts).
    expect(snapshot.attendance.map((record) => [record.fullName, record.late, record.status]).sort()).toEqual([
      [day.people[2][1].fullName, true, 'present'],
      [day.people[3][2].fullName, true, 'present'],
    ]);
    // The on-time arrival and the people not yet there are not on the page at all.
    expect(response.text).not.toContain(day.people[1][0].fullName);
    expect(response.text).not.toContain(day.people[0][0].fullName);
    // Counts are whole: 13 invited (12 people and the chair), 3 present, 2 late.
    expect(snapshot.totals).toMatchObject({ expected: 13, present: 3, late: 2 });
    // Its own icon: without one a browser asks for /favicon.ico and gets a 404 (the wall's layout had none).
    expect(response.text).toContain('<link rel="icon"');
  });

  it('the snapshot over HTTP still carries every record the organizer may see', async () => {
    const response = await organizer.get(`/api/v1/meetings/${day.meetingId}/live`);
    expect(response.status).toBe(200);
    const snapshot = response.json as LiveSnapshot;
    expect(snapshot.attendance).toHaveLength(13);
    expect(snapshot.attendance.filter((record) => record.status === 'present').map((record) => record.fullName).sort()).toEqual(
      [day.people[1][0].fullName, day.people[2][1].fullName, day.people[3][2].fullName].sort(),
    );
  });

  it("a coordinator's site wall keeps to the coordinator's own site", async () => {
    const response = await fetch(`${app.baseUrl}/meetings/${day.meetingId}/sites/${day.sites[2].id}/wall`, { headers: { authorization: `Bearer ${day.sites[2].token}` } });
    expect(response.status).toBe(200);
    const snapshot = embeddedSnapshot(await response.text());
    expect(new Set(snapshot.attendance.map((record) => record.siteId))).toEqual(new Set([day.sites[2].id]));
  });
});
