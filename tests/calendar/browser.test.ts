// The organizer watches attendees' answers arrive in headless Chromium: the calendar page's
// per-site table and the meeting dashboard's expected headcount move without a reload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { organizerCredentials, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser } from '../helpers/browser.js';
import { newCalendarConference, type CalendarConference } from './fixtures.js';

let app: TestApp;
let browser: Browser;
let conference: CalendarConference;

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
  conference = await newCalendarConference(app.organizer);
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function organizerPage(): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${app.baseUrl}/login`);
  await page.fill('#field-email', organizerCredentials.email);
  await page.fill('#field-password', organizerCredentials.password);
  await Promise.all([page.waitForURL(/\/meetings$/), page.click('button[type="submit"]')]);
  return page;
}

const cell = (page: Page, siteId: string, column: string) => page.locator(`[data-rsvp-live] [data-site-id="${siteId}"] [data-${column}]`);

describe("attendees' answers on the organizer's screens", () => {
  it("a delegate declines: Lai Vung's expected headcount and the counts change on the open calendar page and dashboard, then come back when they accept", async () => {
    const calendar = await organizerPage();
    await calendar.goto(`${app.baseUrl}/meetings/${conference.meetingId}/calendar`);
    await calendar.waitForSelector('[data-rsvp-live][data-live="joined"]');
    const dashboard = await organizerPage();
    await dashboard.goto(`${app.baseUrl}/meetings/${conference.meetingId}`);
    await dashboard.waitForSelector('[data-rsvp-live][data-live="joined"]');
    await expect(cell(calendar, conference.laiVungId, 'expected').textContent()).resolves.toBe('12');
    const totalBefore = Number(await dashboard.locator('[data-stat="expected"]').textContent());

    const delegate = app.newClient();
    await delegate.openLink(`/a/${conference.delegate.token}`);
    expect((await delegate.postForm('/my/rsvp', { response: 'declined', reason: 'Trùng lịch công tác' })).status).toBe(303);

    await calendar.waitForFunction((siteId) => document.querySelector(`[data-site-id="${siteId}"] [data-expected]`)?.textContent === '11', conference.laiVungId);
    await expect(cell(calendar, conference.laiVungId, 'declined').textContent()).resolves.toBe('1');
    await expect(cell(calendar, conference.laiVungId, 'pending').textContent()).resolves.toBe('0');
    await dashboard.waitForFunction((siteId) => document.querySelector(`[data-site-id="${siteId}"] [data-expected]`)?.textContent === '11', conference.laiVungId);
    await expect(dashboard.locator('[data-stat="expected"]').textContent()).resolves.toBe(String(totalBefore - 1));
    await expect(dashboard.locator('[data-total-expected]').textContent()).resolves.toBe(String(totalBefore - 1));

    await delegate.postForm('/my/rsvp', { response: 'accepted' });
    await calendar.waitForFunction((siteId) => document.querySelector(`[data-site-id="${siteId}"] [data-expected]`)?.textContent === '12', conference.laiVungId);
    await expect(cell(calendar, conference.laiVungId, 'accepted').textContent()).resolves.toBe('1');
    await dashboard.waitForFunction((total) => document.querySelector('[data-stat="expected"]')?.textContent === String(total), totalBefore);
  });
});
