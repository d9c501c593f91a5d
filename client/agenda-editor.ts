// Agenda editor enhancements: drag-to-reorder (and up/down buttons), durations edited inline with
// start times recomputed at once in the meeting's time zone, saving through the JSON API, and the
// speaker picker. Without this script the page works with its plain forms.
import Sortable from 'sortablejs';
import { io } from 'socket.io-client';
import { api, ApiError, pageData } from './_api.js';

interface AgendaPageData {
  meetingId: string;
  startsAt: string;
  endsAt: string;
  timeZone: string;
  locale: 'vi' | 'en';
  revision: number;
  items: AgendaItemData[];
  messages: Record<string, string>;
}

interface AgendaItemData {
  id: string;
  title: string;
  kind: string;
  plannedMinutes: number;
  notes: string;
  speakers: Array<{ attendeeId?: string; name: string; position: string }>;
}

/** The computed agenda, as the API answers and the "agenda.changed" event carries it. */
interface AgendaSnapshot {
  meeting: { revision: number };
  items: AgendaItemData[];
}

interface SpeakerOption {
  attendeeId: string;
  name: string;
  position: string;
  organization: string;
}

const data = pageData<AgendaPageData>('agenda-data');
const apiBase = `/api/v1/meetings/${data.meetingId}/agenda`;
const list = document.getElementById('agenda-list') as HTMLOListElement | null;
const editable = list?.dataset.editable === 'true';
const statusLine = document.getElementById('agenda-status');

