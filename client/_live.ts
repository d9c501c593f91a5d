// The live state every day-of screen follows (docs/api/live.md): starts from the snapshot the
// page was rendered with, applies pushed events in revision order, and on a gap (or a reconnect
// the server could not recover) fetches a fresh snapshot and carries on without a reload.
// Entity events older than what a snapshot already holds are dropped; newer ones are applied.
import { io, type Socket } from 'socket.io-client';
import type { Ack, AckError, LiveCommandName, LiveEvent, LiveSnapshot, ScreenKind, SiteLiveView } from '../server/live/contract.js';
import { quorumOf } from '../server/live/quorum.js';

export type ConnectionState = 'connecting' | 'online' | 'syncing' | 'offline';

export interface LiveOptions {
  meetingId: string;
  screen: ScreenKind;
  snapshot: LiveSnapshot;
  lang: string;
  /** How long a command waits for its acknowledgement. */
  ackTimeoutMs?: number;
  /** How long a skipped revision is awaited before a snapshot is fetched (docs/api/live.md). */
  gapWaitMs?: number;
}

type Listener = (state: LiveSnapshot, event?: LiveEvent) => void;

/** An acknowledgement that never came (no connection, or it took too long). */
export const noAnswer: AckError = { ok: false, error: { code: 'internal', message: 'no answer' } };
export function isNoAnswer(ack: Ack<unknown>): boolean {
  return ack === noAnswer;
}

export class LiveState {
  readonly socket: Socket;
  state: LiveSnapshot;
  /** Highest meeting revision applied. */
  revision: number;
  connection: ConnectionState = 'connecting';
  /** Server clock minus this browser's clock, ms (timers show the server's time). */
  clockOffsetMs = 0;
  private readonly listeners = new Set<Listener>();
  private readonly connectionListeners = new Set<(state: ConnectionState) => void>();
  private buffered: LiveEvent[] = [];
  private syncing: Promise<void> | undefined;
  private readonly ackTimeoutMs: number;
  /** Revisions skipped by a later event, awaited a moment before a snapshot fills them. */
  private readonly missing = new Set<number>();
  /** Events applied while a revision was missing: a snapshot older than them must not undo them. */
  private sinceGap: LiveEvent[] = [];
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly gapWaitMs: number;
  private failedSyncs = 0;
  /** Set while a failed snapshot waits to be asked again: nothing else asks before it (back-off). */
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** An event came more than 100 revisions ahead: events wait for a snapshot instead of applying. */
  private farBehind = false;

  constructor(private readonly options: LiveOptions) {
    this.state = options.snapshot;
    this.revision = options.snapshot.revision;
    this.adoptClock(options.snapshot.serverNow);
    this.ackTimeoutMs = options.ackTimeoutMs ?? 15_000;
    this.gapWaitMs = options.gapWaitMs ?? 1_000;
    // Websocket first (one round trip less on a slow link), long polling where a proxy blocks it.
    this.socket = io({ transports: ['websocket', 'polling'], tryAllTransports: true, auth: { lang: options.lang } });
    this.socket.on('connect', () => void this.connected());
    this.socket.on('disconnect', (reason) => {
      this.setConnection('offline');
      // The server let go of us (a changed link or role, a restart): Socket.IO does not retry on its
      // own then; ask again, and the handshake says who we are now (or refuses).
      if (reason === 'io server disconnect') setTimeout(() => this.socket.connect(), 1000);
    });
    // The phone says the network is back: try now rather than at the next back-off step.
    window.addEventListener('online', () => {
      if (!this.socket.connected) this.socket.connect();
    });
    this.socket.on('connect_error', () => this.setConnection('offline'));
    this.socket.on('event', (event: LiveEvent) => this.receive(event));
    // Under load the server sends a meeting's events in batches (we join with `batched`): applied
    // one by one, in their order, and the screen redrawn once.
    this.socket.on('events', (events: LiveEvent[]) => {
      if (!Array.isArray(events)) return;
      for (const event of events) this.receive(event, false);
      this.emit(events.at(-1));
    });
  }

