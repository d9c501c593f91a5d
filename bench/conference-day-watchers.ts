// Watching clients of bench/conference-day.ts, in their own process so the load generator does not
// share their event loop: many socket.io-client websocket connections (attendees' phones and wall
// displays), each keeping the day's state the way docs/api/live.md says a screen must (revisions,
// per-entity rule, a snapshot after a gap or a reconnect that was not recovered). The parent sends
// when each revision's command was sent (for delivery latency) and, at the end, the revision the
// server settled on: each client then compares its own state with a fresh snapshot.
import { io, type Socket } from 'socket.io-client';
import type { LiveEvent, LiveSnapshot } from '../server/live/contract.js';

export interface WatcherClient {
  url: string;
  token: string;
}

export type ToWatchers =
  | { type: 'init'; meetingId: string; clients: WatcherClient[]; openPerSecond: number; readyTimeoutMs: number }
  | { type: 'sent'; items: Array<[revision: number, sentAt: number]> }
  | { type: 'final'; revision: number; timeoutMs: number }
  | { type: 'stop' };

export interface WatcherResult {
  clients: number;
  connected: number;
  events: number;
  /** `events` messages (each a batch of the events above). */
  batches: number;
  reconnects: number;
  recovered: number;
  snapshots: number;
  /** Events that skipped revisions, and the skips still open after the wait (a snapshot filled them). */
  gaps: number;
  gapsUnfilled: number;
  /** Final comparisons that differed at first and agreed on a later look (a correction in flight). */
  transientDifferences: number;
  /** Latency histogram: key = bucket (ms, see bucketOf), value = count. */
  latency: Array<[number, number]>;
  compared: number;
  drifted: number;
  driftExamples: string[];
  notSettled: number;
  notSettledExamples: string[];
  peakRssBytes: number;
}

export type FromWatchers = { type: 'ready'; connected: number; clients: number; failures: string[] } | { type: 'result'; result: WatcherResult } | { type: 'error'; message: string };

/** 1 ms buckets up to 2 s, then 50 ms buckets. */
export function bucketOf(ms: number): number {
  const value = Math.max(0, Math.round(ms));
  return value < 2000 ? value : Math.floor(value / 50) * 50;
}

// ---------------------------------------------------------------------------------------------
// The state a screen keeps (entities with their revision).