function message(key: string, params: Record<string, string | number> = {}): string {
  const template = data.messages[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

// Times: UTC milliseconds throughout, formatted in the meeting's zone (never the browser's).
const timeFormat = new Intl.DateTimeFormat(data.locale === 'vi' ? 'vi-VN' : 'en-GB', {
  timeZone: data.timeZone,
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function formatTime(millis: number): string {
  const parts = timeFormat.formatToParts(new Date(millis));
  const hour = parts.find((part) => part.type === 'hour')?.value ?? '';
  const minute = parts.find((part) => part.type === 'minute')?.value ?? '';
  return `${hour.padStart(2, '0')}:${minute.padStart(2, '0')}`;
}

const meetingStart = Date.parse(data.startsAt);
const meetingEnd = Date.parse(data.endsAt);

function rows(): HTMLLIElement[] {
  return list ? Array.from(list.querySelectorAll<HTMLLIElement>(':scope > li[data-id]')) : [];
}

function minutesOf(row: HTMLLIElement): number {
  const input = row.querySelector<HTMLInputElement>('[data-minutes-input]');
  const raw = input ? input.value.trim() : (row.dataset.minutes ?? '');
  const value = raw === '' ? Number.NaN : Number(raw);
  // While the user is typing an invalid value, keep the last good one for the schedule.
  if (Number.isInteger(value) && value >= 0 && value <= 1440) {
    row.dataset.minutes = String(value);
    return value;
  }
  return Number(row.dataset.minutes ?? 0);
}

/** Start and end of every item, total, planned end and overrun, from the current DOM order. */
function recompute(): void {
  let cursor = meetingStart;
  const all = rows();
  all.forEach((row, index) => {
    const start = cursor;
    cursor += minutesOf(row) * 60_000;
    const startEl = row.querySelector('[data-start]');
    const endEl = row.querySelector('[data-end]');
    if (startEl) startEl.textContent = formatTime(start);
    if (endEl) endEl.textContent = formatTime(cursor);
    const up = row.querySelector<HTMLButtonElement>('[data-move="up"]');
    const down = row.querySelector<HTMLButtonElement>('[data-move="down"]');
    if (up) up.disabled = index === 0;
    if (down) down.disabled = index === all.length - 1;
  });
  const total = Math.round((cursor - meetingStart) / 60_000);
  const totalEl = document.querySelector('[data-total]');
  const endEl = document.querySelector('[data-planned-end]');
  if (totalEl) totalEl.textContent = message('agenda.total', { minutes: total });
  if (endEl) endEl.textContent = message('agenda.plannedEnd', { time: formatTime(cursor) });
  const overrun = document.getElementById('agenda-overrun');
  if (overrun) {
    const minutes = Math.ceil((cursor - meetingEnd) / 60_000);
    overrun.hidden = minutes <= 0;
    if (minutes > 0) overrun.textContent = message('agenda.overrun', { minutes });
  }
}

function showStatus(text: string, isError = false): void {
  if (!statusLine) return;
  statusLine.textContent = text;
  statusLine.classList.toggle('field-error', isError);
  statusLine.classList.toggle('muted', !isError);
}

function errorText(error: unknown, field?: string): string {
  if (error instanceof ApiError) return (field && error.fields[field]) || Object.values(error.fields)[0] || error.message || message('agenda.error.generic');
  return message('agenda.error.network');
}

// ---- reorder -------------------------------------------------------------------------------

let savedOrder = rows().map((row) => row.dataset.id!);

function restoreOrder(ids: string[]): void {
  if (!list) return;
  const byId = new Map(rows().map((row) => [row.dataset.id!, row]));
  for (const id of ids) {
    const row = byId.get(id);
    if (row) list.appendChild(row);
  }
}

async function saveOrder(): Promise<void> {
  const orderedIds = rows().map((row) => row.dataset.id!);
  if (orderedIds.join() === savedOrder.join()) return;
  const previous = savedOrder;
  savedOrder = orderedIds;
  recompute();
  showStatus(message('agenda.saving'));
  busy += 1;
  try {
    const answer = await api<{ agenda: AgendaSnapshot }>('PUT', `${apiBase}/order`, { orderedIds });
    showStatus(message('agenda.saved'));
    offer(answer.agenda, 'own');
  } catch (error) {
    savedOrder = previous;
    restoreOrder(previous);
    recompute();
    showStatus(errorText(error, 'orderedIds'), true);
  } finally {
    busy -= 1;
    settle();
  }
}

function moveRow(row: HTMLLIElement, direction: 'up' | 'down', button: HTMLButtonElement): void {
  if (!list) return;
  const sibling = direction === 'up' ? row.previousElementSibling : row.nextElementSibling;
  if (!sibling) return;
  if (direction === 'up') list.insertBefore(row, sibling);
  else list.insertBefore(sibling, row);
  recompute();
  // Keep the keyboard user's place: focus stays on the same button (or its twin if now disabled).
  const twin = row.querySelector<HTMLButtonElement>(`[data-move="${direction === 'up' ? 'down' : 'up'}"]`);
  (button.disabled && twin ? twin : button).focus();
  const position = rows().indexOf(row) + 1;
  void saveOrder().then(() => {
    if (savedOrder.includes(row.dataset.id!) && rows().indexOf(row) + 1 === position) {
      showStatus(message('agenda.moved', { title: row.dataset.title ?? '', position }));
    }
  });
}

// ---- durations -----------------------------------------------------------------------------

const pendingSaves = new Map<string, ReturnType<typeof setTimeout>>();

async function saveMinutes(row: HTMLLIElement, input: HTMLInputElement): Promise<void> {
  const errorEl = row.querySelector<HTMLElement>('[data-item-error]');
  const value = input.value.trim();
  showStatus(message('agenda.saving'));
  busy += 1;
  try {
    // Sent as typed: the server validates and answers in the user's language.
    const answer = await api<{ agenda: AgendaSnapshot }>('PATCH', `${apiBase}/items/${row.dataset.id}`, { plannedMinutes: value === '' ? null : Number(value) });
    input.removeAttribute('aria-invalid');
    if (errorEl) {
      errorEl.hidden = true;
      errorEl.textContent = '';
    }
    input.defaultValue = value;
    showStatus(message('agenda.saved'));
    offer(answer.agenda, 'own');
  } catch (error) {
    input.setAttribute('aria-invalid', 'true');
    if (errorEl) {
      errorEl.textContent = errorText(error, 'plannedMinutes');
      errorEl.hidden = false;
    }
    showStatus(errorText(error, 'plannedMinutes'), true);
  } finally {
    busy -= 1;
    settle();
  }
}

function scheduleSave(row: HTMLLIElement, input: HTMLInputElement, delay: number): void {
  const id = row.dataset.id!;
  clearTimeout(pendingSaves.get(id));
  pendingSaves.set(
    id,
    setTimeout(() => {
      pendingSaves.delete(id);
      if (input.value.trim() !== input.defaultValue) void saveMinutes(row, input);
      else settle();
    }, delay),
  );
}

// ---- removal -------------------------------------------------------------------------------

async function removeRow(row: HTMLLIElement): Promise<void> {
  if (!window.confirm(message('agenda.remove.confirm', { title: row.dataset.title ?? '' }))) return;
  showStatus(message('agenda.saving'));
  busy += 1;
  try {
    const answer = await api<{ agenda: AgendaSnapshot }>('DELETE', `${apiBase}/items/${row.dataset.id}`);
    row.remove();
    signatures.delete(row.dataset.id!);
    savedOrder = rows().map((entry) => entry.dataset.id!);
    recompute();
    showStatus(message('agenda.saved'));
    offer(answer.agenda, 'own');
  } catch (error) {
    showStatus(errorText(error), true);
  } finally {
    busy -= 1;
    settle();
  }
}

function enhanceList(): void {
  if (!list || !editable) return;
  for (const button of list.querySelectorAll<HTMLElement>('[data-no-js]')) button.hidden = true;

  list.addEventListener('input', (event) => {
    const input = event.target as HTMLElement;
    if (!(input instanceof HTMLInputElement) || !input.matches('[data-minutes-input]')) return;
    recompute();
    scheduleSave(input.closest('li')!, input, 800);
  });
  list.addEventListener('change', (event) => {
    const input = event.target as HTMLElement;
    if (input instanceof HTMLInputElement && input.matches('[data-minutes-input]')) scheduleSave(input.closest('li')!, input, 0);
  });
  list.addEventListener('submit', (event) => {
    const form = event.target as HTMLFormElement;
    const row = form.closest('li') as HTMLLIElement | null;
    if (!row) return;
    if (form.matches('[data-minutes-form]')) {
      event.preventDefault();
      const input = form.querySelector<HTMLInputElement>('[data-minutes-input]')!;
      scheduleSave(row, input, 0);
    } else if (form.matches('[data-remove-form]')) {
      event.preventDefault();
      void removeRow(row);
    }
  });
  list.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('[data-move]');
    if (!button) return;
    event.preventDefault();
    moveRow(button.closest('li')!, button.dataset.move === 'up' ? 'up' : 'down', button);
  });

  Sortable.create(list, {
    handle: '.drag-handle',
    animation: 150,
    ghostClass: 'sortable-ghost',
    onEnd: () => void saveOrder(),
  });
}

// ---- speaker picker ------------------------------------------------------------------------

function enhanceSpeakerPicker(picker: HTMLElement): void {
  const search = picker.querySelector<HTMLElement>('[data-speaker-search]');
  const query = picker.querySelector<HTMLInputElement>('[data-speaker-query]');
  const results = picker.querySelector<HTMLUListElement>('[data-speaker-results]');
  const chips = picker.querySelector<HTMLUListElement>('[data-speaker-chips]');
  if (!search || !query || !results || !chips) return;
  search.hidden = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest = 0;

  const addChip = (option: SpeakerOption) => {
    const existing = chips.querySelector<HTMLInputElement>(`input[value="${option.attendeeId}"]`);
    if (existing) {
      existing.checked = true;
      return;
    }
    const item = document.createElement('li');
    const label = document.createElement('label');
    const checkbox = document.createElement('input');
    checkbox.type = 'checkbox';
    checkbox.name = 'speakerAttendeeIds';
    checkbox.value = option.attendeeId;
    checkbox.checked = true;
    checkbox.setAttribute('aria-label', message('agenda.speaker.remove', { name: option.name }));
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = message('agenda.speaker.fromList');
    label.append(checkbox, ` ${option.name}${option.position ? ` — ${option.position}` : ''} `, badge);
    item.append(label);
    chips.append(item);
  };

  const render = (options: SpeakerOption[]) => {
    results.replaceChildren();
    if (options.length === 0 && query.value.trim()) {
      const empty = document.createElement('li');
      empty.className = 'muted';
      empty.textContent = message('agenda.speaker.noMatch');
      results.append(empty);
      return;
    }
    for (const option of options) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn btn-small speaker-option';
      button.textContent = [option.name, option.position, option.organization].filter(Boolean).join(' — ');
      button.addEventListener('click', () => {
        addChip(option);
        query.value = '';
        results.replaceChildren();
        query.focus();
      });
      item.append(button);
      results.append(item);
    }
  };

  const lookUp = async () => {
    const ticket = ++latest;
    const q = query.value.trim();
    if (!q) {
      results.replaceChildren();
      return;
    }
    try {
      const answer = await api<{ items: SpeakerOption[] }>('GET', `${apiBase}/speaker-options?q=${encodeURIComponent(q)}`);
      if (ticket === latest) render(answer.items);
    } catch (error) {
      if (ticket !== latest) return;
      results.replaceChildren();
      const item = document.createElement('li');
      item.className = 'field-error';
      item.textContent = errorText(error);
      results.append(item);
    }
  };

  query.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void lookUp(), 200);
  });
  query.addEventListener('keydown', (event) => {
    // Enter picks the first match instead of submitting the whole form half-filled.
    if (event.key !== 'Enter') return;
    event.preventDefault();
    results.querySelector<HTMLButtonElement>('button')?.click();
  });
}


