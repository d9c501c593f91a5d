// Every command the embedded store promises, sent through the real driver (`db.command` where
// the driver has no helper), with the reply shapes a real mongod gives.
import { Long, MongoServerError, ObjectId, type Db, type Document, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect, startStore, type RunningStore } from './helpers.js';

// Test collections hold documents of any shape (numeric and string _ids included).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

let store: RunningStore;
let client: MongoClient;
let db: Db;
let dbCounter = 0;

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
});

afterAll(async () => {
  await client?.close();
  await store?.stop();
});

beforeEach(() => {
  db = client.db(`cmd_${++dbCounter}`);
});

/** The server error a command fails with (the test fails if it succeeds). */
async function serverError(p: Promise<unknown>): Promise<MongoServerError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MongoServerError);
    return e as MongoServerError;
  }
  throw new Error('expected the command to fail, it succeeded');
}

describe('the handshake describes a current standalone server', () => {
  it('hello reports a writable primary with wire version >= 21 and session support', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello.ok).toBe(1);
    expect(hello.isWritablePrimary).toBe(true);
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(21);
    expect(hello.minWireVersion).toBeLessThanOrEqual(hello.maxWireVersion);
    expect(typeof hello.logicalSessionTimeoutMinutes).toBe('number');
    expect(hello.maxBsonObjectSize).toBe(16 * 1024 * 1024);
    expect(hello.maxMessageSizeBytes).toBe(48_000_000);
    expect(hello.maxWriteBatchSize).toBe(100_000);
    expect(hello.localTime).toBeInstanceOf(Date);
    // A standalone: no replica set, no mongos, and no streaming hello.
    expect(hello.setName).toBeUndefined();
    expect(hello.msg).toBeUndefined();
    expect(hello.topologyVersion).toBeUndefined();
  });

  it('legacy isMaster answers with ismaster: true', async () => {
    const r = await client.db('admin').command({ isMaster: 1 });
    expect(r.ismaster).toBe(true);
    expect(r.maxWireVersion).toBeGreaterThanOrEqual(21);
  });

  it('ping, buildInfo, serverStatus and hostInfo answer ok with their usual fields', async () => {
    const admin = client.db('admin');
    expect((await admin.command({ ping: 1 })).ok).toBe(1);
    const build = await admin.command({ buildInfo: 1 });
    expect(build.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(build.versionArray).toHaveLength(4);
    expect(Number(build.versionArray[0])).toBeGreaterThanOrEqual(7);
    const status = await admin.command({ serverStatus: 1 });
    expect(status.ok).toBe(1);
    expect(typeof status.host).toBe('string');
    expect(status.version).toBe(build.version);
    expect(typeof status.uptime).toBe('number');
    const host = await admin.command({ hostInfo: 1 });
    expect(host.ok).toBe(1);
    expect(host.system).toBeTypeOf('object');
  });
});

