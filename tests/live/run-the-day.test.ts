// The chair runs the day over real sockets: starts the meeting, extends an item (later items'
// planned times shift, the published schedule stays, actual times are kept), reorders the
// speakers' queue, gives and ends the floor (time per speaker and per site), and ends the meeting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { conferenceDay, opId, send, Screens } from './fixtures.js';
import type { LiveAgendaItemView } from '../../server/live/contract.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { addUnit } from '../../server/units/actions.js';
import { inviteAccount } from '../../server/accounts/actions.js';

let app: TestApp;
let screens: Screens;

beforeAll(async () => {
  app = await startTestApp();
  screens = new Screens(app.baseUrl);
});

afterAll(async () => {
  screens.closeAll();
  await app.stop();
});

const ms = (iso: string) => Date.parse(iso);
const minutes = 60_000;

describe('the chair runs the day', () => {
  it('extending an item shifts the planned times of the later items; the published schedule and the actual times are both kept', async () => {
    const day = await conferenceDay(app.organizer, { title: 'Hội nghị chạy chương trình' });
    const chair = await screens.join(day.meetingId, { token: day.chairToken });
    expect(await send(chair, 'meeting:start', { meetingId: day.meetingId })).toMatchObject({ ok: true, meeting: { status: 'live' } });
    const started = await send(chair, 'agenda:start', { meetingId: day.meetingId, itemId: day.agendaIds[0] });
    const before: LiveAgendaItemView[] = started.agenda.items;

    const extended = await send(chair, 'agenda:extend', { meetingId: day.meetingId, minutes: 5, opId: opId() });
    const after: LiveAgendaItemView[] = extended.agenda.items;
    expect(after[0]).toMatchObject({ extendedMinutes: 5, plannedMinutes: 10, state: 'current' });
    // The opening (10 min) now ends 15 minutes after it started; every later item moves by 5.
    expect(ms(after[0].plannedEndsAt) - ms(after[0].actualStartedAt!)).toBeGreaterThan(14 * minutes);
    for (const index of [1, 2, 3]) {
      expect(ms(after[index].plannedStartsAt) - ms(before[index].plannedStartsAt)).toBeGreaterThanOrEqual(5 * minutes - 1000);
      expect(ms(after[index].plannedStartsAt)).toBe(ms(after[index - 1].plannedEndsAt));
      // The published schedule does not move.
      expect(after[index].scheduledStartsAt).toBe(before[index].scheduledStartsAt);
    }
    // The day runs far from its published 07:30 start (the meeting is dated later): the delay is
    // how far the current item started from its published time.
    expect(extended.agenda.delayMinutes).toBe(Math.round((ms(after[0].actualStartedAt!) - ms(after[0].scheduledStartsAt)) / minutes));

    const next = await send(chair, 'agenda:next', { meetingId: day.meetingId, fromItemId: day.agendaIds[0] });
    const [opening, report] = next.agenda.items as LiveAgendaItemView[];
    expect(opening).toMatchObject({ state: 'done', actualStartedAt: before[0].actualStartedAt, extendedMinutes: 5, scheduledStartsAt: before[0].scheduledStartsAt });
    expect(opening.actualEndedAt).not.toBeNull();
    expect(report).toMatchObject({ state: 'current', actualStartedAt: expect.any(String), scheduledStartsAt: before[1].scheduledStartsAt });
    // A resent "next" from the same item moves once.
    expect((await send(chair, 'agenda:next', { meetingId: day.meetingId, fromItemId: day.agendaIds[0] })).agenda.currentItemId).toBe(day.agendaIds[1]);
  });

  it('the chair reorders the queue, gives the floor and ends the speech; time is added up per speaker and per site; ending the meeting closes the day', async () => {
    const day = await conferenceDay(app.organizer, { title: 'Hội nghị thảo luận' });
    const chair = await screens.join(day.meetingId, { token: day.chairToken });
    await send(chair, 'meeting:start', { meetingId: day.meetingId });
    const cao = await screens.join(day.meetingId, { token: day.sites[1].token });
    const attendee = await screens.join(day.meetingId, { token: day.people[2][0].token });

    expect(await send(cao, 'speakers:request', { meetingId: day.meetingId, opId: opId(), topic: 'Kết quả giải ngân vốn đầu tư công', name: 'Phó Chủ tịch UBND huyện Cao Lãnh' })).toMatchObject({ ok: true });
    const fromPerson = await send(attendee, 'speakers:request', { meetingId: day.meetingId, opId: opId(), topic: 'Chuyển đổi số cấp xã' });
    expect(fromPerson.speakers.queue.map((request: { id: string }) => request.id)).toHaveLength(2);
    const [first, second] = fromPerson.speakers.queue.map((request: { id: string }) => request.id);

    // Neither a coordinator nor an attendee may reorder; the chair puts the attendee first.
    for (const socket of [cao, attendee]) expect((await send(socket, 'speakers:reorder', { meetingId: day.meetingId, orderedIds: [second, first] })).error.code).toBe('forbidden');
    const reordered = await send(chair, 'speakers:reorder', { meetingId: day.meetingId, orderedIds: [second, first] });
    expect(reordered.speakers.queue.map((request: { id: string }) => request.id)).toEqual([second, first]);
    // A reorder from a stale queue (missing a request) is refused and changes nothing.
    expect((await send(chair, 'speakers:reorder', { meetingId: day.meetingId, orderedIds: [first] })).error.code).toBe('conflict');

    for (const requestId of [second, first]) {
      expect(await send(chair, 'speakers:grant', { meetingId: day.meetingId, requestId })).toMatchObject({ ok: true, speakers: { floor: { id: requestId, status: 'speaking' } } });
      expect(await send(chair, 'speakers:end', { meetingId: day.meetingId })).toMatchObject({ ok: true, speakers: { floor: null } });
    }
    const snapshot = (await send(chair, 'live:snapshot', { meetingId: day.meetingId })).snapshot;
    expect(snapshot.speakers.timeBySpeaker).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'Phó Chủ tịch UBND huyện Cao Lãnh', siteId: day.sites[1].id, speeches: 1 }),
        expect.objectContaining({ name: day.people[2][0].fullName, siteId: day.sites[2].id, speeches: 1 }),
      ]),
    );
    expect(snapshot.speakers.timeBySite).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ siteId: day.sites[1].id, siteName: day.sites[1].name, speeches: 1, spokenMs: expect.any(Number) }),
        expect.objectContaining({ siteId: day.sites[2].id, siteName: day.sites[2].name, speeches: 1 }),
      ]),
    );

    expect(await send(chair, 'meeting:end', { meetingId: day.meetingId })).toMatchObject({ ok: true, meeting: { status: 'ended' } });
    expect((await send(cao, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: day.people[1][0].id, opId: opId() })).error.code).toBe('conflict');
    expect((await send(chair, 'meeting:start', { meetingId: day.meetingId })).error.code).toBe('conflict');
  });

  it('an organizer of another unit is told the meeting does not exist, by every command, and changes nothing', async () => {
    const day = await conferenceDay(app.organizer, { title: 'Hội nghị của Sở khác' });
    const unit = await addUnit(app.organizer, { name: 'Sở Giáo dục và Đào tạo' });
    await inviteAccount(app.organizer, { name: 'Cán bộ Sở GD&ĐT', email: 'gddt-live@example.vn', role: 'organizer', unitId: String(unit._id), password: 'a password of the unit' });
    const other = app.newClient();
    expect((await other.signIn('gddt-live@example.vn', 'a password of the unit')).status).toBe(303);
    const socket = screens.open({}, { cookie: other.cookieHeader() });
    const before = (await MeetingModel.findById(day.meetingId).lean())!.revision;
    const meetingId = day.meetingId;
    for (const [name, input] of [
      ['meeting:join', {}],
      ['live:snapshot', {}],
      ['meeting:start', {}],
      ['meeting:setQuorum', { quorumPercent: 10 }],
      ['attendance:checkIn', { attendeeId: day.people[1][0].id, opId: opId() }],
      ['attendance:addWalkIn', { siteId: day.sites[1].id, opId: opId(), fullName: 'Người lạ' }],
      ['site:setLink', { siteId: day.sites[1].id, status: 'offline' }],
      ['site:checkInCode', { siteId: day.sites[1].id }],
      ['agenda:start', { itemId: day.agendaIds[0] }],
      ['speakers:request', { opId: opId(), topic: 'Xin phát biểu', siteId: day.sites[1].id }],
    ] as const) {
      const ack = await send(socket, name, { meetingId, ...input });
      expect(ack, name).toMatchObject({ ok: false, error: { code: 'not_found' } });
    }
    expect((await MeetingModel.findById(day.meetingId).lean())!.revision).toBe(before);
  });
});
