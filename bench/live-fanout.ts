// Live fan-out benchmark (issue 8): N attendees' screens follow one meeting; a site coordinator
// checks someone in, and the check-in travels through the whole action (validate, authorise,
// write through mongoose to the embedded store, event) to every screen. Measured per size: p50
// and p99 of the time from the coordinator's emit until the LAST screen has the event, and the
// server's memory per connection; against a bare Socket.IO server broadcasting the same payload
// to the same client processes in the same run (trials interleaved). Then a sustained phase:
// check-ins at --rate per second from the 13 sites while --watchers screens watch, every screen
// checked for each check-in exactly once and in revision order (and the same for the bare server).
//
// Processes: the app (bench/live-fanout-server.ts, BENCH_MODE=app, with the embedded store in
// its worker thread), the bare server (same file, BENCH_MODE=bare), --procs client processes
// (bench/live-fanout-clients.ts) each holding its share of socket.io-client connections
// (websocket transport), and this one, which holds the coordinators' sockets and drives the rest
// over IPC. Times come from the monotonic clock every process shares (process.hrtime).
//
//   npx tsx bench/live-fanout.ts [--clients 500,2000,5000] [--trials 40] [--watchers 2000]
//        [--rate 200] [--seconds 10] [--procs 4] [--batch 50] [--quick] [--profile] [--unbatched]
//
// --quick: 200 clients, 10 trials, 200 watchers for 3 s. --profile: the app runs with --cpu-prof
// and bench/cpu-profile.ts prints where its time went. The app's screens join with `batched`, as
// the app's own pages do (realtime/fanout.ts); --unbatched: as a client that does not ask for it.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { io as connect, type Socket } from 'socket.io-client';
import type { MemoryFigures, ParentMessage, SeededDay, ServerMessage } from './live-fanout-server.js';
import { now, type ClientsCommand, type ClientsReply, type Store } from './live-fanout-clients.js';
import { formatSummary, readProfile, summarizeProfile } from './cpu-profile.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string' },
    trials: { type: 'string' },
    warmup: { type: 'string', default: '5' },
    watchers: { type: 'string' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string' },
    procs: { type: 'string', default: '4' },
    batch: { type: 'string', default: '50' },
    'resend-every': { type: 'string', default: '25' },
    'max-minutes': { type: 'string', default: '30' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    /** The app's watchers join without `batched`: every event on its own, as before batches. */
    unbatched: { type: 'boolean', default: false },
  },
});
// --clients 0: the sustained phase only.
const sizes = (args.clients ?? (args.quick ? '200' : '500,2000,5000')).split(',').map(Number).filter((size) => size > 0);
const trials = Number(args.trials ?? (args.quick ? 10 : 40));
const warmup = Number(args.warmup);
const watchers = Number(args.watchers ?? (args.quick ? 200 : 2000));
const rate = Number(args.rate);
const seconds = Number(args.seconds ?? (args.quick ? 3 : 10));
const procs = Number(args.procs);
const batch = Number(args.batch);
const resendEvery = Number(args['resend-every']);
const sites = 13;
const target = { p99Ratio: 1.3, kbPerConnection: 40 };

const maxClients = Math.max(...sizes, watchers, 1);
const sustainedCheckIns = Math.ceil(rate * seconds);
/** The latency trials check in people of the first site only (its coordinator's own). */
const targetsPerSite = sizes.length * (trials + warmup) + Math.ceil((sustainedCheckIns * 1.2) / sites) + 10;

// ---- plumbing: children, waits with a deadline and a name ------------------------------------

