import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { conferenceDay, opId, record, send, nextEvent, Screens, type DayFixture } from './fixtures.js';
import { currentCode } from '../../server/attendance/codes.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import { MeetingModel } from '../../server/meetings/model.js';

let app: TestApp;
let day: DayFixture;
let screens: Screens;
let organizerCookie: string;

beforeAll(async () => {
  app = await startTestApp();
  day = await conferenceDay(app.organizer);
  screens = new Screens(app.baseUrl);
  organizerCookie = (await app.signInOrganizer()).cookieHeader();
});

afterAll(async () => {
  screens.closeAll();
  await app.stop();
});

const snapshot = async (auth: Record<string, string>) => (await send(screens.open(auth), 'live:snapshot', { meetingId: day.meetingId })).snapshot;

describe('check-in at a bridge point', () => {
  it("a district coordinator checks in one of their people; the organizer's dashboard sees the record and the site's new count", async () => {
    const [, cao] = day.sites;
    const dashboard = await screens.join(day.meetingId, {}, { cookie: organizerCookie });
    const coordinator = await screens.join(day.meetingId, { token: cao.token }, {}, { screen: 'coordinator' });
    // (Matched on this check-in: the day's setup may still be announced just after the joins.)
    const counted = nextEvent(dashboard, 'attendance.counts', (event) => event.payload.siteId === cao.id && event.payload.counts.present === 1);
    const changed = nextEvent(dashboard, 'attendance.changed', (event) => event.payload.record.attendeeId === day.people[1][0].id);

    const ack = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][0].id, opId: opId() });

    expect(ack).toMatchObject({ ok: true, changed: true, record: { status: 'present', fullName: 'Đại biểu 2.1', changedBy: 'coordinator', late: false }, counts: { expected: 4, present: 1, pending: 3 } });
    const counts = await counted;
    expect(counts.revision).toBe(ack.revision);
    expect(counts.payload.counts).toMatchObject({ present: 1, expected: 4, revision: ack.revision });
    expect((await changed).payload.record).toMatchObject({ attendeeId: day.people[1][0].id, status: 'present' });
    const stored = await MeetingModel.findById(day.meetingId).lean();
    expect(stored!.revision).toBe(ack.revision);
  });

  it('a coordinator cannot check in someone from another district, and nothing changes', async () => {
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token });
    const before = (await MeetingModel.findById(day.meetingId).lean())!.revision;
    const ack = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[2][0].id, opId: opId() });
    expect(ack).toEqual({ ok: false, error: { code: 'forbidden', message: 'Bạn chỉ thao tác được cho điểm cầu của mình.' } });
    expect(await AttendanceModel.countDocuments({ attendeeId: day.people[2][0].id })).toBe(0);
    expect((await MeetingModel.findById(day.meetingId).lean())!.revision).toBe(before);
  });

  it('a coordinator cannot run the agenda or start the meeting', async () => {
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token });
    for (const name of ['agenda:next', 'meeting:start', 'speakers:grant']) {
      const ack = await send(coordinator, name, { meetingId: day.meetingId, requestId: day.agendaIds[0] });
      expect(ack.ok).toBe(false);
      expect(ack.error.code).toBe('forbidden');
    }
  });

  it('an attendee cannot check in someone else, nor themself without the code', async () => {
    const me = day.people[2][1];
    const phone = await screens.join(day.meetingId, { token: me.token });
    expect((await send(phone, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[2][2].id, opId: opId() })).error.code).toBe('forbidden');
    expect((await send(phone, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: me.id, opId: opId() })).error.code).toBe('forbidden');
    const wrong = await send(phone, 'attendance:selfCheckIn', { meetingId: day.meetingId, code: '000000' === currentCode(day.sites[2].token, day.sites[2].id).code ? '111111' : '000000', opId: opId() });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'invalid', fields: { code: expect.stringContaining('Mã điểm danh không đúng') } } });
    // Another site's code does not work either.
    const otherSites = await send(phone, 'attendance:selfCheckIn', { meetingId: day.meetingId, code: currentCode(day.sites[1].token, day.sites[1].id).code, opId: opId() });
    expect(otherSites.ok).toBe(false);
    expect((await AttendanceModel.findOne({ attendeeId: me.id }).lean())?.status ?? 'expected').toBe('expected');
  });

  it("an attendee checks themself in with the code on their site's wall display", async () => {
    const me = day.people[2][1];
    const wall = await screens.join(day.meetingId, { token: day.sites[2].token }, {}, { screen: 'wall' });
    const code = await send(wall, 'site:checkInCode', { meetingId: day.meetingId, siteId: day.sites[2].id });
    expect(code).toMatchObject({ ok: true, code: { siteId: day.sites[2].id, code: expect.stringMatching(/^\d{6}$/), periodSeconds: 120 } });
    const phone = await screens.join(day.meetingId, { token: me.token, lang: 'en' });
    const own = nextEvent(phone, 'attendance.changed');
    const ack = await send(phone, 'attendance:selfCheckIn', { meetingId: day.meetingId, code: code.code.code, opId: opId() });
    expect(ack).toMatchObject({ ok: true, changed: true, record: { attendeeId: me.id, status: 'present', changedBy: 'attendee' } });
    // Their own phone hears about their own record.
    expect((await own).payload.record.attendeeId).toBe(me.id);
  });

  it('five wrong codes in a row lock self check-in for a while', async () => {
    const me = day.people[3][0];
    const phone = await screens.join(day.meetingId, { token: me.token, lang: 'en' });
    const right = currentCode(day.sites[3].token, day.sites[3].id).code;
    const wrong = right === '123456' ? '654321' : '123456';
    for (let n = 0; n < 5; n++) expect((await send(phone, 'attendance:selfCheckIn', { meetingId: day.meetingId, code: wrong, opId: opId() })).error.code).toBe('invalid');
    const locked = await send(phone, 'attendance:selfCheckIn', { meetingId: day.meetingId, code: right, opId: opId() });
    expect(locked).toMatchObject({ ok: false, error: { code: 'too_many_requests', message: expect.stringContaining('Too many wrong codes') } });
  });

  it('guesses sent all at once are limited too: at most five are tried', async () => {
    const me = day.people[3][3];
    const phones = await Promise.all([0, 1, 2].map(() => screens.join(day.meetingId, { token: me.token, lang: 'en' })));
    const right = currentCode(day.sites[3].token, day.sites[3].id).code;
    const guesses = Array.from({ length: 30 }, (_, n) => String((Number(right) + 1 + n) % 1_000_000).padStart(6, '0'));
    const acks = await Promise.all(guesses.map((code, n) => send(phones[n % 3], 'attendance:selfCheckIn', { meetingId: day.meetingId, code, opId: opId() })));
    expect(acks.filter((ack) => ack.error?.code === 'invalid').length).toBeLessThanOrEqual(5);
    expect(acks.filter((ack) => ack.error?.code === 'too_many_requests').length).toBeGreaterThanOrEqual(25);
  });

  it('a script holding many attendees’ links cannot guess a site’s code: after 30 wrong codes there, everyone at the site is refused, the right code too', async () => {
    const other = await conferenceDay(app.organizer, { peoplePerSite: 8, title: 'Hội nghị đoán mã' });
    const site = other.sites[1];
    const right = currentCode(site.token, site.id).code;
    const wrong = (n: number) => String((Number(right) + 1 + n) % 1_000_000).padStart(6, '0');
    // Seven people, five guesses each (their own limit): 35 guesses for one site.
    const phones = await Promise.all(other.people[1].slice(0, 7).map((person) => screens.join(other.meetingId, { token: person.token, lang: 'en' })));
    const acks = [];
    for (const [index, phone] of phones.entries()) {
      for (let n = 0; n < 5; n++) acks.push(await send(phone, 'attendance:selfCheckIn', { meetingId: other.meetingId, code: wrong(index * 5 + n), opId: opId() }));
    }
    expect(acks.filter((ack) => ack.error?.code === 'invalid')).toHaveLength(30);
    expect(acks.slice(30).map((ack) => ack.error)).toEqual(Array.from({ length: 5 }, () => expect.objectContaining({ code: 'too_many_requests', message: expect.stringContaining('at this bridge point') })));
    // Someone who has not guessed at all is refused with the right code; nobody was checked in.
    const last = await screens.join(other.meetingId, { token: other.people[1][7].token, lang: 'en' });
    expect((await send(last, 'attendance:selfCheckIn', { meetingId: other.meetingId, code: right, opId: opId() })).error.code).toBe('too_many_requests');
    expect(await AttendanceModel.countDocuments({ meetingId: other.meetingId, status: 'present' })).toBe(0);
    // Another site is not affected.
    const elsewhere = other.sites[2];
    const neighbour = await screens.join(other.meetingId, { token: other.people[2][0].token, lang: 'en' });
    expect(await send(neighbour, 'attendance:selfCheckIn', { meetingId: other.meetingId, code: currentCode(elsewhere.token, elsewhere.id).code, opId: opId() })).toMatchObject({ ok: true, changed: true });
  });

  it('an attendee waits in the speakers’ queue once: more requests are refused, not queued', async () => {
    const me = day.people[2][3];
    const phone = await screens.join(day.meetingId, { token: me.token, lang: 'en' });
    // Sent all at once: one is queued.
    const acks = await Promise.all(Array.from({ length: 10 }, (_, n) => send(phone, 'speakers:request', { meetingId: day.meetingId, topic: `Ý kiến ${n}`, opId: opId() })));
    expect(acks.filter((ack) => ack.ok).length).toBe(1);
    expect(acks.filter((ack) => !ack.ok).every((ack) => ack.error.code === 'conflict')).toBe(true);
    const later = await send(phone, 'speakers:request', { meetingId: day.meetingId, topic: 'Ý kiến nữa', opId: opId() });
    expect(later.error.message).toContain('already asked to speak');
    const meeting = await MeetingModel.findById(day.meetingId).lean();
    const queue = (meeting?.live as { speakers?: { queue?: unknown[] } })?.speakers?.queue ?? [];
    const waiting = (await snapshot({ token: me.token })).speakers.queue.filter((entry: { attendeeId?: string }) => entry.attendeeId === me.id);
    expect(waiting.length).toBe(1);
    expect(queue.length).toBeGreaterThanOrEqual(1);
  });

  it('the same operation sent twice, even at the same moment, counts once and is answered the same', async () => {
    const [, , , sadec] = day.sites;
    const coordinator = await screens.join(day.meetingId, { token: sadec.token });
    const other = await screens.join(day.meetingId, { token: sadec.token });
    const input = { meetingId: day.meetingId, attendeeId: day.people[3][1].id, opId: opId() };
    const before = (await snapshot({ token: sadec.token })).sites.find((site: { id: string }) => site.id === sadec.id).counts.present;
    const acks = await Promise.all([send(coordinator, 'attendance:checkIn', input), send(other, 'attendance:checkIn', input), send(coordinator, 'attendance:checkIn', input)]);
    expect(acks.every((ack) => ack.ok)).toBe(true);
    expect(new Set(acks.map((ack) => ack.revision)).size).toBe(1);
    expect(acks.filter((ack) => ack.replayed).length).toBe(2);
    const later = await send(coordinator, 'attendance:checkIn', input);
    expect(later).toMatchObject({ ok: true, replayed: true, revision: acks[0].revision });
    const after = (await snapshot({ token: sadec.token })).sites.find((site: { id: string }) => site.id === sadec.id).counts.present;
    expect(after).toBe(before + 1);
  });

  it('an absence keeps its reason, a delegate needs a name, and undo steps back', async () => {
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token, lang: 'en' });
    const person = day.people[1][2];
    const missing = await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: person.id, opId: opId(), reason: 'delegate' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'invalid', fields: { delegateName: 'Please enter the name of the person sent instead.' } } });
    const absent = await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: person.id, opId: opId(), reason: 'delegate', delegateName: 'Trần Văn Thay' });
    expect(absent).toMatchObject({ ok: true, record: { status: 'absent', absence: { reason: 'delegate', delegateName: 'Trần Văn Thay' }, canUndo: true } });
    expect(absent.counts.absent).toBe(1);
    const undone = await send(coordinator, 'attendance:undo', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() });
    expect(undone).toMatchObject({ ok: true, record: { status: 'expected', absence: null, canUndo: false } });
    expect(undone.counts.absent).toBe(0);
    expect((await send(coordinator, 'attendance:undo', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).error.code).toBe('conflict');
  });

  it('a walk-in is added at the site, marked as such, and counted present', async () => {
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token });
    const ack = await send(coordinator, 'attendance:addWalkIn', { meetingId: day.meetingId, siteId: day.sites[1].id, opId: opId(), fullName: 'Nguyễn Văn Khách', position: 'Phóng viên' });
    expect(ack).toMatchObject({ ok: true, record: { fullName: 'Nguyễn Văn Khách', walkIn: true, status: 'present' } });
    expect(ack.counts.walkIns).toBe(1);
    expect(ack.counts.expected).toBe(4);
    const forOtherSite = await send(coordinator, 'attendance:addWalkIn', { meetingId: day.meetingId, siteId: day.sites[2].id, opId: opId(), fullName: 'Ai đó' });
    expect(forOtherSite.error.code).toBe('forbidden');
  });

  it('malformed commands are answered, even without a payload, and change nothing', async () => {
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token });
    const before = (await MeetingModel.findById(day.meetingId).lean())!.revision;
    const noPayload = await coordinator.timeout(5000).emitWithAck('attendance:checkIn');
    expect(noPayload).toMatchObject({ ok: false, error: { code: 'invalid' } });
    const badId = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: 'x', opId: 'short' });
    expect(badId.error.fields).toMatchObject({ attendeeId: 'Mã định danh không hợp lệ.', opId: expect.stringContaining('Mã thao tác') });
    expect((await send(coordinator, 'attendance:checkIn', 'not an object')).error.code).toBe('invalid');
    expect((await MeetingModel.findById(day.meetingId).lean())!.revision).toBe(before);
  });

  it('one flooding socket is told to slow down while another is served', async () => {
    const flooder = await screens.join(day.meetingId, { token: day.sites[1].token });
    const calm = await screens.join(day.meetingId, { token: day.sites[2].token });
    const flood = await Promise.all(Array.from({ length: 120 }, () => send(flooder, 'site:checkInCode', { meetingId: day.meetingId, siteId: day.sites[1].id })));
    const refused = flood.filter((ack) => !ack.ok);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0].error).toMatchObject({ code: 'too_many_requests', retryAfterMs: expect.any(Number) });
    expect(await send(calm, 'site:checkInCode', { meetingId: day.meetingId, siteId: day.sites[2].id })).toMatchObject({ ok: true });
  });

  it('joins draw from the same bucket: a socket flooding meeting:join is told to slow down while another is served', async () => {
    const flooder = screens.open({ token: day.sites[2].token });
    const calm = screens.open({ token: day.sites[2].token });
    const flood = await Promise.all(Array.from({ length: 120 }, () => send(flooder, 'meeting:join', { meetingId: day.meetingId })));
    const refused = flood.filter((ack) => !ack.ok);
    expect(refused.length).toBeGreaterThanOrEqual(120 - 60 - 20);
    expect(refused[0].error).toMatchObject({ code: 'too_many_requests', retryAfterMs: expect.any(Number) });
    expect(await send(calm, 'meeting:join', { meetingId: day.meetingId })).toMatchObject({ ok: true, meetingId: day.meetingId });
  });

  it('screens of other sites learn every revision, so they never see a false gap', async () => {
    const elsewhere = await screens.join(day.meetingId, { token: day.sites[2].token });
    const events = record(elsewhere);
    const coordinator = await screens.join(day.meetingId, { token: day.sites[1].token });
    const ack = await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][3].id, opId: opId() });
    // A change's events leave in one flush, before anything the server sends this socket later:
    // once the counts are here and a later reply too, nothing more of that change can come.
    await expect.poll(() => events.some((event) => event.revision === ack.revision), { timeout: 10_000 }).toBe(true);
    expect(await send(elsewhere, 'meeting:join', { meetingId: day.meetingId })).toMatchObject({ ok: true });
    const seen = events.filter((event) => event.revision === ack.revision).map((event) => event.type);
    expect(seen).toEqual(['attendance.counts']);
  });
});
