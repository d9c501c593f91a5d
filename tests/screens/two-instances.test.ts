// A dashboard on one instance while changes are made on another: a change relayed through Redis
// can reach the page after a later change made on the page's own instance. The page shows each
// change as it comes and waits a moment for the skipped one instead of fetching a snapshot (with
// thousands of phones that would be thousands of snapshots for nothing); a skipped change that
// never comes is filled by one snapshot. The second instance reaches Redis through a relay that
// can hold its traffic, as a stalled link would: its change is written, and its event waits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser } from '../helpers/browser.js';
import { holdableLinkTo, startRedis, type HeldLink, type RedisServer } from '../helpers/redis.js';
import { startSecondInstance, type SecondInstance } from '../helpers/second-instance.js';
import { Screens, send } from '../live/fixtures.js';
import { conferenceDay, signInOrganizer, type ConferenceDay } from './fixtures.js';
import { setSiteLink } from '../../server/sites/link-status.js';

let redis: RedisServer;
let secondLink: HeldLink;
let first: TestApp;
let second: SecondInstance;
let onSecond: Screens;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  redis = await startRedis();
  first = await startTestApp({ redisUrl: redis.url });
  secondLink = await holdableLinkTo(redis);
  second = await startSecondInstance(first, secondLink.url);
  onSecond = new Screens(second.baseUrl);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  secondLink?.release();
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  onSecond?.closeAll();
  await second?.stop();
  await secondLink?.stop();
  await first?.stop();
  await redis?.stop();
});

/** The organizer's dashboard on the first instance, counting the snapshots its page asks for. */
async function dashboard(day: ConferenceDay): Promise<{ page: Page; snapshots: () => number; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  await signInOrganizer(context, first);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  let snapshots = 0;
  page.on('websocket', (socket) => socket.on('framesent', (frame) => {
    if (typeof frame.payload === 'string' && frame.payload.includes('"live:snapshot"')) snapshots += 1;
  }));
  await page.goto(`${first.baseUrl}/meetings/${day.meetingId}/live`);
  await page.locator('#connection[data-connection="online"]').waitFor();
  return { page, snapshots: () => snapshots, problems };
}

const linkAt = (page: Page, siteId: string) => page.locator(`#sites-table tr[data-site="${siteId}"] .link-status`).textContent();

/**
 * A day with the organizer's dashboard on the first instance and the district coordinator's screen
 * joined on the second (the dashboard has seen it come); `snapshots` counts those asked since.
 */
async function twoInstanceDay() {
  const day = await conferenceDay(first);
  const { page, snapshots, problems } = await dashboard(day);
  const coordinator = await onSecond.join(day.meetingId, { token: day.coordinatorToken });
  await expect.poll(() => page.locator(`#sites-table tr[data-site="${day.siteId}"] .presence`).getAttribute('class')).toContain('is-connected');
  const before = snapshots();
  return { day, page, problems, coordinator, snapshots: () => snapshots() - before };
}

describe('a dashboard on one instance, changes made on another', () => {
  it('shows a later local change at once and the earlier relayed one when it arrives, without a snapshot', async () => {
    const { day, page, problems, coordinator, snapshots } = await twoInstanceDay();

    secondLink.hold();
    try {
      // Revision R on the second instance: written, and its event waits on the held link.
      const relayed = await send(coordinator, 'site:setLink', { meetingId: day.meetingId, siteId: day.siteId, status: 'audioProblem' });
      // Revision R + 1 on the first instance, pushed to the page at once.
      const local = await setSiteLink(first.organizer, { meetingId: day.meetingId, siteId: day.mainSiteId, status: 'ready' });
      expect({ relayed: relayed.ok, order: local.revision > relayed.revision }).toEqual({ relayed: true, order: true });
      // Both read in the page at once, and the link released at once: the page gives the skipped
      // revision a second before it asks for a snapshot, and a loaded machine should not spend
      // that second between the test's own round trips.
      const shown = await page.waitForFunction(
        ({ main, site }) => {
          const status = (id: string) => document.querySelector(`#sites-table tr[data-site="${id}"] .link-status`)?.textContent;
          return status(main) === 'Sẵn sàng' ? { main: status(main), site: status(site) } : undefined;
        },
        { main: day.mainSiteId, site: day.siteId },
      );
      secondLink.release();
      expect(await shown.jsonValue()).toEqual({ main: 'Sẵn sàng', site: 'Chưa báo' });
      await expect.poll(() => linkAt(page, day.siteId)).toBe('Lỗi âm thanh');
      expect(await linkAt(page, day.mainSiteId)).toBe('Sẵn sàng');
      expect(snapshots()).toBe(0);
    } finally {
      secondLink.release();
    }
    expect(problems).toEqual([]);
  });

  it('a skipped change that does not come is filled by one snapshot, and the page ends as the server is', async () => {
    const { day, page, problems, coordinator, snapshots } = await twoInstanceDay();

    secondLink.hold();
    try {
      await send(coordinator, 'site:setLink', { meetingId: day.meetingId, siteId: day.siteId, status: 'videoProblem' });
      await setSiteLink(first.organizer, { meetingId: day.meetingId, siteId: day.mainSiteId, status: 'ready' });
      await expect.poll(() => linkAt(page, day.mainSiteId)).toBe('Sẵn sàng');
      // The link stays held: the page gives up waiting and asks for a snapshot, which has both.
      await expect.poll(() => snapshots(), { timeout: 10_000 }).toBe(1);
      await expect.poll(() => linkAt(page, day.siteId)).toBe('Lỗi hình ảnh');
      expect(await linkAt(page, day.mainSiteId)).toBe('Sẵn sàng');
    } finally {
      secondLink.release();
    }
    // The late relay changes nothing (the snapshot already had it), and no second snapshot follows.
    const next = await setSiteLink(first.organizer, { meetingId: day.meetingId, siteId: day.mainSiteId, status: 'offline' });
    expect(next.revision).toBeGreaterThan(0);
    await expect.poll(() => linkAt(page, day.mainSiteId)).toBe('Mất tín hiệu');
    expect(await linkAt(page, day.siteId)).toBe('Lỗi hình ảnh');
    expect(snapshots()).toBe(1);
    expect(problems).toEqual([]);
  });
});
