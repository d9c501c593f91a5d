// Page benchmark (issue 6): does a page cost more when the meeting is bigger? The meeting
// dashboard, the live dashboard and the attendee list (first page, search by name, filter by
// site), each showing 50 rows, for a meeting of 2,000 attendees against one of 200, and a bare
// Express route as the machine's floor, all in one run, through autocannon over real HTTP with
// a signed-in organizer's session cookie.
//
// The server (app, embedded store in its worker thread, bare route) runs in a child process
// (bench/pages-server.ts): on a two-core machine a load generator sharing its event loop would
// measure itself as much as the server. The child's CPU time per request is reported beside the
// latency: it is less sensitive than latency to what else the machine runs.
//
//   npx tsx bench/pages.ts [--seconds 4] [--rounds 2] [--attendees 2000] [--small 200] [--profile] [--only 'dashboard']
//
// --profile runs the server with --cpu-prof and prints the functions with the most self time.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { ParentMessage, SeededMeeting, ServerMessage } from './pages-server.js';
import { formatSummary, readProfile, summarizeProfile } from './cpu-profile.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
    attendees: { type: 'string', default: '2000' },
    small: { type: 'string', default: '200' },
    profile: { type: 'boolean', default: false },
    // Only these pages (comma-separated names or their first words, e.g. "attendees, first"), to profile one page alone.
    only: { type: 'string' },
  },
});
const seconds = Number(args.seconds);
const rounds = Number(args.rounds);
const largeCount = Number(args.attendees);
const smallCount = Number(args.small);
const connections = 20;
const ratioTarget = 1.2;
const floorTarget = 10;

// ---- the server child ---------------------------------------------------------------------------

const here = path.dirname(fileURLToPath(import.meta.url));
const profileDir = args.profile ? await mkdtemp(path.join(tmpdir(), 'bench-pages-prof-')) : undefined;
const child: ChildProcess = fork(path.join(here, 'pages-server.ts'), [], {
  execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])],
  env: { ...process.env, BENCH_SIZES: `${largeCount},${smallCount}` },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
child.once('exit', (code) => {
  if (code !== 0 && !stopping) {
    console.error(`the server process exited (${code})`);
    process.exit(1);
  }
});
let stopping = false;

function nextMessage<T extends ServerMessage['type']>(type: T): Promise<Extract<ServerMessage, { type: T }>> {
  return new Promise((resolve) => {
    const listener = (message: ServerMessage) => {
      if (message.type !== type) return;
      child.off('message', listener);
      resolve(message as Extract<ServerMessage, { type: T }>);
    };
    child.on('message', listener);
  });
}

const tell = (message: ParentMessage) => child.send(message);

async function serverCpuMicros(): Promise<number> {
  const reply = nextMessage('cpu');
  tell({ type: 'cpu' });
  return (await reply).micros;
}

