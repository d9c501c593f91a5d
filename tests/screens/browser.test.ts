// The conference day in headless Chromium: a district coordinator on a phone checks people in
// while the organizer's dashboard follows without a reload; the wall display follows "next item";
// check-ins made offline survive a reload and are sent, once each, when the connection returns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, phoneViewport } from '../helpers/browser.js';
import { conferenceDay, openLink, signInOrganizer, type ConferenceDay } from './fixtures.js';
import { getLiveSnapshot } from '../../server/live/queries.js';

let app: TestApp;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
});
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await app?.stop();
});

async function newContext(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  contexts.push(context);
  return context;
}

/** A page that fails the test on a script error or a missing asset. */
async function watchedPage(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });
  return { page, problems };
}

async function coordinatorPhone(day: ConferenceDay) {
  const context = await newContext({ viewport: phoneViewport, isMobile: true, hasTouch: true });
  await openLink(context, app, `/s/${day.coordinatorToken}`);
  const { page, problems } = await watchedPage(context);
  await page.goto(`${app.baseUrl}/meetings/${day.meetingId}/sites/${day.siteId}/checkin`);
  await page.locator('#connection[data-connection="online"]').waitFor();
  return { context, page, problems };
}

async function organizerDashboard(day: ConferenceDay) {
  const context = await newContext({ viewport: { width: 1280, height: 900 } });
  await signInOrganizer(context, app);
  const { page, problems } = await watchedPage(context);
  await page.goto(`${app.baseUrl}/meetings/${day.meetingId}/live`);
  await page.locator('#connection[data-connection="online"]').waitFor();
  // Marks this page load: still there at the end means no reload happened.
  await page.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));
  return { context, page, problems };
}

const presentAt = (page: Page, siteId: string) => page.locator(`#sites-table tr[data-site="${siteId}"] td[data-count="present"]`);