let step = 'starting';
const started = performance.now();
const log = (text: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${text}`);
const children: ChildProcess[] = [];

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}

function fail(error: unknown): never {
  console.error(`\nlive-fanout failed during "${step}": ${error instanceof Error ? error.message : String(error)}`);
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exit(1);
}
const watchdog = setTimeout(() => fail(new Error(`still running after ${args['max-minutes']} minutes`)), Number(args['max-minutes']) * 60_000);
watchdog.unref();

const here = path.dirname(fileURLToPath(import.meta.url));
const profileDir = args.profile ? await mkdtemp(path.join(tmpdir(), 'bench-live-fanout-prof-')) : undefined;
let stopping = false;

function forkChild(file: string, env: Record<string, string>, execArgv: string[] = []): ChildProcess {
  const child = fork(path.join(here, file), [], { execArgv: ['--import', 'tsx', ...execArgv], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.once('exit', (code, signal) => {
    if (!stopping) fail(new Error(`${file} (${env.BENCH_MODE ?? 'clients'}) exited (${code ?? signal})`));
  });
  children.push(child);
  return child;
}

class ServerChild {
  readonly child: ChildProcess;
  constructor(
    readonly mode: 'app' | 'bare',
    env: Record<string, string> = {},
  ) {
    const prof = mode === 'app' && profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
    this.child = forkChild('live-fanout-server.ts', { BENCH_MODE: mode, ...env }, ['--expose-gc', '--max-old-space-size=4096', ...prof]);
  }

  next<T extends ServerMessage['type']>(type: T, ms: number): Promise<Extract<ServerMessage, { type: T }>> {
    return within(
      new Promise((resolve) => {
        const listener = (message: ServerMessage) => {
          if (message.type !== type) return;
          this.child.off('message', listener);
          resolve(message as Extract<ServerMessage, { type: T }>);
        };
        this.child.on('message', listener);
      }),
      ms,
      `the ${this.mode} server's "${type}"`,
    );
  }

  async memory(): Promise<MemoryFigures> {
    const reply = this.next('memory', 30_000);
    this.child.send({ type: 'memory' } satisfies ParentMessage);
    return (await reply).memory;
  }

  async cpuMs(): Promise<number> {
    const reply = this.next('cpu', 10_000);
    this.child.send({ type: 'cpu' } satisfies ParentMessage);
    return (await reply).micros / 1000;
  }

  /** Polls until the server holds `count` connections. */
  async settle(count: number, what: string): Promise<MemoryFigures> {
    const deadline = performance.now() + 60_000;
    for (;;) {
      const memory = await this.memory();
      if (memory.clients === count) return memory;
      if (performance.now() > deadline) throw new Error(`the ${this.mode} server holds ${memory.clients} connections, not ${count} (${what})`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

class ClientsChild {
  readonly child = forkChild('live-fanout-clients.ts', { BENCH_ROLE: 'clients' }, ['--max-old-space-size=4096']);
  private pending = new Map<number, (reply: ClientsReply) => void>();
  private static nextId = 1;
  constructor(readonly index: number) {
    this.child.on('message', (reply: ClientsReply) => {
      if (reply.type === 'progress') {
        log(`clients ${index}: ${reply.text}`);
        return;
      }
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
  }

  ask<R extends ClientsReply>(command: DistributiveOmit<Exclude<ClientsCommand, { type: 'stop' }>, 'id'>, ms: number, what: string): Promise<R> {
    const id = ClientsChild.nextId++;
    const promise = new Promise<R>((resolve) => this.pending.set(id, resolve as (reply: ClientsReply) => void));
    this.child.send({ ...command, id });
    return within(promise, ms, `client process ${this.index}: ${what}`);
  }
}

// ---- start: servers, seeded day, client processes ---------------------------------------------

step = 'starting the servers and seeding';
log(`sizes ${sizes.join(', ')}; ${trials} trials (+${warmup} warm-up) each; sustained ${rate}/s for ${seconds} s with ${watchers} watchers; ${procs} client processes`);
const appServer = new ServerChild('app', { BENCH_WATCHERS: String(maxClients), BENCH_TARGETS: String(targetsPerSite * sites) });
const bareServer = new ServerChild('bare');
const [appReady, bareReady] = await within(Promise.all([appServer.next('ready', 300_000), bareServer.next('ready', 60_000)]), 300_000, 'both servers ready').catch(fail);
const day = appReady.day as SeededDay;
log(`app at ${appReady.url} (${day.watcherTokens.length} watchers, ${day.targets.flat().length} to check in, ${day.sites.length} sites), bare at ${bareReady.url}`);
if (day.sites.length !== sites) fail(new Error(`the seeded meeting has ${day.sites.length} sites, not ${sites}`));
const clientProcs = Array.from({ length: procs }, (_, index) => new ClientsChild(index));

/** One coordinator screen in this process (the sender), joined to the meeting. */
async function openCoordinator(token: string): Promise<Socket> {
  const socket = connect(appReady.url, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token } });
  await within(new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  }), 15_000, 'a coordinator socket to connect');
  const ack = (await socket.timeout(15_000).emitWithAck('meeting:join', { meetingId: day.meetingId })) as { ok: boolean };
  if (!ack.ok) throw new Error(`coordinator join refused: ${JSON.stringify(ack)}`);
  return socket;
}

step = 'opening the coordinators';
const coordinator = await openCoordinator(day.sites[0].token).catch(fail);
const bareSender = connect(bareReady.url, { transports: ['websocket'], forceNew: true, reconnection: false });
await within(new Promise<void>((resolve, reject) => {
  bareSender.once('connect', () => resolve());
  bareSender.once('connect_error', reject);
}), 15_000, 'the bare sender to connect').catch(fail);

// The bare server broadcasts what the app last sent: same type, same size.
let payload: Record<string, unknown> | undefined;
coordinator.on('event', (event: { type: string }) => {
  if (event.type === 'attendance.counts') payload = event as Record<string, unknown>;
});

async function connectClients(store: Store, count: number): Promise<void> {
  step = `connecting ${count} clients to the ${store} server`;
  const begun = performance.now();
  const tokens = store === 'app' ? day.watcherTokens.slice(0, count) : Array.from({ length: count }, () => '');
  const shares = clientProcs.map((proc, index) => tokens.filter((_, position) => position % procs === index));
  const replies = await within(
    Promise.all(
      clientProcs.map((proc, index) =>
        proc.ask<Extract<ClientsReply, { type: 'connected' }>>(
          { type: 'connect', store, url: store === 'app' ? appReady.url : bareReady.url, tokens: shares[index], meetingId: store === 'app' ? day.meetingId : undefined, batch, timeoutMs: 30_000, unbatched: args.unbatched },
          600_000,
          `${shares[index].length} ${store} connections`,
        ),
      ),
    ),
    600_000,
    `${count} ${store} connections`,
  );
  const failed = replies.reduce((sum, reply) => sum + reply.failed, 0);
  if (failed > 0) throw new Error(`${failed} of ${count} ${store} connections failed, e.g. ${replies.find((reply) => reply.firstError)?.firstError}`);
  log(`${count} clients on the ${store} server in ${((performance.now() - begun) / 1000).toFixed(1)} s`);
}

async function closeClients(store: Store): Promise<void> {
  step = `closing the ${store} clients`;
  await Promise.all(clientProcs.map((proc) => proc.ask({ type: 'close', store, timeoutMs: 30_000 }, 60_000, `closing ${store} sockets`)));
}

/** When the last screen of every client process had `key`, and how many did not. */
async function lastArrival(store: Store, key: number): Promise<{ lastAt: number; missing: number }> {
  const replies = await Promise.all(clientProcs.map((proc) => proc.ask<Extract<ClientsReply, { type: 'arrived' }>>({ type: 'await', store, key, timeoutMs: 20_000 }, 30_000, `${store} event ${key} on every socket`)));
  return { lastAt: Math.max(...replies.map((reply) => reply.lastAt)), missing: replies.reduce((sum, reply) => sum + reply.sockets - reply.count, 0) };
}

// ---- one trial each way ---------------------------------------------------------------------

const firstSiteTargets = [...day.targets[0]];
let bareSeq = 1_000_000;

interface Trial {
  ms: number;
  ackMs?: number;
  missing: number;
}

async function appTrial(): Promise<Trial> {
  const attendeeId = firstSiteTargets.pop();
  if (!attendeeId) throw new Error('no attendee of the first site left to check in');
  const t0 = now();
  const ack = (await coordinator.timeout(20_000).emitWithAck('attendance:checkIn', { meetingId: day.meetingId, attendeeId, opId: randomUUID() })) as { ok: boolean; changed?: boolean; revision: number };
  const ackMs = now() - t0;
  if (!ack.ok || !ack.changed) throw new Error(`check-in not counted: ${JSON.stringify(ack).slice(0, 300)}`);
  const { lastAt, missing } = await lastArrival('app', ack.revision);
  checkedIn++;
  return { ms: lastAt - t0, ackMs, missing };
}

async function bareTrial(): Promise<Trial> {
  if (!payload) throw new Error('no attendance.counts event seen from the app yet');
  const key = bareSeq++;
  const t0 = now();
  bareSender.emit('broadcast', { ...payload, revision: key });
  const { lastAt, missing } = await lastArrival('bare', key);
  return { ms: lastAt - t0, missing };
}

/** Of the finite values (a message some screen never got has no time: it counts as lost instead). */
const percentile = (values: number[], p: number) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let checkedIn = 0;

interface SizeResult {
  clients: number;
  app: { p50Ms: number; p99Ms: number; ackP50Ms: number; ackP99Ms: number; heapKbPerConnection: number; rssKbPerConnection: number };
  baseline: { p50Ms: number; p99Ms: number; heapKbPerConnection: number; rssKbPerConnection: number };
  lost: { app: number; baseline: number };
  ratio: { p99: number; p50: number; memory: number };
  kbPerConnection: number;
  pass: boolean;
}

const kb = (bytes: number, count: number) => bytes / 1024 / count;
const heapOf = (memory: MemoryFigures) => memory.heapUsed + memory.external;

async function measureSize(clients: number): Promise<SizeResult> {
  step = `memory before ${clients} clients`;
  const appBefore = await appServer.settle(1, 'before connecting');
  const bareBefore = await bareServer.settle(1, 'before connecting');
  await connectClients('bare', clients);
  step = `memory with ${clients} bare clients`;
  const bareAfter = await bareServer.settle(clients + 1, 'after connecting');
  await connectClients('app', clients);
  step = `memory with ${clients} app clients`;
  const appAfter = await appServer.settle(clients + 1, 'after connecting');

  step = `${clients} clients: trials`;
  const app: Trial[] = [];
  const bare: Trial[] = [];
  for (let round = 0; round < warmup + trials; round++) {
    // Alternate which goes first, so a burst of other load on the machine hits both alike.
    const pair = round % 2 === 0 ? [await appTrial(), await pause(20).then(bareTrial)] : [await bareTrial(), await pause(20).then(appTrial)].reverse();
    if (round >= warmup) {
      app.push(pair[0]);
      bare.push(pair[1]);
    }
    await pause(20);
  }
  await closeClients('app');
  await closeClients('bare');

  const appMs = app.map((trial) => trial.ms);
  const bareMs = bare.map((trial) => trial.ms);
  const ackMs = app.map((trial) => trial.ackMs ?? 0);
  const appHeap = kb(heapOf(appAfter) - heapOf(appBefore), clients);
  const appRss = kb(appAfter.rss - appBefore.rss, clients);
  const bareHeap = kb(heapOf(bareAfter) - heapOf(bareBefore), clients);
  const bareRss = kb(bareAfter.rss - bareBefore.rss, clients);
  // RSS can reuse pages freed by an earlier size, heap cannot hide live objects: the larger counts.
  const appKb = Math.max(appHeap, appRss);
  const bareKb = Math.max(bareHeap, bareRss);
  const lost = { app: app.reduce((sum, trial) => sum + trial.missing, 0), baseline: bare.reduce((sum, trial) => sum + trial.missing, 0) };
  const result: SizeResult = {
    clients,
    app: { p50Ms: percentile(appMs, 50), p99Ms: percentile(appMs, 99), ackP50Ms: percentile(ackMs, 50), ackP99Ms: percentile(ackMs, 99), heapKbPerConnection: appHeap, rssKbPerConnection: appRss },
    baseline: { p50Ms: percentile(bareMs, 50), p99Ms: percentile(bareMs, 99), heapKbPerConnection: bareHeap, rssKbPerConnection: bareRss },
    lost,
    ratio: { p99: percentile(appMs, 99) / percentile(bareMs, 99), p50: percentile(appMs, 50) / percentile(bareMs, 50), memory: appKb / bareKb },
    kbPerConnection: appKb,
    pass: false,
  };
  result.pass = result.ratio.p99 <= target.p99Ratio && appKb <= target.kbPerConnection && lost.app === 0;
  log(`${clients} clients: app p50 ${result.app.p50Ms.toFixed(1)} p99 ${result.app.p99Ms.toFixed(1)} ms, bare p50 ${result.baseline.p50Ms.toFixed(1)} p99 ${result.baseline.p99Ms.toFixed(1)} ms; ${appKb.toFixed(1)} KB/connection (bare ${bareKb.toFixed(1)})`);
  return result;
}

// ---- sustained: check-ins at --rate from every site, every screen checked ----------------------

interface SustainedSide {
  sent: number;
  sendSeconds: number;
  ratePerSecond: number;
  deliveryP50Ms: number;
  deliveryP99Ms: number;
  ackP50Ms?: number;
  ackP99Ms?: number;
  sockets: number;
  exactSockets: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  unexpected: number;
  disconnected: number;
  refused?: number;
  resends?: number;
  resendsReplayed?: number;
}

/** Sends `count` messages on a fixed open-loop schedule at `rate`; `send(k)` resolves to the key the screens will see, or undefined when refused. */
async function paced(count: number, send: (k: number) => Promise<{ key?: number; sentAt: number; ackAt?: number } | undefined>): Promise<{ results: Array<{ key?: number; sentAt: number; ackAt?: number } | undefined>; sendSeconds: number }> {
  const interval = 1000 / rate;
  const begun = performance.now();
  const pending: Array<Promise<{ key?: number; sentAt: number; ackAt?: number } | undefined>> = [];
  let k = 0;
  while (k < count) {
    const due = Math.min(count, Math.floor((performance.now() - begun) / interval) + 1);
    for (; k < due; k++) pending.push(send(k));
    await pause(Math.max(1, interval / 2));
  }
  const sendSeconds = (performance.now() - begun) / 1000;
  const results = await within(Promise.all(pending), 300_000, `the acks of ${count} sustained sends`);
  return { results, sendSeconds };
}

async function verifyAll(store: Store, expected: number[]) {
  const replies = await Promise.all(clientProcs.map((proc) => proc.ask<Extract<ClientsReply, { type: 'verified' }>>({ type: 'verify', store, expected, timeoutMs: 180_000 }, 240_000, `verifying ${expected.length} ${store} events`)));
  const lastAt = new Map<number, number>();
  for (const reply of replies) for (const [key, at] of reply.lastAt) lastAt.set(key, Math.max(lastAt.get(key) ?? Number.NEGATIVE_INFINITY, Number.isFinite(at) ? at : Number.POSITIVE_INFINITY));
  const sum = (field: 'sockets' | 'exact' | 'lost' | 'duplicated' | 'outOfOrder' | 'unexpected' | 'disconnected') => replies.reduce((total, reply) => total + reply[field], 0);
  return { lastAt, sockets: sum('sockets'), exactSockets: sum('exact'), lost: sum('lost'), duplicated: sum('duplicated'), outOfOrder: sum('outOfOrder'), unexpected: sum('unexpected'), disconnected: sum('disconnected') };
}

async function sustainedApp(): Promise<SustainedSide> {
  step = 'sustained: opening 13 coordinators';
  const coordinators = await Promise.all(day.sites.map((site) => openCoordinator(site.token)));
  const queues = day.targets.map((list, index) => (index === 0 ? firstSiteTargets : [...list]));
  await Promise.all(clientProcs.map((proc) => proc.ask({ type: 'record', store: 'app' }, 30_000, 'start recording')));
  step = `sustained: ${sustainedCheckIns} check-ins at ${rate}/s`;
  let refused = 0;
  let resends = 0;
  let resendsReplayed = 0;
  let firstRefusal: string | undefined;
  type Ack = { ok: boolean; changed?: boolean; replayed?: boolean; revision: number; error?: { code: string; retryAfterMs?: number } };
  const { results, sendSeconds } = await paced(sustainedCheckIns, async (k) => {
    const site = k % sites;
    const attendeeId = queues[site].pop();
    if (!attendeeId) throw new Error(`no attendee of site ${site} left to check in`);
    const input = { meetingId: day.meetingId, attendeeId, opId: randomUUID() };
    const sentAt = now();
    const ask = () => (coordinators[site].timeout(240_000).emitWithAck('attendance:checkIn', input) as Promise<Ack>).catch((error: unknown): Ack => ({ ok: false, revision: -1, error: { code: `no ack: ${String(error)}` } }));
    const first = ask();
    // Now and then the same operation again, as a screen whose ack was lost sends it: counted once.
    const again = resendEvery > 0 && k % resendEvery === 0 ? ask() : undefined;
    const answers = [await first];
    const ackAt = now();
    if (again) {
      resends++;
      answers.push(await again);
      // A resend while the first run is still going waits for it up to 5 s, then is told to try
      // again later (too_many_requests, retryAfterMs): asked again, as a screen's outbox does, it
      // must get the first run's answer.
      const told = (answer: Ack) => !answer.ok && (answer.error?.code === 'conflict' || answer.error?.code === 'too_many_requests');
      for (let waited = answers.findIndex(told), tries = 0; waited >= 0 && tries < 20; waited = answers.findIndex(told), tries++) {
        await new Promise((resolve) => setTimeout(resolve, answers[waited].error?.retryAfterMs ?? 1000));
        answers[waited] = await ask();
      }
      const [one, two] = answers;
      // One of the two ran, the other was answered with its ack: the same revision, marked replayed.
      if (one.ok && two.ok && one.revision === two.revision && Boolean(one.replayed) !== Boolean(two.replayed)) resendsReplayed++;
    }
    const ack = answers.find((answer) => answer.ok && answer.changed && !answer.replayed);
    if (!ack) {
      refused++;
      firstRefusal ??= JSON.stringify(answers).slice(0, 300);
      return undefined;
    }
    checkedIn++;
    return { key: ack.revision, sentAt, ackAt };
  });
  if (firstRefusal) log(`sustained: ${refused} check-ins refused, e.g. ${firstRefusal}`);
  const counted = results.filter((result): result is { key: number; sentAt: number; ackAt: number } => result?.key !== undefined);
  const expected = [...new Set(counted.map((result) => result.key))].sort((a, b) => a - b);
  if (expected.length !== counted.length) throw new Error(`${counted.length} check-ins acknowledged with only ${expected.length} distinct revisions`);
  step = 'sustained: verifying every app screen';
  const verified = await verifyAll('app', expected);
  for (const socket of coordinators) socket.disconnect();
  const delivery = counted.map((result) => (verified.lastAt.get(result.key) ?? Number.NaN) - result.sentAt);
  const acks = counted.map((result) => result.ackAt - result.sentAt);
  return {
    sent: sustainedCheckIns,
    sendSeconds,
    // What the app kept up with: check-ins counted per second from the first send to the last ack.
    ratePerSecond: counted.length / ((Math.max(...counted.map((result) => result.ackAt)) - Math.min(...counted.map((result) => result.sentAt))) / 1000),
    deliveryP50Ms: percentile(delivery, 50),
    deliveryP99Ms: percentile(delivery, 99),
    ackP50Ms: percentile(acks, 50),
    ackP99Ms: percentile(acks, 99),
    ...verified,
    refused,
    resends,
    resendsReplayed,
  };
}

async function sustainedBare(): Promise<SustainedSide> {
  if (!payload) throw new Error('no attendance.counts event seen from the app yet');
  await Promise.all(clientProcs.map((proc) => proc.ask({ type: 'record', store: 'bare' }, 30_000, 'start recording')));
  step = `sustained bare: ${sustainedCheckIns} broadcasts at ${rate}/s`;
  const base = bareSeq;
  bareSeq += sustainedCheckIns;
  const { results, sendSeconds } = await paced(sustainedCheckIns, async (k) => {
    const sentAt = now();
    bareSender.emit('broadcast', { ...payload, revision: base + k });
    return { key: base + k, sentAt };
  });
  const expected = results.map((result) => result!.key!);
  step = 'sustained bare: verifying every screen';
  const verified = await verifyAll('bare', expected);
  const delivery = results.map((result) => (verified.lastAt.get(result!.key!) ?? Number.NaN) - result!.sentAt);
  // What the screens kept up with: broadcasts per second from the first send to the last screen's last arrival.
  const lastArrivalAt = Math.max(...[...verified.lastAt.values()].filter((at) => Number.isFinite(at)));
  return { sent: sustainedCheckIns, sendSeconds, ratePerSecond: expected.length / ((lastArrivalAt - results[0]!.sentAt) / 1000), deliveryP50Ms: percentile(delivery, 50), deliveryP99Ms: percentile(delivery, 99), ...verified };
}

// ---- run ------------------------------------------------------------------------------------------

const results: SizeResult[] = [];
let sustained: { watchers: number; app?: SustainedSide; baseline?: SustainedSide; presentInSnapshot: number; checkedIn: number; ratio: { deliveryP99: number }; error?: string; pass: boolean } | undefined;
const cpuBefore = await appServer.cpuMs().catch(fail);
try {
  for (const clients of sizes) results.push(await measureSize(clients));
} catch (error) {
  fail(error);
}
if (watchers > 0 && seconds > 0) {
  // A sustained phase that breaks down still reports what it measured.
  sustained = { watchers, presentInSnapshot: Number.NaN, checkedIn, ratio: { deliveryP99: Number.NaN }, pass: false };
  try {
    await appServer.settle(1, 'before the sustained phase');
    // The bare server sends what the app sends: one check-in shows it, if no trial did.
    if (!payload) await appTrial();
    await connectClients('bare', watchers);
    sustained.baseline = await sustainedBare();
    await closeClients('bare');
    await connectClients('app', watchers);
    sustained.app = await sustainedApp();
    await closeClients('app');
    step = 'reading the final snapshot';
    const snapshot = (await coordinator.timeout(120_000).emitWithAck('live:snapshot', { meetingId: day.meetingId })) as { ok: boolean; snapshot?: { totals: { present: number } } };
    sustained.presentInSnapshot = snapshot.snapshot?.totals.present ?? Number.NaN;
  } catch (error) {
    sustained.error = `${step}: ${error instanceof Error ? error.message : String(error)}`;
    log(`sustained phase broke off: ${sustained.error}`);
  }
  const clean = (side: SustainedSide) => side.lost + side.duplicated + side.outOfOrder + side.unexpected + side.disconnected === 0 && side.exactSockets === side.sockets;
  const { app, baseline } = sustained;
  sustained.checkedIn = checkedIn;
  sustained.ratio.deliveryP99 = app && baseline ? app.deliveryP99Ms / baseline.deliveryP99Ms : Number.NaN;
  sustained.pass = Boolean(app && clean(app) && app.refused === 0 && app.ratePerSecond >= rate * 0.95 && sustained.presentInSnapshot === checkedIn && app.resends === app.resendsReplayed);
}
const cpuMs = (await appServer.cpuMs()) - cpuBefore;

step = 'stopping';
stopping = true;
coordinator.disconnect();
bareSender.disconnect();
const exits = [appServer.child, bareServer.child].map((child) => new Promise((resolve) => child.once('exit', resolve)));
for (const proc of clientProcs) proc.child.send({ type: 'stop' } satisfies ClientsCommand);
appServer.child.send({ type: 'stop' } satisfies ParentMessage);
bareServer.child.send({ type: 'stop' } satisfies ParentMessage);
await within(Promise.all(exits), 30_000, 'the servers to exit').catch(() => undefined);

// ---- report ---------------------------------------------------------------------------------------

const load = loadavg().map((value) => Number(value.toFixed(2)));
const f = (value: number, width = 9, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a').padStart(width);
console.log(`\nload average ${load.join(' ')} (2 cores); ${trials} trials per size after ${warmup} warm-up; p99 of ${trials} samples is near their maximum`);
console.log('time = coordinator emits -> the LAST client has the event (ms); memory = server (heap+external | RSS) growth per connection after GC (KB)\n');
console.log(`${'clients'.padStart(8)}${'app p50'.padStart(9)}${'app p99'.padStart(9)}${'ack p50'.padStart(9)}${'bare p50'.padStart(9)}${'bare p99'.padStart(9)}${'p99 ratio'.padStart(10)}${'app KB'.padStart(14)}${'bare KB'.padStart(14)}${'lost'.padStart(6)}  pass`);
for (const row of results) {
  console.log(
    `${String(row.clients).padStart(8)}${f(row.app.p50Ms)}${f(row.app.p99Ms)}${f(row.app.ackP50Ms)}${f(row.baseline.p50Ms)}${f(row.baseline.p99Ms)}${f(row.ratio.p99, 10, 2)}${`${row.app.heapKbPerConnection.toFixed(1)} | ${row.app.rssKbPerConnection.toFixed(1)}`.padStart(14)}${`${row.baseline.heapKbPerConnection.toFixed(1)} | ${row.baseline.rssKbPerConnection.toFixed(1)}`.padStart(14)}${String(row.lost.app).padStart(6)}  ${row.pass ? 'yes' : 'NO'}`,
  );
}
console.log(`targets: p99 ratio <= ${target.p99Ratio}, <= ${target.kbPerConnection} KB per connection (the larger of heap and RSS), nothing lost`);
if (sustained) {
  const s = sustained;
  console.log(`\nsustained: ${rate} check-ins/s from ${sites} sites for ${seconds} s, ${s.watchers} watchers (every ${resendEvery}th check-in sent twice with its opId)\n`);
  console.log(`${''.padEnd(6)}${'sent'.padStart(7)}${'kept/s'.padStart(8)}${'deliv p50'.padStart(10)}${'deliv p99'.padStart(10)}${'ack p99'.padStart(9)}${'exact'.padStart(12)}${'lost'.padStart(7)}${'dup'.padStart(6)}${'order'.padStart(7)}${'refused'.padStart(9)}${'dropped'.padStart(9)}`);
  for (const [name, side] of [['app', s.app], ['bare', s.baseline]] as const) {
    if (!side) continue;
    console.log(
      `${name.padEnd(6)}${String(side.sent).padStart(7)}${f(side.ratePerSecond, 8)}${f(side.deliveryP50Ms, 10)}${f(side.deliveryP99Ms, 10)}${f(side.ackP99Ms ?? Number.NaN)}${`${side.exactSockets}/${side.sockets}`.padStart(12)}${String(side.lost).padStart(7)}${String(side.duplicated).padStart(6)}${String(side.outOfOrder).padStart(7)}${String(side.refused ?? 0).padStart(9)}${String(side.disconnected).padStart(9)}`,
    );
  }
  if (s.error) console.log(`broke off: ${s.error}`);
  console.log(`resends answered as replays: ${s.app?.resendsReplayed ?? 0}/${s.app?.resends ?? 0}; present in the final snapshot ${s.presentInSnapshot}, check-ins counted ${s.checkedIn}; pass: ${s.pass ? 'yes' : 'NO'}`);
}
console.log(`\napp server CPU over the run: ${(cpuMs / 1000).toFixed(1)} s`);

if (profileDir) {
  for (const file of (await readdir(profileDir)).filter((name) => name.endsWith('.cpuprofile')).sort()) {
    console.log(formatSummary(`app profile ${file}`, summarizeProfile(await readProfile(path.join(profileDir, file)))));
  }
  console.log(`\nprofiles in ${profileDir}`);
}

const round = (value: number, digits = 2) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : null);
const figures = {
  benchmark: 'live-fanout',
  loadAverage: load,
  trials,
  sizes: results.map((row) => ({
    clients: row.clients,
    app: { p50Ms: round(row.app.p50Ms), p99Ms: round(row.app.p99Ms), ackP50Ms: round(row.app.ackP50Ms), ackP99Ms: round(row.app.ackP99Ms), kbPerConnection: round(row.kbPerConnection, 1), heapKbPerConnection: round(row.app.heapKbPerConnection, 1), rssKbPerConnection: round(row.app.rssKbPerConnection, 1), lost: row.lost.app },
    baseline: { name: 'bare Socket.IO broadcast', p50Ms: round(row.baseline.p50Ms), p99Ms: round(row.baseline.p99Ms), heapKbPerConnection: round(row.baseline.heapKbPerConnection, 1), rssKbPerConnection: round(row.baseline.rssKbPerConnection, 1), lost: row.lost.baseline },
    ratio: { p99: round(row.ratio.p99, 3), p50: round(row.ratio.p50, 3), memory: round(row.ratio.memory, 3) },
    target: { p99Ratio: target.p99Ratio, kbPerConnection: target.kbPerConnection, lost: 0 },
    pass: row.pass,
  })),
  sustained: sustained
    ? {
        ratePerSecond: rate,
        seconds,
        sites,
        watchers: sustained.watchers,
        app: sustained.app ? Object.fromEntries(Object.entries(sustained.app).filter(([key]) => key !== 'lastAt').map(([key, value]) => [key, typeof value === 'number' ? round(value) : value])) : null,
        baseline: sustained.baseline ? Object.fromEntries(Object.entries(sustained.baseline).filter(([key]) => key !== 'lastAt').map(([key, value]) => [key, typeof value === 'number' ? round(value) : value])) : null,
        error: sustained.error ?? null,
        presentInSnapshot: sustained.presentInSnapshot,
        checkedIn: sustained.checkedIn,
        ratio: { deliveryP99: round(sustained.ratio.deliveryP99, 3) },
        target: { ratePerSecond: rate, lost: 0, duplicated: 0, outOfOrder: 0 },
        pass: sustained.pass,
      }
    : null,
  pass: results.every((row) => row.pass) && (sustained?.pass ?? true),
};
console.log(JSON.stringify(figures));
process.exit(0);
