// The audit trail: every change to a meeting's agenda, attendance, tasks, minutes and summary is
// one entry keyed by its revision, saying who made it; organizers of the meeting's unit read it
// newest first, a page at a time; nobody else does. Real HTTP, real store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { testUnit } from '../helpers/database.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { addUnit, moveMeetingToUnit } from '../../server/units/actions.js';
import { commitImport, previewImport } from '../../server/attendees/import.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { inviteAccount } from '../../server/accounts/actions.js';
import { addAgendaItem } from '../../server/agenda/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { saveMinute } from '../../server/minutes/actions.js';
import { AuditEntryModel } from '../../server/audit/model.js';
import { recordAudit } from '../../server/audit/record.js';
import { MeetingModel } from '../../server/meetings/model.js';

let app: TestApp;
let organizer: HttpClient;

beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
});
afterAll(async () => {
  await app?.stop();
});

describe('the audit trail', () => {
  it('names who changed the agenda, attendance, tasks, minutes and summary, newest first, and only for organizers of the meeting’s unit', async () => {
    const meeting = await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00', status: 'scheduled', unitId: testUnit.id });
    const meetingId = String(meeting._id);
    const site = await addSite(app.organizer, { meetingId, name: 'Huyện Lai Vung' });
    const delegate = await createAttendee(app.organizer, { meetingId, siteId: String(site._id), fullName: 'Nguyễn Văn Đại Biểu', role: 'delegate' });

    const agenda = await organizer.json('POST', `/api/v1/meetings/${meetingId}/agenda`, { title: 'Báo cáo tổng kết', kind: 'report', plannedMinutes: 30 });
    expect(agenda.status).toBe(201);
    const itemId = agenda.json.item.id as string;
    const coordinator = HttpClient.withBearer(app.baseUrl, site.coordinatorToken);
    const phone = connect(app.baseUrl, { transports: ['websocket'], auth: { token: site.coordinatorToken }, forceNew: true });
    try {
      expect((await phone.timeout(10_000).emitWithAck('attendance:checkIn', { meetingId, attendeeId: delegate.id, opId: 'audit-check-in-1' })).ok).toBe(true);
    } finally {
      phone.disconnect();
    }
    expect((await organizer.json('POST', `/api/v1/meetings/${meetingId}/directives`, { text: 'Rà soát lại những hạn chế.' })).status).toBe(201);
    expect((await organizer.json('PUT', `/api/v1/meetings/${meetingId}/minutes/${itemId}`, { text: 'Ghi chép', baseVersion: 0, saveId: 'audit-editor:0' })).status).toBe(200);
    expect((await organizer.json('PUT', `/api/v1/meetings/${meetingId}/summary/vi`, { text: 'Bài tin', baseVersion: 0 })).status).toBe(200);

    const trail = await organizer.getJson(`/api/v1/meetings/${meetingId}/audit`);
    expect(trail.status).toBe(200);
    const revision = (await MeetingModel.findById(meetingId).lean())!.revision;
    const rows = trail.json.entries.map((entry: { revision: number; actor: { kind: string; name: string }; events: string[] }) => [entry.revision, entry.actor.kind, entry.actor.name, entry.events]);
    expect(rows).toEqual([
      [revision, 'organizer', 'Nguyễn Thị Tổ Chức', ['summary.changed']],
      [revision - 1, 'organizer', 'Nguyễn Thị Tổ Chức', ['minutes.changed']],
      [revision - 2, 'organizer', 'Nguyễn Thị Tổ Chức', ['directives.changed']],
      [revision - 3, 'coordinator', 'Huyện Lai Vung', ['attendance.counts', 'attendance.changed']],
      [revision - 4, 'organizer', 'Nguyễn Thị Tổ Chức', ['agenda.changed']],
      [revision - 5, 'organizer', 'Nguyễn Thị Tổ Chức', ['attendee.created']],
      [revision - 6, 'organizer', 'Nguyễn Thị Tổ Chức', ['site.created']],
    ]);
    expect(trail.json.entries[3].detail).toBe('Nguyễn Văn Đại Biểu: present');

    const page = await organizer.get(`/meetings/${meetingId}/audit`);
    expect(page.status).toBe(200);
    const whats = [...page.text.matchAll(/<span class="audit-what">([^<]*)<\/span>/g)].map((match) => match[1]);
    expect(whats).toEqual(['Bài tin tổng kết', 'Biên bản', 'Kết luận, nhiệm vụ', 'Điểm danh', 'Chương trình', 'Đại biểu', 'Điểm cầu']);
    expect(page.text).toContain('Huyện Lai Vung</span> <span class="muted">(Điểm cầu)</span>');

    // Another unit's organizer: no such meeting. The chair and the coordinator: not theirs to read.
    const unit = await addUnit(app.organizer, { name: 'Sở Giáo dục và Đào tạo' });
    await inviteAccount(app.organizer, { name: 'Cán bộ Sở GD&ĐT', email: 'gddt-audit@example.vn', role: 'organizer', unitId: String(unit._id), password: 'a password of the unit' });
    const otherUnit = app.newClient();
    expect((await otherUnit.signIn('gddt-audit@example.vn', 'a password of the unit')).status).toBe(303);
    expect((await otherUnit.get(`/meetings/${meetingId}/audit`)).status).toBe(404);
    expect((await otherUnit.getJson(`/api/v1/meetings/${meetingId}/audit`)).status).toBe(404);
    const chair = await createAttendee(app.organizer, { meetingId, siteId: String(site._id), fullName: 'Huỳnh Minh Tuấn', role: 'chair' });
    expect((await HttpClient.withBearer(app.baseUrl, chair.accessToken!).getJson(`/api/v1/meetings/${meetingId}/audit`)).status).toBe(403);
    expect((await coordinator.getJson(`/api/v1/meetings/${meetingId}/audit`)).status).toBe(403);
    expect((await app.newClient().getJson(`/api/v1/meetings/${meetingId}/audit`)).status).toBe(401);
  });

  it('the day’s changes too: who started the meeting and the agenda item, who added a bridge point and an attendee', async () => {
    const meeting = await createMeeting(app.organizer, { title: 'Hội nghị trực tuyến', start: '2022-06-29T08:00', end: '2022-06-29T11:00', status: 'scheduled', unitId: testUnit.id });
    const meetingId = String(meeting._id);
    const site = await addSite(app.organizer, { meetingId, name: 'Huyện Lấp Vò' });
    await createAttendee(app.organizer, { meetingId, siteId: String(site._id), fullName: 'Phạm Văn Khách', role: 'guest' });
    const { item } = await addAgendaItem(app.organizer, { meetingId, title: 'Khai mạc', kind: 'opening', plannedMinutes: 10 });
    const desk = connect(app.baseUrl, { transports: ['websocket'], extraHeaders: { cookie: organizer.cookieHeader() }, forceNew: true });
    try {
      expect((await desk.timeout(10_000).emitWithAck('meeting:join', { meetingId })).ok).toBe(true);
      expect((await desk.timeout(10_000).emitWithAck('meeting:start', { meetingId })).ok).toBe(true);
      expect((await desk.timeout(10_000).emitWithAck('agenda:start', { meetingId, itemId: item!.id })).ok).toBe(true);
    } finally {
      desk.disconnect();
    }
    const page = await organizer.get(`/meetings/${meetingId}/audit`);
    const whats = [...page.text.matchAll(/<span class="audit-what">([^<]*)<\/span>/g)].map((match) => match[1]);
    expect(whats).toEqual(['Chương trình', 'Hội nghị', 'Chương trình', 'Đại biểu', 'Điểm cầu']);
    const entries = await AuditEntryModel.find({ meetingId }).lean();
    expect(entries.every((entry) => entry.actor!.name === 'Nguyễn Thị Tổ Chức')).toBe(true);
  });

  it('pages of 50, newest first; writing an entry twice for one revision keeps one', async () => {
    const meeting = await createMeeting(app.organizer, { title: 'Hội nghị sơ kết', start: '2022-06-29T08:00', end: '2022-06-29T11:00', status: 'scheduled', unitId: testUnit.id });
    const meetingId = String(meeting._id);
    const { item } = await addAgendaItem(app.organizer, { meetingId, title: 'Thảo luận', kind: 'discussion', plannedMinutes: 60 });
    for (let version = 0; version < 54; version++) {
      await saveMinute(app.organizer, { meetingId, agendaItemId: item!.id, text: `Ghi chép lần ${version + 1}`, baseVersion: version, saveId: `paging-editor:${version}` });
    }
    const total = await AuditEntryModel.countDocuments({ meetingId });
    expect(total).toBe(55);
    const first = await organizer.getJson(`/api/v1/meetings/${meetingId}/audit`);
    expect([first.json.page, first.json.pageCount, first.json.total, first.json.entries.length]).toEqual([1, 2, 55, 50]);
    const second = await organizer.getJson(`/api/v1/meetings/${meetingId}/audit?page=2`);
    expect(second.json.entries.map((entry: { revision: number }) => entry.revision)).toEqual([5, 4, 3, 2, 1].map((back) => first.json.entries[49].revision - (6 - back)));
    expect(second.json.entries.at(-1).events).toEqual(['agenda.changed']);
    const html = await organizer.get(`/meetings/${meetingId}/audit?page=2`);
    expect(html.text).toContain('Trang 2/2');
    expect(html.text).toContain(`href="/meetings/${meetingId}/audit?page&#x3D;1"`);
    // Past the last page: the last page.
    expect((await organizer.getJson(`/api/v1/meetings/${meetingId}/audit?page=99`)).json.page).toBe(2);

    const last = first.json.entries[0];
    await recordAudit(meetingId, last.revision, { actor: app.organizer, detail: 'lần hai' }, ['minutes.changed']);
    expect(await AuditEntryModel.countDocuments({ meetingId })).toBe(55);
    expect((await AuditEntryModel.findOne({ meetingId, revision: last.revision }).lean())!.detail).toBe('Thảo luận');
  });
});