interface Rev {
  revision: number;
}
interface View {
  known: number;
  status: { value: string; revision: number };
  sites: Map<string, { counts: Rev; link: Rev; presence: Rev }>;
  totals: Rev;
  agenda: Rev & Record<string, unknown>;
  speakers: Rev & Record<string, unknown>;
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** What of the agenda must agree (times computed from "now" are left out). */
function agendaPart(agenda: LiveSnapshot['agenda']): Rev & Record<string, unknown> {
  return {
    revision: agenda.revision,
    currentItemId: agenda.currentItemId,
    nextItemId: agenda.nextItemId,
    timer: agenda.timer,
    items: agenda.items.map((item) => ({ id: item.id, state: item.state, extendedMinutes: item.extendedMinutes, actualStartedAt: item.actualStartedAt, actualEndedAt: item.actualEndedAt })),
  };
}

function speakersPart(speakers: LiveSnapshot['speakers']): Rev & Record<string, unknown> {
  return { revision: speakers.revision, queue: speakers.queue.map((r) => `${r.id}:${r.status}`), floor: speakers.floor ? `${speakers.floor.id}:${speakers.floor.status}` : null };
}

function newer<T extends Rev>(mine: T | undefined, theirs: T): T {
  return !mine || theirs.revision >= mine.revision ? theirs : mine;
}

function fromSnapshot(view: View | undefined, snapshot: LiveSnapshot): View {
  const sites = new Map(view?.sites ?? []);
  for (const site of snapshot.sites) {
    const mine = sites.get(site.id);
    sites.set(site.id, { counts: newer(mine?.counts, site.counts), link: newer(mine?.link, site.link), presence: newer(mine?.presence, site.presence) });
  }
  const status = { value: snapshot.meeting.status, revision: snapshot.revision };
  return {
    known: Math.max(view?.known ?? 0, snapshot.revision),
    status: view && view.status.revision > snapshot.revision ? view.status : status,
    sites,
    totals: newer(view?.totals, snapshot.totals),
    agenda: newer(view?.agenda, agendaPart(snapshot.agenda)),
    speakers: newer(view?.speakers, speakersPart(snapshot.speakers)),
  };
}

function applyEvent(view: View, event: LiveEvent): void {
  const payload = event.payload as never as Record<string, never>;
  switch (event.type) {
    case 'meeting.started':
    case 'meeting.ended':
      if (event.revision > view.status.revision) view.status = { value: (payload.meeting as { status: string }).status, revision: event.revision };
      break;
    case 'attendance.counts': {
      const p = event.payload as LiveEvent<'attendance.counts'>['payload'];
      const site = view.sites.get(p.siteId);
      if (site) site.counts = newer(site.counts, p.counts);
      view.totals = newer(view.totals, p.totals);
      break;
    }
    case 'site.link': {
      const p = event.payload as LiveEvent<'site.link'>['payload'];
      const site = view.sites.get(p.siteId);
      if (site) site.link = newer(site.link, p.link);
      break;
    }
    case 'site.presence': {
      const p = event.payload as LiveEvent<'site.presence'>['payload'];
      const site = view.sites.get(p.siteId);
      if (site) site.presence = newer(site.presence, p.presence);
      break;
    }
    case 'agenda.live':
      view.agenda = newer(view.agenda, agendaPart((event.payload as LiveEvent<'agenda.live'>['payload']).agenda));
      break;
    case 'speakers.changed':
      view.speakers = newer(view.speakers, speakersPart((event.payload as LiveEvent<'speakers.changed'>['payload']).speakers));
      break;
    default:
      break;
  }
}

/**
 * What a screen shows of an entity. A snapshot stamps every entity with its own revision (the
 * state as of then), so revisions are not compared; nor is a connected site's `lastSeenAt`
 * ("now" while connected).
 */
function shown(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const { revision: _revision, ...rest } = value as Record<string, unknown>;
  if (rest.connected === true) delete rest.lastSeenAt;
  return rest;
}

function differences(mine: View, server: View): string[] {
  const out: string[] = [];
  const check = (name: string, a: unknown, b: unknown) => {
    const ca = canonical(shown(a));
    const cb = canonical(shown(b));
    if (ca !== cb) out.push(`${name}: client ${ca.slice(0, 300)} != server ${cb.slice(0, 300)}`);
  };
  check('meeting.status', mine.status.value, server.status.value);
  check('totals', mine.totals, server.totals);
  for (const [id, site] of server.sites) {
    const own = mine.sites.get(id);
    check(`site ${id} counts`, own?.counts, site.counts);
    check(`site ${id} link`, own?.link, site.link);
    check(`site ${id} presence`, own?.presence, site.presence);
  }
  check('agenda', mine.agenda, server.agenda);
  check('speakers', mine.speakers, server.speakers);
  return out;
}

// ---------------------------------------------------------------------------------------------

interface Client {
  socket: Socket;
  view?: View;
  joined: boolean;
  syncing?: Promise<void>;
  /** Revisions skipped by a later event, still awaited. */
  missing: Set<number>;
  gapTimer?: ReturnType<typeof setTimeout>;
}

const stats = { events: 0, batches: 0, reconnects: 0, recovered: 0, snapshots: 0, gaps: 0, gapsUnfilled: 0, transientDifferences: 0 };
const latency = new Map<number, number>();
const sentAt = new Map<number, number>();
const pending = new Map<number, number[]>();
let peakRss = 0;
let meetingId = '';
const clients: Client[] = [];

function observe(revision: number, at: number): void {
  const sent = sentAt.get(revision);
  if (sent === undefined) {
    const list = pending.get(revision);
    if (list) list.push(at);
    else pending.set(revision, [at]);
    return;
  }
  const bucket = bucketOf(at - sent);
  latency.set(bucket, (latency.get(bucket) ?? 0) + 1);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

async function snapshot(client: Client): Promise<LiveSnapshot> {
  const reply = await client.socket.timeout(15_000).emitWithAck('live:snapshot', { meetingId });
  if (!reply.ok) throw new Error(`snapshot refused: ${JSON.stringify(reply.error)}`);
  stats.snapshots += 1;
  return reply.snapshot as LiveSnapshot;
}

/**
 * Join (unless this connection already has: a recovered one keeps its rooms) and merge a snapshot,
 * retrying while the connection lasts. Whether to join is looked at on every attempt: a sync begun
 * on an earlier connection (a gap's) is the one a reconnect finds still running, and it must join
 * the new connection before its snapshot, or the phone follows nothing from then on.
 */
function sync(client: Client): Promise<void> {
  client.syncing ??= (async () => {
    try {
      // As a phone does: keep trying while connected, backing off (an overloaded server answers late).
      for (let attempt = 0; client.socket.connected; attempt++) {
        try {
          if (!client.joined) {
            const reply = await client.socket.timeout(15_000).emitWithAck('meeting:join', { meetingId, screen: 'attendee', batched: true });
            if (!reply.ok) throw new Error(`join refused: ${JSON.stringify(reply.error)}`);
            client.joined = true;
          }
          const answer = await snapshot(client);
          // The connection changed while the snapshot came (not recovered): join that one first.
          if (!client.joined) continue;
          client.view = fromSnapshot(client.view, answer);
          return;
        } catch {
          // As client/_live.ts: 1 s, 2 s, 4 s ... 30 s, spread at random.
          await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1_000 * 2 ** attempt) * (0.5 + Math.random())));
        }
      }
    } finally {
      client.syncing = undefined;
    }
  })();
  return client.syncing;
}

