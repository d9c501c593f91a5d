// Shared fixtures for the embedded store's tests: an in-memory or on-disk store per test file,
// a driver client on it, temporary directories, free ports, and the CLI as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient, type MongoClientOptions, type MongoServerError } from 'mongodb';
import { startEmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { freePort } from '../helpers/ports.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunningStore {
  uri: string;
  port: number;
  stop(): Promise<void>;
}

/** Start a store in memory (default) or on `dbPath`. */
export async function startStore(opts: { dbPath?: string } = {}): Promise<RunningStore> {
  const s = await startEmbeddedMongo(opts.dbPath ? { dbPath: opts.dbPath } : { inMemory: true }, {});
  return s as RunningStore;
}

export async function connect(uri: string, options: MongoClientOptions = {}): Promise<MongoClient> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000, ...options });
  await client.connect();
  return client;
}

export function tempDir(prefix = 'embedded-mongo-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliProcess {
  child: ChildProcess;
  port: number;
  uri: string;
  output(): string;
  /** Resolves with the exit code/signal once the process has gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Run `server/embedded-mongo/cli.ts` under tsx and wait until it answers a ping. */
export async function startCli(dbPath: string, port?: number, options: { args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<CliProcess> {
  const p = port ?? (await freePort());
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'server/embedded-mongo/cli.ts'), '--port', String(p), '--dbpath', dbPath, ...(options.args ?? [])],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const uri = `mongodb://127.0.0.1:${p}/?directConnection=true`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gone) throw new Error(`embedded-mongo CLI exited before it was ready:\n${out}`);
    try {
      const c = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
      await c.connect();
      await c.db('admin').command({ ping: 1 });
      await c.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`embedded-mongo CLI did not answer within 30s:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  return { child, port: p, uri, output: () => out, exited };
}

/**
 * Close a driver client whose server was killed under it, without waiting forever: with the
 * server gone mid-operation, the driver's close can wait without end to end a session that is
 * still checked out (seen with maxPoolSize 1 or 2 and an in-flight write). What these tests check
 * is the restarted store, not the dead client's goodbye, so the wait is bounded.
 */
export async function closeAfterKill(client: MongoClient, waitMs = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.close().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
  ]);
  clearTimeout(timer);
}

/** The server error an operation fails with, as the driver hands it over (the test fails if it succeeds). */
export async function failure(promise: Promise<unknown>): Promise<MongoServerError> {
  try {
    await promise;
  } catch (err) {
    return err as MongoServerError;
  }
  throw new Error('expected the operation to fail');
}