describe('databases and collections', () => {
  it('create makes a collection, and creating it again is NamespaceExists (48)', async () => {
    await db.command({ create: 'people' });
    const names = (await db.listCollections().toArray()).map((c) => c.name);
    expect(names).toContain('people');
    const err = await serverError(db.command({ create: 'people' }));
    expect(err.code).toBe(48);
    expect(err.codeName).toBe('NamespaceExists');
  });

  it('listCollections returns a cursor of {name, type, options, info} and honours filter and nameOnly', async () => {
    await db.command({ create: 'a' });
    await db.collection<AnyDoc>('b').insertOne({ x: 1 });
    const reply = await db.command({ listCollections: 1, filter: { name: 'a' } });
    expect(reply.cursor.ns).toBe(`${db.databaseName}.$cmd.listCollections`);
    expect(Long.isLong(reply.cursor.id) || reply.cursor.id === 0).toBe(true);
    expect(Number(reply.cursor.id)).toBe(0);
    expect(reply.cursor.firstBatch).toHaveLength(1);
    const a = reply.cursor.firstBatch[0];
    expect(a).toMatchObject({ name: 'a', type: 'collection', options: {} });
    expect(a.info.readOnly).toBe(false);
    const names = await db.listCollections({}, { nameOnly: true }).toArray();
    expect(names.map((c) => c.name).sort()).toEqual(['a', 'b']);
  });

  it('listDatabases lists databases that hold data, with sizes', async () => {
    await db.collection<AnyDoc>('c').insertOne({ x: 1 });
    const r = await client.db('admin').command({ listDatabases: 1 });
    const mine = r.databases.find((d: Document) => d.name === db.databaseName);
    expect(mine).toBeDefined();
    expect(typeof mine.sizeOnDisk).toBe('number');
    expect(mine.empty).toBe(false);
    expect(typeof r.totalSize).toBe('number');
    const names = await client.db('admin').command({ listDatabases: 1, nameOnly: true });
    expect(names.databases.map((d: Document) => d.name)).toContain(db.databaseName);
  });

  it('drop removes a collection and its documents', async () => {
    await db.collection<AnyDoc>('gone').insertMany([{ a: 1 }, { a: 2 }]);
    const r = await db.command({ drop: 'gone' });
    expect(r.ok).toBe(1);
    expect(r.ns).toBe(`${db.databaseName}.gone`);
    expect(await db.collection<AnyDoc>('gone').countDocuments()).toBe(0);
    expect((await db.listCollections().toArray()).map((c) => c.name)).not.toContain('gone');
  });

  it('dropDatabase removes every collection of the database', async () => {
    await db.collection<AnyDoc>('x').insertOne({});
    await db.collection<AnyDoc>('y').insertOne({});
    const r = await db.command({ dropDatabase: 1 });
    expect(r.ok).toBe(1);
    expect(await db.listCollections().toArray()).toEqual([]);
  });

  it('renameCollection moves the documents; a missing source is 26, an existing target 48 unless dropTarget', async () => {
    await db.collection<AnyDoc>('old').insertMany([{ _id: 1 }, { _id: 2 }]);
    await db.collection<AnyDoc>('taken').insertOne({ _id: 'x' });
    const admin = client.db('admin');
    const ns = (c: string) => `${db.databaseName}.${c}`;
    await admin.command({ renameCollection: ns('old'), to: ns('new') });
    expect(await db.collection<AnyDoc>('new').find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1 }, { _id: 2 }]);
    expect(await db.collection<AnyDoc>('old').countDocuments()).toBe(0);

    expect((await serverError(admin.command({ renameCollection: ns('nope'), to: ns('z') }))).code).toBe(26);
    expect((await serverError(admin.command({ renameCollection: ns('new'), to: ns('taken') }))).code).toBe(48);
    await admin.command({ renameCollection: ns('new'), to: ns('taken'), dropTarget: true });
    expect(await db.collection<AnyDoc>('taken').countDocuments()).toBe(2);
  });

  it('collStats and dbStats report counts and sizes', async () => {
    await db.collection<AnyDoc>('s').insertMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
    const cs = await db.command({ collStats: 's' });
    expect(cs.ok).toBe(1);
    expect(cs.count).toBe(3);
    expect(cs.ns).toBe(`${db.databaseName}.s`);
    expect(typeof cs.size).toBe('number');
    expect(cs.nindexes).toBeGreaterThanOrEqual(1);
    const ds = await db.command({ dbStats: 1 });
    expect(ds.ok).toBe(1);
    expect(ds.db).toBe(db.databaseName);
    expect(ds.collections).toBeGreaterThanOrEqual(1);
    expect(ds.objects).toBeGreaterThanOrEqual(3);
  });

  it('validate checks each index against the documents and counts those its validator refuses', async () => {
    const c = db.collection<AnyDoc>('checked');
    await c.insertMany([{ a: 1, tags: ['x', 'y'] }, { a: 2, tags: ['x'] }, { a: 3 }]);
    await c.createIndex({ tags: 1 });
    const sound = await db.command({ validate: 'checked' });
    expect(sound).toMatchObject({ ns: `${db.databaseName}.checked`, valid: true, nrecords: 3, nIndexes: 2, keysPerIndex: { _id_: 3, tags_1: 4 }, errors: [], nNonCompliantDocuments: 0 });
    await db.command({ collMod: 'checked', validator: { a: { $gt: 1 } }, validationLevel: 'moderate' });
    expect(await db.command({ validate: 'checked' })).toMatchObject({ valid: true, nNonCompliantDocuments: 1 });
    expect((await serverError(db.command({ validate: 'missing' }))).code).toBe(26);
  });

  it('the introspection tools call: listCommands, currentOp, killOp, profile, dataSize, dbstats, replSetGetStatus', async () => {
    const admin = client.db('admin');
    const { commands } = await admin.command({ listCommands: 1 });
    for (const name of ['find', 'aggregate', 'validate', 'listCommands']) expect(commands[name]).toMatchObject({ adminOnly: false });
    expect(commands.currentOp.adminOnly).toBe(true);
    expect(await admin.command({ currentOp: 1 })).toEqual({ inprog: [], ok: 1 });
    expect((await serverError(db.command({ currentOp: 1 }))).code).toBe(13);
    expect(await admin.command({ killOp: 1, op: 12 })).toMatchObject({ ok: 1 });
    expect(await db.command({ profile: -1 })).toMatchObject({ was: 0, ok: 1 });
    expect((await serverError(db.command({ profile: 2 }))).code).toBe(115);
    await db.collection<AnyDoc>('sized').insertMany([{ a: 1 }, { a: 2 }]);
    expect(await db.command({ dataSize: `${db.databaseName}.sized` })).toMatchObject({ numObjects: 2, ok: 1 });
    expect(await db.command({ dbstats: 1 })).toMatchObject({ objects: 2, ok: 1 });
    expect((await serverError(admin.command({ replSetGetStatus: 1 }))).code).toBe(76);
  });
});

