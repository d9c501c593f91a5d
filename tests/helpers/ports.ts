// Ports for processes a test starts itself (a second app instance, redis-server, the store's CLI).
// The port is chosen here and taken by the child seconds later, once it has started. A port from
// the kernel's automatic range (listen(0), 32768-60999 on Linux) may meanwhile be handed to
// another test file's app or to an outgoing connection; then the child cannot listen, and worse,
// a health check reaches the other file's app. So the port comes from below that range, from a
// slice of its own for each vitest worker, never twice in one process, and is checked free on
// 127.0.0.1.
import { createServer } from 'node:net';

const low = 20_000;
const slices = 8;
const sliceSize = 1_500;
/** Handed out by this process already: its child may not be listening yet. */
const given = new Set<number>();

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 0);
  const start = low + (Number.isFinite(worker) ? worker % slices : 0) * sliceSize;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = start + Math.floor(Math.random() * sliceSize);
    if (given.has(port) || !(await listenable(port))) continue;
    given.add(port);
    return port;
  }
  throw new Error(`no free port between ${start} and ${start + sliceSize}`);
}
