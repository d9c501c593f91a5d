// A second reader's attacks on batched live events (docs/api/live.md "Batches", realtime/fanout.ts)
// and on the shorter check-in (attendance/actions.ts change(), a socket's bearer kind): real
// socket.io-client screens of every role against a real app and store.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startSecondInstance, type SecondInstance } from '../helpers/second-instance.js';
import { conferenceDay, flat, listen, opId, revisionsOf, Screens, send, type DayFixture, type Heard } from './fixtures.js';
import type { LiveEvent } from '../../server/live/contract.js';
import { checkIn } from '../../server/attendance/actions.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { saveMinute } from '../../server/minutes/actions.js';
import { rotateCoordinatorLink } from '../../server/sites/actions.js';
import { createAttendee, removeAttendee } from '../../server/attendees/actions.js';
import { clearFailPoint, setFailPoint } from '../helpers/fail-point.js';

describe('batched screens of every role', () => {
  let app: TestApp;
  let screens: Screens;
  let day: DayFixture;
  let organizerCookie: string;

  beforeAll(async () => {
    app = await startTestApp({ eventBatchMs: 300, eventQuietMs: 300 });
    screens = new Screens(app.baseUrl);
    day = await conferenceDay(app.organizer, { peoplePerSite: 5 });
    organizerCookie = (await app.signInOrganizer()).cookieHeader();
  });
  afterAll(async () => {
    screens?.closeAll();
    await app?.stop();
  });

  async function joined(auth: Record<string, string>, input: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ socket: Socket; heard: Heard[] }> {
    const socket = screens.open(auth, headers);
    const heard = listen(socket);
    expect(await send(socket, 'meeting:join', { meetingId: day.meetingId, ...input })).toMatchObject({ ok: true });
    return { socket, heard };
  }

  it('never carry a payload the role may not see: another site’s records, minutes drafts', async () => {
    const coordinator = await joined({ token: day.sites[1].token }, { screen: 'coordinator', batched: true });
    const districtPhone = await joined({ token: day.people[2][4].token }, { screen: 'attendee', batched: true });
    const chair = await joined({ token: day.chairToken }, { screen: 'chair', batched: true });
    const organizer = await joined({}, { screen: 'dashboard', batched: true }, { cookie: organizerCookie });
    const other = await joined({ token: day.sites[2].token }, { screen: 'coordinator' });
    // Refused joins (anonymous, bad `batched`) join nothing.
    const anonymous = screens.open();
    const anonymousHeard = listen(anonymous);
    expect(await send(anonymous, 'meeting:join', { meetingId: day.meetingId, batched: true })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    const sloppy = screens.open({ token: day.people[3][0].token, lang: 'en' });
    const sloppyHeard = listen(sloppy);
    for (const batched of [null, [], {}, 'true', 0, [true]]) {
      expect(await send(sloppy, 'meeting:join', { meetingId: day.meetingId, batched }), JSON.stringify(batched)).toMatchObject({ ok: false, error: { code: 'invalid', fields: { batched: '“batched” must be true or false.' } } });
    }

    const secret = `Dự thảo kết luận ${randomUUID()}`;
    const acks = await Promise.all([
      ...day.people[2].slice(0, 4).map((person) => send(other.socket, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })),
      send(coordinator.socket, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][0].id, opId: opId() }),
      send(districtPhone.socket, 'attendance:undo', { meetingId: day.meetingId, attendeeId: day.people[2][4].id, opId: opId() }),
    ]);
    expect(acks.slice(0, 5).every((ack) => ack.ok)).toBe(true);
    expect(acks[5]).toMatchObject({ ok: false });
    const minute = await saveMinute(app.organizer, { meetingId: day.meetingId, agendaItemId: day.agendaIds[0], text: secret, baseVersion: 0, saveId: `save-${randomUUID()}` });
    expect(minute).toMatchObject({ text: secret });
    const last = (await MeetingModel.findById(day.meetingId, { revision: 1 }).lean())!.revision;
    const everyone = [coordinator, districtPhone, chair, organizer, other];
    await expect.poll(() => everyone.every((screen) => revisionsOf(screen.heard).includes(last)), { timeout: 10_000 }).toBe(true);

    const said = (heard: Heard[]) => JSON.stringify(heard);
    // The site-1 coordinator: its own record, never site 2's people, never the minutes.
    expect(said(coordinator.heard)).toContain(day.people[1][0].id);
    for (const person of day.people[2]) expect(said(coordinator.heard)).not.toContain(person.id);
    expect(said(coordinator.heard)).not.toContain(secret);
    // An attendee's phone: nobody's record but (at most) its own; no minutes.
    for (const person of [...day.people[1], ...day.people[2].slice(0, 4)]) expect(said(districtPhone.heard)).not.toContain(person.id);
    expect(said(districtPhone.heard)).not.toContain(secret);
    // The chair runs the desk (every site's records) but the minutes drafts are the unit organizers' only.
    expect(said(chair.heard)).toContain(day.people[2][0].id);
    expect(said(chair.heard)).not.toContain(secret);
    expect(said(organizer.heard)).toContain(secret);
    // Every revision reaches every screen once per batch, none missing.
    for (const screen of [coordinator, districtPhone, chair, organizer]) {
      const first = Math.min(...revisionsOf(screen.heard));
      const distinct = [...new Set(revisionsOf(screen.heard))].sort((a, b) => a - b);
      expect(distinct).toEqual(Array.from({ length: last - first + 1 }, (_, index) => first + index));
      for (const entry of screen.heard) {
        if (entry.kind !== 'batch') continue;
        const revisions = entry.events.map((event) => event.revision);
        expect(new Set(revisions).size).toBe(revisions.length);
      }
    }
    expect(anonymousHeard).toEqual([]);
    expect(sloppyHeard).toEqual([]);
  });

  it('another meeting’s screens cannot join this one batched, and a flood of joins is one membership', async () => {
    const elsewhere = await conferenceDay(app.organizer, { peoplePerSite: 1, title: 'Hội nghị khác' });
    const stranger = screens.open({ token: elsewhere.sites[1].token, lang: 'en' });
    const strangerHeard = listen(stranger);
    expect(await send(stranger, 'meeting:join', { meetingId: elsewhere.meetingId, batched: true })).toMatchObject({ ok: true });
    const refused = await send(stranger, 'meeting:join', { meetingId: day.meetingId, batched: true });
    expect(refused.ok).toBe(false);
    expect(['not_found', 'forbidden']).toContain(refused.error.code);

    const flooder = screens.open({ token: day.people[1][4].token, lang: 'en' });
    const flooderHeard = listen(flooder);
    const acks = await Promise.all(Array.from({ length: 150 }, () => send(flooder, 'meeting:join', { meetingId: day.meetingId, batched: true })));
    expect(acks.filter((ack) => ack.ok).length).toBeGreaterThan(0);
    const limited = acks.filter((ack) => !ack.ok);
    expect(limited.length).toBeGreaterThan(0);
    for (const ack of limited) expect(ack.error.code).toBe('too_many_requests');
    const change = await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: day.people[1][1].id, opId: opId() });
    await expect.poll(() => revisionsOf(flooderHeard), { timeout: 10_000 }).toContain(change.revision);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(revisionsOf(flooderHeard).filter((revision) => revision === change.revision)).toEqual([change.revision]);
    expect(JSON.stringify(strangerHeard)).not.toContain(day.meetingId);
  });

  it('a screen that joins again without batches gets events one by one (the last join decides)', async () => {
    const phone = await joined({ token: day.people[0][0].token }, { screen: 'attendee', batched: true });
    expect(await send(phone.socket, 'meeting:join', { meetingId: day.meetingId, screen: 'attendee', batched: false })).toMatchObject({ ok: true });
    const ack = await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: day.people[3][1].id, opId: opId() });
    await expect.poll(() => revisionsOf(phone.heard), { timeout: 10_000 }).toContain(ack.revision);
    expect(phone.heard.filter((entry) => entry.kind === 'batch')).toEqual([]);
    // ...and the other way round.
    expect(await send(phone.socket, 'meeting:join', { meetingId: day.meetingId, screen: 'attendee', batched: true })).toMatchObject({ ok: true });
    phone.heard.length = 0;
    const next = await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: day.people[3][2].id, opId: opId() });
    await expect.poll(() => revisionsOf(phone.heard), { timeout: 10_000 }).toContain(next.revision);
    expect(phone.heard.every((entry) => entry.kind === 'batch')).toBe(true);
  });

  it('batched screens that drop and are recovered get the batches they missed, in order, and stay batched', async () => {
    const site = day.sites[0];
    const coordinator = screens.open({ token: site.token }, {}, { reconnection: true });
    const phone = screens.open({ token: day.people[0][4].token }, {}, { reconnection: true });
    const seen = new Map<Socket, Heard[]>([coordinator, phone].map((socket) => [socket, listen(socket)]));
    for (const socket of [coordinator, phone]) expect(await send(socket, 'meeting:join', { meetingId: day.meetingId, screen: socket === phone ? 'attendee' : 'coordinator', batched: true })).toMatchObject({ ok: true });
    // Recovery resumes from the last event a screen heard: both hear one first.
    const first = await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: day.people[0][3].id, opId: opId() });
    for (const socket of [coordinator, phone]) await expect.poll(() => revisionsOf(seen.get(socket)!), { timeout: 10_000 }).toContain(first.revision);
    const ids = new Set([coordinator.id, phone.id]);
    const back = [coordinator, phone].map((socket) => new Promise<boolean>((resolve) => socket.once('connect', () => resolve(socket.recovered))));
    for (const socket of [coordinator, phone]) {
      seen.get(socket)!.length = 0;
      socket.io.engine.close();
    }
    await expect.poll(async () => (await app.realtime.io.fetchSockets()).some((socket) => ids.has(socket.id))).toBe(false);
    // Missed while away: the other people of the site checked in (gathered in batches).
    const missed = await Promise.all([0, 1, 2].map((index) => checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: day.people[0][index].id, opId: opId() })));
    expect(await Promise.all(back)).toEqual([true, true]);
    const server = (await send(phone, 'live:snapshot', { meetingId: day.meetingId })).snapshot as { revision: number; sites: Array<{ id: string; counts: { present: number; revision: number } }> };
    // At least: the recovered coordinator's screen opening again writes its site's presence, which
    // may come after the snapshot was read.
    for (const socket of [coordinator, phone]) await expect.poll(() => Math.max(...revisionsOf(seen.get(socket)!)), { timeout: 10_000 }).toBeGreaterThanOrEqual(server.revision);
    for (const socket of [coordinator, phone]) {
      const heard = seen.get(socket)!;
      // Whole-meeting events came as batches only (replayed batches, not events one by one).
      for (const entry of heard) if (entry.kind === 'event') expect(entry.event.type, JSON.stringify(entry.event)).toBe('attendance.changed');
      for (const ack of missed) expect(revisionsOf(heard)).toContain(ack.revision);
      // The newest counts of the site heard are the server's.
      const counts = flat(heard).filter((event) => event.type === 'attendance.counts' && (event.payload as { siteId: string }).siteId === site.id);
      const newest = counts.reduce((best, event) => (event.revision > best.revision ? event : best));
      expect((newest.payload as { counts: { present: number } }).counts.present).toBe(server.sites.find((candidate) => candidate.id === site.id)!.counts.present);
    }
    // The coordinator: each of its site's records after the batch that says its revision.
    const heard = seen.get(coordinator)!;
    const records = heard.flatMap((entry, index) => (entry.kind === 'event' ? [{ index, event: entry.event }] : []));
    expect(records.map(({ event }) => event.revision).sort((a, b) => a - b)).toEqual(missed.map((ack) => ack.revision).sort((a, b) => a - b));
    for (const { index, event } of records) expect(revisionsOf(heard.slice(0, index).filter((entry) => entry.kind === 'batch'))).toContain(event.revision);
    expect(records.length).toBeGreaterThan(0);
    // The phone heard nobody's record.
    expect(seen.get(phone)!.filter((entry) => entry.kind === 'event')).toEqual([]);
  });

  // Found by the second reader (it failed before, not from batching): removing, adding or moving
  // someone changed the site's counters or whom it expects with the revision, but only attendee.*
  // events (site-scoped) went out, so every screen kept the old headcount until the site's next
  // check-in. Now each site touched gets its `attendance.counts`.
  it('screens following the counts hear them change when a present person is removed, or someone is added', async () => {
    const site = day.sites[2];
    const phone = await joined({ token: day.people[1][2].token }, { screen: 'attendee', batched: true });
    const wall = await joined({ token: day.people[1][3].token }, { screen: 'attendee' });
    // Someone no earlier test checked in: their arrival is a change every screen hears.
    const present = day.people[2][4];
    const ack = await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: present.id, opId: opId() });
    expect(ack.changed).toBe(true);
    await expect.poll(() => revisionsOf(phone.heard), { timeout: 10_000 }).toContain(ack.revision);
    type Snapshot = { revision: number; sites: Array<{ id: string; counts: { present: number; expected: number } }>; totals: { present: number; expected: number } };
    const snapshot = async () => (await send(phone.socket, 'live:snapshot', { meetingId: day.meetingId })).snapshot as Snapshot;
    // The newest counts of the site a screen has heard, as the documented per-entity rule keeps them.
    const heardCounts = (heard: Heard[]) => {
      const counts = flat(heard).filter((event) => event.type === 'attendance.counts' && (event.payload as { siteId: string }).siteId === site.id);
      return counts.length === 0 ? undefined : (counts.reduce((best, event) => (event.revision > best.revision ? event : best)).payload as { counts: { present: number; expected: number } }).counts;
    };
    const before = (await snapshot()).sites.find((candidate) => candidate.id === site.id)!.counts;

    await removeAttendee(app.organizer, { meetingId: day.meetingId, attendeeId: present.id });
    const afterRemoval = await snapshot();
    const serverCounts = afterRemoval.sites.find((candidate) => candidate.id === site.id)!.counts;
    expect(serverCounts).toMatchObject({ present: before.present - 1, expected: before.expected - 1 });
    for (const screen of [phone, wall]) await expect.poll(() => revisionsOf(screen.heard), { timeout: 10_000 }).toContain(afterRemoval.revision);
    for (const screen of [phone, wall]) expect(heardCounts(screen.heard)).toMatchObject({ present: serverCounts.present, expected: serverCounts.expected });

    await createAttendee(app.organizer, { meetingId: day.meetingId, fullName: 'Người đến sau', siteId: site.id });
    const afterAdding = await snapshot();
    for (const screen of [phone, wall]) await expect.poll(() => revisionsOf(screen.heard), { timeout: 10_000 }).toContain(afterAdding.revision);
    for (const screen of [phone, wall]) expect(heardCounts(screen.heard)).toMatchObject({ expected: serverCounts.expected + 1 });
  });

  it('a batched coordinator whose link is rotated hears what was gathered and the rotation before it is cut off', async () => {
    const site = day.sites[3];
    const coordinator = await joined({ token: site.token }, { screen: 'coordinator', batched: true });
    const gone = new Promise<string>((resolve) => coordinator.socket.once('disconnect', resolve));
    // Presence first (its flush), so that the check-in below waits in the window, then the rotation at once.
    const snapshot = async () => (await send(coordinator.socket, 'live:snapshot', { meetingId: day.meetingId })).snapshot as { revision: number; sites: Array<{ id: string; presence: { connected: boolean } }> };
    await expect.poll(async () => (await snapshot()).sites.find((candidate) => candidate.id === site.id)?.presence.connected).toBe(true);
    const presenceRevision = (await snapshot()).revision;
    await expect.poll(() => revisionsOf(coordinator.heard), { timeout: 10_000 }).toContain(presenceRevision);
    const ack = await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: day.people[3][0].id, opId: opId() });
    await rotateCoordinatorLink(app.organizer, { meetingId: day.meetingId, siteId: site.id });
    expect(await gone).toBe('io server disconnect');
    const heard = flat(coordinator.heard);
    expect(heard.some((event) => event.type === 'attendance.counts' && event.revision === ack.revision)).toBe(true);
    expect(heard.some((event) => event.type === 'attendance.changed' && event.revision === ack.revision)).toBe(true);
    expect(heard.at(-1)?.type).toBe('site.linkRotated');
  });
});

