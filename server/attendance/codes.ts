// Self check-in codes: six digits per site, rotating every two minutes (the previous one is still
// accepted 30 s after it rotates). Derived from the site's secret link token and the time, so
// nothing is stored, every app instance agrees, and rotating the site's link changes the codes.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const codePeriodSeconds = 120;
const graceSeconds = 30;

function codeFor(secret: string, siteId: string, window: number): string {
  const digest = createHmac('sha256', secret).update(`${siteId}:${window}`).digest();
  return String(digest.readUInt32BE(0) % 1_000_000).padStart(6, '0');
}

export function currentCode(secret: string, siteId: string, now = Date.now()): { code: string; rotatesAt: Date } {
  const window = Math.floor(now / 1000 / codePeriodSeconds);
  return { code: codeFor(secret, siteId, window), rotatesAt: new Date((window + 1) * codePeriodSeconds * 1000) };
}

export function isCurrentCode(secret: string, siteId: string, code: string, now = Date.now()): boolean {
  const seconds = now / 1000;
  const window = Math.floor(seconds / codePeriodSeconds);
  const candidates = [codeFor(secret, siteId, window)];
  if (seconds - window * codePeriodSeconds < graceSeconds) candidates.push(codeFor(secret, siteId, window - 1));
  return candidates.some((candidate) => candidate.length === code.length && timingSafeEqual(Buffer.from(candidate), Buffer.from(code)));
}
