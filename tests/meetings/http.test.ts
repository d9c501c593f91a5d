// The organizer's meeting pages and the meetings JSON API, through real HTTP on the real app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { SiteModel } from '../../server/sites/model.js';
import { addProvinceDistricts } from '../../server/sites/actions.js';
import { createMeeting } from '../../server/meetings/actions.js';

let app: TestApp;
let organizer: HttpClient;

beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
});
afterAll(async () => {
  await app?.stop();
});

const newMeetingForm = {
  title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021',
  organizingUnit: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp',
  description: 'Tổng kết năm 2021',
  start: '2021-12-29T14:00',
  end: '2021-12-29T17:00',
  durationMinutes: '',
  timeZone: 'Asia/Ho_Chi_Minh',
  status: 'draft',
};

function meetingIdFrom(location: string | undefined): string {
  const match = /\/meetings\/([a-f\d]{24})/.exec(location ?? '');
  if (!match) throw new Error(`no meeting id in ${location}`);
  return match[1];
}

describe('meeting pages', () => {
  it('sends an organizer from / to the meetings list, and a visitor to sign in', async () => {
    expect((await organizer.get('/')).location).toBe('/meetings');
    expect((await app.newClient().get('/')).location).toBe('/login');
    const list = await organizer.get('/meetings');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Sắp diễn ra');
    expect(list.text).toContain('Tạo hội nghị mới');
  });

  it('shows each problem next to its field, in Vietnamese, keeping what was typed', async () => {
    const response = await organizer.postForm('/meetings', { ...newMeetingForm, title: '', end: '2021-12-29T13:00' });
    expect(response.status).toBe(422);
    expect(response.text).toContain('Vui lòng nhập tên hội nghị.');
    expect(response.text).toContain('Thời gian kết thúc phải sau thời gian bắt đầu.');
    expect(response.text).toContain('value="Sở Khoa học và Công nghệ tỉnh Đồng Tháp"');
  });

  it('creates a meeting and shows its dashboard in the meeting’s time zone', async () => {
    const created = await organizer.postForm('/meetings', newMeetingForm);
    expect(created.status).toBe(303);
    const meetingId = meetingIdFrom(created.location);
    const page = await organizer.get(`/meetings/${meetingId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Đã tạo hội nghị.');
    expect(page.text).toContain('14:00, Thứ Tư 29/12/2021');
    expect(page.text).toContain('Bản nháp');
    expect(page.text).toContain(`/meetings/${meetingId}/sites`);
    expect(page.text).toContain(`/meetings/${meetingId}/attendees`);
    expect(page.text).toContain(`/meetings/${meetingId}/agenda`);
    expect(page.text).toMatch(/\/p\/[\w-]+/);

    const english = await organizer.get(`/meetings/${meetingId}?lang=en`);
    expect(english.text).toContain('14:00, Wednesday 29 Dec 2021');
    expect(english.text).toContain('Draft');
    expect(english.text).toContain('Duplicate meeting');
    await organizer.get('/meetings?lang=vi');
  });

  it('edits, schedules and cancels through the dashboard forms', async () => {
    const meetingId = meetingIdFrom((await organizer.postForm('/meetings', newMeetingForm)).location);
    const form = await organizer.get(`/meetings/${meetingId}/edit`);
    expect(form.text).toContain('value="2021-12-29T14:00"');

    const edited = await organizer.postForm(`/meetings/${meetingId}/edit`, { ...newMeetingForm, start: '2021-12-30T08:00', end: '2021-12-30T11:00' });
    expect(edited.status).toBe(303);
    expect((await organizer.getJson(`/api/v1/meetings/${meetingId}`)).json).toMatchObject({ start: '2021-12-30T08:00', calendarSequence: 1 });

    await organizer.postForm(`/meetings/${meetingId}/status`, { action: 'schedule' });
    expect((await organizer.get(`/meetings/${meetingId}`)).text).toContain('Hội nghị đã được lên lịch.');
    await organizer.postForm(`/meetings/${meetingId}/status`, { action: 'cancel' });
    const cancelled = await organizer.getJson(`/api/v1/meetings/${meetingId}`);
    // Scheduling (STATUS TENTATIVE -> CONFIRMED) and cancelling each raise the SEQUENCE.
    expect(cancelled.json).toMatchObject({ status: 'cancelled', calendarSequence: 3 });

    const refused = await organizer.postForm(`/meetings/${meetingId}/edit`, newMeetingForm);
    expect(refused.status).toBe(303);
    expect((await organizer.get(`/meetings/${meetingId}`)).text).toContain('Hội nghị đã bị hủy nên không thể chỉnh sửa');
  });

  it('duplicates last year’s conference from the dashboard, as a draft dated on its next anniversary', async () => {
    const meetingId = meetingIdFrom((await organizer.postForm('/meetings', newMeetingForm)).location);
    const dashboard = await organizer.get(`/meetings/${meetingId}`);
    // The 2021 demo is long past: the default is the next 29 December still ahead, and the title's year follows it.
    const now = new Date();
    const year = now.getTime() < Date.parse(`${now.getUTCFullYear()}-12-29T07:00:00.000Z`) ? now.getUTCFullYear() : now.getUTCFullYear() + 1;
    expect(dashboard.text).toContain(`value="${year}-12-29T14:00"`);
    expect(dashboard.text).toContain(`năm ${year}`);
    const copied = await organizer.postForm(`/meetings/${meetingId}/duplicate`, { title: 'Hội nghị Tổng kết KH&CN năm 2022', start: '2022-12-28T14:00' });
    expect(copied.status).toBe(303);
    const copyId = meetingIdFrom(copied.location);
    expect(copyId).not.toBe(meetingId);
    expect((await organizer.getJson(`/api/v1/meetings/${copyId}`)).json).toMatchObject({ title: 'Hội nghị Tổng kết KH&CN năm 2022', status: 'draft', start: '2022-12-28T14:00', duplicatedFrom: meetingId });

    // The page the organizer lands on says the copy was made, once.
    const landed = await organizer.get(copied.location!);
    expect(landed.text).toContain('Đã tạo bản sao của hội nghị');
    expect((await organizer.get('/meetings')).text).not.toContain('Đã tạo bản sao của hội nghị');
    // The copy's overview names the meeting it was made from, as a link.
    const copyDashboard = await organizer.get(`/meetings/${copyId}`);
    expect(copyDashboard.text).toContain(`<a href="/meetings/${meetingId}">Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021</a>`);

    const bad = await organizer.postForm(`/meetings/${meetingId}/duplicate`, { title: 'X', start: 'ngày mai' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Thời gian bắt đầu không hợp lệ');
  });

  it('deletes a draft', async () => {
    const meetingId = meetingIdFrom((await organizer.postForm('/meetings', newMeetingForm)).location);
    const deleted = await organizer.postForm(`/meetings/${meetingId}/delete`, {});
    expect(deleted.location).toBe('/meetings');
    expect((await organizer.getJson(`/api/v1/meetings/${meetingId}`)).status).toBe(404);
  });

  it('shows attendee counts per site on the dashboard', async () => {
    const meeting = await createMeeting(app.organizer, newMeetingForm);
    const meetingId = String(meeting._id);
    await addProvinceDistricts(app.organizer, { meetingId, provinceCode: '87' });
    const saDec = await SiteModel.findOne({ meetingId, name: 'Thành phố Sa Đéc' }).lean();
    await AttendeeModel.create([
      { meetingId, fullName: 'Nguyễn Văn A', siteId: saDec!._id },
      { meetingId, fullName: 'Trần Thị B', siteId: saDec!._id },
    ]);
    const page = await organizer.get(`/meetings/${meetingId}`);
    expect(page.text).toMatch(new RegExp(`data-site-id="${String(saDec!._id)}">[\\s\\S]*?Thành phố Sa Đéc[\\s\\S]*?data-count="attendees">2<`));
    const api = await organizer.getJson(`/api/v1/meetings/${meetingId}/dashboard`);
    expect(api.json.totals).toEqual({ sites: 13, attendees: 2, expectedHeadcount: 0 });
    expect(api.json.sites.find((site: { name: string }) => site.name === 'Thành phố Sa Đéc').attendeeCount).toBe(2);
  });
});

describe('meetings JSON API', () => {
  it('creates, lists, updates and changes status; errors come back as {error:{code,message,fields}}', async () => {
    const invalid = await organizer.json('POST', '/api/v1/meetings?lang=en', { title: '', start: '2026-12-01T09:00', durationMinutes: 0 });
    expect(invalid.status).toBe(422);
    expect(invalid.json.error.code).toBe('invalid');
    expect(invalid.json.error.fields).toEqual({ title: 'Please enter the meeting title.', durationMinutes: 'The duration must be a number of minutes from 1 to 10080.' });
    await organizer.get('/meetings?lang=vi');

    const created = await organizer.json('POST', '/api/v1/meetings', { title: 'Giao ban quý IV', start: '2099-12-01T09:00', durationMinutes: 120 });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ title: 'Giao ban quý IV', startsAt: '2099-12-01T02:00:00.000Z', endsAt: '2099-12-01T04:00:00.000Z', status: 'draft', revision: 0 });
    const id = created.json.id;

    const list = await organizer.getJson('/api/v1/meetings?tab=upcoming');
    expect(list.json.items.map((item: { id: string }) => item.id)).toContain(id);

    const patched = await organizer.json('PATCH', `/api/v1/meetings/${id}`, { title: 'Giao ban quý IV năm 2099' });
    expect(patched.json).toMatchObject({ title: 'Giao ban quý IV năm 2099', calendarSequence: 1, revision: 1 });

    const scheduled = await organizer.json('POST', `/api/v1/meetings/${id}/status`, { action: 'schedule' });
    expect(scheduled.json.status).toBe('scheduled');
    const refusedDelete = await organizer.json('DELETE', `/api/v1/meetings/${id}`);
    expect(refusedDelete.status).toBe(409);
    expect(refusedDelete.json.error.message).toBe('Chỉ có thể xóa hội nghị ở trạng thái bản nháp. Hãy hủy hội nghị thay vì xóa.');
    const badAction = await organizer.json('POST', `/api/v1/meetings/${id}/status`, { action: 'explode' });
    expect(badAction.status).toBe(422);

    const copy = await organizer.json('POST', `/api/v1/meetings/${id}/duplicate`, {});
    expect(copy.status).toBe(201);
    expect(copy.json).toMatchObject({ status: 'draft', start: '2100-12-01T09:00', title: 'Giao ban quý IV năm 2100' });
  });

  it('refuses visitors and attendee links', async () => {
    const meeting = await createMeeting(app.organizer, newMeetingForm);
    const meetingId = String(meeting._id);
    const [site] = (await addProvinceDistricts(app.organizer, { meetingId, provinceCode: '87' })).created;
    const attendee = await AttendeeModel.create({ meetingId, fullName: 'Lê Thị Đại Biểu', siteId: site._id });

    expect((await app.newClient().getJson('/api/v1/meetings')).status).toBe(401);
    const viaLink = HttpClient.withBearer(app.baseUrl, attendee.accessToken);
    expect((await viaLink.getJson(`/api/v1/meetings/${meetingId}`)).status).toBe(200);
    expect((await viaLink.json('PATCH', `/api/v1/meetings/${meetingId}`, { title: 'Bị sửa' })).status).toBe(403);
    expect((await viaLink.json('POST', `/api/v1/meetings/${meetingId}/status`, { action: 'cancel' })).status).toBe(403);
    expect((await viaLink.getJson(`/api/v1/meetings/${meetingId}/dashboard`)).status).toBe(403);
    const other = await createMeeting(app.organizer, newMeetingForm);
    expect((await viaLink.getJson(`/api/v1/meetings/${String(other._id)}`)).status).toBe(403);
  });
});