console.log(`seeding: ${largeCount} and ${smallCount} attendees, 13 sites each…`);
const seedStart = performance.now();
const ready = await nextMessage('ready');
console.log(`server ready, seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
const [large, small] = ready.meetings as [SeededMeeting, SeededMeeting];
const baseUrl = ready.appUrl;

// ---- sign in once over HTTP; every measured request carries that session cookie -----------------

const loginPage = await fetch(`${baseUrl}/api/v1/session`);
const anonCookies = loginPage.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
const { csrfToken } = (await loginPage.json()) as { csrfToken: string };
const signIn = await fetch(`${baseUrl}/login`, {
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: anonCookies.join('; ') },
  body: new URLSearchParams({ _csrf: csrfToken, email: ready.email, password: ready.password }),
});
const sessionCookie = signIn.headers.getSetCookie().map((cookie) => cookie.split(';')[0]).find((cookie) => cookie.startsWith('bp.sid='));
if (signIn.status !== 303 || !sessionCookie) throw new Error(`sign-in failed: ${signIn.status}`);
// What a browser sends: the session, HTML first, compressed answers.
const headers = { cookie: sessionCookie, accept: 'text/html,application/xhtml+xml', 'accept-encoding': 'gzip, deflate, br' };

// ---- what is measured -------------------------------------------------------------------------

const allPageNames = ['dashboard', 'live dashboard', 'attendees, first page', 'attendees, search by name', 'attendees, filter by site'] as const;
type PageName = (typeof allPageNames)[number];
const onlyPages = args.only?.split(',').map((name) => name.trim()).filter(Boolean);
const pageNames = onlyPages ? allPageNames.filter((page) => onlyPages.some((name) => page === name || page.startsWith(name))) : allPageNames;
if (pageNames.length === 0) throw new Error(`--only ${args.only} names no page (${allPageNames.join('; ')})`);
const tablePages = new Set<PageName>(['attendees, first page', 'attendees, search by name', 'attendees, filter by site']);

function pathOf(page: PageName, meeting: SeededMeeting): string {
  const base = `/meetings/${meeting.meetingId}`;
  switch (page) {
    case 'dashboard':
      return base;
    case 'live dashboard':
      return `${base}/live`;
    case 'attendees, first page':
      return `${base}/attendees`;
    case 'attendees, search by name':
      return `${base}/attendees?q=${encodeURIComponent('nguyen van')}`;
    case 'attendees, filter by site':
      return `${base}/attendees?siteId=${meeting.siteId}`;
  }
}

interface Row {
  name: string;
  requestsPerSecond: number;
  latencyMeanMs: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
  /** Requests answered: a page too slow to answer once in a run has no latency to compare and fails. */
  answered: number;
  /** The server process's CPU (app and store threads) per request answered. */
  cpuMsPerRequest: number;
}

async function load(url: string, duration: number, requestHeaders: Record<string, string>): Promise<autocannon.Result> {
  return autocannon({ url, connections, duration, headers: requestHeaders });
}

async function measure(name: string, url: string, requestHeaders: Record<string, string>): Promise<Row> {
  const cpuBefore = await serverCpuMicros();
  const result = await load(url, seconds, requestHeaders);
  const cpuMicros = (await serverCpuMicros()) - cpuBefore;
  return {
    name,
    requestsPerSecond: result.requests.average,
    latencyMeanMs: result.latency.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    answered: result.requests.total,
    cpuMsPerRequest: cpuMicros / 1000 / Math.max(result.requests.total, 1),
  };
}

/** Of several rounds, the one least disturbed by the rest of the machine (lowest mean latency). */
function best(rowsOfRounds: Row[]): Row {
  // A round that answered nothing has no latency (autocannon reports 0): it is never the best.
  const answered = rowsOfRounds.filter((row) => row.answered > 0);
  const chosen = (answered.length > 0 ? answered : rowsOfRounds).reduce((a, b) => (b.latencyMeanMs < a.latencyMeanMs ? b : a));
  // CPU per request: the lowest seen (other load on the machine only adds to it), errors: all.
  return { ...chosen, cpuMsPerRequest: Math.min(...rowsOfRounds.map((row) => row.cpuMsPerRequest)), errors: rowsOfRounds.reduce((sum, row) => sum + row.errors, 0), answered: chosen.answered };
}

// Warm up: JIT, view cache, the store's caches, per-revision caches; note the rows each page shows.
const rowsShown = new Map<string, number>();
for (const meeting of [large, small]) {
  for (const page of pageNames) {
    const url = baseUrl + pathOf(page, meeting);
    const response = await fetch(url, { headers: { cookie: sessionCookie, accept: 'text/html' } });
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    rowsShown.set(url, (await response.text()).split('<tr data-id=').length - 1);
    await load(url, 1, headers);
  }
}
await load(`${ready.bareUrl}/bare`, 1, {});
for (const page of pageNames.filter((name) => tablePages.has(name))) {
  for (const meeting of [large, small]) {
    const shown = rowsShown.get(baseUrl + pathOf(page, meeting));
    if (shown !== 50) throw new Error(`${page} of the ${meeting.attendees}-attendee meeting shows ${shown} rows, not 50: the comparison would measure rendering, not scaling`);
  }
}

// Rounds interleave the two sizes so a burst of other load on the machine hits both alike.
const floorRounds: Row[] = [await measure('bare Express route', `${ready.bareUrl}/bare`, {})];
const comparisons: Array<{ page: PageName; small: Row; large: Row }> = [];
for (const page of pageNames) {
  const smallRounds: Row[] = [];
  const largeRounds: Row[] = [];
  for (let round = 0; round < rounds; round++) {
    smallRounds.push(await measure(`${page} (${smallCount})`, baseUrl + pathOf(page, small), headers));
    largeRounds.push(await measure(`${page} (${largeCount})`, baseUrl + pathOf(page, large), headers));
  }
  comparisons.push({ page, small: best(smallRounds), large: best(largeRounds) });
}
floorRounds.push(await measure('bare Express route', `${ready.bareUrl}/bare`, {}));
const floor = best(floorRounds);

stopping = true;
const exited = new Promise((resolve) => child.once('exit', resolve));
tell({ type: 'stop' });
await exited;

// ---- report -----------------------------------------------------------------------------------

const format = (value: number, digits = 1) => value.toFixed(digits).padStart(9);
console.log(`\n${connections} connections, ${seconds} s per run, best of ${rounds} rounds (floor: best of 2)\n`);
console.log(`${'page'.padEnd(36)}${'req/s'.padStart(9)}${'mean ms'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}${'cpu ms/req'.padStart(12)}`);
for (const row of [floor, ...comparisons.flatMap((comparison) => [comparison.small, comparison.large])]) {
  console.log(
    `${row.name.padEnd(36)}${format(row.requestsPerSecond, 0)}${format(row.latencyMeanMs)}${format(row.latencyP50Ms)}${format(row.latencyP99Ms)}${String(row.errors).padStart(8)}${format(row.cpuMsPerRequest, 2).padStart(12)}`,
  );
}

const results = comparisons.map(({ page, small: smallRow, large: largeRow }) => {
  const ratio = largeRow.latencyMeanMs / smallRow.latencyMeanMs;
  const cpuRatio = largeRow.cpuMsPerRequest / smallRow.cpuMsPerRequest;
  const vsFloorRatio = largeRow.latencyMeanMs / floor.latencyMeanMs;
  const rows = tablePages.has(page) ? { small: rowsShown.get(baseUrl + pathOf(page, small)) ?? 0, large: rowsShown.get(baseUrl + pathOf(page, large)) ?? 0 } : undefined;
  return { page, smallRow, largeRow, ratio, cpuRatio, vsFloorRatio, rows, pass: smallRow.answered > 0 && largeRow.answered > 0 && ratio <= ratioTarget && vsFloorRatio <= floorTarget && smallRow.errors + largeRow.errors === 0 };
});

console.log(`\nratio = mean latency with ${largeCount} attendees / with ${smallCount} (target ≤ ${ratioTarget}); cpu = the same for server CPU per request;`);
console.log(`vs floor = mean latency with ${largeCount} / the bare route's (target ≤ ${floorTarget}); rows = table rows shown (${smallCount} / ${largeCount})\n`);
console.log(`${'page'.padEnd(36)}${'ratio'.padStart(9)}${'cpu'.padStart(9)}${'vs floor'.padStart(10)}  rows       pass`);
for (const result of results) {
  const rows = result.rows ? `${result.rows.small} / ${result.rows.large}` : '';
  console.log(`${result.page.padEnd(36)}${format(result.ratio, 2)}${format(result.cpuRatio, 2)}${result.vsFloorRatio.toFixed(2).padStart(10)}  ${rows.padEnd(11)}${result.pass ? 'yes' : 'NO'}`);
}

if (profileDir) {
  // One profile per thread: the app's main thread and the store's worker.
  for (const file of (await readdir(profileDir)).filter((name) => name.endsWith('.cpuprofile')).sort()) {
    console.log(formatSummary(`server profile ${file}`, summarizeProfile(await readProfile(path.join(profileDir, file)))));
  }
  console.log(`\nprofiles in ${profileDir}`);
}

const rowFigures = (row: Row, attendees: number, rowsShownCount: number | undefined) => ({
  attendees,
  requestsPerSecond: Math.round(row.requestsPerSecond),
  latencyMeanMs: Number(row.latencyMeanMs.toFixed(2)),
  latencyP50Ms: row.latencyP50Ms,
  latencyP99Ms: row.latencyP99Ms,
  cpuMsPerRequest: Number(row.cpuMsPerRequest.toFixed(3)),
  errors: row.errors,
  ...(rowsShownCount === undefined ? {} : { rowsShown: rowsShownCount }),
});
const figures = {
  benchmark: 'pages',
  connections,
  seconds,
  rounds,
  baseline: { name: 'bare Express route', requestsPerSecond: Math.round(floor.requestsPerSecond), latencyMeanMs: Number(floor.latencyMeanMs.toFixed(2)), cpuMsPerRequest: Number(floor.cpuMsPerRequest.toFixed(3)) },
  pages: results.map((result) => ({
    page: result.page,
    small: rowFigures(result.smallRow, smallCount, result.rows?.small),
    large: rowFigures(result.largeRow, largeCount, result.rows?.large),
    ratio: Number(result.ratio.toFixed(3)),
    cpuRatio: Number(result.cpuRatio.toFixed(3)),
    vsFloorRatio: Number(result.vsFloorRatio.toFixed(2)),
    target: { ratio: ratioTarget, vsFloorRatio: floorTarget },
    pass: result.pass,
  })),
  pass: results.every((result) => result.pass),
};
console.log(JSON.stringify(figures));
