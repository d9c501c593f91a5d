// The summary article: a draft in the seed's style made from the meeting's data (chair, reports,
// bridge points, attendance, directives), in Vietnamese or English by the page; saved in
// versions with conflicts on a stale one; published on the meeting's public page and as an HTML
// snippet, both escaping what the organizer wrote; taken down again. Only organizers of the
// meeting's unit touch it; bad input changes nothing. Real HTTP, real store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { testUnit } from '../helpers/database.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { addUnit } from '../../server/units/actions.js';
import { inviteAccount } from '../../server/accounts/actions.js';
import { addAgendaItem } from '../../server/agenda/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { checkIn } from '../../server/attendance/actions.js';
import { addDirective } from '../../server/followup/actions.js';
import { SummaryArticleModel, SummaryVersionModel } from '../../server/summary/model.js';
import { AuditEntryModel } from '../../server/audit/model.js';
import { MeetingModel } from '../../server/meetings/model.js';

let app: TestApp;
let organizer: HttpClient;
let otherUnit: HttpClient;

beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
  const unit = await addUnit(app.organizer, { name: 'Sở Giáo dục và Đào tạo' });
  await inviteAccount(app.organizer, { name: 'Cán bộ Sở GD&ĐT', email: 'gddt-summary@example.vn', role: 'organizer', unitId: String(unit._id), password: 'a password of the unit' });
  otherUnit = app.newClient();
  expect((await otherUnit.signIn('gddt-summary@example.vn', 'a password of the unit')).status).toBe(303);
});
afterAll(async () => {
  await app?.stop();
});

/** The seed's conference: chair, a report, three bridge points, two of three present, two directives. */
async function conference() {
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00', status: 'scheduled', unitId: testUnit.id, organizingUnit: 'Sở Khoa học và Công nghệ Tỉnh' });
  const meetingId = String(meeting._id);
  const main = await addSite(app.organizer, { meetingId, name: 'Văn phòng UBND Tỉnh', isMain: true });
  const laiVung = await addSite(app.organizer, { meetingId, name: 'Huyện Lai Vung' });
  await addSite(app.organizer, { meetingId, name: 'Huyện Lấp Vò' });
  const chair = await createAttendee(app.organizer, { meetingId, siteId: String(main._id), fullName: 'Huỳnh Minh Tuấn', position: 'Phó Chủ tịch UBND Tỉnh', role: 'chair' });
  const director = await createAttendee(app.organizer, { meetingId, siteId: String(main._id), fullName: 'Trần Thanh Liêm', position: 'Giám đốc Sở Khoa học và Công nghệ', role: 'speaker' });
  await createAttendee(app.organizer, { meetingId, siteId: String(laiVung._id), fullName: 'Đại biểu Huyện Lai Vung', role: 'delegate' });
  await addAgendaItem(app.organizer, { meetingId, title: 'Báo cáo tổng kết hoạt động KH&CN năm 2021', kind: 'report', plannedMinutes: 30, speakers: [{ attendeeId: director.id, name: 'Trần Thanh Liêm', position: 'Giám đốc Sở Khoa học và Công nghệ' }] });
  for (const attendee of [chair, director]) await checkIn(app.organizer, { meetingId, attendeeId: attendee.id, opId: `checkin-${attendee.id}` });
  await addDirective(app.organizer, { meetingId, text: 'Sở Khoa học và Công nghệ rà soát lại những hạn chế, xây dựng kế hoạch cụ thể thực hiện.', by: 'Huỳnh Minh Tuấn' });
  await addDirective(app.organizer, { meetingId, text: 'Mỗi huyện, thành phố có ít nhất một hoạt động chuyển giao công nghệ trong năm 2022.', by: 'Huỳnh Minh Tuấn' });
  return { meetingId, publicId: meeting.publicId };
}

async function snapshot(meetingId: string) {
  const [meeting, articles, versions] = await Promise.all([MeetingModel.findById(meetingId, { revision: 1 }).lean(), SummaryArticleModel.find({ meetingId }).lean(), SummaryVersionModel.find({ meetingId }).sort({ _id: 1 }).lean()]);
  return JSON.stringify({ revision: meeting?.revision, articles, versions });
}

