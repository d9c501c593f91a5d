// The organizer's story with meetings, told through the actions on a real embedded store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDatabase, testUnit } from '../helpers/database.js';
import type { DatabaseHandle } from '../../server/database.js';
import {
  createMeeting,
  deleteMeeting,
  duplicateMeeting,
  setMeetingStatus,
  shiftYearsInTitle,
  defaultDuplicateStart,
  duplicateDefaults,
  updateMeeting,
} from '../../server/meetings/actions.js';
import { getMeeting, getMeetingDashboard, listMeetings } from '../../server/meetings/queries.js';
import { addProvinceDistricts } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { AgendaItemModel } from '../../server/agenda/model.js';
import { AppError, Invalid } from '../../server/lib/errors.js';
import { toErrorBody } from '../../server/lib/http.js';
import { subscribe, type DomainEvent } from '../../server/lib/events.js';
import type { Actor } from '../../server/lib/actor.js';

const organizer: Actor = { kind: 'organizer', userId: 'u1', name: 'Nguyễn Thị Tổ Chức', isAdmin: false, unitId: testUnit.id };
const anonymous: Actor = { kind: 'anonymous' };

let database: DatabaseHandle;
beforeAll(async () => {
  database = await connectTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

const review2021 = {
  title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021',
  organizingUnit: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp',
  description: 'Tổng kết năm 2021, phương hướng năm 2022.',
  start: '2021-12-29T14:00',
  end: '2021-12-29T17:00',
};

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the action to be refused');
}

function messages(error: AppError) {
  return { vi: toErrorBody(error, 'vi').error, en: toErrorBody(error, 'en').error };
}

describe('creating a meeting', () => {
  it('reads the start and end as wall-clock time in Asia/Ho_Chi_Minh by default', async () => {
    const meeting = await createMeeting(organizer, review2021);
    expect(meeting.timeZone).toBe('Asia/Ho_Chi_Minh');
    expect(meeting.startsAt.toISOString()).toBe('2021-12-29T07:00:00.000Z');
    expect(meeting.endsAt.toISOString()).toBe('2021-12-29T10:00:00.000Z');
    expect(meeting.status).toBe('draft');
    expect(meeting.calendarSequence).toBe(0);
    expect(meeting.publicId).toMatch(/^[\w-]{8,}$/);
  });

  it('accepts a duration instead of an end, another zone, and "scheduled"', async () => {
    const meeting = await createMeeting(organizer, { title: 'Giao ban', start: '2026-03-02T09:00', durationMinutes: '90', timeZone: 'Europe/Paris', status: 'scheduled' });
    expect(meeting.startsAt.toISOString()).toBe('2026-03-02T08:00:00.000Z');
    expect(meeting.endsAt.toISOString()).toBe('2026-03-02T09:30:00.000Z');
    expect(meeting.status).toBe('scheduled');
  });

  it('shows every problem at once, in Vietnamese and in English', async () => {
    const error = await rejection(createMeeting(organizer, { title: '  ', start: '2021-12-29T14:00', end: '2021-12-29T13:00' }));
    expect(error).toBeInstanceOf(Invalid);
    const { vi, en } = messages(error);
    expect(vi.fields).toEqual({ title: 'Vui lòng nhập tên hội nghị.', end: 'Thời gian kết thúc phải sau thời gian bắt đầu.' });
    expect(en.fields).toEqual({ title: 'Please enter the meeting title.', end: 'The end must be after the start.' });
  });

  it('refuses an unknown time zone, an unreadable start and a missing end', async () => {
    const zone = messages(await rejection(createMeeting(organizer, { title: 'X', start: '2021-12-29T14:00', end: '2021-12-29T15:00', timeZone: 'Asia/Hanoi_City' })));
    expect(zone.vi.fields?.timeZone).toBe('Múi giờ không hợp lệ (ví dụ: Asia/Ho_Chi_Minh).');
    const start = messages(await rejection(createMeeting(organizer, { title: 'X', start: '29/12/2021 14h', durationMinutes: 60 })));
    expect(start.en.fields?.start).toMatch(/start time is not valid/);
    const end = messages(await rejection(createMeeting(organizer, { title: 'X', start: '2021-12-29T14:00' })));
    expect(end.vi.fields?.end).toBe('Vui lòng nhập giờ kết thúc hoặc thời lượng.');
  });

  it('is for organizers only: an attendee link or a visitor cannot create one', async () => {
    const attendee: Actor = { kind: 'attendee', meetingId: '000000000000000000000001', attendeeId: '000000000000000000000002', name: 'Đại biểu' };
    expect((await rejection(createMeeting(attendee, review2021))).status).toBe(403);
    expect((await rejection(createMeeting(anonymous, review2021))).status).toBe(401);
  });
});

describe('editing and status', () => {
  it('bumps the calendar sequence when the time or title changes, not for the organizing unit', async () => {
    const meeting = await createMeeting(organizer, review2021);
    const events: DomainEvent[] = [];
    const unsubscribe = subscribe((event) => events.push(event));
    try {
      const unit = await updateMeeting(organizer, { meetingId: String(meeting._id), organizingUnit: 'Sở KH&CN' });
      expect(unit.calendarSequence).toBe(0);
      expect(unit.revision).toBe(1);

      const moved = await updateMeeting(organizer, { meetingId: String(meeting._id), start: '2021-12-30T08:00' });
      expect(moved.calendarSequence).toBe(1);
      expect(moved.revision).toBe(2);
      // Moving the start keeps the meeting's length (3 hours).
      expect(moved.endsAt.toISOString()).toBe('2021-12-30T04:00:00.000Z');

      const unchanged = await updateMeeting(organizer, { meetingId: String(meeting._id), title: review2021.title });
      expect(unchanged.revision).toBe(2);

      const renamed = await updateMeeting(organizer, { meetingId: String(meeting._id), title: 'Hội nghị Tổng kết KH&CN 2021' });
      expect(renamed.calendarSequence).toBe(2);
    } finally {
      unsubscribe();
    }
    const updates = events.filter((event) => event.type === 'meeting.updated' && event.meetingId === String(meeting._id));
    expect(updates.map((event) => event.revision)).toEqual([1, 2, 3]);
  });

  it('validates edits against the meeting: the end stays after the start', async () => {
    const meeting = await createMeeting(organizer, review2021);
    const error = await rejection(updateMeeting(organizer, { meetingId: String(meeting._id), end: '2021-12-29T12:00' }));
    expect(messages(error).vi.fields?.end).toBe('Thời gian kết thúc phải sau thời gian bắt đầu.');
    expect((await MeetingModel.findById(meeting._id).lean())!.revision).toBe(0);
  });

  it('cancelling bumps the calendar sequence; a cancelled meeting cannot be edited until reinstated', async () => {
    const meeting = await createMeeting(organizer, { ...review2021, status: 'scheduled' });
    const cancelled = await setMeetingStatus(organizer, { meetingId: String(meeting._id), action: 'cancel' });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.calendarSequence).toBe(1);

    const refused = await rejection(updateMeeting(organizer, { meetingId: String(meeting._id), title: 'Đổi tên' }));
    expect(refused.status).toBe(409);
    expect(messages(refused).vi.message).toMatch(/đã bị hủy/);
    expect((await rejection(setMeetingStatus(organizer, { meetingId: String(meeting._id), action: 'schedule' }))).status).toBe(409);

    const reinstated = await setMeetingStatus(organizer, { meetingId: String(meeting._id), action: 'reinstate' });
    expect(reinstated.status).toBe('scheduled');
    expect(reinstated.calendarSequence).toBe(2);
    expect((await updateMeeting(organizer, { meetingId: String(meeting._id), title: 'Đổi tên' })).title).toBe('Đổi tên');
  });

  it('a chair can read the meeting but not change its status', async () => {
    const meeting = await createMeeting(organizer, review2021);
    const chair: Actor = { kind: 'chair', meetingId: String(meeting._id), attendeeId: '000000000000000000000009', name: 'Huỳnh Minh Tuấn' };
    expect((await getMeeting(chair, String(meeting._id))).title).toBe(review2021.title);
    expect((await rejection(setMeetingStatus(chair, { meetingId: String(meeting._id), action: 'cancel' }))).status).toBe(403);
    const otherChair: Actor = { ...chair, meetingId: '000000000000000000000001' };
    expect((await rejection(getMeeting(otherChair, String(meeting._id)))).status).toBe(403);
  });
});

