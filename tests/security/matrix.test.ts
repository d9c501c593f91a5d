// The authorization matrix: every route the Express app registers (read from the app, so a new
// route without a row here fails) tried by every kind of asker, each from a browser of its own;
// a refused request answers 401/403/404 (or the sign-in page), never 5xx, and changes nothing
// stored. What an allowed request changed is put back before the next cell. The table below is
// also the README's ("Authorization matrix"), kept equal by the last test.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registeredCatalogues } from '../../server/lib/i18n.js';
import type { HttpClient } from '../helpers/http.js';
import { buildWorld, clientFor, differences, fillPath, paramsFor, registeredRoutes, restoreStore, watchWrites, roles, roleTitles, snapshotStore, tokenFor, type Role, type World } from './world.js';
import { bodyFor, outcomeOf, outcomeSymbol, send } from './requests.js';
import { expectedHttp } from './matrix-table.js';

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
    if (process.env.MATRIX_PRINT) console.log(Object.entries(observed).map(([route, row]) => `  '${route}': '${row}',`).join('\n'));
    expect(problems).toEqual([]);
    const wrong = Object.entries(observed)
      .filter(([route, row]) => expectedHttp[route] !== row)
      .map(([route, row]) => `${route}: expected ${expectedHttp[route]} got ${row}`);
    expect(wrong, `columns: ${roles.map((role) => roleTitles[role]).join(', ')}`).toEqual([]);
  }, 600_000);
});

describe('the README shows the same table', () => {
  it('README.md carries the matrix rendered from this test', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    void readme;
  });
});
