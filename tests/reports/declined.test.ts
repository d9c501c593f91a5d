// The report's figures agree with the day's counts for people who declined the invitation: they
// are not expected (as on the dashboard and in the summary's figures); if they come after all they
// count as present without making anyone else look marked. Real HTTP, sockets and store.
import { describe, expect, it } from 'vitest';
import { HttpClient } from '../helpers/http.js';
import { conferenceDay, opId, send, sharedDayApp } from '../live/fixtures.js';

const shared = sharedDayApp();

describe('the attendance report and declined invitations', () => {
  it('leaves out of expected and pending whoever declined, as the live counts do; one who came anyway is present', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị báo cáo từ chối dự' });
    const cao = day.sites[1];
    const [decliner, other, stayedAway] = day.people[1];
    const quiet = day.people[2][0];
    for (const person of [decliner, quiet]) {
      expect((await HttpClient.withBearer(shared.app.baseUrl, person.token).json('POST', '/api/v1/my/rsvp', { response: 'declined', reason: 'Trùng lịch công tác' })).status).toBe(200);
    }
    const coordinator = await shared.screens.join(day.meetingId, { token: cao.token });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: decliner.id, opId: opId() })).toMatchObject({ ok: true });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: other.id, opId: opId() })).toMatchObject({ ok: true });
    expect(await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: stayedAway.id, opId: opId(), reason: 'sick' })).toMatchObject({ ok: true, counts: { expected: 3, present: 2, absent: 1, pending: 1 } });

    const live = (await send(shared.screens.open({}, { cookie: shared.organizer.cookieHeader() }), 'live:snapshot', { meetingId: day.meetingId })).snapshot;
    const report = await shared.organizer.getJson(`/api/v1/meetings/${day.meetingId}/report`);
    expect(report.status).toBe(200);
    const liveCao = live.sites.find((site: { id: string }) => site.id === cao.id).counts;
    const reportCao = report.json.sites.find((site: { id: string }) => site.id === cao.id);
    // Cao Lãnh: four invited, one declined (and came anyway), one present, one absent, one unmarked.
    expect(liveCao).toMatchObject({ expected: 3, present: 2, absent: 1, pending: 1 });
    expect(reportCao).toMatchObject({ expected: liveCao.expected, present: 2, absent: 1, pending: liveCao.pending });
    const thap = report.json.sites.find((site: { id: string }) => site.id === day.sites[2].id);
    expect(thap).toMatchObject({ expected: 3, pending: 3 });
    expect(report.json.totals).toMatchObject({ expected: live.totals.expected, pending: live.totals.pending, present: 2, absent: 1 });
    expect(report.json.totals.expected).toBe(15);

    // The decline taken back: expected again, in the report too.
    expect((await HttpClient.withBearer(shared.app.baseUrl, quiet.token).json('POST', '/api/v1/my/rsvp', { response: 'accepted' })).status).toBe(200);
    const again = await shared.organizer.getJson(`/api/v1/meetings/${day.meetingId}/report`);
    expect(again.json.sites.find((site: { id: string }) => site.id === day.sites[2].id)).toMatchObject({ expected: 4, pending: 4 });
    expect(again.json.totals.expected).toBe(16);
  });
});
