// Page benchmark (issue 3): the meeting dashboard and the attendee list (first page, search by
// name, filter by site) for a meeting with 13 sites and 2,000 attendees, against the same pages
// of a meeting with 20 attendees, plus a bare Express route as the machine's floor — all in one
// run, 20 concurrent connections each, through autocannon over real HTTP.
//
//   npx tsx bench/pages.ts [--seconds 5] [--attendees 2000]
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { connectDatabase } from '../server/database.js';
import { createApp } from '../server/app.js';
import { createFirstAdmin, organizerActor } from '../server/accounts/actions.js';
import { createMeeting } from '../server/meetings/actions.js';
import { addProvinceDistricts } from '../server/sites/actions.js';
import { createAttendee } from '../server/attendees/actions.js';
import { SiteModel } from '../server/sites/model.js';
import type { Actor } from '../server/lib/actor.js';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, attendees: { type: 'string', default: '2000' } } });
const seconds = Number(args.seconds);
const largeCount = Number(args.attendees);
const connections = 20;

const familyNames = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Huỳnh', 'Hoàng', 'Võ', 'Đặng', 'Bùi', 'Đỗ'];
const middleNames = ['Văn', 'Thị', 'Minh', 'Thanh', 'Hữu', 'Ngọc'];
const givenNames = ['An', 'Bình', 'Cường', 'Dũng', 'Hà', 'Hải', 'Hương', 'Lan', 'Liêm', 'Tuấn', 'Trúc', 'Vy'];

async function seedMeeting(actor: Actor, title: string, attendeeCount: number): Promise<{ meetingId: string; siteId: string }> {
  const meeting = await createMeeting(actor, { title, start: '2026-12-29T14:00', end: '2026-12-29T17:00', status: 'scheduled' });
  const meetingId = String(meeting._id);
  await addProvinceDistricts(actor, { meetingId, provinceCode: '87' });
  const sites = await SiteModel.find({ meetingId }, { _id: 1 }).sort({ order: 1 }).lean();
  for (let index = 0; index < attendeeCount; index++) {
    const fullName = `${familyNames[index % 10]} ${middleNames[index % 6]} ${givenNames[Math.floor(index / 60) % 12]} ${index}`;
    await createAttendee(actor, {
      meetingId,
      fullName,
      position: index % 7 === 0 ? 'Trưởng phòng' : 'Chuyên viên',
      organization: `Đơn vị ${index % 25}`,
      email: `dai-bieu-${index}@example.vn`,
      siteId: String(sites[index % sites.length]._id),
    });
  }
  return { meetingId, siteId: String(sites[3]._id) };
}

interface Row {
  name: string;
  requestsPerSecond: number;
  latencyMeanMs: number;
  latencyP99Ms: number;
  errors: number;
  /** CPU time of this process (app and store threads) per request: less sensitive than latency to other load on the machine. */
  cpuMsPerRequest: number;
}

// autocannon runs in its own process: on a two-core machine, a load generator sharing the
// server's event loop would measure itself as much as the server.
const autocannonCli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
const run = promisify(execFile);

