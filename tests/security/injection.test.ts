// Names that are attacks: HTML and <script> in every name an organizer types (meeting, site,
// attendee, agenda item, directive) never run in any page, also when they arrive live over the
// socket; CRLF in those names never adds a line to a calendar file or a header to an e-mail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser } from '../helpers/browser.js';
import { HttpClient } from '../helpers/http.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { deliveriesSettled } from '../../server/calendar/mail.js';
import { formatProblems, unfold } from '../calendar/fixtures.js';
import { eventually } from '../live/fixtures.js';
import { buildWorld, password, type World } from './world.js';

/** Each fires a dialog (or sets a marker) if the browser ever treats it as markup. */
const xss = (tag: string) => `<script>alert('${tag}')</script>"'><img src=x onerror=alert('${tag}')><svg onload=alert('${tag}')>`;
/** Lines a calendar file or e-mail must never gain. */
const crlf = '\r\nBcc: victim@example.com\r\nX-Injected: yes\r\nATTENDEE:mailto:evil@example.com\r\n';

let smtp: SMTPServer;
let app: TestApp;
let world: World;
let browser: Browser;
let organizer: HttpClient;
const inbox: string[] = [];
const stored: Record<string, number> = {};
const refusedWithCrlf: string[] = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        inbox.push(Buffer.concat(chunks).toString('utf8'));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  app = await startTestApp({ calendar: { mailFrom: 'hoi-nghi@so-khcn.example.vn', smtpUrl: `smtp://127.0.0.1:${port}`, publicUrl: 'https://hoinghi.example.vn' } });
  world = await buildWorld(app);
  browser = await launchBrowser();
  organizer = new HttpClient(app.baseUrl);
  await organizer.signIn(world.accounts.organizer, password);

  // Every name the organizer types, made hostile (a refused one stays as it was: also fine).
  const m = world.meetingId;
  const changes: Array<[string, string, string, Record<string, unknown>]> = [
    ['meeting', 'PATCH', `/api/v1/meetings/${m}`, { title: `Hội nghị ${xss('xss-meeting')}${crlf}`, organizingUnit: `Sở ${xss('xss-unit')}${crlf}` }],
    ['site', 'PATCH', `/api/v1/meetings/${m}/sites/${world.siteB.id}`, { name: `Huyện ${xss('xss-site')}${crlf}`, address: `${xss('xss-address')}${crlf}` }],
    ['attendee', 'PATCH', `/api/v1/meetings/${m}/attendees/${world.other.id}`, { fullName: `Đại biểu ${xss('xss-attendee')}${crlf}`, position: xss('xss-position'), email: 'dai-bieu@example.vn' }],
    ['agenda', 'PATCH', `/api/v1/meetings/${m}/agenda/items/${world.itemId}`, { title: `Báo cáo ${xss('xss-agenda')}${crlf}`, notes: xss('xss-notes') }],
    ['directive', 'PATCH', `/api/v1/meetings/${m}/directives/${world.directiveId}`, { text: `Chỉ đạo ${xss('xss-directive')}${crlf}` }],
  ];
  for (const [name, method, path, body] of changes) {
    const response = await organizer.json(method, path, body);
    expect(response.status, `${name}: ${response.text.slice(0, 200)}`).toBeLessThan(500);
    stored[`${name} with CRLF`] = response.status;
    if (response.status < 400) continue;
    // Refused for its line breaks (a name is one line): the markup alone must still be stored as text.
    const oneLine = Object.fromEntries(Object.entries(body).map(([field, value]) => [field, typeof value === 'string' ? value.replaceAll(crlf, ' ') : value]));
    const again = await organizer.json(method, path, oneLine);
    expect(again.status, `${name}: ${again.text.slice(0, 300)}`).toBeLessThan(500);
    stored[name] = again.status;
    refusedWithCrlf.push(`${name}: ${response.text.slice(0, 200)}`);
  }
  // The attendee's address changed: their personal link went with it (a new one for the new address).
  world.other.token = (await AttendeeModel.findById(world.other.id, { accessToken: 1 }).lean())!.accessToken;
}, 120_000);