  /** Called with the state after every change (and the event that made it). */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.connectionListeners.add(listener);
    listener(this.connection);
    return () => this.connectionListeners.delete(listener);
  }

  /** The server's "now", for timers. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** A command with its acknowledgement; `noAnswer` when offline or no answer came in time. */
  send<T = Record<string, unknown>>(name: LiveCommandName, input: Record<string, unknown>): Promise<Ack<T>> {
    if (!this.socket.connected) return Promise.resolve(noAnswer as Ack<T>);
    return new Promise((resolve) => {
      this.socket.timeout(this.ackTimeoutMs).emit(name, { meetingId: this.options.meetingId, ...input }, (error: Error | null, ack: Ack<T>) => {
        if (error || !ack) return resolve(noAnswer as Ack<T>);
        if (ack.ok) this.noteRevision(ack.revision);
        resolve(ack);
      });
    });
  }

  private setConnection(state: ConnectionState): void {
    if (this.connection === state) return;
    this.connection = state;
    for (const listener of this.connectionListeners) listener(state);
  }

  private async connected(): Promise<void> {
    // Recovered: the server replayed what we missed and kept our rooms. A revision still missing
    // (its wait ran out while we were away) or a far jump is asked for as it would have been.
    if (this.socket.recovered) {
      this.setConnection('online');
      if (this.missing.size > 0) this.awaitGap();
      if (this.farBehind) this.snapshotSoon();
      return;
    }
    this.setConnection('syncing');
    const joined = await this.send<{ meetingId: string }>('meeting:join', { screen: this.options.screen, batched: true });
    if (!joined.ok) return this.setConnection('offline');
    // Nothing changed since the page (or the last snapshot) was read, and nothing is missing: no snapshot to fetch.
    if (!(joined.revision <= this.revision) || this.missing.size > 0 || this.farBehind) await this.resync();
    if (this.socket.connected) this.setConnection('online');
  }

  /** An acknowledged command's revision: a gap behind it means events are on their way or lost. */
  private noteRevision(revision: number): void {
    if (revision > this.revision + 1) setTimeout(() => {
      if (this.revision < revision && !this.syncing) this.snapshotSoon();
    }, 1500);
  }

  /** One event (`notify`: redraw after it; a batch redraws once at its end). */
  private receive(event: LiveEvent, notify = true): void {
    if (event.meetingId !== this.options.meetingId) return;
    // Far behind (a long sleep without a disconnect): no point waiting for each missing revision;
    // the event waits for a snapshot with the others.
    if (!this.syncing && event.revision - this.revision > 100) this.farBehind = true;
    if (this.syncing || this.farBehind) {
      this.buffered.push(event);
      if (!this.syncing) this.snapshotSoon();
      return;
    }
    this.noteGap(event.revision);
    if (this.missing.size > 0) this.sinceGap.push(event);
    this.apply(event, notify);
  }

  /**
   * An event may come before one of a lower revision: with several app instances, a change made on
   * another one is relayed through Redis and can arrive after a later change made on this one.
   * Entities carry their own revisions, so applying in any order ends the same; what a skipped
   * revision needs is time. Still missing after gapWaitMs, it was lost (a process stopped between
   * its write and its event, a dropped link): a snapshot fills it.
   */
  private noteGap(revision: number): void {
    this.missing.delete(revision);
    if (revision > this.revision + 1) {
      for (let skipped = this.revision + 1; skipped < revision; skipped++) this.missing.add(skipped);
    }
    if (this.missing.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
      this.sinceGap = [];
    } else {
      this.awaitGap();
    }
  }

  private awaitGap(): void {
    this.gapTimer ??= setTimeout(() => {
      this.gapTimer = undefined;
      if (this.missing.size > 0) this.snapshotSoon();
    }, this.gapWaitMs);
  }

  /**
   * A snapshot now, unless a failed one waits for its retry (events arriving meanwhile must not
   * undo the back-off: the retry comes) or there is no connection (connected() asks on return).
   */
  private snapshotSoon(): void {
    if (this.retryTimer === undefined && this.socket.connected && !this.syncing) void this.resync();
  }

  /** Fetch a snapshot, then apply what arrived meanwhile if it is newer than the snapshot's entities. */
  resync(): Promise<void> {
    this.syncing ??= (async () => {
      const previous = this.connection;
      this.setConnection('syncing');
      try {
        const reply = await this.send<{ snapshot: LiveSnapshot }>('live:snapshot', {});
        if (!reply.ok) {
          this.retrySyncLater();
          return;
        }
        // Entity by entity: what the screen already shows newer stays.
        this.state = mergeSnapshot(this.state, reply.snapshot);
        this.adoptClock(reply.snapshot.serverNow);
        if (reply.snapshot.revision < this.revision) {
          // Older than events already applied (an instance whose copy of the meeting lags behind
          // what it relays): it fills no gap. Shown merged, and asked again a little later.
          this.emit();
          this.retrySyncLater();
          return;
        }
        this.revision = reply.snapshot.revision;
        // Events applied past a gap and newer than the snapshot go on it again (per-entity rule),
        // and the gaps are worked out anew from the snapshot's revision.
        this.buffered.unshift(...this.sinceGap.filter((event) => event.revision > this.revision));
        this.sinceGap = [];
        this.missing.clear();
        this.emit();
        // Still more than 100 revisions behind what arrived meanwhile (the instance that answered
        // lags far behind the one relaying events): asking again at once would ask in a loop, so
        // later, with the back-off; the events keep waiting for it.
        if (this.buffered.some((event) => event.revision - this.revision > 100)) {
          this.farBehind = true;
          this.retrySyncLater();
          return;
        }
        this.failedSyncs = 0;
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.farBehind = false;
      } finally {
        this.syncing = undefined;
        this.setConnection(this.socket.connected ? (previous === 'syncing' ? 'online' : previous === 'offline' ? 'online' : previous) : 'offline');
        // What arrived during the fetch, in order: older than the snapshot's entities it is dropped
        // entity by entity, and a gap still behind it is awaited as any other.
        const waiting = this.buffered.splice(0).sort((a, b) => a.revision - b.revision);
        for (const event of waiting) this.receive(event);
      }
    })();
    return this.syncing;
  }

  /**
   * A snapshot that did not come (an overloaded or restarting server) is asked for again later,
   * each time later (1 s, 2 s, 4 s ... 30 s, spread at random): thousands of phones asking again
   * at once would keep the server overloaded.
   */
  private retrySyncLater(): void {
    const delay = Math.min(30_000, this.gapWaitMs * 2 ** this.failedSyncs) * (0.5 + Math.random());
    this.failedSyncs += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.socket.connected && !this.syncing) void this.resync();
    }, delay);
  }

  private adoptClock(serverNow: string | undefined): void {
    const server = serverNow ? Date.parse(serverNow) : NaN;
    if (!Number.isNaN(server)) this.clockOffsetMs = server - Date.now();
  }

  /** One event into the state, entity by entity: an entity already newer stays as it is. */
  private apply(event: LiveEvent, notify = true): void {
    applyEvent(this.state, event, (serverNow) => this.adoptClock(serverNow));
    if (event.revision > this.revision) this.revision = event.revision;
    if (notify) this.emit(event);
  }

  private emit(event?: LiveEvent): void {
    for (const listener of this.listeners) listener(this.state, event);
  }
}

