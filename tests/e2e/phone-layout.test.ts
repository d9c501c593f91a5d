// Bridgepoint on a phone (390 px) and a desktop, in headless Chromium: nothing a coordinator needs is
// pushed off-screen, tabs are all reachable, tap targets are finger-sized, the meeting form lines up.
// Plus the small doors around it: the chair's home links, the login page for a dead personal link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { organizerCredentials, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, phoneViewport } from '../helpers/browser.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addProvinceDistricts } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';

let app: TestApp;
let browser: Browser;
let meetingId: string;

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00' });
  meetingId = String(meeting._id);
  await addProvinceDistricts(app.organizer, { meetingId, provinceCode: '87' });
  for (const [fullName, email] of [['Bùi Ngọc Tâm', 'tam.bui19@example.vn'], ['Nguyễn Thị Phương Thảo', 'phuongthao.nguyen.phongkhcn@example.vn']]) {
    await createAttendee(app.organizer, {
      meetingId,
      fullName,
      email,
      phone: '0277 388002',
      position: 'Phó Trưởng phòng Nông nghiệp và Phát triển nông thôn',
      organization: 'Phòng Nông nghiệp và PTNT thành phố Sa Đéc',
    });
  }
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function organizerPage(viewport: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('response', (response) => response.status() === 404 && problems.push(`404 ${response.url()}`));
  await page.goto(`${app.baseUrl}/login`);
  await page.fill('#field-email', organizerCredentials.email);
  await page.fill('#field-password', organizerCredentials.password);
  await Promise.all([page.waitForURL(/\/meetings/), page.click('button[type="submit"]')]);
  return { page, problems };
}

type Box = { x: number; y: number; width: number; height: number };
async function boxes(page: Page, selector: string): Promise<Box[]> {
  return page.locator(selector).evaluateAll((elements) =>
    elements.map((element) => {
      const rect = element.getBoundingClientRect();
      return { x: rect.x, y: rect.y, width: rect.width, height: rect.height };
    }),
  );
}

