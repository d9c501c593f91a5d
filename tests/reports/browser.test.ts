// The printable attendance report in headless Chromium: with print media emulated at the width
// of an A4 page's printable area (210 mm less the 10 mm margins of its @page rule), nothing is
// wider than the page, the app's header and tabs are gone, the chart and tables are there in
// Vietnamese, and the PDF Chromium prints is A4. A screenshot is kept for a person to look at.
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { organizerCredentials, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, phoneViewport } from '../helpers/browser.js';
import { testUnit } from '../helpers/database.js';
import { endedMeetingWith } from './fixtures.js';

let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** CSS pixels across A4's printable width: (210 mm - 2 x 10 mm) at 96 px per inch. */
const a4PrintableWidth = Math.floor(((210 - 20) / 25.4) * 96);

describe('the printable attendance report', () => {
  it('fits an A4 page in print media, in Vietnamese, with its chart and tables', async () => {
    const day = await endedMeetingWith(app.organizer, 300, { unitId: testUnit.id });
    const context = await browser.newContext({ viewport: { width: a4PrintableWidth, height: 1100 }, locale: 'vi-VN' });
    const page = await context.newPage();
    // The page's styles come from the app's stylesheet: the Content-Security-Policy blocks inline ones.
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && message.text().includes('Content Security Policy')) blocked.push(message.text());
    });
    await page.goto(`${app.baseUrl}/login`);
    await page.fill('input[name="email"]', organizerCredentials.email);
    await page.fill('input[name="password"]', organizerCredentials.password);
    await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.click('button[type="submit"]')]);

    await page.goto(`${app.baseUrl}/meetings/${day.meetingId}/report`);
    await page.emulateMedia({ media: 'print' });
    await expect.poll(() => page.evaluate(() => getComputedStyle(document.querySelector('.site-header')!).display)).toBe('none');

    const layout = await page.evaluate((limit) => {
      const tooWide = [...document.querySelectorAll('body *')]
        .filter((element) => {
          const box = element.getBoundingClientRect();
          return box.width > 0 && (box.right > limit + 0.5 || box.left < -0.5);
        })
        .map((element) => `${element.tagName.toLowerCase()}.${element.className} ${Math.round(element.getBoundingClientRect().right)}`);
      return {
        scrollWidth: document.documentElement.scrollWidth,
        tooWide,
        heading: document.querySelector('h1')?.textContent,
        lang: document.documentElement.lang,
        chartRows: document.querySelectorAll('svg.chart [data-chart-row]').length,
        tables: [...document.querySelectorAll('[data-table] h2')].map((h2) => h2.textContent),
        navShown: getComputedStyle(document.querySelector('.meeting-nav')!).display !== 'none',
        exportsShown: getComputedStyle(document.querySelector('.report-actions')!).display !== 'none',
      };
    }, a4PrintableWidth);
    expect(blocked).toEqual([]);
    expect(layout.tooWide).toEqual([]);
    expect(layout.scrollWidth).toBeLessThanOrEqual(a4PrintableWidth);
    expect(layout).toMatchObject({ heading: 'Báo cáo điểm danh', lang: 'vi', chartRows: 13, navShown: false, exportsShown: false });
    expect(layout.tables).toEqual(['Theo điểm cầu', 'Theo cơ quan, đơn vị', 'Theo vai trò', 'Chương trình: kế hoạch và thực tế']);

    const screenshot = path.join(process.env.REPORT_SCREENSHOT_DIR ?? tmpdir(), 'bridgepoint-report-print-a4.png');
    await page.screenshot({ path: screenshot, fullPage: true });

    // What Chromium prints honours the page's @page rule: A4 (595 x 842 pt) pages.
    const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF')).toBe(true);
    const boxes = [...text.matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)].map((match) => [Math.round(Number(match[1])), Math.round(Number(match[2]))]);
    expect(boxes.length).toBeGreaterThan(0);
    for (const box of boxes) expect(box).toEqual([595, 842]);

    // On a phone's screen the page does not scroll sideways: wide tables scroll in their own box.
    await page.emulateMedia({ media: 'screen' });
    await page.setViewportSize(phoneViewport);
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(phoneViewport.width);
    expect(await page.evaluate(() => document.querySelector('svg.chart')!.getBoundingClientRect().width)).toBeLessThanOrEqual(phoneViewport.width);
    await context.close();
  }, 120_000);
});
