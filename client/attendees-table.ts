// Attendee table: click a cell to edit it in place (PATCH one field, errors shown under the
// input in the page's language), copy personal links, confirm deletions. Vanilla TS.
import { io } from 'socket.io-client';
import { api, ApiError } from './_api.js';

interface Choice {
  value: string;
  label: string;
}

interface ClientText {
  saving: string;
  saved: string;
  networkError: string;
  copied: string;
  clickToEdit: string;
  changed: string;
  reload: string;
}

function readJson<T>(element: HTMLElement, name: string, fallback: T): T {
  try {
    return JSON.parse(element.dataset[name] ?? '') as T;
  } catch {
    return fallback;
  }
}

const status = document.getElementById('attendees-status');
function announce(text: string): void {
  if (status) status.textContent = text;
}

/** The editor each column's cells get: a text box of this type, or a choice of sites or roles. */
const editorKinds: Record<string, string> = { fullName: 'text', position: 'text', organization: 'text', email: 'email', phone: 'tel', siteId: 'site', role: 'role' };

function setupTable(table: HTMLTableElement): void {
  const apiBase = table.dataset.api ?? '';
  const sites = readJson<Choice[]>(table, 'sites', []);
  const roles = readJson<Choice[]>(table, 'roles', []);
  const text = readJson<ClientText>(table, 'text', { saving: '…', saved: '✓', networkError: 'Network error', copied: '✓', clickToEdit: '', changed: '', reload: '' });
  connectLive(table, apiBase, sites, roles, text);

  table.addEventListener('click', (event) => {
    const cell = (event.target as HTMLElement).closest<HTMLTableCellElement>('td[data-editable]');
    if (cell && !cell.classList.contains('editing')) startEditing(cell);
  });
  table.addEventListener('keydown', (event) => {
    const cell = (event.target as HTMLElement).closest<HTMLTableCellElement>('td[data-editable]');
    if (cell && !cell.classList.contains('editing') && (event.key === 'Enter' || event.key === 'F2')) {
      event.preventDefault();
      startEditing(cell);
    }
  });
  // The page says once, on the table, what this asker may change (every row alike); each such
  // cell gets its editor's kind here.
  const mayEdit = table.dataset.editable !== undefined;
  const mayMove = table.dataset.movable !== undefined;
  for (const cell of table.querySelectorAll<HTMLTableCellElement>('td[data-field]')) {
    const field = cell.dataset.field ?? '';
    const kind = editorKinds[field];
    if (!kind || !(field === 'siteId' ? mayMove : mayEdit)) continue;
    cell.dataset.editable = kind;
    cell.tabIndex = 0;
    if (!cell.title) cell.title = text.clickToEdit;
  }

  function choicesFor(kind: string): Choice[] | undefined {
    if (kind === 'site') return sites;
    if (kind === 'role') return roles;
    return undefined;
  }

  function startEditing(cell: HTMLTableCellElement): void {
    const kind = cell.dataset.editable ?? 'text';
    const field = cell.dataset.field ?? '';
    // Text cells show their value as is; site and role cells carry the id or code in data-value.
    const original = cell.dataset.value ?? cell.textContent?.trim() ?? '';
    const shownBefore = [...cell.childNodes].map((node) => node.cloneNode(true));
    const choices = choicesFor(kind);
    let input: HTMLInputElement | HTMLSelectElement;
    if (choices) {
      const select = document.createElement('select');
      for (const choice of choices) select.add(new Option(choice.label, choice.value, false, choice.value === original));
      input = select;
    } else {
      const box = document.createElement('input');
      box.type = kind === 'email' ? 'email' : kind === 'tel' ? 'tel' : 'text';
      box.value = original;
      input = box;
    }
    input.name = field;
    input.setAttribute('aria-label', table.tHead?.rows[0]?.cells[cell.cellIndex]?.textContent?.trim() ?? field);
    const error = document.createElement('p');
    error.className = 'field-error';
    error.hidden = true;
    error.id = `error-${field}-${cell.closest('tr')?.dataset.id ?? ''}`;
    input.setAttribute('aria-describedby', error.id);
    cell.classList.add('editing');
    cell.replaceChildren(input, error);
    input.focus();
    if (input instanceof HTMLInputElement) input.select();

    let busy = false;
    let finished = false;
    const restore = () => {
      finished = true;
      cell.classList.remove('editing');
      cell.replaceChildren(...shownBefore);
    };
    const save = async () => {
      if (busy || finished) return;
      const value = input.value;
      if (value === original) return restore();
      busy = true;
      input.disabled = true;
      announce(text.saving);
      const id = cell.closest('tr')?.dataset.id;
      try {
        const updated = await api<Record<string, string>>('PATCH', `${apiBase}/${id}`, { [field]: value });
        finished = true;
        // A changed e-mail gives the person a new personal link: the row's copy button gets it.
        setCopyLinkToken(cell.closest('tr'), updated.accessToken);
        const saved = updated[field] ?? value;
        cell.dataset.value = saved;
        cell.classList.remove('editing');
        const label = choices?.find((choice) => choice.value === saved)?.label ?? saved;
        if (kind === 'role') {
          const badge = document.createElement('span');
          badge.className = 'badge';
          badge.textContent = label;
          cell.replaceChildren(badge);
        } else cell.replaceChildren(document.createTextNode(label));
        announce(text.saved);
        cell.focus();
      } catch (problem) {
        busy = false;
        input.disabled = false;
        const message = problem instanceof ApiError ? (problem.fields[field] ?? Object.values(problem.fields)[0] ?? problem.message) : text.networkError;
        error.textContent = message;
        error.hidden = false;
        input.setAttribute('aria-invalid', 'true');
        announce(message);
        input.focus();
      }
    };
    input.addEventListener('keydown', (event) => {
      const key = (event as KeyboardEvent).key;
      if (key === 'Enter') {
        event.preventDefault();
        void save();
      } else if (key === 'Escape') {
        event.preventDefault();
        restore();
        cell.focus();
      }
    });
    if (input instanceof HTMLSelectElement) input.addEventListener('change', () => void save());
    input.addEventListener('blur', () => {
      // Leaving an unchanged cell closes it; a changed one is saved (errors keep it open).
      if (!busy && !finished) void save();
    });
  }
}