describe("duplicating last year's conference", () => {
  async function conferenceWithEverything() {
    const meeting = await createMeeting(organizer, { ...review2021, status: 'scheduled' });
    await addProvinceDistricts(organizer, { meetingId: String(meeting._id), provinceCode: '87' });
    const sites = await SiteModel.find({ meetingId: meeting._id }).sort({ order: 1 }).lean();
    const main = sites.find((site) => site.isMain)!;
    const director = await AttendeeModel.create({ meetingId: meeting._id, fullName: 'Trần Thanh Liêm', position: 'Giám đốc Sở', email: 'liem@example.vn', siteId: main._id, role: 'speaker' });
    await AgendaItemModel.create([
      { meetingId: meeting._id, order: 0, title: 'Khai mạc, giới thiệu đại biểu', kind: 'opening', plannedMinutes: 10 },
      { meetingId: meeting._id, order: 1, title: 'Báo cáo kết quả năm 2021', kind: 'report', plannedMinutes: 30, speakers: [{ attendeeId: director._id, name: director.fullName, position: director.position }] },
    ]);
    return { meeting, sites, director };
  }

  it('copies sites with new coordinator links and the agenda; speakers keep name and position', async () => {
    const { meeting, sites } = await conferenceWithEverything();
    const copy = await duplicateMeeting(organizer, { meetingId: String(meeting._id) });
    expect(copy.status).toBe('draft');
    expect(String(copy.duplicatedFrom)).toBe(String(meeting._id));
    // Same wall-clock date and time on the next 29 December still ahead (not 2022, long past).
    const now = new Date();
    const year = now.getTime() < Date.parse(`${now.getUTCFullYear()}-12-29T07:00:00.000Z`) ? now.getUTCFullYear() : now.getUTCFullYear() + 1;
    expect(copy.title).toBe(`Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm ${year}`);
    expect(copy.startsAt.toISOString()).toBe(`${year}-12-29T07:00:00.000Z`);
    expect(copy.endsAt.toISOString()).toBe(`${year}-12-29T10:00:00.000Z`);
    expect(copy.publicId).not.toBe(meeting.publicId);

    const copiedSites = await SiteModel.find({ meetingId: copy._id }).sort({ order: 1 }).lean();
    expect(copiedSites.map((site) => site.name)).toEqual(sites.map((site) => site.name));
    expect(copiedSites.filter((site) => site.isMain).map((site) => site.name)).toEqual(['Văn phòng UBND Tỉnh']);
    const oldTokens = new Set(sites.map((site) => site.coordinatorToken));
    expect(copiedSites.every((site) => !oldTokens.has(site.coordinatorToken))).toBe(true);

    expect(await AttendeeModel.countDocuments({ meetingId: copy._id })).toBe(0);
    const agenda = await AgendaItemModel.find({ meetingId: copy._id }).sort({ order: 1 }).lean();
    expect(agenda.map((item) => item.title)).toEqual(['Khai mạc, giới thiệu đại biểu', 'Báo cáo kết quả năm 2021']);
    expect(agenda[1].speakers).toEqual([{ name: 'Trần Thanh Liêm', position: 'Giám đốc Sở' }]);
  });

  it('optionally copies the attendees, with new personal links, and keeps speakers linked to the copies', async () => {
    const { meeting, director } = await conferenceWithEverything();
    const copy = await duplicateMeeting(organizer, { meetingId: String(meeting._id), start: '2023-01-05T08:00', title: 'Hội nghị KH&CN 2022', copyAttendees: 'on' });
    expect(copy.title).toBe('Hội nghị KH&CN 2022');
    expect(copy.startsAt.toISOString()).toBe('2023-01-05T01:00:00.000Z');
    const [attendee] = await AttendeeModel.find({ meetingId: copy._id }).lean();
    expect(attendee.fullName).toBe('Trần Thanh Liêm');
    expect(attendee.accessToken).not.toBe(director.accessToken);
    const copiedMain = await SiteModel.findOne({ meetingId: copy._id, isMain: true }).lean();
    expect(String(attendee.siteId)).toBe(String(copiedMain!._id));
    const report = await AgendaItemModel.findOne({ meetingId: copy._id, order: 1 }).lean();
    expect(String(report!.speakers[0].attendeeId)).toBe(String(attendee._id));
  });

  it('defaults the copy to the next anniversary that is still ahead', () => {
    const meeting = { startsAt: new Date('2021-12-29T07:00:00.000Z'), timeZone: 'Asia/Ho_Chi_Minh' };
    // Same date one year on, when that is still ahead.
    expect(defaultDuplicateStart(meeting, new Date('2022-03-01T00:00:00Z'))).toBe('2022-12-29T14:00');
    // Years later: this year's anniversary if it is still to come, else next year's.
    expect(defaultDuplicateStart(meeting, new Date('2026-11-27T06:00:00Z'))).toBe('2026-12-29T14:00');
    expect(defaultDuplicateStart(meeting, new Date('2026-12-29T08:00:00Z'))).toBe('2027-12-29T14:00');
    // A meeting still ahead is copied to one year after it.
    expect(defaultDuplicateStart({ startsAt: new Date('2099-06-01T02:00:00Z'), timeZone: 'Asia/Ho_Chi_Minh' }, new Date('2026-01-01T00:00:00Z'))).toBe('2100-06-01T09:00');
  });

  it('keeps the next anniversary only until it passes, whichever order the instants come in', () => {
    // The same meeting asked again (the answer is kept between dashboard views): right at the
    // anniversary (14:00 in Hồ Chí Minh City is 07:00 UTC), after it, before it again, and across the year's turn there.
    const meeting = { title: 'Tổng kết năm 2021', startsAt: new Date('2021-12-29T07:00:00.000Z'), timeZone: 'Asia/Ho_Chi_Minh' };
    const asked: Array<[string, string, string]> = [
      ['2026-11-27T06:00:00Z', '2026-12-29T14:00', 'Tổng kết năm 2026'],
      ['2026-12-29T06:59:59.999Z', '2026-12-29T14:00', 'Tổng kết năm 2026'],
      ['2026-12-29T07:00:00Z', '2027-12-29T14:00', 'Tổng kết năm 2027'],
      ['2026-12-31T16:59:59Z', '2027-12-29T14:00', 'Tổng kết năm 2027'],
      ['2026-12-31T17:00:00Z', '2027-12-29T14:00', 'Tổng kết năm 2027'],
      ['2026-03-01T00:00:00Z', '2026-12-29T14:00', 'Tổng kết năm 2026'],
      ['2028-01-01T00:00:00Z', '2028-12-29T14:00', 'Tổng kết năm 2028'],
    ];
    for (const [now, start, title] of asked) expect(duplicateDefaults(meeting, new Date(now)), now).toEqual({ start, title });
    // Another zone or start is another meeting's answer.
    expect(defaultDuplicateStart({ startsAt: meeting.startsAt, timeZone: 'UTC' }, new Date('2026-12-29T07:00:00Z'))).toBe('2027-12-29T07:00');
  });

  it('moves the years in the title along with the date', () => {
    expect(shiftYearsInTitle('Tổng kết năm 2021, kế hoạch 2022', 1)).toBe('Tổng kết năm 2022, kế hoạch 2023');
    expect(shiftYearsInTitle('Hội nghị số 12', 1)).toBe('Hội nghị số 12');
  });
});