afterAll(async () => {
  await deliveriesSettled();
  await browser?.close();
  await app?.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

/** A page in a browser signed in with `client`'s cookies, recording every dialog and page error. */
async function watchedPage(client: HttpClient): Promise<{ page: Page; fired: string[]; close(): Promise<void> }> {
  const context = await browser.newContext();
  const cookies = client
    .cookieHeader()
    .split('; ')
    .filter(Boolean)
    .map((pair) => {
      const index = pair.indexOf('=');
      return { name: pair.slice(0, index), value: pair.slice(index + 1), url: app.baseUrl };
    });
  if (cookies.length > 0) await context.addCookies(cookies);
  const page = await context.newPage();
  const fired: string[] = [];
  page.on('dialog', (dialog) => {
    fired.push(`${page.url()}: dialog ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => fired.push(`${page.url()}: page error ${error.message}`));
  return { page, fired, close: () => context.close() };
}

describe('HTML and script in names', () => {
  it('the names were stored (as text) or refused, never a server error', () => {
    expect(Object.values(stored).every((status) => status < 500)).toBe(true);
    // Markup is text like any other: every name took it.
    expect(Object.entries(stored).filter(([name, status]) => !name.endsWith('CRLF') && status !== 200), refusedWithCrlf.join('\n')).toEqual([]);
  });

  it('run in no page: organizer pages, day-of screens, public page, the attendee’s and the coordinator’s pages', async () => {
    const m = world.meetingId;
    const asOrganizer = await watchedPage(organizer);
    for (const path of [
      '/meetings',
      `/meetings/${m}`,
      `/meetings/${m}/attendees`,
      `/meetings/${m}/attendees/${world.other.id}/edit`,
      `/meetings/${m}/sites`,
      `/meetings/${m}/sites/${world.siteB.id}/edit`,
      `/meetings/${m}/agenda`,
      `/meetings/${m}/calendar`,
      `/meetings/${m}/tasks`,
      `/meetings/${m}/live`,
      `/meetings/${m}/chair`,
      `/meetings/${m}/wall`,
      `/meetings/${m}/sites/${world.siteB.id}/checkin`,
      `/meetings/${m}/sites/${world.siteB.id}/wall`,
      `/p/${world.publicId}`,
    ]) {
      const response = await asOrganizer.page.goto(`${app.baseUrl}${path}`);
      expect(response?.status(), path).toBe(200);
      await asOrganizer.page.waitForLoadState('load');
    }
    // The attendee list shows the name as text.
    await asOrganizer.page.goto(`${app.baseUrl}/meetings/${m}/attendees`);
    expect(await asOrganizer.page.textContent('body')).toContain("<script>alert('xss-attendee')</script>");
    await asOrganizer.close();

    const attendee = app.newClient();
    await attendee.openLink(`/a/${world.other.token}`);
    const asAttendee = await watchedPage(attendee);
    for (const path of ['/my', '/my/live']) {
      expect((await asAttendee.page.goto(`${app.baseUrl}${path}`))?.status(), path).toBe(200);
      await asAttendee.page.waitForLoadState('load');
    }
    await asAttendee.close();

    const coordinator = app.newClient();
    await coordinator.openLink(`/s/${world.siteB.token}`);
    const asCoordinator = await watchedPage(coordinator);
    for (const path of ['/my/site', '/my/tasks', '/my/site/calendar']) {
      expect((await asCoordinator.page.goto(`${app.baseUrl}${path}`))?.status(), path).toBe(200);
      await asCoordinator.page.waitForLoadState('load');
    }
    await asCoordinator.close();

    expect([...asOrganizer.fired, ...asAttendee.fired, ...asCoordinator.fired]).toEqual([]);
  }, 180_000);

  it('run in no live screen when they arrive over the socket (a walk-in and a speaker request named with markup)', async () => {
    const m = world.meetingId;
    const watched = await watchedPage(organizer);
    await watched.page.goto(`${app.baseUrl}/meetings/${m}/sites/${world.siteB.id}/checkin`);
    await watched.page.waitForLoadState('load');
    const dashboard = await watchedPage(organizer);
    await dashboard.page.goto(`${app.baseUrl}/meetings/${m}/live`);
    await dashboard.page.waitForLoadState('load');
    const coordinatorB = HttpClient.withBearer(app.baseUrl, world.siteB.token);
    const walkIn = await coordinatorB.json('POST', `/api/v1/meetings/${m}/live/commands/attendance:addWalkIn`, { siteId: world.siteB.id, opId: 'walkin-xss-0001', fullName: `Khách ${xss('xss-walkin')}` });
    expect(walkIn.status).toBe(200);
    const request = await coordinatorB.json('POST', `/api/v1/meetings/${m}/live/commands/speakers:request`, { opId: 'speak-xss-0001', topic: `Ý kiến ${xss('xss-topic')}`, name: `Người nói ${xss('xss-speaker')}` });
    expect(request.status).toBe(200);
    const shown = await eventually(
      async () => ((await watched.page.textContent('body')) ?? '').includes("alert('xss-walkin')") && ((await dashboard.page.textContent('body')) ?? '').includes("alert('xss-topic')"),
      (seen) => seen,
      10_000,
    );
    expect(shown, 'the live screens show the new names as text').toBe(true);
    expect([...watched.fired, ...dashboard.fired]).toEqual([]);
    await watched.close();
    await dashboard.close();
  }, 60_000);
});

describe('CRLF in names', () => {
  const injectedLine = /^(BCC|X-INJECTED|ATTENDEE:mailto:evil)/im;

  it('adds no line to any calendar file (public, personal, site, feed), and each stays well-formed', async () => {
    const attendee = HttpClient.withBearer(app.baseUrl, world.other.token);
    const coordinator = HttpClient.withBearer(app.baseUrl, world.siteB.token);
    const files = [
      await app.newClient().get(`/p/${world.publicId}/calendar.ics`),
      await attendee.get('/my/calendar.ics'),
      await coordinator.get('/my/site/calendar.ics'),
      await app.newClient().get(`/calendar/feeds/${world.feedToken}.ics`),
    ];
    for (const file of files) {
      expect(file.status).toBe(200);
      expect(formatProblems(file.text)).toEqual([]);
      const lines = unfold(file.text).split('\r\n');
      expect(lines.filter((line) => injectedLine.test(line))).toEqual([]);
      expect(lines.filter((line) => line.startsWith('BEGIN:VEVENT')).length).toBeGreaterThan(0);
    }
  });

  it('adds no header to an invitation e-mail', async () => {
    const sent = await organizer.json('POST', `/api/v1/meetings/${world.meetingId}/invitations`, { scope: 'all' });
    expect(sent.status).toBeLessThan(300);
    await deliveriesSettled();
    const message = await eventually(
      () => inbox.find((raw) => raw.includes('dai-bieu@example.vn')),
      (found) => found !== undefined,
      10_000,
    );
    expect(message).toBeDefined();
    const headers = message!.slice(0, message!.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
    expect(headers.split('\r\n').filter((line) => injectedLine.test(line))).toEqual([]);
    expect(headers).toMatch(/^To: /m);
    expect(headers.match(/^To: .*$/m)![0]).not.toContain('\n');
  });
});
