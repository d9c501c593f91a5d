// The organizer's dashboard when revisions go missing and the connection drops at the wrong
// moment (client/_live.ts). A revision whose event never comes (the process stopped between its
// write and its event) is made here with commitMeetingChange and no events. The page's socket runs
// through a route that can cut it (both ends, so the server keeps the session for recovery) and
// hold the page's next Socket.IO connect until the test lets it through, as a district link that
// drops and takes a while to come back would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser } from '../helpers/browser.js';
import { conferenceDay, signInOrganizer, type ConferenceDay } from './fixtures.js';
import { setSiteLink } from '../../server/sites/link-status.js';
import { commitMeetingChange } from '../../server/meetings/revision.js';
import { getLiveSnapshot } from '../../server/live/queries.js';
import type { LiveSnapshot } from '../../server/live/contract.js';

let app: TestApp;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await app?.stop();
});

interface Link {
  /** Cuts the page's socket (both ends); with `hold`, reconnecting waits until `restore`. */
  cut(hold?: boolean): Promise<void>;
  restore(): void;
  /** Cut the socket as soon as the page asks for a snapshot (once). */
  cutAtNextSnapshot(): void;
  /** The answer to the page's next snapshot request carries this one instead (a lagging instance's). */
  answerNextSnapshotWith(snapshot: LiveSnapshot): void;
  /** Every answer to the page's snapshot requests carries this one, until called with undefined. */
  answerSnapshotsWith(snapshot: LiveSnapshot | undefined): void;
  /** Snapshot answers replaced so far. */
  replaced(): number;
  sent(command: string): number;
}

/** The dashboard of `day`, its socket running through a link the test can cut. */
async function dashboard(day: ConferenceDay): Promise<{ page: Page; link: Link; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  await signInOrganizer(context, app);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  let holding = false;
  const held: Array<() => void> = [];
  let cutAtSnapshot = false;
  let current: { page: WebSocketRoute; server: WebSocketRoute } | undefined;
  const counts = new Map<string, number>();
  let staleSnapshot: LiveSnapshot | undefined;
  let staleAlways = false;
  let staleAckId: string | undefined;
  let replaced = 0;
  const cutCurrent = async () => {
    const open = current;
    current = undefined;
    await open?.server.close();
    await open?.page.close();
  };
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    current = { page: ws, server };
    server.onMessage((message) => {
      const text = String(message);
      if (staleSnapshot && staleAckId !== undefined && text.startsWith(`43${staleAckId}[`)) {
        const id = staleAckId;
        const [ack] = JSON.parse(text.slice(2 + id.length)) as [{ ok: boolean; revision: number; snapshot: LiveSnapshot }];
        const stale = staleSnapshot;
        if (!staleAlways) staleSnapshot = undefined;
        staleAckId = undefined;
        replaced += 1;
        return void ws.send(`43${id}${JSON.stringify([{ ...ack, revision: stale.revision, snapshot: stale }])}`);
      }
      ws.send(message);
    });
    ws.onMessage((message) => {
      const text = String(message);
      const command = /^42\d*\["([^"]+)"/.exec(text)?.[1];
      if (command) counts.set(command, (counts.get(command) ?? 0) + 1);
      if (command === 'live:snapshot' && staleSnapshot) staleAckId = /^42(\d*)\[/.exec(text)?.[1];
      // The page's Socket.IO connect (with what it needs to be recovered) waits while held.
      if (holding && text.startsWith('40')) return void held.push(() => server.send(message));
      if (command === 'live:snapshot' && cutAtSnapshot) {
        cutAtSnapshot = false;
        void cutCurrent();
        return;
      }
      server.send(message);
    });
  });
  await page.goto(`${app.baseUrl}/meetings/${day.meetingId}/live`);
  await page.locator('#connection[data-connection="online"]').waitFor();
  const link: Link = {
    async cut(hold = false) {
      holding = hold;
      await cutCurrent();
    },
    restore() {
      holding = false;
      for (const send of held.splice(0)) send();
    },
    cutAtNextSnapshot: () => (cutAtSnapshot = true),
    answerNextSnapshotWith: (snapshot) => {
      staleSnapshot = snapshot;
      staleAlways = false;
    },
    answerSnapshotsWith: (snapshot) => {
      staleSnapshot = snapshot;
      staleAlways = snapshot !== undefined;
    },
    replaced: () => replaced,
    sent: (command) => counts.get(command) ?? 0,
  };
  return { page, link, problems };
}

const linkAt = (page: Page, siteId: string) => page.locator(`#sites-table tr[data-site="${siteId}"] .link-status`).textContent();

/** A change of the site's link that is written and whose event never goes out. */
function lostLinkChange(day: ConferenceDay, siteId: string, status: string) {
  const path = `live.sites.${siteId}`;
  return commitMeetingChange({
    meetingId: day.meetingId,
    update: { $set: { [`${path}.linkStatus`]: status, [`${path}.linkNote`]: '', [`${path}.linkAt`]: new Date() } },
    events: () => [],
  });
}

