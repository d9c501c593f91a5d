// The conference day end to end over real Socket.IO connections, for every role: what each may
// not do, exactly-once operations, a district coordinator who loses the connection while checking
// people in, live counts that always equal a fresh count of the records, and site presence with
// several screens of one site. (tests/live/attendance.test.ts covers the attendance commands one by
// one; tests/screens/ the same day in Chromium.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { conferenceDay, eventually, opId, record, Screens, send, type AnyAck, type DayFixture } from './fixtures.js';
import { currentCode } from '../../server/attendance/codes.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { getLiveSnapshot } from '../../server/live/queries.js';
import type { AttendanceCounts, LiveEvent, LiveSnapshot } from '../../server/live/contract.js';

let app: TestApp;
let screens: Screens;
let organizerCookie: string;

beforeAll(async () => {
  app = await startTestApp();
  screens = new Screens(app.baseUrl);
  organizerCookie = (await app.signInOrganizer()).cookieHeader();
});

afterAll(async () => {
  screens.closeAll();
  await app.stop();
});

const revisionOf = async (meetingId: string) => (await MeetingModel.findById(meetingId, { revision: 1 }).lean())!.revision;

async function liveDay(options: { peoplePerSite?: number } = {}): Promise<DayFixture & { chair: Socket; organizer: Socket }> {
  const day = await conferenceDay(app.organizer, { peoplePerSite: options.peoplePerSite ?? 4 });
  const chair = await screens.join(day.meetingId, { token: day.chairToken }, {}, { screen: 'chair' });
  const organizer = await screens.join(day.meetingId, {}, { cookie: organizerCookie }, { screen: 'dashboard' });
  expect(await send(chair, 'meeting:start', { meetingId: day.meetingId })).toMatchObject({ ok: true, meeting: { status: 'live' } });
  return { ...day, chair, organizer };
}

/**
 * A screen that follows the meeting as docs/api/live.md says a client must ("Revisions: how a
 * screen stays right"): it applies events in revision order, keeps each entity's revision, and on
 * a gap (or a reconnect the server could not recover) fetches a snapshot, then applies the
 * buffered events that are newer than the snapshot's entities.
 */
class Follower {
  state: LiveSnapshot;
  revision: number;
  snapshotsFetched = 0;
  private buffered: LiveEvent[] = [];
  private syncing: Promise<void> | undefined;

  constructor(
    readonly socket: Socket,
    snapshot: LiveSnapshot,
  ) {
    this.state = snapshot;
    this.revision = snapshot.revision;
    socket.on('event', (event: LiveEvent) => this.receive(event));
  }

  static async open(socket: Socket, meetingId: string): Promise<Follower> {
    const reply = await send(socket, 'live:snapshot', { meetingId });
    return new Follower(socket, reply.snapshot);
  }

  /** After a reconnect: recovered needs nothing; otherwise join again and fetch if behind. */
  async reconnected(meetingId: string, screen: string): Promise<void> {
    if (this.socket.recovered) return;
    const joined = await send(this.socket, 'meeting:join', { meetingId, screen });
    expect(joined.ok).toBe(true);
    if (joined.revision > this.revision) await this.resync();
  }

  private receive(event: LiveEvent): void {
    if (this.syncing) {
      this.buffered.push(event);
      return;
    }
    if (event.revision > this.revision + 1) {
      this.buffered.push(event);
      void this.resync();
      return;
    }
    this.apply(event);
  }

  private resync(): Promise<void> {
    this.syncing ??= (async () => {
      const reply = await send(this.socket, 'live:snapshot', { meetingId: this.state.meeting.id });
      this.snapshotsFetched += 1;
      this.state = reply.snapshot;
      this.revision = reply.snapshot.revision;
      const waiting = this.buffered.splice(0).sort((a, b) => a.revision - b.revision);
      for (const event of waiting) this.apply(event);
      this.syncing = undefined;
    })();
    return this.syncing;
  }

