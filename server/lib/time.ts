// Time zones: instants are stored in UTC; a meeting's IANA zone is used for display and input.
import { DateTime, IANAZone } from 'luxon';
import type { Locale } from './i18n.js';
import { BoundedMap } from './bounded-map.js';

export const defaultTimeZone = 'Asia/Ho_Chi_Minh';

/**
 * Pages show the same few instants (a meeting's start and end, agenda times) on every view, and
 * luxon's zone arithmetic and Intl formatting are costly: formatted strings are remembered.
 * The results depend only on (instant, zone, locale, format), so nothing can go stale.
 */
const formatted = new BoundedMap<string, string>(5_000);

function remembered(format: string, instant: Date, zone: string, compute: () => string): string {
  const key = `${format}|${zone}|${instant.getTime()}`;
  let text = formatted.get(key);
  if (text === undefined) {
    text = compute();
    formatted.set(key, text);
  }
  return text;
}

export function isTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** Years a meeting can be in: anything else is a typing slip (0000, 275760), not a date. */
export const earliestYear = 1900;
export const latestYear = 2200;
/** Real UTC offsets run from -12:00 to +14:00; ISO allows up to ±23:59, a clock never does. */
const maxOffsetMinutes = 14 * 60;

/**
 * "2021-12-29T14:00" read as wall-clock time in `zone` -> the UTC instant. An explicit offset
 * ("+07:00") must be within ±14:00, and the year within 1900-2200; otherwise undefined.
 */
export function fromLocalInput(local: string, zone: string): Date | undefined {
  if (local.length > 40) return undefined;
  const parsed = DateTime.fromISO(local, { zone });
  if (!parsed.isValid) return undefined;
  const offset = /([+-])(\d{2}):?(\d{2})$/.exec(local.slice(10));
  if (offset && Number(offset[2]) * 60 + Number(offset[3]) > maxOffsetMinutes) return undefined;
  const year = parsed.setZone(zone).year;
  if (year < earliestYear || year > latestYear) return undefined;
  return parsed.toJSDate();
}

/** The instant as "2021-12-29T14:00" in `zone`, for <input type="datetime-local">. */
export function toLocalInput(instant: Date, zone: string): string {
  return remembered('input', instant, zone, () => DateTime.fromJSDate(instant, { zone }).toFormat("yyyy-LL-dd'T'HH:mm"));
}

export function formatDateTime(instant: Date, zone: string, locale: Locale): string {
  return remembered(`dateTime:${locale}`, instant, zone, () => DateTime.fromJSDate(instant, { zone }).setLocale(locale).toFormat(locale === 'vi' ? "HH:mm, cccc dd/LL/yyyy" : "HH:mm, cccc d LLL yyyy"));
}

export function formatDate(instant: Date, zone: string, locale: Locale): string {
  return remembered(`date:${locale}`, instant, zone, () => DateTime.fromJSDate(instant, { zone }).setLocale(locale).toFormat(locale === 'vi' ? 'dd/LL/yyyy' : 'd LLL yyyy'));
}

export function formatTime(instant: Date, zone: string): string {
  return remembered('time', instant, zone, () => DateTime.fromJSDate(instant, { zone }).toFormat('HH:mm'));
}

/** The calendar date ("2022-03-31") of `instant` where `zone` is: what "today" is for a due date. */
export function dateIn(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).toFormat('yyyy-LL-dd');
}

/** A real calendar date "YYYY-MM-DD" within the years a meeting can be in (no 2022-02-30). */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const parsed = DateTime.fromISO(value, { zone: 'UTC' });
  return parsed.isValid && parsed.toFormat('yyyy-LL-dd') === value && parsed.year >= earliestYear && parsed.year <= latestYear;
}
