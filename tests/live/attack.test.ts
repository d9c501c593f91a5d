// An outsider's attack on the day's socket API (docs/api/live.md): opIds reused with another
// payload, odd payloads on every event, the agenda and speaker queue pushed past their ends,
// revoked credentials. Real socket.io-client connections against the test app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { conferenceDay, eventually, opId, record, send, Screens, type DayFixture } from './fixtures.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { SpeakerRequestModel } from '../../server/speakers/model.js';
import { liveCommands } from '../../server/live/contract.js';
import { fingerprintOf, LiveOperationModel } from '../../server/live/operations.js';

let app: TestApp;
let day: DayFixture;
let screens: Screens;
let organizerCookie: string;

beforeAll(async () => {
  app = await startTestApp();
  day = await conferenceDay(app.organizer, { title: 'Hội nghị bị tấn công' });
  screens = new Screens(app.baseUrl);
  organizerCookie = (await app.signInOrganizer()).cookieHeader();
});

afterAll(async () => {
  screens.closeAll();
  await app.stop();
});

/** Sends again while the socket's bucket says to wait (a test sending many commands on purpose). */
async function sendPatiently(socket: Parameters<typeof send>[0], name: string, input: unknown) {
  for (;;) {
    const ack = await send(socket, name, input);
    if (ack.ok || ack.error.code !== 'too_many_requests') return ack;
    await new Promise((resolve) => setTimeout(resolve, ack.error.retryAfterMs));
  }
}

const revisionNow = async () => (await MeetingModel.findById(day.meetingId).lean())!.revision;

describe('an operation id sent again with another payload', () => {
  it('markAbsent: the second reason is refused (conflict), not answered as if it applied', async () => {
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token });
    const person = day.people[1][1];
    const op = opId();
    const first = await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: person.id, opId: op, reason: 'sick' });
    expect(first).toMatchObject({ ok: true, changed: true, record: { status: 'absent', absence: { reason: 'sick' } } });
    const before = await revisionNow();

    const second = await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: person.id, opId: op, reason: 'delegate', delegateName: 'Trần Văn B' });

    expect(second.ok).toBe(false);
    expect(second.error.code).toBe('conflict');
    expect((await AttendanceModel.findOne({ attendeeId: person.id }).lean())!.absence).toMatchObject({ reason: 'sick' });
    expect(await revisionNow()).toBe(before);
    // The very same payload again is still a replay.
    const again = await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: person.id, opId: op, reason: 'sick' });
    expect(again).toMatchObject({ ok: true, replayed: true, revision: first.revision });
  });

  it('addWalkIn: a second name under the same opId is refused, and only the first walk-in exists', async () => {
    const coordinator = await screens.join(day.meetingId, { token: day.sites[2].token });
    const op = opId();
    const first = await send(coordinator, 'attendance:addWalkIn', { meetingId: day.meetingId, siteId: day.sites[2].id, opId: op, fullName: 'Khách Một' });
    expect(first).toMatchObject({ ok: true, record: { fullName: 'Khách Một', status: 'present' } });

    const second = await send(coordinator, 'attendance:addWalkIn', { meetingId: day.meetingId, siteId: day.sites[2].id, opId: op, fullName: 'Khách Hai' });

    expect(second.ok).toBe(false);
    expect(second.error.code).toBe('conflict');
    expect(await AttendeeModel.countDocuments({ meetingId: day.meetingId, fullName: 'Khách Hai' })).toBe(0);
  });

  it('speakers:request: the same opId and topic for another person is refused', async () => {
    const organizer = await screens.join(day.meetingId, {}, { cookie: organizerCookie });
    const op = opId();
    const first = await send(organizer, 'speakers:request', { meetingId: day.meetingId, opId: op, topic: 'Ngân sách', attendeeId: day.people[0][0].id });
    expect(first.ok).toBe(true);
    const second = await send(organizer, 'speakers:request', { meetingId: day.meetingId, opId: op, topic: 'Ngân sách', attendeeId: day.people[3][0].id });
    expect(second.ok).toBe(false);
    expect(second.error.code).toBe('conflict');
    expect(await SpeakerRequestModel.countDocuments({ meetingId: day.meetingId, attendeeId: day.people[3][0].id })).toBe(0);
  });

  it('the same opId in another meeting is another operation', async () => {
    const other = await conferenceDay(app.organizer, { title: 'Hội nghị khác', peoplePerSite: 1 });
    const op = opId();
    const here = await send(await screens.join(day.meetingId, { token: day.sites[3].token }), 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[3][2].id, opId: op });
    const there = await send(await screens.join(other.meetingId, { token: other.sites[3].token }), 'attendance:checkIn', { meetingId: other.meetingId, attendeeId: other.people[3][0].id, opId: op });
    expect(here).toMatchObject({ ok: true, changed: true });
    expect(there).toMatchObject({ ok: true, changed: true });
    expect(there.replayed).toBeUndefined();
  });
});

