// Slow district links: bundles under content-hashed names cached for a year and sent
// precompressed; pages and JSON compressed on the fly and never cached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { startTestApp, type TestApp } from './helpers/app.js';
import { assetsDir, assetUrl } from '../server/assets.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request that leaves the body as sent (fetch would decompress it). */
function rawGet(url: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.stop();
});

describe('static bundles', () => {
  it('are named by their content, cached for a year and sent brotli-compressed to a browser that accepts it', async () => {
    const url = assetUrl('attendees-table.js');
    expect(url).toMatch(/^\/assets\/attendees-table-[A-Z0-9]{8}\.js$/);
    const original = readFileSync(path.join(assetsDir, url.slice('/assets/'.length)));

    const br = await rawGet(`${app.baseUrl}${url}`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toContain('javascript');
    expect(br.headers.vary).toContain('Accept-Encoding');
    expect(brotliDecompressSync(br.body).equals(original)).toBe(true);
    expect(br.body.length).toBeLessThan(original.length / 2);

    const gz = await rawGet(`${app.baseUrl}${url}`, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(original)).toBe(true);

    const plain = await rawGet(`${app.baseUrl}${url}`, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.body.equals(original)).toBe(true);
  });

  it('the stylesheet too, and a name the build does not have is a 404', async () => {
    const css = await rawGet(`${app.baseUrl}${assetUrl('styles.css')}`, { 'accept-encoding': 'br' });
    expect(css.headers['content-type']).toContain('text/css');
    expect(css.headers['content-encoding']).toBe('br');
    const missing = await rawGet(`${app.baseUrl}/assets/attendees-table-AAAAAAAA.js`, { 'accept-encoding': 'br' });
    expect(missing.status).toBe(404);
    expect(missing.headers['cache-control']).not.toContain('immutable');
  });
});

describe('pages and API answers', () => {
  it('go out compressed and are never cached, and pages reference the hashed bundles', async () => {
    const page = await rawGet(`${app.baseUrl}/login`, { 'accept-encoding': 'br, gzip', accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.headers['content-encoding']).toBe('br');
    expect(page.headers['cache-control']).toBe('no-store');
    const html = brotliDecompressSync(page.body).toString('utf8');
    expect(html).toContain(`href="${assetUrl('styles.css')}"`);

    const api = await rawGet(`${app.baseUrl}/api/v1/provinces`, { 'accept-encoding': 'gzip', accept: 'application/json' });
    expect(api.headers['content-encoding']).toBe('gzip');
    expect(api.headers['cache-control']).toBe('no-store');
    expect(Array.isArray(JSON.parse(gunzipSync(api.body).toString('utf8')))).toBe(true);
  });
});
