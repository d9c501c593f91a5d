// Two app instances (this process and a child `tsx server/main.ts`) over one store and a real
// Redis: events reach clients on both, and both agree on which sites are connected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startSecondInstance, type SecondInstance } from '../helpers/second-instance.js';
import type { Socket } from 'socket.io-client';
import { conferenceDay, eventually, nextEvent, opId, Screens, send, type DayFixture } from './fixtures.js';
import { addSite, rotateCoordinatorLink } from '../../server/sites/actions.js';
import { createMeeting } from '../../server/meetings/actions.js';

let redis: RedisServer;
let first: TestApp;
let second: SecondInstance;
let day: DayFixture;
let onFirst: Screens;
let onSecond: Screens;

beforeAll(async () => {
  redis = await startRedis();
  first = await startTestApp({ redisUrl: redis.url });
  day = await conferenceDay(first.organizer);
  second = await startSecondInstance(first, redis.url);
  onFirst = new Screens(first.baseUrl);
  onSecond = new Screens(second.baseUrl);
}, 120_000);

afterAll(async () => {
  onFirst?.closeAll();
  onSecond?.closeAll();
  await second?.stop();
  await first?.stop();
  await redis?.stop();
});

describe('two app instances over Redis', () => {
  it('a check-in made through one instance reaches screens on both', async () => {
    const cookie = (await first.signInOrganizer()).cookieHeader();
    const dashboard = await onFirst.join(day.meetingId, {}, { cookie });
    const attendeePhone = await onSecond.join(day.meetingId, { token: day.people[2][0].token });
    const coordinator = await onSecond.join(day.meetingId, { token: day.sites[1].token });

    // (Matched on this check-in: the day's setup may still be announced just after the joins.)
    const onDashboard = nextEvent(dashboard, 'attendance.changed', (event) => event.payload.record.attendeeId === day.people[1][0].id);
    const onPhone = nextEvent(attendeePhone, 'attendance.counts', (event) => event.payload.counts.present === 1);
    const ack = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][0].id, opId: opId() });
    expect(ack).toMatchObject({ ok: true, changed: true });
    expect((await onDashboard).payload.record).toMatchObject({ attendeeId: day.people[1][0].id, status: 'present' });
    expect((await onPhone).payload.counts).toMatchObject({ present: 1, revision: ack.revision });

    // And the other way round: the organizer on the first instance, the coordinator's phone on the second.
    // The first check-in's own event may still be on its way to this screen: wait for this one's.
    const onCoordinator = nextEvent(coordinator, 'attendance.changed', (event) => event.payload?.record?.attendeeId === day.people[1][1].id);
    const organizerAck = await send(dashboard, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][1].id, opId: opId() });
    expect(organizerAck.ok).toBe(true);
    expect((await onCoordinator).payload.record.attendeeId).toBe(day.people[1][1].id);
  });

  it('both instances agree which sites are connected, and when a site was last seen', async () => {
    const wall = await onSecond.join(day.meetingId, { token: day.sites[3].token }, {}, { screen: 'wall' });
    const connectedOn = async (baseUrl: string) => {
      const response = await fetch(`${baseUrl}/api/v1/meetings/${day.meetingId}/live`, { headers: { authorization: `Bearer ${day.sites[2].token}` } });
      const snapshot = await response.json();
      return snapshot.sites.find((site: { id: string }) => site.id === day.sites[3].id).presence;
    };
    expect((await eventually(() => connectedOn(first.baseUrl), (presence) => presence.connected)).connected).toBe(true);
    expect((await connectedOn(second.baseUrl)).connected).toBe(true);

    const leftAt = Date.now();
    wall.disconnect();
    // An instance learns from the adapter that the screen is gone a moment before the leaving time
    // is stored: what both must reach is the same answer, "gone, last seen when it left".
    const [onOne, onTwo] = await eventually(
      () => Promise.all([connectedOn(first.baseUrl), connectedOn(second.baseUrl)]),
      ([a, b]) => !a.connected && !b.connected && a.lastSeenAt !== null && a.lastSeenAt === b.lastSeenAt && new Date(a.lastSeenAt).getTime() >= leftAt - 1_000,
    );
    expect(onOne.connected).toBe(false);
    expect(onOne).toEqual(onTwo);
    expect(new Date(onOne.lastSeenAt).getTime()).toBeGreaterThanOrEqual(leftAt - 1_000);
  });
  it("a site's rotated link cuts off its screens on the other instance, joined or not", async () => {
    const joined = await onSecond.join(day.meetingId, { token: day.sites[0].token });
    const idle = onSecond.open({ token: day.sites[0].token });
    await connectedSocket(idle);
    const gone = [disconnection(joined), disconnection(idle)];
    // The organizer rotates it through the first instance: the second hears it only through Redis.
    await rotateCoordinatorLink(first.organizer, { meetingId: day.meetingId, siteId: day.sites[0].id });
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
  });

  it("signing out on one instance disconnects the organizer's screens on the other", async () => {
    const client = await first.signInOrganizer();
    const joined = await onSecond.join(day.meetingId, {}, { cookie: client.cookieHeader() });
    const idle = onSecond.open({}, { cookie: client.cookieHeader() });
    await connectedSocket(idle);
    const gone = [disconnection(joined), disconnection(idle)];
    expect((await client.postForm('/logout', {})).status).toBe(303);
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
  });

  it("a meeting cancelled through one instance is read-only on the other's pages (its cached copy is forgotten)", async () => {
    const client = await first.signInOrganizer();
    const meeting = await createMeeting(first.organizer, { title: 'Hội nghị hủy qua máy chủ kia', start: '2027-04-06T08:00', end: '2027-04-06T11:00', status: 'scheduled' });
    const meetingId = String(meeting._id);
    await addSite(first.organizer, { meetingId, name: 'Hội trường chính', isMain: true });
    const onSecondPage = async () => (await fetch(`${second.baseUrl}/meetings/${meetingId}/attendees`, { headers: { cookie: client.cookieHeader(), accept: 'text/html' } })).text();
    expect(await onSecondPage()).toContain('id="add-attendee"');
    expect((await client.postForm(`/meetings/${meetingId}/status`, { action: 'cancel' })).status).toBe(303);
    // The relay over Redis arrives in a moment: wait for it, as a user reloading would.
    expect(await eventually(onSecondPage, (text) => !text.includes('id="add-attendee"'))).not.toContain('id="add-attendee"');
  });
});

function connectedSocket(socket: Socket): Promise<void> {
  return socket.connected ? Promise.resolve() : new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

function disconnection(socket: Socket): Promise<string> {
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
}
