// Capacity of the embedded store, as an operator and the app meet it: a memory budget that
// refuses writes with a clear error (code 146) while reads and deletes keep working, a
// serverStatus that says how much memory the working set takes per database, cursors that walk
// a large collection a batch at a time, and documents that stay exact through updates, deletes
// and restarts now that the store keeps them as BSON bytes.
import { calculateObjectSize } from 'bson';
import { Long, ObjectId, type AggregationCursor, type FindCursor, type MongoClient } from 'mongodb';
import mongoose, { Schema } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { connect, tempDir } from './helpers.js';

const MiB = 1024 * 1024;

/** Documents with any _id (numbers, strings), as the app's own collections may hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

interface WorkingSet {
  memory: {
    budgetBytes: number;
    workingSetBytes: number;
    budgetUsedPercent: number;
    dataBytes: number;
    documentBytes: number;
    indexBytes: number;
    heapUsedBytes: number;
    heapLimitBytes: number;
    residentBytes: number;
  };
  databases: Record<string, { collections: number; documents: number; dataBytes: number; documentBytes: number; indexBytes: number }>;
}

async function workingSet(client: MongoClient): Promise<WorkingSet> {
  const status = await client.db('admin').command({ serverStatus: 1 });
  return status.embeddedMongo as WorkingSet;
}

async function scanned(client: MongoClient): Promise<number> {
  const status = await client.db('admin').command({ serverStatus: 1 });
  const value = status.metrics.queryExecutor.scannedObjects as Long | number;
  return typeof value === 'number' ? value : value.toNumber();
}

const attendeeSchema = new Schema({
  meetingId: { type: Schema.Types.ObjectId, required: true },
  fullName: { type: String, required: true },
  organization: String,
  email: String,
  notes: String,
});
attendeeSchema.index({ meetingId: 1, fullName: 1 });

describe('a memory budget', () => {
  let store: EmbeddedMongo;
  let conn: mongoose.Connection;
  let client: MongoClient;

  beforeAll(async () => {
    store = await startEmbeddedMongo({ inMemory: true }, { memoryBudgetMb: 2 });
    conn = await mongoose.createConnection(store.uri, { dbName: 'budget', serverSelectionTimeoutMS: 5000 }).asPromise();
    client = await connect(store.uri);
  });

  afterAll(async () => {
    await conn?.close();
    await client?.close();
    await store?.stop();
  });

  it('refuses the write that would pass it with ExceededMemoryLimit, keeps serving reads, and takes writes again once deletes free space', async () => {
    const Attendee = conn.model('Attendee', attendeeSchema);
    await Attendee.init();
    const meetingId = new ObjectId();
    const notes = 'ghi chú '.repeat(60);

    // An organizer imports attendees until the store is full.
    let stored = 0;
    let refusal: (Error & { code?: number; codeName?: string }) | undefined;
    for (let batch = 0; batch < 200 && !refusal; batch++) {
      const docs = Array.from({ length: 100 }, (_, i) => ({ meetingId, fullName: `Đại biểu ${batch * 100 + i}`, organization: 'Sở Y tế', email: `db${batch * 100 + i}@example.vn`, notes }));
      try {
        const inserted = await Attendee.insertMany(docs, { ordered: true });
        stored += inserted.length;
      } catch (err) {
        refusal = err as Error & { code?: number; codeName?: string };
        stored += ((err as { insertedDocs?: unknown[] }).insertedDocs ?? []).length;
      }
    }
    expect(refusal, 'the budget of 2 MiB should have been reached').toBeDefined();
    expect(refusal!.code).toBe(146);
    expect(refusal!.message).toMatch(/memory budget/);
    expect(refusal!.message).toMatch(/--memory-budget-mb|EMBEDDED_MONGO_MEMORY_MB/);

    // One at a time, attendees still fit while the last buffer has room; then a create gets
    // the same clear error through mongoose, and nothing of it is stored.
    let single: (Error & { code?: number }) | undefined;
    let refusedName = '';
    for (let i = 0; i < 500 && !single; i++) {
      refusedName = `Người đến muộn ${i}`;
      await Attendee.create({ meetingId, fullName: refusedName, organization: 'Sở Y tế', notes }).then(
        () => stored++,
        (err: Error & { code?: number }) => (single = err),
      );
    }
    expect(single).toMatchObject({ code: 146, message: expect.stringMatching(/memory budget/) });
    const countBefore = await Attendee.countDocuments({ meetingId });
    expect(countBefore).toBe(stored);
    expect(await Attendee.exists({ fullName: refusedName })).toBeNull();
    // Asking again gets the same answer (it is not a transient failure).
    await expect(Attendee.create({ meetingId, fullName: refusedName, organization: 'Sở Y tế', notes })).rejects.toMatchObject({ code: 146 });
    expect(await Attendee.countDocuments({ meetingId })).toBe(countBefore);

    // Reads keep working: the list, one attendee, an aggregate.
    const page = await Attendee.find({ meetingId }).sort({ fullName: 1 }).limit(20).lean();
    expect(page).toHaveLength(20);
    expect(page[0]!.notes).toBe(notes);
    expect(await Attendee.findById(page[3]!._id).lean()).toMatchObject({ fullName: page[3]!.fullName });
    const [byOrg] = await Attendee.aggregate([{ $match: { meetingId } }, { $group: { _id: '$organization', n: { $sum: 1 } } }]);
    expect(byOrg).toEqual({ _id: 'Sở Y tế', n: countBefore });

    // The status says how full it is.
    const full = await workingSet(client);
    expect(full.memory.budgetBytes).toBe(2 * MiB);
    expect(full.memory.workingSetBytes).toBeLessThanOrEqual(2 * MiB);
    expect(full.memory.budgetUsedPercent).toBeGreaterThan(90);

    // An update that does not grow a document is still allowed (tidying a full store works).
    await Attendee.updateOne({ _id: page[0]!._id }, { $set: { organization: 'Sở GD' } });
    expect((await Attendee.findById(page[0]!._id).lean())!.organization).toBe('Sở GD');

    // Deleting half the attendees frees space; new attendees are accepted again.
    const half = await Attendee.find({ meetingId }).sort({ fullName: 1 }).limit(Math.floor(countBefore / 2)).select('_id').lean();
    const deleted = await Attendee.deleteMany({ _id: { $in: half.map((d) => d._id) } });
    expect(deleted.deletedCount).toBe(half.length);
    const freed = await workingSet(client);
    expect(freed.memory.workingSetBytes).toBeLessThan(full.memory.workingSetBytes * 0.7);
    const late = await Attendee.create({ meetingId, fullName: 'Người đến muộn', notes });
    expect(await Attendee.findById(late._id).lean()).toMatchObject({ fullName: 'Người đến muộn', notes });
    expect(await Attendee.countDocuments({ meetingId })).toBe(countBefore - half.length + 1);
  });

  it('an index that would not fit is refused the same way and not created', async () => {
    const attendees = client.db('budget').collection('attendees');
    // Fill up again with small documents.
    for (let i = 0; i < 400; i++) {
      try {
        await attendees.insertMany(Array.from({ length: 50 }, (_, k) => ({ meetingId: new ObjectId(), fullName: `x${i}-${k}`, tag: `t${i * 50 + k}` })));
      } catch (err) {
        expect((err as { code?: number }).code).toBe(146);
        break;
      }
    }
    await expect(attendees.createIndex({ tag: 1, fullName: 1, meetingId: 1 })).rejects.toMatchObject({ code: 146, codeName: 'ExceededMemoryLimit' });
    const names = (await attendees.listIndexes().toArray()).map((i) => i.name);
    expect(names).not.toContain('tag_1_fullName_1_meetingId_1');
    await client.db('admin').command({ ping: 1 });
  });
});

describe('serverStatus', () => {
  let store: EmbeddedMongo;
  let client: MongoClient;
  const saved = process.env.EMBEDDED_MONGO_MEMORY_MB;

  beforeAll(async () => {
    // The environment variable sets the budget when no option does.
    process.env.EMBEDDED_MONGO_MEMORY_MB = '48';
    store = await startEmbeddedMongo({ inMemory: true });
    client = await connect(store.uri);
  });

  afterAll(async () => {
    if (saved === undefined) delete process.env.EMBEDDED_MONGO_MEMORY_MB;
    else process.env.EMBEDDED_MONGO_MEMORY_MB = saved;
    await client?.close();
    await store?.stop();
  });

  it('reports the working set, indexes, heap and documents per database, and follows writes', async () => {
    const empty = await workingSet(client);
    expect(empty.memory.budgetBytes).toBe(48 * MiB);
    expect(empty.memory.heapLimitBytes).toBeGreaterThan(empty.memory.heapUsedBytes);
    expect(empty.memory.residentBytes).toBeGreaterThan(0);

    const docs = Array.from({ length: 3000 }, (_, i) => ({ _id: i, name: `Đại biểu ${i}`, site: `s${i % 7}`, tags: ['a', `t${i % 13}`] }));
    await client.db('alpha').collection<AnyDoc>('people').insertMany(docs);
    await client.db('alpha').collection<AnyDoc>('people').createIndex({ site: 1, name: 1 });
    await client.db('alpha').collection<AnyDoc>('sites').insertMany(Array.from({ length: 7 }, (_, i) => ({ _id: `s${i}` })));
    await client.db('beta').collection('notes').insertMany(Array.from({ length: 10 }, (_, i) => ({ i })));

    const after = await workingSet(client);
    const bson = docs.reduce((sum, d) => sum + calculateObjectSize(d), 0);
    expect(after.databases.alpha).toMatchObject({ collections: 2, documents: 3007 });
    expect(after.databases.beta).toMatchObject({ collections: 1, documents: 10 });
    expect(after.databases.alpha!.dataBytes).toBe(bson + 7 * calculateObjectSize({ _id: 's0' }));
    expect(after.databases.alpha!.indexBytes).toBeGreaterThan(0);
    expect(after.memory.dataBytes).toBe(after.databases.alpha!.dataBytes + after.databases.beta!.dataBytes);
    expect(after.memory.workingSetBytes).toBe(after.memory.documentBytes + after.memory.indexBytes);
    expect(after.memory.workingSetBytes).toBeGreaterThan(empty.memory.workingSetBytes + bson);
    // collStats agrees on the documents' BSON size.
    const stats = await client.db('alpha').command({ collStats: 'people' });
    expect(stats.size).toBe(bson);
    expect(stats.count).toBe(3000);
    expect(stats.totalIndexSize).toBeGreaterThan(0);

    await client.db('alpha').collection<AnyDoc>('people').deleteMany({ _id: { $lt: 2000 } });
    const trimmed = await workingSet(client);
    expect(trimmed.databases.alpha!.documents).toBe(1007);
    expect(trimmed.databases.alpha!.indexBytes).toBeLessThan(after.databases.alpha!.indexBytes);
    expect(trimmed.memory.dataBytes).toBeLessThan(after.memory.dataBytes / 2);
  });
});

describe('cursors over a large collection', () => {
  let store: EmbeddedMongo;
  let client: MongoClient;
  const TOTAL = 60_000;

  beforeAll(async () => {
    store = await startEmbeddedMongo({ inMemory: true });
    client = await connect(store.uri);
    const items = client.db('cursors').collection<AnyDoc>('items');
    for (let off = 0; off < TOTAL; off += 10_000) {
      await items.insertMany(Array.from({ length: 10_000 }, (_, k) => ({ _id: off + k, n: off + k, even: (off + k) % 2 === 0, label: `item ${off + k}` })));
    }
    await items.createIndex({ n: 1 });
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await store?.stop();
  });

  /** Walks a cursor batch by batch; returns the ids seen and the most documents any round trip read. */
  async function walk(cursor: FindCursor<AnyDoc> | AggregationCursor<AnyDoc>): Promise<{ ids: number[]; maxScannedPerRoundTrip: number }> {
    const ids: number[] = [];
    let maxScanned = 0;
    let before = await scanned(client);
    // hasNext() fetches the next batch (find, then one getMore each): count what each decoded.
    while (await cursor.hasNext()) {
      for (const doc of cursor.readBufferedDocuments()) ids.push(doc._id as number);
      const now = await scanned(client);
      maxScanned = Math.max(maxScanned, now - before);
      before = now;
    }
    return { ids, maxScannedPerRoundTrip: maxScanned };
  }

  it('a collection scan with a filter reads one batch per round trip, not the whole result', async () => {
    const cursor = client.db('cursors').collection<AnyDoc>('items').find({ even: true }, { batchSize: 500 });
    const { ids, maxScannedPerRoundTrip } = await walk(cursor);
    expect(ids).toHaveLength(TOTAL / 2);
    expect(new Set(ids).size).toBe(TOTAL / 2);
    expect(ids.every((id) => id % 2 === 0)).toBe(true);
    // 500 matches take about 1,000 documents read (half match), never all 60,000.
    expect(maxScannedPerRoundTrip).toBeLessThan(1_100);
  }, 120_000);

  it('an index walk (range, and an index-ordered sort) produces each batch on its getMore', async () => {
    const items = client.db('cursors').collection<AnyDoc>('items');
    const range = await walk(items.find({ n: { $gte: 10_000 } }, { batchSize: 1000 }));
    expect(range.ids).toEqual(Array.from({ length: TOTAL - 10_000 }, (_, i) => 10_000 + i));
    expect(range.maxScannedPerRoundTrip).toBeLessThanOrEqual(1_001);

    const sorted = await walk(items.find({ label: { $exists: true } }, { batchSize: 1000 }).sort({ n: -1 }));
    expect(sorted.ids).toEqual(Array.from({ length: TOTAL }, (_, i) => TOTAL - 1 - i));
    expect(sorted.maxScannedPerRoundTrip).toBeLessThanOrEqual(1_001);
  }, 120_000);

  it('an aggregation of per-document stages ($match, $project, $set..., then $skip/$limit) streams its batches too', async () => {
    const items = client.db('cursors').collection<AnyDoc>('items');
    const pipeline = [{ $match: { even: true } }, { $set: { half: { $divide: ['$n', 2] } } }, { $project: { half: 1 } }];
    const { ids, maxScannedPerRoundTrip } = await walk(items.aggregate(pipeline, { batchSize: 500 }));
    expect(ids).toEqual(Array.from({ length: TOTAL / 2 }, (_, i) => 2 * i));
    // A batch of 500 takes about 1,000 documents read plus one chunk of lookahead, never all 60,000.
    expect(maxScannedPerRoundTrip).toBeLessThan(1_700);
    const page = await items.aggregate([{ $match: { n: { $gte: 100 } } }, { $project: { _id: 1 } }, { $skip: 5 }, { $limit: 3 }]).toArray();
    expect(page).toEqual([{ _id: 105 }, { _id: 106 }, { _id: 107 }]);
    // A stage that needs every document ($group) still works over all of them.
    const [count] = await items.aggregate([{ $match: { even: false } }, { $group: { _id: null, n: { $sum: 1 } } }]).toArray();
    expect(count).toEqual({ _id: null, n: TOTAL / 2 });
  }, 120_000);

  it('an error in a later chunk of a streamed aggregation reaches the getMore in mongod\'s terms', async () => {
    const items = client.db('cursors').collection<AnyDoc>('items');
    const cursor = items.aggregate([{ $match: { n: { $gte: 0 } } }, { $set: { r: { $divide: [1, { $cond: [{ $eq: ['$n', 5_000] }, 0, 1] }] } } }], { batchSize: 100 });
    await expect(cursor.toArray()).rejects.toMatchObject({ code: 2, message: '$divide cannot divide by zero' });
  }, 120_000);

  it('the store thread\'s heap stays bounded while a client walks every document', async () => {
    const first = await workingSet(client);
    let heapPeak = 0;
    let seen = 0;
    const cursor = client.db('cursors').collection<AnyDoc>('items').find({}, { batchSize: 2000 });
    for await (const doc of cursor) {
      seen++;
      expect(doc.label).toBe(`item ${doc._id}`);
      if (seen % 10_000 === 0) heapPeak = Math.max(heapPeak, (await workingSet(client)).memory.heapUsedBytes);
    }
    expect(seen).toBe(TOTAL);
    // Holding all 60,000 documents decoded would take tens of MiB more than the working set.
    expect(heapPeak - first.memory.heapUsedBytes).toBeLessThan(24 * MiB);
  }, 120_000);
});

