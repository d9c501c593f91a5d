// Connect mongoose: to MONGODB_URI when set, otherwise to the embedded store started in DATA_DIR.
// Either way the app talks to the database through mongoose over a socket.
import mongoose from 'mongoose';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { startEmbeddedMongo } from './embedded-mongo/index.js';
import { isDatabaseUnreachable } from './lib/errors.js';
import { buildSessionIndexes } from './accounts/session-store.js';

export interface DatabaseHandle {
  uri: string;
  embedded: boolean;
  close(): Promise<void>;
}

export type DatabaseTarget = { uri: string } | { embedded: { dbPath: string } | { inMemory: true } };

export async function connectDatabase(target: DatabaseTarget, dbName = 'bridgepoint', onRetry: (error: unknown) => void = () => undefined): Promise<DatabaseHandle> {
  let stopEmbedded: (() => Promise<void>) | undefined;
  let uri: string;
  if ('uri' in target) {
    uri = target.uri;
  } else {
    if ('dbPath' in target.embedded) await mkdir(target.embedded.dbPath, { recursive: true });
    const store = await startEmbeddedMongo(target.embedded);
    uri = store.uri;
    stopEmbedded = () => store.stop();
  }

  mongoose.set('strictQuery', true);
  await mongoose.connect(uri, { dbName: 'uri' in target ? undefined : dbName, serverSelectionTimeoutMS: 10_000 });
  // Build every model's indexes, and the sessions' expiry index, before serving: unique indexes
  // are part of the rules. (Model.init keeps its first promise, failed or not: a second try
  // builds the indexes itself.)
  let tries = 0;
  await whileUnreachable(() => {
    const first = tries++ === 0;
    return Promise.all([...Object.values(mongoose.models).map((model) => (first ? model.init() : model.ensureIndexes())), buildSessionIndexes(mongoose.connection.db!)]);
  }, onRetry);

  return {
    uri,
    embedded: stopEmbedded !== undefined,
    async close() {
      await mongoose.disconnect();
      await stopEmbedded?.();
    },
  };
}

export function embeddedPath(dataDir: string): string {
  return path.join(dataDir, 'db');
}

/**
 * Runs a start-up step again while the database is out of reach for a moment (the store restarting
 * just as this instance starts): the instance comes up once the database answers instead of
 * exiting. Every step given is safe to run again. Other errors, or an outage longer than
 * `patienceMs`, still fail the start.
 */
export async function whileUnreachable<T>(step: () => Promise<T>, onRetry: (error: unknown) => void, patienceMs = 60_000): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 2_000)) {
    try {
      return await step();
    } catch (error) {
      if (!isDatabaseUnreachable(error) || Date.now() + delayMs > deadline) throw error;
      onRetry(error);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