describe('insert', () => {
  it('reports n and, for a duplicate _id, a writeError at the failing index', async () => {
    const ok = await db.command({ insert: 'i', documents: [{ _id: 1 }, { _id: 2 }] });
    expect(ok).toMatchObject({ ok: 1, n: 2 });
    const dup = await db.command({ insert: 'i', documents: [{ _id: 3 }, { _id: 1 }, { _id: 4 }] });
    // Ordered (the default): stops at the first error.
    expect(dup.n).toBe(1);
    expect(dup.writeErrors).toHaveLength(1);
    expect(dup.writeErrors[0]).toMatchObject({
      index: 1,
      code: 11000,
      errmsg: `E11000 duplicate key error collection: ${db.databaseName}.i index: _id_ dup key: { _id: 1 }`,
      keyPattern: { _id: 1 },
      keyValue: { _id: 1 },
    });
    expect(await db.collection<AnyDoc>('i').countDocuments()).toBe(3);
  });

  it('unordered batches carry on after an error', async () => {
    await db.collection<AnyDoc>('u').insertOne({ _id: 1 });
    const r = await db.command({ insert: 'u', documents: [{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }], ordered: false });
    expect(r.n).toBe(2);
    expect(r.writeErrors.map((w: Document) => w.index)).toEqual([0, 2]);
    expect(await db.collection<AnyDoc>('u').countDocuments()).toBe(3);
  });

  it('keeps a null _id as null (the driver would replace it, so the raw command is used)', async () => {
    await db.command({ insert: 'nulls', documents: [{ _id: null, a: 1 }] });
    expect(await db.collection<AnyDoc>('nulls').find({ _id: { $type: 'null' } }).toArray()).toEqual([{ _id: null, a: 1 }]);
    const dup = await db.command({ insert: 'nulls', documents: [{ _id: null }] });
    expect(dup.writeErrors[0].code).toBe(11000);
  });

  it('creates the collection implicitly and adds an ObjectId _id the driver did not send', async () => {
    await db.command({ insert: 'implicit', documents: [{ a: 1 }] });
    const doc = await db.collection<AnyDoc>('implicit').findOne({ a: 1 });
    expect(doc?._id).toBeInstanceOf(ObjectId);
  });
});

