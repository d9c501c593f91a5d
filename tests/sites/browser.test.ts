// The organizer's meeting and sites pages on a phone, in headless Chromium: nothing scrolls
// sideways, the coordinator link copies with one tap, the coordinator's link opens their site.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { organizerCredentials, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, phoneViewport } from '../helpers/browser.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addProvinceDistricts, updateSite } from '../../server/sites/actions.js';
import { SiteModel } from '../../server/sites/model.js';

let app: TestApp;
let browser: Browser;
let meetingId: string;

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
  const meeting = await createMeeting(app.organizer, {
    title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021',
    organizingUnit: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp',
    start: '2021-12-29T14:00',
    end: '2021-12-29T17:00',
    status: 'scheduled',
  });
  meetingId = String(meeting._id);
  await addProvinceDistricts(app.organizer, { meetingId, provinceCode: '87' });
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function phoneAsOrganizer(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: phoneViewport, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.goto(`${app.baseUrl}/login`);
  await page.fill('#field-email', organizerCredentials.email);
  await page.fill('#field-password', organizerCredentials.password);
  await Promise.all([page.waitForURL(/\/meetings$/), page.click('button[type="submit"]')]);
  return { context, page };
}

/** The list item of one site (its remove form lists the other sites, so match on the name itself). */
const siteItem = (page: Page, name: string) => page.locator('li.site-item', { has: page.locator('.site-name', { hasText: new RegExp(`^${name}$`) }) });

/** Tap a form button and wait until the page it redirects to has replaced this one. */
async function submitBy(page: Page, tap: () => Promise<void>) {
  await page.evaluate(() => document.documentElement.setAttribute('data-before-submit', ''));
  await tap();
  await page.waitForFunction(() => document.readyState === 'complete' && !document.documentElement.hasAttribute('data-before-submit'));
}

const sidewaysOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe('on a phone', () => {
  it('the meetings list, dashboard, sites and forms fit the screen', async () => {
    const { context, page } = await phoneAsOrganizer();
    for (const path of ['/meetings?tab=past', `/meetings/${meetingId}`, `/meetings/${meetingId}/sites`, '/meetings/new', `/meetings/${meetingId}/edit`]) {
      await page.goto(`${app.baseUrl}${path}`);
      expect(await sidewaysOverflow(page), path).toBeLessThanOrEqual(0);
    }
    await context.close();
  });

  it('copies a coordinator link with one tap', async () => {
    const { context, page } = await phoneAsOrganizer();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.baseUrl });
    await page.goto(`${app.baseUrl}/meetings/${meetingId}/sites`);
    const tanHong = siteItem(page, 'Huyện Tân Hồng');
    const link = await tanHong.locator('input.link-input').inputValue();
    expect(link).toMatch(/\/s\/[\w-]{20,}$/);
    await tanHong.locator('button[data-copy]').tap();
    await expect.poll(() => tanHong.locator('button[data-copy]').textContent()).toBe('Đã sao chép');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
    await context.close();
  });

  it('moves a site up with the arrow and makes another the main site', async () => {
    const { context, page } = await phoneAsOrganizer();
    await page.goto(`${app.baseUrl}/meetings/${meetingId}/sites`);
    const saDec = siteItem(page, 'Thành phố Sa Đéc');
    await submitBy(page, () => saDec.locator('button[value="up"]').tap());
    const names = await page.locator('li.site-item .site-name').allTextContents();
    expect(names.slice(0, 3)).toEqual(['Văn phòng UBND Tỉnh', 'Thành phố Sa Đéc', 'Thành phố Cao Lãnh']);

    await submitBy(page, () => siteItem(page, 'Thành phố Cao Lãnh').getByRole('button', { name: 'Đặt làm điểm cầu chính' }).tap());
    expect(await page.locator('li.site-item[data-main="true"] .site-name').allTextContents()).toEqual(['Thành phố Cao Lãnh']);
    expect(await page.textContent('main')).toContain('Đã đặt “Thành phố Cao Lãnh” làm điểm cầu chính.');
    await context.close();
  });

  it("a coordinator's link opens their site with the video link, on a phone", async () => {
    const site = (await SiteModel.findOne({ meetingId, name: 'Huyện Tháp Mười' }).lean())!;
    await updateSite(app.organizer, { siteId: String(site._id), coordinatorName: 'Đặng Văn Mười', videoLink: { platform: 'Zoom', url: 'https://meet.example.vn/thapmuoi', passcode: 'tm-2021' } });
    const context = await browser.newContext({ viewport: phoneViewport, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${app.baseUrl}/s/${site.coordinatorToken}`);
    expect(new URL(page.url()).pathname).toBe('/my/site');
    const text = (await page.textContent('main')) ?? '';
    expect(text).toContain('Huyện Tháp Mười');
    expect(text).toContain('tm-2021');
    expect(text).toContain('Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021');
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
    await context.close();
  });
});
