// A second app instance for tests of several instances: a child `tsx server/main.ts` on the test
// app's store (same database) and the same Redis (none when not given).
import { spawn, type ChildProcess } from 'node:child_process';
import mongoose from 'mongoose';
import { freePort } from './ports.js';
import type { TestApp } from './app.js';

export interface SecondInstance {
  baseUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `logs`, when given, collects the instance's log lines (pino JSON) instead of passing them through. */
export async function startSecondInstance(first: TestApp, redisUrl: string | undefined, options: { logs?: string[] } = {}): Promise<SecondInstance> {
  const port = await freePort();
  const storeUri = new URL(first.databaseUri);
  storeUri.pathname = `/${mongoose.connection.db!.databaseName}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MONGODB_URI: storeUri.toString(), REDIS_URL: redisUrl, SEED_DEMO: 'false', LOG_LEVEL: 'warn', SESSION_SECRET: 'test-session-secret-that-is-long-enough', NODE_ENV: 'test' },
    stdio: ['ignore', options.logs ? 'pipe' : 'inherit', 'inherit'],
  });
  if (options.logs) {
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      options.logs!.push(...lines.filter(Boolean));
    });
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  // An instance that dies before the test stops it leaves its screens waiting for acks that never
  // come: say so where the failing test's output is.
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`second instance at ${baseUrl} exited on its own (code ${code}, signal ${signal})`);
  });
  const stop = async () => {
    stopping = true;
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`second instance exited with ${child.exitCode}`);
    const healthy = await fetch(`${baseUrl}/healthz`).then((response) => response.ok, () => false);
    if (healthy) return { baseUrl, child, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error('second instance did not start within 90 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