describe('find, getMore and killCursors', () => {
  beforeEach(async () => {
    await db.collection<AnyDoc>('f').insertMany(Array.from({ length: 25 }, (_, i) => ({ _id: i, even: i % 2 === 0 })));
  });

  it('find returns a first batch of batchSize and an Int64 cursor id; getMore drains the rest', async () => {
    const exact = { promoteLongs: false };
    const first = await db.command({ find: 'f', filter: {}, sort: { _id: 1 }, batchSize: 10 }, exact);
    expect(first.cursor.firstBatch.map((d: Document) => d._id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(first.cursor.ns).toBe(`${db.databaseName}.f`);
    const id = first.cursor.id;
    expect(Long.isLong(id)).toBe(true);
    expect(id.isZero()).toBe(false);
    const second = await db.command({ getMore: id, collection: 'f', batchSize: 10 }, exact);
    expect(second.cursor.nextBatch.map((d: Document) => d._id)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const third = await db.command({ getMore: id, collection: 'f', batchSize: 10 }, exact);
    expect(third.cursor.nextBatch.map((d: Document) => d._id)).toEqual([20, 21, 22, 23, 24]);
    expect(Number(third.cursor.id)).toBe(0);
  });

  it('an exhausted first batch has cursor id 0', async () => {
    const r = await db.command({ find: 'f', filter: { _id: { $lt: 3 } } });
    expect(Number(r.cursor.id)).toBe(0);
    expect(r.cursor.firstBatch).toHaveLength(3);
  });

  it('killCursors kills, and a getMore on a killed cursor is CursorNotFound (43)', async () => {
    const first = await db.command({ find: 'f', filter: {}, batchSize: 2 }, { promoteLongs: false });
    const id = first.cursor.id as Long;
    const killed = await db.command({ killCursors: 'f', cursors: [id] }, { promoteLongs: false });
    expect(killed.cursorsKilled.map(String)).toEqual([id.toString()]);
    const err = await serverError(db.command({ getMore: id, collection: 'f' }));
    expect(err.code).toBe(43);
  });

  it('honours filter, projection, sort, skip and limit', async () => {
    const r = await db.command({ find: 'f', filter: { even: true }, projection: { even: 0 }, sort: { _id: -1 }, skip: 1, limit: 3 });
    expect(r.cursor.firstBatch).toEqual([{ _id: 22 }, { _id: 20 }, { _id: 18 }]);
  });
});

describe('update', () => {
  beforeEach(async () => {
    await db.collection<AnyDoc>('u').insertMany([
      { _id: 1, n: 1, tags: ['a', 'b'], grades: [{ g: 80 }, { g: 95 }] },
      { _id: 2, n: 2, tags: ['b'], grades: [{ g: 60 }] },
    ]);
  });

  it('updates one or many (multi) and reports n and nModified', async () => {
    const one = await db.command({ update: 'u', updates: [{ q: {}, u: { $inc: { n: 10 } } }] });
    expect(one).toMatchObject({ ok: 1, n: 1, nModified: 1 });
    const many = await db.command({ update: 'u', updates: [{ q: {}, u: { $set: { seen: true } }, multi: true }] });
    expect(many).toMatchObject({ n: 2, nModified: 2 });
    const noop = await db.command({ update: 'u', updates: [{ q: {}, u: { $set: { seen: true } }, multi: true }] });
    expect(noop).toMatchObject({ n: 2, nModified: 0 });
  });

  it('upserts with $setOnInsert applied only on insert, reporting upserted [{index, _id}]', async () => {
    const r = await db.command({
      update: 'u',
      updates: [{ q: { _id: 9 }, u: { $set: { n: 9 }, $setOnInsert: { created: true } }, upsert: true }],
    });
    expect(r.n).toBe(1);
    expect(r.nModified).toBe(0);
    expect(r.upserted).toEqual([{ index: 0, _id: 9 }]);
    expect(await db.collection<AnyDoc>('u').findOne({ _id: 9 })).toEqual({ _id: 9, n: 9, created: true });
    await db.command({ update: 'u', updates: [{ q: { _id: 9 }, u: { $set: { n: 10 }, $setOnInsert: { created: false } }, upsert: true }] });
    expect(await db.collection<AnyDoc>('u').findOne({ _id: 9 })).toEqual({ _id: 9, n: 10, created: true });
  });

  it('an upsert copies equality fields of the query into the new document', async () => {
    await db.command({ update: 'u', updates: [{ q: { name: 'z', kind: { $eq: 'k' } }, u: { $inc: { c: 1 } }, upsert: true }] });
    const doc = await db.collection<AnyDoc>('u').findOne({ name: 'z' });
    expect(doc).toMatchObject({ name: 'z', kind: 'k', c: 1 });
    expect(doc?._id).toBeInstanceOf(ObjectId);
  });

  it('replaces a whole document but keeps its _id', async () => {
    await db.command({ update: 'u', updates: [{ q: { _id: 1 }, u: { fresh: 1 } }] });
    expect(await db.collection<AnyDoc>('u').findOne({ _id: 1 })).toEqual({ _id: 1, fresh: 1 });
  });

  it('applies arrayFilters', async () => {
    await db.command({
      update: 'u',
      updates: [{ q: { _id: 1 }, u: { $set: { 'grades.$[hi].top': true } }, arrayFilters: [{ 'hi.g': { $gte: 90 } }] }],
    });
    expect((await db.collection<AnyDoc>('u').findOne({ _id: 1 }))?.grades).toEqual([{ g: 80 }, { g: 95, top: true }]);
  });

  it('applies a pipeline update', async () => {
    await db.command({ update: 'u', updates: [{ q: { _id: 2 }, u: [{ $set: { double: { $multiply: ['$n', 2] } } }] }] });
    expect((await db.collection<AnyDoc>('u').findOne({ _id: 2 }))?.double).toBe(4);
  });

  it('rejects an unknown update operator with a server error', async () => {
    const r = await db.command({ update: 'u', updates: [{ q: { _id: 1 }, u: { $frobnicate: { n: 1 } } }] }).catch((e) => e);
    const code = r instanceof MongoServerError ? r.code : r.writeErrors?.[0]?.code;
    expect(code).toBe(9); // FailedToParse, as mongod answers
  });
});

describe('delete', () => {
  it('deletes one (limit 1) or all matching (limit 0)', async () => {
    await db.collection<AnyDoc>('d').insertMany([{ k: 1 }, { k: 1 }, { k: 1 }, { k: 2 }]);
    expect(await db.command({ delete: 'd', deletes: [{ q: { k: 1 }, limit: 1 }] })).toMatchObject({ n: 1 });
    expect(await db.command({ delete: 'd', deletes: [{ q: { k: 1 }, limit: 0 }] })).toMatchObject({ n: 2 });
    expect(await db.collection<AnyDoc>('d').find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ k: 2 }]);
  });
});

describe('findAndModify', () => {
  beforeEach(async () => {
    await db.collection<AnyDoc>('q').insertMany([
      { _id: 1, pri: 3, state: 'ready' },
      { _id: 2, pri: 9, state: 'ready' },
      { _id: 3, pri: 5, state: 'ready' },
    ]);
  });

  it('takes the first document by sort and returns it before or after (new) the update', async () => {
    const before = await db.command({ findAndModify: 'q', query: { state: 'ready' }, sort: { pri: -1 }, update: { $set: { state: 'taken' } } });
    expect(before.value).toEqual({ _id: 2, pri: 9, state: 'ready' });
    expect(before.lastErrorObject).toMatchObject({ n: 1, updatedExisting: true });
    const after = await db.command({
      findAndModify: 'q', query: { state: 'ready' }, sort: { pri: -1 }, update: { $set: { state: 'taken' } }, new: true, fields: { pri: 0 },
    });
    expect(after.value).toEqual({ _id: 3, state: 'taken' });
  });

  it('upserts, reporting lastErrorObject.upserted', async () => {
    const r = await db.command({ findAndModify: 'q', query: { _id: 7 }, update: { $set: { pri: 1 } }, upsert: true, new: true });
    expect(r.value).toEqual({ _id: 7, pri: 1 });
    expect(r.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false, upserted: 7 });
  });

  it('removes and returns the removed document; no match returns null', async () => {
    const r = await db.command({ findAndModify: 'q', query: { _id: 1 }, remove: true });
    expect(r.value).toEqual({ _id: 1, pri: 3, state: 'ready' });
    expect(await db.collection<AnyDoc>('q').countDocuments()).toBe(2);
    const none = await db.command({ findAndModify: 'q', query: { _id: 42 }, remove: true });
    expect(none.value).toBeNull();
    expect(none.lastErrorObject.n).toBe(0);
  });
});