describe('deleting', () => {
  it('deletes a draft with its sites, attendees and agenda; refuses a scheduled meeting', async () => {
    const draft = await createMeeting(organizer, review2021);
    await addProvinceDistricts(organizer, { meetingId: String(draft._id), provinceCode: '87' });
    await AgendaItemModel.create({ meetingId: draft._id, order: 0, title: 'Khai mạc', kind: 'opening' });
    await deleteMeeting(organizer, { meetingId: String(draft._id) });
    expect(await MeetingModel.countDocuments({ _id: draft._id })).toBe(0);
    expect(await SiteModel.countDocuments({ meetingId: draft._id })).toBe(0);
    expect(await AgendaItemModel.countDocuments({ meetingId: draft._id })).toBe(0);

    const scheduled = await createMeeting(organizer, { ...review2021, status: 'scheduled' });
    const error = await rejection(deleteMeeting(organizer, { meetingId: String(scheduled._id) }));
    expect(error.status).toBe(409);
    expect(messages(error).en.message).toBe('Only draft meetings can be deleted. Cancel the meeting instead.');
  });
});

describe('lists and the dashboard', () => {
  it('lists upcoming meetings soonest first and past ones most recent first', async () => {
    const now = new Date('2030-06-01T00:00:00Z');
    const later = await createMeeting(organizer, { title: 'Sau', start: '2030-09-01T08:00', durationMinutes: 60 });
    const sooner = await createMeeting(organizer, { title: 'Trước', start: '2030-07-01T08:00', durationMinutes: 60 });
    const upcoming = await listMeetings(organizer, { tab: 'upcoming', now });
    expect(upcoming.items.map((item) => String(item.meeting._id))).toEqual([String(sooner._id), String(later._id)]);
    const past = await listMeetings(organizer, { tab: 'past', now, pageSize: 100 });
    const pastStarts = past.items.map((item) => item.meeting.startsAt.getTime());
    expect(pastStarts).toEqual([...pastStarts].sort((a, b) => b - a));
    expect(past.items.some((item) => String(item.meeting._id) === String(later._id))).toBe(false);
    expect((await rejection(listMeetings(anonymous))).status).toBe(401);
  });

  it('keeps a live meeting, and a scheduled one not yet held that day, on the upcoming tab past their planned end', async () => {
    const now = new Date('2031-03-10T15:00:00Z');
    const make = async (title: string, start: string, status: 'scheduled' | 'live' | 'ended' | 'draft') => {
      const meeting = await createMeeting(organizer, { title, start, durationMinutes: 180, status: status === 'draft' ? 'draft' : 'scheduled' });
      if (status === 'live' || status === 'ended') await MeetingModel.updateOne({ _id: meeting._id }, { $set: { status } });
      return String(meeting._id);
    };
    // Times in the meeting's zone (Asia/Ho_Chi_Minh, UTC+7): now is 22:00 there.
    const lateToday = await make('Tổng duyệt chưa bắt đầu', '2031-03-10T14:00', 'scheduled'); // ended 5 h ago as planned
    const runningLate = await make('Đang họp quá giờ', '2031-03-08T14:00', 'live'); // planned end two days ago
    const yesterday = await make('Hôm qua chưa họp', '2031-03-09T08:00', 'scheduled'); // 34 h past its end
    const endedEarly = await make('Kết thúc sớm', '2031-03-11T08:00', 'ended'); // planned for tomorrow, already ended
    const draftPast = await make('Nháp cũ', '2031-03-10T08:00', 'draft'); // a draft's time is over
    const ids = async (tab: 'upcoming' | 'past') => (await listMeetings(organizer, { tab, now, pageSize: 100 })).items.map((item) => String(item.meeting._id));
    const upcoming = await ids('upcoming');
    const past = await ids('past');
    expect([lateToday, runningLate].every((id) => upcoming.includes(id) && !past.includes(id))).toBe(true);
    expect([yesterday, endedEarly, draftPast].every((id) => past.includes(id) && !upcoming.includes(id))).toBe(true);
  });

  it('counts attendees per site, expected headcount and the agenda in the database', async () => {
    const meeting = await createMeeting(organizer, review2021);
    await addProvinceDistricts(organizer, { meetingId: String(meeting._id), provinceCode: '87' });
    const sites = await SiteModel.find({ meetingId: meeting._id }).sort({ order: 1 }).lean();
    await SiteModel.updateOne({ _id: sites[0]._id }, { $set: { expectedHeadcount: 40 } });
    await AttendeeModel.create([
      { meetingId: meeting._id, fullName: 'A', siteId: sites[0]._id },
      { meetingId: meeting._id, fullName: 'B', siteId: sites[0]._id },
      { meetingId: meeting._id, fullName: 'C', siteId: sites[3]._id },
    ]);
    await AgendaItemModel.create([
      { meetingId: meeting._id, order: 0, title: 'Khai mạc', kind: 'opening', plannedMinutes: 10 },
      { meetingId: meeting._id, order: 1, title: 'Báo cáo', kind: 'report', plannedMinutes: 25 },
    ]);
    const dashboard = await getMeetingDashboard(organizer, String(meeting._id));
    expect(dashboard.totals).toEqual({ sites: 13, attendees: 3, expectedHeadcount: 40 });
    expect(dashboard.agenda).toEqual({ count: 2, minutes: 35 });
    expect(dashboard.sites[0]).toMatchObject({ name: 'Văn phòng UBND Tỉnh', isMain: true, attendeeCount: 2, expectedHeadcount: 40 });
    expect(dashboard.sites[3].attendeeCount).toBe(1);
    expect(dashboard.hasMainSite).toBe(true);

    const coordinator: Actor = { kind: 'coordinator', meetingId: String(meeting._id), siteId: String(sites[1]._id), name: 'Điều phối' };
    expect((await rejection(getMeetingDashboard(coordinator, String(meeting._id)))).status).toBe(403);
  });

  it('shows a new attendee at once: counts follow the meeting revision', async () => {
    const meeting = await createMeeting(organizer, review2021);
    await addProvinceDistricts(organizer, { meetingId: String(meeting._id), provinceCode: '87' });
    const before = await getMeetingDashboard(organizer, String(meeting._id));
    expect(before.totals.attendees).toBe(0);
    await createAttendee(organizer, { meetingId: String(meeting._id), siteId: before.sites[5].id, fullName: 'Phan Văn Mới' });
    const after = await getMeetingDashboard(organizer, String(meeting._id));
    expect(after.totals.attendees).toBe(1);
    expect(after.sites[5].attendeeCount).toBe(1);
  });
});