describe('odd payloads on every event', () => {
  it('non-objects, prototype keys, binary, oversized and no ack callback leave the socket answering and the meeting unchanged', async () => {
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token });
    const before = await revisionNow();
    const odd: unknown[] = [
      null,
      42,
      'meeting',
      [],
      [day.meetingId],
      Buffer.from('hello'),
      JSON.parse(`{"__proto__": {"polluted": true}, "meetingId": "${day.meetingId}"}`),
      { constructor: { prototype: { polluted: true } }, meetingId: day.meetingId },
      { meetingId: day.meetingId, attendeeId: day.people[1][2].id, opId: 'x'.repeat(65) },
      { meetingId: day.meetingId, siteId: day.sites[1].id, opId: opId(), fullName: 'x'.repeat(100_000) },
      { meetingId: { $gt: '' }, attendeeId: { $ne: null }, opId: opId() },
    ];
    const readOnly = new Set(['meeting:join', 'live:snapshot', 'site:checkInCode']);
    for (const name of Object.keys(liveCommands)) {
      for (const payload of odd) {
        const ack = await sendPatiently(coordinator, name, payload);
        if (readOnly.has(name) && ack.ok) continue;
        expect(ack.ok, `${name} ${JSON.stringify(payload)?.slice(0, 80)}`).toBe(false);
        expect(['invalid', 'forbidden', 'not_found', 'bad_request']).toContain(ack.error.code);
      }
      coordinator.emit(name, { meetingId: day.meetingId });
      coordinator.emit(name);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const alive = await sendPatiently(coordinator, 'live:snapshot', { meetingId: day.meetingId });
    expect(alive.ok).toBe(true);
    expect(await revisionNow()).toBe(before);
  });
});

describe('two screens change the same person at once', () => {
  it('the attendance.changed event with the highest revision says what the store says, for every person', async () => {
    const crowd = await conferenceDay(app.organizer, { title: 'Hội nghị hai màn hình', peoplePerSite: 15 });
    const dashboard = await screens.join(crowd.meetingId, {}, { cookie: organizerCookie });
    const coordinator = await screens.join(crowd.meetingId, { token: crowd.sites[1].token });
    const events = record(dashboard);
    const people = crowd.people[1];

    const acks = await Promise.all(
      people.flatMap((person) => [
        send(coordinator, 'attendance:checkIn', { meetingId: crowd.meetingId, attendeeId: person.id, opId: opId() }),
        send(dashboard, 'attendance:markAbsent', { meetingId: crowd.meetingId, attendeeId: person.id, opId: opId(), reason: 'sick' }),
      ]),
    );
    expect(acks.every((ack) => ack.ok)).toBe(true);
    const last = Math.max(...acks.map((ack) => ack.revision));
    const heardAll = (count: number) => count >= people.length * 2 && events.some((event) => event.revision === last);
    expect(heardAll(await eventually(() => events.filter((event) => event.type === 'attendance.changed').length, heardAll, 20_000))).toBe(true);

    for (const person of people) {
      const stored = (await AttendanceModel.findOne({ meetingId: crowd.meetingId, attendeeId: person.id }).lean())!;
      const latest = events
        .filter((event) => event.type === 'attendance.changed' && (event.payload as { record: { attendeeId: string } }).record.attendeeId === person.id)
        .sort((a, b) => b.revision - a.revision)[0];
      expect((latest.payload as { record: { status: string } }).record.status, person.fullName).toBe(stored.status);
    }
  });
});

describe('site presence on a flapping link', () => {
  it('a coordinator phone that connects and drops over and over ends as the store shows it: connected while a screen is open, not after', async () => {
    const flaky = await conferenceDay(app.organizer, { title: 'Hội nghị đường truyền chập chờn', peoplePerSite: 1 });
    const site = flaky.sites[2];
    const connected = async () => Boolean((await MeetingModel.findById(flaky.meetingId).lean())!.live?.sites?.[site.id]?.connected);
    for (let round = 0; round < 15; round++) {
      const phone = await screens.join(flaky.meetingId, { token: site.token }, {}, { screen: 'coordinator' });
      phone.disconnect();
    }
    expect(await eventually(connected, (value) => value === false, 10_000)).toBe(false);
    // And the other way round: the last phone stays.
    let last;
    for (let round = 0; round < 15; round++) {
      const previous = last;
      last = await screens.join(flaky.meetingId, { token: site.token }, {}, { screen: 'coordinator' });
      previous?.disconnect();
    }
    expect(await eventually(connected, (value) => value === true, 10_000)).toBe(true);
    last!.disconnect();
    expect(await eventually(connected, (value) => value === false, 10_000)).toBe(false);
  });
});

