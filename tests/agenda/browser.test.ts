// The agenda editor and the public page in headless Chromium: what the organizer and a delegate see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { organizerCredentials, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, phoneViewport } from '../helpers/browser.js';
import { createMeeting, setMeetingStatus } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { addAgendaItem, reorderAgenda, updateAgendaItem } from '../../server/agenda/actions.js';
import { getAgenda } from '../../server/agenda/queries.js';

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

async function conference() {
  const meeting = await createMeeting(app.organizer, {
    title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021',
    organizingUnit: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp',
    start: '2021-12-29T14:00',
    end: '2021-12-29T17:00',
    status: 'scheduled',
  });
  const meetingId = String(meeting._id);
  const main = await addSite(app.organizer, { meetingId, name: 'Văn phòng UBND Tỉnh', isMain: true, coordinatorPhone: '0913 555 777', videoLink: { passcode: 'MAT-KHAU-BI-MAT' } });
  for (const name of ['Thành phố Cao Lãnh', 'Thành phố Sa Đéc', 'Huyện Tháp Mười', 'Huyện Châu Thành']) {
    await addSite(app.organizer, { meetingId, name, address: `Ủy ban nhân dân ${name.toLowerCase()}, tỉnh Đồng Tháp`, coordinatorPhone: '0988 111 222' });
  }
  await createAttendee(app.organizer, { meetingId, siteId: String(main._id), fullName: 'Trần Thanh Liêm', position: 'Giám đốc Sở Khoa học và Công nghệ', role: 'speaker' });
  for (const [title, plannedMinutes] of [['Khai mạc, giới thiệu đại biểu', 10], ['Báo cáo kết quả năm 2021', 30], ['Thảo luận của các sở, ngành, huyện', 60]] as const) {
    await addAgendaItem(app.organizer, { meetingId, title, plannedMinutes, kind: 'report' });
  }
  return { meetingId, publicId: meeting.publicId };
}

async function signIn(page: Page) {
  await page.goto(`${app.baseUrl}/login`);
  await page.fill('#field-email', organizerCredentials.email);
  await page.fill('#field-password', organizerCredentials.password);
  await Promise.all([page.waitForURL(/\/meetings/), page.click('button[type="submit"]')]);
}

const startTimes = (page: Page) => page.locator('#agenda-list > li [data-start]').allTextContents();
const titles = (page: Page) => page.locator('#agenda-list > li .agenda-item-title').allTextContents();

