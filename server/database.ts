// Connect mongoose: to MONGODB_URI when set, otherwise to the embedded store started in DATA_DIR.
// Either way the app talks to the database through mongoose over a socket.
import mongoose from 'mongoose';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { startEmbeddedMongo } from './embedded-mongo/index.js';

export interface DatabaseHandle {
  uri: string;
  embedded: boolean;
  close(): Promise<void>;
}

export type DatabaseTarget = { uri: string } | { embedded: { dbPath: string } | { inMemory: true } };

export async function connectDatabase(target: DatabaseTarget, dbName = 'bridgepoint'): Promise<DatabaseHandle> {
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
  // Build every model's indexes before serving: unique indexes are part of the rules.
  await Promise.all(Object.values(mongoose.models).map((model) => model.init()));

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