describe('the shorter check-in (one upsert, a socket’s bearer kind)', () => {
  let app: TestApp;
  let screens: Screens;
  let day: DayFixture;

  beforeAll(async () => {
    app = await startTestApp();
    screens = new Screens(app.baseUrl);
    day = await conferenceDay(app.organizer, { peoplePerSite: 4 });
  });
  afterAll(async () => {
    screens?.closeAll();
    await app?.stop();
  });

  const recordOf = (attendeeId: string) => AttendanceModel.findOne({ meetingId: day.meetingId, attendeeId }).lean();

  it('a refused left-early or undo leaves no record; a second check-in changes nothing; each token acts as what it is', async () => {
    const coordinator = screens.open({ token: day.sites[1].token, lang: 'en' });
    const chair = screens.open({ token: day.chairToken });
    const attendee = screens.open({ token: day.people[1][3].token });
    const [first, second] = day.people[1];

    expect(await send(coordinator, 'attendance:leftEarly', { meetingId: day.meetingId, attendeeId: first.id, opId: opId() })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await send(coordinator, 'attendance:undo', { meetingId: day.meetingId, attendeeId: first.id, opId: opId() })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await recordOf(first.id)).toBeNull();

    const arrived = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: first.id, opId: opId() });
    expect(arrived).toMatchObject({ ok: true, changed: true, record: { status: 'present' } });
    const stored = await recordOf(first.id);
    const again = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: first.id, opId: opId() });
    expect(again).toMatchObject({ ok: true, changed: false, revision: arrived.revision, record: { status: 'present' } });
    expect(await recordOf(first.id)).toEqual(stored);

    // An absence from nothing, then undone back to expected, then undone again: nothing left to undo.
    expect(await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: second.id, reason: 'sick', opId: opId() })).toMatchObject({ ok: true, changed: true, record: { status: 'absent' } });
    expect(await send(coordinator, 'attendance:undo', { meetingId: day.meetingId, attendeeId: second.id, opId: opId() })).toMatchObject({ ok: true, record: { status: 'expected' } });
    expect(await send(coordinator, 'attendance:undo', { meetingId: day.meetingId, attendeeId: second.id, opId: opId() })).toMatchObject({ ok: false, error: { code: 'conflict' } });

    // The coordinator's link acts for its own site only; the chair's personal link (an attendee
    // token) is the chair; an attendee's link is told to use the code.
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[2][0].id, opId: opId() })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await send(chair, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[2][0].id, opId: opId() })).toMatchObject({ ok: true, changed: true, record: { changedBy: 'chair' } });
    expect(await send(attendee, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][3].id, opId: opId() })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await recordOf(day.people[1][3].id)).toBeNull();
  });

  it('a change that fails right after the unjournaled upsert leaves an "expected" record that nothing counts; its resend counts once', async () => {
    const coordinator = screens.open({ token: day.sites[3].token });
    const person = day.people[3][0];
    const id = opId();
    // The check-in's second findAndModify (the change, after the upsert that created the record) fails.
    await setFailPoint({ times: 1, skip: 1 }, { failCommands: ['findAndModify'], errorCode: 8 });
    let failed;
    try {
      failed = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: id });
    } finally {
      await clearFailPoint();
    }
    expect(failed).toMatchObject({ ok: false });
    expect(await recordOf(person.id)).toMatchObject({ status: 'expected', version: 0, history: [] });
    const siteCounts = async () => ((await send(coordinator, 'live:snapshot', { meetingId: day.meetingId })).snapshot as { sites: Array<{ id: string; counts: { present: number } }> }).sites.find((site) => site.id === day.sites[3].id)!.counts;
    expect((await siteCounts()).present).toBe(0);
    // Nothing to undo on it; the resend of the same operation counts once; a third send is answered again.
    expect(await send(coordinator, 'attendance:undo', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const resent = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: id });
    expect(resent).toMatchObject({ ok: true, changed: true, record: { status: 'present' } });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: id })).toMatchObject({ ok: true, replayed: true, revision: resent.revision });
    expect(await recordOf(person.id)).toMatchObject({ status: 'present', version: 1, revision: resent.revision, pendingSince: null });
    expect((await siteCounts()).present).toBe(1);
  });
});

