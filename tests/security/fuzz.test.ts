// Hostile input to every JSON route, every form, every query string and every socket event, from
// a seeded generator (FUZZ_SEED=<n> replays a run; the seed is in every failure): NoSQL operators,
// prototype keys, markup, CRLF, huge strings, deep nesting, wrong types, broken spreadsheets. No
// answer is 5xx, the server survives, Object.prototype stays clean, and a refused request
// changes nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { liveCommands } from '../../server/live/contract.js';
import { Screens, eventually, send as emit } from '../live/fixtures.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { buildWorld, clientFor, differences, fillPath, paramsFor, registeredRoutes, restoreStore, snapshotStore, tokenFor, watchWrites, type Snapshot, type World } from './world.js';
import { bodyFor } from './requests.js';

const seed = Number(process.env.FUZZ_SEED ?? 20261206);
/** Payloads per route or event: bounded, so the file runs in CI in well under a minute unloaded. */
const perRoute = Number(process.env.FUZZ_COUNT ?? 3);

/** mulberry32: a tiny seeded PRNG, so a failure replays exactly. */
function prng(start: number): () => number {
  let state = start >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function deep(levels: number): unknown {
  let value: unknown = 'bottom';
  for (let index = 0; index < levels; index++) value = { a: value };
  return value;
}

/** Values no field expects. */
const hostileValues: unknown[] = [
  { $gt: '' },
  { $ne: null },
  { $where: 'sleep(5000) || true' },
  { $regex: '.*' },
  { $expr: { $eq: [1, 1] } },
  ['$gt', ''],
  { __proto__: { polluted: 'yes' } },
  JSON.parse('{"__proto__": {"polluted": "yes"}}'),
  { constructor: { prototype: { polluted: 'yes' } } },
  `<script>alert('fuzz')</script><img src=x onerror=alert('fuzz')>`,
  'Tên\r\nBcc: victim@example.com\r\nX-Injected: yes',
  '\u0000\u0001\u202e\ud800',
  'x'.repeat(200_000),
  deep(200),
  [],
  [[[[[]]]]],
  null,
  true,
  -1,
  1e308,
  Number.MAX_SAFE_INTEGER,
  '000000000000000000000000',
  'ffffffffffffffffffffffff',
  '../../../../etc/passwd',
  '2026-02-30T25:61',
  { toString: 'not a function' },
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

/** A body made hostile: a field replaced, a prototype key added, or the whole shape wrong. */
function hostileBody(random: () => number, valid: Record<string, unknown> | unknown[] | undefined): unknown {
  const base: Record<string, unknown> = valid && !Array.isArray(valid) ? { ...valid } : {};
  const fields = Object.keys(base);
  switch (Math.floor(random() * 6)) {
    case 0:
    case 1: {
      const field = fields.length > 0 && random() < 0.8 ? pick(random, fields) : pick(random, ['meetingId', 'siteId', 'attendeeId', 'fullName', 'email', 'title', 'name', 'role', 'status']);
      base[field] = pick(random, hostileValues);
      return base;
    }
    case 2:
      return JSON.parse(`{${fields.map((field) => `${JSON.stringify(field)}: ${JSON.stringify(base[field])}, `).join('')}"__proto__": {"polluted": "yes", "isAdmin": true, "role": "admin"}, "constructor": {"prototype": {"polluted": "yes"}}}`);
    case 3:
      return pick(random, [[], 'text', 42, null, true, [base]]);
    case 4:
      return deep(1000 + Math.floor(random() * 1000));
    default:
      return Object.fromEntries([...fields, 'extra'].map((field) => [field, pick(random, hostileValues)]));
  }
}

/** A urlencoded form body with hostile names and values (qs brackets included). */
function hostileForm(random: () => number, valid: Record<string, unknown> | undefined): string {
  const fields = Object.keys(valid ?? {});
  const pairs: string[] = fields.map((field) => `${encodeURIComponent(field)}=${encodeURIComponent(String(valid![field]))}`);
  const field = fields.length > 0 ? pick(random, fields) : 'name';
  pairs.push(
    pick(random, [
      `${field}[$gt]=`,
      `${field}[$ne]=x`,
      `__proto__[polluted]=yes`,
      `constructor[prototype][polluted]=yes`,
      `${field}=${encodeURIComponent("<script>alert('fuzz')</script>")}`,
      `${field}=${encodeURIComponent('Tên\r\nBcc: victim@example.com')}`,
      `${field}=${'x'.repeat(300_000)}`,
      `${field}=${encodeURIComponent('\u0000')}`,
      `${field}[]=a&${field}[]=b`,
      `${'a['.repeat(40)}b${']'.repeat(40)}=1`,
    ]),
  );
  return pairs.join('&');
}

function hostileQuery(random: () => number): string {
  return pick(random, [
    'q[$gt]=&page[$ne]=1',
    '__proto__[polluted]=yes&constructor[prototype][polluted]=yes',
    `q=${encodeURIComponent("<script>alert('fuzz')</script>")}&sort=${encodeURIComponent('{"$where":"1"}')}`,
    `page=-1&limit=100000000&q=${'x'.repeat(20_000)}`,
    'status[]=present&status[]=absent&site[$in][]=x',
    'lang=en&lang=vi&next=//evil.example',
    'page=NaN&limit=1e309',
  ]);
}

let app: TestApp;
let world: World;
let routes: string[];
let organizer: HttpClient;

beforeAll(async () => {
  app = await startTestApp();
  world = await buildWorld(app);
  routes = registeredRoutes(app.express).sort();
  organizer = await clientFor(app, world, 'organizer');
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

/**
 * Sends each request and checks: below 500; a refused one changed nothing (the store is compared
 * whenever the app wrote at all), an accepted one is put back; Object.prototype is untouched.
 */
async function guarded(label: string, run: () => Promise<{ status: number; text: string }>, state: { baseline: Snapshot; problems: string[]; writes: { take(): string[] } }): Promise<void> {
  const response = await run();
  if (response.status >= 500) state.problems.push(`${label}: ${response.status} ${response.text.slice(0, 200)}`);
  if (({} as Record<string, unknown>).polluted !== undefined || ({} as Record<string, unknown>).isAdmin !== undefined) state.problems.push(`${label}: Object.prototype polluted`);
  if (state.writes.take().length === 0) return;
  const after = await snapshotStore();
  const changed = differences(state.baseline, after);
  if (changed.length === 0) return;
  if (response.status >= 400) state.problems.push(`${label}: refused with ${response.status} but changed ${changed.join('; ')}`);
  await restoreStore(state.baseline, after);
}

describe(`hostile input (seed ${seed}, ${perRoute} per route)`, () => {
  it('every JSON route and every query string: no 5xx, no pollution, a refusal changes nothing', async () => {
    const random = prng(seed);
    const state = { baseline: await snapshotStore(), problems: [] as string[], writes: watchWrites() };
    for (const route of routes.filter((route) => route.includes(' /api/'))) {
      const method = route.slice(0, route.indexOf(' '));
      const pattern = route.slice(route.indexOf(' ') + 1);
      const path = fillPath(pattern, paramsFor(world, 'organizer', route), tokenFor(world, pattern));
      for (let index = 0; index < perRoute; index++) {
        const query = hostileQuery(random);
        if (method === 'GET') {
          await guarded(`${route}?${query}`, () => organizer.getJson(`${path}?${query}`), state);
          continue;
        }
        const body = hostileBody(random, bodyFor(world, route) as Record<string, unknown> | undefined);
        await guarded(`${route} ${JSON.stringify(body)?.slice(0, 120)}`, () => organizer.json(method, `${path}?${query}`, body), state);
      }
    }
    // Ids that are not ids, in every id parameter.
    for (const route of routes.filter((route) => route.includes(':'))) {
      const method = route.slice(0, route.indexOf(' '));
      const pattern = route.slice(route.indexOf(' ') + 1);
      const params = Object.fromEntries(Object.entries(paramsFor(world, 'organizer', route)).map(([name, value]) => [name, pick(random, [`${value}x`, '%24gt', '..%2F..', 'a'.repeat(5000), value.toUpperCase(), ' '])]));
      const path = fillPath(pattern, params, pick(random, ['%00', 'x'.repeat(3000), '..']));
      await guarded(`${route} with bad ids`, () => (method === 'GET' ? organizer.get(path) : organizer.request(method, path, { body: '{}', headers: { 'content-type': 'application/json', accept: 'application/json' } })), state);
    }
    expect(state.problems, `FUZZ_SEED=${seed}`).toEqual([]);
    expect(differences(state.baseline, await snapshotStore())).toEqual([]);
  }, 600_000);

  it('every form, as the organizer and anonymously: no 5xx, no pollution, a refusal changes nothing', async () => {
    const random = prng(seed + 1);
    const state = { baseline: await snapshotStore(), problems: [] as string[], writes: watchWrites() };
    const anonymous = app.newClient();
    for (const route of routes.filter((route) => route.startsWith('POST ') && !route.includes(' /api/') && route !== 'POST /logout')) {
      const pattern = route.slice(route.indexOf(' ') + 1);
      const path = fillPath(pattern, paramsFor(world, 'organizer', route), tokenFor(world, pattern));
      for (let index = 0; index < perRoute; index++) {
        const valid = bodyFor(world, route) as Record<string, unknown> | undefined;
        const asker = index === 0 ? anonymous : organizer;
        const form = hostileForm(random, valid);
        const csrf = await asker.csrfToken().catch(() => '');
        await guarded(`${route} form ${form.slice(0, 120)}`, () => asker.request('POST', path, { body: `_csrf=${encodeURIComponent(csrf)}&${form}`, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' } }), state);
      }
    }
    expect(state.problems, `FUZZ_SEED=${seed}`).toEqual([]);
  }, 600_000);

  it('spreadsheet uploads that are not spreadsheets: random bytes, cut-off zips, wrong types, empty', async () => {
    const random = prng(seed + 2);
    const state = { baseline: await snapshotStore(), problems: [] as string[], writes: watchWrites() };
    const path = `/api/v1/meetings/${world.meetingId}/attendees/import`;
    const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    const randomBytes = (size: number) => Uint8Array.from({ length: size }, () => Math.floor(random() * 256));
    const zipHeader = Uint8Array.from([0x50, 0x4b, 0x03, 0x04]);
    const files = [
      { name: 'a.xlsx', type: xlsxType, content: randomBytes(4096) },
      { name: 'a.xlsx', type: xlsxType, content: new Uint8Array([...zipHeader, ...randomBytes(2000)]) },
      { name: 'a.xlsx', type: xlsxType, content: new Uint8Array() },
      { name: 'a.csv', type: 'text/csv', content: `Họ và tên\n${"<script>alert('fuzz')</script>\n".repeat(3)}=HYPERLINK("http://evil")\n` },
      { name: '../../etc/passwd', type: 'text/csv', content: 'Họ và tên\nA\n' },
      { name: 'a.csv', type: 'text/csv', content: randomBytes(10_000) },
      { name: 'a.exe', type: 'application/octet-stream', content: randomBytes(100) },
    ];
    for (const file of files) {
      await guarded(`import ${file.name} ${file.type} ${file.content.length} bytes`, () => organizer.upload(path, 'file', file), state);
    }
    expect(state.problems, `FUZZ_SEED=${seed}`).toEqual([]);
  }, 120_000);

  it('every socket event, as a site coordinator and as the organizer: an answer for each, never "internal", and the connection stays', async () => {
    const random = prng(seed + 3);
    const state = { baseline: await snapshotStore(), problems: [] as string[], writes: watchWrites() };
    const screens = new Screens(app.baseUrl);
    const sockets: Array<[string, Socket]> = [
      ['coordinator', await screens.join(world.meetingId, { token: world.siteA.token })],
      ['organizer', await screens.join(world.meetingId, {}, { cookie: organizer.cookieHeader() })],
    ];
    // The coordinator's screen marks site A connected just after joining: not the fuzz's doing.
    const connected = (meeting: { live?: { sites?: Record<string, { connected?: boolean }> } } | null) => meeting?.live?.sites?.[world.siteA.id]?.connected === true;
    expect(connected(await eventually(() => MeetingModel.findById(world.meetingId).lean(), connected))).toBe(true);
    state.writes.take();
    state.baseline = await snapshotStore();
    try {
      for (const name of Object.keys(liveCommands)) {
        for (const [who, socket] of sockets) {
          for (let index = 0; index < perRoute; index++) {
            const payload = index === 0 ? pick(random, [undefined, 'text', 42, null, [], deep(500)]) : hostileBody(random, { meetingId: world.meetingId, siteId: world.siteB.id, attendeeId: world.other.id, opId: `fuzz-${index}-${Math.floor(random() * 1e9)}` });
            await guarded(
              `${name} as ${who} ${JSON.stringify(payload)?.slice(0, 120)}`,
              async () => {
                // The bucket refills at 20 a second: a refusal for rate is an answer too.
                const ack = await emit(socket, name, payload);
                if (!socket.connected) state.problems.push(`${name} as ${who}: the server dropped the connection`);
                const code = ack?.ok ? 200 : ack?.error?.code === 'internal' ? 500 : 400;
                return { status: code, text: JSON.stringify(ack).slice(0, 200) };
              },
              state,
            );
          }
        }
      }
    } finally {
      screens.closeAll();
    }
    expect(state.problems, `FUZZ_SEED=${seed}`).toEqual([]);
  }, 300_000);

  it('the server still answers everyone afterwards', async () => {
    expect((await app.newClient().get('/healthz')).json).toEqual({ ok: true });
    expect((await organizer.getJson(`/api/v1/meetings/${world.meetingId}`)).status).toBe(200);
  });
});
