// The attendee list through real HTTP: the organizer's import with a bad row, the table with
// search and inline edit, export, and what coordinator and attendee links may see and do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addProvinceDistricts } from '../../server/sites/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { createAttendee } from '../../server/attendees/actions.js';

let app: TestApp;
let organizer: HttpClient;
beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
});
afterAll(async () => {
  await app?.stop();
});

interface Conference {
  meetingId: string;
  sites: Array<{ id: string; name: string; token: string; isMain: boolean }>;
}

async function newConference(): Promise<Conference> {
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết hoạt động KH&CN năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00' });
  const meetingId = String(meeting._id);
  await addProvinceDistricts(app.organizer, { meetingId, provinceCode: '87' });
  const sites = (await SiteModel.find({ meetingId }).sort({ order: 1 }).lean()).map((site) => ({ id: String(site._id), name: site.name, token: site.coordinatorToken, isMain: site.isMain }));
  return { meetingId, sites };
}

function siteNamed(conference: Conference, name: string) {
  return conference.sites.find((site) => site.name === name)!;
}

const header = 'Họ và tên,Chức vụ,Đơn vị,Email,Điện thoại,Điểm cầu,Vai trò';

/** Text of an HTML page without tags, for asserting what the user reads. */
function visibleText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe("the organizer's import", () => {
  it('flags a CSV row with an unknown site by its row number, saves nothing, and commits once the row is fixed', async () => {
    const conference = await newConference();
    const base = `/meetings/${conference.meetingId}/attendees`;
    const csv = [header, 'Nguyễn Văn Hùng,Giám đốc,Sở Khoa học và Công nghệ,hung@example.vn,0913111222,Văn phòng UBND Tỉnh,Báo cáo viên', 'Lê Thị Hà,Phó Chủ tịch,UBND huyện Tân Hồng,ha@example.vn,,Huyện Tân Hông Ngự,Đại biểu', 'Trần Văn Đức,,UBND TP Sa Đéc,,,TP Sa Đéc,'].join('\r\n');

    const uploadPage = await organizer.get(`${base}/import`);
    expect(uploadPage.status).toBe(200);
    expect(uploadPage.text).toContain('enctype="multipart/form-data"');

    const uploaded = await organizer.upload(`${base}/import`, 'file', { name: 'Danh sách đại biểu.csv', type: 'text/csv', content: `\uFEFF${csv}` }, {}, { accept: 'text/html' });
    expect(uploaded.status).toBe(303);
    const previewUrl = uploaded.location!;
    const preview = await organizer.get(previewUrl);
    expect(preview.status).toBe(200);
    const text = visibleText(preview.text);
    expect(text).toContain('Xem trước: Danh sách đại biểu.csv');
    expect(text).toContain('3 dòng: 2 hợp lệ, 1 có lỗi.');
    expect(preview.text).toMatch(/<tr id="row-3" class="row-error"/);
    expect(text).toContain('Không có điểm cầu "Huyện Tân Hông Ngự" trong hội nghị này.');
    expect(await AttendeeModel.countDocuments({ meetingId: conference.meetingId })).toBe(0);

    const refused = await organizer.postForm(`${previewUrl}/commit`, {});
    expect(refused.status).toBe(422);
    expect(visibleText(refused.text)).toContain('Chưa lưu: còn 1 dòng có lỗi. Không có đại biểu nào được thêm.');
    expect(await AttendeeModel.countDocuments({ meetingId: conference.meetingId })).toBe(0);

    const fixed = await organizer.postForm(`${previewUrl}/rows/3`, { fullName: 'Lê Thị Hà', position: 'Phó Chủ tịch', organization: 'UBND huyện Tân Hồng', email: 'ha@example.vn', phone: '', site: 'Tân Hồng', role: 'Đại biểu' });
    expect(fixed.status).toBe(303);
    expect(visibleText((await organizer.get(previewUrl)).text)).toContain('3 dòng: 3 hợp lệ, 0 có lỗi.');

    const committed = await organizer.postForm(`${previewUrl}/commit`, {});
    expect(committed.status).toBe(303);
    expect(committed.location).toBe(base);
    const list = await organizer.get(base);
    const listText = visibleText(list.text);
    expect(listText).toContain('Đã thêm 3 đại biểu từ tệp.');
    expect(listText).toContain('3 đại biểu');
    expect(listText).toContain('Lê Thị Hà');
    expect(listText).toContain('Huyện Tân Hồng');
    // The draft is gone: committing twice adds nobody twice.
    expect((await organizer.postForm(`${previewUrl}/commit`, {})).status).toBe(404);
    expect(await AttendeeModel.countDocuments({ meetingId: conference.meetingId })).toBe(3);
  });

  it('previews CSV with and without BOM and an XLSX file through the API, diacritics intact', async () => {
    const conference = await newConference();
    const api = `/api/v1/meetings/${conference.meetingId}/attendees/import`;
    const csv = `${header}\nNguyễn Thị Ánh Tuyết,Phó Giám đốc,Sở Tài nguyên và Môi trường,tuyet@example.vn,,Huyện Lấp Vò,Chủ trì\n`;
    for (const content of [csv, `\uFEFF${csv}`]) {
      const response = await organizer.upload(api, 'file', { name: 'a.csv', type: 'text/csv', content });
      expect(response.status).toBe(201);
      expect(response.json.rows[0]).toMatchObject({ row: 2, ok: true, values: { fullName: 'Nguyễn Thị Ánh Tuyết', organization: 'Sở Tài nguyên và Môi trường' }, resolved: { siteName: 'Huyện Lấp Vò', role: 'chair' } });
    }
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Đại biểu');
    sheet.addRow(['Full name', 'Position', 'Organization', 'Email', 'Phone', 'Site', 'Role']);
    sheet.addRow(['Đoàn Văn Quý', 'Chánh Văn phòng', 'Sở Khoa học và Công nghệ', 'quy@example.vn', '0277 3851 234', '', 'Delegate']);
    const xlsx = await organizer.upload(api, 'file', { name: 'attendees.xlsx', type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', content: new Uint8Array(await workbook.xlsx.writeBuffer()) });
    expect(xlsx.status).toBe(201);
    expect(xlsx.json).toMatchObject({ total: 1, ok: 1, bad: 0 });
    expect(xlsx.json.rows[0].resolved.siteName).toBe('Văn phòng UBND Tỉnh');
    const commit = await organizer.json('POST', `${api}/${xlsx.json.draftId}/commit`);
    expect(commit.status).toBe(200);
    expect(commit.json.inserted).toBe(1);
  });

  it('flags duplicate emails within the file and against the list through the API', async () => {
    const conference = await newConference();
    await createAttendee(app.organizer, { meetingId: conference.meetingId, fullName: 'Võ Thị Sáu', email: 'sau@example.vn' });
    const csv = `${header}\nA Nguyễn,,,a@example.vn,,,\nB Trần,,,A@EXAMPLE.VN,,,\nC Lê,,,sau@example.vn,,,\n`;
    // An organizer who reads English (the language choice sticks to their browser).
    const english = await app.signInOrganizer();
    const response = await english.upload(`/api/v1/meetings/${conference.meetingId}/attendees/import?lang=en`, 'file', { name: 'dup.csv', type: 'text/csv', content: csv });
    expect(response.json.rows.map((row: { row: number; ok: boolean }) => [row.row, row.ok])).toEqual([
      [2, true],
      [3, false],
      [4, false],
    ]);
    const commit = await english.json('POST', `/api/v1/meetings/${conference.meetingId}/attendees/import/${response.json.draftId}/commit`);
    expect(commit.status).toBe(422);
    expect(commit.json.error.message).toBe('Not saved: 2 rows still have errors. No attendee was added.');
    expect(commit.json.preview.rows[1].messages).toEqual(['The email a@example.vn repeats row 2 of the file.']);
    expect(commit.json.preview.rows[2].messages).toEqual(['The email sau@example.vn is already on the attendee list (Võ Thị Sáu).']);
    expect(await AttendeeModel.countDocuments({ meetingId: conference.meetingId })).toBe(1);
  });

  it('rejects a file over 2 MB with 413, on the page and in the API', async () => {
    const conference = await newConference();
    const big = `${header}\n${'Nguyễn Văn Tư,,,,,,\n'.repeat(130_000)}`;
    const api = await organizer.upload(`/api/v1/meetings/${conference.meetingId}/attendees/import`, 'file', { name: 'big.csv', type: 'text/csv', content: big });
    expect(api.status).toBe(413);
    expect(api.json.error.message).toBe('Tệp quá lớn: tối đa 2 MB.');
    const page = await organizer.upload(`/meetings/${conference.meetingId}/attendees/import`, 'file', { name: 'big.csv', type: 'text/csv', content: big }, {}, { accept: 'text/html' });
    expect(page.status).toBe(413);
    expect(visibleText(page.text)).toContain('Tệp quá lớn: tối đa 2 MB.');
  });

  it('refuses a Windows-1258 file with advice to save as CSV UTF-8', async () => {
    const conference = await newConference();
    const legacy = Buffer.from([...Buffer.from('H\xd8 va\xf2 t\xean\n', 'latin1')]);
    const response = await organizer.upload(`/api/v1/meetings/${conference.meetingId}/attendees/import`, 'file', { name: 'cu.csv', type: 'text/csv', content: legacy });
    expect(response.status).toBe(400);
    expect(response.json.error.message).toContain('CSV UTF-8');
  });
});

describe('the table', () => {
  let conference: Conference;
  let hungId: string;
  beforeAll(async () => {
    conference = await newConference();
    hungId = (await createAttendee(app.organizer, { meetingId: conference.meetingId, fullName: 'Nguyễn Văn Hùng', organization: 'Sở Khoa học và Công nghệ', email: 'hung@example.vn' })).id;
    await createAttendee(app.organizer, { meetingId: conference.meetingId, fullName: 'Trần Thị Lan', organization: 'UBND TP Sa Đéc', email: 'lan@example.vn', siteId: siteNamed(conference, 'Thành phố Sa Đéc').id });
  });

  it('finds "Nguyễn Văn Hùng" when searching "nguyen van" without diacritics', async () => {
    const page = await organizer.get(`/meetings/${conference.meetingId}/attendees?q=nguyen%20van`);
    expect(page.status).toBe(200);
    const text = visibleText(page.text);
    expect(text).toContain('Nguyễn Văn Hùng');
    expect(text).not.toContain('Trần Thị Lan');
    expect(text).toContain('1 đại biểu');
    const api = await organizer.getJson(`/api/v1/meetings/${conference.meetingId}/attendees?q=tran%20thi`);
    expect(api.json).toMatchObject({ total: 1, page: 1, pageCount: 1 });
    expect(api.json.items[0].fullName).toBe('Trần Thị Lan');
  });

  it('saves an inline edit through PATCH with the CSRF header, and shows field errors in the user language', async () => {
    const url = `/api/v1/meetings/${conference.meetingId}/attendees/${hungId}`;
    const saved = await organizer.json('PATCH', url, { position: 'Giám đốc Sở' });
    expect(saved.status).toBe(200);
    expect(saved.json.position).toBe('Giám đốc Sở');
    const duplicate = await organizer.json('PATCH', url, { email: 'lan@example.vn' });
    expect(duplicate.status).toBe(422);
    expect(duplicate.json.error.fields).toEqual({ email: 'Không thể dùng địa chỉ email lan@example.vn cho đại biểu này. Vui lòng nhập địa chỉ khác.' });
    const englishReader = await app.signInOrganizer();
    const english = await englishReader.json('PATCH', `${url}?lang=en`, { email: 'nope' });
    expect(english.json.error.fields.email).toBe('This email address is not valid (e.g. name@example.vn).');
    const withoutToken = await organizer.request('PATCH', url, { body: JSON.stringify({ position: 'x' }), headers: { 'content-type': 'application/json', accept: 'application/json' } });
    expect(withoutToken.status).toBe(403);
  });

  it('adds an attendee with the form, and re-shows the form with messages when it is wrong', async () => {
    const base = `/meetings/${conference.meetingId}/attendees`;
    const wrong = await organizer.postForm(base, { fullName: '', email: 'hung@example.vn', siteId: siteNamed(conference, 'Huyện Tháp Mười').id, role: 'delegate' });
    expect(wrong.status).toBe(422);
    const text = visibleText(wrong.text);
    expect(text).toContain('Vui lòng nhập họ và tên.');
    expect(wrong.text).toContain('value="hung@example.vn"');
    const added = await organizer.postForm(base, { fullName: 'Đỗ Văn Toàn', email: 'toan@example.vn', siteId: siteNamed(conference, 'Huyện Tháp Mười').id, role: 'guest' });
    expect(added.status).toBe(303);
    expect(visibleText((await organizer.get(`${base}?role=guest`)).text)).toContain('Đỗ Văn Toàn');
  });

  it('exports CSV with BOM and the same filters, which imports into another meeting', async () => {
    const exported = await organizer.get(`/meetings/${conference.meetingId}/attendees/export?format=csv&q=nguyen`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toMatch(/^attachment; filename="?dai-bieu-\d{8}-\d{4}\.csv"?$/);
    // fetch's text() drops a BOM; the bytes show Excel gets one.
    const raw = await fetch(new URL(`/meetings/${conference.meetingId}/attendees/export?format=csv`, app.baseUrl), { headers: { cookie: organizer.cookieHeader() } });
    expect([...new Uint8Array(await raw.arrayBuffer()).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(exported.text.trim().split('\r\n')).toHaveLength(2);
    const other = await newConference();
    const reimported = await organizer.upload(`/api/v1/meetings/${other.meetingId}/attendees/import`, 'file', { name: 'export.csv', type: 'text/csv', content: exported.text });
    expect(reimported.json).toMatchObject({ total: 1, ok: 1 });
    expect(reimported.json.rows[0].values).toMatchObject({ fullName: 'Nguyễn Văn Hùng', position: 'Giám đốc Sở', email: 'hung@example.vn', site: 'Văn phòng UBND Tỉnh', role: 'Đại biểu' });
    const xlsx = await organizer.request('GET', `/api/v1/meetings/${conference.meetingId}/attendees/export?format=xlsx`);
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-type')).toContain('spreadsheetml');
  });
});

describe('links', () => {
  let conference: Conference;
  let lanId: string;
  let lanToken: string;
  let maiId: string;
  beforeAll(async () => {
    conference = await newConference();
    const lan = await createAttendee(app.organizer, { meetingId: conference.meetingId, fullName: 'Trần Thị Lan', email: 'lan@example.vn', phone: '0911000111', siteId: siteNamed(conference, 'Thành phố Sa Đéc').id });
    lanId = lan.id;
    lanToken = lan.accessToken!;
    maiId = (await createAttendee(app.organizer, { meetingId: conference.meetingId, fullName: 'Ngô Thị Mai', email: 'mai@example.vn', phone: '0922000222', siteId: siteNamed(conference, 'Huyện Tháp Mười').id })).id;
  });

  it("a coordinator link lists its own site's attendees and cannot list another site's", async () => {
    const saDec = siteNamed(conference, 'Thành phố Sa Đéc');
    const coordinator = new HttpClient(app.baseUrl);
    expect((await coordinator.openLink(`/s/${saDec.token}`)).status).toBe(303);
    const own = await coordinator.get(`/meetings/${conference.meetingId}/sites/${saDec.id}/attendees`);
    expect(own.status).toBe(200);
    expect(visibleText(own.text)).toContain('Trần Thị Lan');
    expect(visibleText(own.text)).not.toContain('Ngô Thị Mai');
    const thapMuoi = siteNamed(conference, 'Huyện Tháp Mười');
    expect((await coordinator.get(`/meetings/${conference.meetingId}/sites/${thapMuoi.id}/attendees`)).status).toBe(403);
    const api = await coordinator.getJson(`/api/v1/meetings/${conference.meetingId}/attendees?siteId=${thapMuoi.id}`);
    expect(api.status).toBe(403);
    const whole = await coordinator.getJson(`/api/v1/meetings/${conference.meetingId}/attendees`);
    expect(whole.json.items.map((item: { fullName: string }) => item.fullName)).toEqual(['Trần Thị Lan']);
    const other = await coordinator.getJson(`/api/v1/meetings/${conference.meetingId}/attendees/${maiId}`);
    expect(other.status).toBe(403);
    expect(other.text).not.toContain('0922000222');
    const bearer = HttpClient.withBearer(app.baseUrl, saDec.token);
    expect((await bearer.getJson(`/api/v1/meetings/${conference.meetingId}/attendees?siteId=${thapMuoi.id}`)).status).toBe(403);
  });

  it('an attendee link cannot edit others, and may correct its own phone number', async () => {
    const attendee = new HttpClient(app.baseUrl);
    const opened = await attendee.openLink(`/a/${lanToken}`);
    expect(opened.location).toBe('/my');
    const home = await attendee.get('/my');
    // The meeting's instant for machines (calendars, screen readers) is unambiguous: UTC.
    expect(home.text).toMatch(/<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z">/);
    const other = await attendee.json('PATCH', `/api/v1/meetings/${conference.meetingId}/attendees/${maiId}`, { phone: '0999999999' });
    expect(other.status).toBe(403);
    const ownName = await attendee.json('PATCH', `/api/v1/meetings/${conference.meetingId}/attendees/${lanId}`, { fullName: 'Ai đó' });
    expect(ownName.status).toBe(403);
    expect(ownName.json.error.message).toBe('Bạn chỉ được sửa số điện thoại của chính mình.');
    expect((await attendee.json('DELETE', `/api/v1/meetings/${conference.meetingId}/attendees/${maiId}`)).status).toBe(403);
    expect((await attendee.json('POST', `/api/v1/meetings/${conference.meetingId}/attendees`, { fullName: 'Người lạ' })).status).toBe(403);
    const bearer = HttpClient.withBearer(app.baseUrl, lanToken);
    expect((await bearer.json('PATCH', `/api/v1/meetings/${conference.meetingId}/attendees/${maiId}`, { phone: '0999999999' })).status).toBe(403);
    expect((await AttendeeModel.findById(maiId).lean())!.phone).toBe('0922000222');

    const phone = await attendee.postForm('/my/phone', { phone: '0911 000 999' });
    expect(phone.status).toBe(303);
    expect((await AttendeeModel.findById(lanId).lean())!.phone).toBe('0911 000 999');
    // The table is not for attendees: they are sent to their own page.
    expect((await attendee.get(`/meetings/${conference.meetingId}/attendees`)).location).toBe('/my');
  });

  it('the personal page shows the name, bridge point with address and the meeting time in its zone', async () => {
    await SiteModel.updateOne({ _id: siteNamed(conference, 'Thành phố Sa Đéc').id }, { $set: { address: '1 Hùng Vương, Phường 1, TP Sa Đéc' } });
    const attendee = new HttpClient(app.baseUrl);
    await attendee.openLink(`/a/${lanToken}`);
    const page = await attendee.get('/my');
    expect(page.status).toBe(200);
    const text = visibleText(page.text);
    expect(text).toContain('Kính chào Trần Thị Lan');
    expect(text).toContain('Thành phố Sa Đéc');
    expect(text).toContain('1 Hùng Vương, Phường 1, TP Sa Đéc');
    expect(text).toContain('14:00');
    expect(text).toContain('29/12/2021');
    expect(text).toContain('Asia/Ho_Chi_Minh');
    expect(page.text).toMatch(/href="\/p\/[\w-]+"/);
    const english = await attendee.get('/my?lang=en');
    expect(visibleText(english.text)).toContain('Welcome, Trần Thị Lan');
  });
});
