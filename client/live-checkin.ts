// A site's check-in page on the coordinator's phone: one tap checks someone in, a scan of their
// personal QR code too; walk-ins, absences with a reason, left early, undo; the live headcount
// and the site's link status. Every attendance change goes through the outbox (IndexedDB) first,
// so nothing is lost while the district's connection is down, and is sent when it returns.
import type { AttendanceRecordView, LiveSnapshot } from '../server/live/contract.js';
import { parseCheckInQr } from '../server/screens/qr-text.js';
import { isNoAnswer, newOperationId } from './_live.js';
import { Outbox, type QueuedCommand } from './_queue.js';
import { clock, fold, say, showMeetingStatus, startPage, type Page } from './_screen.js';

const page = startPage('coordinator');
if (page) setUp(page);

function setUp(page: Page): void {
  const { live, text } = page;
  const siteId = page.element.dataset.site ?? '';
  const canCheckIn = page.element.dataset.canCheckIn === '1';
  const outbox = new Outbox(page.meetingId);
  const list = document.getElementById('people') as HTMLUListElement;
  const template = document.getElementById('person-template') as HTMLTemplateElement;
  const search = document.getElementById('people-search') as HTMLInputElement;
  const statusLine = document.getElementById('checkin-status');
  let waiting: QueuedCommand[] = [];

  const records = (state: LiveSnapshot) => state.attendance.filter((record) => record.siteId === siteId);
  const nameOf = (attendeeId: string) => live.state.attendance.find((record) => record.attendeeId === attendeeId)?.fullName ?? '';

  function announce(message: string, error = false): void {
    if (!statusLine) return;
    statusLine.textContent = message;
    statusLine.hidden = false;
    statusLine.classList.toggle('flash-error', error);
  }

  function stateLabel(record: AttendanceRecordView): string {
    const zone = live.state.meeting.timeZone;
    const parts = [text[`state.${record.status}`] ?? record.status];
    if (record.status === 'present' && record.presentAt) parts[0] += ` ${clock(record.presentAt, zone)}`;
    if (record.status === 'leftEarly' && record.leftAt) parts[0] += ` ${clock(record.leftAt, zone)}`;
    if (record.absence) parts.push(`${text[`reason.${record.absence.reason}`] ?? ''}${record.absence.delegateName ? `: ${record.absence.delegateName}` : record.absence.note ? `: ${record.absence.note}` : ''}`);
    if (record.late) parts.push(text['state.late'] ?? '');
    if (record.walkIn) parts.push(text['state.walkIn'] ?? '');
    return parts.join(' · ');
  }

  function rowFor(record: AttendanceRecordView): HTMLLIElement {
    let row = list.querySelector<HTMLLIElement>(`li[data-id="${CSS.escape(record.attendeeId)}"]`);
    if (!row) {
      row = (template.content.firstElementChild as HTMLLIElement).cloneNode(true) as HTMLLIElement;
      row.dataset.id = record.attendeeId;
      if (!canCheckIn) row.querySelector('.person-actions')?.remove();
      list.append(row);
    }
    return row;
  }

  function render(): void {
    const state = live.state;
    const site = state.sites.find((candidate) => candidate.id === siteId);
    if (site) {
      for (const counter of document.querySelectorAll<HTMLElement>('[data-count]')) {
        const key = counter.dataset.count as keyof typeof site.counts;
        counter.textContent = String(site.counts[key] ?? 0);
      }
      const select = document.getElementById('link-status') as HTMLSelectElement | null;
      if (select && site.link.status && document.activeElement !== select) select.value = site.link.status;
    }
    const pendingFor = new Set(waiting.map((command) => String(command.input.attendeeId ?? '')));
    for (const record of records(state)) {
      const row = rowFor(record);
      row.dataset.status = record.status;
      row.toggleAttribute('data-can-undo', record.canUndo);
      row.toggleAttribute('data-walk-in', record.walkIn);
      row.toggleAttribute('data-pending', pendingFor.has(record.attendeeId));
      row.dataset.search = fold(`${record.fullName} ${record.position} ${record.organization}`);
      const name = row.querySelector('.person-name');
      if (name && name.textContent !== record.fullName) name.textContent = record.fullName;
      const meta = row.querySelector('.person-meta');
      const metaText = [record.position, record.organization].filter(Boolean).join(' · ');
      if (meta && meta.textContent !== metaText) meta.textContent = metaText;
      const label = row.querySelector('[data-state-label]');
      const shown = pendingFor.has(record.attendeeId) ? `${text['state.pending']} · ${stateLabel(record)}` : stateLabel(record);
      if (label && label.textContent !== shown) label.textContent = shown;
    }
    renderPendingWalkIns();
    filter();
    showMeetingStatus(page!);
  }

  /** Walk-ins added offline have no record yet: show them from the outbox. */
  function renderPendingWalkIns(): void {
    for (const row of list.querySelectorAll('li[data-queued-walk-in]')) row.remove();
    for (const command of waiting.filter((queued) => queued.command === 'attendance:addWalkIn')) {
      const row = (template.content.firstElementChild as HTMLLIElement).cloneNode(true) as HTMLLIElement;
      row.dataset.queuedWalkIn = command.opId;
      row.dataset.status = 'present';
      row.setAttribute('data-pending', '');
      row.querySelector('.person-actions')?.remove();
      row.querySelector('.person-name')!.textContent = String(command.input.fullName ?? '');
      row.querySelector('[data-state-label]')!.textContent = `${text['state.pending']} · ${text['state.walkIn']}`;
      list.prepend(row);
    }
  }

  function filter(): void {
    const query = fold(search.value.trim());
    let shown = 0;
    for (const row of list.querySelectorAll<HTMLLIElement>('li.person')) {
      const visible = !query || (row.dataset.search ?? fold(row.textContent ?? '')).includes(query);
      row.hidden = !visible;
      if (visible) shown += 1;
    }
    const empty = document.getElementById('people-empty');
    if (empty) empty.hidden = shown > 0 || !query;
  }

  function showWaiting(): void {
    const badge = document.getElementById('outbox');
    if (badge) {
      badge.hidden = waiting.length === 0;
      badge.textContent = say(text, 'outbox.waiting', { count: waiting.length });
    }
  }

  // ---- Sending: everything through the outbox, one at a time ---------------------------------

  async function drain(): Promise<void> {
    if (live.connection === 'offline' || live.connection === 'connecting') return;
    const result = await outbox.drain((command, input) => live.send(command, input), isNoAnswer);
    for (const refused of result.refused) announce(say(text, 'outbox.refused', { name: refused.command.label, message: refused.message }), true);
  }

  const timedCommands = new Set(['attendance:checkIn', 'attendance:leftEarly', 'attendance:addWalkIn']);

  async function queue(command: QueuedCommand['command'], input: Record<string, unknown>, label: string, announceKey: string): Promise<void> {
    const opId = newOperationId();
    const online = live.connection === 'online' || live.connection === 'syncing';
    // Offline, the moment of the tap is what counts (it may be sent much later); online, the
    // server's own clock is the better witness. A resend carries the same input either way.
    const at = !online && timedCommands.has(command) ? { at: new Date().toISOString() } : {};
    await outbox.add({ opId, command, input: { ...input, ...at, opId }, label });
    announce(say(text, online ? announceKey : 'checkin.queued', { name: label }));
    void drain();
  }

  outbox.subscribe((commands) => {
    waiting = commands;
    showWaiting();
    render();
  });
  live.subscribe(() => render());
  live.onConnection((state) => {
    const hint = document.getElementById('offline-hint');
    if (hint) hint.hidden = state !== 'offline';
    if (state === 'online') void drain();
  });
  // A command that got no answer stays queued: try again every few seconds while online.
  setInterval(() => {
    if (waiting.length > 0) void drain();
  }, 5000);
  window.addEventListener('online', () => void drain());

  // ---- Taps on a person -------------------------------------------------------------------------

  list.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
    const row = button?.closest<HTMLLIElement>('li[data-id]');
    if (!button || !row) return;
    const attendeeId = row.dataset.id ?? '';
    const name = nameOf(attendeeId);
    switch (button.dataset.action) {
      case 'checkIn':
        void queue('attendance:checkIn', { attendeeId }, name, 'checkin.checkedIn');
        break;
      case 'leftEarly':
        void queue('attendance:leftEarly', { attendeeId }, name, 'checkin.checkedIn');
        break;
      case 'undo':
        // A change still waiting to be sent is taken back from the queue; otherwise undo is sent.
        void (async () => {
          if (row.hasAttribute('data-pending') && (await outbox.takeBack(attendeeId))) announce(say(text, 'checkin.undone', { name }));
          else await queue('attendance:undo', { attendeeId }, name, 'checkin.undone');
        })();
        break;
      case 'absent':
        openAbsent(attendeeId, name);
        break;
    }
  });

  search.addEventListener('input', filter);

  // ---- Absent with a reason -------------------------------------------------------------------

  const absentDialog = document.getElementById('absent-dialog') as HTMLDialogElement;
  const absentForm = document.getElementById('absent-form') as HTMLFormElement;
  let absentFor = '';
  function openAbsent(attendeeId: string, name: string): void {
    absentFor = attendeeId;
    absentForm.reset();
    (document.getElementById('absent-title') as HTMLElement).textContent = say(text, 'absent.title', { name });
    showReasonFields();
    absentDialog.showModal();
  }
  function showReasonFields(): void {
    const reason = new FormData(absentForm).get('reason');
    for (const field of absentForm.querySelectorAll<HTMLElement>('[data-for-reason]')) field.hidden = field.dataset.forReason !== reason;
  }
  absentForm.addEventListener('change', showReasonFields);
  absentForm.addEventListener('submit', (event) => {
    if ((event.submitter as HTMLButtonElement | null)?.value !== 'save') return;
    const data = new FormData(absentForm);
    const reason = String(data.get('reason') ?? 'other');
    const delegateName = String(data.get('delegateName') ?? '').trim();
    const note = String(data.get('note') ?? '').trim();
    const error = document.getElementById('absent-error') as HTMLElement;
    // The same rule the server applies, checked here so an offline phone does not queue a refusal.
    const missing = reason === 'delegate' && !delegateName ? 'absent.delegateName' : reason === 'other' && !note ? 'absent.note' : '';
    if (missing) {
      event.preventDefault();
      error.textContent = `${text[missing]} *`;
      error.hidden = false;
      return;
    }
    error.hidden = true;
    void queue('attendance:markAbsent', { attendeeId: absentFor, reason, ...(delegateName ? { delegateName } : {}), ...(note ? { note } : {}) }, nameOf(absentFor), 'checkin.checkedIn');
  });

  // ---- Walk-ins -----------------------------------------------------------------------------

  const walkInDialog = document.getElementById('walkin-dialog') as HTMLDialogElement;
  const walkInForm = document.getElementById('walkin-form') as HTMLFormElement;
  document.getElementById('walkin-open')?.addEventListener('click', () => {
    walkInForm.reset();
    walkInDialog.showModal();
    (document.getElementById('walkin-name') as HTMLInputElement).focus();
  });
  walkInForm.addEventListener('submit', (event) => {
    if ((event.submitter as HTMLButtonElement | null)?.value !== 'save') return;
    const data = new FormData(walkInForm);
    const fullName = String(data.get('fullName') ?? '').trim();
    const error = document.getElementById('walkin-error') as HTMLElement;
    if (!fullName) {
      event.preventDefault();
      error.textContent = `${text['walkIn.fullName']} *`;
      error.hidden = false;
      return;
    }
    error.hidden = true;
    const extra = Object.fromEntries(['position', 'organization'].map((key) => [key, String(data.get(key) ?? '').trim()]).filter(([, value]) => value));
    void queue('attendance:addWalkIn', { siteId, fullName, ...extra }, fullName, 'checkin.checkedIn');
  });

  // ---- Link status and the self check-in code -----------------------------------------------

  document.getElementById('link-status')?.addEventListener('change', async (event) => {
    const status = (event.target as HTMLSelectElement).value;
    const ack = await live.send('site:setLink', { siteId, status });
    if (!ack.ok) announce(ack.error.message, true);
  });

  async function refreshCode(): Promise<void> {
    const ack = await live.send<{ code: { code: string; rotatesAt: string } }>('site:checkInCode', { siteId });
    const target = document.getElementById('checkin-code');
    if (ack.ok && target) {
      target.textContent = ack.code.code;
      setTimeout(() => void refreshCode(), Math.max(5000, Date.parse(ack.code.rotatesAt) - live.now() + 500));
    } else setTimeout(() => void refreshCode(), 15_000);
  }
  if (canCheckIn) {
    const initial = live.state.checkInCode;
    setTimeout(() => void refreshCode(), initial ? Math.max(5000, Date.parse(initial.rotatesAt) - live.now() + 500) : 3000);
  }

  // ---- Scanning an attendee's QR code ---------------------------------------------------------

  document.getElementById('scan-open')?.addEventListener('click', () => void scan());

  async function scan(): Promise<void> {
    const dialog = document.getElementById('scan-dialog') as HTMLDialogElement;
    const video = document.getElementById('scan-video') as HTMLVideoElement;
    const error = document.getElementById('scan-error') as HTMLElement;
    error.hidden = true;
    dialog.showModal();
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch {
      error.textContent = text['scan.noCamera'] ?? '';
      error.hidden = false;
      return;
    }
    video.srcObject = stream;
    await video.play().catch(() => undefined);
    const decode = await qrDecoder();
    let stopped = false;
    const stop = () => {
      stopped = true;
      for (const track of stream.getTracks()) track.stop();
      video.srcObject = null;
    };
    dialog.addEventListener('close', stop, { once: true });
    const tick = async () => {
      if (stopped) return;
      const found = await decode(video).catch(() => undefined);
      if (found && handleScan(found, error)) return dialog.close();
      setTimeout(() => void tick(), 200);
    };
    void tick();
  }

  function handleScan(content: string, error: HTMLElement): boolean {
    const scanned = parseCheckInQr(content);
    if (!scanned || scanned.meetingId !== page!.meetingId) {
      error.textContent = text['scan.notOurs'] ?? '';
      error.hidden = false;
      return false;
    }
    const record = live.state.attendance.find((candidate) => candidate.attendeeId === scanned.attendeeId);
    if (!record || record.siteId !== siteId) {
      error.textContent = say(text, 'scan.otherSite', { name: record?.fullName ?? '' });
      error.hidden = false;
      return false;
    }
    void queue('attendance:checkIn', { attendeeId: record.attendeeId }, record.fullName, 'checkin.checkedIn');
    return true;
  }

  /** The browser's BarcodeDetector where it has one; jsQR (loaded now, not with the page) otherwise. */
  async function qrDecoder(): Promise<(video: HTMLVideoElement) => Promise<string | undefined>> {
    const Detector = (window as unknown as { BarcodeDetector?: new (options: { formats: string[] }) => { detect(source: CanvasImageSource): Promise<Array<{ rawValue: string }>> } }).BarcodeDetector;
    if (Detector) {
      const detector = new Detector({ formats: ['qr_code'] });
      return async (video) => (await detector.detect(video))[0]?.rawValue;
    }
    const module = (await import(/* @vite-ignore */ page!.element.dataset.decoder ?? '')) as { decodeQr(image: ImageData): string | undefined };
    const canvas = document.createElement('canvas');
    const context = canvas.getContext('2d', { willReadFrequently: true });
    return async (video) => {
      if (!context || !video.videoWidth) return undefined;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      return module.decodeQr(context.getImageData(0, 0, canvas.width, canvas.height));
    };
  }

  keepForOffline(live);
  render();
}

/**
 * The service worker keeps this page and its bundle for a reload without a connection. The page
 * the browser has just shown did not pass through it, so once live it is stored here too (in the
 * background: on a slow link, after everything else).
 */
function keepForOffline(live: Page['live']): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  void navigator.serviceWorker.register('/checkin-sw.js', { scope: '/meetings/' }).catch(() => undefined);
  const stop = live.onConnection((state) => {
    if (state !== 'online') return;
    setTimeout(() => stop(), 0);
    void (async () => {
      const cache = await caches.open('bridgepoint-checkin-v1');
      const bundles = [...document.querySelectorAll<HTMLScriptElement>('script[type="module"][src]')].map((script) => script.src);
      await cache.addAll([location.pathname, ...bundles]);
    })().catch(() => undefined);
  });
}
