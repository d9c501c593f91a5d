// A whole conference day under faults, Jepsen-style (issue 11): `npm run simulate` (both runs) or
// `npx tsx bench/conference-day.ts [--quick] [--speed N] [--mode single|redis|both]`.
//
// The embedded store runs standalone (server/embedded-mongo/cli.ts) and the app as child
// process(es) (`tsx server/main.ts` with MONGODB_URI), so either can be killed with SIGKILL and
// restarted. Every site reaches the app through its own TCP proxy in this process, which the
// bench cuts to drop the site's network. Coordinators check their people in through an outbox
// like the real client's (client/_queue.ts: client-made opIds, one command at a time, resent after
// a reconnect until acknowledged); attendees check themselves in with their site's code; the
// chair runs the agenda and the speakers' queue; watching clients in child processes
// (conference-day-watchers.ts) keep the day's state from events. At the end the bench compares
// its own log of acknowledged check-ins with the attendance records (mongodb driver), every
// watcher's state with a fresh snapshot, and reads the server logs for errors.
//
// The baseline of this bench is the same day with no faults (`--mode` runs it first unless
// --no-baseline): figures and ratios of the faulty runs against it are in the JSON line.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { createServer, connect as tcpConnect, type Server, type Socket as TcpSocket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { MongoClient, ObjectId } from 'mongodb';
import { Types } from 'mongoose';
import { io, type Socket } from 'socket.io-client';
import { DateTime } from 'luxon';
import { connectDatabase } from '../server/database.js';
import { createFirstAdmin, organizerActor } from '../server/accounts/actions.js';
import { createMeeting } from '../server/meetings/actions.js';
import { addSite } from '../server/sites/actions.js';
import { createAttendee } from '../server/attendees/actions.js';
import { addAgendaItem } from '../server/agenda/actions.js';
import { commitMeetingChange } from '../server/meetings/revision.js';
import { AttendeeModel } from '../server/attendees/model.js';
import { SiteModel } from '../server/sites/model.js';
import { startRedis, type RedisServer } from '../tests/helpers/redis.js';
import { freePort } from '../tests/helpers/ports.js';
import { type FromWatchers, type ToWatchers, type WatcherClient, type WatcherResult } from './conference-day-watchers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    speed: { type: 'string' },
    mode: { type: 'string', default: 'both' },
    sites: { type: 'string' },
    attendees: { type: 'string' },
    watchers: { type: 'string' },
    /** How many watching clients open per second, all processes together (phones arrive over time). */
    'open-rate': { type: 'string' },
    seed: { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
    /** The same day without faults first, as the baseline of latency and memory (off with --quick). */
    baseline: { type: 'boolean' },
    'no-baseline': { type: 'boolean' },
  },
});

const quick = options.quick!;
const size = {
  sites: Number(options.sites ?? (quick ? 4 : 13)),
  attendees: Number(options.attendees ?? (quick ? 160 : 2000)),
  watchers: Number(options.watchers ?? (quick ? 80 : 3000)),
  /** The check-in burst lasts 10 minutes of the day, compressed by --speed. */
  speed: Number(options.speed ?? (quick ? 40 : 1)),
};
const burstMs = (10 * 60_000) / size.speed;
/** Each fault lasts as in life, compressed by --speed, but never less than a few seconds. */
const scaled = (ms: number, floor: number) => Math.max(floor, ms / size.speed);

// A small seeded PRNG, so a failing run can be replayed with --seed.
let seed = Number(options.seed ?? Date.now() % 1_000_000);
const usedSeed = seed;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}
const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 23)}] ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Processes: the store and the app instances, killable and restartable.

/** Peak resident memory (VmHWM) of a process, read before it ends. */
function peakRssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

interface LogCheck {
  errors: string[];
  /** Errors logged while the store or an instance was down on purpose (expected, listed apart). */
  duringFaults: string[];
}

