// The authorization matrix: every route the Express app registers (read from the app, so a new
// route without a row here fails) tried by every kind of asker, each from a browser of its own;
// a refused request answers 401/403/404 (or the sign-in page), never 5xx, and changes nothing
// stored. What an allowed request changed is put back before the next cell. The table below is
// also the README's ("Authorization matrix"), kept equal by the last test.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registeredCatalogues } from '../../server/lib/i18n.js';
import { buildWorld, clientFor, differences, fillPath, paramsFor, registeredRoutes, restoreStore, secretsHiddenFrom, watchWrites, roles, roleTitles, snapshotStore, tokenFor, type Role, type World } from './world.js';
import { bodyFor, outcomeOf, outcomeSymbol, send } from './requests.js';
import { expectedHttp, expectedSocket, renderMatrix } from './matrix-table.js';
import type { Socket } from 'socket.io-client';
import { HttpClient } from '../helpers/http.js';
import { liveCommands } from '../../server/live/contract.js';
import { currentCode } from '../../server/attendance/codes.js';
import { Screens, eventually, send as emit } from '../live/fixtures.js';
import { MeetingModel } from '../../server/meetings/model.js';

/** Rows whose request replaces the browser's session (sign-in, sign-out, opening a link). */
const replacesSession = /^(POST \/logout|POST \/login|POST \/setup|(GET|POST) \/(a|s|invite)\/:token)$/;

/** A browser form (not the API, not a link or the sign-out) that answered with a redirect. */
function redirectsAfterForm(route: string, response: { status: number; location?: string }): boolean {
  return response.status >= 300 && response.status < 400 && !route.startsWith('GET ') && !route.includes(' /api/') && !replacesSession.test(route) && response.location !== undefined;
}

/** Every "not allowed", "sign in" and "not found" text, in both languages. */
const permissionMessages = new Set(
  registeredCatalogues().flatMap((catalogue) => Object.values(catalogue).flatMap((messages) => Object.entries(messages).filter(([key]) => /forbidden|unauthorized|notFound/i.test(key)).map(([, text]) => text))),
);

function decodeEntities(text: string): string {
  return text.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x3D;/g, '=').replace(/&#x60;/g, '`');
}

let app: TestApp;
let world: World;
let routes: string[];

