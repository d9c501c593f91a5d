// `kill -9` in the middle of a write burst: every write the server acknowledged is there after
// a restart on the same dbpath. The store runs as its CLI in a child process, like
// `npm run embedded-mongo -- --port P --dbpath DIR`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAfterKill, startCli, tempDir, type CliProcess } from './helpers.js';

// Test collections hold documents of any shape (numeric and string _ids included).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function track(p: CliProcess): CliProcess {
  cleanups.push(() => {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  });
  return p;
}

describe('kill -9 during a write burst', () => {
  it('loses no acknowledged insert, update or delete', { timeout: 90_000 }, async () => {
    const tmp = tempDir('embedded-mongo-crash-');
    cleanups.push(() => tmp.remove());
    const first = track(await startCli(tmp.dir));

    const writers = 4;
    const ackedInserts = new Set<string>();
    const ackedCounter: number[] = new Array(writers).fill(0);
    const ackedDeletes = new Set<string>();
    const inFlightDeletes = new Set<string>(); // sent but never acknowledged: either outcome is fine
    let stop = false;
    const clients: MongoClient[] = [];
    for (let w = 0; w < writers; w++) {
      const c = new MongoClient(first.uri, { serverSelectionTimeoutMS: 2000, retryWrites: false, maxPoolSize: 2 });
      await c.connect();
      clients.push(c);
    }
    const burst = clients.map(async (c, w) => {
      const docs = c.db('crash').collection<AnyDoc>('docs');
      const counters = c.db('crash').collection<AnyDoc>('counters');
      for (let i = 0; !stop; i++) {
        const id = `${w}-${i}`;
        try {
          await docs.insertOne({ _id: id as never, w, i, body: 'x'.repeat(200) });
          ackedInserts.add(id);
          const r = await counters.findOneAndUpdate({ _id: `w${w}` as never }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after' });
          ackedCounter[w] = r!.n as number;
          if (i % 5 === 4) {
            const gone = `${w}-${i - 2}`;
            inFlightDeletes.add(gone);
            await docs.deleteOne({ _id: gone as never });
            inFlightDeletes.delete(gone);
            ackedDeletes.add(gone);
          }
        } catch {
          return; // the server died under us: the in-flight write may or may not have landed
        }
      }
    });

    // Let the burst run (until 50 inserts are acknowledged: two shared cores can be slow), then
    // pull the plug without warning.
    await new Promise((r) => setTimeout(r, 1500));
    for (const deadline = Date.now() + 15_000; ackedInserts.size <= 50 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
    expect(ackedInserts.size).toBeGreaterThan(50);
    first.child.kill('SIGKILL');
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    stop = true;
    await Promise.all(burst);
    await Promise.all(clients.map((c) => closeAfterKill(c)));

    const second = track(await startCli(tmp.dir));
    const check = new MongoClient(second.uri, { serverSelectionTimeoutMS: 5000 });
    cleanups.push(() => check.close());
    await check.connect();
    const docs = check.db('crash').collection<AnyDoc>('docs');
    const present = new Set((await docs.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id as unknown as string));

    const lost = [...ackedInserts].filter((id) => !ackedDeletes.has(id) && !inFlightDeletes.has(id) && !present.has(id));
    expect(lost).toEqual([]);
    const resurrected = [...ackedDeletes].filter((id) => present.has(id));
    expect(resurrected).toEqual([]);
    for (let w = 0; w < writers; w++) {
      const c = await check.db('crash').collection<AnyDoc>('counters').findOne({ _id: `w${w}` as never });
      // The counter may be one ahead (an increment applied but not yet acknowledged), never behind.
      expect((c?.n as number) ?? 0).toBeGreaterThanOrEqual(ackedCounter[w]!);
    }
    // The restarted store is fully usable.
    await docs.insertOne({ _id: 'after-restart' as never });
    expect(await docs.countDocuments({ _id: 'after-restart' as never })).toBe(1);
  });

  it('survives being killed twice in a row and keeps its unique indexes', async () => {
    const tmp = tempDir('embedded-mongo-crash2-');
    cleanups.push(() => tmp.remove());
    let p = track(await startCli(tmp.dir));
    let c = new MongoClient(p.uri, { serverSelectionTimeoutMS: 5000 });
    await c.connect();
    await c.db('crash').collection<AnyDoc>('users').createIndex({ email: 1 }, { unique: true });
    await c.db('crash').collection<AnyDoc>('users').insertOne({ email: 'a@x' });
    p.child.kill('SIGKILL');
    await p.exited;
    await closeAfterKill(c);

    p = track(await startCli(tmp.dir));
    p.child.kill('SIGKILL');
    await p.exited;

    p = track(await startCli(tmp.dir));
    c = new MongoClient(p.uri, { serverSelectionTimeoutMS: 5000 });
    cleanups.push(() => c.close());
    await c.connect();
    const users = c.db('crash').collection<AnyDoc>('users');
    expect(await users.countDocuments()).toBe(1);
    await expect(users.insertOne({ email: 'a@x' })).rejects.toMatchObject({ code: 11000 });
    // Three CLI starts: more than the default 30 s when the machine is busy.
  }, 90_000);

  it('a second store on the same dbpath is refused while the first runs (DBPathInUse), and the first keeps serving', async () => {
    const tmp = tempDir('embedded-mongo-lock-');
    cleanups.push(() => tmp.remove());
    const first = track(await startCli(tmp.dir));
    const second = await startCli(tmp.dir).then(
      (p) => {
        track(p);
        return undefined;
      },
      (e: Error) => e,
    );
    expect(second).toBeInstanceOf(Error);
    expect(second!.message).toMatch(/DBPathInUse|98|in use|lock/i);
    const c = new MongoClient(first.uri, { serverSelectionTimeoutMS: 5000 });
    cleanups.push(() => c.close());
    await c.connect();
    expect((await c.db('admin').command({ ping: 1 })).ok).toBe(1);
  });
});

describe('kill -9 during a burst of j:true check-ins, restarted at once, again and again', () => {
  it('keeps every acknowledged write and restarts every time, whatever PID the lock file names', async () => {
    const tmp = tempDir('embedded-mongo-killloop-');
    cleanups.push(() => tmp.remove());
    const lockFile = path.join(tmp.dir, 'embedded-mongo.lock');
    // Round by round, the lock file names: the killed store's PID (as kill -9 leaves it), PID 1
    // (alive: a container's init), and this test's own live process. (The lock file naming the
    // store's own PID is in durability.test.ts, with the store in this process.)
    const lockNames = [undefined, '1', String(process.pid)];
    let store = track(await startCli(tmp.dir));
    const acknowledged = new Set<string>();
    for (let round = 0; round < lockNames.length; round++) {
      const desks = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const c = new MongoClient(store.uri, { serverSelectionTimeoutMS: 2000, retryWrites: false, maxPoolSize: 1 });
          await c.connect();
          return c;
        }),
      );
      let stop = false;
      const burst = desks.map(async (desk, d) => {
        const checkIns = desk.db('live').collection<AnyDoc>('checkins');
        for (let i = 0; !stop; i++) {
          const id = `r${round}-d${d}-${i}`;
          try {
            await checkIns.insertOne({ _id: id, desk: d, at: new Date() }, { writeConcern: { j: true } });
            acknowledged.add(id);
          } catch {
            return; // the store died under this write: it may or may not have landed
          }
        }
      });
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 300));
      store.child.kill('SIGKILL');
      const name = lockNames[round];
      if (name !== undefined) writeFileSync(lockFile, name);
      // Restart at once, without waiting for the killed process to be reaped.
      const restarted = startCli(tmp.dir);
      stop = true;
      await Promise.all(burst);
      await Promise.all(desks.map((c) => closeAfterKill(c)));
      store = track(await restarted);

      const check = new MongoClient(store.uri, { serverSelectionTimeoutMS: 5000 });
      await check.connect();
      const present = new Set((await check.db('live').collection<AnyDoc>('checkins').find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id as string));
      await check.close();
      const lost = [...acknowledged].filter((id) => !present.has(id));
      expect(lost, `round ${round}`).toEqual([]);
      expect(acknowledged.size).toBeGreaterThan(round * 20);
    }
    // Four CLI starts on two shared cores: give it room beyond the default 30 s.
  }, 120_000);
});