/**
 * One event into a screen's state, entity by entity (docs/api/live.md, the per-entity rule): an
 * entity already newer stays as it is, so events applied in any order end the same.
 */
export function applyEvent(state: LiveSnapshot, event: LiveEvent, adoptClock: (serverNow: string | undefined) => void = () => undefined): void {
  const site = (siteId: string): SiteLiveView | undefined => state.sites.find((candidate) => candidate.id === siteId);
  switch (event.type) {
    case 'meeting.started':
    case 'meeting.ended':
    case 'meeting.quorumChanged': {
      const payload = event.payload as LiveEvent<'meeting.started'>['payload'] & { quorum?: LiveSnapshot['quorum'] };
      if (payload.meeting.revision >= state.meeting.revision) {
        state.meeting = payload.meeting;
        // The share as the meeting now has it, unless totals heard later already carried a newer one.
        const percent = state.totals.revision > payload.meeting.revision ? state.quorum.percent : payload.meeting.quorumPercent;
        state.quorum = quorumOf(state.totals, percent);
      }
      break;
    }
    case 'attendance.changed': {
      const { record } = event.payload as LiveEvent<'attendance.changed'>['payload'];
      const index = state.attendance.findIndex((known) => known.attendeeId === record.attendeeId);
      if (index < 0) state.attendance.push(record);
      else if ((state.attendance[index]?.revision ?? -1) < record.revision) state.attendance[index] = record;
      break;
    }
    case 'attendance.counts': {
      const payload = event.payload as LiveEvent<'attendance.counts'>['payload'];
      const target = site(payload.siteId);
      if (target && target.counts.revision < payload.counts.revision) target.counts = payload.counts;
      if (state.totals.revision < payload.totals.revision) {
        state.totals = payload.totals;
        // Its quorum line, with the share of a meeting change heard later (events can cross between instances).
        state.quorum = state.meeting.revision > payload.totals.revision ? quorumOf(payload.totals, state.meeting.quorumPercent) : payload.quorum;
      }
      break;
    }
    case 'site.link': {
      const payload = event.payload as LiveEvent<'site.link'>['payload'];
      const target = site(payload.siteId);
      if (target && target.link.revision < payload.link.revision) target.link = payload.link;
      break;
    }
    case 'site.presence': {
      const payload = event.payload as LiveEvent<'site.presence'>['payload'];
      const target = site(payload.siteId);
      if (target && target.presence.revision < payload.presence.revision) target.presence = payload.presence;
      break;
    }
    case 'agenda.live': {
      const payload = event.payload as LiveEvent<'agenda.live'>['payload'];
      if (state.agenda.revision < payload.agenda.revision) state.agenda = payload.agenda;
      adoptClock(payload.serverNow);
      break;
    }
    case 'speakers.changed': {
      const payload = event.payload as LiveEvent<'speakers.changed'>['payload'];
      if (state.speakers.revision < payload.speakers.revision) state.speakers = payload.speakers;
      adoptClock(payload.serverNow);
      break;
    }
    default:
      // Table edits of other parts and "revision" markers: only the revision moves on.
      break;
  }
  if (event.revision > state.revision) state.revision = event.revision;
}

