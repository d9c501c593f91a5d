// The sites page, the coordinator's link and home, and the sites JSON API, through real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';

let app: TestApp;
let organizer: HttpClient;

beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
});
afterAll(async () => {
  await app?.stop();
});

async function newMeeting(): Promise<string> {
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00', status: 'scheduled' });
  return String(meeting._id);
}

const districtNames = ['Thành phố Cao Lãnh', 'Thành phố Sa Đéc', 'Thành phố Hồng Ngự', 'Huyện Tân Hồng', 'Huyện Hồng Ngự', 'Huyện Tam Nông', 'Huyện Thanh Bình', 'Huyện Tháp Mười', 'Huyện Cao Lãnh', 'Huyện Lấp Vò', 'Huyện Lai Vung', 'Huyện Châu Thành'];

describe('the sites page', () => {
  it('adds the districts of Đồng Tháp in one click, with the main site first', async () => {
    const meetingId = await newMeeting();
    const empty = await organizer.get(`/meetings/${meetingId}/sites`);
    expect(empty.status).toBe(200);
    expect(empty.text).toContain('Chưa có điểm cầu nào');
    expect(empty.text).toContain('<option value="87">Đồng Tháp (12)</option>');

    const clicked = await organizer.postForm(`/meetings/${meetingId}/sites/add-districts`, { provinceCode: '87' });
    expect(clicked.status).toBe(303);
    const page = await organizer.get(`/meetings/${meetingId}/sites`);
    expect(page.text).toContain('Đã thêm 13 điểm cầu.');
    const names = [...page.text.matchAll(/<strong class="site-name">([^<]+)<\/strong>/g)].map((match) => match[1]);
    expect(names).toEqual(['Văn phòng UBND Tỉnh', ...districtNames]);
    expect(page.text).toMatch(/Văn phòng UBND Tỉnh<\/strong> <span class="badge badge-main">Điểm cầu chính<\/span>/);
    expect(page.text).toMatch(/value="http:\/\/127\.0\.0\.1:\d+\/s\/[\w-]+"/);

    await organizer.postForm(`/meetings/${meetingId}/sites/add-districts`, { provinceCode: '87' });
    expect((await organizer.get(`/meetings/${meetingId}/sites`)).text).toContain('Các huyện, thành phố của tỉnh đã có đủ trong danh sách.');
    expect(await SiteModel.countDocuments({ meetingId })).toBe(13);
  });

  it('adds a site with a form that shows mistakes next to the fields', async () => {
    const meetingId = await newMeeting();
    const bad = await organizer.postForm(`/meetings/${meetingId}/sites`, { name: '', address: 'Số 1 đường 30/4', 'videoLink.url': 'meet.example.vn', expectedHeadcount: 'nhiều' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Vui lòng nhập tên điểm cầu.');
    expect(bad.text).toContain('Đường dẫn phải bắt đầu bằng http:// hoặc https://.');
    expect(bad.text).toContain('Số người dự kiến phải là số nguyên từ 0 đến 100000.');
    expect(bad.text).toContain('value="Số 1 đường 30/4"');

    const good = await organizer.postForm(`/meetings/${meetingId}/sites`, { name: 'Hội trường Sở KH&CN', isMain: 'on', expectedHeadcount: '60', 'videoLink.url': 'https://meet.example.vn/so-khcn', 'videoLink.passcode': '1234' });
    expect(good.status).toBe(303);
    const site = await SiteModel.findOne({ meetingId, name: 'Hội trường Sở KH&CN' }).lean();
    expect(site).toMatchObject({ isMain: true, expectedHeadcount: 60, videoLink: { url: 'https://meet.example.vn/so-khcn', passcode: '1234' } });
  });

  it('sets the main site, moves sites, and refuses to remove a site with attendees', async () => {
    const meetingId = await newMeeting();
    await organizer.postForm(`/meetings/${meetingId}/sites/add-districts`, { provinceCode: '87' });
    const saDec = (await SiteModel.findOne({ meetingId, name: 'Thành phố Sa Đéc' }).lean())!;
    await organizer.postForm(`/meetings/${meetingId}/sites/${String(saDec._id)}/main`, {});
    expect((await SiteModel.find({ meetingId, isMain: true }).lean()).map((site) => site.name)).toEqual(['Thành phố Sa Đéc']);

    await organizer.postForm(`/meetings/${meetingId}/sites/${String(saDec._id)}/move`, { direction: 'up' });
    const names = (await organizer.getJson(`/api/v1/meetings/${meetingId}/sites`)).json.map((site: { name: string }) => site.name);
    expect(names.slice(0, 3)).toEqual(['Văn phòng UBND Tỉnh', 'Thành phố Sa Đéc', 'Thành phố Cao Lãnh']);

    await AttendeeModel.create({ meetingId, fullName: 'Nguyễn Văn Sa', siteId: saDec._id });
    const tamNong = (await SiteModel.findOne({ meetingId, name: 'Huyện Tam Nông' }).lean())!;
    await AttendeeModel.create({ meetingId, fullName: 'Võ Thị Nông', siteId: tamNong._id });
    const refused = await organizer.postForm(`/meetings/${meetingId}/sites/${String(tamNong._id)}/delete`, {});
    expect(refused.status).toBe(303);
    expect((await organizer.get(`/meetings/${meetingId}/sites`)).text).toContain('Điểm cầu “Huyện Tam Nông” còn 1 đại biểu.');
    const lapVo = (await SiteModel.findOne({ meetingId, name: 'Huyện Lấp Vò' }).lean())!;
    await organizer.postForm(`/meetings/${meetingId}/sites/${String(tamNong._id)}/delete`, { reassignTo: String(lapVo._id) });
    expect(await SiteModel.countDocuments({ _id: tamNong._id })).toBe(0);
    expect(await AttendeeModel.countDocuments({ siteId: lapVo._id })).toBe(1);
  });

  it('edits a site and rotates its coordinator link', async () => {
    const meetingId = await newMeeting();
    await organizer.postForm(`/meetings/${meetingId}/sites/add-districts`, { provinceCode: '87' });
    const site = (await SiteModel.findOne({ meetingId, name: 'Huyện Tháp Mười' }).lean())!;
    const form = await organizer.get(`/meetings/${meetingId}/sites/${String(site._id)}/edit`);
    expect(form.text).toContain('value="Huyện Tháp Mười"');
    await organizer.postForm(`/meetings/${meetingId}/sites/${String(site._id)}/edit`, { name: 'Huyện Tháp Mười', address: 'Thị trấn Mỹ An', coordinatorName: 'Đặng Văn Mười', coordinatorPhone: '0277 3821 111', expectedHeadcount: '25', 'videoLink.url': '', 'videoLink.passcode': '' });
    expect(await SiteModel.findById(site._id).lean()).toMatchObject({ address: 'Thị trấn Mỹ An', coordinatorName: 'Đặng Văn Mười', expectedHeadcount: 25 });
    await organizer.postForm(`/meetings/${meetingId}/sites/${String(site._id)}/rotate-link`, {});
    expect((await SiteModel.findById(site._id).lean())!.coordinatorToken).not.toBe(site.coordinatorToken);
  });
});

describe('a district coordinator through the site link', () => {
  async function conferenceWithSecrets() {
    const meetingId = await newMeeting();
    await organizer.json('POST', `/api/v1/meetings/${meetingId}/sites/add-districts`, { provinceCode: '87' });
    const caoLanh = (await SiteModel.findOne({ meetingId, name: 'Thành phố Cao Lãnh' }).lean())!;
    const saDec = (await SiteModel.findOne({ meetingId, name: 'Thành phố Sa Đéc' }).lean())!;
    await organizer.json('PATCH', `/api/v1/meetings/${meetingId}/sites/${String(caoLanh._id)}`, { coordinatorPhone: '0277 3851 111', videoLink: { url: 'https://meet.example.vn/caolanh', passcode: 'caolanh-pass' } });
    await organizer.json('PATCH', `/api/v1/meetings/${meetingId}/sites/${String(saDec._id)}`, { coordinatorPhone: '0277 3861 222', videoLink: { passcode: 'sadec-pass' } });
    return { meetingId, caoLanh, saDec };
  }

  it('opens /my/site with their own site’s video link and passcode', async () => {
    const { caoLanh } = await conferenceWithSecrets();
    const coordinator = app.newClient();
    const opened = await coordinator.openLink(`/s/${caoLanh.coordinatorToken}`);
    expect(opened.location).toBe('/my/site');
    const home = await coordinator.get('/my/site');
    expect(home.status).toBe(200);
    expect(home.text).toContain('Thành phố Cao Lãnh');
    expect(home.text).toContain('caolanh-pass');
    expect(home.text).toContain('https://meet.example.vn/caolanh');
    expect(home.text).not.toContain('sadec-pass');

    const saved = await coordinator.postForm('/my/site', { coordinatorName: 'Phạm Thị Hoa', coordinatorPhone: '0907 123 456', 'videoLink.url': 'https://meet.example.vn/caolanh-2', 'videoLink.passcode': 'moi' });
    expect(saved.status).toBe(303);
    expect((await coordinator.get('/my/site')).text).toContain('Đã lưu thông tin điểm cầu.');
    expect(await SiteModel.findById(caoLanh._id).lean()).toMatchObject({ coordinatorName: 'Phạm Thị Hoa', videoLink: { passcode: 'moi' } });
  });

  it('cannot see another site’s passcode or phone, nor change another site, nor the organizer pages', async () => {
    const { meetingId, caoLanh, saDec } = await conferenceWithSecrets();
    const coordinator = HttpClient.withBearer(app.baseUrl, caoLanh.coordinatorToken);
    const other = await coordinator.getJson(`/api/v1/meetings/${meetingId}/sites/${String(saDec._id)}`);
    expect(other.status).toBe(200);
    expect(other.json).toEqual({ id: String(saDec._id), meetingId, name: 'Thành phố Sa Đéc', address: saDec.address, isMain: false, order: saDec.order });
    const all = await coordinator.getJson(`/api/v1/meetings/${meetingId}/sites`);
    expect(all.text).not.toContain('sadec-pass');
    expect(all.text).not.toContain('0277 3861 222');
    expect(all.text).toContain('caolanh-pass');

    expect((await coordinator.json('PATCH', `/api/v1/meetings/${meetingId}/sites/${String(saDec._id)}`, { coordinatorPhone: '0900 000 000' })).status).toBe(403);
    const rename = await coordinator.json('PATCH', `/api/v1/meetings/${meetingId}/sites/${String(caoLanh._id)}`, { name: 'Cao Lãnh mới' });
    expect(rename.status).toBe(403);
    expect(rename.json.error.message).toBe('Người điều phối chỉ được sửa thông tin liên hệ và kết nối trực tuyến của điểm cầu mình.');
    const own = await coordinator.json('PATCH', '/api/v1/my/site', { coordinatorPhone: '0277 3851 999' });
    expect(own.status).toBe(200);
    expect(own.json.coordinatorPhone).toBe('0277 3851 999');
    expect((await coordinator.json('POST', `/api/v1/meetings/${meetingId}/sites/${String(caoLanh._id)}/main`)).status).toBe(403);
    expect((await coordinator.get(`/meetings/${meetingId}/sites`)).status).toBe(403);
  });

  it('a rotated link no longer opens the site', async () => {
    const { meetingId, caoLanh } = await conferenceWithSecrets();
    const coordinator = app.newClient();
    await coordinator.openLink(`/s/${caoLanh.coordinatorToken}`);
    await organizer.json('POST', `/api/v1/meetings/${meetingId}/sites/${String(caoLanh._id)}/rotate-link`);
    expect((await coordinator.get('/my/site')).status).not.toBe(200);
  });
});

describe('an attendee link', () => {
  it('sees public site information only and cannot edit sites', async () => {
    const meetingId = await newMeeting();
    await organizer.json('POST', `/api/v1/meetings/${meetingId}/sites/add-districts`, { provinceCode: '87' });
    const site = (await SiteModel.findOne({ meetingId, name: 'Huyện Lai Vung' }).lean())!;
    await organizer.json('PATCH', `/api/v1/meetings/${meetingId}/sites/${String(site._id)}`, { coordinatorPhone: '0277 3000 000', videoLink: { passcode: 'laivung-pass' } });
    const attendee = await AttendeeModel.create({ meetingId, fullName: 'Ngô Thị Vung', siteId: site._id });
    const viaLink = HttpClient.withBearer(app.baseUrl, attendee.accessToken);
    const sites = await viaLink.getJson(`/api/v1/meetings/${meetingId}/sites`);
    expect(sites.status).toBe(200);
    expect(sites.json).toHaveLength(13);
    expect(sites.text).not.toContain('laivung-pass');
    expect(sites.text).not.toContain('0277 3000 000');
    expect((await viaLink.json('PATCH', `/api/v1/meetings/${meetingId}/sites/${String(site._id)}`, { coordinatorPhone: '0900000000' })).status).toBe(403);
    expect((await viaLink.json('POST', `/api/v1/meetings/${meetingId}/sites`, { name: 'Điểm cầu lạ' })).status).toBe(403);
    expect((await viaLink.json('DELETE', `/api/v1/meetings/${meetingId}/sites/${String(site._id)}`)).status).toBe(403);
  });
});

describe('the chair', () => {
  it('reads the sites page with every site’s details, without forms or coordinator links', async () => {
    const meetingId = await newMeeting();
    await organizer.json('POST', `/api/v1/meetings/${meetingId}/sites/add-districts`, { provinceCode: '87' });
    const main = (await SiteModel.findOne({ meetingId, isMain: true }).lean())!;
    await organizer.json('PATCH', `/api/v1/meetings/${meetingId}/sites/${String(main._id)}`, { coordinatorPhone: '0277 3851 000' });
    const chair = await AttendeeModel.create({ meetingId, fullName: 'Huỳnh Minh Tuấn', position: 'Phó Chủ tịch UBND Tỉnh', role: 'chair', siteId: main._id });
    const viaLink = HttpClient.withBearer(app.baseUrl, chair.accessToken);
    const page = await viaLink.get(`/meetings/${meetingId}/sites`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Huyện Châu Thành');
    expect(page.text).toContain('0277 3851 000');
    expect(page.text).not.toContain('/s/');
    expect(page.text).not.toContain(`action="/meetings/${meetingId}/sites`);
    expect((await viaLink.getJson(`/api/v1/meetings/${meetingId}/dashboard`)).status).toBe(200);
  });
});

describe('sites JSON API', () => {
  it('adds, reorders, switches the main site and removes; mistakes come back per field', async () => {
    const meetingId = await newMeeting();
    const invalid = await organizer.json('POST', `/api/v1/meetings/${meetingId}/sites?lang=en`, { name: '', coordinatorPhone: 'abc' });
    expect(invalid.status).toBe(422);
    expect(invalid.json.error.fields).toEqual({ name: 'Please enter the bridge point name.', coordinatorPhone: 'The phone number is not valid.' });
    await organizer.get('/meetings?lang=vi');

    const main = await organizer.json('POST', `/api/v1/meetings/${meetingId}/sites`, { name: 'Văn phòng UBND Tỉnh', isMain: true });
    expect(main.status).toBe(201);
    expect(main.json).toMatchObject({ name: 'Văn phòng UBND Tỉnh', isMain: true, coordinatorLink: expect.stringMatching(/^\/s\//) });
    const districts = await organizer.json('POST', `/api/v1/meetings/${meetingId}/sites/add-districts`, { provinceCode: '87' });
    expect(districts.status).toBe(201);
    expect(districts.json.created).toHaveLength(12);
    expect(districts.json.mainSiteId).toBeNull();

    const sites = (await organizer.getJson(`/api/v1/meetings/${meetingId}/sites`)).json as Array<{ id: string; name: string }>;
    const reversed = sites.map((site) => site.id).reverse();
    const reordered = await organizer.json('PUT', `/api/v1/meetings/${meetingId}/sites/order`, { siteIds: reversed });
    expect(reordered.json.map((site: { id: string }) => site.id)).toEqual(reversed);
    const partial = await organizer.json('PUT', `/api/v1/meetings/${meetingId}/sites/order`, { siteIds: reversed.slice(1) });
    expect(partial.status).toBe(422);

    const switched = await organizer.json('POST', `/api/v1/meetings/${meetingId}/sites/${reversed[0]}/main`);
    expect(switched.json.isMain).toBe(true);
    expect(await SiteModel.countDocuments({ meetingId, isMain: true })).toBe(1);

    const removed = await organizer.json('DELETE', `/api/v1/meetings/${meetingId}/sites/${reversed[1]}`);
    expect(removed.status).toBe(200);
    expect((await organizer.getJson(`/api/v1/meetings/${meetingId}/sites/${reversed[1]}`)).status).toBe(404);
    const provinces = await organizer.getJson('/api/v1/provinces');
    expect(provinces.json[0]).toMatchObject({ code: '87', name: 'Đồng Tháp' });
  });
});
