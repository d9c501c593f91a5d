// The browser bundles built by client/build.ts: content-hashed names looked up in its manifest,
// served at /assets/ with a year-long immutable cache and their precompressed .br/.gz copies, so a
// district phone on a slow link downloads each bundle once, compressed, and never asks again.
import express, { type RequestHandler } from 'express';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const assetsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'public', 'build');
const manifestFile = path.join(assetsDir, 'manifest.json');

export const immutableCache = 'public, max-age=31536000, immutable';

let cached: { mtimeMs: number; checkedAt: number; entries: Record<string, string>; inline: Map<string, string>; hashes: Map<string, string> } | undefined;

/**
 * How often the manifest file is looked at again: every page asks for several bundle URLs and
 * its CSP hashes, and a stat of the file for each was a system call per lookup.
 */
const manifestCheckMs = 1_000;

/** The manifest, read again when a rebuild (npm run build:client, --watch) replaced it (seen within a second). */
function manifest(): NonNullable<typeof cached> {
  const now = Date.now();
  if (cached && now - cached.checkedAt < manifestCheckMs) return cached;
  let mtimeMs = -1;
  try {
    mtimeMs = statSync(manifestFile).mtimeMs;
  } catch {
    // Not built yet: every lookup fails with the message below.
  }
  if (!cached || cached.mtimeMs !== mtimeMs) {
    const entries = mtimeMs < 0 ? {} : (JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, string>);
    cached = { mtimeMs, checkedAt: now, entries, inline: new Map(), hashes: new Map() };
  }
  cached.checkedAt = now;
  return cached;
}

function hashedName(entry: string): string {
  const file = manifest().entries[entry];
  if (!file) throw new Error(`client bundle "${entry}" is not built (run npm run build:client)`);
  return file;
}

/** URL of a built entry, e.g. assetUrl("coordinator.js") -> "/assets/coordinator-5TQ2WZ3K.js". */
export function assetUrl(entry: string): string {
  return `/assets/${hashedName(entry)}`;
}

/** Where a built entry is on disk (for the one bundle served under a fixed name: a service worker). */
export function assetPath(entry: string): string {
  return path.join(assetsDir, hashedName(entry));
}

/**
 * A built stylesheet's text, for pages that must paint on the first round trip: on a 2-second
 * link, a separate stylesheet request costs a whole extra round trip before anything shows.
 */
export function inlineAsset(entry: string): string {
  const state = manifest();
  let text = state.inline.get(entry);
  if (text === undefined) {
    // The source map comment would make the browser fetch the map for an inline style.
    text = readFileSync(path.join(assetsDir, hashedName(entry)), 'utf8').replace(/\/\*# sourceMappingURL=.*?\*\/\s*$/, '');
    state.inline.set(entry, text);
  }
  return text;
}

/**
 * A built page script's text, inlined in the pages a district opens on a slow link (the site's
 * check-in page, the attendee's page): a separate bundle request is one more 2-second round trip
 * before the page can act and open its live connection. The page's CSP allows exactly these
 * texts by their hash (`inlineScriptHashes`).
 */
export function inlineScript(entry: string): string {
  const state = manifest();
  const key = `script:${entry}`;
  let text = state.inline.get(key);
  if (text === undefined) {
    text = readFileSync(path.join(assetsDir, hashedName(`${entry}.js`)), 'utf8').replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n');
    if (/<\/script/i.test(text)) throw new Error(`${entry}.js cannot be inlined: it contains "</script"`);
    state.inline.set(key, text);
  }
  return text;
}

/** The pages whose script is inlined. */
export const inlinedScripts = ['live-checkin', 'live-attendee'] as const;

/** CSP sources for the inlined scripts ('sha256-...'), so no other inline script can run. */
export function inlineScriptHashes(): string {
  const state = manifest();
  let sources = state.inline.get('script-hashes');
  if (sources === undefined) {
    try {
      sources = inlinedScripts.map((entry) => `'sha256-${createHash('sha256').update(inlineScript(entry)).digest('base64')}'`).join(' ');
    } catch {
      // Not built (yet): no inline script may run, and pages without scripts still work.
      return "'self'";
    }
    state.inline.set('script-hashes', sources);
  }
  return sources;
}

/**
 * The Content-Security-Policy source that allows exactly this inline stylesheet ('sha256-...'),
 * so pages can inline it without allowing 'unsafe-inline' styles.
 */
export function inlineAssetHash(entry: string): string {
  const state = manifest();
  let hash = state.hashes.get(entry);
  if (hash === undefined) {
    hash = `'sha256-${createHash('sha256').update(inlineAsset(entry), 'utf8').digest('base64')}'`;
    state.hashes.set(entry, hash);
  }
  return hash;
}

const hashedFile = /^\/[\w.-]+-[A-Z0-9]{8}\.(js|css|map)$/;
const contentTypes: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', map: 'application/json; charset=utf-8' };

/** Serves /assets/*: hashed files forever (their name changes with their content), precompressed. */
export function assetsMiddleware(): RequestHandler {
  const files = express.static(assetsDir, { index: false, fallthrough: true, immutable: true, maxAge: '365d' });
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const match = hashedFile.exec(req.path);
    if (!match || match[1] === 'map') return files(req, res, next);
    // Brotli whenever accepted (browsers list it last but it is the smaller), else gzip.
    const accepted = req.acceptsEncodings('br') === 'br' ? 'br' : req.acceptsEncodings('gzip') === 'gzip' ? 'gzip' : undefined;
    const suffix = accepted === 'br' ? '.br' : accepted === 'gzip' ? '.gz' : '';
    res.setHeader('Vary', 'Accept-Encoding');
    if (!suffix) return files(req, res, next);
    res.sendFile(`${req.path.slice(1)}${suffix}`, {
      root: assetsDir,
      immutable: true,
      maxAge: '365d',
      headers: { 'Content-Type': contentTypes[match[1] ?? 'js'], 'Content-Encoding': accepted ?? 'identity' },
    }, (error?: Error) => {
      // A hashed name the build does not have (an old page after a deploy): a plain 404.
      if (error) next((error as { status?: number }).status === 404 ? undefined : error);
    });
  };
}
