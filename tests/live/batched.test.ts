// Batched events (docs/api/live.md "Batches", realtime/fanout.ts): a screen that joined with
// `batched: true` gets a burst of check-ins as a few `events` messages that say every revision
// once, in order, with a site's obsolete counts reduced to their revision; a screen that did not
// ask gets every event on its own as before; and both end as the server is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { conferenceDay, opId, Screens, send, type DayFixture, listen, revisionsOf, type Heard } from './fixtures.js';
import type { LiveEvent } from '../../server/live/contract.js';

let app: TestApp;
let screens: Screens;
let day: DayFixture;

beforeAll(async () => {
  // Wide windows, so that a burst surely lands in few batches whatever the machine's speed.
  app = await startTestApp({ eventBatchMs: 300, eventQuietMs: 300 });
  screens = new Screens(app.baseUrl);
  day = await conferenceDay(app.organizer, { peoplePerSite: 6 });
});
afterAll(async () => {
  screens?.closeAll();
  await app?.stop();
});

async function joined(auth: Record<string, string>, batched: boolean, screen = 'attendee'): Promise<{ socket: Socket; heard: Heard[] }> {
  const socket = screens.open(auth);
  const heard = listen(socket);
  const reply = await send(socket, 'meeting:join', { meetingId: day.meetingId, screen, ...(batched ? { batched: true } : {}) });
  expect(reply).toMatchObject({ ok: true });
  return { socket, heard };
}

describe('a burst of check-ins', () => {
  it('reaches a batched phone in a few messages saying each revision once, and an unbatched one event by event; both end as the server is', async () => {
    const phone = await joined({ token: day.people[3][0].token }, true);
    const oldPhone = await joined({ token: day.people[3][1].token }, false);
    const coordinator = await joined({ token: day.sites[1].token }, true, 'coordinator');
    const other = await joined({ token: day.sites[2].token }, false, 'coordinator');
    // The coordinators' screens made their sites connected (two revisions): heard by all, then forgotten.
    const quiet = async () => (await send(phone.socket, 'live:snapshot', { meetingId: day.meetingId })).snapshot;
    await expect.poll(async () => (await quiet()).sites.filter((site: { presence: { connected: boolean } }) => site.presence.connected).length).toBe(2);
    const before = (await quiet()).revision;
    await expect.poll(() => [phone, oldPhone, coordinator, other].every((screen) => revisionsOf(screen.heard).includes(before))).toBe(true);
    for (const screen of [phone, oldPhone, coordinator, other]) screen.heard.length = 0;

    const sends = [
      ...day.people[1].map((person) => send(coordinator.socket, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })),
      ...day.people[2].map((person) => send(other.socket, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })),
    ];
    const acks = await Promise.all(sends);
    for (const ack of acks) expect(ack).toMatchObject({ ok: true, changed: true });
    const revisions = acks.map((ack) => ack.revision as number).sort((a, b) => a - b);
    const last = revisions.at(-1)!;
    const heardLast = (heard: Heard[]) => revisionsOf(heard).includes(last);
    await expect.poll(() => [phone, oldPhone, coordinator, other].every((screen) => heardLast(screen.heard)), { timeout: 5_000 }).toBe(true);
    // Nothing more comes after the burst.
    await new Promise((resolve) => setTimeout(resolve, 400));

    // The batched phone: only batches, each revision once and in order, fewer messages than changes.
    expect(phone.heard.every((entry) => entry.kind === 'batch')).toBe(true);
    expect(phone.heard.length).toBeLessThan(revisions.length);
    expect(revisionsOf(phone.heard)).toEqual(revisions);
    // In a batch a site's counts appear once (the newest); what they replaced is a bare revision.
    for (const entry of phone.heard) {
      const counted = (entry as { events: LiveEvent[] }).events.filter((event) => event.type === 'attendance.counts').map((event) => (event.payload as { siteId: string }).siteId);
      expect(new Set(counted).size).toBe(counted.length);
    }
    const batchedEvents = phone.heard.flatMap((entry) => (entry as { events: LiveEvent[] }).events);
    expect(batchedEvents.some((event) => event.type === 'revision')).toBe(true);

    // The unbatched phone: every check-in's counts on its own, as before batches existed.
    const oldCounts = oldPhone.heard.map((entry) => (entry as { event: LiveEvent }).event);
    expect(oldPhone.heard.every((entry) => entry.kind === 'event')).toBe(true);
    expect(oldCounts.map((event) => [event.type, event.revision])).toEqual(revisions.map((revision) => ['attendance.counts', revision]));

    // Both end with the counts the server has.
    const snapshot = (await send(phone.socket, 'live:snapshot', { meetingId: day.meetingId })).snapshot;
    const lastCounts = (events: LiveEvent[]) => {
      const bySite = new Map<string, number>();
      for (const event of events) if (event.type === 'attendance.counts') bySite.set((event.payload as { siteId: string }).siteId, (event.payload as { counts: { present: number } }).counts.present);
      return Object.fromEntries(bySite);
    };
    const server = { [day.sites[1].id]: 6, [day.sites[2].id]: 6 };
    expect(lastCounts(batchedEvents)).toEqual(server);
    expect(lastCounts(oldCounts)).toEqual(server);
    expect(snapshot.totals.present).toBe(12);

    // The batched coordinator: its own site's records on their own, each after the batch saying its revision.
    const records = coordinator.heard.flatMap((entry, index) => (entry.kind === 'event' ? [{ index, event: entry.event }] : []));
    expect(records.map(({ event }) => (event.payload as { record: { attendeeId: string } }).record.attendeeId).sort()).toEqual(day.people[1].map((person) => person.id).sort());
    for (const { index, event } of records) {
      expect(event.type).toBe('attendance.changed');
      expect(revisionsOf(coordinator.heard.slice(0, index).filter((entry) => entry.kind === 'batch'))).toContain(event.revision);
    }
    // ...and never another site's records.
    expect(JSON.stringify(coordinator.heard)).not.toContain(day.people[2][0].id);
  });

  it('refuses a join whose `batched` is not true or false, in the asker’s language, and joins nothing', async () => {
    const socket = screens.open({ token: day.people[0][0].token, lang: 'en' });
    const heard: LiveEvent[] = [];
    socket.on('event', (event: LiveEvent) => heard.push(event));
    const reply = await send(socket, 'meeting:join', { meetingId: day.meetingId, batched: 'yes' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid', fields: { batched: '“batched” must be true or false.' } } });
    const vietnamese = screens.open({ token: day.people[0][1].token });
    expect(await send(vietnamese, 'meeting:join', { meetingId: day.meetingId, batched: 1 })).toMatchObject({ ok: false, error: { code: 'invalid', fields: { batched: '“batched” phải là true hoặc false.' } } });
    const organizer = await joined({ token: day.sites[0].token }, false, 'coordinator');
    const ack = await send(organizer.socket, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[0][2].id, opId: opId() });
    expect(ack).toMatchObject({ ok: true });
    await expect.poll(() => revisionsOf(organizer.heard)).toContain(ack.revision);
    expect(heard).toEqual([]);
  });
});
