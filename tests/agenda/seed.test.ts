import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDatabase } from '../helpers/database.js';
import type { DatabaseHandle } from '../../server/database.js';
import { demoDirectives, demoPublicId, seedDemoConference } from '../../server/seed/demo.js';
import { getLiveSnapshot } from '../../server/live/queries.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import { DateTime } from 'luxon';
import { MeetingModel } from '../../server/meetings/model.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { AgendaItemModel } from '../../server/agenda/model.js';
import { getAgenda } from '../../server/agenda/queries.js';
import { systemActor } from '../../server/lib/actor.js';
import { formatTime } from '../../server/lib/time.js';

let database: DatabaseHandle;
beforeAll(async () => {
  database = await connectTestDatabase();
});
afterAll(() => database.close());

describe('the demo conference', () => {
  it('is created once, even when two instances start at the same time and start again later', async () => {
    await Promise.all([seedDemoConference(), seedDemoConference()]);
    await seedDemoConference();

    const meetings = await MeetingModel.find({ publicId: demoPublicId }).lean();
    expect(meetings).toHaveLength(1);
    // Beside it, exactly one rehearsal for today.
    expect(await MeetingModel.countDocuments({})).toBe(2);
    const [meeting] = meetings;
    expect(meeting).toMatchObject({
      title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021',
      organizingUnit: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp',
      timeZone: 'Asia/Ho_Chi_Minh',
      // The 2021 conference took place: it is over.
      status: 'ended',
      publicId: demoPublicId,
    });
    expect(meeting.startsAt.toISOString()).toBe('2021-12-29T07:00:00.000Z');
    expect(meeting.endsAt.toISOString()).toBe('2021-12-29T10:00:00.000Z');

    const sites = await SiteModel.find({ meetingId: meeting._id }).sort({ order: 1 }).lean();
    expect(sites).toHaveLength(13);
    expect(sites.filter((site) => site.isMain).map((site) => site.name)).toEqual(['Văn phòng UBND Tỉnh']);
    expect(sites.map((site) => site.name)).toEqual(expect.arrayContaining(['Thành phố Cao Lãnh', 'Thành phố Sa Đéc', 'Huyện Châu Thành', 'Huyện Lấp Vò']));

    const attendees = await AttendeeModel.find({ meetingId: meeting._id }).lean();
    expect(attendees.length).toBeGreaterThanOrEqual(60);
    expect(attendees.find((attendee) => attendee.fullName === 'Huỳnh Minh Tuấn')).toMatchObject({ role: 'chair', siteId: sites[0]._id });
    expect(attendees.find((attendee) => attendee.fullName === 'Trần Thanh Liêm')).toMatchObject({ role: 'speaker' });
    expect(new Set(attendees.map((attendee) => attendee.fullName)).size).toBe(attendees.length);
    const emails = attendees.flatMap((attendee) => (attendee.email ? [attendee.email] : []));
    expect(new Set(emails).size).toBe(emails.length);
    expect(emails.every((email) => email.endsWith('@example.vn'))).toBe(true);
    const perSite = new Map<string, number>();
    for (const attendee of attendees) perSite.set(String(attendee.siteId), (perSite.get(String(attendee.siteId)) ?? 0) + 1);
    expect(perSite.size).toBe(13);

    expect(await AgendaItemModel.countDocuments({ meetingId: meeting._id })).toBe(10);
  });

  it('has the agenda of the article, filling the afternoon, with the directives as notes', async () => {
    const meeting = await MeetingModel.findOne({ publicId: demoPublicId }).lean();
    const agenda = await getAgenda(systemActor, String(meeting!._id));
    expect(agenda.totalMinutes).toBe(180);
    expect(agenda.overruns).toBe(false);
    expect(agenda.items.map((item) => item.kind)).toEqual(['opening', 'report', 'break', 'discussion', 'discussion', 'discussion', 'discussion', 'discussion', 'directives', 'closing']);
    const report = agenda.items[1];
    expect(formatTime(report.startsAt, 'Asia/Ho_Chi_Minh')).toBe('14:10');
    expect(report.speakers).toEqual([expect.objectContaining({ name: 'Trần Thanh Liêm', position: 'Tỉnh ủy viên, Giám đốc Sở Khoa học và Công nghệ' })]);
    const directives = agenda.items.find((item) => item.kind === 'directives')!;
    expect(directives.speakers[0]).toMatchObject({ name: 'Huỳnh Minh Tuấn' });
    expect(directives.speakers[0].attendeeId).toBeTruthy();
    expect(directives.notes.split('\n')).toHaveLength(demoDirectives.length);
    expect(directives.notes).toContain('mỗi huyện, thành phố có ít nhất một hoạt động chuyển giao');
    const topics = agenda.items.filter((item) => item.kind === 'discussion').map((item) => item.title).join(' | ');
    for (const topic of ['nhãn hiệu', 'chuyển giao công nghệ', 'kinh tế tuần hoàn', 'ô nhiễm môi trường', 'chính sách']) expect(topics).toContain(topic);
    expect(formatTime(agenda.items.at(-1)!.endsAt, 'Asia/Ho_Chi_Minh')).toBe('17:00');
  });

  it('left 2021 as the day ended it: who came when, who was absent and why, the agenda running late', async () => {
    const meeting = await MeetingModel.findOne({ publicId: demoPublicId }).lean();
    const snapshot = await getLiveSnapshot(systemActor, String(meeting!._id));
    expect(snapshot.meeting.status).toBe('ended');
    expect(formatTime(new Date(snapshot.meeting.startedAt!), 'Asia/Ho_Chi_Minh')).toBe('14:04');
    const records = await AttendanceModel.find({ meetingId: meeting!._id }).lean();
    expect(records.length).toBe(await AttendeeModel.countDocuments({ meetingId: meeting!._id }));
    // The counters the dashboard reads add up to the records.
    expect(snapshot.totals).toMatchObject({
      present: records.filter((record) => record.status === 'present').length,
      absent: records.filter((record) => record.status === 'absent').length,
      leftEarly: records.filter((record) => record.status === 'leftEarly').length,
      late: records.filter((record) => record.late).length,
      pending: 0,
    });
    expect(snapshot.totals.late).toBeGreaterThan(0);
    expect(records.filter((record) => record.status === 'absent').map((record) => record.absence!.reason).sort()).toEqual(['delegate', 'mission', 'other', 'sick']);
    expect(snapshot.agenda.items.every((item) => item.state === 'done' && item.actualStartedAt && item.actualEndedAt)).toBe(true);
    expect(snapshot.agenda.items[1].spentMs).toBe(38 * 60_000);
    expect(new Date(snapshot.meeting.endedAt!).getTime()).toBeGreaterThan(meeting!.endsAt.getTime());
  });

  it("adds a rehearsal dated today in the conference's zone, with the same sites, people and agenda, ready to start", async () => {
    const rehearsal = await MeetingModel.findOne({ publicId: { $ne: demoPublicId } }).lean();
    const demo = await MeetingModel.findOne({ publicId: demoPublicId }).lean();
    expect(rehearsal).toMatchObject({ status: 'scheduled', timeZone: 'Asia/Ho_Chi_Minh', publicId: `rehearsal-${DateTime.now().setZone('Asia/Ho_Chi_Minh').toFormat('yyyy-LL-dd')}` });
    expect(DateTime.fromJSDate(rehearsal!.startsAt, { zone: 'Asia/Ho_Chi_Minh' }).toFormat('yyyy-LL-dd HH:mm')).toBe(`${DateTime.now().setZone('Asia/Ho_Chi_Minh').toFormat('yyyy-LL-dd')} 14:00`);
    for (const model of [SiteModel, AttendeeModel, AgendaItemModel] as const) {
      expect(await (model as typeof SiteModel).countDocuments({ meetingId: rehearsal!._id })).toBe(await (model as typeof SiteModel).countDocuments({ meetingId: demo!._id }));
    }
    expect(await AttendanceModel.countDocuments({ meetingId: rehearsal!._id })).toBe(0);
  });

  it('completes a seed abandoned half-way by a crashed start', async () => {
    const meeting = await MeetingModel.findOne({ publicId: demoPublicId }).lean();
    // A start that crashed half-way leaves a draft without an agenda.
    await MeetingModel.updateOne({ _id: meeting!._id }, { $set: { status: 'draft' } });
    await AgendaItemModel.deleteMany({ meetingId: meeting!._id });
    await AttendeeModel.deleteOne({ meetingId: meeting!._id, fullName: 'Trần Thanh Liêm' });
    // A seed in progress elsewhere (recently touched) is left alone...
    await seedDemoConference();
    expect(await AgendaItemModel.countDocuments({ meetingId: meeting!._id })).toBe(0);
    // ...one untouched for minutes is completed.
    await MeetingModel.updateOne({ _id: meeting!._id }, { $set: { updatedAt: new Date(Date.now() - 10 * 60_000) } }, { timestamps: false });
    await seedDemoConference();
    expect(await AgendaItemModel.countDocuments({ meetingId: meeting!._id })).toBe(10);
    expect(await AttendeeModel.countDocuments({ meetingId: meeting!._id, fullName: 'Trần Thanh Liêm' })).toBe(1);
    expect(await SiteModel.countDocuments({ meetingId: meeting!._id })).toBe(13);
    expect(await MeetingModel.countDocuments({})).toBe(2);
  });
});