// revision.ts publishes a change whose earlier revision is still unfinished after 5 s anyway (its
// events would otherwise wait forever for a process that died): the later revision goes first.
// Both can land in one batch, and the batch must keep the newer counts.
describe('counts published out of revision order within one batch', () => {
  let app: TestApp;
  let screens: Screens;
  let day: DayFixture;

  beforeAll(async () => {
    // A 10 s window: the two changes below, ~2 s apart, surely land in one batch.
    app = await startTestApp({ eventBatchMs: 10_000, eventQuietMs: 10_000 });
    screens = new Screens(app.baseUrl);
    day = await conferenceDay(app.organizer, { peoplePerSite: 4 });
  });
  afterAll(async () => {
    await clearFailPoint();
    screens?.closeAll();
    await app?.stop();
  });
  const recordOf = (attendeeId: string) => AttendanceModel.findOne({ meetingId: day.meetingId, attendeeId }).lean();

  it('keeps the newest counts of a site, not the last published', { timeout: 90_000 }, async () => {
    const phone = screens.open({ token: day.people[0][0].token });
    const phoneHeard = listen(phone);
    expect(await send(phone, 'meeting:join', { meetingId: day.meetingId, screen: 'attendee', batched: true })).toMatchObject({ ok: true });
    const witness = screens.open({ token: day.people[0][1].token });
    const witnessHeard = listen(witness);
    expect(await send(witness, 'meeting:join', { meetingId: day.meetingId, screen: 'attendee' })).toMatchObject({ ok: true });
    // A flush now: what follows within the window is gathered.
    const pacer = await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: day.people[2][0].id, opId: opId() });
    await expect.poll(() => revisionsOf(phoneHeard), { timeout: 15_000 }).toContain(pacer.revision);

    const site = day.sites[1];
    const [a, b] = day.people[1];
    // A's audit entry (its first `update` command) is held 7 s by the store: A's revision is taken,
    // its events wait. B comes after and is published when it has waited 5 s, before A.
    await setFailPoint({ times: 1 }, { failCommands: ['update'], blockConnection: true, blockTimeMS: 7_000 });
    const ackA = checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: a.id, opId: opId() });
    await expect.poll(async () => (await recordOf(a.id))?.revision ?? 0, { timeout: 5_000, interval: 20 }).toBeGreaterThan(pacer.revision);
    const ackB = await checkIn(app.organizer, { meetingId: day.meetingId, attendeeId: b.id, opId: opId() });
    const revisionA = (await ackA).revision;
    expect(ackB.revision).toBe(revisionA + 1);

    // (The day's own setup also announced counts as people were added: only those after the pacer count.)
    const countsOf = (events: LiveEvent[]) => events.filter((event) => event.type === 'attendance.counts' && (event.payload as { siteId: string }).siteId === site.id && event.revision > pacer.revision);
    await expect.poll(() => countsOf(flat(witnessHeard)).length, { timeout: 15_000 }).toBe(2);
    // Published out of order (what the unbatched screen shows)...
    expect(countsOf(flat(witnessHeard)).map((event) => event.revision)).toEqual([ackB.revision, revisionA]);
    await expect.poll(() => revisionsOf(phoneHeard), { timeout: 15_000 }).toContain(revisionA);
    const batch = phoneHeard.find((entry) => entry.kind === 'batch' && entry.events.some((event) => event.revision === revisionA)) as { events: LiveEvent[] };
    // ...and in one batch (the window held them together).
    expect(batch.events.map((event) => event.revision)).toContain(ackB.revision);
    // The batch carries the newest counts of the site (2 present), whatever the order they came in.
    const kept = countsOf(batch.events);
    expect(kept.map((event) => event.revision)).toEqual([ackB.revision]);
    expect((kept[0].payload as { counts: { present: number } }).counts.present).toBe(2);
  });
});