  private apply(event: LiveEvent): void {
    const state = this.state;
    const payload = event.payload as AnyAck;
    if (event.type === 'agenda.live' && payload.agenda.revision > state.agenda.revision) state.agenda = payload.agenda;
    if (event.type === 'attendance.counts') {
      const site = state.sites.find((candidate) => candidate.id === payload.siteId);
      if (site && payload.counts.revision > site.counts.revision) site.counts = payload.counts;
      if (payload.totals.revision > state.totals.revision) state.totals = payload.totals;
    }
    if (event.type === 'attendance.changed') {
      const index = state.attendance.findIndex((known) => known.attendeeId === payload.record.attendeeId);
      if (index < 0) state.attendance.push(payload.record);
      else if (payload.record.revision > state.attendance[index].revision) state.attendance[index] = payload.record;
    }
    if (event.type === 'speakers.changed' && payload.speakers.revision > state.speakers.revision) state.speakers = payload.speakers;
    if (event.revision > this.revision) this.revision = event.revision;
  }
}

/**
 * The coordinator page's outbox (client/_queue.ts) without a browser: commands are kept with
 * their operation ids while there is no connection, then sent one at a time, each waiting for its
 * acknowledgement, and removed only once acknowledged.
 */
class Outbox {
  readonly waiting: Array<{ command: string; input: Record<string, unknown> }> = [];
  add(command: string, input: Record<string, unknown>): void {
    this.waiting.push({ command, input: { ...input, opId: opId() } });
  }
  /** What was sent, to send it again as a page does after a lost acknowledgement. */
  readonly sent: Array<{ command: string; input: Record<string, unknown> }> = [];
  async drain(socket: Socket): Promise<AnyAck[]> {
    const acks = [];
    for (const queued of [...this.waiting]) {
      const ack = await send(socket, queued.command, queued.input);
      acks.push(ack);
      this.sent.push(queued);
      this.waiting.splice(this.waiting.indexOf(queued), 1);
    }
    return acks;
  }
}

/** Counts made afresh from the stored records: what the live counters must always equal. */
async function countedFromRecords(meetingId: string): Promise<Map<string, AttendanceCounts>> {
  const [attendees, records] = await Promise.all([AttendeeModel.find({ meetingId }).lean(), AttendanceModel.find({ meetingId }).lean()]);
  const byAttendee = new Map(records.map((entry) => [String(entry.attendeeId), entry]));
  const bySite = new Map<string, AttendanceCounts>();
  for (const attendee of attendees) {
    const siteId = String(attendee.siteId);
    const counts = bySite.get(siteId) ?? { expected: 0, present: 0, absent: 0, leftEarly: 0, late: 0, walkIns: 0, pending: 0 };
    bySite.set(siteId, counts);
    const status = byAttendee.get(String(attendee._id))?.status ?? 'expected';
    const here = status === 'present' || status === 'leftEarly';
    if (attendee.walkIn) counts.walkIns += 1;
    else {
      counts.expected += 1;
      if (status === 'expected') counts.pending += 1;
    }
    if (status === 'present') counts.present += 1;
    if (status === 'absent') counts.absent += 1;
    if (status === 'leftEarly') counts.leftEarly += 1;
    if (here && byAttendee.get(String(attendee._id))?.late) counts.late += 1;
  }
  return bySite;
}

const countsOnly = ({ expected, present, absent, leftEarly, late, walkIns, pending }: AttendanceCounts) => ({ expected, present, absent, leftEarly, late, walkIns, pending });

