// The minutes editor: each agenda item's notes are saved as the organizer types (debounced).
// Unsent text is kept in localStorage with the version it was typed on and a save id, so a dropped
// connection or a reload loses nothing and a resend is stored once. A save on a version someone
// else has moved past comes back as a conflict, shown next to the text with both choices.
// Other organizers' saves arrive over Socket.IO (`minutes.changed`).
import { io } from 'socket.io-client';
import { api, ApiError, pageData } from './_api.js';

interface NoteView {
  agendaItemId: string;
  text: string;
  version: number;
  updatedAt: string | null;
  updatedBy: string;
}

interface MinutesData {
  meetingId: string;
  lang: string;
  timeZone: string;
  items: NoteView[];
  texts: Record<'saved' | 'saving' | 'pending' | 'offline' | 'conflict' | 'error', string>;
  conflictTexts: { theirs: string; useTheirs: string; keepMine: string; lastSaved: string };
}

/** Text not yet acknowledged by the server, and what it was typed on. */
interface Pending {
  text: string;
  baseVersion: number;
  saveId: string;
}

const debounceMs = 700;
const retryMs = 4000;
const data = pageData<MinutesData>('minutes-data');

const fill = (template: string, params: Record<string, string | number>) => template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
const formatAt = (iso: string) => new Intl.DateTimeFormat(data.lang === 'en' ? 'en-GB' : 'vi-VN', { timeZone: data.timeZone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
const newSaveId = () => `s-${crypto.randomUUID()}`;

class MinuteEditor {
  private version: number;
  private pending: Pending | undefined;
  private inFlight = false;
  private conflicted = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly textarea: HTMLTextAreaElement;
  private readonly status: HTMLElement;
  private readonly meta: HTMLElement;
  private readonly conflictBox: HTMLElement;
  private readonly url: string;
  private readonly storageKey: string;

  constructor(
    private readonly section: HTMLElement,
    note: NoteView,
  ) {
    this.textarea = section.querySelector<HTMLTextAreaElement>('.minute-text')!;
    this.status = section.querySelector<HTMLElement>('.minute-status')!;
    this.meta = section.querySelector<HTMLElement>('.minute-meta')!;
    this.conflictBox = section.querySelector<HTMLElement>('.minute-conflict')!;
    this.version = note.version;
    this.url = `/api/v1/meetings/${data.meetingId}/minutes/${note.agendaItemId}`;
    this.storageKey = `bp.minutes.${data.meetingId}.${note.agendaItemId}`;
    this.pending = this.restore();
    if (this.pending) {
      this.textarea.value = this.pending.text;
      this.show('pending');
      void this.flush();
    }
    this.textarea.addEventListener('input', () => this.typed());
    section.querySelector<HTMLButtonElement>('.minute-use-theirs')!.textContent = data.conflictTexts.useTheirs;
    section.querySelector<HTMLButtonElement>('.minute-keep-mine')!.textContent = data.conflictTexts.keepMine;
  }

  get itemId(): string {
    return this.section.dataset.itemId!;
  }

  private restore(): Pending | undefined {
    try {
      const stored = JSON.parse(localStorage.getItem(this.storageKey) ?? 'null') as Pending | null;
      return stored && typeof stored.text === 'string' && typeof stored.baseVersion === 'number' && typeof stored.saveId === 'string' ? stored : undefined;
    } catch {
      return undefined;
    }
  }

  private persist(): void {
    if (this.pending) localStorage.setItem(this.storageKey, JSON.stringify(this.pending));
    else localStorage.removeItem(this.storageKey);
  }

  private show(state: keyof MinutesData['texts'], message = ''): void {
    this.status.textContent = fill(data.texts[state], { message });
    this.section.dataset.state = state;
  }

  private showMeta(note: NoteView): void {
    if (note.updatedAt) this.meta.textContent = fill(data.conflictTexts.lastSaved, { by: note.updatedBy, at: formatAt(note.updatedAt), version: note.version });
  }

  private typed(): void {
    const base = this.pending?.baseVersion ?? this.version;
    this.pending = { text: this.textarea.value, baseVersion: base, saveId: this.pending?.saveId ?? newSaveId() };
    this.persist();
    if (this.conflicted) return;
    this.show('pending');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), debounceMs);
  }

  /** Send the unsent text, if any; on failure it stays stored and is tried again later. */
  async flush(): Promise<void> {
    if (this.inFlight || !this.pending || this.conflicted) return;
    this.inFlight = true;
    const sent = { ...this.pending };
    let again = false;
    this.show('saving');
    try {
      const saved = await api<NoteView>('PUT', this.url, sent);
      this.version = saved.version;
      this.showMeta(saved);
      if (this.pending && this.pending.text !== sent.text) {
        // Typed on while the save travelled: the rest goes on top of the version just stored.
        this.pending = { text: this.pending.text, baseVersion: saved.version, saveId: newSaveId() };
        this.persist();
        again = true;
        return;
      }
      this.pending = undefined;
      this.persist();
      this.show('saved');
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) await this.conflict();
      else if (error instanceof ApiError) this.show('error', error.message);
      else this.show('offline');
    } finally {
      this.inFlight = false;
    }
    if (again) await this.flush();
  }

  /** Someone else saved first: show their text, let the organizer choose. */
  private async conflict(): Promise<void> {
    this.conflicted = true;
    this.show('conflict');
    let theirs: NoteView;
    try {
      theirs = await api<NoteView>('GET', this.url);
    } catch {
      this.conflicted = false;
      return this.show('offline');
    }
    this.conflictBox.hidden = false;
    this.conflictBox.querySelector('.minute-conflict-label')!.textContent = fill(data.conflictTexts.theirs, { by: theirs.updatedBy });
    this.conflictBox.querySelector('.minute-theirs')!.textContent = theirs.text;
    const resolve = (keepMine: boolean) => {
      this.conflictBox.hidden = true;
      this.conflicted = false;
      this.version = theirs.version;
      this.showMeta(theirs);
      if (keepMine) {
        this.pending = { text: this.textarea.value, baseVersion: theirs.version, saveId: newSaveId() };
        this.persist();
        void this.flush();
      } else {
        this.textarea.value = theirs.text;
        this.pending = undefined;
        this.persist();
        this.show('saved');
      }
    };
    this.conflictBox.querySelector<HTMLButtonElement>('.minute-use-theirs')!.onclick = () => resolve(false);
    this.conflictBox.querySelector<HTMLButtonElement>('.minute-keep-mine')!.onclick = () => resolve(true);
  }

  /** Another organizer's save (pushed, or read after a reconnect): taken when nothing is unsent here. */
  receive(note: NoteView): void {
    if (note.version <= this.version || this.pending || this.inFlight) return;
    this.version = note.version;
    this.textarea.value = note.text;
    this.showMeta(note);
    this.show('saved');
  }
}

