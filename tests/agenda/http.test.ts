import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createMeeting, setMeetingStatus } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { addAgendaItem } from '../../server/agenda/actions.js';

let app: TestApp;
let organizer: HttpClient;

beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
});
afterAll(() => app.stop());

/** The Đồng Tháp review conference, 14:00–17:00, with a main site whose coordinator details are private. */
async function conference(title = 'Hội nghị Tổng kết hoạt động KH&CN năm 2021') {
  const meeting = await createMeeting(app.organizer, {
    title,
    organizingUnit: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp',
    start: '2021-12-29T14:00',
    end: '2021-12-29T17:00',
    status: 'scheduled',
  });
  const meetingId = String(meeting._id);
  const main = await addSite(app.organizer, {
    meetingId,
    name: 'Văn phòng UBND Tỉnh',
    address: '12 Đường 30/4, Phường 1, TP Cao Lãnh',
    isMain: true,
    coordinatorName: 'Nguyễn Văn Điều Phối',
    coordinatorPhone: '0913 555 777',
    videoLink: { platform: 'Zoom', url: 'https://zoom.example.vn/j/999', roomId: '999 888 777', passcode: 'MAT-KHAU-BI-MAT' },
  });
  await addSite(app.organizer, { meetingId, name: 'Huyện Tháp Mười', address: 'UBND huyện Tháp Mười', coordinatorPhone: '0988 111 222', videoLink: { passcode: 'PASS-THAP-MUOI' } });
  const director = await createAttendee(app.organizer, {
    meetingId,
    siteId: String(main._id),
    fullName: 'Trần Thanh Liêm',
    position: 'Giám đốc Sở KH&CN',
    email: 'lien.tran@example.vn',
    phone: '0909 123 456',
    role: 'speaker',
  });
  return { meetingId, publicId: meeting.publicId, director, mainSiteId: String(main._id) };
}

const times = (agenda: { items: Array<{ title: string; startsAt: string }> }) =>
  agenda.items.map((item) => `${new Date(item.startsAt).toISOString().slice(11, 16)} ${item.title}`);

