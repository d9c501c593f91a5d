// Worker-thread entry: runs the store off the caller's event loop and answers start/stop.
import { parentPort, workerData } from 'node:worker_threads';
import { startInThisThread, type DurabilityOptions, type EmbeddedMongoStorage } from './embedded.js';

export type WorkerReport = { type: 'ready'; port: number } | { type: 'error'; message: string; code?: string } | { type: 'stopped' };

const { storage, port, durability } = workerData as { storage: EmbeddedMongoStorage; port: number; durability: DurabilityOptions };
const port$ = parentPort!;

try {
  const mongo = await startInThisThread(storage, port, durability);
  port$.on('message', (message: { type: string }) => {
    if (message.type !== 'stop') return;
    void mongo.stop().then(() => port$.postMessage({ type: 'stopped' } satisfies WorkerReport));
  });
  port$.postMessage({ type: 'ready', port: mongo.port } satisfies WorkerReport);
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  port$.postMessage({ type: 'error', message: e.message, code: e.code } satisfies WorkerReport);
}