// ---- live updates --------------------------------------------------------------------------
// Another organizer's reorder or new durations are applied in place; anything the list cannot
// show without the server's markup (a new, removed or retitled item) offers a reload instead.
// While this page has a save in flight or pending, snapshots wait, so they never undo local edits.

let revision = data.revision;
let busy = 0;
let waiting: { snapshot: AgendaSnapshot; source: 'own' | 'remote' } | undefined;

function signature(item: AgendaItemData): string {
  return JSON.stringify([item.title, item.kind, item.notes, item.speakers.map((speaker) => [speaker.attendeeId ?? '', speaker.name, speaker.position])]);
}
const signatures = new Map(data.items.map((item) => [item.id, signature(item)]));

function offer(snapshot: AgendaSnapshot, source: 'own' | 'remote'): void {
  if (!waiting || snapshot.meeting.revision >= waiting.snapshot.meeting.revision) waiting = { snapshot, source };
  settle();
}

function settle(): void {
  if (busy > 0 || pendingSaves.size > 0 || !waiting) return;
  const { snapshot, source } = waiting;
  waiting = undefined;
  // Own answers carry the revision of our change; a remote snapshot older than that is stale.
  if (source === 'remote' && snapshot.meeting.revision <= revision) return;
  revision = Math.max(revision, snapshot.meeting.revision);
  reconcile(snapshot, source);
}

