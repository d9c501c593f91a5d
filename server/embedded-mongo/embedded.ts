// Runs the store in the current thread: storage, TCP server, TTL sweeper and cursor reaper.
import { ServerParameters } from './parameters.js';
import { WireServer } from './server.js';
import { Store, type StoreOptions } from './store.js';

export type EmbeddedMongoStorage = { dbPath: string } | { inMemory: true };

export interface EmbeddedMongo {
  uri: string;
  port: number;
  stop(): Promise<void>;
}

/** How often TTL indexes are swept (MongoDB uses 60s; sessions expire soon enough either way). */
const TTL_SWEEP_INTERVAL_MS = 1000;
const CURSOR_REAP_INTERVAL_MS = 60_000;

/** Durability (and memory budget) settings that cross into the worker thread (plain data only). */
export type DurabilityOptions = Pick<StoreOptions, 'journalCommitMs' | 'syncEveryWrite' | 'memoryBudgetMb'>;

export async function startInThisThread(storage: EmbeddedMongoStorage, port: number, durability: DurabilityOptions = {}): Promise<EmbeddedMongo> {
  const dbPath = 'dbPath' in storage ? storage.dbPath : null;
  const store = new Store(dbPath, durability);
  const parameters = new ServerParameters();
  const server = new WireServer({ store, info: { port: 0, startedAt: Date.now(), dbPath, connections: 0, parameters } });
  let boundPort: number;
  try {
    boundPort = await server.listen(port);
  } catch (err) {
    store.close();
    throw err;
  }
  const ttl = setInterval(() => parameters.flag('ttlMonitorEnabled') && store.sweepExpired(), TTL_SWEEP_INTERVAL_MS);
  const reaper = setInterval(() => server.cursors.reapIdle(), CURSOR_REAP_INTERVAL_MS);
  ttl.unref();
  reaper.unref();
  let stopped: Promise<void> | undefined;
  return {
    uri: `mongodb://127.0.0.1:${boundPort}/`,
    port: boundPort,
    stop() {
      stopped ??= (async () => {
        clearInterval(ttl);
        clearInterval(reaper);
        await server.close();
        // Replies waiting for an fdatasync get it before the files close.
        await store.groupCommit.drain();
        store.close();
      })();
      return stopped;
    },
  };
}