describe('the attendee list on a phone', () => {
  it('shows every row as a card with its actions on screen, and every meeting tab reachable', async () => {
    const { page, problems } = await organizerPage(phoneViewport);
    await page.goto(`${app.baseUrl}/meetings/${meetingId}/attendees`);

    // No sideways scrolling anywhere: not the page, not the table.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(phoneViewport.width);
    expect(await page.locator('.table-wrap').evaluate((wrap) => wrap.scrollWidth <= wrap.clientWidth)).toBe(true);

    // Each row's Copy link / Edit / Delete buttons lie fully inside the screen, finger-sized.
    const actions = await boxes(page, '#attendees-table .row-actions .btn');
    expect(actions.length).toBe(6);
    for (const action of actions) {
      expect(action.x).toBeGreaterThanOrEqual(0);
      expect(action.x + action.width).toBeLessThanOrEqual(phoneViewport.width);
      expect(action.height).toBeGreaterThanOrEqual(38);
    }
    // Each cell says which column it is.
    const label = await page.locator('#attendees-table td[data-field="position"]').first().evaluate((cell) => getComputedStyle(cell, '::before').content);
    expect(label).toBe('"Chức vụ"');

    // The last tab (the public page) is on screen, not cut off at "Ch…".
    const [publicTab] = await boxes(page, '.tabs a[href^="/p/"]');
    expect(publicTab.x + publicTab.width).toBeLessThanOrEqual(phoneViewport.width);
    await expect.poll(() => page.locator('.tabs a[href^="/p/"]').isVisible()).toBe(true);

    // Small links get a ~40 px hit area: language switch, sign out, breadcrumb.
    for (const selector of ['.lang-switch a', '.header-end button[type="submit"]', '.meeting-nav-title a']) {
      for (const box of await boxes(page, selector)) expect(box.height, selector).toBeGreaterThanOrEqual(38);
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it('makes an editable cell look editable and reachable from the keyboard', async () => {
    const { page } = await organizerPage({ width: 1280, height: 900 });
    await page.goto(`${app.baseUrl}/meetings/${meetingId}/attendees`);
    const cell = page.locator('#attendees-table td[data-field="position"]').first();
    expect(await cell.evaluate((element) => getComputedStyle(element).textDecorationStyle)).toBe('dotted');
    expect(await cell.getAttribute('tabindex')).toBe('0');
    await cell.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => cell.locator('input').count()).toBe(1);
    await page.close();
  });
});

describe('the attendee list on a desktop', () => {
  it('fits the table with its actions, keeps phone numbers on one line and lays the filters out in a row', async () => {
    const { page, problems } = await organizerPage({ width: 1280, height: 900 });
    await page.goto(`${app.baseUrl}/meetings/${meetingId}/attendees`);
    expect(await page.locator('.table-wrap').evaluate((wrap) => wrap.scrollWidth <= wrap.clientWidth)).toBe(true);
    const phoneLines = await page.locator('#attendees-table td[data-field="phone"]').first().evaluate((cell) => {
      const range = document.createRange();
      range.selectNodeContents(cell);
      return range.getClientRects().length;
    });
    expect(phoneLines).toBe(1);
    // The search box (with its long hint) on its own line, the filters side by side with the button.
    const [search] = await boxes(page, '#attendee-q');
    expect(search.width).toBeGreaterThan(800);
    const filters = await boxes(page, '.attendee-filters select, .attendee-filters button');
    expect(filters.length).toBe(5);
    for (const filter of filters) expect(Math.abs(filter.y - filters[0].y)).toBeLessThan(2);
    // The page has an icon: no /favicon.ico 404.
    expect(await page.locator('link[rel="icon"]').count()).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('the meeting form', () => {
  it('lines up start with end and duration with time zone', async () => {
    const { page } = await organizerPage({ width: 1280, height: 900 });
    await page.goto(`${app.baseUrl}/meetings/new`);
    const [start] = await boxes(page, '#field-start');
    const [end] = await boxes(page, '#field-end');
    const [duration] = await boxes(page, '#field-durationMinutes');
    const [zone] = await boxes(page, '#field-timeZone');
    expect(start.y).toBeCloseTo(end.y, 0);
    expect(start.height).toBeCloseTo(end.height, 0);
    expect(duration.y).toBeCloseTo(zone.y, 0);
    expect(duration.height).toBeCloseTo(zone.height, 0);
    await page.close();
  });
});

describe('the doors around the pages', () => {
  it('gives the chair links to the meeting overview, attendees and bridge points', async () => {
    const chair = await createAttendee(app.organizer, { meetingId, fullName: 'Huỳnh Minh Tuấn', position: 'Phó Chủ tịch UBND tỉnh', role: 'chair' });
    const { accessToken } = (await AttendeeModel.findById(chair.id).lean())!;
    const client = app.newClient();
    expect((await client.openLink(`/a/${accessToken}`)).location).toBe('/my');
    const home = await client.get('/my');
    expect(home.text).toContain('<title>Giấy mời của tôi');
    for (const path of [`/meetings/${meetingId}`, `/meetings/${meetingId}/attendees`, `/meetings/${meetingId}/sites`]) {
      expect(home.text).toContain(`href="${path}"`);
      expect((await client.get(path)).status, path).toBe(200);
    }
  });

  it('tells someone whose personal link no longer works what happened, and delegates where to go', async () => {
    const expired = await app.newClient().get('/login?next=%2Fmy');
    expect(expired.text).toContain('Đường dẫn này không còn hiệu lực');
    expect(expired.text).toContain('mở đường dẫn riêng mà ban tổ chức đã gửi');
    const plain = await app.newClient().get('/login');
    expect(plain.text).not.toContain('Đường dẫn này không còn hiệu lực');
    expect(plain.text).toContain('mở đường dẫn riêng mà ban tổ chức đã gửi');
  });
});