async function measure(name: string, url: string, headers: Record<string, string>): Promise<Row> {
  const headerArgs = Object.entries(headers).flatMap(([key, value]) => ['-H', `${key}=${value}`]);
  const cpuBefore = process.cpuUsage();
  const { stdout } = await run(process.execPath, [autocannonCli, '-j', '-c', String(connections), '-d', String(seconds), ...headerArgs, url], { maxBuffer: 16 * 1024 * 1024 });
  const cpu = process.cpuUsage(cpuBefore);
  const result = JSON.parse(stdout) as { errors: number; non2xx: number; timeouts: number; requests: { average: number; total: number }; latency: { average: number; p99: number } };
  const errors = result.errors + result.non2xx + result.timeouts;
  const cpuMsPerRequest = (cpu.user + cpu.system) / 1000 / Math.max(result.requests.total, 1);
  return { name, requestsPerSecond: result.requests.average, latencyMeanMs: result.latency.average, latencyP99Ms: result.latency.p99, errors, cpuMsPerRequest };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

const database = await connectDatabase({ embedded: { inMemory: true } }, 'bench_pages');
const { app } = createApp({ sessionSecret: 'bench-session-secret-long-enough-xxxx', isProduction: false, logger: pino({ level: 'silent' }), loginRateLimit: 1000 });
app.set('view cache', true);
const appServer = createServer(app);
const baseUrl = await listen(appServer);

const bare = express();
bare.get('/bare', (_req, res) => {
  res.send('ok');
});
const bareServer = createServer(bare);
const bareUrl = await listen(bareServer);

const admin = await createFirstAdmin({ email: 'bench@example.vn', name: 'Bench', password: 'bench-password-long' });
const actor = organizerActor(admin);
console.log(`seeding: ${largeCount} and 20 attendees, 13 sites each…`);
const seedStart = performance.now();
const large = await seedMeeting(actor, 'Hội nghị lớn', largeCount);
const small = await seedMeeting(actor, 'Hội nghị nhỏ', 20);
console.log(`seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

// Sign in once over HTTP; every measured request carries that session cookie.
const loginPage = await fetch(`${baseUrl}/api/v1/session`);
const anonCookie = loginPage.headers.getSetCookie()[0]?.split(';')[0] ?? '';
const { csrfToken } = (await loginPage.json()) as { csrfToken: string };
const signIn = await fetch(`${baseUrl}/login`, {
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: anonCookie },
  body: new URLSearchParams({ _csrf: csrfToken, email: 'bench@example.vn', password: 'bench-password-long' }),
});
const cookie = signIn.headers.getSetCookie()[0]?.split(';')[0];
if (signIn.status !== 303 || !cookie) throw new Error(`sign-in failed: ${signIn.status}`);
const headers = { cookie, accept: 'text/html' };

const pages = (meeting: { meetingId: string; siteId: string }) => ({
  dashboard: `/meetings/${meeting.meetingId}`,
  'attendees, first page': `/meetings/${meeting.meetingId}/attendees`,
  'attendees, search by name': `/meetings/${meeting.meetingId}/attendees?q=${encodeURIComponent('nguyen van')}`,
  'attendees, filter by site': `/meetings/${meeting.meetingId}/attendees?siteId=${meeting.siteId}`,
});

// Warm up view caches and the store's working set; note how many table rows each page shows.
const rowsShown = new Map<string, number>();
for (const path of [...Object.values(pages(large)), ...Object.values(pages(small))]) {
  const response = await fetch(baseUrl + path, { headers });
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
  rowsShown.set(path, (await response.text()).split('<tr data-id=').length - 1);
}

const floor = await measure('bare Express route', `${bareUrl}/bare`, {});
const comparisons: Array<{ page: string; small: Row; large: Row; ratio: number; rows: { small: number; large: number } }> = [];
for (const [page, smallPath] of Object.entries(pages(small))) {
  const largePath = pages(large)[page as keyof ReturnType<typeof pages>];
  const smallRow = await measure(`${page} (20)`, baseUrl + smallPath, headers);
  const largeRow = await measure(`${page} (${largeCount})`, baseUrl + largePath, headers);
  comparisons.push({ page, small: smallRow, large: largeRow, ratio: largeRow.latencyMeanMs / smallRow.latencyMeanMs, rows: { small: rowsShown.get(smallPath) ?? 0, large: rowsShown.get(largePath) ?? 0 } });
}

const format = (value: number, digits = 1) => value.toFixed(digits).padStart(9);
console.log(`\n${connections} connections, ${seconds} s per row\n`);
console.log(`${'page'.padEnd(34)}${'req/s'.padStart(9)}${'mean ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}${'cpu ms/req'.padStart(12)}`);
for (const row of [floor, ...comparisons.flatMap((comparison) => [comparison.small, comparison.large])]) {
  console.log(`${row.name.padEnd(34)}${format(row.requestsPerSecond, 0)}${format(row.latencyMeanMs)}${format(row.latencyP99Ms)}${String(row.errors).padStart(8)}${format(row.cpuMsPerRequest, 2).padStart(12)}`);
}
console.log(`\nratio = mean latency with ${largeCount} attendees / with 20 (target ≤ 1.5); cpu ratio = server CPU per request, same pages; rows = table rows shown (20 / ${largeCount})`);
for (const comparison of comparisons) {
  const rows = comparison.page === 'dashboard' ? '' : `   rows ${comparison.rows.small} / ${comparison.rows.large}`;
  console.log(`${comparison.page.padEnd(34)}${format(comparison.ratio, 2)}   cpu ${(comparison.large.cpuMsPerRequest / comparison.small.cpuMsPerRequest).toFixed(2)}${rows}`);
}
const dashboardLarge = comparisons[0].large.requestsPerSecond;
console.log(`dashboard req/s (${largeCount} attendees): ${dashboardLarge.toFixed(0)} (target ≥ 500)`);

const figures = {
  benchmark: 'pages',
  connections,
  seconds,
  baseline: { name: 'bare Express route', requestsPerSecond: floor.requestsPerSecond, latencyMeanMs: floor.latencyMeanMs },
  pages: comparisons.map((comparison) => ({
    page: comparison.page,
    small: { attendees: 20, requestsPerSecond: comparison.small.requestsPerSecond, latencyMeanMs: comparison.small.latencyMeanMs, errors: comparison.small.errors, cpuMsPerRequest: Number(comparison.small.cpuMsPerRequest.toFixed(3)), rowsShown: comparison.rows.small },
    large: { attendees: largeCount, requestsPerSecond: comparison.large.requestsPerSecond, latencyMeanMs: comparison.large.latencyMeanMs, errors: comparison.large.errors, cpuMsPerRequest: Number(comparison.large.cpuMsPerRequest.toFixed(3)), rowsShown: comparison.rows.large },
    ratio: Number(comparison.ratio.toFixed(3)),
    cpuRatio: Number((comparison.large.cpuMsPerRequest / comparison.small.cpuMsPerRequest).toFixed(3)),
    vsFloorRatio: Number((comparison.large.latencyMeanMs / floor.latencyMeanMs).toFixed(2)),
    target: 1.5,
    pass: comparison.ratio <= 1.5 && comparison.large.errors === 0,
  })),
  dashboardRequestsPerSecond: { value: dashboardLarge, target: 500, pass: dashboardLarge >= 500 },
};

appServer.closeAllConnections();
bareServer.closeAllConnections();
await new Promise((resolve) => appServer.close(resolve));
await new Promise((resolve) => bareServer.close(resolve));
await database.close();
console.log(JSON.stringify(figures));