describe('batched screens on another instance (Redis)', () => {
  let redis: RedisServer;
  let first: TestApp;
  let second: SecondInstance;
  let day: DayFixture;
  let onSecond: Screens;

  beforeAll(async () => {
    redis = await startRedis();
    first = await startTestApp({ redisUrl: redis.url });
    day = await conferenceDay(first.organizer, { peoplePerSite: 4 });
    second = await startSecondInstance(first, redis.url);
    onSecond = new Screens(second.baseUrl);
  }, 120_000);
  afterAll(async () => {
    onSecond?.closeAll();
    await second?.stop();
    await first?.stop();
    await redis?.stop();
  });

  it('get the batches of changes made on the first, their own records on their own, and the rotation before they are cut off', async () => {
    const site = day.sites[1];
    const coordinator = onSecond.open({ token: site.token });
    const phone = onSecond.open({ token: day.people[2][0].token });
    const heard = new Map<Socket, Heard[]>([coordinator, phone].map((socket) => [socket, listen(socket)]));
    for (const socket of [coordinator, phone]) expect(await send(socket, 'meeting:join', { meetingId: day.meetingId, screen: socket === phone ? 'attendee' : 'coordinator', batched: true })).toMatchObject({ ok: true });
    const gone = new Promise<string>((resolve) => coordinator.once('disconnect', resolve));
    const acks = await Promise.all(day.people[1].map((person) => checkIn(first.organizer, { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })));
    await rotateCoordinatorLink(first.organizer, { meetingId: day.meetingId, siteId: site.id });
    expect(await gone).toBe('io server disconnect');
    const last = (await MeetingModel.findById(day.meetingId, { revision: 1 }).lean())!.revision;
    await expect.poll(() => revisionsOf(heard.get(phone)!), { timeout: 10_000 }).toContain(last);

    const phoneHeard = heard.get(phone)!;
    expect(phoneHeard.every((entry) => entry.kind === 'batch')).toBe(true);
    for (const ack of acks) expect(revisionsOf(phoneHeard)).toContain(ack.revision);
    const coordinatorHeard = heard.get(coordinator)!;
    const records = flat(coordinatorHeard).filter((event) => event.type === 'attendance.changed');
    expect(records.map((event) => event.revision).sort((a, b) => a - b)).toEqual(acks.map((ack) => ack.revision).sort((a, b) => a - b));
    expect(flat(coordinatorHeard).at(-1)?.type).toBe('site.linkRotated');
    for (const person of day.people[1]) expect(JSON.stringify(phoneHeard)).not.toContain(person.id);
  });
});