describe('who may do what on the day', () => {
  it('a coordinator cannot check in for another site, add a walk-in there, control the agenda, nor give the floor; nothing changes', async () => {
    const day = await liveDay();
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token, lang: 'en' }, {}, { screen: 'coordinator' });
    const before = await revisionOf(day.meetingId);
    const refused = [
      await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[2][0].id, opId: opId() }),
      await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: day.people[0][0].id, opId: opId(), reason: 'sick' }),
      await send(coordinator, 'attendance:addWalkIn', { meetingId: day.meetingId, siteId: day.sites[3].id, opId: opId(), fullName: 'Người lạ' }),
      await send(coordinator, 'site:setLink', { meetingId: day.meetingId, siteId: day.sites[2].id, status: 'offline' }),
      await send(coordinator, 'agenda:start', { meetingId: day.meetingId, itemId: day.agendaIds[0] }),
      await send(coordinator, 'agenda:next', { meetingId: day.meetingId }),
      await send(coordinator, 'agenda:extend', { meetingId: day.meetingId, minutes: 5 }),
      await send(coordinator, 'meeting:end', { meetingId: day.meetingId }),
      await send(coordinator, 'meeting:setQuorum', { meetingId: day.meetingId, quorumPercent: 10 }),
    ];
    for (const ack of refused) expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.any(String) } });
    expect(refused[0].error.message).toBe('You can only act for your own bridge point.');
    expect(await revisionOf(day.meetingId)).toBe(before);
    expect(await AttendanceModel.countDocuments({ meetingId: day.meetingId })).toBe(0);
    // The same coordinator may act for their own site.
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][0].id, opId: opId() })).toMatchObject({ ok: true, changed: true });
  });

  it("the chair runs the agenda; an attendee can neither run it, nor check in someone else, nor themself without their site's current code", async () => {
    const day = await liveDay();
    const me = day.people[3][0];
    const phone = await screens.join(day.meetingId, { token: me.token, lang: 'en' }, {}, { screen: 'attendee' });
    const before = await revisionOf(day.meetingId);
    for (const [name, input] of [
      ['agenda:start', { itemId: day.agendaIds[0] }],
      ['meeting:end', {}],
      ['attendance:checkIn', { attendeeId: day.people[3][1].id, opId: opId() }],
      ['attendance:checkIn', { attendeeId: me.id, opId: opId() }],
      ['attendance:markAbsent', { attendeeId: day.people[3][1].id, opId: opId(), reason: 'sick' }],
      ['attendance:undo', { attendeeId: me.id, opId: opId() }],
    ] as const) {
      const ack = await send(phone, name, { meetingId: day.meetingId, ...input });
      expect(ack, name).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    // A code of another site, or one that rotated out long ago, is no code at all.
    const ownSite = day.sites[3];
    const stale = currentCode(ownSite.token, ownSite.id, Date.now() - 10 * 60_000).code;
    const otherSites = currentCode(day.sites[2].token, day.sites[2].id).code;
    for (const code of [stale, otherSites].filter((candidate) => candidate !== currentCode(ownSite.token, ownSite.id).code)) {
      expect(await send(phone, 'attendance:selfCheckIn', { meetingId: day.meetingId, opId: opId(), code })).toMatchObject({ ok: false, error: { code: 'invalid', fields: { code: expect.any(String) } } });
    }
    expect(await revisionOf(day.meetingId)).toBe(before);
    expect(await AttendanceModel.findOne({ attendeeId: me.id, status: { $ne: 'expected' } }).lean()).toBeNull();

    const started = await send(day.chair, 'agenda:start', { meetingId: day.meetingId, itemId: day.agendaIds[0] });
    expect(started).toMatchObject({ ok: true, changed: true, agenda: { currentItemId: day.agendaIds[0] } });
    const ok = await send(phone, 'attendance:selfCheckIn', { meetingId: day.meetingId, opId: opId(), code: currentCode(ownSite.token, ownSite.id).code });
    expect(ok).toMatchObject({ ok: true, changed: true, record: { attendeeId: me.id, status: 'present', changedBy: 'attendee', late: true } });
  });

  it('the same operation id sent twice, from two sockets of the site, counts once; reused for someone else it is refused', async () => {
    const day = await liveDay();
    const [phoneA, phoneB] = await Promise.all([0, 1].map(() => screens.join(day.meetingId, { token: day.sites[2].token }, {}, { screen: 'coordinator' })));
    const input = { meetingId: day.meetingId, attendeeId: day.people[2][0].id, opId: opId() };
    const [first, second] = await Promise.all([send(phoneA, 'attendance:checkIn', input), send(phoneB, 'attendance:checkIn', input)]);
    expect([first, second].filter((ack) => ack.replayed).length).toBe(1);
    expect(first.revision).toBe(second.revision);
    expect(first.counts.present).toBe(1);
    expect(second.counts.present).toBe(1);
    // An undo sent twice steps back once (and not two states).
    const undo = { meetingId: day.meetingId, attendeeId: day.people[2][0].id, opId: opId() };
    await send(phoneA, 'attendance:undo', undo);
    expect(await send(phoneB, 'attendance:undo', undo)).toMatchObject({ ok: true, replayed: true, record: { status: 'expected' } });
    const reused = await send(phoneA, 'attendance:checkIn', { ...input, attendeeId: day.people[2][1].id });
    expect(reused).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const snapshot = await getLiveSnapshot(app.organizer, day.meetingId);
    expect(snapshot.sites[2].counts).toMatchObject({ present: 0, pending: 4 });
  });
});

