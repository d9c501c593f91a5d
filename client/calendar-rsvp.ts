// Attendees' answers (RSVP) as they come in, on the organizer's pages that show them: the
// calendar page's per-site table and the meeting dashboard's expected headcount. Each row is
// marked data-site-id; the numbers come from the `attendee.rsvp` event (docs/api/calendar.md).
import { io } from 'socket.io-client';

interface RsvpEvent {
  type: string;
  meetingId: string;
  revision: number;
  payload: {
    siteId: string;
    site: { id: string; expectedHeadcount: number };
    counts: { accepted: number; declined: number; delegated: number; pending: number };
  };
}

const root = document.querySelector<HTMLElement>('[data-rsvp-live]');
if (root) connect(root);

function setNumber(cell: Element | null, value: number): void {
  if (cell && cell.textContent !== String(value)) cell.textContent = String(value);
}

/** The total of one column over the rows, into the element that shows it. */
function total(column: string, target: Element | null): void {
  if (!target) return;
  let sum = 0;
  for (const cell of root!.querySelectorAll(`[data-site-id] [data-${column}]`)) sum += Number(cell.textContent) || 0;
  setNumber(target, sum);
}

function connect(element: HTMLElement): void {
  const meetingId = element.dataset.rsvpLive;
  if (!meetingId) return;
  const socket = io();
  // Each site's newest answer wins (events of a site may arrive out of order after a reconnect).
  const seen = new Map<string, number>();
  socket.on('connect', () => {
    socket.emit('meeting:join', { meetingId }, (reply: { ok?: boolean } | undefined) => {
      if (reply?.ok) element.dataset.live = 'joined';
    });
  });
  socket.on('event', (event: RsvpEvent) => {
    if (event.meetingId !== meetingId || event.type !== 'attendee.rsvp') return;
    const { site, counts } = event.payload;
    if ((seen.get(site.id) ?? -1) > event.revision) return;
    seen.set(site.id, event.revision);
    const row = element.querySelector(`[data-site-id="${CSS.escape(site.id)}"]`);
    if (!row) return;
    setNumber(row.querySelector('[data-expected]'), site.expectedHeadcount);
    for (const key of ['accepted', 'declined', 'delegated', 'pending'] as const) setNumber(row.querySelector(`[data-${key}]`), counts[key]);
    total('expected', element.querySelector('[data-total-expected]'));
    total('expected', document.querySelector('[data-stat="expected"]'));
  });
}
