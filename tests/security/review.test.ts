// The security review's findings, each kept by a test: cookies behind TLS, a Content-Security-Policy
// without 'unsafe-inline' (scripts and styles) that every page keeps in Chromium, unguessable and
// revocable links and feeds, a brake on guessing links, and error answers without internals.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestApp, organizerCredentials, type TestApp } from '../helpers/app.js';
import { launchBrowser } from '../helpers/browser.js';
import { HttpClient } from '../helpers/http.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { CalendarFeedModel } from '../../server/calendar/model.js';
import { UserModel } from '../../server/accounts/model.js';
import { wrongLinkLimit } from '../../server/lib/link-guard.js';
import { buildWorld, type World } from './world.js';

let app: TestApp;
let world: World;
let browser: Browser;

beforeAll(async () => {
  app = await startTestApp({ trustProxy: '1' });
  world = await buildWorld(app);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

function cookieLine(response: { headers: Headers }, name: string): string | undefined {
  return response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));
}

describe('cookies', () => {
  it('behind a TLS proxy (trust proxy, X-Forwarded-Proto: https) the session and CSRF cookies are Secure, HttpOnly and SameSite=Lax, even outside production', async () => {
    const overTls = new HttpClient(app.baseUrl, { 'x-forwarded-proto': 'https' });
    const loginPage = await overTls.get('/login?lang=en');
    const csrf = cookieLine(loginPage, 'bp.csrf')!;
    expect(csrf).toMatch(/; Secure/i);
    expect(csrf).toMatch(/; HttpOnly/i);
    expect(csrf).toMatch(/; SameSite=Lax/i);
    expect(cookieLine(loginPage, 'lang')).toMatch(/; Secure/i);
    const signedIn = await overTls.signIn(organizerCredentials.email, organizerCredentials.password);
    expect(signedIn.status).toBe(303);
    const session = cookieLine(signedIn, 'bp.sid')!;
    expect(session).toMatch(/; Secure/i);
    expect(session).toMatch(/; HttpOnly/i);
    expect(session).toMatch(/; SameSite=Lax/i);

    // A personal link opened over TLS gets the same cookie.
    const link = await new HttpClient(app.baseUrl, { 'x-forwarded-proto': 'https' }).openLink(`/a/${world.self.token}`);
    expect(cookieLine(link, 'bp.sid')).toMatch(/; Secure; HttpOnly|; HttpOnly.*; Secure/i);
  });

  it('over plain HTTP in development the cookies still work (not Secure), and stay HttpOnly', async () => {
    const plain = app.newClient();
    const signedIn = await plain.signIn(organizerCredentials.email, organizerCredentials.password);
    const session = cookieLine(signedIn, 'bp.sid')!;
    expect(session).toMatch(/; HttpOnly/i);
    expect(session).not.toMatch(/; Secure/i);
    expect((await plain.get('/meetings')).status).toBe(200);
  });
});

