// Embedded MongoDB-wire-compatible store: start it, point mongoose (or any driver) at `uri`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { startInThisThread, type DurabilityOptions, type EmbeddedMongo, type EmbeddedMongoStorage } from './embedded.js';
import { memoryBudgetFromEnv } from './memory.js';
import type { WorkerReport } from './worker.js';

export type { EmbeddedMongo, EmbeddedMongoStorage };

export interface EmbeddedMongoOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /**
   * 'worker' (default) runs the store in a worker thread so its work does not queue behind the
   * app's (or benchmark's) own JavaScript; 'main' runs it on the caller's event loop.
   */
  thread?: 'worker' | 'main';
  /**
   * Periodic fdatasync of the journal every N ms, like mongod's commitIntervalMs (default: none;
   * writes are on disk when a writer asks for j:true or w:"majority", or when the journal is
   * applied to SQLite within about 100 ms). Defaults to EMBEDDED_MONGO_FSYNC when that is a number.
   */
  journalCommitMs?: number;
  /**
   * Every acknowledged write waits for an fdatasync (group commit), as if each asked for j:true.
   * Defaults to true when EMBEDDED_MONGO_FSYNC=always.
   */
  syncEveryWrite?: boolean;
  /**
   * Memory budget of the working set (documents and indexes) in MiB; writes past it are refused
   * with ExceededMemoryLimit (146). Default: EMBEDDED_MONGO_MEMORY_MB, else 60% of the store
   * thread's heap limit. A worker thread gets a heap large enough for the budget.
   */
  memoryBudgetMb?: number;
}

/** EMBEDDED_MONGO_FSYNC: "always" (every write waits for the disk), a number of ms (periodic), or "off". */
export function durabilityFromEnvironment(value = process.env.EMBEDDED_MONGO_FSYNC): DurabilityOptions {
  const v = value?.trim().toLowerCase();
  if (!v || v === 'off' || v === '0') return {};
  if (v === 'always') return { syncEveryWrite: true };
  const ms = Number(v);
  if (Number.isInteger(ms) && ms > 0 && ms <= 500) return { journalCommitMs: ms };
  throw new Error(`EMBEDDED_MONGO_FSYNC must be "always", "off" or a number of milliseconds from 1 to 500 (like mongod's commitIntervalMs), not "${value}"`);
}

function durabilityOptions(options: EmbeddedMongoOptions): DurabilityOptions {
  const fromEnv = durabilityFromEnvironment();
  const journalCommitMs = options.journalCommitMs ?? fromEnv.journalCommitMs;
  if (journalCommitMs !== undefined && !(Number.isInteger(journalCommitMs) && journalCommitMs >= 0 && journalCommitMs <= 500)) {
    throw new Error(`journalCommitMs must be an integer from 0 to 500, not ${journalCommitMs}`);
  }
  return { journalCommitMs: journalCommitMs || undefined, syncEveryWrite: options.syncEveryWrite ?? fromEnv.syncEveryWrite };
}

export async function startEmbeddedMongo(storage: EmbeddedMongoStorage, options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const port = options.port ?? 0;
  const plain: EmbeddedMongoStorage = 'dbPath' in storage ? { dbPath: storage.dbPath } : { inMemory: true };
  const durability = durabilityOptions(options);
  const memoryBudgetMb = options.memoryBudgetMb ?? memoryBudgetFromEnv();
  if (memoryBudgetMb !== undefined) durability.memoryBudgetMb = memoryBudgetMb;
  if (options.thread === 'main') return startInThisThread(plain, port, durability);
  return startInWorker(plain, port, durability);
}

/** URL of tsx's ESM register API (its `import` export, which require.resolve cannot pick). */
function tsxEsmApiUrl(): string {
  const manifestPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(path.join(path.dirname(manifestPath), manifest.exports['./esm/api'].import.default)).href;
}

/**
 * A worker's heap: the default (the process's limit), raised when the budget asks for more so
 * that the budget stays within 60% of the heap (index entries live on it).
 */
function workerLimits(budgetMb: number | undefined): ResourceLimits | undefined {
  if (budgetMb === undefined) return undefined;
  const heapMb = v8.getHeapStatistics().heap_size_limit / 1048576;
  const needed = Math.ceil(budgetMb / 0.6);
  return needed > heapMb ? { maxOldGenerationSizeMb: needed } : undefined;
}

function startInWorker(storage: EmbeddedMongoStorage, port: number, durability: DurabilityOptions): Promise<EmbeddedMongo> {
  const resourceLimits = workerLimits(durability.memoryBudgetMb);
  const runningFromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(runningFromSource ? './worker.ts' : './worker.js', import.meta.url);
  let worker: Worker;
  if (runningFromSource) {
    // From TypeScript sources the worker registers tsx's loader itself (Node 20 workers ignore
    // --import in execArgv), whoever started this process: tsx, vitest or node.
    const tsxApi = tsxEsmApiUrl();
    const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
    worker = new Worker(bootstrap, { eval: true, workerData: { storage, port, durability }, resourceLimits });
  } else {
    worker = new Worker(entry, { workerData: { storage, port, durability }, resourceLimits });
  }
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`embedded-mongo worker exited with code ${code} before starting`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (report: WorkerReport) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (report.type !== 'ready') {
        void worker.terminate();
        reject(Object.assign(new Error(report.type === 'error' ? report.message : 'embedded-mongo worker failed'), report.type === 'error' ? { code: report.code } : {}));
        return;
      }
      // A store that died must not look alive: fail as loudly as it would on the main thread.
      worker.on('error', (err) => {
        throw err;
      });
      let exited = false;
      worker.once('exit', () => (exited = true));
      let stopped: Promise<void> | undefined;
      resolve({
        uri: `mongodb://127.0.0.1:${report.port}/`,
        port: report.port,
        stop() {
          stopped ??= new Promise<void>((done) => {
            if (exited) return done();
            // Storage is closed (journal applied) inside the worker before it is terminated.
            worker.once('message', () => void worker.terminate().then(() => done()));
            worker.once('exit', () => done());
            worker.postMessage({ type: 'stop' });
          });
          return stopped;
        },
      });
    });
  });
}