/**
 * A snapshot onto the state a screen shows, entity by entity (docs/api/live.md, the per-entity
 * rule): an entity the screen already has newer stays. A snapshot is normally at least as new as
 * everything shown; one answered by an instance whose copy of the meeting lags behind the events it
 * relays is not, and must not take back what the screen already showed.
 */
export function mergeSnapshot(shown: LiveSnapshot, snapshot: LiveSnapshot): LiveSnapshot {
  const newer = <T extends { revision: number }>(mine: T | undefined, theirs: T): T => (mine && mine.revision > theirs.revision ? mine : theirs);
  const sitesShown = new Map(shown.sites.map((site) => [site.id, site]));
  const recordsShown = new Map(shown.attendance.map((record) => [record.attendeeId, record]));
  const listed = new Set(snapshot.attendance.map((record) => record.attendeeId));
  const attendance = snapshot.attendance.map((record) => newer(recordsShown.get(record.attendeeId), record));
  // A record the snapshot does not list yet (written after it was read) stays; older ones go with it.
  for (const record of shown.attendance) if (!listed.has(record.attendeeId) && record.revision > snapshot.revision) attendance.push(record);
  const totalsKept = shown.totals.revision > snapshot.totals.revision;
  const meetingKept = shown.meeting.revision > snapshot.meeting.revision;
  const meeting = meetingKept ? shown.meeting : snapshot.meeting;
  const totals = totalsKept ? shown.totals : snapshot.totals;
  const sites = snapshot.sites.map((site) => {
    const mine = sitesShown.get(site.id);
    return mine ? { ...site, counts: newer(mine.counts, site.counts), link: newer(mine.link, site.link), presence: newer(mine.presence, site.presence) } : site;
  });
  // A site the snapshot does not list: removed (it goes) unless the screen knows it from something
  // newer than the snapshot (a newer snapshot listed it: added after this one was read).
  const listedSites = new Set(snapshot.sites.map((site) => site.id));
  for (const site of shown.sites) {
    if (!listedSites.has(site.id) && Math.max(site.counts.revision, site.link.revision, site.presence.revision) > snapshot.revision) sites.push(site);
  }
  sites.sort((a, b) => a.order - b.order);
  // The quorum line: the share as the newer of the meeting and the totals had it, on the totals kept
  // (one kept from the screen and the other from the snapshot would otherwise disagree).
  const percent = meeting.revision >= totals.revision ? meeting.quorumPercent : totalsKept ? shown.quorum.percent : snapshot.quorum.percent;
  return {
    ...snapshot,
    revision: Math.max(shown.revision, snapshot.revision),
    meeting,
    sites,
    totals,
    quorum: quorumOf(totals, percent),
    agenda: newer(shown.agenda, snapshot.agenda),
    speakers: newer(shown.speakers, snapshot.speakers),
    attendance,
  };
}

/** Milliseconds left on the agenda timer (negative: overrun), or null without a running item. */
export function remainingMs(state: LiveSnapshot, now: number): number | null {
  const timer = state.agenda.timer;
  if (!timer) return null;
  const running = timer.paused || !timer.runningSince ? 0 : now - Date.parse(timer.runningSince);
  return timer.plannedMs - timer.elapsedMs - running;
}

/** "12:05", "-3:20", "1:02:00". */
export function formatDuration(ms: number): string {
  const negative = ms < 0;
  const total = Math.floor(Math.abs(ms) / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const body = hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}` : `${minutes}:${String(seconds).padStart(2, '0')}`;
  return negative ? `-${body}` : body;
}

/** A fresh operation id for a command that may be sent twice. */
export function newOperationId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Shows the connection state in an element with data-connection (styled by its value). */
export function showConnection(live: LiveState, element: HTMLElement | null, labels: Record<ConnectionState, string>): void {
  if (!element) return;
  live.onConnection((state) => {
    element.dataset.connection = state;
    element.textContent = labels[state];
  });
}