describe('Content-Security-Policy', () => {
  it("allows no 'unsafe-inline' for scripts or styles; the day-of screens' inline stylesheet is allowed by its hash", async () => {
    const organizer = await app.signInOrganizer();
    const wall = await organizer.get(`/meetings/${world.meetingId}/wall`);
    expect(wall.status).toBe(200);
    const policy = wall.headers.get('content-security-policy')!;
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).not.toContain('unsafe-eval');
    const directives = Object.fromEntries(policy.split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));
    // Scripts: our own files, and exactly the two slow-link pages' inlined bundles by their hash.
    const { inlineScript, inlinedScripts } = await import('../../server/assets.js');
    const { createHash } = await import('node:crypto');
    const scriptHashes = inlinedScripts.map((entry) => `'sha256-${createHash('sha256').update(inlineScript(entry)).digest('base64')}'`);
    expect(directives['script-src']).toEqual(["'self'", ...scriptHashes]);
    expect(directives['style-src'][0]).toBe("'self'");
    const inline = /<style>([\s\S]*?)<\/style>/.exec(wall.text)![1];
    expect(directives['style-src']).toContain(`'sha256-${createHash('sha256').update(inline, 'utf8').digest('base64')}'`);
  });

  it('no page breaks the policy in Chromium: no violation, no inline style attribute refused, and the screens are styled', async () => {
    const context = await browser.newContext();
    const organizer = await app.signInOrganizer();
    const [name, value] = organizer.cookieHeader().split('; ').find((pair) => pair.startsWith('bp.sid='))!.split(/=(.*)/s);
    await context.addCookies([{ name, value, url: app.baseUrl }]);
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(`${page.url()}: ${message.text()}`);
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => console.error(`Refused to apply ${event.violatedDirective} ${event.blockedURI}`));
    });
    const m = world.meetingId;
    const pages = [
      '/meetings',
      `/meetings/${m}`,
      `/meetings/${m}/attendees`,
      `/meetings/${m}/sites`,
      `/meetings/${m}/agenda`,
      `/meetings/${m}/calendar`,
      `/meetings/${m}/tasks`,
      `/meetings/${m}/live`,
      `/meetings/${m}/chair`,
      `/meetings/${m}/wall`,
      `/meetings/${m}/sites/${world.siteB.id}/checkin`,
      `/meetings/${m}/sites/${world.siteB.id}/wall`,
      `/p/${world.publicId}`,
      '/admin/accounts',
    ];
    for (const path of pages) {
      const response = await page.goto(`${app.baseUrl}${path}`);
      expect(response?.status(), path).toBe(200);
      await page.waitForLoadState('load');
    }
    // The wall display is dark: its inline stylesheet applied.
    await page.goto(`${app.baseUrl}/meetings/${m}/wall`);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).not.toBe('rgba(0, 0, 0, 0)');
    expect(violations).toEqual([]);
    await context.close();
  }, 120_000);
});

