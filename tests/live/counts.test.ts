// Live counts per site stay true when the attendee list changes on the day: someone who was
// already checked in (or marked absent) is moved to another bridge point or removed.
import { describe, expect, it } from 'vitest';
import { HttpClient } from '../helpers/http.js';
import { conferenceDay, nextEvent, opId, send, type DayFixture, sharedDayApp } from './fixtures.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import type { LiveSnapshot } from '../../server/live/contract.js';

const shared = sharedDayApp();

async function snapshot(day: DayFixture): Promise<LiveSnapshot> {
  return (await send(shared.screens.open({}, { cookie: shared.organizer.cookieHeader() }), 'live:snapshot', { meetingId: day.meetingId })).snapshot;
}

const countsAt = (snap: LiveSnapshot, siteId: string) => snap.sites.find((site) => site.id === siteId)!.counts;

describe('live counts when people move or leave the list', () => {
  it('someone checked in then moved to another bridge point is counted there, and that site’s coordinator can undo it', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị chuyển điểm cầu' });
    const [, cao, thap] = day.sites;
    const coordinator = await shared.screens.join(day.meetingId, { token: cao.token });
    const [moving, staying, away] = day.people[1];
    for (const person of [moving, staying]) expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: true, changed: true });
    expect(await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: away.id, opId: opId(), reason: 'sick' })).toMatchObject({ ok: true });

    const moved = await shared.organizer.json('POST', `/api/v1/meetings/${day.meetingId}/attendees/${moving.id}/move`, { siteId: thap.id });
    expect(moved.status).toBe(200);

    const snap = await snapshot(day);
    expect(countsAt(snap, cao.id)).toMatchObject({ expected: 3, present: 1, absent: 1, pending: 1 });
    expect(countsAt(snap, thap.id)).toMatchObject({ expected: 5, present: 1, absent: 0, pending: 4 });
    // Four people at each of four sites and the chair.
    expect(snap.totals).toMatchObject({ expected: 17, present: 2, absent: 1, pending: 14 });
    expect((await AttendanceModel.findOne({ attendeeId: moving.id }).lean())!.siteId.toString()).toBe(thap.id);

    // The person is now Tháp Mười's: its coordinator undoes the check-in, Cao Lãnh's may not.
    expect((await send(coordinator, 'attendance:undo', { meetingId: day.meetingId, attendeeId: moving.id, opId: opId() })).error.code).toBe('forbidden');
    const there = await shared.screens.join(day.meetingId, { token: thap.token });
    expect(await send(there, 'attendance:undo', { meetingId: day.meetingId, attendeeId: moving.id, opId: opId() })).toMatchObject({ ok: true, counts: { present: 0, pending: 5 } });
    expect(countsAt(await snapshot(day), cao.id)).toMatchObject({ present: 1, absent: 1 });
  });

  it('someone removed from the list after being checked in or marked absent no longer counts anywhere, a walk-in included', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị xoá đại biểu' });
    const cao = day.sites[1];
    const coordinator = await shared.screens.join(day.meetingId, { token: cao.token });
    const [present, absent] = day.people[1];
    await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: present.id, opId: opId() });
    await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: absent.id, opId: opId(), reason: 'mission' });
    const walkIn = await send(coordinator, 'attendance:addWalkIn', { meetingId: day.meetingId, siteId: cao.id, opId: opId(), fullName: 'Lê Văn Khách' });
    expect(countsAt(await snapshot(day), cao.id)).toMatchObject({ expected: 4, present: 2, absent: 1, walkIns: 1, pending: 2 });

    for (const id of [present.id, absent.id, walkIn.record.attendeeId]) expect((await shared.organizer.json('DELETE', `/api/v1/meetings/${day.meetingId}/attendees/${id}`)).status).toBe(200);

    const snap = await snapshot(day);
    expect(countsAt(snap, cao.id)).toMatchObject({ expected: 2, present: 0, absent: 0, walkIns: 0, pending: 2 });
    expect(snap.totals).toMatchObject({ expected: 15, present: 0, absent: 0, walkIns: 0, pending: 15 });
    expect(await AttendanceModel.countDocuments({ meetingId: day.meetingId })).toBe(0);
  });

  it('someone who declined the invitation is not expected; if they come after all they count as present, and taking the decline back makes them expected again', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị từ chối dự' });
    const cao = day.sites[1];
    const [decliner, other] = day.people[1];
    const dashboard = await shared.screens.join(day.meetingId, {}, { cookie: shared.organizer.cookieHeader() });
    const phone = HttpClient.withBearer(shared.app.baseUrl, decliner.token);

    // Matched on the new figure: counts of the day's setup may still be on their way.
    const counted = nextEvent(dashboard, 'attendance.counts', (event) => event.payload.siteId === cao.id && event.payload.counts.expected === 3);
    expect((await phone.json('POST', '/api/v1/my/rsvp', { response: 'declined', reason: 'Trùng lịch công tác' })).status).toBe(200);
    // The dashboard hears it at once, without a snapshot.
    expect((await counted).payload.counts).toMatchObject({ expected: 3, pending: 3 });
    expect(countsAt(await snapshot(day), cao.id)).toMatchObject({ expected: 3, pending: 3 });

    // Marked absent, then present after all: the site's pending count stays that of the others.
    const coordinator = await shared.screens.join(day.meetingId, { token: cao.token });
    expect(await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: decliner.id, opId: opId(), reason: 'mission' })).toMatchObject({ ok: true, counts: { expected: 3, absent: 1, pending: 3 } });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: decliner.id, opId: opId() })).toMatchObject({ ok: true, counts: { expected: 3, present: 1, absent: 0, pending: 3 } });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: other.id, opId: opId() })).toMatchObject({ ok: true, counts: { expected: 3, present: 2, pending: 2 } });

    // The decline taken back: expected again, and already present.
    expect((await phone.json('POST', '/api/v1/my/rsvp', { response: 'accepted' })).status).toBe(200);
    const snap = await snapshot(day);
    expect(countsAt(snap, cao.id)).toMatchObject({ expected: 4, present: 2, pending: 2 });
    expect(snap.totals).toMatchObject({ expected: 17, present: 2, pending: 15 });
  });

  it('a bridge point removed on the day with its people sent to another site takes its counts there', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị gộp điểm cầu' });
    const [, cao, thap] = day.sites;
    const coordinator = await shared.screens.join(day.meetingId, { token: cao.token });
    await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][0].id, opId: opId() });
    await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: day.people[1][1].id, opId: opId(), reason: 'sick' });
    await send(coordinator, 'attendance:addWalkIn', { meetingId: day.meetingId, siteId: cao.id, opId: opId(), fullName: 'Lê Văn Khách' });
    const there = await shared.screens.join(day.meetingId, { token: thap.token });
    await send(there, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[2][0].id, opId: opId() });

    const removed = await shared.organizer.json('DELETE', `/api/v1/meetings/${day.meetingId}/sites/${cao.id}?reassignTo=${thap.id}`);
    expect(removed.status).toBe(200);

    const snap = await snapshot(day);
    expect(snap.sites.map((site) => site.id)).not.toContain(cao.id);
    expect(countsAt(snap, thap.id)).toMatchObject({ expected: 8, present: 3, absent: 1, walkIns: 1, pending: 5 });
    expect(snap.totals).toMatchObject({ expected: 17, present: 3, absent: 1, walkIns: 1, pending: 14 });
    // Tháp Mười's coordinator now looks after them: an undo of the absence counts there.
    expect(await send(there, 'attendance:undo', { meetingId: day.meetingId, attendeeId: day.people[1][1].id, opId: opId() })).toMatchObject({ ok: true, counts: { absent: 0, pending: 6 } });
  });
});