describe('the organizer in the agenda editor', () => {
  it('changes a duration and sees the later start times move at once, then reorders with the buttons and by dragging', async () => {
    const { meetingId } = await conference();
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await signIn(page);
      await page.goto(`${app.baseUrl}/meetings/${meetingId}/agenda`);
      expect(await startTimes(page)).toEqual(['14:00', '14:10', '14:40']);

      // Typing a new duration recomputes the times in the browser, before any save.
      await page.locator('#agenda-list > li').first().locator('[data-minutes-input]').fill('25');
      expect(await startTimes(page)).toEqual(['14:00', '14:25', '14:55']);
      await page.locator('#agenda-status', { hasText: 'Đã lưu' }).waitFor();
      await page.reload();
      expect(await startTimes(page)).toEqual(['14:00', '14:25', '14:55']);

      // The keyboard-friendly buttons move an item down; times follow the new order.
      await page.locator('#agenda-list > li').first().locator('[data-move="down"]').click();
      expect(await titles(page)).toEqual(['Báo cáo kết quả năm 2021', 'Khai mạc, giới thiệu đại biểu', 'Thảo luận của các sở, ngành, huyện']);
      expect(await startTimes(page)).toEqual(['14:00', '14:30', '14:55']);
      await page.locator('#agenda-status', { hasText: 'Khai mạc, giới thiệu đại biểu' }).waitFor();

      // Dragging the last item to the top.
      await page.locator('#agenda-list > li').nth(2).locator('.drag-handle').dragTo(page.locator('#agenda-list > li').first(), { targetPosition: { x: 10, y: 5 } });
      await page.waitForFunction(() => document.querySelector('#agenda-list > li .agenda-item-title')?.textContent?.startsWith('Thảo luận'));
      expect(await startTimes(page)).toEqual(['14:00', '15:00', '15:30']);
      await page.locator('#agenda-status', { hasText: 'Đã lưu' }).waitFor();
      await page.reload();
      expect(await titles(page)).toEqual(['Thảo luận của các sở, ngành, huyện', 'Báo cáo kết quả năm 2021', 'Khai mạc, giới thiệu đại biểu']);
      expect(await startTimes(page)).toEqual(['14:00', '15:00', '15:30']);

      // An invalid duration is explained next to the field, in Vietnamese, and not saved.
      const minutes = page.locator('#agenda-list > li').first().locator('[data-minutes-input]');
      await minutes.fill('-5');
      await minutes.press('Tab');
      await page.locator('#agenda-list > li').first().locator('[data-item-error]', { hasText: 'Thời lượng phải là số phút nguyên' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('keeps the field being typed in when the save of a move comes back (nothing typed is lost)', async () => {
    const { meetingId } = await conference();
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signIn(page);
      await page.goto(`${app.baseUrl}/meetings/${meetingId}/agenda`);
      // The save of the move is held until the organizer is in the first item's duration field.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route('**/agenda/order', async (route) => {
        await held;
        await route.continue();
      });
      await page.locator('#agenda-list > li').nth(1).locator('[data-move="up"]').click();
      expect(await titles(page)).toEqual(['Báo cáo kết quả năm 2021', 'Khai mạc, giới thiệu đại biểu', 'Thảo luận của các sở, ngành, huyện']);
      const minutes = page.locator('#agenda-list > li').first().locator('[data-minutes-input]');
      await minutes.focus();
      await minutes.evaluate((input) => (input as HTMLInputElement).select());
      release();
      await page.locator('#agenda-status', { hasText: 'Báo cáo kết quả năm 2021' }).waitFor();
      // The answer put the rows in the order they already had: the field still has the focus.
      expect(await minutes.evaluate((input) => input === document.activeElement)).toBe(true);
      await page.keyboard.type('45');
      await page.keyboard.press('Tab');
      expect(await startTimes(page)).toEqual(['14:00', '14:45', '14:55']);
      await page.locator('#agenda-status', { hasText: 'Đã lưu' }).waitFor();
      await expect.poll(async () => (await getAgenda(app.organizer, meetingId)).items.map((item) => item.plannedMinutes)).toEqual([45, 10, 60]);
    } finally {
      await context.close();
    }
  });

  it('picks a speaker from the attendee list by typing without diacritics', async () => {
    const { meetingId } = await conference();
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signIn(page);
      await page.goto(`${app.baseUrl}/meetings/${meetingId}/agenda`);
      await page.fill('#field-title', 'Báo cáo bổ sung');
      await page.fill('#speaker-q', 'tran thanh');
      await page.locator('.speaker-option', { hasText: 'Trần Thanh Liêm' }).click();
      await page.locator('[data-speaker-chips] label', { hasText: 'Trần Thanh Liêm' }).waitFor();
      await Promise.all([page.waitForURL(/#add$/), page.click('#add button[type="submit"]')]);
      const last = page.locator('#agenda-list > li').last();
      expect(await last.locator('.agenda-item-title').textContent()).toBe('Báo cáo bổ sung');
      expect(await last.locator('.agenda-speakers').textContent()).toContain('Trần Thanh Liêm');
    } finally {
      await context.close();
    }
  });
});

describe('two organizers editing the same agenda', () => {
  it('sees the other organizer reorder and retime in place, and is offered a reload when an item is added', async () => {
    const { meetingId } = await conference();
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signIn(page);
      await page.goto(`${app.baseUrl}/meetings/${meetingId}/agenda`);
      await page.locator('#agenda-list[data-live="joined"]').waitFor();
      const ids = (await getAgenda(app.organizer, meetingId)).items.map((item) => item.id);
      await reorderAgenda(app.organizer, { meetingId, orderedIds: [ids[2], ids[0], ids[1]] });
      await updateAgendaItem(app.organizer, { meetingId, itemId: ids[2], plannedMinutes: 45 });
      await page.locator('#agenda-status', { hasText: 'Đã cập nhật theo thay đổi ở nơi khác.' }).waitFor();
      await expect.poll(() => startTimes(page)).toEqual(['14:00', '14:45', '14:55']);
      expect(await titles(page)).toEqual(['Thảo luận của các sở, ngành, huyện', 'Khai mạc, giới thiệu đại biểu', 'Báo cáo kết quả năm 2021']);
      expect(await page.locator('#agenda-list > li').first().locator('[data-minutes-input]').inputValue()).toBe('45');

      await addAgendaItem(app.organizer, { meetingId, title: 'Bế mạc', kind: 'closing', plannedMinutes: 10 });
      await page.locator('#agenda-remote', { hasText: 'Chương trình vừa được thay đổi ở nơi khác.' }).waitFor();
    } finally {
      await context.close();
    }
  });
});

describe('a delegate opening the public page on a phone', () => {
  it('reads the meeting, agenda and bridge points without sideways scrolling, and sees a cancellation', async () => {
    const { meetingId, publicId } = await conference();
    const context = await browser.newContext({ viewport: phoneViewport, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    try {
      await page.goto(`${app.baseUrl}/p/${publicId}`);
      await expect(page.locator('h1').textContent()).resolves.toContain('Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021');
      expect(await page.locator('.public-agenda .agenda-time').allTextContents()).toEqual(['14:00–14:10', '14:10–14:40', '14:40–15:40']);
      expect(await page.locator('.public-sites li').count()).toBe(5);
      const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth }));
      expect(widths.scroll).toBeLessThanOrEqual(widths.viewport);
      const text = await page.locator('body').textContent();
      expect(text).not.toContain('0913 555 777');
      expect(text).not.toContain('MAT-KHAU-BI-MAT');

      await setMeetingStatus(app.organizer, { meetingId, action: 'cancel' });
      await page.reload();
      await expect(page.locator('.cancelled-banner').isVisible()).resolves.toBe(true);
      expect(await page.locator('.cancelled-banner').textContent()).toContain('Hội nghị này đã bị hủy.');
    } finally {
      await context.close();
    }
  });
});