function showReloadNotice(): void {
  if (document.getElementById('agenda-remote')) return;
  const notice = document.createElement('p');
  notice.id = 'agenda-remote';
  notice.className = 'flash flash-warn';
  notice.setAttribute('role', 'alert');
  const reload = document.createElement('button');
  reload.type = 'button';
  reload.className = 'btn btn-small';
  reload.textContent = message('agenda.reload');
  reload.addEventListener('click', () => window.location.reload());
  notice.append(`${message('agenda.remote.changed')} `, reload);
  statusLine?.after(notice);
}

function reconcile(snapshot: AgendaSnapshot, source: 'own' | 'remote'): void {
  if (!list) return;
  const current = rows();
  const sameItems =
    current.length === snapshot.items.length && snapshot.items.every((item) => signatures.get(item.id) === signature(item) && current.some((row) => row.dataset.id === item.id));
  if (!sameItems) {
    showReloadNotice();
    return;
  }
  const byId = new Map(current.map((row) => [row.dataset.id!, row]));
  const ordered = snapshot.items.map((item) => byId.get(item.id)!);
  let changed = ordered.some((row, index) => current[index] !== row);
  // Rows are moved only when the order differs: moving a row takes the focus from a field in it,
  // and what the user was typing there would go nowhere. Where they must move, the focus follows.
  if (changed) {
    const focused = document.activeElement;
    for (const row of ordered) list.appendChild(row);
    if (focused instanceof HTMLElement && focused !== document.activeElement && list.contains(focused)) focused.focus();
  }
  snapshot.items.forEach((item) => {
    const row = byId.get(item.id)!;
    if (row.dataset.minutes !== String(item.plannedMinutes)) {
      changed = true;
      row.dataset.minutes = String(item.plannedMinutes);
      const input = row.querySelector<HTMLInputElement>('[data-minutes-input]');
      if (input) {
        input.value = String(item.plannedMinutes);
        input.defaultValue = input.value;
      }
    }
  });
  savedOrder = rows().map((row) => row.dataset.id!);
  recompute();
  if (changed && source === 'remote') showStatus(message('agenda.remote.applied'));
}

function connectLive(): void {
  if (!list) return;
  const socket = io({ auth: { lang: data.locale } });
  const refresh = async () => {
    try {
      offer(await api<AgendaSnapshot>('GET', apiBase), 'remote');
    } catch {
      // The next event or reconnect tries again.
    }
  };
  socket.on('connect', () => {
    socket.emit('meeting:join', { meetingId: data.meetingId }, (reply: { ok?: boolean } | undefined) => {
      // Missed events are replayed when the connection was recovered; otherwise catch up once.
      if (reply?.ok) list.dataset.live = 'joined';
      if (reply?.ok && !socket.recovered) void refresh();
    });
  });
  socket.on('event', (event: { type?: string; meetingId?: string; revision?: number; payload?: AgendaSnapshot }) => {
    if (event.type === 'agenda.changed' && event.meetingId === data.meetingId && event.payload) offer(event.payload, 'remote');
  });
}

enhanceList();
connectLive();
for (const picker of document.querySelectorAll<HTMLElement>('[data-speaker-picker]')) enhanceSpeakerPicker(picker);
recompute();