describe('the summary article', () => {
  it('is drafted from the meeting’s data in the seed’s style, in Vietnamese, and in English on an English page', async () => {
    const { meetingId } = await conference();
    const vi = await organizer.getJson(`/api/v1/meetings/${meetingId}/summary`);
    expect(vi.status).toBe(200);
    expect(vi.json.summary.version).toBe(0);
    expect(vi.json.summary.text).toBe(
      [
        '# Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021',
        'Chiều ngày 29/12/2021, tại Văn phòng UBND Tỉnh, Sở Khoa học và Công nghệ Tỉnh đã tổ chức Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021. Hội nghị do Huỳnh Minh Tuấn, Phó Chủ tịch UBND Tỉnh chủ trì. Hội nghị được kết nối trực tuyến đến 2 điểm cầu: Huyện Lai Vung và Huyện Lấp Vò.',
        'Tham dự Hội nghị có 2 đại biểu trên tổng số 3 đại biểu được mời tại 3 điểm cầu.',
        'Tại Hội nghị, Trần Thanh Liêm, Giám đốc Sở Khoa học và Công nghệ trình bày Báo cáo tổng kết hoạt động KH&CN năm 2021.',
        'Phát biểu kết luận tại Hội nghị, Huỳnh Minh Tuấn đề nghị:\n- Sở Khoa học và Công nghệ rà soát lại những hạn chế, xây dựng kế hoạch cụ thể thực hiện.\n- Mỗi huyện, thành phố có ít nhất một hoạt động chuyển giao công nghệ trong năm 2022.',
      ].join('\n\n'),
    );
    // Nothing is stored until the organizer saves.
    expect(await SummaryArticleModel.countDocuments({ meetingId })).toBe(0);

    const page = await organizer.get(`/meetings/${meetingId}/summary?lang=en`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('On the afternoon of 29 December 2021, at Văn phòng UBND Tỉnh, Sở Khoa học và Công nghệ Tỉnh held the Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021.');
    expect(page.text).toContain('2 of the 3 invited delegates attended, at 3 bridge points.');
    await organizer.get(`/meetings/${meetingId}/summary?lang=vi`);
  });

  it('is saved in versions, a stale save is a conflict, and publishing shows it on the public page and as a snippet with the organizer’s HTML shown as text', async () => {
    const { meetingId, publicId } = await conference();
    const url = `/api/v1/meetings/${meetingId}/summary/vi`;
    expect((await app.newClient().get(`/p/${publicId}/summary`)).status).toBe(404);

    const text = '# Hội nghị tổng kết 2021\n\nĐại biểu <b>đông đủ</b> <script>alert("x")</script> và **thành công tốt đẹp**.\n\n- Rà soát hạn chế\n- Chuyển giao công nghệ';
    const saved = await organizer.json('PUT', url, { text, baseVersion: 0 });
    expect(saved.status).toBe(200);
    expect(saved.json).toMatchObject({ version: 1, published: null, updatedBy: 'Nguyễn Thị Tổ Chức' });
    const stale = await organizer.json('PUT', url, { text: 'Bản cũ', baseVersion: 0 });
    expect(stale.status).toBe(409);
    expect(stale.json.error.message).toContain('Bài tin vừa được người khác sửa.');
    expect((await organizer.json('POST', `${url}/publish`, { version: 0 })).status).toBe(409);

    const published = await organizer.json('POST', `${url}/publish`, { version: 1 });
    expect(published.status).toBe(200);
    expect(published.json.published).toMatchObject({ version: 1, by: 'Nguyễn Thị Tổ Chức' });

    const visitor = app.newClient();
    const publicPage = await visitor.get(`/p/${publicId}/summary`);
    expect(publicPage.status).toBe(200);
    expect(publicPage.text).toContain('<h2>Hội nghị tổng kết 2021</h2>');
    expect(publicPage.text).toContain('Đại biểu &#60;b&#62;đông đủ&#60;/b&#62; &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; và <strong>thành công tốt đẹp</strong>.');
    expect(publicPage.text).toContain('<ul><li>Rà soát hạn chế</li><li>Chuyển giao công nghệ</li></ul>');
    expect(publicPage.text).not.toContain('<script>alert');

    // A later draft does not change the public page until it is published.
    expect((await organizer.json('PUT', url, { text: `${text}\n\nĐoạn bổ sung chưa đăng.`, baseVersion: 1 })).json.version).toBe(2);
    expect((await visitor.get(`/p/${publicId}/summary`)).text).not.toContain('Đoạn bổ sung chưa đăng.');

    const editor = await organizer.get(`/meetings/${meetingId}/summary`);
    expect(editor.text).toContain('Bản nháp có thay đổi chưa đăng.');
    // The snippet is the published version's HTML, shown escaped inside the read-only textarea.
    const shown = editor.text.slice(editor.text.indexOf('>', editor.text.indexOf('class="summary-snippet"')) + 1, editor.text.indexOf('</textarea>', editor.text.indexOf('class="summary-snippet"')));
    expect(shown).not.toContain('<');
    // What the organizer copies (the textarea's value, as a browser decodes it).
    const snippet = shown.replace(/&(lt|gt|quot|amp|#x3D|#x27|#x60);/g, (_whole, name: string) => ({ lt: '<', gt: '>', quot: '"', amp: '&', '#x3D': '=', '#x27': "'", '#x60': '`' })[name]!);
    expect(snippet).toContain('<article class="bridgepoint-summary" lang="vi">');
    expect(snippet).toContain('Đại biểu &#60;b&#62;đông đủ&#60;/b&#62; &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; và <strong>thành công tốt đẹp</strong>.');
    expect(snippet).not.toMatch(/<script|<style|on\w+=/i);
    expect(snippet).not.toContain('Đoạn bổ sung chưa đăng.');
    expect(snippet).toContain(`/p/${publicId}/summary`);

    const versions = await SummaryVersionModel.find({ meetingId }).sort({ version: 1 }).lean();
    expect(versions.map((entry) => [entry.version, entry.by.name])).toEqual([
      [1, 'Nguyễn Thị Tổ Chức'],
      [2, 'Nguyễn Thị Tổ Chức'],
    ]);

    const unpublished = await organizer.json('POST', `${url}/unpublish`, {});
    expect(unpublished.json.published).toBeNull();
    expect((await visitor.get(`/p/${publicId}/summary`)).status).toBe(404);
    const audit = await AuditEntryModel.find({ meetingId, events: 'summary.changed' }).sort({ revision: 1 }).lean();
    expect(audit.map((entry) => entry.actor!.name)).toEqual(['Nguyễn Thị Tổ Chức', 'Nguyễn Thị Tổ Chức', 'Nguyễn Thị Tổ Chức', 'Nguyễn Thị Tổ Chức']);
  });

  it('the page’s forms save, regenerate, publish and unpublish; a refused save keeps the text typed', async () => {
    const { meetingId, publicId } = await conference();
    const saved = await organizer.postForm(`/meetings/${meetingId}/summary`, { text: 'Bài tin viết tay.', baseVersion: '0' });
    expect(saved.status).toBe(303);
    const refused = await organizer.postForm(`/meetings/${meetingId}/summary`, { text: 'Gõ trên bản cũ, không được mất.', baseVersion: '0' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('Bài tin vừa được người khác sửa.');
    expect(refused.text).toContain('Gõ trên bản cũ, không được mất.');
    expect((await organizer.postForm(`/meetings/${meetingId}/summary/regenerate`, { baseVersion: '1' })).status).toBe(303);
    expect((await SummaryArticleModel.findOne({ meetingId }).lean())!.text).toContain('Hội nghị do Huỳnh Minh Tuấn');
    expect((await organizer.postForm(`/meetings/${meetingId}/summary/publish`, { version: '2' })).status).toBe(303);
    expect((await app.newClient().get(`/p/${publicId}/summary`)).text).toContain('Hội nghị do Huỳnh Minh Tuấn, Phó Chủ tịch UBND Tỉnh chủ trì.');
    expect((await organizer.postForm(`/meetings/${meetingId}/summary/unpublish`, {})).status).toBe(303);
    expect((await app.newClient().get(`/p/${publicId}/summary`)).status).toBe(404);
  });

  it('bad input is refused in the asker’s language, and other units, link holders and visitors change nothing', async () => {
    const { meetingId } = await conference();
    const url = `/api/v1/meetings/${meetingId}/summary/vi`;
    expect((await organizer.json('PUT', url, { text: 'Bản đầu', baseVersion: 0 })).status).toBe(200);
    const before = await snapshot(meetingId);

    const empty = await organizer.json('PUT', url, { text: '   ', baseVersion: 1 });
    expect(empty.status).toBe(422);
    expect(empty.json.error.fields.text).toBe('Vui lòng nhập nội dung bài tin.');
    const english = await (await app.signInOrganizer()).json('PUT', `${url}?lang=en`, { text: 'x'.repeat(30_001), baseVersion: 1 });
    expect(english.status).toBe(422);
    expect(english.json.error.fields.text).toBe('The article is too long (at most 30,000 characters).');
    expect((await organizer.json('PUT', `/api/v1/meetings/${meetingId}/summary/fr`, { text: 'Bonjour', baseVersion: 0 })).json.error.fields.locale).toBe('Ngôn ngữ bài tin không hợp lệ.');
    expect((await organizer.json('PUT', url, { text: 'x', baseVersion: -1 })).status).toBe(422);
    expect((await organizer.json('POST', `/api/v1/meetings/${meetingId}/summary/en/publish`, { version: 0 })).json.error.message).toBe('Hãy lưu bài tin trước khi đăng.');

    expect((await otherUnit.get(`/meetings/${meetingId}/summary`)).status).toBe(404);
    expect((await otherUnit.json('PUT', url, { text: 'Chen ngang', baseVersion: 1 })).status).toBe(404);
    expect((await otherUnit.json('POST', `${url}/publish`, { version: 1 })).status).toBe(404);
    const site = await addSite(app.organizer, { meetingId, name: 'Huyện Cao Lãnh' });
    const coordinator = HttpClient.withBearer(app.baseUrl, site.coordinatorToken);
    expect((await coordinator.json('PUT', url, { text: 'Chen ngang', baseVersion: 1 })).status).toBe(403);
    expect((await coordinator.json('POST', `${url}/publish`, { version: 1 })).status).toBe(403);
    expect((await app.newClient().json('POST', `${url}/publish`, { version: 1 })).status).toBe(401);
    const after = JSON.parse(await snapshot(meetingId));
    const expected = JSON.parse(before);
    // Adding the site above is the one change (one revision); the article is untouched.
    expect({ ...after, revision: after.revision - 1 }).toEqual(expected);
  });
});