describe('the agenda JSON API', () => {
  it('lets the organizer add, retime, reorder and remove items, answering with computed times', async () => {
    const { meetingId, director } = await conference();
    const base = `/api/v1/meetings/${meetingId}/agenda`;

    const opening = await organizer.json('POST', `${base}/items`, { title: 'Khai mạc', kind: 'opening', plannedMinutes: 10 });
    expect(opening.status).toBe(201);
    const report = await organizer.json('POST', `${base}/items`, { title: 'Báo cáo', kind: 'report', plannedMinutes: 30, speakers: [{ attendeeId: director.id }] });
    const closing = await organizer.json('POST', `${base}/items`, { title: 'Bế mạc', kind: 'closing', plannedMinutes: 10 });
    expect(report.json.item.speakers).toEqual([{ attendeeId: director.id, name: 'Trần Thanh Liêm', position: 'Giám đốc Sở KH&CN' }]);
    // 14:00 in Ho Chi Minh City is 07:00 UTC.
    expect(times(closing.json.agenda)).toEqual(['07:00 Khai mạc', '07:10 Báo cáo', '07:40 Bế mạc']);

    const longer = await organizer.json('PATCH', `${base}/items/${report.json.item.id}`, { plannedMinutes: 45 });
    expect(longer.status).toBe(200);
    expect(times(longer.json.agenda)).toEqual(['07:00 Khai mạc', '07:10 Báo cáo', '07:55 Bế mạc']);

    const reordered = await organizer.json('PUT', `${base}/order`, { orderedIds: [report.json.item.id, opening.json.item.id, closing.json.item.id] });
    expect(times(reordered.json.agenda)).toEqual(['07:00 Báo cáo', '07:45 Khai mạc', '07:55 Bế mạc']);

    const removed = await organizer.json('DELETE', `${base}/items/${opening.json.item.id}`);
    expect(times(removed.json.agenda)).toEqual(['07:00 Báo cáo', '07:45 Bế mạc']);

    const listed = await organizer.getJson(base);
    expect(listed.status).toBe(200);
    expect(listed.json).toMatchObject({ totalMinutes: 55, overruns: false, meeting: { timeZone: 'Asia/Ho_Chi_Minh' } });
  });

  it('answers bad input with field messages in the asker language and a foreign reorder with 422', async () => {
    const { meetingId } = await conference();
    const base = `/api/v1/meetings/${meetingId}/agenda`;
    const bad = await organizer.json('POST', `${base}/items`, { title: '', plannedMinutes: 'abc' });
    expect(bad.status).toBe(422);
    expect(bad.json.error.fields).toMatchObject({ title: 'Vui lòng nhập tên mục.', plannedMinutes: 'Thời lượng phải là số phút nguyên từ 0 đến 1440.' });

    await organizer.get('/meetings?lang=en');
    const english = await organizer.json('POST', `${base}/items`, { title: 'Report', plannedMinutes: 2000 });
    expect(english.json.error.fields.plannedMinutes).toBe('The duration must be a whole number of minutes from 0 to 1440.');
    await organizer.get('/meetings?lang=vi');

    const other = await conference('Hội nghị khác');
    const foreignSpeaker = await organizer.json('POST', `${base}/items`, { title: 'Báo cáo', plannedMinutes: 30, speakers: [{ attendeeId: other.director.id }] });
    expect(foreignSpeaker.status).toBe(422);
    expect(foreignSpeaker.json.error.fields).toEqual({ 'speakers.0.attendeeId': 'Đại biểu này không thuộc hội nghị.' });

    const item = await organizer.json('POST', `${base}/items`, { title: 'Báo cáo', plannedMinutes: 30 });
    const foreign = await organizer.json('PUT', `${base}/order`, { orderedIds: [item.json.item.id, '0123456789abcdef01234567'] });
    expect(foreign.status).toBe(422);
    expect(foreign.json.error.code).toBe('invalid');
    expect((await organizer.getJson(base)).json.items.map((entry: { title: string }) => entry.title)).toEqual(['Báo cáo']);
  });

  it('refuses a JSON change without the CSRF token', async () => {
    const { meetingId } = await conference();
    const response = await organizer.request('POST', `/api/v1/meetings/${meetingId}/agenda/items`, {
      body: JSON.stringify({ title: 'Không có token', plannedMinutes: 5 }),
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
    expect(response.status).toBe(403);
  });

  it('finds speakers among the meeting attendees without diacritics, up to 20', async () => {
    const { meetingId } = await conference();
    const other = await conference('Hội nghị khác');
    expect(other.meetingId).not.toBe(meetingId);
    const found = await organizer.getJson(`/api/v1/meetings/${meetingId}/agenda/speaker-options?q=tran thanh`);
    expect(found.status).toBe(200);
    expect(found.json.items).toHaveLength(1);
    expect(found.json.items[0]).toMatchObject({ name: 'Trần Thanh Liêm', position: 'Giám đốc Sở KH&CN' });
    expect(JSON.stringify(found.json)).not.toContain('0909 123 456');
  });
});

describe('an attendee personal link', () => {
  it('reads the agenda but cannot change it, by bearer token or by session', async () => {
    const { meetingId, director } = await conference();
    const { item } = await addAgendaItem(app.organizer, { meetingId, title: 'Báo cáo', plannedMinutes: 30 });
    const base = `/api/v1/meetings/${meetingId}/agenda`;

    const bearer = HttpClient.withBearer(app.baseUrl, director.accessToken!);
    expect((await bearer.getJson(base)).status).toBe(200);
    expect((await bearer.json('POST', `${base}/items`, { title: 'Chen ngang', plannedMinutes: 5 })).status).toBe(403);
    expect((await bearer.json('PATCH', `${base}/items/${item!.id}`, { plannedMinutes: 5 })).status).toBe(403);
    expect((await bearer.json('PUT', `${base}/order`, { orderedIds: [item!.id] })).status).toBe(403);
    expect((await bearer.json('DELETE', `${base}/items/${item!.id}`)).status).toBe(403);
    expect((await bearer.getJson(`${base}/speaker-options?q=a`)).status).toBe(403);

    const browser = new HttpClient(app.baseUrl);
    await browser.openLink(`/a/${director.accessToken}`);
    const page = await browser.get(`/meetings/${meetingId}/agenda`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Bạn chỉ có quyền xem chương trình.');
    expect(page.text).not.toContain('action="/meetings/' + meetingId + '/agenda/items"');
    const form = await browser.postForm(`/meetings/${meetingId}/agenda/items`, { title: 'Chen ngang', plannedMinutes: 5 });
    expect(form.status).toBe(403);
    expect((await browser.get(`/meetings/${meetingId}/agenda/items/${item!.id}/edit`)).status).toBe(403);
    expect((await app.newClient().getJson(base)).status).toBe(401);
    expect((await organizer.getJson(base)).json.items).toHaveLength(1);
  });
});

describe('the agenda editor page without JavaScript', () => {
  it('adds, retimes, moves and edits items with plain forms', async () => {
    const { meetingId, director } = await conference();
    const page = `/meetings/${meetingId}/agenda`;

    const invalid = await organizer.postForm(`${page}/items`, { title: '', kind: 'report', plannedMinutes: '15', speakersText: '' });
    expect(invalid.status).toBe(422);
    expect(invalid.text).toContain('Vui lòng nhập tên mục.');

    for (const [title, minutes] of [['Khai mạc', '10'], ['Báo cáo', '30'], ['Bế mạc', '10']]) {
      const added = await organizer.postForm(`${page}/items`, { title, kind: 'report', plannedMinutes: minutes, speakersText: 'Nguyễn Văn A - Phó Giám đốc Sở, Trưởng ban' });
      expect(added.status).toBe(303);
    }
    let agenda = (await organizer.getJson(`/api/v1${page}`)).json;
    expect(agenda.items[0].speakers).toEqual([{ name: 'Nguyễn Văn A', position: 'Phó Giám đốc Sở, Trưởng ban' }]);
    const [opening, report, closing] = agenda.items.map((item: { id: string }) => item.id);

    const retimed = await organizer.postForm(`${page}/items/${opening}`, { inline: '1', plannedMinutes: '20' });
    expect(retimed.status).toBe(303);
    const html = (await organizer.get(page)).text;
    expect(html).toMatch(/data-start>14:20<\/span>[\s\S]*Báo cáo/);
    expect(html).toMatch(/data-start>14:50<\/span>/);

    const badInline = await organizer.postForm(`${page}/items/${opening}`, { inline: '1', plannedMinutes: '-3' });
    expect(badInline.status).toBe(422);
    expect(badInline.text).toContain('Thời lượng phải là số phút nguyên từ 0 đến 1440.');

    expect((await organizer.postForm(`${page}/items/${closing}/move`, { direction: 'up' })).status).toBe(303);
    agenda = (await organizer.getJson(`/api/v1${page}`)).json;
    expect(agenda.items.map((item: { id: string }) => item.id)).toEqual([opening, closing, report]);

    const editPage = await organizer.get(`${page}/items/${report}/edit`);
    expect(editPage.status).toBe(200);
    expect(editPage.text).toContain('Nguyễn Văn A - Phó Giám đốc Sở, Trưởng ban');
    const edited = await organizer.postForm(`${page}/items/${report}`, {
      title: 'Báo cáo kết quả năm 2021',
      kind: 'report',
      plannedMinutes: '40',
      notes: '',
      speakersPresent: '1',
      speakerAttendeeIds: [director.id],
      speakersText: '',
    });
    expect(edited.status).toBe(303);
    agenda = (await organizer.getJson(`/api/v1${page}`)).json;
    expect(agenda.items[2]).toMatchObject({ title: 'Báo cáo kết quả năm 2021', plannedMinutes: 40, speakers: [{ attendeeId: director.id, name: 'Trần Thanh Liêm' }] });

    expect((await organizer.postForm(`${page}/items/${closing}/delete`, {})).status).toBe(303);
    agenda = (await organizer.getJson(`/api/v1${page}`)).json;
    expect(agenda.items.map((item: { title: string }) => item.title)).toEqual(['Khai mạc', 'Báo cáo kết quả năm 2021']);
  });

  it('keeps multi-line notes exactly as written when the edit form is saved again', async () => {
    const { meetingId } = await conference();
    const notes = '- Rà soát lại những hạn chế.\n- Tăng cường các hoạt động sở hữu trí tuệ.';
    const { item } = await addAgendaItem(app.organizer, { meetingId, title: 'Kết luận', kind: 'directives', plannedMinutes: 30, notes });
    const form = (await organizer.get(`/meetings/${meetingId}/agenda/items/${item!.id}/edit`)).text;
    const shown = /<textarea id="field-notes"[^>]*>([\s\S]*?)<\/textarea>/.exec(form)![1];
    expect(shown).toBe(notes);
    await organizer.postForm(`/meetings/${meetingId}/agenda/items/${item!.id}`, { title: 'Kết luận', kind: 'directives', plannedMinutes: '30', notes: shown, speakersPresent: '1', speakersText: '' });
    expect((await organizer.getJson(`/api/v1/meetings/${meetingId}/agenda`)).json.items[0].notes).toBe(notes);
  });

  it('shows the overrun warning when the agenda is longer than the meeting', async () => {
    const { meetingId } = await conference();
    await addAgendaItem(app.organizer, { meetingId, title: 'Thảo luận kéo dài', plannedMinutes: 200 });
    const html = (await organizer.get(`/meetings/${meetingId}/agenda`)).text;
    expect(html).toContain('Chương trình vượt quá giờ kết thúc của hội nghị 20 phút.');
  });
});

describe('the public meeting page', () => {
  it('shows the meeting, agenda and bridge points to anyone, without phones, passcodes or links', async () => {
    const { meetingId, publicId, director } = await conference();
    await addAgendaItem(app.organizer, { meetingId, title: 'Khai mạc', kind: 'opening', plannedMinutes: 10 });
    await addAgendaItem(app.organizer, { meetingId, title: 'Báo cáo kết quả năm 2021', plannedMinutes: 30, notes: 'Ghi chú nội bộ', speakers: [{ attendeeId: director.id }] });

    const visitor = app.newClient();
    const page = await visitor.get(`/p/${publicId}`);
    expect(page.status).toBe(200);
    for (const shown of ['Hội nghị Tổng kết hoạt động KH&amp;CN năm 2021', 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp', 'Asia/Ho_Chi_Minh', 'UTC+07:00', '14:10', 'Trần Thanh Liêm', 'Giám đốc Sở KH&amp;CN', 'Văn phòng UBND Tỉnh', '12 Đường 30/4', 'Huyện Tháp Mười', 'Đã lên lịch']) {
      expect(page.text).toContain(shown);
    }
    const api = await visitor.getJson(`/api/v1/public/${publicId}`);
    expect(api.status).toBe(200);
    expect(api.json.sites).toHaveLength(2);
    for (const secret of ['0913 555 777', '0988 111 222', 'MAT-KHAU-BI-MAT', 'PASS-THAP-MUOI', 'zoom.example.vn', '999 888 777', 'Nguyễn Văn Điều Phối', '0909 123 456', 'lien.tran@example.vn', 'Ghi chú nội bộ', director.accessToken!]) {
      expect(page.text).not.toContain(secret);
      expect(api.text).not.toContain(secret);
    }
  });

  it('announces a cancelled meeting prominently, in English too', async () => {
    const { meetingId, publicId } = await conference();
    await setMeetingStatus(app.organizer, { meetingId, action: 'cancel' });
    const visitor = app.newClient();
    expect((await visitor.get(`/p/${publicId}`)).text).toContain('Hội nghị này đã bị hủy.');
    expect((await visitor.get(`/p/${publicId}?lang=en`)).text).toContain('This meeting has been cancelled.');
  });

  it('answers an unknown link with a friendly 404 page', async () => {
    const visitor = app.newClient();
    const page = await visitor.get('/p/khong-co-hoi-nghi-nay');
    expect(page.status).toBe(404);
    expect(page.text).toContain('Không tìm thấy hội nghị');
    expect(page.text).toContain('Vui lòng kiểm tra lại đường dẫn trong thư mời.');
    expect((await visitor.getJson('/api/v1/public/khong-co-hoi-nghi-nay')).status).toBe(404);
  });
});