describe('aggregate', () => {
  beforeEach(async () => {
    await db.collection<AnyDoc>('orders').insertMany([
      { _id: 1, cust: 'ann', items: ['pen', 'ink'], total: 10 },
      { _id: 2, cust: 'bob', items: ['pad'], total: 5 },
      { _id: 3, cust: 'ann', items: ['pad', 'pen'], total: 20 },
    ]);
    await db.collection<AnyDoc>('customers').insertMany([
      { _id: 'ann', city: 'Oslo' },
      { _id: 'bob', city: 'Rome' },
    ]);
  });
  const agg = (pipeline: Document[], coll = 'orders') => db.collection<AnyDoc>(coll).aggregate(pipeline).toArray();

  it('$match, $group, $sort', async () => {
    expect(await agg([{ $match: { total: { $gte: 5 } } }, { $group: { _id: '$cust', sum: { $sum: '$total' } } }, { $sort: { sum: -1 } }]))
      .toEqual([{ _id: 'ann', sum: 30 }, { _id: 'bob', sum: 5 }]);
  });

  it('$skip, $limit, $project, $addFields/$set, $unset', async () => {
    const r = await agg([
      { $sort: { _id: 1 } }, { $skip: 1 }, { $limit: 1 },
      { $project: { cust: 1, total: 1 } }, { $addFields: { vat: { $multiply: ['$total', 0.25] } } }, { $set: { x: 1 } }, { $unset: 'x' },
    ]);
    expect(r).toEqual([{ _id: 2, cust: 'bob', total: 5, vat: 1.25 }]);
  });

  it('$unwind, $sortByCount, $count', async () => {
    expect(await agg([{ $unwind: '$items' }, { $sortByCount: '$items' }, { $sort: { count: -1, _id: 1 } }])).toEqual([
      { _id: 'pad', count: 2 }, { _id: 'pen', count: 2 }, { _id: 'ink', count: 1 },
    ]);
    expect(await agg([{ $match: { cust: 'ann' } }, { $count: 'n' }])).toEqual([{ n: 2 }]);
  });

  it('$lookup joins another collection', async () => {
    const r = await agg([{ $match: { _id: 2 } }, { $lookup: { from: 'customers', localField: 'cust', foreignField: '_id', as: 'who' } }]);
    expect(r[0].who).toEqual([{ _id: 'bob', city: 'Rome' }]);
  });

  it('$facet and $replaceRoot', async () => {
    const [f] = await agg([{ $facet: { n: [{ $count: 'n' }], top: [{ $sort: { total: -1 } }, { $limit: 1 }, { $project: { _id: 1 } }] } }]);
    expect(f).toEqual({ n: [{ n: 3 }], top: [{ _id: 3 }] });
    expect(await agg([{ $match: { _id: 1 } }, { $replaceRoot: { newRoot: { c: '$cust' } } }])).toEqual([{ c: 'ann' }]);
  });

  it('returns large results through a cursor with batches', async () => {
    await db.collection<AnyDoc>('many').insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
    const first = await db.command({ aggregate: 'many', pipeline: [{ $sort: { i: 1 } }], cursor: { batchSize: 100 } });
    expect(first.cursor.firstBatch).toHaveLength(100);
    expect(Number(first.cursor.id)).not.toBe(0);
    expect(await db.collection<AnyDoc>('many').aggregate([{ $sort: { i: 1 } }], { batchSize: 7 }).toArray()).toHaveLength(250);
  });
});

