// The organizer's whole journey in headless Chromium, from sign-in to the public page on a phone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { organizerCredentials, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, phoneViewport } from '../helpers/browser.js';

let app: TestApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const csvWithOneBadRow = [
  'Họ và tên,Chức vụ,Đơn vị,Email,Điện thoại,Điểm cầu,Vai trò',
  'Trần Thanh Liêm,Giám đốc Sở,Sở Khoa học và Công nghệ,lien.tran@example.vn,0277 3851 234,Văn phòng UBND Tỉnh,Báo cáo viên',
  'Nguyễn Thị Hạnh,Phó Chủ tịch UBND huyện,UBND huyện Tân Hồng,hanh.nguyen@example.vn,,Huyện Tân Hồng,Đại biểu',
  'Lê Văn Phúc,Trưởng phòng Kinh tế,UBND huyện Lấp Vò,phuc.le@example.vn,,Huyện Lấp Vò Mới,Đại biểu',
].join('\r\n');

describe("an organizer's first conference, end to end", () => {
  let meetingPath = '';

  it('signs in and creates the meeting', async () => {
    await page.goto(`${app.baseUrl}/meetings`);
    await expect.poll(() => page.url()).toContain('/login');
    await page.fill('#field-email', organizerCredentials.email);
    await page.fill('#field-password', organizerCredentials.password);
    await Promise.all([page.waitForURL(/\/meetings$/), page.click('button[type="submit"]')]);

    await page.click('a[href="/meetings/new"]');
    await page.fill('#field-title', 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2026');
    await page.fill('#field-organizingUnit', 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp');
    await page.fill('#field-start', '2026-12-29T14:00');
    await page.fill('#field-end', '2026-12-29T17:00');
    await Promise.all([page.waitForURL(/\/meetings\/[a-f0-9]{24}$/), page.click('form.meeting-form button[type="submit"]')]);
    meetingPath = new URL(page.url()).pathname;
    await expect.poll(() => page.textContent('main')).toContain('14:00');
    expect(await page.textContent('h1')).toContain('năm 2026');
  });

  it("adds Đồng Tháp's districts in one click", async () => {
    await page.goto(`${app.baseUrl}${meetingPath}/sites`);
    await page.selectOption('#province-code', '87'); // Đồng Tháp's administrative code
    await Promise.all([page.waitForLoadState('load'), page.click('form.add-districts button[type="submit"]')]);
    const text = (await page.textContent('main')) ?? '';
    for (const district of ['Thành phố Cao Lãnh', 'Thành phố Sa Đéc', 'Thành phố Hồng Ngự', 'Huyện Tân Hồng', 'Huyện Lấp Vò', 'Huyện Châu Thành']) {
      expect(text).toContain(district);
    }
    expect(text).toContain('Văn phòng UBND');
  });

  it('imports a spreadsheet, sees the bad row flagged with its reason, fixes it and commits', async () => {
    await page.goto(`${app.baseUrl}${meetingPath}/attendees/import`);
    await page.setInputFiles('#import-file', { name: 'dai-bieu.csv', mimeType: 'text/csv', buffer: Buffer.from(`\uFEFF${csvWithOneBadRow}`, 'utf8') });
    await Promise.all([page.waitForLoadState('load'), page.click('form[enctype="multipart/form-data"] button[type="submit"]')]);

    const preview = (await page.textContent('main')) ?? '';
    expect(preview).toContain('Huyện Lấp Vò Mới');
    expect(preview).toMatch(/điểm cầu/i);
    expect(await page.isDisabled('form[action$="/commit"] button[type="submit"]')).toBe(true);

    // Fix the site of the flagged row (row 4 of the file: the header is row 1).
    const fixForm = page.locator('form[action$="/rows/4"]');
    await fixForm.locator('input[name="site"]').fill('Huyện Lấp Vò');
    await Promise.all([page.waitForLoadState('load'), fixForm.locator('button[type="submit"]').click()]);
    expect(await page.isDisabled('form[action$="/commit"] button[type="submit"]')).toBe(false);

    await Promise.all([page.waitForLoadState('load'), page.click('form[action$="/commit"] button[type="submit"]')]);
    await page.goto(`${app.baseUrl}${meetingPath}/attendees`);
    const list = (await page.textContent('main')) ?? '';
    for (const name of ['Trần Thanh Liêm', 'Nguyễn Thị Hạnh', 'Lê Văn Phúc']) expect(list).toContain(name);
  });

  it('builds the agenda, reorders it, and sees the start times recompute', async () => {
    await page.goto(`${app.baseUrl}${meetingPath}/agenda`);
    for (const [title, minutes] of [['Khai mạc', '10'], ['Báo cáo kết quả năm 2026', '30'], ['Thảo luận', '60']]) {
      await page.fill('form[data-item-form] #field-title', title);
      await page.fill('form[data-item-form] #field-plannedMinutes', minutes);
      await Promise.all([page.waitForLoadState('load'), page.click('form[data-item-form] button[type="submit"]')]);
      await expect.poll(() => page.locator('#agenda-list .agenda-item-title').allTextContents()).toContain(title);
    }
    const starts = () => page.locator('#agenda-list > li [data-start]').allTextContents();
    const titles = () => page.locator('#agenda-list > li .agenda-item-title').allTextContents();
    expect(await starts()).toEqual(['14:00', '14:10', '14:40']);

    // Move the report to the top: it now starts at 14:00 and the opening at 14:30.
    await page.locator('#agenda-list > li').nth(1).locator('[data-move="up"]').click();
    await expect.poll(titles).toEqual(['Báo cáo kết quả năm 2026', 'Khai mạc', 'Thảo luận']);
    await expect.poll(starts).toEqual(['14:00', '14:30', '14:40']);

    // A longer report pushes everything after it.
    await page.locator('#agenda-list > li').nth(0).locator('[data-minutes-input]').fill('45');
    await page.locator('#agenda-list > li').nth(0).locator('[data-minutes-input]').press('Tab');
    await expect.poll(starts).toEqual(['14:00', '14:45', '14:55']);
    // The page says "Đã lưu" once the server has it (the field's saved value is then 45).
    const reportMinutes = page.locator('#agenda-list > li').nth(0).locator('[data-minutes-input]');
    await expect.poll(() => reportMinutes.evaluate((input) => (input as HTMLInputElement).defaultValue)).toBe('45');
    expect(await page.locator('#agenda-status').textContent()).toBe('Đã lưu');

    // Saved on the server: a fresh load shows the same order and times.
    await page.reload();
    await expect.poll(titles).toEqual(['Báo cáo kết quả năm 2026', 'Khai mạc', 'Thảo luận']);
    expect(await starts()).toEqual(['14:00', '14:45', '14:55']);
  });

  it('opens the public page on a phone, without private data and without sideways scrolling', async () => {
    await page.goto(`${app.baseUrl}${meetingPath}`);
    const publicHref = await page.locator('a[href^="/p/"]').first().getAttribute('href');
    expect(publicHref).toMatch(/^\/p\//);

    const phone = await browser.newPage({ viewport: phoneViewport, isMobile: true, hasTouch: true });
    await phone.goto(`${app.baseUrl}${publicHref}`);
    const text = (await phone.textContent('main')) ?? '';
    expect(text).toContain('Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2026');
    expect(text).toContain('Báo cáo kết quả năm 2026');
    expect(text).toContain('Huyện Tân Hồng');
    expect(text).not.toContain('0277 3851 234');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.close();
  });
});