const editors = new Map<string, MinuteEditor>();
for (const note of data.items) {
  const section = document.querySelector<HTMLElement>(`.minute-item[data-item-id="${note.agendaItemId}"]`);
  if (section && !section.querySelector('textarea')?.readOnly) editors.set(note.agendaItemId, new MinuteEditor(section, note));
}

const flushAll = () => {
  for (const editor of editors.values()) void editor.flush();
};
window.addEventListener('online', flushAll);
setInterval(flushAll, retryMs);

const socket = io({ transports: ['websocket', 'polling'], tryAllTransports: true, auth: { lang: data.lang } });
socket.on('connect', () => {
  socket.emit('meeting:join', { meetingId: data.meetingId }, async (ack: { ok: boolean }) => {
    if (!ack?.ok) return;
    flushAll();
    // What was saved while this page was not listening.
    try {
      const fresh = await api<{ items: Array<{ id: string; note: NoteView }> }>('GET', `/api/v1/meetings/${data.meetingId}/minutes`);
      for (const item of fresh.items) editors.get(item.id)?.receive(item.note);
    } catch {
      // Offline again: the next connect reads them.
    }
  });
});
socket.on('event', (event: { type: string; meetingId: string; payload: { note?: NoteView } | null }) => {
  if (event.type !== 'minutes.changed' || event.meetingId !== data.meetingId || !event.payload?.note) return;
  editors.get(event.payload.note.agendaItemId)?.receive(event.payload.note);
});
document.documentElement.dataset.minutesReady = '';