describe('a district coordinator who loses the connection', () => {
  // The story: offline for 30 seconds, 10 people checked in meanwhile, the agenda moved on.
  // The server has no clock in this: within Connection State Recovery's window (2 minutes) the
  // socket is recovered with the events it missed; past it the session is gone and the screen
  // joins again and fetches a snapshot. So the 30 seconds are "as long as the other screens need
  // to make their changes", and the expired window is reached without waiting 2 minutes by a
  // disconnect the server does not keep a session for (the client's own disconnect): the server
  // then has nothing to recover, exactly as after the window ran out.
  async function offlineStory(goOffline: (socket: Socket) => void, reconnect: (socket: Socket) => void) {
    const day = await liveDay({ peoplePerSite: 12 });
    const site = day.sites[1];
    const people = day.people[1];
    const coordinator = screens.open({ token: site.token }, {}, { reconnection: false });
    const heardByCoordinator = record(coordinator);
    const joined = await send(coordinator, 'meeting:join', { meetingId: day.meetingId, screen: 'coordinator' });
    expect(joined.ok).toBe(true);
    const follower = await Follower.open(coordinator, day.meetingId);
    const outbox = new Outbox();
    await eventually(async () => (await getLiveSnapshot(app.organizer, day.meetingId)).sites[1].presence.connected, Boolean);
    // The screen has heard it too (events go out in batches, a moment later): recovery resumes
    // from the last event a screen received, and one that received none yet has nothing to resume.
    const connectedAt = await revisionOf(day.meetingId);
    expect((await eventually(() => heardByCoordinator.at(-1)?.revision ?? 0, (revision) => revision >= connectedAt)) >= connectedAt).toBe(true);

    const dashboardEvents = record(day.organizer);
    const gone = new Promise((resolve) => coordinator.once('disconnect', resolve));
    goOffline(coordinator);
    await gone;
    // Offline: ten check-ins go to the outbox, each with its own operation id and the time it happened.
    for (const person of people.slice(0, 10)) outbox.add('attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, at: new Date().toISOString() });
    // Meanwhile the chair runs the agenda, and the organizer checks in one of the ten at the main
    // desk (they walked past it) and one more of the site.
    await send(day.chair, 'agenda:start', { meetingId: day.meetingId, itemId: day.agendaIds[0] });
    await send(day.chair, 'agenda:next', { meetingId: day.meetingId, fromItemId: day.agendaIds[0] });
    await send(day.chair, 'agenda:extend', { meetingId: day.meetingId, minutes: 5, opId: opId() });
    expect(await send(day.organizer, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: people[3].id, opId: opId() })).toMatchObject({ ok: true, changed: true });
    expect(await send(day.organizer, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: people[11].id, opId: opId() })).toMatchObject({ ok: true, changed: true });
    expect(await send(day.organizer, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[2][0].id, opId: opId() })).toMatchObject({ ok: true });
    const offlineRevision = await revisionOf(day.meetingId);
    expect(follower.revision).toBeLessThan(offlineRevision);
    // Events leave in batches up to 100 ms after a change: wait until the dashboard has heard the
    // last one, so that none of them is still held when the screen comes back. Otherwise the
    // screen, joined again, would simply receive them with everyone else and catch up without
    // needing the recovery or the snapshot these two stories are about.
    expect(await eventually(() => Math.max(0, ...dashboardEvents.map((event) => event.revision)), (revision) => revision >= offlineRevision)).toBeGreaterThanOrEqual(offlineRevision);

    const back = new Promise<void>((resolve) => coordinator.once('connect', () => resolve()));
    reconnect(coordinator);
    await back;
    await follower.reconnected(day.meetingId, 'coordinator');
    const acks = await outbox.drain(coordinator);
    expect(outbox.waiting).toEqual([]);
    expect(acks.every((ack) => ack.ok)).toBe(true);
    // The one the organizer had already checked in is acknowledged without a second count.
    expect(acks.filter((ack) => ack.changed === false).map((ack) => ack.record.attendeeId)).toEqual([people[3].id]);
    // The acknowledgements were lost on the way back (the link dropped again): the page sends the
    // same ten operations again; each is answered as the first time and nothing moves.
    const again = await Promise.all(outbox.sent.map((queued) => send(coordinator, queued.command, queued.input)));
    expect(again.map((ack) => [ack.ok, ack.replayed, ack.revision])).toEqual(acks.map((ack) => [true, true, ack.revision]));

    const current = await revisionOf(day.meetingId);
    expect(await eventually(() => follower.revision, (revision) => revision >= current, 20_000)).toBeGreaterThanOrEqual(current);
    const truth = await getLiveSnapshot(app.organizer, day.meetingId);
    const ownSite = follower.state.sites.find((candidate) => candidate.id === site.id)!;
    expect(countsOnly(ownSite.counts)).toEqual({ ...countsOnly(truth.sites[1].counts), present: 11, pending: 1, expected: 12 });
    expect(follower.state.attendance.filter((entry) => entry.status === 'present').length).toBe(11);
    // The agenda changes made while it was away are on its screen: item 2 current, extended by 5.
    const agendaAsShown = (agenda: LiveSnapshot['agenda']) => ({ currentItemId: agenda.currentItemId, items: agenda.items.map(({ id, state, extendedMinutes, actualStartedAt, actualEndedAt }) => ({ id, state, extendedMinutes, actualStartedAt, actualEndedAt })) });
    expect(agendaAsShown(follower.state.agenda)).toEqual(agendaAsShown(truth.agenda));
    expect(follower.state.agenda.currentItemId).toBe(day.agendaIds[1]);
    expect(follower.state.agenda.items[1]).toMatchObject({ extendedMinutes: 5, state: 'current' });
    expect(follower.state.totals.present).toBe(truth.totals.present);
    // And the dashboard, following events only, shows the site connected again.
    const lastPresence = () => dashboardEvents.filter((event) => event.type === 'site.presence' && (event.payload as AnyAck).siteId === site.id).at(-1)?.payload as AnyAck;
    expect((await eventually(lastPresence, (payload) => payload?.presence.connected === true, 10_000))?.presence.connected).toBe(true);
    expect((await getLiveSnapshot(app.organizer, day.meetingId)).sites[1].presence.connected).toBe(true);
    return { day, follower, coordinator, acks };
  }

  it('reconnecting within the recovery window: the missed events are replayed in order (no snapshot needed), the 10 are counted once', async () => {
    const { follower, coordinator } = await offlineStory(
      (socket) => socket.io.engine.close(),
      (socket) => socket.connect(),
    );
    expect(coordinator.recovered).toBe(true);
    // Recovery replays what was missed, so usually no snapshot is needed; but two commits whose
    // events leave in the other order than their revisions (seen under load: the site's own
    // presence write against the chair's agenda step) make a gap, and the documented answer to a
    // gap is one snapshot. What must hold is above: the screen converges without a reload.
    expect(follower.snapshotsFetched).toBeLessThanOrEqual(1);
  });

  it('reconnecting after the recovery window: the screen sees it is behind, fetches a snapshot and carries on; the 10 are counted once', async () => {
    const { follower, coordinator } = await offlineStory(
      (socket) => socket.disconnect(),
      (socket) => socket.connect(),
    );
    expect(coordinator.recovered).toBe(false);
    expect(follower.snapshotsFetched).toBeGreaterThanOrEqual(1);
  });
});

