// The minutes editor in headless Chromium: the organizer types, the browser goes offline (Chromium's
// offline mode) while they type more, comes back, and the text is stored exactly once, exactly as
// typed; a colleague's screen shows it live. A save on a version a colleague moved past shows the
// conflict with both texts, and "keep mine" stores the organizer's text on top.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { organizerCredentials, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser } from '../helpers/browser.js';
import { testUnit } from '../helpers/database.js';
import { HttpClient } from '../helpers/http.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addAgendaItem } from '../../server/agenda/actions.js';
import { inviteAccount } from '../../server/accounts/actions.js';
import { MinuteNoteModel, MinuteVersionModel } from '../../server/minutes/model.js';

let app: TestApp;
let browser: Browser;
const secretary = { email: 'thuky-browser@example.vn', password: 'a password of the secretary' };

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
  await inviteAccount(app.organizer, { name: 'Lê Thị Thư Ký', email: secretary.email, role: 'organizer', unitId: testUnit.id, password: secretary.password });
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function signedIn(credentials: { email: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${app.baseUrl}/login`);
  await page.fill('#field-email', credentials.email);
  await page.fill('#field-password', credentials.password);
  await Promise.all([page.waitForURL(/\/meetings$/), page.click('button[type="submit"]')]);
  return { context, page };
}

async function openMinutes(page: Page, meetingId: string): Promise<void> {
  await page.goto(`${app.baseUrl}/meetings/${meetingId}/minutes`);
  await page.waitForFunction(() => 'minutesReady' in document.documentElement.dataset);
}

async function conference() {
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00', status: 'scheduled', unitId: testUnit.id });
  const meetingId = String(meeting._id);
  const { item } = await addAgendaItem(app.organizer, { meetingId, title: 'Ý kiến của các sở, ngành, huyện', kind: 'discussion', plannedMinutes: 45 });
  return { meetingId, itemId: item!.id as string };
}

const storedText = async (meetingId: string) => (await MinuteNoteModel.findOne({ meetingId }).lean())?.text;

describe('the minutes editor in a browser', () => {
  it('text typed while offline is kept, sent when the connection is back, and stored exactly once; a colleague sees it live', async () => {
    const { meetingId, itemId } = await conference();
    const { context, page } = await signedIn(organizerCredentials);
    const colleague = await signedIn(secretary);
    try {
      await openMinutes(page, meetingId);
      await openMinutes(colleague.page, meetingId);
      const editor = page.locator(`#minute-${itemId}`);
      const status = page.locator(`#minute-item-${itemId} .minute-status`);

      const online = 'Các huyện đề xuất phát triển nhãn hiệu. ';
      await editor.pressSequentially(online);
      await expect.poll(() => storedText(meetingId), { timeout: 15_000 }).toBe(online);
      await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe('Đã lưu');
      await expect.poll(() => colleague.page.locator(`#minute-${itemId}`).inputValue(), { timeout: 15_000 }).toBe(online);

      await context.setOffline(true);
      const offline = 'Sở Tài nguyên đề xuất nghiên cứu kinh tế tuần hoàn, xử lý ô nhiễm môi trường.';
      await editor.pressSequentially(offline);
      await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe('Mất kết nối: nội dung được giữ trên máy này, sẽ gửi lại khi có mạng');
      const kept = await page.evaluate((key) => localStorage.getItem(key), `bp.minutes.${meetingId}.${itemId}`);
      expect(JSON.parse(kept!)).toMatchObject({ text: online + offline, baseVersion: 1 });
      expect(await storedText(meetingId)).toBe(online);

      await context.setOffline(false);
      await expect.poll(() => storedText(meetingId), { timeout: 20_000 }).toBe(online + offline);
      await expect.poll(() => status.textContent(), { timeout: 15_000 }).toBe('Đã lưu');
      expect(await page.evaluate((key) => localStorage.getItem(key), `bp.minutes.${meetingId}.${itemId}`)).toBeNull();
      const versions = await MinuteVersionModel.find({ meetingId }).sort({ version: 1 }).lean();
      expect(versions.filter((entry) => entry.text === online + offline)).toHaveLength(1);
      expect(versions.at(-1)!.text).toBe(online + offline);
      expect(versions.every((entry) => (online + offline).startsWith(entry.text) && entry.by.name === 'Nguyễn Thị Tổ Chức')).toBe(true);
      await expect.poll(() => colleague.page.locator(`#minute-${itemId}`).inputValue(), { timeout: 15_000 }).toBe(online + offline);

      // A reload reads what was stored: nothing doubled, nothing left to send.
      await openMinutes(page, meetingId);
      expect(await editor.inputValue()).toBe(online + offline);
    } finally {
      await context.close();
      await colleague.context.close();
    }
  });

  it('text typed offline in a tab that is then closed is sent when the page is opened again', async () => {
    const { meetingId, itemId } = await conference();
    const { context, page } = await signedIn(organizerCredentials);
    try {
      await openMinutes(page, meetingId);
      await context.setOffline(true);
      await page.locator(`#minute-${itemId}`).pressSequentially('Viết khi mất mạng rồi đóng trang.');
      await expect.poll(() => page.locator(`#minute-item-${itemId} .minute-status`).textContent(), { timeout: 15_000 }).toBe('Mất kết nối: nội dung được giữ trên máy này, sẽ gửi lại khi có mạng');
      await page.close();
      expect(await storedText(meetingId)).toBeUndefined();

      await context.setOffline(false);
      const again = await context.newPage();
      await openMinutes(again, meetingId);
      expect(await again.locator(`#minute-${itemId}`).inputValue()).toBe('Viết khi mất mạng rồi đóng trang.');
      await expect.poll(() => storedText(meetingId), { timeout: 15_000 }).toBe('Viết khi mất mạng rồi đóng trang.');
      await expect.poll(() => again.locator(`#minute-item-${itemId} .minute-status`).textContent(), { timeout: 15_000 }).toBe('Đã lưu');
      expect(await MinuteVersionModel.countDocuments({ meetingId })).toBe(1);
    } finally {
      await context.close();
    }
  });

  it('a save on a version a colleague moved past shows the conflict with their text; “keep mine” stores mine on top', async () => {
    const { meetingId, itemId } = await conference();
    const { context, page } = await signedIn(organizerCredentials);
    try {
      await openMinutes(page, meetingId);
      const editor = page.locator(`#minute-${itemId}`);
      await editor.pressSequentially('Bản của tôi. ');
      await expect.poll(() => storedText(meetingId), { timeout: 15_000 }).toBe('Bản của tôi. ');

      // Offline, the organizer types on; meanwhile the secretary saves on the same version.
      await context.setOffline(true);
      await editor.pressSequentially('Thêm khi mất mạng.');
      const client = new HttpClient(app.baseUrl);
      expect((await client.signIn(secretary.email, secretary.password)).status).toBe(303);
      const mine = (await MinuteNoteModel.findOne({ meetingId }).lean())!.version;
      expect((await client.json('PUT', `/api/v1/meetings/${meetingId}/minutes/${itemId}`, { text: 'Bản của thư ký.', baseVersion: mine, saveId: 'secretary-api:1' })).status).toBe(200);
      await context.setOffline(false);

      const conflict = page.locator(`#minute-item-${itemId} .minute-conflict`);
      await conflict.waitFor({ state: 'visible', timeout: 20_000 });
      expect(await page.locator(`#minute-item-${itemId} .minute-status`).textContent()).toBe('Xung đột: người khác vừa sửa ghi chép này');
      expect(await conflict.locator('.minute-theirs').textContent()).toBe('Bản của thư ký.');
      expect(await conflict.locator('.minute-conflict-label').textContent()).toBe('Bản vừa được lưu trên máy chủ (Lê Thị Thư Ký):');
      expect(await storedText(meetingId)).toBe('Bản của thư ký.');

      await conflict.locator('.minute-keep-mine').click();
      await expect.poll(() => storedText(meetingId), { timeout: 15_000 }).toBe('Bản của tôi. Thêm khi mất mạng.');
      const versions = await MinuteVersionModel.find({ meetingId }).sort({ version: 1 }).lean();
      expect(versions.slice(-3).map((entry) => [entry.version, entry.by.name, entry.text])).toEqual([
        [mine, 'Nguyễn Thị Tổ Chức', 'Bản của tôi. '],
        [mine + 1, 'Lê Thị Thư Ký', 'Bản của thư ký.'],
        [mine + 2, 'Nguyễn Thị Tổ Chức', 'Bản của tôi. Thêm khi mất mạng.'],
      ]);
      expect(await conflict.isHidden()).toBe(true);
    } finally {
      await context.close();
    }
  });
});
