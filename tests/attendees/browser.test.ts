// The organizer's attendee table and import in headless Chromium: edit a cell in place, see a
// wrong value refused next to the cell, import a CSV with one bad row, fix it, commit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { organizerCredentials, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, phoneViewport } from '../helpers/browser.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addProvinceDistricts } from '../../server/sites/actions.js';
import { createAttendee, rotateAccessToken, updateAttendee } from '../../server/attendees/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';

let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function conference(): Promise<string> {
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00' });
  const meetingId = String(meeting._id);
  await addProvinceDistricts(app.organizer, { meetingId, provinceCode: '87' });
  return meetingId;
}

async function signIn(page: Page) {
  await page.goto(`${app.baseUrl}/login`);
  await page.fill('#field-email', organizerCredentials.email);
  await page.fill('#field-password', organizerCredentials.password);
  await Promise.all([page.waitForURL(/\/meetings/), page.click('button[type="submit"]')]);
}

describe('the organizer in the attendee table', () => {
  it('deletes one person after confirming by name, and keeps them when the question is dismissed', async () => {
    const meetingId = await conference();
    const keep = await createAttendee(app.organizer, { meetingId, fullName: 'Phạm Văn Giữ', email: 'giu@example.vn' });
    const leave = await createAttendee(app.organizer, { meetingId, fullName: 'Võ Thị Rời', email: 'roi@example.vn' });
    const page = await browser.newPage();
    await signIn(page);
    await page.goto(`${app.baseUrl}/meetings/${meetingId}/attendees`);

    const questions: string[] = [];
    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.dismiss();
    });
    await page.locator(`tr[data-id="${leave.id}"] button.btn-danger`).click();
    await expect.poll(() => questions).toEqual(['Xóa đại biểu Võ Thị Rời? Thao tác này không thể hoàn tác.']);
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(2);

    page.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([page.waitForLoadState('load'), page.locator(`tr[data-id="${leave.id}"] button.btn-danger`).click()]);
    await expect.poll(() => page.locator('tbody tr[data-id]').count()).toBe(1);
    expect(await page.locator(`tr[data-id="${keep.id}"]`).count()).toBe(1);
    expect(await AttendeeModel.exists({ _id: leave.id })).toBeNull();
    await page.close();
  });

  it('edits a cell in place and sees a taken email refused next to the cell, in Vietnamese', async () => {
    const meetingId = await conference();
    const hung = await createAttendee(app.organizer, { meetingId, fullName: 'Nguyễn Văn Hùng', position: 'Chuyên viên', email: 'hung@example.vn' });
    await createAttendee(app.organizer, { meetingId, fullName: 'Trần Thị Lan', email: 'lan@example.vn' });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('response', (response) => response.status() === 404 && problems.push(`404 ${response.url()}`));
    await signIn(page);
    await page.goto(`${app.baseUrl}/meetings/${meetingId}/attendees`);

    const row = page.locator(`tr[data-id="${hung.id}"]`);
    await row.locator('td[data-field="position"]').click();
    const input = row.locator('td[data-field="position"] input');
    await input.fill('Giám đốc Sở Khoa học và Công nghệ');
    await input.press('Enter');
    await expect.poll(() => row.locator('td[data-field="position"]').textContent()).toBe('Giám đốc Sở Khoa học và Công nghệ');
    expect((await AttendeeModel.findById(hung.id).lean())!.position).toBe('Giám đốc Sở Khoa học và Công nghệ');

    await row.locator('td[data-field="email"]').click();
    const email = row.locator('td[data-field="email"] input');
    await email.fill('lan@example.vn');
    await email.press('Enter');
    const error = row.locator('td[data-field="email"] .field-error');
    await expect.poll(() => error.textContent()).toBe('Không thể dùng địa chỉ email lan@example.vn cho đại biểu này. Vui lòng nhập địa chỉ khác.');
    expect((await AttendeeModel.findById(hung.id).lean())!.email).toBe('hung@example.vn');
    await email.press('Escape');
    await expect.poll(() => row.locator('td[data-field="email"]').textContent()).toBe('hung@example.vn');

    // A new address is a new personal link: the row's copy button holds the new one.
    const linkBefore = await row.locator('[data-copy-link]').getAttribute('data-copy-link');
    await row.locator('td[data-field="email"]').click();
    await row.locator('td[data-field="email"] input').fill('hung.nguyen@example.vn');
    await row.locator('td[data-field="email"] input').press('Enter');
    await expect.poll(() => row.locator('td[data-field="email"]').textContent()).toBe('hung.nguyen@example.vn');
    const token = (await AttendeeModel.findById(hung.id).lean())!.accessToken;
    expect(linkBefore).not.toContain(token);
    await expect.poll(() => row.locator('[data-copy-link]').getAttribute('data-copy-link')).toMatch(new RegExp(`/a/${token}$`));

    await row.locator('td[data-field="role"]').click();
    await row.locator('td[data-field="role"] select').selectOption('speaker');
    await expect.poll(() => row.locator('td[data-field="role"]').textContent()).toBe('Báo cáo viên');
    expect(problems).toEqual([]);
    await page.close();
  });

  it("sees another organizer's edit appear live, and is told when people were added", async () => {
    const meetingId = await conference();
    const lan = await createAttendee(app.organizer, { meetingId, fullName: 'Trần Thị Lan', organization: 'Sở Y tế' });
    const page = await browser.newPage();
    await signIn(page);
    await page.goto(`${app.baseUrl}/meetings/${meetingId}/attendees`);
    await page.waitForSelector('#attendees-table[data-live="joined"]');

    await updateAttendee(app.organizer, { meetingId, attendeeId: lan.id, organization: 'Sở Y tế tỉnh Đồng Tháp', role: 'guest' });
    const row = page.locator(`tr[data-id="${lan.id}"]`);
    await expect.poll(() => row.locator('td[data-field="organization"]').textContent()).toBe('Sở Y tế tỉnh Đồng Tháp');
    expect(await row.locator('td[data-field="role"]').textContent()).toBe('Khách mời');
    expect(await page.locator('#attendees-live').isHidden()).toBe(true);

    await createAttendee(app.organizer, { meetingId, fullName: 'Người mới' });
    await expect.poll(() => page.locator('#attendees-live').textContent()).toBe('Danh sách vừa được người khác thay đổi. Tải lại để xem');
    await page.close();
  });

  it("copies the person's current link after another organizer changed their address or rotated their link", async () => {
    const meetingId = await conference();
    const lan = await createAttendee(app.organizer, { meetingId, fullName: 'Trần Thị Lan', email: 'lan@example.vn' });
    const page = await browser.newPage();
    await signIn(page);
    await page.goto(`${app.baseUrl}/meetings/${meetingId}/attendees`);
    await page.waitForSelector('#attendees-table[data-live="joined"]');
    const row = page.locator(`tr[data-id="${lan.id}"]`);
    expect(await row.locator('[data-copy-link]').getAttribute('data-copy-link')).toMatch(new RegExp(`/a/${lan.accessToken}$`));

    // A new address is a new link: the old one, still in the row, would open nothing.
    await updateAttendee(app.organizer, { meetingId, attendeeId: lan.id, email: 'tran.lan@example.vn' });
    await expect.poll(() => row.locator('td[data-field="email"]').textContent()).toBe('tran.lan@example.vn');
    const afterAddress = (await AttendeeModel.findById(lan.id).lean())!.accessToken;
    expect(afterAddress).not.toBe(lan.accessToken);
    await expect.poll(() => row.locator('[data-copy-link]').getAttribute('data-copy-link')).toMatch(new RegExp(`/a/${afterAddress}$`));

    await rotateAccessToken(app.organizer, { meetingId, attendeeId: lan.id });
    const afterRotation = (await AttendeeModel.findById(lan.id).lean())!.accessToken;
    await expect.poll(() => row.locator('[data-copy-link]').getAttribute('data-copy-link')).toMatch(new RegExp(`/a/${afterRotation}$`));
    expect(await page.locator('#attendees-live').isHidden()).toBe(true);
    await page.close();
  });

  it('imports a CSV with one bad row: sees it flagged, fixes it in the preview, commits', async () => {
    const meetingId = await conference();
    const page = await browser.newPage({ viewport: phoneViewport });
    await signIn(page);
    await page.goto(`${app.baseUrl}/meetings/${meetingId}/attendees/import`);
    const csv = [
      'Họ và tên,Chức vụ,Đơn vị,Email,Điện thoại,Điểm cầu,Vai trò',
      'Nguyễn Văn Hùng,Giám đốc,Sở Khoa học và Công nghệ,hung@example.vn,0913111222,,Báo cáo viên',
      'Lê Thị Hà,Phó Chủ tịch,UBND huyện Tân Hồng,ha@example,,Tân Hồng,',
    ].join('\r\n');
    await page.setInputFiles('#import-file', { name: 'dai-bieu.csv', mimeType: 'text/csv', buffer: Buffer.from(`\uFEFF${csv}`, 'utf8') });
    await Promise.all([page.waitForURL(/\/import\/[a-f\d]{24}$/), page.click('button[type="submit"].btn-primary')]);

    await expect.poll(() => page.locator('.import-summary').textContent()).toBe('2 dòng: 1 hợp lệ, 1 có lỗi.');
    const bad = page.locator('#row-3');
    expect(await bad.locator('.row-problems').textContent()).toBe('Email "ha@example" không hợp lệ.');
    expect(await page.locator('button:has-text("Lưu vào danh sách")').isDisabled()).toBe(true);
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(0);

    // The fix form of a bad row is open already (few bad rows).
    await bad.locator('input[name="email"]').fill('ha@example.vn');
    await Promise.all([page.waitForURL(/#row-3$/), bad.locator('.row-fix button.btn-primary').click()]);
    await expect.poll(() => page.locator('.import-summary').textContent()).toBe('2 dòng: 2 hợp lệ, 0 có lỗi.');

    await Promise.all([page.waitForURL(new RegExp(`/meetings/${meetingId}/attendees$`)), page.click('button:has-text("Lưu vào danh sách")')]);
    expect(await page.locator('.flash:not(#attendees-live)').textContent()).toBe('Đã thêm 2 đại biểu từ tệp.');
    expect(await page.locator('#attendees-table tbody tr').count()).toBe(2);
    // The table scrolls inside its wrapper on a phone instead of widening the page.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await page.close();
  });
});
