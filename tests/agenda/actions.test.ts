import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDatabase, testUnit } from '../helpers/database.js';
import type { DatabaseHandle } from '../../server/database.js';
import { createMeeting, setMeetingStatus } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { addAgendaItem, removeAgendaItem, reorderAgenda, updateAgendaItem } from '../../server/agenda/actions.js';
import { getAgenda, getPublicMeeting } from '../../server/agenda/queries.js';
import { AgendaItemModel } from '../../server/agenda/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { subscribe, type DomainEvent } from '../../server/lib/events.js';
import { formatTime } from '../../server/lib/time.js';
import { Forbidden, Invalid, Unauthorized } from '../../server/lib/errors.js';
import type { Actor } from '../../server/lib/actor.js';

const organizer: Actor = { kind: 'organizer', userId: 'test-organizer', name: 'Nguyễn Thị Tổ Chức', isAdmin: false, unitId: testUnit.id };

let database: DatabaseHandle;
beforeAll(async () => {
  database = await connectTestDatabase();
});
afterAll(() => database.close());

/** A meeting 14:00–17:00 on 29/12/2021 in Vietnam with a main site and the two named people. */
async function conference(title = 'Hội nghị Tổng kết KH&CN năm 2021', timeZone = 'Asia/Ho_Chi_Minh') {
  const meeting = await createMeeting(organizer, { title, start: '2021-12-29T14:00', end: '2021-12-29T17:00', timeZone, status: 'scheduled' });
  const meetingId = String(meeting._id);
  const site = await addSite(organizer, { meetingId, name: 'Văn phòng UBND Tỉnh', isMain: true, coordinatorPhone: '0913 555 777' });
  const chair = await createAttendee(organizer, { meetingId, siteId: String(site._id), fullName: 'Huỳnh Minh Tuấn', position: 'Phó Chủ tịch UBND Tỉnh', role: 'chair' });
  const director = await createAttendee(organizer, { meetingId, siteId: String(site._id), fullName: 'Trần Thanh Liêm', position: 'Giám đốc Sở KH&CN', role: 'speaker' });
  return { meetingId, siteId: String(site._id), chair, director };
}

async function addItems(meetingId: string, items: Array<[string, number]>) {
  const ids: string[] = [];
  for (const [title, plannedMinutes] of items) {
    const { item } = await addAgendaItem(organizer, { meetingId, title, plannedMinutes, kind: 'report' });
    ids.push(item!.id);
  }
  return ids;
}

const startTimes = (agenda: Awaited<ReturnType<typeof getAgenda>>) => agenda.items.map((item) => `${formatTime(item.startsAt, agenda.meeting.timeZone)} ${item.title}`);