beforeAll(async () => {
  app = await startTestApp();
  world = await buildWorld(app);
  routes = registeredRoutes(app.express);
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

describe('authorization matrix (HTTP)', () => {
  it('every registered route has a row, and every row a registered route', () => {
    expect(routes.length).toBeGreaterThan(150);
    expect(routes.filter((route) => !(route in expectedHttp)), 'routes missing from the matrix').toEqual([]);
    expect(Object.keys(expectedHttp).filter((route) => !routes.includes(route)), 'rows for routes that do not exist').toEqual([]);
  });

  it('every asker gets exactly the allowed cells; a refusal is 401/403/404, never 5xx, and changes nothing stored', async () => {
    const clients = new Map<Role, HttpClient>();
    const observed: Record<string, string> = {};
    const problems: string[] = [];
    let baseline = await snapshotStore();

    const writes = watchWrites();

    for (const route of [...routes].sort()) {
      const pattern = route.slice(route.indexOf(' ') + 1);
      const fresh = replacesSession.test(route);
      const rowClients = new Map<Role, HttpClient>();
      for (const role of roles) {
        let client = fresh ? undefined : clients.get(role);
        if (!client) {
          client = await clientFor(app, world, role);
          if (!fresh) clients.set(role, client);
        }
        rowClients.set(role, client);
      }
      // Signing in stamps the account: that is not the row's doing.
      if (writes.take().length > 0) baseline = await snapshotStore();
      let row = '';
      for (const role of roles) {
        const path = fillPath(pattern, paramsFor(world, role, route), tokenFor(world, pattern));
        const client = rowClients.get(role)!;
        const response = await send(client, route, path, bodyFor(world, route));
        let outcome = outcomeOf(route, response);
        if (response.status >= 500) problems.push(`${route} as ${role}: ${response.status} ${response.text.slice(0, 200)}`);
        if (!pattern.includes(':token')) {
          for (const secret of secretsHiddenFrom(world, role)) if (response.text.includes(secret) || response.location?.includes(secret)) problems.push(`${route} as ${role} shows a secret link that is not theirs`);
        }
        const changed = writes.take().length === 0 ? [] : differences(baseline, await snapshotStore());
        // A form answers with a redirect either way: refused, it shows the error on the next page.
        if (outcome === 'allow' && redirectsAfterForm(route, response)) {
          const next = await client.get(response.location!);
          const flashError = /class="flash flash-error"[^>]*>([^<]*)</.exec(next.text)?.[1];
          if (flashError !== undefined) outcome = permissionMessages.has(decodeEntities(flashError)) ? 'deny' : 'refused';
          else if (changed.length === 0 && !next.text.includes('class="flash"')) outcome = 'deny';
        }
        row += outcomeSymbol[outcome];
        if (changed.length === 0) continue;
        if (outcome !== 'allow') problems.push(`${route} as ${role} was refused (${response.status}) but changed ${changed.join('; ')}`);
        await restoreStore(baseline, await snapshotStore());
      }
      observed[route] = row;
    }
    // Nothing changed behind the write hook's back.
    expect(differences(baseline, await snapshotStore())).toEqual([]);
    if (process.env.MATRIX_PRINT) console.log('\n' + Object.entries(observed).map(([route, row]) => `  '${route}': '${row}',`).join('\n'));
    expect(problems).toEqual([]);
    const wrong = Object.entries(observed)
      .filter(([route, row]) => expectedHttp[route] !== row)
      .map(([route, row]) => `${route}: expected ${expectedHttp[route]} got ${row}`);
    expect(wrong, `columns: ${roles.map((role) => roleTitles[role]).join(', ')}`).toEqual([]);
  }, 600_000);
});

describe('authorization matrix (socket events)', () => {
  it('every live command has a row, and every row a command', () => {
    expect(Object.keys(liveCommands).filter((name) => !(name in expectedSocket)), 'events missing from the matrix').toEqual([]);
    expect(Object.keys(expectedSocket).filter((name) => !(name in liveCommands)), 'rows for events that do not exist').toEqual([]);
  });

  it('every asker gets exactly the allowed events on a live meeting; a refusal is unauthorized/forbidden/not_found and changes nothing stored', async () => {
    // The day is under way, with a request to speak from site B in the queue.
    const organizer = await clientFor(app, world, 'organizer');
    expect((await organizer.json('POST', `/api/v1/meetings/${world.meetingId}/live/commands/meeting:start`, {})).status).toBe(200);
    const asked = await HttpClient.withBearer(app.baseUrl, world.siteB.token).json('POST', `/api/v1/meetings/${world.meetingId}/live/commands/speakers:request`, { opId: 'matrix-request-b', topic: 'Kiến nghị của huyện' });
    const requestId = asked.json.request.id as string;
    const screens = new Screens(app.baseUrl);
    const writes = watchWrites();
    let baseline = await snapshotStore();
    const problems: string[] = [];
    const observed: Record<string, string> = {};
    let serial = 0;
    const sockets = new Map<Role, Socket>();
    const socketFor = async (role: Role): Promise<Socket> => {
      const open = sockets.get(role);
      if (open?.connected) return open;
      const auth: Record<string, string> = {};
      const headers: Record<string, string> = {};
      if (role === 'attendee' || role === 'attendeeOnOther') auth.token = world.self.token;
      else if (role === 'coordinatorOnB') auth.token = world.siteA.token;
      else if (role === 'chair') auth.token = world.day.chairToken;
      else if (role !== 'anonymous') headers.cookie = (await clientFor(app, world, role)).cookieHeader();
      const socket = screens.open(auth, headers);
      await new Promise<void>((resolve) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', () => resolve());
      });
      sockets.set(role, socket);
      return socket;
    };
    try {
      for (const role of roles) await socketFor(role);
      for (const name of Object.keys(liveCommands).sort()) {
        if (writes.take().length > 0) baseline = await snapshotStore();
        let row = '';
        for (const role of roles) {
          const reopened = !sockets.get(role)?.connected;
          const socket = await socketFor(role);
          if (reopened && writes.take().length > 0) baseline = await snapshotStore();
          const params = paramsFor(world, role);
          // A self check-in carries the code on the wall of the asker's own site.
          const ownSite = role === 'attendee' || role === 'attendeeOnOther' ? world.siteA : role === 'chair' ? world.day.sites[0] : world.siteB;
          const input = socketInput(name, params, requestId, `matrix-${name.replace(':', '-')}-${serial++}`, ownSite);
          const ack = socket.connected ? await emit(socket, name, input) : { ok: false, error: { code: 'unauthorized' } };
          const code: string | undefined = ack?.ok ? undefined : ack?.error?.code;
          const outcome = code === undefined ? 'allow' : ['unauthorized', 'forbidden', 'not_found'].includes(code) ? 'deny' : 'refused';
          row += outcomeSymbol[outcome];
          // A coordinator's screen joining marks its site connected, just after the answer: wait
          // for that write so it is counted in this cell.
          if (name === 'meeting:join' && role === 'coordinatorOnB' && outcome === 'allow') await siteConnected(world.meetingId, world.siteA.id);
          if (code === 'internal' || code === 'too_many_requests') problems.push(`${name} as ${role}: ${JSON.stringify(ack).slice(0, 200)}`);
          for (const secret of secretsHiddenFrom(world, role)) if (JSON.stringify(ack ?? {}).includes(secret)) problems.push(`${name} as ${role} acknowledges with a secret link that is not theirs`);
          if (writes.take().length === 0) continue;
          const after = await snapshotStore();
          const changed = differences(baseline, after);
          if (changed.length === 0) continue;
          if (outcome !== 'allow') problems.push(`${name} as ${role} was refused (${code}) but changed ${changed.join('; ')}`);
          await restoreStore(baseline, after);
        }
        observed[name] = row;
      }
    } finally {
      screens.closeAll();
    }
    if (process.env.MATRIX_PRINT) console.log('\n' + Object.entries(observed).map(([name, row]) => `  '${name}': '${row}',`).join('\n'));
    expect(problems).toEqual([]);
    const wrong = Object.entries(observed)
      .filter(([name, row]) => expectedSocket[name] !== row)
      .map(([name, row]) => `${name}: expected ${expectedSocket[name]} got ${row}`);
    expect(wrong, `columns: ${roles.map((role) => roleTitles[role]).join(', ')}`).toEqual([]);
  }, 300_000);
});

async function siteConnected(meetingId: string, siteId: string): Promise<void> {
  const connected = (meeting: { live?: { sites?: Record<string, { connected?: boolean }> } } | null) => meeting?.live?.sites?.[siteId]?.connected === true;
  expect(connected(await eventually(() => MeetingModel.findById(meetingId).lean(), connected))).toBe(true);
}

/** A valid input for each live command, naming site B and someone else (or the attendee's own). */
function socketInput(name: string, params: Record<string, string>, requestId: string, opId: string, site: { id: string; token: string }): Record<string, unknown> {
  const meetingId = params.meetingId;
  const inputs: Record<string, Record<string, unknown>> = {
    'meeting:setQuorum': { quorumPercent: 60 },
    'attendance:checkIn': { attendeeId: params.attendeeId, opId },
    'attendance:selfCheckIn': { opId, code: currentCode(site.token, site.id).code },
    'attendance:markAbsent': { attendeeId: params.attendeeId, opId, reason: 'sick' },
    'attendance:leftEarly': { attendeeId: params.attendeeId, opId },
    'attendance:addWalkIn': { siteId: params.siteId, opId, fullName: 'Khách mời tự do' },
    'attendance:undo': { attendeeId: params.attendeeId, opId },
    'site:setLink': { siteId: params.siteId, status: 'audioProblem' },
    'site:checkInCode': { siteId: params.siteId },
    'agenda:start': { itemId: params.itemId },
    'agenda:extend': { minutes: 5, opId },
    'speakers:request': { opId, topic: 'Ý kiến về kế hoạch năm 2027', siteId: params.siteId },
    'speakers:withdraw': { requestId },
    'speakers:reorder': { orderedIds: [requestId] },
    'speakers:grant': { requestId },
  };
  return { meetingId, ...(inputs[name] ?? {}) };
}

describe('the README shows the same tables', () => {
  it('README.md carries the matrix rendered from this test', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(renderMatrix());
  });
});