describe('documents stay exact as the store keeps them as BSON', () => {
  it('survive growing updates, deletes (space reclaimed) and a restart, with their indexes', async () => {
    const dir = tempDir();
    let store = await startEmbeddedMongo({ dbPath: dir.dir });
    let client = await connect(store.uri);
    try {
      const col = client.db('exact').collection<AnyDoc>('docs');
      await col.createIndex({ group: 1, rank: 1 });
      await col.createIndex({ email: 1 }, { unique: true });
      await col.insertMany(Array.from({ length: 5000 }, (_, i) => ({ _id: i, group: i % 10, rank: i, email: `p${i}@example.vn`, history: [] as string[], big: Long.fromNumber(2 ** 40 + i) })));
      // Documents grow, many times (each version is written anew; old space is reclaimed).
      for (let round = 0; round < 6; round++) {
        await col.updateMany({ group: { $lt: 5 } }, { $push: { history: `round ${round} ${'x'.repeat(100)}` } } as never);
      }
      await col.deleteMany({ group: { $gte: 8 } });
      const mid = await workingSet(client);
      // Live BSON vs memory held for documents: stale versions do not pile up.
      expect(mid.memory.documentBytes).toBeLessThan(mid.memory.dataBytes * 2.5 + 4 * MiB);

      const check = async (c: typeof col) => {
        expect(await c.countDocuments()).toBe(4000);
        const d = await c.findOne({ _id: 1234 });
        expect(d).toEqual({ _id: 1234, group: 4, rank: 1234, email: 'p1234@example.vn', history: Array.from({ length: 6 }, (_, r) => `round ${r} ${'x'.repeat(100)}`), big: 2 ** 40 + 1234 });
        expect(await c.findOne({ _id: 1237 })).toMatchObject({ group: 7, history: [] });
        expect(await c.findOne({ _id: 1238 })).toBeNull();
        // Index plans, a sort, a projection and a unique index all still right.
        expect((await c.find({ group: 3 }).sort({ rank: -1 }).limit(2).toArray()).map((x) => x._id)).toEqual([4993, 4983]);
        expect(await c.find({ group: 2, rank: { $lt: 30 } }, { projection: { email: 1, _id: 0 } }).toArray()).toEqual([{ email: 'p2@example.vn' }, { email: 'p12@example.vn' }, { email: 'p22@example.vn' }]);
        await expect(c.insertOne({ _id: 99_999, email: 'p5@example.vn' })).rejects.toMatchObject({ code: 11000 });
      };
      await check(col);

      await client.close();
      await store.stop();
      store = await startEmbeddedMongo({ dbPath: dir.dir });
      client = await connect(store.uri);
      await check(client.db('exact').collection<AnyDoc>('docs'));
    } finally {
      await client.close();
      await store.stop();
      dir.remove();
    }
  }, 120_000);
});