describe('count and distinct', () => {
  it('count honours query, skip and limit', async () => {
    await db.collection<AnyDoc>('c').insertMany(Array.from({ length: 10 }, (_, i) => ({ i, odd: i % 2 === 1 })));
    expect((await db.command({ count: 'c' })).n).toBe(10);
    expect((await db.command({ count: 'c', query: { odd: true } })).n).toBe(5);
    expect((await db.command({ count: 'c', query: {}, skip: 3, limit: 4 })).n).toBe(4);
    expect((await db.command({ count: 'missing' })).n).toBe(0);
  });

  it('distinct returns unique values, unwinding arrays', async () => {
    await db.collection<AnyDoc>('d').insertMany([{ t: ['a', 'b'] }, { t: 'b' }, { t: 'c', x: 1 }, { x: 2 }]);
    const r = await db.command({ distinct: 'd', key: 't' });
    expect([...r.values].sort()).toEqual(['a', 'b', 'c']);
    expect((await db.command({ distinct: 'd', key: 't', query: { x: 1 } })).values).toEqual(['c']);
  });
});

describe('indexes', () => {
  it('createIndexes, listIndexes and dropIndexes', async () => {
    await db.collection<AnyDoc>('ix').insertOne({ a: 1, b: 1 });
    const created = await db.command({
      createIndexes: 'ix',
      indexes: [{ key: { a: 1 }, name: 'a_1', unique: true }, { key: { b: -1, a: 1 }, name: 'b_-1_a_1' }],
    });
    expect(created).toMatchObject({ ok: 1, numIndexesBefore: 1, numIndexesAfter: 3 });
    const again = await db.command({ createIndexes: 'ix', indexes: [{ key: { a: 1 }, name: 'a_1', unique: true }] });
    expect(again.numIndexesAfter).toBe(3);

    const list = await db.collection<AnyDoc>('ix').listIndexes().toArray();
    expect(list.map((i) => i.name)).toEqual(['_id_', 'a_1', 'b_-1_a_1']);
    expect(list[0]).toMatchObject({ v: 2, key: { _id: 1 }, name: '_id_' });
    expect(list[1]).toMatchObject({ key: { a: 1 }, unique: true });

    await db.command({ dropIndexes: 'ix', index: 'a_1' });
    expect((await db.collection<AnyDoc>('ix').listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'b_-1_a_1']);
    await db.command({ dropIndexes: 'ix', index: '*' });
    expect((await db.collection<AnyDoc>('ix').listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });

  it('a unique index rejects duplicates, a sparse one ignores missing fields, a partial one only covers its filter', async () => {
    const c = db.collection<AnyDoc>('uix');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.createIndex({ nick: 1 }, { unique: true, sparse: true });
    await c.createIndex({ code: 1 }, { unique: true, partialFilterExpression: { active: true } });
    await c.insertOne({ email: 'a@x' });
    await expect(c.insertOne({ email: 'a@x' })).rejects.toMatchObject({ code: 11000 });
    await c.insertMany([{ email: 'b@x' }, { email: 'c@x' }]); // two documents without nick
    await c.insertMany([{ email: 'd@x', code: 1, active: false }, { email: 'e@x', code: 1, active: false }]);
    await c.insertOne({ email: 'f@x', code: 1, active: true });
    await expect(c.insertOne({ email: 'g@x', code: 1, active: true })).rejects.toMatchObject({ code: 11000 });
  });

  it('a unique index with a case-insensitive collation rejects a value differing only in case', async () => {
    const c = db.collection<AnyDoc>('ciix');
    await c.createIndex({ email: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });
    await c.insertOne({ email: 'Ann@Example.org' });
    const err = await serverError(c.insertOne({ email: 'ann@example.org' }));
    expect(err.code).toBe(11000);
    await c.insertOne({ email: 'bob@example.org' });
    // Queries on the field still see every document (binary equality without a collation).
    expect(await c.countDocuments({ email: 'ann@example.org' })).toBe(0);
    expect(await c.countDocuments({ email: 'ann@example.org' }, { collation: { locale: 'en', strength: 2 } })).toBe(1);
  });

  it('a hint must name an existing index, by name or by key pattern (BadValue 2)', async () => {
    const c = db.collection<AnyDoc>('hinted');
    await c.insertMany([{ a: 1 }, { a: 2 }]);
    await c.createIndex({ a: 1 });
    expect(await c.find({ a: 1 }, { hint: 'a_1' }).toArray()).toHaveLength(1);
    expect(await c.find({ a: 1 }, { hint: { a: 1 } }).toArray()).toHaveLength(1);
    expect(await c.find({}, { hint: { $natural: 1 } }).toArray()).toHaveLength(2);
    expect((await serverError(c.find({}, { hint: 'nope_1' }).toArray())).code).toBe(2);
    expect((await serverError(c.countDocuments({}, { hint: { b: 1 } }))).code).toBe(2);
    expect((await serverError(c.aggregate([{ $match: {} }], { hint: 'nope_1' }).toArray())).code).toBe(2);
    expect((await serverError(c.updateOne({ a: 1 }, { $set: { b: 1 } }, { hint: 'nope_1' }))).code).toBe(2);
    expect((await serverError(c.deleteOne({ a: 1 }, { hint: 'nope_1' }))).code).toBe(2);
    expect((await serverError(c.findOneAndUpdate({ a: 1 }, { $set: { b: 1 } }, { hint: { nope: 1 } }))).code).toBe(2);
    expect(await c.countDocuments({ b: 1 })).toBe(0);
    // A collection that does not exist has no indexes to disagree with.
    expect(await db.collection<AnyDoc>('absent').find({}, { hint: 'nope_1' }).toArray()).toEqual([]);
  });

  it('a unique compound index compares the whole key', async () => {
    const c = db.collection<AnyDoc>('cix');
    await c.createIndex({ a: 1, b: 1 }, { unique: true });
    await c.insertMany([{ a: 1, b: 1 }, { a: 1, b: 2 }]);
    await expect(c.insertOne({ a: 1, b: 2 })).rejects.toMatchObject({ code: 11000 });
  });
});

describe('sessions, transactions and unknown commands', () => {
  it('endSessions is accepted', async () => {
    const s = client.startSession();
    await db.collection<AnyDoc>('s').insertOne({ a: 1 }, { session: s });
    await s.endSession();
    const r = await client.db('admin').command({ endSessions: [{ id: s.id!.id }] });
    expect(r.ok).toBe(1);
  });

  it('a transaction gets the error a standalone mongod gives (code 20)', async () => {
    const s = client.startSession();
    try {
      s.startTransaction();
      const err = await serverError(db.collection<AnyDoc>('t').insertOne({ a: 1 }, { session: s }));
      // The driver recognises mongod's standalone answer (code 20 with this message) and wraps it
      // in its "does not support retryable writes" advice, keeping the server's error inside.
      const original = (err as MongoServerError & { originalError?: MongoServerError }).originalError ?? err;
      expect(original.code).toBe(20);
      expect(original.codeName).toBe('IllegalOperation');
      expect(original.message).toBe('Transaction numbers are only allowed on a replica set member or mongos');
      expect(await db.collection<AnyDoc>('t').countDocuments()).toBe(0);
      // commitTransaction / abortTransaction exist on mongod but are refused the same way.
      for (const cmd of ['commitTransaction', 'abortTransaction'] as const) {
        expect((await serverError(client.db('admin').command({ [cmd]: 1 }))).code).toBe(20);
      }
    } finally {
      await s.abortTransaction().catch(() => undefined);
      await s.endSession();
    }
  });

  it('a retryable write sent by hand (txnNumber with its lsid) is refused as a standalone refuses it, and writes nothing', async () => {
    const s = client.startSession();
    try {
      const err = await serverError(
        db.command({ insert: 'retry', documents: [{ _id: 1 }], lsid: s.id, txnNumber: Long.fromNumber(1) }),
      );
      expect(err).toMatchObject({ code: 20, codeName: 'IllegalOperation', message: 'Transaction numbers are only allowed on a replica set member or mongos' });
      const fam = await serverError(db.command({ findAndModify: 'retry', query: {}, update: { $set: { a: 1 } }, upsert: true, lsid: s.id, txnNumber: Long.fromNumber(2) }));
      expect(fam.code).toBe(20);
      expect(await db.collection('retry').countDocuments()).toBe(0);
    } finally {
      await s.endSession();
    }
  });

  it('readConcern linearizable is refused as a standalone refuses it (NotAReplicaSet 123); local, available and majority are served', async () => {
    await db.collection('rc').insertOne({ a: 1 });
    const err = await serverError(db.collection('rc').find({}, { readConcern: { level: 'linearizable' } }).toArray());
    expect(err).toMatchObject({ code: 123, codeName: 'NotAReplicaSet', message: 'node needs to be a replica set member to use read concern' });
    for (const level of ['local', 'available', 'majority'] as const) {
      expect(await db.collection('rc').find({}, { readConcern: { level } }).toArray()).toHaveLength(1);
    }
  });

  it('a write command with no statements, or more than maxWriteBatchSize, is InvalidLength (16) and writes nothing', async () => {
    for (const [cmd, field] of [['insert', 'documents'], ['update', 'updates'], ['delete', 'deletes']] as const) {
      const err = await serverError(db.command({ [cmd]: 'batches', [field]: [] }));
      expect(err).toMatchObject({ code: 16, codeName: 'InvalidLength', message: 'Write batch sizes must be between 1 and 100000. Got 0 operations.' });
    }
    const tooMany = await serverError(db.command({ insert: 'batches', documents: Array.from({ length: 100_001 }, (_, i) => ({ i })) }));
    expect(tooMany).toMatchObject({ code: 16, message: 'Write batch sizes must be between 1 and 100000. Got 100001 operations.' });
    expect(await db.collection('batches').countDocuments()).toBe(0);
    // The driver splits a bigger insertMany itself.
    await db.collection('batches').insertMany(Array.from({ length: 100_001 }, (_, i) => ({ i })));
    expect(await db.collection('batches').countDocuments()).toBe(100_001);
  });

  it('renaming a collection to itself is IllegalOperation (20); a refused rename to another database leaves no database behind', async () => {
    await db.collection('selfname').insertOne({ a: 1 });
    const admin = client.db('admin');
    const err = await serverError(admin.command({ renameCollection: `${db.databaseName}.selfname`, to: `${db.databaseName}.selfname` }));
    expect(err).toMatchObject({ code: 20, message: "Can't rename a collection to itself" });
    await serverError(admin.command({ renameCollection: `${db.databaseName}.selfname`, to: 'rename-target-db.selfname' }));
    const names = ((await admin.command({ listDatabases: 1, nameOnly: true })) as Document).databases.map((d: Document) => d.name);
    expect(names).not.toContain('rename-target-db');
    expect(await db.collection('selfname').countDocuments()).toBe(1);
  });

  it('an unknown command is CommandNotFound (59)', async () => {
    const err = await serverError(db.command({ frobnicate: 1 }));
    expect(err.code).toBe(59);
    expect(err.codeName).toBe('CommandNotFound');
  });
});

describe('query semantics', () => {
  it('sorts across BSON types in MongoDB order', async () => {
    const c = db.collection<AnyDoc>('mixed');
    const id = new ObjectId();
    const date = new Date('2024-01-01T00:00:00Z');
    await c.insertMany([
      { _id: 1, v: 'str' }, { _id: 2, v: 5 }, { _id: 3, v: null }, { _id: 4, v: { a: 1 } },
      { _id: 5, v: true }, { _id: 6, v: date }, { _id: 7, v: id }, { _id: 8, v: Long.fromNumber(3) }, { _id: 9, v: 4.5 },
    ]);
    const order = (await c.find().sort({ v: 1, _id: 1 }).toArray()).map((d) => d._id);
    // null < numbers < string < object < ObjectId < bool < date
    expect(order).toEqual([3, 8, 9, 2, 1, 4, 7, 5, 6]);
  });

  it('compares Long and Decimal128 numerically with other numbers in range queries', async () => {
    const c = db.collection<AnyDoc>('nums');
    const { Decimal128 } = await import('mongodb');
    await c.insertMany([
      { _id: 1, n: Long.fromString('9007199254740993') },
      { _id: 2, n: Decimal128.fromString('2.5') },
      { _id: 3, n: 2 },
      { _id: 4, n: 3.5 },
    ]);
    expect((await c.find({ n: { $gt: 2, $lt: 4 } }).sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([2, 4]);
    expect((await c.find({ n: { $gt: Long.fromString('9007199254740992') } }).toArray()).map((d) => d._id)).toEqual([1]);
  });
});
