// Many clients at once: writers racing on a unique index (exactly one wins each race),
// concurrent $inc upserts that must not lose an increment, and a busy pool of connections.
import { MongoServerError, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStore, tempDir, type RunningStore } from './helpers.js';

// Test collections hold documents of any shape (numeric and string _ids included).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

let store: RunningStore;
const clients: MongoClient[] = [];
const tmp = tempDir();
const WRITERS = 12;

beforeAll(async () => {
  // On disk, so that the races go through the same durable write path the app uses.
  store = await startStore({ dbPath: tmp.dir });
  for (let i = 0; i < WRITERS; i++) clients.push(await connect(store.uri, { maxPoolSize: 4 }));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await store?.stop();
  tmp.remove();
});

describe('writers racing on a unique index', () => {
  it('for each contested email exactly one of 12 clients wins; the rest get E11000', async () => {
    const setup = clients[0]!.db('race').collection<AnyDoc>('accounts');
    await setup.createIndex({ email: 1 }, { unique: true });
    const rounds = 40;
    for (let r = 0; r < rounds; r++) {
      const email = `user${r}@example.org`;
      const outcomes = await Promise.allSettled(
        clients.map((c, i) => c.db('race').collection<AnyDoc>('accounts').insertOne({ email, writer: i })),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).toHaveLength(1);
      for (const l of lost) {
        expect(l.reason).toBeInstanceOf(MongoServerError);
        expect((l.reason as MongoServerError).code).toBe(11000);
        expect((l.reason as MongoServerError).keyValue).toEqual({ email });
      }
    }
    expect(await setup.countDocuments()).toBe(rounds);
    const perEmail = await setup.aggregate([{ $group: { _id: '$email', n: { $sum: 1 } } }, { $match: { n: { $gt: 1 } } }]).toArray();
    expect(perEmail).toEqual([]);
  });

  it('concurrent upserts on the same key create one document, and every $inc is counted', async () => {
    const coll = (c: MongoClient) => c.db('race').collection<AnyDoc>('counters');
    await coll(clients[0]!).createIndex({ name: 1 }, { unique: true });
    const perClient = 25;
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < perClient; i++) {
          // An upsert may lose the insert race with a duplicate-key error; MongoDB retries those
          // itself since 4.2 for equality queries on the unique key, so none should surface.
          await coll(c).updateOne({ name: 'hits' }, { $inc: { n: 1 } }, { upsert: true });
        }
      }),
    );
    const docs = await coll(clients[0]!).find({ name: 'hits' }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]!.n).toBe(WRITERS * perClient);
  });

  it('findOneAndUpdate hands each queued job to exactly one worker', async () => {
    const jobs = (c: MongoClient) => c.db('race').collection<AnyDoc>('jobs');
    await jobs(clients[0]!).insertMany(Array.from({ length: 60 }, (_, i) => ({ _id: i, state: 'ready' })));
    const taken: Array<{ worker: number; job: number }> = [];
    await Promise.all(
      clients.map(async (c, worker) => {
        for (;;) {
          const job = await jobs(c).findOneAndUpdate({ state: 'ready' }, { $set: { state: 'taken', worker } }, { sort: { _id: 1 } });
          if (!job) return;
          taken.push({ worker, job: job._id as unknown as number });
        }
      }),
    );
    expect(taken.map((t) => t.job).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(await jobs(clients[0]!).countDocuments({ state: 'ready' })).toBe(0);
  });
});

describe('a busy pool', () => {
  it('hundreds of mixed operations over many connections all succeed and agree', async () => {
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 400; i++) {
      const c = clients[i % WRITERS]!.db('pool').collection<AnyDoc>('mixed');
      ops.push(
        (async () => {
          await c.insertOne({ _id: i, v: i });
          await c.updateOne({ _id: i }, { $inc: { v: 1 } });
          const d = await c.findOne({ _id: i });
          expect(d?.v).toBe(i + 1);
        })(),
      );
    }
    await Promise.all(ops);
    expect(await clients[0]!.db('pool').collection<AnyDoc>('mixed').countDocuments()).toBe(400);
  });
});

describe('many connections at once', () => {
  it('150 clients connecting together each get served, and closing them leaves the server up', async () => {
    const many = await Promise.all(Array.from({ length: 150 }, () => connect(store.uri, { maxPoolSize: 1 })));
    try {
      const results = await Promise.all(
        many.map(async (c, i) => {
          await c.db('many').collection<AnyDoc>('hits').insertOne({ _id: i });
          return (await c.db('admin').command({ ping: 1 })).ok;
        }),
      );
      expect(results.every((ok) => ok === 1)).toBe(true);
    } finally {
      await Promise.all(many.map((c) => c.close()));
    }
    expect(await clients[0]!.db('many').collection<AnyDoc>('hits').countDocuments()).toBe(150);
  });
});

