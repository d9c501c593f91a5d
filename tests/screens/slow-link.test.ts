// A district on a slow link: the coordinator's check-in page and the attendee's page, opened for
// the first time (empty cache) on Chromium DevTools' "Slow 3G" profile — 2,000 ms latency,
// 400 kbit/s (50,000 bytes/s) down and up, i.e. DevTools' 500 kbit/s × 0.8 — show their content
// within 3 s and take under 60 KB on the wire, page, bundle and live connection included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, phoneViewport } from '../helpers/browser.js';
import { conferenceDay, openLink } from './fixtures.js';

const slow3g = { offline: false, latency: 2000, downloadThroughput: 50_000, uploadThroughput: 50_000 };

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

interface FirstLoad {
  /** First contentful paint (the page with its list or QR code drawn), ms after navigation. */
  contentMs: number;
  loadEventMs: number;
  /** The page's script ran and its live connection joined the meeting. */
  liveMs: number;
  bytes: number;
  requests: number;
}

/** Opens `path` in a fresh context (no cache) with the session of `signedIn`, throttled. */
async function firstLoad(signedIn: BrowserContext, path: string): Promise<FirstLoad> {
  const context = await browser.newContext({ viewport: phoneViewport, isMobile: true, storageState: await signedIn.storageState() });
  try {
    const page = await context.newPage();
    // Notes when the live connection comes up, timed by the page's own clock.
    await page.addInitScript(() => {
      new MutationObserver((_changes, observer) => {
        if (document.getElementById('connection')?.dataset.connection === 'online') {
          (window as unknown as { liveAt: number }).liveAt = performance.now();
          observer.disconnect();
        }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-connection'] });
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', slow3g);
    let bytes = 0;
    let requests = 0;
    cdp.on('Network.loadingFinished', (event: { encodedDataLength: number }) => {
      bytes += event.encodedDataLength;
      requests += 1;
    });
    cdp.on('Network.webSocketFrameReceived', (event: { response: { payloadData: string } }) => (bytes += event.response.payloadData.length + 2));
    cdp.on('Network.webSocketFrameSent', (event: { response: { payloadData: string } }) => (bytes += event.response.payloadData.length + 6));
    await page.goto(`${app.baseUrl}${path}`, { waitUntil: 'load', timeout: 30_000 });
    await page.waitForFunction(() => (window as unknown as { liveAt?: number }).liveAt !== undefined, undefined, { timeout: 30_000 });
    const timing = await page.evaluate(() => {
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      return { contentMs: paint?.startTime ?? Infinity, loadEventMs: navigation.loadEventEnd, liveMs: (window as unknown as { liveAt: number }).liveAt };
    });
    return { ...timing, bytes, requests };
  } finally {
    await context.close();
  }
}

describe('first load on a Slow 3G link', () => {
  it('the coordinator’s check-in page and the attendee’s page show within 3 s, under 60 KB on the wire', async () => {
    const day = await conferenceDay(app);
    const coordinator = await browser.newContext();
    await openLink(coordinator, app, `/s/${day.coordinatorToken}`);
    const attendee = await browser.newContext();
    await openLink(attendee, app, `/a/${day.people[0]!.accessToken}`);

    const results = {
      coordinator: await firstLoad(coordinator, `/meetings/${day.meetingId}/sites/${day.siteId}/checkin`),
      attendee: await firstLoad(attendee, '/my/live'),
    };
    await coordinator.close();
    await attendee.close();
    console.table(Object.fromEntries(Object.entries(results).map(([name, load]) => [name, { 'content (ms)': Math.round(load.contentMs), 'load event (ms)': Math.round(load.loadEventMs), 'live (ms)': Math.round(load.liveMs), 'bytes on the wire': load.bytes, requests: load.requests }])));
    for (const load of Object.values(results)) {
      expect(load.contentMs).toBeLessThan(3000);
      expect(load.bytes).toBeLessThan(60_000);
      // One page request (its stylesheet and script inlined): the socket's own requests come after.
      expect(load.requests).toBeLessThanOrEqual(3);
    }
  }, 120_000);
});