describe('a dashboard that misses revisions', () => {
  it('a revision still missing when the connection comes back recovered is filled by a snapshot', async () => {
    const day = await conferenceDay(app);
    const { page, link, problems } = await dashboard(day);
    await lostLinkChange(day, day.siteId, 'videoProblem');
    await setSiteLink(app.organizer, { meetingId: day.meetingId, siteId: day.mainSiteId, status: 'ready' });
    await expect.poll(() => linkAt(page, day.mainSiteId), { timeout: 10_000 }).toBe('Sẵn sàng');

    // The link drops before the page's wait for the skipped revision (1 s) runs out, and stays
    // down past it.
    await link.cut(true);
    await page.locator('#connection[data-connection="offline"]').waitFor();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const joins = link.sent('meeting:join');
    link.restore();
    await page.locator('#connection[data-connection="online"]').waitFor({ timeout: 20_000 });
    // The server recovered the connection (no new join): nothing replayed fills the revision.
    expect(link.sent('meeting:join')).toBe(joins);
    await expect.poll(() => linkAt(page, day.siteId), { timeout: 10_000 }).toBe('Lỗi hình ảnh');
    expect(await linkAt(page, day.mainSiteId)).toBe('Sẵn sàng');
    expect(problems).toEqual([]);
  }, 90_000);

  it('a snapshot older than what the page shows (a lagging instance answered) takes nothing back, and a later one fills the gap', async () => {
    const day = await conferenceDay(app);
    const { page, link, problems } = await dashboard(day);
    // What an instance whose copy of the meeting lags would answer: the meeting as it is now.
    const stale = await getLiveSnapshot(app.organizer, day.meetingId, { attendance: 'latecomers' });
    await setSiteLink(app.organizer, { meetingId: day.meetingId, siteId: day.mainSiteId, status: 'audioProblem' });
    await expect.poll(() => linkAt(page, day.mainSiteId), { timeout: 10_000 }).toBe('Lỗi âm thanh');
    // Every text the main site's link cell shows from now on.
    await page.evaluate((siteId) => {
      const table = document.querySelector('#sites-table')!;
      const shown: string[] = [];
      (window as unknown as { shown: string[] }).shown = shown;
      const look = () => shown.push(table.querySelector(`tr[data-site="${siteId}"] .link-status`)?.textContent ?? '');
      new MutationObserver(look).observe(table, { childList: true, characterData: true, subtree: true, attributes: true });
    }, day.mainSiteId);

    // A revision whose event never comes, then one that does (the other site's link): after 1 s
    // the page asks for a snapshot, and gets the stale one, older than the main site's link.
    link.answerNextSnapshotWith(stale);
    const asked = link.sent('live:snapshot');
    await lostLinkChange(day, day.siteId, 'videoProblem');
    await setSiteLink(app.organizer, { meetingId: day.meetingId, siteId: day.siteId, status: 'ready' });
    await expect.poll(() => link.replaced(), { timeout: 10_000 }).toBe(1);
    // It fills no gap: the page asks again a little later, and that answer is the real one.
    await expect.poll(() => link.sent('live:snapshot'), { timeout: 15_000 }).toBeGreaterThanOrEqual(asked + 2);
    await expect.poll(() => linkAt(page, day.siteId), { timeout: 10_000 }).toBe('Sẵn sàng');
    expect(await linkAt(page, day.mainSiteId)).toBe('Lỗi âm thanh');
    // The stale answer never took the main site's newer link status back.
    const shown = await page.evaluate(() => (window as unknown as { shown: string[] }).shown);
    expect(shown.length).toBeGreaterThan(0);
    expect([...new Set(shown)]).toEqual(['Lỗi âm thanh']);
    expect(problems).toEqual([]);
  }, 90_000);

  it('far behind while the instance answering its snapshots lags as far: it asks again with the back-off, not in a loop, and catches up when the answers do', async () => {
    const day = await conferenceDay(app);
    const { page, link, problems } = await dashboard(day);
    // Every snapshot answered as the meeting is now, however far it moves on.
    link.answerSnapshotsWith(await getLiveSnapshot(app.organizer, day.meetingId, { attendance: 'latecomers' }));
    const asked = link.sent('live:snapshot');
    for (let i = 0; i < 101; i++) await commitMeetingChange({ meetingId: day.meetingId, events: () => [] });
    // An event more than 100 revisions ahead: the page asks for a snapshot, which is as far behind.
    await setSiteLink(app.organizer, { meetingId: day.meetingId, siteId: day.mainSiteId, status: 'ready' });
    await expect.poll(() => link.replaced(), { timeout: 10_000 }).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // About one a second at first, then later and later (a loop asked hundreds of times).
    expect(link.sent('live:snapshot') - asked).toBeLessThanOrEqual(5);
    expect(await linkAt(page, day.mainSiteId)).not.toBe('Sẵn sàng');

    link.answerSnapshotsWith(undefined);
    await expect.poll(() => linkAt(page, day.mainSiteId), { timeout: 20_000 }).toBe('Sẵn sàng');
    expect(problems).toEqual([]);
  }, 90_000);

  it('far behind, with the connection cut while its snapshot is asked for: the page keeps running and catches up', async () => {
    const day = await conferenceDay(app);
    const { page, link, problems } = await dashboard(day);
    await lostLinkChange(day, day.siteId, 'audioProblem');
    for (let i = 0; i < 100; i++) await commitMeetingChange({ meetingId: day.meetingId, events: () => [] });
    const snapshots = link.sent('live:snapshot');
    link.cutAtNextSnapshot();
    // An event more than 100 revisions ahead: the page asks for a snapshot, and the link drops.
    await setSiteLink(app.organizer, { meetingId: day.meetingId, siteId: day.mainSiteId, status: 'ready' });
    await expect.poll(() => link.sent('live:snapshot'), { timeout: 10_000 }).toBeGreaterThan(snapshots);

    await page.locator('#connection[data-connection="online"]').waitFor({ timeout: 20_000 });
    await expect.poll(() => linkAt(page, day.siteId), { timeout: 10_000 }).toBe('Lỗi âm thanh');
    await expect.poll(() => linkAt(page, day.mainSiteId), { timeout: 10_000 }).toBe('Sẵn sàng');
    expect(await page.evaluate(() => document.readyState)).toBe('complete');
    expect(problems).toEqual([]);
  }, 90_000);
});
