// Headless Debian Chromium driven by playwright-core (no browser download: /usr/bin/chromium).
import { chromium, type Browser } from 'playwright-core';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

/** A phone-sized viewport (a mid-range Android phone). */
export const phoneViewport = { width: 390, height: 844 };