class Child {
  process?: ChildProcess;
  peakRss = 0;
  private memoryTimer?: NodeJS.Timeout;
  private readonly out: WriteStream;
  private readonly lines: Array<{ at: number; line: string }> = [];
  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    logFile: string,
    private readonly readyLine?: RegExp,
  ) {
    this.out = createWriteStream(logFile, { flags: 'a' });
  }

  async start(ready: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
    // BENCH_PROFILE_DIR: the app and store processes write CPU profiles there (bench/cpu-profile.ts reads them).
    const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const child = spawn(process.execPath, [...profile, '--import', 'tsx', ...this.args], { cwd: root, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    let sawReady = false;
    let buffered = '';
    const onData = (chunk: Buffer) => {
      this.out.write(chunk);
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) {
        if (line.trim()) this.lines.push({ at: Date.now(), line });
        if (this.readyLine?.test(line)) sawReady = true;
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.memoryTimer = setInterval(() => {
      this.peakRss = Math.max(this.peakRss, peakRssOf(child.pid));
    }, 500);
    await until(`${this.name} to start`, async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} exited (${child.exitCode ?? child.signalCode}) while starting; see ${this.out.path}`);
      return (this.readyLine ? sawReady : true) && (await ready());
    }, timeoutMs);
  }

  /** SIGKILL, as a power cut or an operator's `kill -9` would. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.peakRss = Math.max(this.peakRss, peakRssOf(child.pid));
    clearInterval(this.memoryTimer);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.peakRss = Math.max(this.peakRss, peakRssOf(child.pid));
    clearInterval(this.memoryTimer);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** Lines at level error/fatal (pino JSON), and anything else written that is not JSON (stack traces, warnings). */
  check(faultWindows: Array<[number, number]>): LogCheck {
    const result: LogCheck = { errors: [], duringFaults: [] };
    for (const { at, line } of this.lines) {
      let bad: boolean;
      try {
        const entry = JSON.parse(line) as { level?: number };
        bad = (entry.level ?? 0) >= 50;
      } catch {
        bad = !/embedded-mongo listening|^\s*$/.test(line);
      }
      if (!bad) continue;
      const inFault = faultWindows.some(([from, to]) => at >= from && at <= to);
      (inFault ? result.duringFaults : result.errors).push(`${this.name}: ${line.slice(0, 400)}`);
    }
    return result;
  }
}

// ---------------------------------------------------------------------------------------------
// A site's network: a TCP proxy that can be cut (every connection reset, new ones refused).

class SiteProxy {
  readonly connections = new Set<TcpSocket>();
  cut = false;
  private server?: Server;
  port = 0;
  constructor(public targetPort: number) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.cut) {
        client.resetAndDestroy();
        return;
      }
      const upstream = tcpConnect(this.targetPort, '127.0.0.1');
      this.connections.add(client);
      this.connections.add(upstream);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.connections.delete(client);
        this.connections.delete(upstream);
      };
      client.on('error', close);
      upstream.on('error', close);
      client.on('close', close);
      upstream.on('close', close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  drop(): void {
    this.cut = true;
    for (const socket of this.connections) socket.resetAndDestroy();
    this.connections.clear();
  }

  restore(): void {
    this.cut = false;
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

// ---------------------------------------------------------------------------------------------
// The day's data, made through the app's own actions (as the organizer would).

interface Day {
  meetingId: string;
  sites: Array<{ id: string; token: string }>;
  people: Array<{ id: string; token: string; site: number }>;
  chairToken: string;
  agendaIds: string[];
}

async function createDay(storeUri: string): Promise<Day> {
  const database = await connectDatabase({ uri: storeUri });
  try {
    const admin = await createFirstAdmin({ email: 'organizer@example.vn', name: 'Ban tổ chức', password: 'conference-day-simulation' });
    const organizer = organizerActor(admin);
    const start = DateTime.now().setZone('Asia/Ho_Chi_Minh');
    const meeting = await createMeeting(organizer, {
      title: 'Hội nghị tổng kết năm (mô phỏng)',
      start: start.toFormat("yyyy-MM-dd'T'HH:mm"),
      end: start.plus({ hours: 4 }).toFormat("yyyy-MM-dd'T'HH:mm"),
      status: 'scheduled',
    });
    const meetingId = String(meeting._id);
    const sites: Day['sites'] = [];
    for (let index = 0; index < size.sites; index++) {
      const site = await addSite(organizer, { meetingId, name: index === 0 ? 'Văn phòng UBND Tỉnh' : `UBND huyện số ${index}`, isMain: index === 0 });
      sites.push({ id: String(site._id), token: (await SiteModel.findById(site._id).lean())!.coordinatorToken });
    }
    // The attendees in one batch, as an import commits them (bench/pages-server.ts does the same).
    await commitMeetingChange({
      meetingId,
      write: async (revision) => {
        const docs = Array.from({ length: size.attendees }, (_, index) => ({
          meetingId: new Types.ObjectId(meetingId),
          revision,
          fullName: `Đại biểu ${index + 1}`,
          siteId: new Types.ObjectId(sites[index % sites.length].id),
          role: 'delegate',
        }));
        await AttendeeModel.insertMany(docs, { ordered: true });
      },
      events: () => [],
    });
    const siteIndex = new Map(sites.map((site, index) => [site.id, index]));
    const people = (await AttendeeModel.find({ meetingId }, { _id: 1, accessToken: 1, siteId: 1 }).lean()).map((a) => ({ id: String(a._id), token: a.accessToken, site: siteIndex.get(String(a.siteId))! }));
    const chair = await createAttendee(organizer, { meetingId, fullName: 'Huỳnh Minh Tuấn', position: 'Phó Chủ tịch UBND Tỉnh', role: 'chair', siteId: sites[0].id });
    const chairToken = (await AttendeeModel.findById(chair.id).lean())!.accessToken;
    const agendaIds: string[] = [];
    for (let n = 1; n <= 12; n++) {
      const change = await addAgendaItem(organizer, { meetingId, title: `Mục ${n}`, plannedMinutes: 10 + n });
      agendaIds.push(change.item!.id);
    }
    return { meetingId, sites, people, chairToken, agendaIds };
  } finally {
    await database.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Clients of the load generator.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- acks are read as a client reads them
type AnyAck = any;

interface Stats {
  commandsSent: number;
  acked: number;
  refused: Array<{ command: string; code: string; message: string }>;
  noAnswer: number;
  retriesAfterError: number;
  /** Resends answered "still being processed" (an opId claimed by a killed instance). */
  pendingConflicts: number;
  replayed: number;
  reconnects: number;
}

class Runner {
  readonly stats: Stats = { commandsSent: 0, acked: 0, refused: [], noAnswer: 0, retriesAfterError: 0, pendingConflicts: 0, replayed: 0, reconnects: 0 };
  /** The bench's log: every acknowledged check-in (attendee -> opIds acknowledged for it). */
  readonly ackedCheckIns = new Map<string, { opId: string; revision: number; by: 'coordinator' | 'self' }>();
  readonly sentAt = new Map<number, number>();
  readonly onSent: Array<(items: Array<[number, number]>) => void> = [];
  private sentBatch: Array<[number, number]> = [];
  highestRevision = 0;
  /**
   * Commands answered `internal` (an unexpected server error). The server does not log these for
   * socket commands (realtime/live.ts acks them only), so the bench counts them here.
   */
  readonly internalAcks: Array<{ at: number; command: string }> = [];

  constructor(readonly meetingId: string) {
    setInterval(() => this.flushSent(), 200).unref();
  }

  flushSent(): void {
    if (this.sentBatch.length === 0) return;
    const batch = this.sentBatch;
    this.sentBatch = [];
    for (const listener of this.onSent) listener(batch);
  }

  /** One command with a timeout; "no answer" (timeout, disconnected) is `undefined`. */
  async send(socket: Socket, name: string, input: Record<string, unknown>, timeoutMs = 10_000): Promise<AnyAck | undefined> {
    if (!socket.connected) return undefined;
    const sent = Date.now();
    this.stats.commandsSent += 1;
    try {
      const ack = await socket.timeout(timeoutMs).emitWithAck(name, { meetingId: this.meetingId, ...input });
      if (!ack.ok && ack.error?.code === 'internal') this.internalAcks.push({ at: Date.now(), command: name });
      if (ack.ok) {
        this.stats.acked += 1;
        if (ack.replayed) this.stats.replayed += 1;
        if (typeof ack.revision === 'number' && !ack.replayed && !this.sentAt.has(ack.revision) && ack.changed !== false) {
          this.sentAt.set(ack.revision, sent);
          this.sentBatch.push([ack.revision, sent]);
        }
        if (typeof ack.revision === 'number') this.highestRevision = Math.max(this.highestRevision, ack.revision);
      }
      return ack;
    } catch {
      this.stats.noAnswer += 1;
      return undefined;
    }
  }
}

function openSocket(url: string, token: string, runner: Runner): Socket {
  const socket = io(url, { transports: ['websocket'], auth: { token }, reconnection: true, reconnectionDelay: 300, reconnectionDelayMax: 2000, timeout: 10_000 });
  // A handshake the server refused (its store was down while it resolved the token) is not retried
  // by socket.io-client on its own (`socket.active` is false): try again, as a phone's page would.
  socket.on('connect_error', () => {
    if (!socket.active) setTimeout(() => socket.connect(), 1_000);
  });
  let first = true;
  socket.on('connect', () => {
    if (!first) runner.stats.reconnects += 1;
    first = false;
  });
  return socket;
}

/**
 * Transient errors a queue keeps its command for: the store or the instance is restarting, or
 * (`conflict`) the same opId is still claimed by a run that an instance killed mid-way left
 * pending ("being processed, resend shortly": live.opId.pending, freed after 15 s). A check-in
 * has no other conflict in this day (the meeting stays open, opIds are never reused).
 * NOTE: client/_queue.ts drops a `conflict` as refused; this queue resends it.
 */
const retryable = new Set(['internal', 'too_many_requests', 'unavailable', 'conflict']);

/** A site's check-in phone: an outbox drained one command at a time (client/_queue.ts). */
class Coordinator {
  readonly socket: Socket;
  readonly outbox: Array<{ opId: string; name: string; input: Record<string, unknown>; attendeeId?: string; tries?: number }> = [];
  private draining = false;
  joined = false;
  code?: { code: string; rotatesAt: number };

  constructor(
    readonly site: number,
    url: string,
    token: string,
    private readonly runner: Runner,
  ) {
    this.socket = openSocket(url, token, runner);
    this.socket.on('connect', () => {
      this.joined = false;
      void this.join();
    });
    this.socket.on('disconnect', () => {
      this.joined = false;
    });
  }

  private async join(): Promise<void> {
    for (let attempt = 0; attempt < 50 && this.socket.connected && !this.joined; attempt++) {
      const reply = await this.runner.send(this.socket, 'meeting:join', { screen: 'coordinator' });
      if (reply?.ok) {
        this.joined = true;
        void this.drain();
        return;
      }
      await sleep(500);
    }
  }

  add(name: string, input: Record<string, unknown>, attendeeId?: string): void {
    const opId = randomUUID();
    this.outbox.push({ opId, name, input: { ...input, opId }, attendeeId });
    void this.drain();
  }

  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.outbox.length > 0 && this.joined) {
        const command = this.outbox[0];
        const ack = await this.runner.send(this.socket, command.name, command.input);
        if (!ack) {
          // No answer: keep it, resend the same opId once connected again.
          await sleep(200);
          continue;
        }
        if (!ack.ok && retryable.has(ack.error.code) && (command.tries = (command.tries ?? 0) + 1) < 100) {
          this.runner.stats.retriesAfterError += 1;
          if (ack.error.code === 'conflict') this.runner.stats.pendingConflicts += 1;
          await sleep(ack.error.retryAfterMs ?? 300);
          continue;
        }
        this.outbox.shift();
        if (!ack.ok) {
          this.runner.stats.refused.push({ command: command.name, code: ack.error.code, message: ack.error.message });
          continue;
        }
        if (command.name === 'attendance:checkIn' && command.attendeeId) this.runner.ackedCheckIns.set(command.attendeeId, { opId: command.opId, revision: ack.revision, by: 'coordinator' });
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * The code on the site's wall display, read once per rotation: every attendee of the site reads
   * the same screen (one request in flight, so they do not drain the coordinator's rate bucket).
   */
  async checkInCode(): Promise<string | undefined> {
    if (this.code && this.code.rotatesAt - Date.now() > 5_000) return this.code.code;
    this.reading ??= (async () => {
      try {
        const reply = await this.runner.send(this.socket, 'site:checkInCode', { siteId: this.siteId });
        if (reply?.ok) this.code = { code: reply.code.code, rotatesAt: Date.parse(reply.code.rotatesAt) };
        else await sleep(500);
      } finally {
        this.reading = undefined;
      }
    })();
    await this.reading;
    return this.code?.code;
  }

  private reading?: Promise<void>;

  siteId = '';
}

/** An attendee's phone checking in with the site's code: resends the same opId until answered. */
async function selfCheckIn(url: string, person: Day['people'][number], coordinator: Coordinator, runner: Runner, deadline: number): Promise<void> {
  const socket = openSocket(url, person.token, runner);
  const opId = randomUUID();
  let tries = 0;
  try {
    while (Date.now() < deadline) {
      if (!socket.connected) {
        await sleep(200);
        continue;
      }
      const joined = await runner.send(socket, 'meeting:join', { screen: 'attendee' });
      if (!joined?.ok) {
        await sleep(300);
        continue;
      }
      const code = await coordinator.checkInCode();
      if (!code) {
        await sleep(300);
        continue;
      }
      const ack = await runner.send(socket, 'attendance:selfCheckIn', { opId, code });
      if (!ack) continue;
      if (ack.ok) {
        runner.ackedCheckIns.set(person.id, { opId, revision: ack.revision, by: 'self' });
        return;
      }
      if (retryable.has(ack.error.code) && ++tries < 100) {
        runner.stats.retriesAfterError += 1;
        if (ack.error.code === 'conflict') runner.stats.pendingConflicts += 1;
        await sleep(ack.error.retryAfterMs ?? 300);
        continue;
      }
      if (ack.error.code === 'invalid' && ack.error.fields?.code) {
        coordinator.code = undefined; // the code rotated meanwhile: read it again
        continue;
      }
      runner.stats.refused.push({ command: 'attendance:selfCheckIn', code: ack.error.code, message: ack.error.message });
      return;
    }
  } finally {
    socket.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Watchers in child processes.

class WatcherPool {
  readonly children: ChildProcess[] = [];
  readonly results: WatcherResult[] = [];

  async start(meetingId: string, clients: WatcherClient[], perChild: number): Promise<{ connected: number; failures: string[] }> {
    const groups: WatcherClient[][] = [];
    for (let i = 0; i < clients.length; i += perChild) groups.push(clients.slice(i, i + perChild));
    const openPerSecond = Number(options['open-rate'] ?? 50) / groups.length;
    const readyTimeoutMs = 120_000 + (perChild / openPerSecond) * 1000;
    const ready = await Promise.all(
      groups.map(
        (group) =>
          new Promise<{ connected: number; failures: string[] }>((resolve, reject) => {
            const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/conference-day-watchers.ts')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
            this.children.push(child);
            const timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(readyTimeoutMs / 1000) + 60} s waiting for ${group.length} watchers to connect and join`)), readyTimeoutMs + 60_000);
            child.on('message', (message: FromWatchers) => {
              if (message.type === 'ready') {
                clearTimeout(timer);
                resolve(message);
              } else if (message.type === 'result') this.results.push(message.result);
              else if (message.type === 'error') console.error(`watcher process error: ${message.message}`);
            });
            child.once('exit', (code) => reject(new Error(`a watcher process exited (${code}) before it was ready`)));
            child.send({ type: 'init', meetingId, clients: group, openPerSecond, readyTimeoutMs } satisfies ToWatchers);
          }),
      ),
    );
    return { connected: ready.reduce((sum, r) => sum + r.connected, 0), failures: ready.flatMap((r) => r.failures) };
  }

  broadcast(message: ToWatchers): void {
    for (const child of this.children) if (child.connected) child.send(message);
  }

  async final(revision: number, timeoutMs: number): Promise<WatcherResult[]> {
    this.broadcast({ type: 'final', revision, timeoutMs });
    await until(`final state from ${this.children.length} watcher processes`, () => this.results.length >= this.children.length, timeoutMs + 90_000);
    return this.results;
  }

  stop(): void {
    this.broadcast({ type: 'stop' });
    for (const child of this.children) setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  }
}

