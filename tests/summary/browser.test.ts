// The summary editor in headless Chromium: the organizer finds the generated draft, edits it
// (with HTML in the text), saves and publishes; the meeting's public page shows the article with
// that HTML as text (no element made from it, no script run); taking it down hides it again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { organizerCredentials, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser } from '../helpers/browser.js';
import { testUnit } from '../helpers/database.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { addDirective } from '../../server/followup/actions.js';

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

async function submitBy(page: Page, tap: () => Promise<void>) {
  await page.evaluate(() => document.documentElement.setAttribute('data-before-submit', ''));
  await tap();
  await page.waitForFunction(() => document.readyState === 'complete' && !document.documentElement.hasAttribute('data-before-submit'));
}

describe('the summary editor in a browser', () => {
  it('edit the draft, publish, the meeting’s public page links to it and shows it with the HTML in the text as text, take it down', async () => {
    const meeting = await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00', status: 'scheduled', unitId: testUnit.id, organizingUnit: 'Sở Khoa học và Công nghệ Tỉnh' });
    const meetingId = String(meeting._id);
    const main = await addSite(app.organizer, { meetingId, name: 'Văn phòng UBND Tỉnh', isMain: true });
    await addSite(app.organizer, { meetingId, name: 'Huyện Lai Vung' });
    await createAttendee(app.organizer, { meetingId, siteId: String(main._id), fullName: 'Huỳnh Minh Tuấn', position: 'Phó Chủ tịch UBND Tỉnh', role: 'chair' });
    await addDirective(app.organizer, { meetingId, text: 'Tăng cường các hoạt động sở hữu trí tuệ.' });

    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${app.baseUrl}/login`);
    await page.fill('#field-email', organizerCredentials.email);
    await page.fill('#field-password', organizerCredentials.password);
    await Promise.all([page.waitForURL(/\/meetings$/), page.click('button[type="submit"]')]);

    await page.goto(`${app.baseUrl}/meetings/${meetingId}/summary`);
    const draft = await page.locator('#summary-text').inputValue();
    expect(draft).toContain('Hội nghị do Huỳnh Minh Tuấn, Phó Chủ tịch UBND Tỉnh chủ trì.');
    expect(draft).toContain('- Tăng cường các hoạt động sở hữu trí tuệ.');
    expect(await page.locator('.summary-unsaved').textContent()).toBe('Đây là bản nháp vừa tạo, chưa được lưu.');

    const edited = `${draft}\n\nGhi chú <img src=x onerror="alert('img')"> và <script>alert('script')</script> **in đậm**.`;
    await page.fill('#summary-text', edited);
    await submitBy(page, () => page.click('.summary-save'));
    expect(await page.locator('.flash[role="status"]').textContent()).toBe('Đã lưu bài tin.');
    expect(await page.locator('.summary-version').textContent()).toContain('Phiên bản 1, lưu bởi Nguyễn Thị Tổ Chức');
    expect(await page.locator('.summary-preview img').count()).toBe(0);

    await submitBy(page, () => page.click('.summary-publish'));
    expect(await page.locator('.flash[role="status"]').textContent()).toBe('Đã đăng bài tin lên trang công khai.');
    const snippet = await page.locator('#summary-snippet').inputValue();
    expect(snippet).toContain('<article class="bridgepoint-summary" lang="vi">');
    expect(snippet).toContain('&#60;img src=x onerror=&#34;alert(&#39;img&#39;)&#34;&#62;');
    expect(snippet).not.toMatch(/<script|<img/);

    const visitor = await browser.newContext();
    const publicPage = await visitor.newPage();
    publicPage.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await publicPage.goto(`${app.baseUrl}/p/${meeting.publicId}`);
    await Promise.all([publicPage.waitForURL(/\/summary$/), publicPage.click('.public-summary-link')]);
    const article = publicPage.locator('.public-summary');
    expect(await article.locator('h2').textContent()).toBe('Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021');
    const shown = await article.innerText();
    expect(shown).toContain(`Ghi chú <img src=x onerror="alert('img')"> và <script>alert('script')</script> in đậm.`);
    expect(await article.locator('strong').textContent()).toBe('in đậm');
    expect(await article.locator('li').allTextContents()).toEqual(['Tăng cường các hoạt động sở hữu trí tuệ.']);
    expect(await article.locator('img, script').count()).toBe(0);
    expect(dialogs).toEqual([]);

    await submitBy(page, () => page.click('.summary-unpublish'));
    expect(await page.locator('.flash[role="status"]').textContent()).toBe('Đã gỡ bài tin khỏi trang công khai.');
    const gone = await publicPage.goto(`${app.baseUrl}/p/${meeting.publicId}/summary`);
    expect(gone?.status()).toBe(404);
    await publicPage.goto(`${app.baseUrl}/p/${meeting.publicId}`);
    expect(await publicPage.locator('.public-summary-link').count()).toBe(0);
    await visitor.close();
    await context.close();
  });
});
