// Small pieces every day-of page shares: its data and texts, the live state, times in the
// meeting's zone, and the connection badge.
import type { LiveSnapshot, ScreenKind } from '../server/live/contract.js';
import { LiveState, showConnection, type ConnectionState } from './_live.js';
import { pageData } from './_api.js';

export type Texts = Record<string, string>;

export interface Page {
  element: HTMLElement;
  meetingId: string;
  lang: string;
  text: Texts;
  live: LiveState;
}

/** "Đang chờ gửi ({count})" with its placeholders filled. */
export function say(text: Texts, key: string, params: Record<string, string | number> = {}): string {
  const template = text[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export function startPage(screen: ScreenKind): Page | undefined {
  const element = document.getElementById('live-page');
  if (!element) return undefined;
  const snapshot = pageData<LiveSnapshot>('live-data');
  const text = pageData<Texts>('live-text');
  const lang = element.dataset.lang ?? 'vi';
  const live = new LiveState({ meetingId: element.dataset.meeting ?? snapshot.meeting.id, screen, snapshot, lang });
  const labels = Object.fromEntries((['connecting', 'online', 'syncing', 'offline'] as ConnectionState[]).map((state) => [state, text[`connection.${state}`] ?? state])) as Record<ConnectionState, string>;
  showConnection(live, document.getElementById('connection'), labels);
  // Exposed for the browser tests and for a look from the developer console.
  (window as unknown as { bridgepointLive: LiveState }).bridgepointLive = live;
  return { element, meetingId: live.state.meeting.id, lang, text, live };
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
/** "14:05" in the meeting's time zone. */
export function clock(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '';
  let format = timeFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone });
    timeFormats.set(timeZone, format);
  }
  return format.format(new Date(iso));
}

/** Lower case without Vietnamese marks, for search ("Nguyễn Đức" matches "nguyen duc"). */
export function fold(value: string): string {
  return value.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/gi, 'd').toLowerCase();
}

/** Shows the meeting's status badge and marks the page with data-meeting-status for CSS. */
export function showMeetingStatus(page: Page): void {
  const status = page.live.state.meeting.status;
  document.body.dataset.meetingStatus = status;
  // The screen's own badge, and the one in the meeting's navigation above it (server-rendered).
  for (const badge of document.querySelectorAll<HTMLElement>('#meeting-status, [data-status-badge]')) {
    badge.className = `badge badge-${status}`;
    badge.textContent = page.text[`status.${status}`] ?? status;
  }
}

export function element<T extends HTMLElement = HTMLElement>(tag: string, className?: string, text?: string): T {
  const node = document.createElement(tag) as T;
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