// ---------------------------------------------------------------------------------------------
// One run.

interface RunReport {
  name: string;
  instances: number;
  events: number;
  /** `events` messages that carried them (batches). */
  batches: number;
  commands: number;
  checkInsScheduled: number;
  acknowledged: number;
  unacknowledged: number;
  lost: number;
  duplicated: number;
  countDrift: number;
  refused: number;
  replayed: number;
  retries: number;
  pendingConflicts: number;
  watchersCompared: number;
  watchersDrifted: number;
  watchersNotSettled: number;
  watchersTransient: number;
  eventGaps: number;
  eventGapsUnfilled: number;
  p50DeliveryMs: number;
  p99DeliveryMs: number;
  reconnects: number;
  recovered: number;
  snapshots: number;
  networkDrops: number;
  appKills: number;
  storeKills: number;
  serverErrors: number;
  serverErrorsDuringFaults: number;
  peakAppRssMb: number;
  peakStoreRssMb: number;
  peakWatcherRssMb: number;
  durationS: number;
  problems: string[];
}

function percentile(histogram: Map<number, number>, p: number): number {
  const total = [...histogram.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let seen = 0;
  for (const [bucket, count] of [...histogram].sort((a, b) => a[0] - b[0])) {
    seen += count;
    if (seen >= total * p) return bucket;
  }
  return 0;
}

async function runDay(name: string, instances: 1 | 2, faults: boolean): Promise<RunReport> {
  const started = Date.now();
  const problems: string[] = [];
  const workDir = mkdtempSync(path.join(tmpdir(), 'bp-day-'));
  log(`${name}: ${size.sites} sites, ${size.attendees} attendees, ${size.watchers} watchers, burst ${Math.round(burstMs / 1000)} s, ${instances} instance(s), faults ${faults ? 'on' : 'off'}; logs in ${workDir}`);
  const faultWindows: Array<[number, number]> = [];
  let redis: RedisServer | undefined;
  const storePort = await freePort();
  const storeUri = `mongodb://127.0.0.1:${storePort}/bridgepoint_sim`;
  const store = new Child('store', ['server/embedded-mongo/cli.ts', '--port', String(storePort), '--dbpath', path.join(workDir, 'db')], {}, path.join(workDir, 'store.log'), /embedded-mongo listening/);
  const apps: Child[] = [];
  const appPorts: number[] = [];
  const proxies: SiteProxy[] = [];
  const pool = new WatcherPool();
  const sockets: Socket[] = [];
  try {
    await store.start(async () => true);
    if (instances === 2) redis = await startRedis();
    const day = await createDay(storeUri);
    log(`${name}: day created (meeting ${day.meetingId})`);

    for (let i = 0; i < instances; i++) {
      const port = await freePort();
      appPorts.push(port);
      apps.push(
        new Child(`app${i + 1}`, ['server/main.ts'], { PORT: String(port), HOST: '127.0.0.1', MONGODB_URI: storeUri, SEED_DEMO: 'false', LOG_LEVEL: 'warn', SESSION_SECRET: 'conference-day-simulation-secret-long-enough', NODE_ENV: 'test', ...(redis ? { REDIS_URL: redis.url } : {}) }, path.join(workDir, `app${i + 1}.log`)),
      );
    }
    const healthy = (port: number) => () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    await Promise.all(apps.map((app, i) => app.start(healthy(appPorts[i]))));
    log(`${name}: app instance(s) up`);

    for (let i = 0; i < size.sites; i++) {
      const proxy = new SiteProxy(appPorts[i % instances]);
      await proxy.start();
      proxies.push(proxy);
    }
    const siteUrl = (site: number) => `http://127.0.0.1:${proxies[site].port}`;
    const runner = new Runner(day.meetingId);
    runner.onSent.push((items) => pool.broadcast({ type: 'sent', items }));

    const coordinators = day.sites.map((site, index) => {
      const coordinator = new Coordinator(index, siteUrl(index), site.token, runner);
      coordinator.siteId = site.id;
      sockets.push(coordinator.socket);
      return coordinator;
    });
    const chair = openSocket(siteUrl(0), day.chairToken, runner);
    sockets.push(chair);
    await until('every coordinator and the chair to join', () => chair.connected && coordinators.every((c) => c.joined), 60_000);
    const chairJoin = await runner.send(chair, 'meeting:join', { screen: 'chair' });
    if (!chairJoin?.ok) throw new Error(`chair join refused: ${JSON.stringify(chairJoin)}`);
    const startAck = await runner.send(chair, 'meeting:start', {});
    if (!startAck?.ok) throw new Error(`meeting:start refused: ${JSON.stringify(startAck)}`);
    const first = await runner.send(chair, 'agenda:start', { itemId: day.agendaIds[0] });
    if (!first?.ok) throw new Error(`agenda:start refused: ${JSON.stringify(first)}`);

    // Watching clients: attendees' phones (every attendee once, then again) through their site's network.
    const watcherClients: WatcherClient[] = Array.from({ length: size.watchers }, (_, i) => {
      const person = day.people[i % day.people.length];
      return { url: siteUrl(person.site), token: person.token };
    });
    const watchersReady = await pool.start(day.meetingId, watcherClients, 500);
    log(`${name}: ${watchersReady.connected}/${size.watchers} watchers joined`);
    if (watchersReady.connected < size.watchers) problems.push(`only ${watchersReady.connected} of ${size.watchers} watchers joined: ${watchersReady.failures.join('; ')}`);

    // ---- The burst: every attendee checked in once, by their coordinator (70%) or themself.
    const burstStart = Date.now();
    const plan = day.people.map((person) => ({ person, at: burstStart + random() * burstMs, self: random() < 0.3 }));
    plan.sort((a, b) => a.at - b.at);
    const deadline = burstStart + burstMs + 180_000;
    const selfRuns: Array<Promise<void>> = [];
    const selfPending = { count: 0 };
    let stopBackground = false;

    const counters = { drops: 0, appKills: 0, storeKills: 0 };
    const faultRuns: Array<Promise<void>> = [];
    const faultFailed: Error[] = [];
    const trackFault = (run: Promise<void>) => faultRuns.push(run.catch((error: Error) => void faultFailed.push(error)));
    if (faults) {
      const dropCount = Math.max(2, Math.round(size.sites / 2));
      for (let n = 0; n < dropCount; n++) {
        const at = burstStart + (0.05 + random() * 0.75) * burstMs;
        const site = Math.floor(random() * size.sites);
        const length = scaled(10_000 + random() * 50_000, 3_000);
        trackFault(
          (async () => {
            await sleep(at - Date.now());
            if (proxies[site].cut) return;
            counters.drops += 1;
            log(`${name}: network of site ${site} dropped for ${Math.round(length / 1000)} s`);
            proxies[site].drop();
            await sleep(length);
            proxies[site].restore();
            log(`${name}: network of site ${site} back`);
          })(),
        );
      }
      // The app killed (SIGKILL) during the burst, and restarted (in two-instance runs: the first).
      trackFault(
        (async () => {
          await sleep(burstStart + 0.35 * burstMs - Date.now());
          const from = Date.now();
          log(`${name}: SIGKILL app1`);
          counters.appKills += 1;
          await apps[0].kill();
          await sleep(scaled(5_000, 1_000));
          await apps[0].start(healthy(appPorts[0]));
          faultWindows.push([from, Date.now() + 5_000]);
          log(`${name}: app1 restarted after ${Date.now() - from} ms`);
        })(),
      );
      // And the store killed with SIGKILL once, then restarted on the same files.
      trackFault(
        (async () => {
          await sleep(burstStart + 0.6 * burstMs - Date.now());
          const from = Date.now();
          log(`${name}: SIGKILL store`);
          counters.storeKills += 1;
          await store.kill();
          await sleep(scaled(5_000, 1_000));
          await store.start(async () => true);
          faultWindows.push([from, Date.now() + 15_000]);
          log(`${name}: store restarted after ${Date.now() - from} ms`);
        })(),
      );
    }

    // Agenda control and speaker requests throughout.
    const background = (async () => {
      let current = day.agendaIds[0];
      let paused = false;
      while (!stopBackground) {
        await sleep(Math.max(200, burstMs / 60));
        if (stopBackground) break;
        const roll = random();
        let ack: AnyAck | undefined;
        if (roll < 0.2) {
          ack = await runner.send(chair, 'agenda:next', { fromItemId: current });
        } else if (roll < 0.3) {
          ack = await runner.send(chair, 'agenda:extend', { minutes: 1 + Math.floor(random() * 5), opId: randomUUID() });
        } else if (roll < 0.4) {
          ack = await runner.send(chair, paused ? 'agenda:resume' : 'agenda:pause', {});
          if (ack?.ok) paused = !paused;
        } else if (roll < 0.7) {
          const coordinator = pick(coordinators);
          const person = pick(day.people.filter((p) => p.site === coordinator.site));
          coordinator.add('speakers:request', { topic: 'Ý kiến về báo cáo', attendeeId: person.id });
        } else if (roll < 0.85) {
          const snapshot = await runner.send(chair, 'live:snapshot', {});
          const waiting = snapshot?.snapshot?.speakers?.queue?.[0];
          if (waiting) ack = await runner.send(chair, 'speakers:grant', { requestId: waiting.id });
        } else {
          ack = await runner.send(chair, 'speakers:end', {});
        }
        if (ack?.ok && ack.agenda?.currentItemId) current = ack.agenda.currentItemId;
        if (ack?.ok && ack.agenda && ack.agenda.currentItemId === null) {
          const again = await runner.send(chair, 'agenda:start', { itemId: pick(day.agendaIds) });
          if (again?.ok) current = again.agenda.currentItemId;
        }
      }
    })();

    for (const entry of plan) {
      await sleep(entry.at - Date.now());
      const coordinator = coordinators[entry.person.site];
      if (entry.self) {
        selfPending.count += 1;
        selfRuns.push(selfCheckIn(siteUrl(entry.person.site), entry.person, coordinator, runner, deadline).finally(() => (selfPending.count -= 1)));
      }
      else coordinator.add('attendance:checkIn', { attendeeId: entry.person.id, at: new Date().toISOString() }, entry.person.id);
    }
    log(`${name}: every check-in handed out; waiting for the queues and faults to finish`);
    // A fault that could not be undone (a process that would not start again) ends the run here.
    await Promise.all(faultRuns);
    if (faultFailed.length > 0) throw faultFailed[0];
    stopBackground = true;
    await background;
    const drained = async () => coordinators.every((c) => c.outbox.length === 0);
    const progress = setInterval(() => log(`${name}: waiting: outboxes ${coordinators.map((c) => c.outbox.length).join(',')}, self check-ins running ${selfPending.count}, acknowledged ${runner.ackedCheckIns.size}/${plan.length}`), 5_000);
    await until('every coordinator outbox to drain and every self check-in to finish', async () => (await drained()) && (await Promise.race([Promise.all(selfRuns).then(() => true), sleep(100).then(() => false)])), Math.max(30_000, deadline - Date.now())).catch((error: Error) => problems.push(error.message));
    clearInterval(progress);
    const burstEnd = Date.now();
    log(`${name}: burst over after ${Math.round((burstEnd - burstStart) / 1000)} s`);

    // ---- Quiet: every site connected, the server's revision settles.
    await until('every coordinator to be connected and joined', () => coordinators.every((c) => c.joined), 60_000).catch((error: Error) => problems.push(error.message));
    let revision = -1;
    for (let n = 0; n < 30; n++) {
      await sleep(1000);
      const reply = await runner.send(chair, 'live:snapshot', {});
      const now = reply?.ok ? reply.snapshot.revision : -1;
      if (now === revision) break;
      revision = now;
    }
    runner.flushSent();
    log(`${name}: server settled at revision ${revision}; comparing every watcher with a fresh snapshot`);
    const results = await pool.final(revision, 60_000);
    const snapshot = (await runner.send(chair, 'live:snapshot', {}))?.snapshot;

    // ---- The check: the bench's log of acknowledged check-ins against the records.
    const mongo = new MongoClient(storeUri, { serverSelectionTimeoutMS: 10_000 });
    await mongo.connect();
    const db = mongo.db();
    const records = await db
      .collection('attendances')
      .find({ meetingId: new ObjectId(day.meetingId) }, { projection: { attendeeId: 1, status: 1 } })
      .toArray();
    const operations = await db
      .collection('liveoperations')
      .aggregate<{ _id: string; n: number }>([{ $match: { meetingId: new ObjectId(day.meetingId) } }, { $group: { _id: '$opId', n: { $sum: 1 } } }])
      .toArray();
    await mongo.close();
    const byAttendee = new Map<string, Array<{ status: string }>>();
    for (const record of records) {
      const key = String(record.attendeeId);
      byAttendee.set(key, [...(byAttendee.get(key) ?? []), { status: String(record.status) }]);
    }
    const opCount = new Map(operations.map((op) => [op._id, op.n]));
    let lost = 0;
    let duplicated = 0;
    for (const [attendeeId, ack] of runner.ackedCheckIns) {
      const found = byAttendee.get(attendeeId) ?? [];
      if (!found.some((r) => r.status === 'present')) {
        lost += 1;
        if (lost <= 5) problems.push(`LOST: check-in of ${attendeeId} acknowledged (opId ${ack.opId}, revision ${ack.revision}, by ${ack.by}) but its record is ${JSON.stringify(found)}`);
      }
      if (found.length > 1 || (opCount.get(ack.opId) ?? 0) > 1) {
        duplicated += 1;
        if (duplicated <= 5) problems.push(`DUPLICATED: ${attendeeId} has ${found.length} records, opId ${ack.opId} recorded ${opCount.get(ack.opId) ?? 0} times`);
      }
      if (!opCount.has(ack.opId)) problems.push(`opId ${ack.opId} acknowledged but not recorded`);
    }
    const presentRecords = records.filter((r) => r.status === 'present').length;
    const countDrift = snapshot ? Math.abs(snapshot.totals.present - presentRecords) : -1;
    if (countDrift !== 0) problems.push(`COUNT DRIFT: the snapshot's totals say ${snapshot?.totals.present} present, the records ${presentRecords}`);
    const unacknowledged = plan.length - runner.ackedCheckIns.size;
    if (unacknowledged > 0) problems.push(`${unacknowledged} check-ins were never acknowledged by the end`);
    if (runner.stats.refused.length > 0) problems.push(`refused commands: ${JSON.stringify(runner.stats.refused.slice(0, 5))}`);

    const histogram = new Map<number, number>();
    let events = 0;
    let batches = 0;
    const totals = { compared: 0, drifted: 0, transient: 0, gaps: 0, gapsUnfilled: 0, notSettled: 0, reconnects: 0, recovered: 0, snapshots: 0, peakRss: 0 };
    for (const result of results) {
      events += result.events;
      batches += result.batches;
      for (const [bucket, count] of result.latency) histogram.set(bucket, (histogram.get(bucket) ?? 0) + count);
      totals.compared += result.compared;
      totals.drifted += result.drifted;
      totals.transient += result.transientDifferences;
      totals.gaps += result.gaps;
      totals.gapsUnfilled += result.gapsUnfilled;
      totals.notSettled += result.notSettled;
      totals.reconnects += result.reconnects;
      totals.recovered += result.recovered;
      totals.snapshots += result.snapshots;
      totals.peakRss = Math.max(totals.peakRss, result.peakRssBytes);
      for (const example of result.driftExamples) problems.push(`DRIFT: ${example}`);
      for (const example of result.notSettledExamples) problems.push(`NOT SETTLED: ${example}`);
    }
    // Stop the apps gracefully to read their peak memory, then their logs.
    for (const app of apps) await app.stop();
    await store.stop();
    const logCheck = [...apps, store].map((child) => child.check(faultWindows));
    const serverErrors = logCheck.flatMap((c) => c.errors);
    const duringFaults = logCheck.flatMap((c) => c.duringFaults);
    for (const line of serverErrors.slice(0, 5)) problems.push(`SERVER ERROR: ${line}`);
    const inFault = (at: number) => faultWindows.some(([from, to]) => at >= from && at <= to);
    const internalOutsideFaults = runner.internalAcks.filter((a) => !inFault(a.at));
    for (const a of internalOutsideFaults.slice(0, 5)) problems.push(`INTERNAL ERROR answered to ${a.command} at ${new Date(a.at).toISOString()} (outside any fault)`);

    return {
      name,
      instances,
      events,
      batches,
      commands: runner.stats.commandsSent,
      checkInsScheduled: plan.length,
      acknowledged: runner.ackedCheckIns.size,
      unacknowledged,
      lost,
      duplicated,
      countDrift,
      refused: runner.stats.refused.length,
      replayed: runner.stats.replayed,
      retries: runner.stats.retriesAfterError,
      pendingConflicts: runner.stats.pendingConflicts,
      watchersCompared: totals.compared,
      watchersDrifted: totals.drifted,
      watchersNotSettled: totals.notSettled,
      watchersTransient: totals.transient,
      eventGaps: totals.gaps,
      eventGapsUnfilled: totals.gapsUnfilled,
      p50DeliveryMs: percentile(histogram, 0.5),
      p99DeliveryMs: percentile(histogram, 0.99),
      reconnects: totals.reconnects + runner.stats.reconnects,
      recovered: totals.recovered,
      snapshots: totals.snapshots,
      networkDrops: counters.drops,
      appKills: counters.appKills,
      storeKills: counters.storeKills,
      serverErrors: serverErrors.length + internalOutsideFaults.length,
      serverErrorsDuringFaults: duringFaults.length + runner.internalAcks.length - internalOutsideFaults.length,
      peakAppRssMb: Math.round(Math.max(...apps.map((a) => a.peakRss)) / 1e6),
      peakStoreRssMb: Math.round(store.peakRss / 1e6),
      peakWatcherRssMb: Math.round(totals.peakRss / 1e6),
      durationS: Math.round((Date.now() - started) / 1000),
      problems,
    };
  } finally {
    for (const socket of sockets) socket.disconnect();
    pool.stop();
    for (const proxy of proxies) await proxy.close();
    for (const app of apps) await app.kill();
    await store.kill();
    await redis?.stop();
    if (!options['keep-data']) rmSync(path.join(workDir, 'db'), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

if (!['single', 'redis', 'both'].includes(options.mode)) throw new Error(`--mode must be single, redis or both (was ${options.mode})`);
const modes = options.mode === 'both' ? (['single', 'redis'] as const) : ([options.mode as 'single' | 'redis'] as const);
const reports: RunReport[] = [];
const hardStop = setTimeout(
  () => {
    console.error('conference-day: the whole simulation took too long; giving up');
    process.exit(2);
  },
  (burstMs + 10 * 60_000) * (modes.length + 1),
);
hardStop.unref();

const withBaseline = options['no-baseline'] ? false : (options.baseline ?? !quick);
if (withBaseline) reports.push(await runDay('baseline (no faults)', 1, false));
for (const mode of modes) {
  reports.push(await runDay(mode === 'single' ? 'one instance + faults' : 'two instances over Redis + faults', mode === 'single' ? 1 : 2, true));
  // Each run's figures as soon as it is over (a long run interrupted later still leaves these).
  console.log(`run: ${JSON.stringify(reports.at(-1))}`);
}

const rows: Array<[string, (r: RunReport) => string | number]> = [
  ['instances', (r) => r.instances],
  ['events delivered to watchers (in batches)', (r) => `${r.events} (${r.batches})`],
  ['commands sent', (r) => r.commands],
  ['check-ins scheduled', (r) => r.checkInsScheduled],
  ['acknowledged', (r) => r.acknowledged],
  ['unacknowledged at the end', (r) => r.unacknowledged],
  ['lost', (r) => r.lost],
  ['duplicated', (r) => r.duplicated],
  ['count drift (totals vs records)', (r) => r.countDrift],
  ['refused', (r) => r.refused],
  ['resends answered as replayed', (r) => r.replayed],
  ['resends after an error (of them "pending")', (r) => `${r.retries} (${r.pendingConflicts})`],
  ['watchers compared / drifted', (r) => `${r.watchersCompared} / ${r.watchersDrifted}`],
  ['final looks behind a correction in flight', (r) => r.watchersTransient],
  ['events past a gap / gaps unfilled after 1 s', (r) => `${r.eventGaps} / ${r.eventGapsUnfilled}`],
  ['watchers not settled', (r) => r.watchersNotSettled],
  ['delivery latency p50 (ms)', (r) => r.p50DeliveryMs],
  ['delivery latency p99 (ms)', (r) => r.p99DeliveryMs],
  ['reconnects (recovered)', (r) => `${r.reconnects} (${r.recovered})`],
  ['snapshots fetched by watchers', (r) => r.snapshots],
  ['network drops / app kills / store kills', (r) => `${r.networkDrops} / ${r.appKills} / ${r.storeKills}`],
  ['server errors, logged or acked internal (during faults)', (r) => `${r.serverErrors} (${r.serverErrorsDuringFaults})`],
  ['peak memory app / store / watcher proc (MB)', (r) => `${r.peakAppRssMb} / ${r.peakStoreRssMb} / ${r.peakWatcherRssMb}`],
  ['duration (s)', (r) => r.durationS],
];
const widths = [Math.max(...rows.map(([label]) => label.length)), ...reports.map((r) => Math.max(r.name.length, ...rows.map(([, get]) => String(get(r)).length)))];
const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
console.log(`\nConference day (${quick ? 'quick' : 'full'}): ${size.sites} sites, ${size.attendees} attendees, ${size.watchers} watchers, burst ${Math.round(burstMs / 1000)} s (speed ${size.speed}), seed ${usedSeed}`);
console.log(line(['', ...reports.map((r) => r.name)]));
for (const [label, get] of rows) console.log(line([label, ...reports.map((r) => String(get(r)))]));
for (const report of reports) for (const problem of report.problems) console.log(`! ${report.name}: ${problem}`);

const faulty = withBaseline ? reports.slice(1) : reports;
const baseline = withBaseline ? reports[0] : undefined;
const sum = (get: (r: RunReport) => number) => faulty.reduce((total, r) => total + get(r), 0);
const failed = reports.some((r) => r.lost > 0 || r.duplicated > 0 || r.countDrift !== 0 || r.watchersDrifted > 0 || r.serverErrors > 0 || r.unacknowledged > 0 || r.watchersNotSettled > 0);
const summary = {
  bench: 'conference-day',
  quick,
  seed: usedSeed,
  sites: size.sites,
  attendees: size.attendees,
  watchers: size.watchers,
  speed: size.speed,
  acknowledged: sum((r) => r.acknowledged),
  lost: sum((r) => r.lost) + (baseline?.lost ?? 0),
  duplicated: sum((r) => r.duplicated) + (baseline?.duplicated ?? 0),
  unacknowledged: sum((r) => r.unacknowledged),
  countDrift: sum((r) => r.countDrift),
  watchersDrifted: sum((r) => r.watchersDrifted),
  serverErrors: sum((r) => r.serverErrors),
  runs: Object.fromEntries(reports.map((r) => [r.name, { ...r, problems: r.problems.length }])),
  baseline: baseline ? { p50DeliveryMs: baseline.p50DeliveryMs, p99DeliveryMs: baseline.p99DeliveryMs, peakAppRssMb: baseline.peakAppRssMb } : null,
  ratio: baseline
    ? Object.fromEntries(faulty.map((r) => [r.name, { p50DeliveryMs: r.p50DeliveryMs / Math.max(1, baseline.p50DeliveryMs), p99DeliveryMs: r.p99DeliveryMs / Math.max(1, baseline.p99DeliveryMs), peakAppRssMb: r.peakAppRssMb / Math.max(1, baseline.peakAppRssMb) }]))
    : null,
  ok: !failed,
};
console.log(JSON.stringify(summary));
process.exit(failed ? 1 : 0);
