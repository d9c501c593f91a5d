// The server side of bench/pages.ts, in its own process: the embedded store (in its worker
// thread), the app and a bare Express route, with two seeded meetings. It tells the parent its
// URLs over IPC and answers "cpu" with this process's CPU time (app and store threads together),
// so the load generator neither shares this event loop nor counts in the server's CPU.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Types } from 'mongoose';
import { pino } from 'pino';
import { connectDatabase } from '../server/database.js';
import { createApp } from '../server/app.js';
import { createFirstAdmin, organizerActor } from '../server/accounts/actions.js';
import { createMeeting } from '../server/meetings/actions.js';
import { commitMeetingChange } from '../server/meetings/revision.js';
import { addProvinceDistricts } from '../server/sites/actions.js';
import { AttendeeModel } from '../server/attendees/model.js';
import { SiteModel } from '../server/sites/model.js';
import type { Actor } from '../server/lib/actor.js';

export interface SeededMeeting {
  meetingId: string;
  /** The site the "filter by site" page shows. */
  siteId: string;
  attendees: number;
}

export type ServerMessage =
  | { type: 'ready'; appUrl: string; bareUrl: string; email: string; password: string; meetings: SeededMeeting[] }
  | { type: 'cpu'; micros: number };

export type ParentMessage = { type: 'cpu' } | { type: 'stop' };

const familyNames = ['Trần', 'Lê', 'Phạm', 'Huỳnh', 'Hoàng', 'Võ', 'Đặng', 'Bùi', 'Đỗ'];
const middleNames = ['Thị', 'Minh', 'Thanh', 'Hữu', 'Ngọc'];
const givenNames = ['An', 'Bình', 'Cường', 'Dũng', 'Hà', 'Hải', 'Hương', 'Lan', 'Liêm', 'Tuấn', 'Trúc', 'Vy'];

/**
 * The same shape at every size, so every table page shows a full page of 50 rows in both
 * meetings: 3 in 10 attendees are "Nguyễn Văn …" (the search), 3 in 10 sit at the filtered site
 * (the site filter), the rest spread over the other sites. Pages then differ only in how many
 * documents the meeting holds and how many match, which is what the comparison is about.
 */
function attendeeAt(index: number, sites: Types.ObjectId[], filteredSite: number) {
  const searched = index % 10 === 0 || index % 10 === 3 || index % 10 === 6;
  const atFilteredSite = index % 10 === 1 || index % 10 === 4 || index % 10 === 7;
  const others = sites.filter((_, position) => position !== filteredSite);
  return {
    fullName: searched
      ? `Nguyễn Văn ${givenNames[index % 12]} ${index}`
      : `${familyNames[index % 9]} ${middleNames[index % 5]} ${givenNames[Math.floor(index / 7) % 12]} ${index}`,
    position: index % 7 === 0 ? 'Trưởng phòng' : 'Chuyên viên',
    organization: `Đơn vị ${index % 25}`,
    email: `dai-bieu-${index}@example.vn`,
    phone: `09${String(10_000_000 + index).slice(-8)}`,
    siteId: atFilteredSite ? sites[filteredSite] : others[index % others.length],
    role: index % 50 === 0 ? 'guest' : 'delegate',
  };
}

/** A meeting with the province's 13 sites and its attendees added in one batch, as an import commits them. */
async function seedMeeting(actor: Actor, title: string, attendeeCount: number): Promise<SeededMeeting> {
  const meeting = await createMeeting(actor, { title, start: '2026-12-29T14:00', end: '2026-12-29T17:00', status: 'scheduled' });
  const meetingId = String(meeting._id);
  await addProvinceDistricts(actor, { meetingId, provinceCode: '87' });
  const sites = (await SiteModel.find({ meetingId }, { _id: 1 }).sort({ order: 1 }).lean()).map((site) => site._id as Types.ObjectId);
  const filteredSite = 3;
  await commitMeetingChange({
    meetingId,
    write: async (revision) => {
      const docs = Array.from({ length: attendeeCount }, (_, index) => ({ meetingId: new Types.ObjectId(meetingId), revision, ...attendeeAt(index, sites, filteredSite) }));
      await AttendeeModel.insertMany(docs, { ordered: true });
    },
    events: () => [],
  });
  return { meetingId, siteId: String(sites[filteredSite]), attendees: attendeeCount };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

const sizes = (process.env.BENCH_SIZES ?? '2000,200').split(',').map(Number);
const database = await connectDatabase({ embedded: { inMemory: true } }, 'bench_pages');
const { app } = createApp({ sessionSecret: 'bench-session-secret-long-enough-xxxx', isProduction: false, logger: pino({ level: process.env.BENCH_LOG ?? "silent" }), loginRateLimit: 1000 });
// As in production (NODE_ENV=production turns it on): views compiled once.
app.set('view cache', true);
const appServer = createServer(app);
const appUrl = await listen(appServer);

const bare = express();
bare.get('/bare', (_req, res) => {
  res.send('ok');
});
const bareServer = createServer(bare);
const bareUrl = await listen(bareServer);

const email = 'bench@example.vn';
const password = 'bench-password-long';
const admin = await createFirstAdmin({ email, name: 'Bench', password });
const actor = organizerActor(admin);
const meetings: SeededMeeting[] = [];
for (const [position, size] of sizes.entries()) meetings.push(await seedMeeting(actor, `Hội nghị ${position + 1} (${size} đại biểu)`, size));

// Run alone (`npx tsx bench/pages-server.ts`), it prints what it would tell the parent: a server
// to poke at by hand or profile (`node --import tsx --cpu-prof bench/pages-server.ts`).
const send = (message: ServerMessage) => (process.send ? process.send(message) : message.type === 'ready' && console.log(JSON.stringify(message)));
function stop(): void {
  appServer.closeAllConnections();
  bareServer.closeAllConnections();
  appServer.close();
  bareServer.close();
  // process.exit() rather than waiting for handles: --cpu-prof writes its profile on exit either way.
  void database.close().finally(() => process.exit(0));
}
process.on('message', (message: ParentMessage) => {
  if (message.type === 'cpu') {
    const usage = process.cpuUsage();
    send({ type: 'cpu', micros: usage.user + usage.system });
  } else if (message.type === 'stop') stop();
});
// Killed by signal, a profiled run would write no profile.
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// The parent went away (killed, crashed): do not linger.
if (process.send) process.on('disconnect', () => process.exit(0));
send({ type: 'ready', appUrl, bareUrl, email, password, meetings });