interface AttendeeEvent {
  type?: string;
  meetingId?: string;
  payload?: { attendee?: Record<string, string>; attendeeId?: string; fromSiteId?: string; linkChanged?: boolean };
}

const shownFields = ['fullName', 'position', 'organization', 'email', 'phone', 'siteId', 'role'];

/**
 * Changes made elsewhere (another organizer, a coordinator, an import) reach this table live:
 * an edited row is updated in place (except a cell being edited here); additions, removals and
 * imports change the page's rows and order, so they offer a reload instead of reshuffling.
 */
function connectLive(table: HTMLTableElement, apiBase: string, sites: Choice[], roles: Choice[], text: ClientText): void {
  const meetingId = table.dataset.meeting;
  if (!meetingId) return;
  const socket = io();
  let connectedBefore = false;
  socket.on('connect', () => {
    // Missed events are replayed when the connection was recovered; after a longer outage (or a
    // server restart) the rows may be stale, so offer the reload rather than show old data.
    if (connectedBefore && !socket.recovered) showReloadNotice(text);
    connectedBefore = true;
    socket.emit('meeting:join', { meetingId }, (reply: { ok?: boolean } | undefined) => {
      if (reply?.ok) table.dataset.live = 'joined';
    });
  });
  socket.on('event', (event: AttendeeEvent) => {
    if (event.meetingId !== meetingId || !event.type?.startsWith('attendee.')) return;
    if (event.type === 'attendee.moved') {
      // Only a table of the site they left loses the person; the meeting-wide table got the update.
      const gone = table.dataset.site && table.dataset.site === event.payload?.fromSiteId ? table.querySelector(`tr[data-id="${CSS.escape(event.payload?.attendeeId ?? '')}"]`) : null;
      if (gone) {
        gone.classList.add('row-removed');
        showReloadNotice(text);
      }
      return;
    }
    const attendee = event.payload?.attendee;
    const row = attendee ? table.querySelector<HTMLTableRowElement>(`tr[data-id="${CSS.escape(attendee.id ?? '')}"]`) : null;
    if (event.type === 'attendee.updated' && attendee && row) {
      for (const field of shownFields) {
        const cell = row.querySelector<HTMLTableCellElement>(`td[data-field="${field}"]`);
        const value = attendee[field];
        if (!cell || value === undefined || cell.classList.contains('editing') || cell.dataset.value === value) continue;
        cell.dataset.value = value;
        const label = (field === 'siteId' ? sites : field === 'role' ? roles : []).find((choice) => choice.value === value)?.label ?? value;
        if (field === 'role') {
          const badge = document.createElement('span');
          badge.className = 'badge';
          badge.textContent = label;
          cell.replaceChildren(badge);
        } else cell.replaceChildren(document.createTextNode(label));
      }
      // The person has a new personal link (their address changed, or it was rotated): events never
      // carry the secret, so the row's copy button asks for it instead of copying a dead link.
      if (event.payload?.linkChanged && row.querySelector('[data-copy-link]')) void refreshCopyLink(row, `${apiBase}/${attendee.id ?? ''}`);
      return;
    }
    if (event.type === 'attendee.removed' && row) row.classList.add('row-removed');
    if (event.type !== 'attendee.updated') showReloadNotice(text);
  });
}