describe('the organizer building the agenda', () => {
  it('sees start times computed from the meeting start in its time zone', async () => {
    const { meetingId } = await conference();
    await addItems(meetingId, [['Khai mạc', 10], ['Báo cáo', 30], ['Thảo luận', 60]]);
    const agenda = await getAgenda(organizer, meetingId);
    expect(startTimes(agenda)).toEqual(['14:00 Khai mạc', '14:10 Báo cáo', '14:40 Thảo luận']);
    expect(agenda.totalMinutes).toBe(100);
    expect(formatTime(agenda.plannedEndsAt, 'Asia/Ho_Chi_Minh')).toBe('15:40');
    expect(agenda.overruns).toBe(false);
  });

  it('reorders the agenda and every start time is recomputed', async () => {
    const { meetingId } = await conference();
    const [opening, report, discussion] = await addItems(meetingId, [['Khai mạc', 10], ['Báo cáo', 30], ['Thảo luận', 60]]);
    const { agenda } = await reorderAgenda(organizer, { meetingId, orderedIds: [report, discussion, opening] });
    expect(startTimes(agenda)).toEqual(['14:00 Báo cáo', '14:30 Thảo luận', '15:30 Khai mạc']);
    const stored = await AgendaItemModel.find({ meetingId }).sort({ order: 1 }).lean();
    expect(stored.map((item) => [item.title, item.order])).toEqual([['Báo cáo', 0], ['Thảo luận', 1], ['Khai mạc', 2]]);
  });

  it('lengthens one item and only the items after it move', async () => {
    const { meetingId } = await conference();
    const [, report] = await addItems(meetingId, [['Khai mạc', 10], ['Báo cáo', 30], ['Thảo luận', 60], ['Bế mạc', 10]]);
    const { agenda } = await updateAgendaItem(organizer, { meetingId, itemId: report, plannedMinutes: '45' });
    expect(startTimes(agenda)).toEqual(['14:00 Khai mạc', '14:10 Báo cáo', '14:55 Thảo luận', '15:55 Bế mạc']);
  });

  it('is warned when the agenda runs past the end of the meeting', async () => {
    const { meetingId } = await conference();
    await addItems(meetingId, [['Báo cáo', 150], ['Thảo luận', 45]]);
    const agenda = await getAgenda(organizer, meetingId);
    expect(agenda.overruns).toBe(true);
    expect(agenda.overrunMinutes).toBe(15);
  });

  it('computes times in the meeting zone, not the server zone', async () => {
    const { meetingId } = await conference('Hội thảo tại Berlin', 'Europe/Berlin');
    await addItems(meetingId, [['Eröffnung', 25], ['Bericht', 20]]);
    const agenda = await getAgenda(organizer, meetingId);
    expect(agenda.meeting.startsAt.toISOString()).toBe('2021-12-29T13:00:00.000Z');
    expect(startTimes(agenda)).toEqual(['14:00 Eröffnung', '14:25 Bericht']);
  });

  it('refuses a reorder with a foreign or a missing item and changes nothing', async () => {
    const { meetingId } = await conference();
    const other = await conference('Hội nghị khác');
    const [foreign] = await addItems(other.meetingId, [['Mục của hội nghị khác', 10]]);
    const [a, b, c] = await addItems(meetingId, [['A', 10], ['B', 20], ['C', 30]]);
    const before = await MeetingModel.findById(meetingId).lean();

    for (const orderedIds of [[c, b, foreign], [c, b], [c, b, a, foreign], [c, c, a], [c, b, a, a]]) {
      const refused = reorderAgenda(organizer, { meetingId, orderedIds });
      await expect(refused).rejects.toBeInstanceOf(Invalid);
      await expect(refused).rejects.toMatchObject({ fields: { orderedIds: { key: 'agenda.reorder.mismatch' } } });
    }
    const agenda = await getAgenda(organizer, meetingId);
    expect(agenda.items.map((item) => item.title)).toEqual(['A', 'B', 'C']);
    expect(agenda.meeting.revision).toBe(before!.revision);
    const foreignItem = await AgendaItemModel.findById(foreign).lean();
    expect(foreignItem!.order).toBe(0);
  });

  it('picks speakers from the meeting attendees, copying name and position, and accepts free-text speakers', async () => {
    const { meetingId, director } = await conference();
    const { item } = await addAgendaItem(organizer, {
      meetingId,
      title: 'Báo cáo kết quả năm 2021',
      kind: 'report',
      plannedMinutes: 30,
      speakers: [{ attendeeId: director.id }, { name: 'Đại diện Trường Đại học Đồng Tháp', position: 'Phó Hiệu trưởng' }],
    });
    expect(item!.speakers).toEqual([
      { attendeeId: director.id, name: 'Trần Thanh Liêm', position: 'Giám đốc Sở KH&CN' },
      { name: 'Đại diện Trường Đại học Đồng Tháp', position: 'Phó Hiệu trưởng' },
    ]);
  });

  it('refuses a speaker who is an attendee of another meeting, and saves nothing', async () => {
    const { meetingId, director } = await conference();
    const other = await conference('Hội nghị khác');
    const [itemId] = await addItems(meetingId, [['Báo cáo', 30]]);
    const added = addAgendaItem(organizer, { meetingId, title: 'Phát biểu', plannedMinutes: 10, speakers: [{ attendeeId: director.id }, { attendeeId: other.chair.id }] });
    await expect(added).rejects.toMatchObject({ fields: { 'speakers.1.attendeeId': { key: 'agenda.speaker.notInMeeting' } } });
    const updated = updateAgendaItem(organizer, { meetingId, itemId, speakers: [{ attendeeId: other.director.id }] });
    await expect(updated).rejects.toBeInstanceOf(Invalid);
    const agenda = await getAgenda(organizer, meetingId);
    expect(agenda.items.map((item) => [item.title, item.speakers.length])).toEqual([['Báo cáo', 0]]);
  });

  it('removes an item and the orders close the gap', async () => {
    const { meetingId } = await conference();
    const [, b] = await addItems(meetingId, [['A', 10], ['B', 20], ['C', 30]]);
    const { agenda } = await removeAgendaItem(organizer, { meetingId, itemId: b });
    expect(startTimes(agenda)).toEqual(['14:00 A', '14:10 C']);
    const stored = await AgendaItemModel.find({ meetingId }).sort({ order: 1 }).lean();
    expect(stored.map((item) => item.order)).toEqual([0, 1]);
  });

  it('validates input with field messages before writing anything', async () => {
    const { meetingId } = await conference();
    const attempt = addAgendaItem(organizer, { meetingId, title: '  ', kind: 'party', plannedMinutes: -5 });
    await expect(attempt).rejects.toMatchObject({
      fields: { title: { key: 'agenda.title.required' }, kind: { key: 'agenda.kind.invalid' }, plannedMinutes: { key: 'agenda.minutes.invalid' } },
    });
    await expect(addAgendaItem(organizer, { meetingId, title: 'Báo cáo', plannedMinutes: 12.5 })).rejects.toBeInstanceOf(Invalid);
    expect(await AgendaItemModel.countDocuments({ meetingId })).toBe(0);
  });

  it('tells every screen the whole new agenda with a bumped revision', async () => {
    const { meetingId } = await conference();
    const [a, b] = await addItems(meetingId, [['A', 10], ['B', 20]]);
    const events: DomainEvent[] = [];
    const stop = subscribe((event) => events.push(event));
    try {
      const before = (await MeetingModel.findById(meetingId).lean())!.revision;
      await reorderAgenda(organizer, { meetingId, orderedIds: [b, a] });
      expect(events).toHaveLength(1);
      const [event] = events;
      expect(event).toMatchObject({ type: 'agenda.changed', meetingId, revision: before + 1 });
      const payload = event.payload as Awaited<ReturnType<typeof getAgenda>>;
      expect(payload.items.map((item) => [item.title, formatTime(item.startsAt, 'Asia/Ho_Chi_Minh')])).toEqual([['B', '14:00'], ['A', '14:20']]);
    } finally {
      stop();
    }
  });
});