describe('a phone that drops while its join is still being answered', () => {
  it('does not leave its site connected with no screen open', async () => {
    const flaky = await conferenceDay(app.organizer, { title: 'Hội nghị rớt mạng khi vào', peoplePerSite: 1 });
    const site = flaky.sites[1];
    const witness = await screens.join(flaky.meetingId, {}, { cookie: organizerCookie });
    const presence = record(witness);
    // The drop lands somewhere while the server is still answering the join (it reads the meeting first).
    for (let ticks = 60; ticks >= 0; ticks -= 2) {
      const phone = screens.open({ token: site.token });
      await new Promise<void>((resolve) => phone.once('connect', () => resolve()));
      phone.emit('meeting:join', { meetingId: flaky.meetingId, screen: 'coordinator' }, () => undefined);
      for (let tick = 0; tick < ticks; tick++) await new Promise((resolve) => setImmediate(resolve));
      phone.disconnect();
    }

    // Any presence write the join makes comes within the wait for a later event (the witness's own site link).
    await send(witness, 'site:setLink', { meetingId: flaky.meetingId, siteId: flaky.sites[0].id, status: 'ready' });
    expect(await eventually(() => presence.filter((event) => event.type === 'site.link').length, (count) => count > 0, 10_000)).toBeGreaterThan(0);
    const stored = (await MeetingModel.findById(flaky.meetingId).lean())!.live?.sites?.[site.id];
    expect(Boolean(stored?.connected)).toBe(false);
  });
});

describe('the agenda and the floor pushed past their ends', () => {
  it('refuses or ignores what makes no sense, and only real changes move the revision', async () => {
    const run = await conferenceDay(app.organizer, { title: 'Hội nghị điều hành', peoplePerSite: 1 });
    const chair = await screens.join(run.meetingId, { token: run.chairToken });
    const attendee = await screens.join(run.meetingId, { token: run.people[1][0].token });
    const other = await conferenceDay(app.organizer, { title: 'Hội nghị bên cạnh', peoplePerSite: 1 });
    const m = run.meetingId;
    const rev = async () => (await MeetingModel.findById(m).lean())!.revision;
    expect((await send(chair, 'agenda:next', { meetingId: m })).error.code).toBe('conflict'); // not live yet
    expect((await send(chair, 'meeting:start', { meetingId: m })).ok).toBe(true);

    expect(await send(chair, 'agenda:previous', { meetingId: m })).toMatchObject({ ok: true });
    for (let step = 0; step < run.agendaIds.length + 2; step++) expect((await send(chair, 'agenda:next', { meetingId: m })).ok).toBe(true);
    const atEnd = await rev();
    expect(await send(chair, 'agenda:next', { meetingId: m })).toMatchObject({ ok: true, changed: false });
    expect(await rev()).toBe(atEnd);
    expect((await send(chair, 'agenda:start', { meetingId: m, itemId: other.agendaIds[0] })).error.code).toBe('not_found');
    for (const minutes of [0, -5, 241, 1e9, 1.5, '10', null]) expect((await send(chair, 'agenda:extend', { meetingId: m, minutes })).error.code, String(minutes)).toBe('invalid');

    const first = await send(attendee, 'speakers:request', { meetingId: m, opId: opId(), topic: 'Ý kiến 1' });
    expect(first.ok).toBe(true);
    expect((await send(attendee, 'speakers:request', { meetingId: m, opId: opId(), topic: 'Ý kiến 2' })).error.code).toBe('conflict');
    const foreign = await send(await screens.join(other.meetingId, { token: other.people[1][0].token }), 'speakers:request', { meetingId: other.meetingId, opId: opId(), topic: 'Khác' });
    expect((await send(chair, 'speakers:reorder', { meetingId: m, orderedIds: [foreign.request.id] })).error.code).toBe('conflict');
    expect((await send(chair, 'speakers:grant', { meetingId: m, requestId: foreign.request.id })).error.code).toBe('conflict');
    expect((await send(attendee, 'speakers:withdraw', { meetingId: m, requestId: first.request.id })).ok).toBe(true);
    expect((await send(chair, 'speakers:grant', { meetingId: m, requestId: first.request.id })).error.code).toBe('conflict');
    const ended = await rev();
    expect(await send(chair, 'speakers:end', { meetingId: m })).toMatchObject({ ok: true, changed: false });
    expect(await rev()).toBe(ended);

    expect((await send(chair, 'meeting:end', { meetingId: m })).ok).toBe(true);
    const coordinator = await screens.join(m, { token: run.sites[2].token });
    expect((await send(coordinator, 'attendance:checkIn', { meetingId: m, attendeeId: run.people[2][0].id, opId: opId() })).error.code).toBe('conflict');
    expect((await send(chair, 'meeting:end', { meetingId: m })).error.code).toBe('conflict');
    expect(await AttendanceModel.countDocuments({ meetingId: m, status: 'present' })).toBe(0);
  });
});