describe('changes that used to leave no entry', () => {
  it('an attendee list imported from a file, an attendee declining and the meeting handed to another unit each name who did it', async () => {
    const meeting = await createMeeting(app.organizer, { title: 'Hội nghị nhập danh sách', start: '2027-06-29T08:00', end: '2027-06-29T11:00', status: 'scheduled', unitId: testUnit.id });
    const meetingId = String(meeting._id);
    await addSite(app.organizer, { meetingId, name: 'Văn phòng UBND Tỉnh', isMain: true });
    const csv = 'Họ và tên,Chức vụ,Đơn vị,Email,Điểm cầu\nNguyễn Văn Hùng,Giám đốc,Sở Khoa học và Công nghệ,hung@example.vn,Văn phòng UBND Tỉnh\nLê Thị Thu Hà,Phó Giám đốc,Sở Tài chính,ha@example.vn,Văn phòng UBND Tỉnh\n';
    const preview = await previewImport(app.organizer, meetingId, { originalname: 'dai-bieu.csv', buffer: Buffer.from(csv, 'utf8'), size: Buffer.byteLength(csv) });
    expect(preview).toMatchObject({ total: 2, bad: 0 });
    const imported = await commitImport(app.organizer, { meetingId, draftId: preview.draftId });
    expect(await AuditEntryModel.findOne({ meetingId, revision: imported.revision }).lean()).toMatchObject({ actor: { kind: 'organizer', name: 'Nguyễn Thị Tổ Chức' }, events: ['attendee.imported'] });

    const hung = await AttendeeModel.findOne({ meetingId, fullName: 'Nguyễn Văn Hùng' }).lean();
    const declined = await HttpClient.withBearer(app.baseUrl, hung!.accessToken).json('POST', '/api/v1/my/rsvp', { response: 'declined', reason: 'Đi công tác' });
    expect(declined.status).toBe(200);
    const afterRsvp = (await MeetingModel.findById(meetingId, { revision: 1 }).lean())!.revision;
    expect(await AuditEntryModel.findOne({ meetingId, revision: afterRsvp }).lean()).toMatchObject({ actor: { kind: 'attendee', name: 'Nguyễn Văn Hùng' }, events: expect.arrayContaining(['attendee.rsvp']) });

    const other = await addUnit(app.organizer, { name: 'Sở Tài chính' });
    await moveMeetingToUnit(app.organizer, { meetingId, unitId: String(other._id) });
    const afterMove = (await MeetingModel.findById(meetingId, { revision: 1 }).lean())!.revision;
    expect(await AuditEntryModel.findOne({ meetingId, revision: afterMove }).lean()).toMatchObject({ actor: { kind: 'organizer', name: 'Nguyễn Thị Tổ Chức' }, events: ['meeting.updated'] });
  });
});
