// The task board and a district's own tasks in headless Chromium: the organizer writes a
// directive and assigns it with the page's forms, overdue cards stand out, the board reads on a
// phone without sideways scrolling, and the district coordinator reports progress from its link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { organizerCredentials, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, phoneViewport } from '../helpers/browser.js';
import { testUnit } from '../helpers/database.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { FollowupTaskModel } from '../../server/followup/model.js';

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

describe('the task board in a browser', () => {
  it('the organizer adds and assigns a directive, overdue stands out, and the district reports progress from its link', async () => {
    const meeting = await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00', status: 'scheduled', unitId: testUnit.id });
    const meetingId = String(meeting._id);
    const laiVung = await addSite(app.organizer, { meetingId, name: 'Huyện Lai Vung' });
    await addSite(app.organizer, { meetingId, name: 'Huyện Lấp Vò' });

    const context = await browser.newContext({ viewport: phoneViewport, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${app.baseUrl}/login`);
    await page.fill('#field-email', organizerCredentials.email);
    await page.fill('#field-password', organizerCredentials.password);
    await Promise.all([page.waitForURL(/\/meetings$/), page.click('button[type="submit"]')]);

    await page.goto(`${app.baseUrl}/meetings/${meetingId}/tasks`);
    await page.fill('.add-directive textarea[name="text"]', 'Mỗi huyện có ít nhất một hoạt động chuyển giao công nghệ trong năm 2022.');
    await submitBy(page, () => page.click('.add-directive button[type="submit"]'));
    await expect(page.locator('.directive-text').first().textContent()).resolves.toContain('Mỗi huyện có ít nhất một hoạt động chuyển giao công nghệ trong năm 2022.');

    await page.click('.directive details summary');
    await page.check('.assign-form label:has-text("Huyện Lai Vung") input');
    await page.check('.assign-form label:has-text("Huyện Lấp Vò") input');
    await page.fill('.assign-form input[name="dueDate"]', '2022-03-31');
    await submitBy(page, () => page.click('.assign-form button[type="submit"]'));
    await expect(page.locator('.board-summary').textContent()).resolves.toBe('2 nhiệm vụ · 2 quá hạn');

    const card = page.locator('.task-card', { hasText: 'Huyện Lai Vung' });
    await expect(card.locator('.badge-overdue').textContent()).resolves.toBe('Quá hạn');
    const edge = await card.evaluate((element) => getComputedStyle(element).borderLeftWidth);
    expect(edge).toBe('4px');
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(sideways).toBeLessThanOrEqual(0);
    await context.close();

    // The district coordinator opens its link and reports on its task.
    const district = await browser.newContext({ viewport: phoneViewport, isMobile: true, hasTouch: true });
    const phone = await district.newPage();
    await phone.goto(`${app.baseUrl}/s/${laiVung.coordinatorToken}`);
    await phone.goto(`${app.baseUrl}/my/tasks`);
    await expect(phone.locator('.task-card').count()).resolves.toBe(1);
    await phone.fill('.progress-form textarea', 'Đã ký hợp đồng chuyển giao quy trình nhân giống xoài.');
    await phone.selectOption('.progress-form select', 'inProgress');
    await submitBy(phone, () => phone.click('.progress-form button[type="submit"]'));
    await expect(phone.locator('.task-notes').textContent()).resolves.toContain('Đã ký hợp đồng chuyển giao quy trình nhân giống xoài.');
    await expect(phone.locator('.task-status').textContent()).resolves.toBe('Đang thực hiện');
    const stored = await FollowupTaskModel.findOne({ meetingId, 'assignee.id': laiVung._id }).lean();
    expect(stored?.status).toBe('inProgress');
    await district.close();
  });
});