function open(spec: WatcherClient): Client {
  const socket = io(spec.url, { transports: ['websocket'], auth: { token: spec.token }, reconnection: true, reconnectionDelay: 500, reconnectionDelayMax: 3000, timeout: 10_000 });
  const client: Client = { socket, joined: false, missing: new Set() };
  // A handshake the server refused (its store was down while it resolved the token) is not retried
  // by socket.io-client on its own (`socket.active` is false): try again, as a phone's page would.
  socket.on('connect_error', () => {
    if (!socket.active) setTimeout(() => socket.connect(), 1_000);
  });
  let connectedBefore = false;
  socket.on('connect', () => {
    if (connectedBefore) {
      stats.reconnects += 1;
      if (socket.recovered) {
        stats.recovered += 1;
        // Recovery replays what was sent while away, not what was already missing before.
        if (client.missing.size > 0) {
          client.missing.clear();
          void sync(client);
        }
        return;
      }
    }
    connectedBefore = true;
    client.joined = false;
    client.missing.clear();
    void sync(client);
  });
  const receive = (event: LiveEvent) => {
    const at = Date.now();
    stats.events += 1;
    observe(event.revision, at);
    const view = client.view;
    if (!view) return; // the snapshot being fetched includes it or a later event brings it
    // As client/_live.ts (docs/api/live.md): apply at once; a skipped revision is awaited 1 s (on
    // two instances a relayed change can come after a later local one), then a snapshot fills it.
    client.missing.delete(event.revision);
    if (event.revision > view.known + 1) {
      stats.gaps += 1;
      for (let skipped = view.known + 1; skipped < event.revision; skipped++) client.missing.add(skipped);
    }
    applyEvent(view, event);
    view.known = Math.max(view.known, event.revision);
    if (client.missing.size === 0) {
      clearTimeout(client.gapTimer);
      client.gapTimer = undefined;
    } else {
      client.gapTimer ??= setTimeout(() => {
        client.gapTimer = undefined;
        // Offline: the reconnect takes care of it (a snapshot, or a recovery that looks again).
        if (client.missing.size > 0 && client.socket.connected) {
          stats.gapsUnfilled += 1;
          client.missing.clear();
          void sync(client);
        }
      }, gapWaitMs);
    }
  };
  socket.on('event', receive);
  // Joined with `batched`, as the app's screens: a batch's events one by one, in order.
  socket.on('events', (events: LiveEvent[]) => {
    stats.batches += 1;
    for (const event of events) receive(event);
  });
  return client;
}

const gapWaitMs = 1_000;

