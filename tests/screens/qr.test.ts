// The attendee's personal QR code, from the page that shows it to the phone that scans it: the
// SVG the app renders decodes, with the decoder the check-in page uses (jsQR), to the attendee's
// check-in code; and a coordinator's phone whose camera sees it checks that attendee in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, phoneViewport } from '../helpers/browser.js';
import { conferenceDay, openLink } from './fixtures.js';
import { checkInQrText, parseCheckInQr } from '../../server/screens/qr-text.js';
import { assetUrl } from '../../server/assets.js';
import { getLiveSnapshot } from '../../server/live/queries.js';

let app: TestApp;
let browser: Browser;
const size = 320;

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** One grey frame as a Y4M video (what Chromium's fake camera plays in a loop). */
function y4m(gray: number[], width: number, height: number): Buffer {
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F5:1 Ip A1:1 C420jpeg\n`);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), Buffer.from(gray), Buffer.alloc((width / 2) * (height / 2) * 2, 128)]);
  return Buffer.concat([header, frame, frame]);
}

describe('the personal check-in QR code', () => {
  it('decodes with the page’s jsQR decoder to the attendee’s check-in code, and a scan checks them in', async () => {
    const day = await conferenceDay(app);
    const minh = day.people.find((person) => person.fullName === 'Lê Đức Minh')!;

    const attendee = await browser.newContext({ viewport: phoneViewport, isMobile: true });
    await openLink(attendee, app, `/a/${minh.accessToken}`);
    const page = await attendee.newPage();
    await page.goto(`${app.baseUrl}/my/live`);
    expect(await page.locator('#my-site').textContent()).toBe(day.siteName);

    // The SVG as the phone shows it, drawn into pixels and read back by the check-in page's decoder.
    // (A string, so the test runner does not rewrite its import().)
    const { text, gray } = (await page.evaluate(`(async () => {
      const size = ${size};
      const svg = document.querySelector('#my-qr svg').outerHTML;
      const image = new Image();
      image.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = size;
      canvas.height = size;
      const context = canvas.getContext('2d');
      context.fillStyle = '#fff';
      context.fillRect(0, 0, size, size);
      context.drawImage(image, 20, 20, size - 40, size - 40);
      const pixels = context.getImageData(0, 0, size, size);
      const decoder = await import(${JSON.stringify(assetUrl('qr-decoder.js'))});
      const gray = [];
      for (let index = 0; index < pixels.data.length; index += 4) gray.push(pixels.data[index]);
      return { text: decoder.decodeQr(pixels), gray };
    })()`)) as { text: string | undefined; gray: number[] };
    expect(text).toBe(checkInQrText(day.meetingId, minh.id));
    expect(parseCheckInQr(text!)).toEqual({ meetingId: day.meetingId, attendeeId: minh.id });
    await attendee.close();

    // A coordinator's phone whose camera sees that QR code (Chromium's fake camera playing it).
    const video = path.join(mkdtempSync(path.join(os.tmpdir(), 'qr-camera-')), 'qr.y4m');
    writeFileSync(video, y4m(gray, size, size));
    const cameraPhone = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
    });
    try {
      const coordinator = await cameraPhone.newContext({ viewport: phoneViewport, isMobile: true, hasTouch: true, permissions: ['camera'] });
      await openLink(coordinator, app, `/s/${day.coordinatorToken}`);
      const phone = await coordinator.newPage();
      const problems: string[] = [];
      phone.on('pageerror', (error) => problems.push(error.message));
      await phone.goto(`${app.baseUrl}/meetings/${day.meetingId}/sites/${day.siteId}/checkin`);
      await phone.locator('#connection[data-connection="online"]').waitFor();
      // Headless Chromium on Linux has no BarcodeDetector: the page falls back to jsQR, loaded now.
      expect(await phone.evaluate(() => 'BarcodeDetector' in window)).toBe(false);
      await phone.getByRole('button', { name: 'Quét mã QR' }).tap();
      await expect.poll(() => phone.locator(`li.person[data-id="${minh.id}"]`).getAttribute('data-status'), { timeout: 15_000 }).toBe('present');
      const snapshot = (await getLiveSnapshot(app.organizer, day.meetingId));
      expect(snapshot.attendance.find((record) => record.attendeeId === minh.id)?.status).toBe('present');
      expect(problems).toEqual([]);
    } finally {
      await cameraPhone.close();
    }
  });
});