/** A row's copy button with the person's personal link under `token` (the link's base stays). */
function setCopyLinkToken(row: Element | null, token: string | undefined): void {
  const button = row?.querySelector<HTMLButtonElement>('[data-copy-link]');
  if (button?.dataset.copyLink && token) button.dataset.copyLink = button.dataset.copyLink.replace(/[^/]+$/, token);
}

/** Puts the attendee's current personal link in the row's copy button (the API gives organizers the token). */
async function refreshCopyLink(row: Element, url: string): Promise<void> {
  try {
    setCopyLinkToken(row, (await api<Record<string, string>>('GET', url)).accessToken);
  } catch {
    // Gone or unreachable: the removal's own event (or the reload notice) tells the organizer.
  }
}

function showReloadNotice(text: ClientText): void {
  const notice = document.getElementById('attendees-live');
  if (!notice || !notice.hidden) return;
  const link = document.createElement('a');
  link.href = window.location.href;
  link.textContent = text.reload;
  notice.replaceChildren(document.createTextNode(`${text.changed} `), link);
  notice.hidden = false;
}

function setupCopyButtons(): void {
  document.addEventListener('click', async (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('[data-copy-link]');
    if (!button) return;
    const link = button.dataset.copyLink ?? '';
    const table = document.getElementById('attendees-table');
    const copied = table ? readJson<ClientText>(table, 'text', { copied: '✓' } as ClientText).copied : '✓';
    try {
      await navigator.clipboard.writeText(link);
      announce(copied);
      const before = button.textContent;
      button.textContent = `✓ ${copied}`;
      setTimeout(() => (button.textContent = before), 2000);
    } catch {
      // No clipboard (plain http on a LAN): show the link so it can be copied by hand.
      window.prompt('', link);
    }
  });
}

function setupConfirmations(): void {
  document.addEventListener('submit', (event) => {
    const form = event.target as HTMLFormElement;
    // A row's delete button names its person through the row's name cell (as shown now, after an inline edit).
    const submitter = (event as SubmitEvent).submitter;
    const name = submitter?.dataset.name ?? submitter?.closest('tr')?.querySelector('td[data-field="fullName"]')?.textContent?.trim() ?? '';
    const question = form.dataset.confirm ?? form.dataset.confirmTemplate?.replace('{name}', name);
    if (question && !window.confirm(question)) event.preventDefault();
  });
}

const table = document.getElementById('attendees-table');
if (table instanceof HTMLTableElement) setupTable(table);
setupCopyButtons();
setupConfirmations();