describe('live counts', () => {
  it('many check-ins, undos, absences and walk-ins sent at once from several sockets leave counts equal to a fresh count of the records', async () => {
    const day = await liveDay({ peoplePerSite: 6 });
    const coordinators = await Promise.all(day.sites.flatMap((site) => [0, 1].map(() => screens.join(day.meetingId, { token: site.token }, {}, { screen: 'coordinator' }))));
    const runners = [day.organizer, day.chair];
    // A fixed pseudo-random sequence: the same commands every run, racing differently each time.
    let seed = 7;
    const random = (below: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      // The high bits: an LCG's low bits repeat with a short period.
      return Math.floor((seed / 2 ** 31) * below);
    };
    const commands: Array<Promise<AnyAck>> = [];
    for (let n = 0; n < 160; n++) {
      const siteIndex = random(day.sites.length);
      const person = day.people[siteIndex][random(3)]; // three people per site: many changes meet on one record
      const socket = random(4) === 0 ? runners[random(2)] : coordinators[siteIndex * 2 + random(2)];
      const base = { meetingId: day.meetingId, attendeeId: person.id, opId: opId() };
      const kind = random(10);
      if (kind < 4) commands.push(send(socket, 'attendance:checkIn', base));
      else if (kind < 6) commands.push(send(socket, 'attendance:undo', base));
      else if (kind < 8) commands.push(send(socket, 'attendance:markAbsent', { ...base, reason: random(2) ? 'sick' : 'mission' }));
      else if (kind < 9) commands.push(send(socket, 'attendance:leftEarly', base));
      else commands.push(send(socket, 'attendance:addWalkIn', { meetingId: day.meetingId, siteId: day.sites[siteIndex].id, opId: opId(), fullName: `Khách ${n}` }));
    }
    const acks = await Promise.all(commands);
    // Every command is answered; refusals are the expected ones (nothing to undo, not present, busy record).
    for (const ack of acks) if (!ack.ok) expect(['conflict', 'too_many_requests']).toContain(ack.error.code);
    expect(acks.filter((ack) => ack.ok && ack.changed).length).toBeGreaterThan(40);

    const fresh = await countedFromRecords(day.meetingId);
    const snapshot = await getLiveSnapshot(app.organizer, day.meetingId);
    for (const site of snapshot.sites) expect(countsOnly(site.counts), site.name).toEqual(fresh.get(site.id));
    const total = [...fresh.values()].reduce((sum, counts) => sum + counts.present, 0);
    expect(snapshot.totals.present).toBe(total);
    // The dashboard that followed the events ends where the snapshot is.
    const follower = await Follower.open(day.organizer, day.meetingId);
    const last = await send(coordinators[0], 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[0][5].id, opId: opId() });
    expect(await eventually(() => follower.revision, (revision) => revision >= last.revision, 10_000)).toBeGreaterThanOrEqual(last.revision);
    const after = await countedFromRecords(day.meetingId);
    for (const site of follower.state.sites) expect(countsOnly(site.counts), site.name).toEqual(after.get(site.id));
  });
});