describe('who may read and edit the agenda', () => {
  it('lets the chair and attendees of the meeting read but not edit; others not even read', async () => {
    const { meetingId, chair, director, siteId } = await conference();
    const [itemId] = await addItems(meetingId, [['Báo cáo', 30]]);
    const asChair: Actor = { kind: 'chair', meetingId, attendeeId: chair.id, name: chair.fullName };
    const asAttendee: Actor = { kind: 'attendee', meetingId, attendeeId: director.id, name: director.fullName };
    const asCoordinator: Actor = { kind: 'coordinator', meetingId, siteId, name: 'Điều phối' };
    const outsider: Actor = { kind: 'attendee', meetingId: '0123456789abcdef01234567', attendeeId: director.id, name: 'Người ngoài' };

    for (const reader of [asChair, asAttendee, asCoordinator]) {
      expect((await getAgenda(reader, meetingId)).items).toHaveLength(1);
      await expect(updateAgendaItem(reader, { meetingId, itemId, plannedMinutes: 5 })).rejects.toBeInstanceOf(Forbidden);
      await expect(addAgendaItem(reader, { meetingId, title: 'Chen ngang', plannedMinutes: 5 })).rejects.toBeInstanceOf(Forbidden);
      await expect(reorderAgenda(reader, { meetingId, orderedIds: [itemId] })).rejects.toBeInstanceOf(Forbidden);
      await expect(removeAgendaItem(reader, { meetingId, itemId })).rejects.toBeInstanceOf(Forbidden);
    }
    await expect(getAgenda(outsider, meetingId)).rejects.toBeInstanceOf(Forbidden);
    await expect(getAgenda({ kind: 'anonymous' }, meetingId)).rejects.toBeInstanceOf(Unauthorized);
    expect((await getAgenda(organizer, meetingId)).items[0].plannedMinutes).toBe(30);
  });

  it('gives the public page names and positions only, never phones or attendee ids', async () => {
    const { meetingId, director } = await conference();
    await addAgendaItem(organizer, { meetingId, title: 'Báo cáo', plannedMinutes: 30, notes: 'Ghi chú nội bộ', speakers: [{ attendeeId: director.id }] });
    const meeting = await MeetingModel.findById(meetingId).lean();
    const view = await getPublicMeeting(meeting!.publicId);
    const text = JSON.stringify(view);
    expect(view.agenda[0].speakers).toEqual([{ name: 'Trần Thanh Liêm', position: 'Giám đốc Sở KH&CN' }]);
    expect(view.sites).toEqual([{ name: 'Văn phòng UBND Tỉnh', address: '', isMain: true }]);
    expect(text).not.toContain('0913 555 777');
    expect(text).not.toContain(director.id);
    expect(text).not.toContain('Ghi chú nội bộ');
  });
});

describe('a cancelled meeting', () => {
  it('keeps its agenda read-only until it is reinstated', async () => {
    const { meetingId } = await conference('Hội nghị bị hủy');
    const [first, second] = await addItems(meetingId, [['Khai mạc', 10], ['Báo cáo', 30]]);
    await setMeetingStatus(organizer, { meetingId, action: 'cancel' });

    const refusals = [
      addAgendaItem(organizer, { meetingId, title: 'Thêm mục', plannedMinutes: 5 }),
      updateAgendaItem(organizer, { meetingId, itemId: first, plannedMinutes: 20 }),
      removeAgendaItem(organizer, { meetingId, itemId: first }),
      reorderAgenda(organizer, { meetingId, orderedIds: [second, first] }),
    ];
    for (const refusal of refusals) await expect(refusal).rejects.toMatchObject({ status: 409, messageKey: 'agenda.meeting.closed' });
    expect(startTimes(await getAgenda(organizer, meetingId))).toEqual(['14:00 Khai mạc', '14:10 Báo cáo']);

    await setMeetingStatus(organizer, { meetingId, action: 'reinstate' });
    await updateAgendaItem(organizer, { meetingId, itemId: first, plannedMinutes: 20 });
    expect(startTimes(await getAgenda(organizer, meetingId))).toEqual(['14:00 Khai mạc', '14:20 Báo cáo']);
  });
});