describe('the conference day in the browser', () => {
  it('a coordinator on a phone checks someone in and the organizer dashboard shows it without a reload', async () => {
    const day = await conferenceDay(app);
    const organizer = await organizerDashboard(day);
    await expect.poll(() => presentAt(organizer.page, day.siteId).textContent()).toBe('0');

    const phone = await coordinatorPhone(day);
    // The site is connected as soon as its coordinator page is open.
    await expect.poll(() => organizer.page.locator(`#sites-table tr[data-site="${day.siteId}"] .presence`).getAttribute('class')).toContain('is-connected');

    await organizer.page.getByRole('button', { name: 'Bắt đầu hội nghị' }).click();
    await expect.poll(() => organizer.page.locator('#meeting-status').textContent()).toBe('Đang diễn ra');
    // The badge in the meeting's navigation above follows too (it said "scheduled" until a reload).
    await expect.poll(() => organizer.page.locator('[data-status-badge]').textContent()).toBe('Đang diễn ra');
    await expect.poll(() => phone.page.locator('#meeting-status').textContent()).toBe('Đang diễn ra');

    await phone.page.fill('#people-search', 'lan');
    await expect.poll(() => phone.page.locator('li.person:not([hidden])').count()).toBe(1);
    const lan = phone.page.locator('li.person:not([hidden])');
    await expect.poll(() => lan.locator('.person-name').textContent()).toBe('Trần Thị Lan');
    await lan.getByRole('button', { name: 'Có mặt' }).tap();
    await expect.poll(() => lan.getAttribute('data-status')).toBe('present');
    await expect.poll(() => phone.page.locator('[data-count="present"]').textContent()).toBe('1');

    await expect.poll(() => presentAt(organizer.page, day.siteId).textContent()).toBe('1');
    await expect.poll(() => organizer.page.locator('[data-total="present"]').textContent()).toBe('1');
    // Checked in after the start: a latecomer on the dashboard.
    await expect.poll(() => organizer.page.locator('#latecomers').textContent()).toContain('Trần Thị Lan');
    expect(await organizer.page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);

    // Undo on the phone takes her back to "not here yet" everywhere.
    await lan.getByRole('button', { name: 'Hoàn tác' }).tap();
    await expect.poll(() => lan.getAttribute('data-status')).toBe('expected');
    await expect.poll(() => presentAt(organizer.page, day.siteId).textContent()).toBe('0');

    // The link status the coordinator reports reaches the main site.
    await phone.page.selectOption('#link-status', 'audioProblem');
    await expect.poll(() => organizer.page.locator(`#sites-table tr[data-site="${day.siteId}"] .link-status`).textContent()).toBe('Lỗi âm thanh');

    expect(phone.problems).toEqual([]);
    expect(organizer.problems).toEqual([]);
  });

  it('marks someone absent with a reason and adds a walk-in, counted on both screens', async () => {
    const day = await conferenceDay(app);
    const organizer = await organizerDashboard(day);
    const phone = await coordinatorPhone(day);

    const hung = phone.page.locator(`li.person[data-id="${day.people.find((person) => person.fullName === 'Nguyễn Văn Hùng')!.id}"]`);
    await hung.getByRole('button', { name: 'Vắng' }).tap();
    await phone.page.getByLabel('Cử người dự thay').check();
    await phone.page.getByRole('button', { name: 'Báo vắng' }).tap();
    // A delegate reason needs the delegate's name: the dialog says so and stays open.
    await expect.poll(() => phone.page.locator('#absent-error').isVisible()).toBe(true);
    await phone.page.fill('#delegate-name', 'Phạm Thị Thay');
    await phone.page.getByRole('button', { name: 'Báo vắng' }).tap();
    await expect.poll(() => hung.getAttribute('data-status')).toBe('absent');
    await expect.poll(() => hung.locator('[data-state-label]').textContent()).toContain('Phạm Thị Thay');

    await phone.page.getByRole('button', { name: 'Thêm người đến dự' }).tap();
    await phone.page.fill('#walkin-name', 'Đỗ Văn Khách');
    await phone.page.fill('#walkin-position', 'Phóng viên');
    await phone.page.getByRole('button', { name: 'Thêm và điểm danh' }).tap();
    const guest = phone.page.locator('li.person[data-id]', { hasText: 'Đỗ Văn Khách' });
    await expect.poll(() => guest.getAttribute('data-status')).toBe('present');
    await expect.poll(() => guest.locator('[data-state-label]').textContent()).toContain('Bổ sung');

    await expect.poll(() => phone.page.locator('[data-count="walkIns"]').textContent()).toBe('1');
    await expect.poll(() => organizer.page.locator(`#sites-table tr[data-site="${day.siteId}"] td[data-count="absent"]`).textContent()).toBe('1');
    await expect.poll(() => presentAt(organizer.page, day.siteId).textContent()).toBe('1');
    expect(phone.problems).toEqual([]);
  });

  it('the organizer sets this meeting’s quorum share on the dashboard, and the quorum line follows on every dashboard', async () => {
    const day = await conferenceDay(app);
    const organizer = await organizerDashboard(day);
    const second = await organizerDashboard(day);
    await expect.poll(() => organizer.page.locator('#quorum').textContent()).toContain('50% số dự kiến');
    await organizer.page.locator('#quorum-percent').fill('75');
    await organizer.page.getByRole('button', { name: 'Lưu ngưỡng' }).click();
    for (const screen of [organizer, second]) await expect.poll(() => screen.page.locator('#quorum').textContent()).toContain('75% số dự kiến');
    expect(await second.page.locator('#quorum-percent').inputValue()).toBe('75');
    expect((await getLiveSnapshot(app.organizer, day.meetingId)).quorum.percent).toBe(75);
    expect(await second.page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    expect(organizer.problems).toEqual([]);
  });

  it('the site wall display follows "next item" from the chair', async () => {
    const day = await conferenceDay(app);
    const organizer = await organizerDashboard(day);
    await organizer.page.getByRole('button', { name: 'Bắt đầu hội nghị' }).click();
    await expect.poll(() => organizer.page.locator('#meeting-status').textContent()).toBe('Đang diễn ra');

    const projector = await newContext({ viewport: { width: 1920, height: 1080 } });
    await openLink(projector, app, `/s/${day.coordinatorToken}`);
    const wall = await watchedPage(projector);
    await wall.page.goto(`${app.baseUrl}/meetings/${day.meetingId}/sites/${day.siteId}/wall`);
    await wall.page.locator('#connection[data-connection="online"]').waitFor();
    await expect.poll(() => wall.page.locator('#wall-item').textContent()).toBe('Hội nghị sắp bắt đầu');
    // The site's self check-in code shows (6 digits), for attendees to check themselves in.
    await expect.poll(() => wall.page.locator('#wall-code').textContent()).toMatch(/^\d{6}$/);

    const chair = await watchedPage(organizer.context);
    await chair.page.goto(`${app.baseUrl}/meetings/${day.meetingId}/chair`);
    await chair.page.locator('#connection[data-connection="online"]').waitFor();
    // The chair's tablet has the agenda and the speakers, nothing else.
    expect(await chair.page.locator('#sites-table').count()).toBe(0);

    // The whole meeting's wall (the main hall's projector): dark by default, no site code.
    const hall = await watchedPage(organizer.context);
    await hall.page.goto(`${app.baseUrl}/meetings/${day.meetingId}/wall`);
    await hall.page.locator('#connection[data-connection="online"]').waitFor();
    expect(await hall.page.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await hall.page.locator('#wall-code').count()).toBe(0);
    expect(await hall.page.locator('button').count()).toBe(0);

    await chair.page.getByRole('button', { name: 'Mục tiếp theo ›' }).click();
    await expect.poll(() => wall.page.locator('#wall-item').textContent()).toBe(day.agenda[0]);
    await expect.poll(() => hall.page.locator('#wall-item').textContent()).toBe(day.agenda[0]);
    await expect.poll(() => wall.page.locator('#wall-next').textContent()).toBe(day.agenda[1]);
    await expect.poll(() => wall.page.locator('#wall-timer').textContent()).toMatch(/^(19|20):\d\d$/);

    // Five more minutes for the opening: every screen's timer shows them.
    await chair.page.getByRole('button', { name: 'Thêm 5 phút' }).click();
    await expect.poll(() => wall.page.locator('#wall-timer').textContent()).toMatch(/^(24|25):\d\d$/);

    await chair.page.getByRole('button', { name: 'Mục tiếp theo ›' }).click();
    await expect.poll(() => wall.page.locator('#wall-item').textContent()).toBe(day.agenda[1]);
    await expect.poll(() => wall.page.locator('#wall-next').textContent()).toBe(day.agenda[2]);
    // The organizer's dashboard follows as well: the second item is current.
    await expect.poll(() => organizer.page.locator('#agenda-now .now-title').textContent()).toBe(day.agenda[1]);
    expect(wall.problems).toEqual([]);
    expect(hall.problems).toEqual([]);
    expect(chair.problems).toEqual([]);
  });

  it('an attendee checks in with the code on their site’s wall, asks to speak, and is given the floor', async () => {
    const day = await conferenceDay(app);
    const organizer = await organizerDashboard(day);
    await organizer.page.getByRole('button', { name: 'Bắt đầu hội nghị' }).click();
    await expect.poll(() => organizer.page.locator('#meeting-status').textContent()).toBe('Đang diễn ra');

    const projector = await newContext({ viewport: { width: 1280, height: 720 } });
    await openLink(projector, app, `/s/${day.coordinatorToken}`);
    const wall = await watchedPage(projector);
    await wall.page.goto(`${app.baseUrl}/meetings/${day.meetingId}/sites/${day.siteId}/wall?theme=light`);
    expect(await wall.page.locator('html').getAttribute('data-theme')).toBe('light');
    await expect.poll(() => wall.page.locator('#wall-code').textContent()).toMatch(/^\d{6}$/);
    const code = (await wall.page.locator('#wall-code').textContent())!;

    const minh = day.people.find((person) => person.fullName === 'Lê Đức Minh')!;
    const phoneContext = await newContext({ viewport: phoneViewport, isMobile: true, hasTouch: true });
    await openLink(phoneContext, app, `/a/${minh.accessToken}`);
    const phone = await watchedPage(phoneContext);
    await phone.page.goto(`${app.baseUrl}/my/live`);
    await phone.page.locator('#connection[data-connection="online"]').waitFor();

    const wrong = code === '000000' ? '111111' : '000000';
    await phone.page.fill('#checkin-code-input', wrong);
    await phone.page.getByRole('button', { name: 'Điểm danh' }).tap();
    await expect.poll(() => phone.page.locator('#self-checkin-error').isVisible()).toBe(true);
    expect(await phone.page.locator('#checkin-code-input').getAttribute('aria-invalid')).toBe('true');
    await phone.page.fill('#checkin-code-input', code);
    await phone.page.getByRole('button', { name: 'Điểm danh' }).tap();
    await expect.poll(() => phone.page.locator('#my-state').textContent()).toMatch(/^Bạn đã điểm danh lúc \d\d:\d\d\.$/);
    await expect.poll(() => phone.page.locator('#self-checkin').isVisible()).toBe(false);
    await expect.poll(() => presentAt(organizer.page, day.siteId).textContent()).toBe('1');
    await expect.poll(() => wall.page.locator('#wall-count').textContent()).toBe('1/3');

    await phone.page.fill('#speak-topic', 'Kiến nghị kinh phí cho đề tài cấp huyện');
    await phone.page.getByRole('button', { name: 'Đăng ký phát biểu' }).tap();
    const request = organizer.page.locator('#speaker-queue li.speaker-request');
    await expect.poll(() => request.textContent()).toContain('Kiến nghị kinh phí cho đề tài cấp huyện');
    expect(await request.textContent()).toContain(`Lê Đức Minh — ${day.siteName}`);
    await request.getByRole('button', { name: 'Trao lời' }).click();
    await expect.poll(() => phone.page.locator('#now-speaker').textContent()).toBe(`Đang phát biểu: Lê Đức Minh — ${day.siteName}`);
    await expect.poll(() => wall.page.locator('#wall-speaker').textContent()).toBe(`Người phát biểu: Lê Đức Minh — ${day.siteName}`);
    await organizer.page.getByRole('button', { name: 'Kết thúc phát biểu' }).click();
    await expect.poll(() => organizer.page.locator('#time-by-site').textContent()).toContain(day.siteName);
    expect(phone.problems).toEqual([]);
    expect(wall.problems).toEqual([]);
  });

  it('check-ins made offline survive a reload and are sent once each when the connection returns', async () => {
    const day = await conferenceDay(app);
    const phone = await coordinatorPhone(day);
    const [hung, lan] = [day.people.find((person) => person.fullName === 'Nguyễn Văn Hùng')!, day.people.find((person) => person.fullName === 'Trần Thị Lan')!];
    // Once live, the page (its script inlined) has put itself where its service worker finds it offline.
    await expect.poll(() => phone.page.evaluate(async () => (await (await caches.open('bridgepoint-checkin-v1')).keys()).map((request) => new URL(request.url).pathname))).toContain(`/meetings/${day.meetingId}/sites/${day.siteId}/checkin`);

    await phone.context.setOffline(true);
    await phone.page.locator('#connection[data-connection="offline"]').waitFor();
    for (const person of [hung, lan]) await phone.page.locator(`li.person[data-id="${person.id}"]`).getByRole('button', { name: 'Có mặt' }).tap();
    await expect.poll(() => phone.page.locator('#outbox').textContent()).toBe('Đang chờ gửi (2)');
    expect(await phone.page.locator(`li.person[data-id="${hung.id}"]`).getAttribute('data-pending')).toBe('');
    const presentAtSite = async () => (await getLiveSnapshot(app.organizer, day.meetingId)).sites.find((site) => site.id === day.siteId)!.counts.present;
    expect(await presentAtSite()).toBe(0);

    // The phone reloads the page with no connection at all: the page comes back, queue and all.
    await phone.page.reload();
    await expect.poll(() => phone.page.locator('#outbox').textContent()).toBe('Đang chờ gửi (2)');
    await expect.poll(() => phone.page.locator('#connection').getAttribute('data-connection')).toBe('offline');
    expect(await phone.page.locator(`li.person[data-id="${lan.id}"]`).getAttribute('data-pending')).toBe('');
    expect(await presentAtSite()).toBe(0);

    // The connection returns: both are sent, acknowledged and counted once, without a reload.
    await phone.context.setOffline(false);
    await phone.page.locator('#connection[data-connection="online"]').waitFor({ timeout: 20_000 });
    await expect.poll(() => phone.page.locator('#outbox').isVisible()).toBe(false);
    for (const person of [hung, lan]) await expect.poll(() => phone.page.locator(`li.person[data-id="${person.id}"]`).getAttribute('data-status')).toBe('present');
    await expect.poll(() => phone.page.locator('[data-count="present"]').textContent()).toBe('2');
    expect(await presentAtSite()).toBe(2);
    expect((await getLiveSnapshot(app.organizer, day.meetingId)).totals.present).toBe(2);
    expect(phone.problems.filter((problem) => !problem.includes('socket.io'))).toEqual([]);
  });

  it('offline: a second tap on the same person counts once, and undo takes back a tap still waiting to be sent', async () => {
    const day = await conferenceDay(app);
    const phone = await coordinatorPhone(day);
    const [hung, lan] = [day.people.find((person) => person.fullName === 'Nguyễn Văn Hùng')!, day.people.find((person) => person.fullName === 'Trần Thị Lan')!];
    await expect.poll(() => phone.page.evaluate(async () => (await (await caches.open('bridgepoint-checkin-v1')).keys()).length)).toBeGreaterThan(0);

    await phone.context.setOffline(true);
    await phone.page.locator('#connection[data-connection="offline"]').waitFor();
    const hungRow = phone.page.locator(`li.person[data-id="${hung.id}"]`);
    const lanRow = phone.page.locator(`li.person[data-id="${lan.id}"]`);
    await hungRow.getByRole('button', { name: 'Có mặt' }).tap();
    await expect.poll(() => phone.page.locator('#outbox').textContent()).toBe('Đang chờ gửi (1)');
    await hungRow.getByRole('button', { name: 'Có mặt' }).tap();
    await expect.poll(() => phone.page.locator('#outbox').textContent()).toBe('Đang chờ gửi (2)');
    // Lan was tapped by mistake: undo, still offline, takes the tap back.
    await lanRow.getByRole('button', { name: 'Có mặt' }).tap();
    await expect.poll(() => phone.page.locator('#outbox').textContent()).toBe('Đang chờ gửi (3)');
    await lanRow.getByRole('button', { name: 'Hoàn tác' }).tap();
    await expect.poll(() => phone.page.locator('#outbox').textContent()).toBe('Đang chờ gửi (2)');
    expect(await lanRow.getAttribute('data-pending')).toBeNull();

    await phone.page.reload();
    await expect.poll(() => phone.page.locator('#outbox').textContent()).toBe('Đang chờ gửi (2)');
    await phone.context.setOffline(false);
    await phone.page.locator('#connection[data-connection="online"]').waitFor({ timeout: 20_000 });
    await expect.poll(() => phone.page.locator('#outbox').isVisible()).toBe(false);
    await expect.poll(() => hungRow.getAttribute('data-status')).toBe('present');
    const site = (await getLiveSnapshot(app.organizer, day.meetingId)).sites.find((candidate) => candidate.id === day.siteId)!;
    expect(site.counts.present).toBe(1);
    expect((await getLiveSnapshot(app.organizer, day.meetingId)).attendance.find((record) => record.attendeeId === lan.id)?.status ?? 'expected').toBe('expected');
    expect(await lanRow.getAttribute('data-status')).toBe('expected');
  });
});