async function settle(revision: number, timeoutMs: number): Promise<WatcherResult> {
  const deadline = Date.now() + timeoutMs;
  const notSettledExamples: string[] = [];
  // Clients still behind when the wait ended: examples only if some of them could not be compared.
  const stillBehind: string[] = [];
  // Wait until every client is connected, joined, and knows the final revision.
  for (;;) {
    const behind = clients.filter((c) => !c.socket.connected || !c.view || c.syncing || c.view.known < revision);
    if (behind.length === 0 || Date.now() > deadline) {
      for (const c of behind.slice(0, 5)) stillBehind.push(`connected=${c.socket.connected} view=${Boolean(c.view)} syncing=${Boolean(c.syncing)} known=${c.view?.known} wanted=${revision}`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  let drifted = 0;
  let compared = 0;
  const driftExamples: string[] = [];
  const queue = clients.filter((c) => c.socket.connected && c.view);
  // A snapshot answers presence from the rooms as they are now, and writes the correction (a new
  // revision, an event to every screen) just after: a phone may be a moment behind the snapshot it
  // is compared with. It drifted if it still differs once it has heard of the snapshot's revision
  // and a fresh snapshot after a pause says the same.
  const compare = async (c: Client): Promise<string[]> => {
    let diff: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
      const answer = await withTimeout(snapshot(c), 20_000, 'the final snapshot');
      const caughtUp = Date.now() + 5_000;
      while (c.view!.known < answer.revision && Date.now() < caughtUp) await new Promise((resolve) => setTimeout(resolve, 50));
      diff = differences(c.view!, fromSnapshot(undefined, answer));
      if (diff.length === 0) return diff;
      stats.transientDifferences += 1;
    }
    return diff;
  };
  const worker = async () => {
    for (let c = queue.pop(); c; c = queue.pop()) {
      try {
        const diff = await compare(c);
        compared += 1;
        if (diff.length > 0) {
          drifted += 1;
          if (driftExamples.length < 5) driftExamples.push(`phone at revision ${c.view!.known} (joined ${c.joined}, wanted ${revision})`, ...diff.slice(0, 3));
        }
      } catch (error) {
        notSettledExamples.push(`final snapshot failed: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  const notSettled = clients.length - compared;
  if (notSettled > 0) notSettledExamples.unshift(...stillBehind);
  return {
    clients: clients.length,
    connected: clients.filter((c) => c.socket.connected).length,
    ...stats,
    latency: [...latency],
    compared,
    drifted,
    driftExamples,
    notSettled,
    notSettledExamples: notSettledExamples.slice(0, 5),
    peakRssBytes: peakRss,
  };
}

const send = (message: FromWatchers) => process.send?.(message);

setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 500).unref();

process.on('message', (message: ToWatchers) => {
  void (async () => {
    if (message.type === 'init') {
      meetingId = message.meetingId;
      // The parent waits readyTimeoutMs (+ a margin) from now: the report must come before that.
      const deadline = Date.now() + message.readyTimeoutMs;
      const gap = 1000 / message.openPerSecond;
      for (const spec of message.clients) {
        clients.push(open(spec));
        await new Promise((resolve) => setTimeout(resolve, gap));
      }
      while (clients.some((c) => !c.view) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const failures = clients.filter((c) => !c.view).slice(0, 5).map((c) => `connected=${c.socket.connected} joined=${c.joined}`);
      send({ type: 'ready', connected: clients.filter((c) => c.view).length, clients: clients.length, failures });
    } else if (message.type === 'sent') {
      for (const [revision, at] of message.items) {
        sentAt.set(revision, at);
        const waiting = pending.get(revision);
        if (waiting) {
          pending.delete(revision);
          for (const received of waiting) observe(revision, received);
        }
      }
    } else if (message.type === 'final') {
      send({ type: 'result', result: await settle(message.revision, message.timeoutMs) });
    } else if (message.type === 'stop') {
      for (const c of clients) c.socket.disconnect();
      process.exit(0);
    }
  })().catch((error: unknown) => send({ type: 'error', message: (error as Error).stack ?? String(error) }));
});
process.on('disconnect', () => process.exit(0));