describe('links and feeds', () => {
  it('every secret link and feed token carries at least 192 random bits, and invitations are stored only as a hash', async () => {
    const tokens = [
      ...(await SiteModel.find({}, { coordinatorToken: 1 }).lean()).map((site) => site.coordinatorToken),
      ...(await AttendeeModel.find({}, { accessToken: 1 }).lean()).map((attendee) => attendee.accessToken),
      ...(await CalendarFeedModel.find({ token: { $exists: true } }, { token: 1 }).lean()).map((feed) => feed.token as string),
      world.inviteToken,
    ];
    expect(tokens.length).toBeGreaterThan(10);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
    const pending = await UserModel.findOne({ email: 'pending@example.vn' }).lean();
    expect(JSON.stringify(pending)).not.toContain(world.inviteToken);
  });

  it('each kind of link can be revoked and the old one then answers 404: site link, personal link, feed, invitation', async () => {
    const organizer = new HttpClient(app.baseUrl);
    await organizer.signIn(world.accounts.organizer, 'correct horse battery staple');
    const m = world.meetingId;
    const anyone = () => app.newClient();

    expect((await anyone().openLink(`/s/${world.siteB.token}`)).status).toBe(303);
    expect((await organizer.json('POST', `/api/v1/meetings/${m}/sites/${world.siteB.id}/rotate-link`, {})).status).toBe(200);
    expect((await anyone().openLink(`/s/${world.siteB.token}`)).status).toBe(404);

    expect((await anyone().openLink(`/a/${world.other.token}`)).status).toBe(303);
    expect((await organizer.json('POST', `/api/v1/meetings/${m}/attendees/${world.other.id}/rotate-token`, {})).status).toBe(200);
    expect((await anyone().openLink(`/a/${world.other.token}`)).status).toBe(404);

    expect((await anyone().get(`/calendar/feeds/${world.feedToken}.ics`)).status).toBe(200);
    const renewed = await organizer.json('POST', `/api/v1/meetings/${m}/calendar/feeds`, { scope: 'unit' });
    expect(renewed.status).toBeLessThan(300);
    expect((await anyone().get(`/calendar/feeds/${world.feedToken}.ics`)).status).toBe(404);
    expect((await organizer.json('DELETE', `/api/v1/meetings/${m}/calendar/feeds`, { scope: 'unit' })).status).toBeLessThan(300);
    const stored = await CalendarFeedModel.find({ scope: 'unit' }).lean();
    expect(stored.every((feed) => !feed.token)).toBe(true);

    expect((await anyone().get(`/invite/${world.inviteToken}`)).status).toBe(200);
    const admin = await app.signInOrganizer();
    const pending = (await UserModel.findOne({ email: 'pending@example.vn' }).lean())!;
    expect((await admin.json('POST', `/api/v1/accounts/${String(pending._id)}/reset`, {})).status).toBeLessThan(300);
    expect((await anyone().get(`/invite/${world.inviteToken}`)).status).toBe(404);
  });

  it(`after ${wrongLinkLimit} wrong links from one address, links answer 429 in the asker's language; right links did not count`, async () => {
    const guesser = app.newClient();
    for (let index = 0; index < 5; index++) expect((await guesser.openLink(`/a/${world.self.token}`)).status).toBe(303);
    const kinds = ['/a/', '/s/', '/invite/'];
    // The tests above opened a few revoked links from this address too: those counted as well.
    let wrongAnswered = 0;
    for (let index = 0; index < wrongLinkLimit; index++) {
      const wrong = `${kinds[index % kinds.length]}${'x'.repeat(32)}${index}`;
      const response = await guesser.get(wrong);
      if (response.status === 429) break;
      expect(response.status, wrong).toBe(404);
      wrongAnswered++;
    }
    expect(wrongAnswered).toBeGreaterThan(wrongLinkLimit - 10);
    const refused = await guesser.get(`/s/${'y'.repeat(32)}?lang=en`);
    expect(refused.status).toBe(429);
    expect(refused.text).toContain('Too many invalid links were opened from this address.');
    const api = await guesser.request('GET', `/a/${'z'.repeat(32)}`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(429);
    expect(api.json.error.code).toBe('too_many_requests');
    // Calendar services poll every subscriber's feed from shared addresses: feeds are not braked.
    expect((await guesser.get(`/calendar/feeds/${'w'.repeat(32)}.ics`)).status).toBe(404);
  });
});

describe('templates', () => {
  it("carry no inline event handler, style attribute or <style> of their own (the policy would refuse them)", () => {
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.hbs')) {
          const text = readFileSync(path, 'utf8').replace(/\{\{!--[\s\S]*?--\}\}/g, '');
          for (const match of text.matchAll(/\s(on[a-z]+|style)\s*=|<style(?![^>]*>\{\{\{inlineAsset)|javascript:/gi)) found.push(`${path}: ${match[0].trim()}`);
        }
      }
    };
    walk(fileURLToPath(new URL('../../views', import.meta.url)));
    expect(found).toEqual([]);
  });
});

describe('error answers', () => {
  it('when the error page itself cannot be drawn, the answer is one line in the asker’s language, not a stack', async () => {
    const express = app.express as unknown as { render: (...args: unknown[]) => void };
    const render = express.render;
    express.render = (...args: unknown[]) => (args.at(-1) as (error: Error) => void)(new Error('client bundle "styles.css" is not built'));
    try {
      const missing = await (await app.signInOrganizer()).get('/no-such-page?lang=en');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(missing.text).not.toMatch(/Error|styles\.css|at \w|<pre>/);
      expect(missing.text.length).toBeGreaterThan(0);
    } finally {
      express.render = render;
    }
  });

  it('carry no stack trace, file path or internals, in HTML or JSON', async () => {
    const client = app.newClient();
    const answers = [
      await client.get('/meetings/not-an-id'),
      await client.request('GET', '/api/v1/meetings/zzz', { headers: { accept: 'application/json' } }),
      await client.request('POST', '/login', { body: '{"email":', headers: { 'content-type': 'application/json', accept: 'application/json' } }),
      await client.request('POST', '/api/v1/meetings', { body: 'a=1', headers: { 'content-type': 'text/plain', accept: 'application/json' } }),
      await client.get(`/calendar/feeds/${'%00'.repeat(4)}.ics`),
    ];
    for (const answer of answers) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.text).not.toMatch(/\bat [\w.<>]+ \(|node_modules|\/work\/|server\/[\w/-]+\.ts|Error: |mongo/i);
      expect(answer.headers.get('x-powered-by')).toBeNull();
    }
  });
});
