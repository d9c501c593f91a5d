// The server side of bench/live-fanout.ts, in its own process (BENCH_MODE=app or bare):
//
// - app: the embedded store (in its worker thread), the app's HTTP server with its Socket.IO
//   (attachRealtime, as in production and tests/helpers/app.ts), and one live meeting of the
//   province's 13 sites with BENCH_ATTENDEES attendees inserted in one batch. It tells the parent
//   the watchers' personal link tokens, the sites' coordinator tokens and the attendees to check in.
// - bare: a plain Socket.IO server (default options) whose sockets sit in one room; a socket's
//   "broadcast" event is emitted to that room as it came. The floor the app is compared with.
//
// Both answer "memory" (after two full GCs: run with --expose-gc) and "cpu" over IPC.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Types } from 'mongoose';
import { pino } from 'pino';
import { Server } from 'socket.io';

export interface SeededDay {
  meetingId: string;
  /** One coordinator link token per site, in site order. */
  sites: Array<{ id: string; token: string }>;
  /** Personal link tokens of the attendees who watch (not checked in during the run). */
  watcherTokens: string[];
  /** Per site (same order), attendees to check in, none of them a watcher. */
  targets: string[][];
}

export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Open engine.io connections. */
  clients: number;
}

export type ServerMessage = { type: 'ready'; url: string; day?: SeededDay } | { type: 'memory'; memory: MemoryFigures } | { type: 'cpu'; micros: number };
export type ParentMessage = { type: 'memory' } | { type: 'cpu' } | { type: 'stop' };

const mode = process.env.BENCH_MODE === 'bare' ? 'bare' : 'app';
const logger = pino({ level: 'silent' });

function listen(server: HttpServer): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

let io: Server;
let close: () => Promise<void>;
let day: SeededDay | undefined;
let url: string;

if (mode === 'bare') {
  const httpServer = createServer();
  io = new Server(httpServer);
  io.on('connection', (socket) => {
    void socket.join('meeting');
    socket.on('broadcast', (message: unknown) => {
      io.to('meeting').emit('event', message);
    });
  });
  url = await listen(httpServer);
  close = async () => {
    await new Promise<void>((done) => io.close(() => done()));
  };
} else {
  const { connectDatabase } = await import('../server/database.js');
  const { createApp } = await import('../server/app.js');
  const { attachRealtime } = await import('../server/realtime/index.js');
  const database = await connectDatabase({ embedded: { inMemory: true } }, 'bench_live_fanout');
  const { app, sessionMiddleware, sessionStore } = createApp({ sessionSecret: 'bench-session-secret-long-enough-xxxx', isProduction: false, logger, loginRateLimit: 1000 });
  const httpServer = createServer(app);
  const realtime = await attachRealtime(httpServer, { sessionMiddleware, sessionStore, logger });
  io = realtime.io;
  url = await listen(httpServer);
  day = await seed(Number(process.env.BENCH_WATCHERS ?? 500), Number(process.env.BENCH_TARGETS ?? 500));
  close = async () => {
    await realtime.close();
    httpServer.closeAllConnections();
    await database.close();
  };
}

/** A live meeting of 13 sites; watchers and targets spread over the sites alike. */
async function seed(watchers: number, targets: number): Promise<SeededDay> {
  const { createFirstAdmin, organizerActor } = await import('../server/accounts/actions.js');
  const { createMeeting } = await import('../server/meetings/actions.js');
  const { startMeeting } = await import('../server/meetings/lifecycle.js');
  const { commitMeetingChange } = await import('../server/meetings/revision.js');
  const { addProvinceDistricts } = await import('../server/sites/actions.js');
  const { AttendeeModel } = await import('../server/attendees/model.js');
  const { SiteModel } = await import('../server/sites/model.js');
  const admin = await createFirstAdmin({ email: 'bench@example.vn', name: 'Bench', password: 'bench-password-long' });
  const actor = organizerActor(admin);
  const meeting = await createMeeting(actor, { title: 'Hội nghị trực tuyến (bench)', start: '2026-12-29T07:30', end: '2026-12-29T11:30', status: 'scheduled' });
  const meetingId = String(meeting._id);
  await addProvinceDistricts(actor, { meetingId, provinceCode: '87' });
  const sites = await SiteModel.find({ meetingId }, { _id: 1, coordinatorToken: 1 }).sort({ order: 1 }).lean();
  const total = watchers + targets;
  const inserted = await commitMeetingChange({
    meetingId,
    write: async (revision) =>
      AttendeeModel.insertMany(
        Array.from({ length: total }, (_, index) => ({
          meetingId: new Types.ObjectId(meetingId),
          revision,
          fullName: `Đại biểu ${index + 1}`,
          position: 'Chuyên viên',
          organization: `Đơn vị ${index % 25}`,
          siteId: sites[index % sites.length]._id,
        })),
      ),
    events: () => [],
  });
  await startMeeting(actor, { meetingId });
  const people = inserted.result.map((doc) => ({ id: String(doc._id), siteId: String(doc.siteId), token: doc.accessToken }));
  const bySite = new Map(sites.map((site) => [String(site._id), [] as string[]]));
  for (const person of people.slice(watchers)) bySite.get(person.siteId)!.push(person.id);
  return {
    meetingId,
    sites: sites.map((site) => ({ id: String(site._id), token: site.coordinatorToken })),
    watcherTokens: people.slice(0, watchers).map((person) => person.token),
    targets: [...bySite.values()],
  };
}

const gc = (globalThis as { gc?: () => void }).gc;
async function memory(): Promise<MemoryFigures> {
  for (let pass = 0; pass < 2; pass++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers, clients: io.engine.clientsCount };
}

const send = (message: ServerMessage) => (process.send ? process.send(message) : message.type === 'ready' && console.log(JSON.stringify({ url: message.url })));
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  // process.exit() rather than waiting for handles: --cpu-prof writes its profile on exit either way.
  const timer = setTimeout(() => process.exit(0), 5_000);
  void close().finally(() => {
    clearTimeout(timer);
    process.exit(0);
  });
}
process.on('message', (message: ParentMessage) => {
  if (message.type === 'memory') void memory().then((figures) => send({ type: 'memory', memory: figures }));
  else if (message.type === 'cpu') {
    const usage = process.cpuUsage();
    send({ type: 'cpu', micros: usage.user + usage.system });
  } else if (message.type === 'stop') stop();
});
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
if (process.send) process.on('disconnect', () => process.exit(0));
if (!gc) console.error(`live-fanout-server (${mode}): no --expose-gc, memory figures include garbage`);
send({ type: 'ready', url, day });