describe('site presence', () => {
  const presenceOf = async (meetingId: string, siteId: string) => {
    const stored = (await MeetingModel.findById(meetingId).lean())!.live as AnyAck;
    const fromState = stored?.sites?.[siteId]?.connected ?? false;
    const snapshot = await getLiveSnapshot(app.organizer, meetingId);
    return { stored: Boolean(fromState), shown: snapshot.sites.find((site) => site.id === siteId)!.presence.connected };
  };

  it('a site open on two screens stays connected when one of them closes, and goes when the last one does', async () => {
    const day = await liveDay();
    const site = day.sites[2];
    const events = record(day.organizer);
    const checkin = await screens.join(day.meetingId, { token: site.token }, {}, { screen: 'coordinator' });
    const wall = await screens.join(day.meetingId, { token: site.token }, {}, { screen: 'wall' });
    expect(await eventually(() => presenceOf(day.meetingId, site.id), (presence) => presence.stored && presence.shown)).toEqual({ stored: true, shown: true });

    checkin.disconnect();
    // Give the close its chance to be (wrongly) recorded: wait until a later change is announced.
    const marker = await send(day.organizer, 'site:setLink', { meetingId: day.meetingId, siteId: site.id, status: 'ready' });
    await eventually(() => events.some((event) => event.revision >= marker.revision), Boolean);
    expect(await presenceOf(day.meetingId, site.id)).toEqual({ stored: true, shown: true });
    expect(events.filter((event) => event.type === 'site.presence' && (event.payload as AnyAck).siteId === site.id && !(event.payload as AnyAck).presence.connected)).toEqual([]);

    wall.disconnect();
    expect(await eventually(() => presenceOf(day.meetingId, site.id), (presence) => !presence.stored && !presence.shown)).toEqual({ stored: false, shown: false });
  });

  it('screens of one site opening and closing at the same moment leave the site connected while one stays', async () => {
    const day = await liveDay();
    const site = day.sites[3];
    const stays = await screens.join(day.meetingId, { token: site.token }, {}, { screen: 'wall' });
    for (let round = 0; round < 5; round++) {
      const comers = await Promise.all([0, 1, 2].map(() => screens.join(day.meetingId, { token: site.token }, {}, { screen: 'coordinator' })));
      for (const socket of comers) socket.disconnect();
    }
    const marker = await send(day.organizer, 'site:setLink', { meetingId: day.meetingId, siteId: site.id, status: 'audioProblem' });
    expect(marker.ok).toBe(true);
    expect(await eventually(() => presenceOf(day.meetingId, site.id), (presence) => presence.stored && presence.shown)).toEqual({ stored: true, shown: true });
    // Each closing settles: no later than when the stored flag has stopped moving, it is still "connected".
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await presenceOf(day.meetingId, site.id)).toEqual({ stored: true, shown: true });
    stays.disconnect();
    expect(await eventually(() => presenceOf(day.meetingId, site.id), (presence) => !presence.stored, 10_000)).toMatchObject({ stored: false });
  });
});