describe('a resend while the first send of its opId is still running elsewhere', () => {
  it('is answered "try again" (too_many_requests with retryAfterMs), not refused, and applies once the id is free', async () => {
    const coordinator = await screens.join(day.meetingId, { token: day.sites[3].token });
    const person = day.people[3][3];
    const op = opId();
    // Another app instance has claimed this id and is still working on it.
    const claim = await LiveOperationModel.create({ meetingId: day.meetingId, opId: op, command: 'attendance:checkIn', target: person.id, fingerprint: fingerprintOf({ meetingId: day.meetingId, attendeeId: person.id }), state: 'pending', claimedAt: new Date() });

    const busy = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: op });

    expect(busy).toMatchObject({ ok: false, error: { code: 'too_many_requests', retryAfterMs: expect.any(Number) } });
    expect(await AttendanceModel.countDocuments({ attendeeId: person.id, status: 'present' })).toBe(0);
    // That run failed and freed the id: the kiosk's resend is the one that counts.
    await LiveOperationModel.deleteOne({ _id: claim._id });
    expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: op })).toMatchObject({ ok: true, changed: true });
  });
});

describe("a site's link rotated in the middle of the day", () => {
  it('the old self check-in code stops working, and the old coordinator screen is cut off before the next event', async () => {
    const { rotateCoordinatorLink } = await import('../../server/sites/actions.js');
    const { currentCode } = await import('../../server/attendance/codes.js');
    const rotated = await conferenceDay(app.organizer, { title: 'Hội nghị đổi liên kết', peoplePerSite: 2 });
    const site = rotated.sites[1];
    const oldCode = currentCode(site.token, site.id).code;
    const oldScreen = await screens.join(rotated.meetingId, { token: site.token }, {}, { screen: 'coordinator' });
    const seen = record(oldScreen);
    const gone = new Promise<void>((resolve) => oldScreen.once('disconnect', () => resolve()));

    await rotateCoordinatorLink(app.organizer, { meetingId: rotated.meetingId, siteId: site.id });
    await gone;
    const after = seen.length;
    const dashboard = await screens.join(rotated.meetingId, {}, { cookie: organizerCookie });
    const checkIn = await send(dashboard, 'attendance:checkIn', { meetingId: rotated.meetingId, attendeeId: rotated.people[1][0].id, opId: opId() });
    expect(checkIn.ok).toBe(true);

    const attendee = await screens.join(rotated.meetingId, { token: rotated.people[1][1].token });
    const self = await send(attendee, 'attendance:selfCheckIn', { meetingId: rotated.meetingId, opId: opId(), code: oldCode });
    expect(self.ok).toBe(false);
    expect(self.error.code).toBe('invalid');
    expect(seen.length).toBe(after);
    expect(oldScreen.connected).toBe(false);
  });
});

describe('a script flooding the HTTP command route', () => {
  it('is answered too_many_requests with retryAfterMs past its burst, while another site’s kiosk is still answered', async () => {
    const post = (token: string, name: string, body: unknown) =>
      fetch(`${app.baseUrl}/api/v1/meetings/${day.meetingId}/live/commands/${name}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const flood = await Promise.all(Array.from({ length: 150 }, () => post(day.sites[2].token, 'live:snapshot', {})));
    const refused = flood.filter((response) => response.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(await refused[0].json()).toMatchObject({ ok: false, error: { code: 'too_many_requests', retryAfterMs: expect.any(Number) } });
    const other = await post(day.sites[3].token, 'site:setLink', { siteId: day.sites[3].id, status: 'ready' });
    expect(other.status).toBe(200);
  });
});
