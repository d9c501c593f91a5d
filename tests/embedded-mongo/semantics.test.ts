// Query, projection, update and aggregation semantics as mongod defines them, on the cases that
// are easy to get subtly wrong: missing vs null, arrays in filters and sorts, operator
// conflicts and their error codes, $bucket boundaries, timezones.
import { Binary, Int32, MongoServerError, type Db, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStore, type RunningStore } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

let store: RunningStore;
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
  db = client.db('semantics');
  await db.collection<AnyDoc>('q').insertMany([
    { _id: 1, a: [1, 2, 3], b: { c: [{ d: 1 }, { d: 2 }] }, s: 'Hello', t: ['x', 'y'], n: null },
    { _id: 2, a: [4], b: { c: [{ d: 3 }] }, s: 'world', t: [] },
    { _id: 3, a: 5, s: 'HELLO there', m: { k: 1 } },
  ]);
});

afterAll(async () => {
  await client?.close();
  await store?.stop();
});

const ids = async (filter: AnyDoc, options: AnyDoc = {}) =>
  (await db.collection<AnyDoc>('q').find(filter, options).toArray()).map((d) => d._id);

describe('queries', () => {
  it('null matches null and missing; $ne: null matches neither', async () => {
    expect(await ids({ n: null })).toEqual([1, 2, 3]);
    expect(await ids({ n: { $ne: null } })).toEqual([]);
    expect(await ids({ m: { $exists: false } })).toEqual([1, 2]);
  });

  it('array fields match by element, by position and through embedded documents', async () => {
    expect(await ids({ a: { $gt: 3 } })).toEqual([2, 3]);
    expect(await ids({ a: { $all: [1, 2] } })).toEqual([1]);
    expect(await ids({ t: { $size: 0 } })).toEqual([2]);
    expect(await ids({ 'a.1': 2 })).toEqual([1]);
    expect(await ids({ 'b.c.d': 3 })).toEqual([2]);
    expect(await ids({ 'b.c': { $elemMatch: { d: { $gt: 1 } } } })).toEqual([1, 2]);
    expect(await ids({ a: { $type: 'array' } })).toEqual([1, 2]);
  });

  it('regular expressions, $in with regexes, $not, $nor and $expr', async () => {
    expect(await ids({ s: { $regex: '^hello', $options: 'i' } })).toEqual([1, 3]);
    expect(await ids({ s: { $in: [/^w/, 'nope'] } })).toEqual([2]);
    expect(await ids({ s: { $not: /^H/ } })).toEqual([2]);
    expect(await ids({ $nor: [{ a: 5 }, { a: 4 }] })).toEqual([1]);
    expect(await ids({ $expr: { $gt: [{ $size: { $ifNull: ['$t', []] } }, 1] } })).toEqual([1]);
  });

  it('sorts an array field by its smallest element ascending and its largest descending', async () => {
    expect(await ids({}, { sort: { a: 1 } })).toEqual([1, 2, 3]);
    expect(await ids({}, { sort: { a: -1 } })).toEqual([3, 2, 1]);
  });
});

describe('bitwise query operators', () => {
  beforeAll(async () => {
    // The documents of mongod's own $bitsAllSet examples: 54 = 0b110110, 20 = 0b10100, -127 (two's complement).
    await db.collection<AnyDoc>('bits').insertMany([
      { _id: 1, a: 54, b: new Binary(Buffer.from([0x36])) },
      { _id: 2, a: 20, b: new Binary(Buffer.from([0x14])) },
      { _id: 3, a: new Int32(-127) },
      { _id: 4, a: 5.5 },
      { _id: 5, a: [1, 32] },
      { _id: 6, a: 'str' },
    ]);
  });
  const bitIds = async (filter: AnyDoc) => (await db.collection<AnyDoc>('bits').find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);

  it('$bitsAllSet / $bitsAnySet / $bitsAllClear / $bitsAnyClear take a mask, positions or BinData, over integers and BinData', async () => {
    expect(await bitIds({ a: { $bitsAllSet: [1, 5] } })).toEqual([1]);
    expect(await bitIds({ a: { $bitsAllSet: 50 } })).toEqual([1]);
    expect(await bitIds({ a: { $bitsAnySet: [1, 5] } })).toEqual([1, 5]);
    expect(await bitIds({ a: { $bitsAllClear: [1, 5] } })).toEqual([2, 3, 5]);
    expect(await bitIds({ a: { $bitsAnyClear: [1, 5] } })).toEqual([2, 3, 5]);
    // A negative number is sign-extended: every position past 63 is set.
    expect(await bitIds({ a: { $bitsAllSet: [70] } })).toEqual([3]);
    expect(await bitIds({ b: { $bitsAllSet: new Binary(Buffer.from([0x30])) } })).toEqual([1]);
    expect(await bitIds({ b: { $bitsAnyClear: [2] } })).toEqual([]);
  });

  it('refuses a bad mask with mongod’s BadValue (2)', async () => {
    for (const bad of [-1, 1.5, 'x', [-2]]) {
      await expect(db.collection('bits').find({ a: { $bitsAllSet: bad } }).toArray()).rejects.toMatchObject({ code: 2 });
    }
  });
});

describe('projections', () => {
  const one = async (projection: AnyDoc, filter: AnyDoc = { _id: 1 }) => db.collection<AnyDoc>('q').findOne(filter, { projection });

  it('$slice, $elemMatch and dotted inclusion', async () => {
    expect(await one({ a: { $slice: -2 }, s: 1 })).toEqual({ _id: 1, a: [2, 3], s: 'Hello' });
    expect(await one({ 'b.c': { $elemMatch: { d: 2 } } })).toEqual({ _id: 1, b: { c: [{ d: 2 }] } });
    expect(await one({ 'b.c.d': 1 })).toEqual({ _id: 1, b: { c: [{ d: 1 }, { d: 2 }] } });
    expect(await one({ s: 0, a: 0, b: 0, t: 0 })).toEqual({ _id: 1, n: null });
  });

  it('the positional projection keeps the array element the query matched', async () => {
    expect(await one({ 'a.$': 1 }, { a: 2 })).toEqual({ _id: 1, a: [2] });
    expect(await one({ 'a.$': 1, s: 1 }, { a: { $gte: 2 } })).toEqual({ _id: 1, a: [2], s: 'Hello' });
    expect(await one({ 'b.c.$': 1 }, { 'b.c.d': 2 })).toEqual({ _id: 1, b: { c: [{ d: 2 }] } });
    expect(await one({ 'b.c.$': 1 }, { _id: 2, 'b.c': { $elemMatch: { d: { $gt: 1 } } } })).toEqual({ _id: 2, b: { c: [{ d: 3 }] } });
    const fam = await db.command({ findAndModify: 'q', query: { 'b.c.d': 1 }, update: { $set: { seen: true } }, fields: { 'b.c.$': 1 } });
    expect(fam.value).toEqual({ _id: 1, b: { c: [{ d: 1 }] } });
    await db.collection<AnyDoc>('q').updateOne({ _id: 1 }, { $unset: { seen: '' } });
  });

  it('mixing inclusion and exclusion is an error', async () => {
    await expect(one({ s: 1, a: 0 })).rejects.toBeInstanceOf(MongoServerError);
  });
});

describe('update operators', () => {
  const u = () => db.collection<AnyDoc>('u');
  const after = async (update: AnyDoc, filter: AnyDoc = {}) => {
    await u().updateOne({ _id: 1, ...filter }, update);
    return u().findOne({ _id: 1 });
  };

  it('apply the way mongod applies them', async () => {
    await u().insertOne({ _id: 1, arr: [3, 1, 2], tags: ['a'], n: 5, o: { x: 1 }, items: [{ k: 'a', v: 1 }, { k: 'b', v: 2 }] });
    expect((await after({ $push: { arr: { $each: [5, 0], $sort: 1, $slice: 3 } } }))!.arr).toEqual([0, 1, 2]);
    expect((await after({ $addToSet: { tags: { $each: ['a', 'b'] } } }))!.tags).toEqual(['a', 'b']);
    expect((await after({ $pull: { items: { v: { $gte: 2 } } } }))!.items).toEqual([{ k: 'a', v: 1 }]);
    const renamed = await after({ $rename: { o: 'p' } });
    expect(renamed!.p).toEqual({ x: 1 });
    expect(renamed!.o).toBeUndefined();
    expect((await after({ $min: { n: 3 }, $max: { m: 10 } }))).toMatchObject({ n: 3, m: 10 });
    expect((await after({ $mul: { n: 2 } }))!.n).toBe(6);
    expect((await after({ $set: { 'items.$.v': 9 } }, { 'items.k': 'a' }))!.items).toEqual([{ k: 'a', v: 9 }]);
    expect((await after({ $inc: { 'items.$[].v': 1 } }))!.items).toEqual([{ k: 'a', v: 10 }]);
    expect((await after({ $pop: { arr: -1 } }))!.arr).toEqual([1, 2]);
    expect((await after({ $unset: { p: '' } }))!.p).toBeUndefined();
    expect((await after({ $currentDate: { at: true } }))!.at).toBeInstanceOf(Date);
  });

  it('refuse what mongod refuses, with its codes', async () => {
    const code = async (update: AnyDoc) => ((await u().updateOne({ _id: 1 }, update).catch((e) => e)) as MongoServerError).code;
    expect(await code({ $set: { n: 1 }, $inc: { n: 1 } })).toBe(40); // ConflictingUpdateOperators
    expect(await code({ $set: { _id: 2 } })).toBe(66); // ImmutableField
    expect(await code({ $push: { n: 1 } })).toBe(2); // BadValue: not an array
    await u().updateOne({ _id: 1 }, { $set: { str: 'x' } });
    expect(await code({ $inc: { str: 1 } })).toBe(14); // TypeMismatch
  });
});

describe('aggregation', () => {
  const g = () => db.collection<AnyDoc>('g');
  beforeAll(async () => {
    await g().insertMany([
      { k: 'a', v: 1, d: new Date('2024-03-05T10:00:00Z') },
      { k: 'a', v: 3, d: new Date('2024-03-05T18:30:00Z') },
      { k: 'b', v: 2, d: new Date('2024-03-05T12:00:00Z') },
    ]);
  });

  it('$group accumulators', async () => {
    const r = await g().aggregate([
      { $sort: { v: 1 } },
      { $group: { _id: '$k', push: { $push: '$v' }, first: { $first: '$v' }, last: { $last: '$v' }, avg: { $avg: '$v' }, min: { $min: '$v' }, max: { $max: '$v' }, c: { $sum: 1 } } },
      { $sort: { _id: 1 } },
    ]).toArray();
    expect(r).toEqual([
      { _id: 'a', push: [1, 3], first: 1, last: 3, avg: 2, min: 1, max: 3, c: 2 },
      { _id: 'b', push: [2], first: 2, last: 2, avg: 2, min: 2, max: 2, c: 1 },
    ]);
  });

  it('$bucket boundaries are inclusive below and exclusive above', async () => {
    const r = await g().aggregate([{ $bucket: { groupBy: '$v', boundaries: [0, 2, 10], default: 'other', output: { n: { $sum: 1 } } } }]).toArray();
    expect(r).toEqual([{ _id: 0, n: 1 }, { _id: 2, n: 2 }]);
    const inFacet = await g().aggregate([{ $facet: { b: [{ $bucket: { groupBy: '$v', boundaries: [1, 3, 4] } }] } }]).toArray();
    expect(inFacet[0].b).toEqual([{ _id: 1, count: 2 }, { _id: 3, count: 1 }]);
  });

  it('$count over no documents yields no document, as in the usual $facet pagination', async () => {
    expect(await g().aggregate([{ $match: { k: 'zzz' } }, { $count: 'n' }]).toArray()).toEqual([]);
    expect(await db.collection<AnyDoc>('empty').aggregate([{ $count: 'n' }]).toArray()).toEqual([]);
    expect(await g().aggregate([{ $match: { k: 'a' } }, { $count: 'n' }]).toArray()).toEqual([{ n: 2 }]);
    const [page] = await g().aggregate([
      { $match: { k: 'zzz' } },
      { $facet: { total: [{ $count: 'n' }], rows: [{ $skip: 0 }, { $limit: 10 }] } },
    ]).toArray();
    expect(page).toEqual({ total: [], rows: [] });
  });

  it('$dateToString honours a timezone (18:30Z is the next day in Ho Chi Minh City)', async () => {
    const r = await g().aggregate([
      { $sort: { d: 1 } },
      { $project: { _id: 0, day: { $dateToString: { format: '%Y-%m-%d %H:%M', date: '$d', timezone: 'Asia/Ho_Chi_Minh' } } } },
    ]).toArray();
    expect(r.map((x) => x.day)).toEqual(['2024-03-05 17:00', '2024-03-05 19:00', '2024-03-06 01:30']);
  });

  it('$lookup with let and a pipeline, $cond, $filter, $map, $concat', async () => {
    const [x] = await g().aggregate([
      { $match: { k: 'b' } },
      { $lookup: { from: 'g', let: { kk: '$k' }, pipeline: [{ $match: { $expr: { $ne: ['$k', '$$kk'] } } }, { $sort: { v: 1 } }, { $project: { _id: 0, v: 1 } }], as: 'others' } },
      {
        $project: {
          _id: 0, others: 1,
          c: { $cond: [{ $gt: ['$v', 0] }, 'pos', 'neg'] },
          f: { $filter: { input: [1, 2, 3], cond: { $gt: ['$$this', 1] } } },
          m: { $map: { input: [1, 2], in: { $multiply: ['$$this', 10] } } },
          cc: { $concat: ['$k', '-', { $toString: '$v' }] },
        },
      },
    ]).toArray();
    expect(x).toEqual({ others: [{ v: 1 }, { v: 3 }], c: 'pos', f: [2, 3], m: [10, 20], cc: 'b-2' });
  });

  it('$out replaces the target collection', async () => {
    await db.collection<AnyDoc>('gout').insertOne({ stale: true });
    await g().aggregate([{ $match: { k: 'a' } }, { $out: 'gout' }]).toArray();
    expect(await db.collection<AnyDoc>('gout').countDocuments()).toBe(2);
    expect(await db.collection<AnyDoc>('gout').countDocuments({ stale: true })).toBe(0);
  });

  it('$out {db, coll} and $merge into {db, coll} write into the named database; malformed or internal targets are refused before anything is written', async () => {
    const other = client.db('semantics_reports');
    await other.collection<AnyDoc>('a_out').insertOne({ stale: true });
    await g().aggregate([{ $match: { k: 'a' } }, { $out: { db: 'semantics_reports', coll: 'a_out' } }]).toArray();
    expect(await other.collection<AnyDoc>('a_out').countDocuments({})).toBe(2);
    expect(await other.collection<AnyDoc>('a_out').countDocuments({ stale: true })).toBe(0);
    expect(await db.listCollections({ name: 'a_out' }).toArray()).toEqual([]);
    await g().aggregate([{ $match: { k: 'a' } }, { $merge: { into: { db: 'semantics_reports', coll: 'a_merge' } } }]).toArray();
    await g().aggregate([{ $match: { k: 'a' } }, { $merge: { into: { coll: 'a_merge_here' } } }]).toArray();
    expect([await other.collection('a_merge').countDocuments({}), await db.collection('a_merge_here').countDocuments({})]).toEqual([2, 2]);

    const refusal = (stage: AnyDoc) => g().aggregate([{ $match: { k: 'a' } }, stage]).toArray().then(() => undefined, (error: MongoServerError) => ({ code: error.code, message: error.message }));
    expect(await refusal({ $out: { coll: 'x' } })).toEqual({ code: 40414, message: "BSON field '$out.db' is missing but a required field" });
    expect(await refusal({ $out: { db: 'semantics', coll: 5 } })).toMatchObject({ code: 14 });
    expect(await refusal({ $out: { db: 'semantics', coll: 'x', extra: 1 } })).toMatchObject({ code: 40415 });
    expect(await refusal({ $out: { db: 'admin', coll: 'x' } })).toMatchObject({ code: 31321 });
    expect(await refusal({ $out: 'system.x' })).toMatchObject({ code: 17385 });
    expect(await refusal({ $merge: { whenMatched: 'replace' } })).toMatchObject({ code: 40414 });
    expect(await refusal({ $merge: { into: { db: 'local', coll: 'x' } } })).toMatchObject({ code: 31321 });
    await db.createCollection('a_view', { viewOn: 'g', pipeline: [] });
    await db.createCollection('a_capped', { capped: true, size: 4096 });
    expect(await refusal({ $out: 'a_view' })).toMatchObject({ code: 166 });
    expect(await refusal({ $merge: { into: 'a_view' } })).toMatchObject({ code: 166 });
    expect(await refusal({ $out: 'a_capped' })).toMatchObject({ code: 17152 });
    expect(await db.collection('a_capped').countDocuments({})).toBe(0);
    // Nothing was written by a refused stage: no collection named after the malformed spec.
    expect((await db.listCollections().toArray()).map((c) => c.name).filter((name) => ['x', 'undefined', 'system.x'].includes(name))).toEqual([]);
  });

  it("$merge's into is parsed as mongod parses it (51178, 5786800, 5786801), and $out's {db, coll} field by field, null counting as absent", async () => {
    const refusal = (stage: AnyDoc) => g().aggregate([{ $match: { k: 'a' } }, stage]).toArray().then(() => undefined, (error: MongoServerError) => ({ code: error.code, message: error.message }));
    expect(await refusal({ $merge: { into: 5 } })).toMatchObject({ code: 51178 });
    expect(await refusal({ $merge: { into: null } })).toMatchObject({ code: 51178 });
    expect(await refusal({ $merge: { into: '' } })).toEqual({ code: 5786800, message: "$merge 'into' field cannot be an empty string" });
    expect(await refusal({ $merge: { into: { db: 'semantics_reports' } } })).toMatchObject({ code: 5786801 });
    expect(await refusal({ $merge: { into: { coll: null } } })).toMatchObject({ code: 5786801 });
    expect(await refusal({ $merge: { into: { coll: '' } } })).toMatchObject({ code: 5786801 });
    // mongod parses into's document on its own (IDLParserContext named after the field): 'into.…'.
    expect(await refusal({ $merge: { into: { db: 5, coll: 'x' } } })).toEqual({ code: 14, message: "BSON field 'into.db' is the wrong type 'int', expected type 'string'" });
    expect(await refusal({ $merge: { into: { coll: 'x', foo: 1 } } })).toEqual({ code: 40415, message: "BSON field 'into.foo' is an unknown field." });
    // The IDL reads the fields in order: coll's wrong type is met before db is found missing.
    expect(await refusal({ $out: { coll: 5 } })).toMatchObject({ code: 14 });
    expect(await refusal({ $out: { db: 'semantics', coll: null } })).toEqual({ code: 40414, message: "BSON field '$out.coll' is missing but a required field" });
  });

  it('$out and $merge inside $facet, $lookup or $unionWith are refused with the code of the stage around them (40600, 51047, 31441)', async () => {
    const refusal = (pipeline: AnyDoc[]) => g().aggregate(pipeline).toArray().then(() => undefined, (error: MongoServerError) => ({ code: error.code, message: error.message }));
    expect(await refusal([{ $facet: { a: [{ $out: 'f' }] } }])).toEqual({ code: 40600, message: '$out is not allowed to be used within a $facet stage' });
    expect(await refusal([{ $facet: { a: [{ $match: {} }, { $merge: { into: 'f' } }] } }])).toEqual({ code: 40600, message: '$merge is not allowed to be used within a $facet stage' });
    expect(await refusal([{ $lookup: { from: 'g', pipeline: [{ $out: 'f' }], as: 'x' } }])).toEqual({ code: 51047, message: "$out is not allowed within a $lookup's sub-pipeline" });
    expect(await refusal([{ $lookup: { from: 'g', pipeline: [{ $out: 'f' }, { $match: {} }], as: 'x' } }])).toMatchObject({ code: 51047 });
    expect(await refusal([{ $unionWith: { coll: 'g', pipeline: [{ $merge: { into: 'f' } }] } }])).toEqual({ code: 31441, message: "$merge is not allowed within a $unionWith's sub-pipeline" });
    expect(await refusal([{ $out: 'f' }, { $match: {} }])).toMatchObject({ code: 40601 });
    expect((await db.listCollections({ name: 'f' }).toArray()).length).toBe(0);
  });

  it("$merge's modes and let are checked as mongod checks them before anything is written", async () => {
    const refusal = (stage: AnyDoc) => g().aggregate([{ $match: { k: 'a' } }, stage]).toArray().then(() => undefined, (error: MongoServerError) => ({ code: error.code, message: error.message }));
    expect(await refusal({ $merge: { into: 'merge_modes', whenMatched: 'bogus' } })).toEqual({ code: 2, message: "Enumeration value 'bogus' for field 'whenMatched' is not a valid value." });
    expect(await refusal({ $merge: { into: 'merge_modes', whenMatched: 5 } })).toMatchObject({ code: 51191 });
    expect(await refusal({ $merge: { into: 'merge_modes', whenNotMatched: 'bogus' } })).toEqual({ code: 2, message: "Enumeration value 'bogus' for field '$merge.whenNotMatched' is not a valid value." });
    expect(await refusal({ $merge: { into: 'merge_modes', extra: 1 } })).toEqual({ code: 40415, message: "BSON field '$merge.extra' is an unknown field." });
    expect(await refusal({ $merge: { into: 'merge_modes', let: { a: 1 } } })).toEqual({ code: 51199, message: "Cannot use 'let' variables with 'whenMatched: merge' mode" });
    expect(await refusal({ $merge: { into: 'merge_modes', let: { a: 1 }, whenMatched: 'replace' } })).toMatchObject({ code: 51199 });
    expect(await refusal({ $merge: { into: 'merge_modes', let: { new: '$k' }, whenMatched: [{ $set: { z: 1 } }] } })).toMatchObject({ code: 51273 });
    expect(await db.listCollections({ name: 'merge_modes' }).toArray()).toEqual([]);
  });

  it("$merge on fields other than _id needs the target's unique index on them, and matches on all of them", async () => {
    const refusal = (stage: AnyDoc) => g().aggregate([{ $group: { _id: '$k', total: { $sum: '$v' } } }, { $project: { _id: 0, k: '$_id', total: 1 } }, stage]).toArray().then(() => undefined, (error: MongoServerError) => ({ code: error.code, message: error.message }));
    expect(await refusal({ $merge: { into: 'merge_on', on: 'k' } })).toEqual({ code: 51183, message: 'Cannot find index to verify that join fields will be unique' });
    const target = db.collection<AnyDoc>('merge_on');
    await target.insertMany([{ _id: 'first', k: 'a', region: 'north', total: 0 }, { _id: 'second', k: 'a', region: 'south', total: 0 }]);
    await target.createIndex({ k: 1 });
    expect(await refusal({ $merge: { into: 'merge_on', on: 'k' } })).toMatchObject({ code: 51183 });
    await target.createIndex({ region: 1, k: 1 }, { unique: true });
    expect(await refusal({ $merge: { into: 'merge_on', on: 5 } })).toMatchObject({ code: 51186 });
    expect(await refusal({ $merge: { into: 'merge_on', on: [] } })).toMatchObject({ code: 51187 });
    // Every document of the pipeline needs the fields: these have no region.
    expect(await refusal({ $merge: { into: 'merge_on', on: ['k', 'region'] } })).toMatchObject({ code: 51132 });
    await g().aggregate([
      { $group: { _id: '$k', total: { $sum: '$v' } } },
      { $project: { _id: 0, k: '$_id', region: 'south', total: 1 } },
      { $merge: { into: 'merge_on', on: ['k', 'region'], whenNotMatched: 'discard' } },
    ]).toArray();
    // Only the document matching both fields changed, and it kept its _id.
    expect(await target.find({}, { projection: { _id: 1, total: 1 } }).sort({ _id: 1 }).toArray()).toEqual([{ _id: 'first', total: 0 }, { _id: 'second', total: 4 }]);
  });

  it('a $merge that inserts nothing creates neither its target collection nor its database', async () => {
    const databases = async () => (await client.db('admin').admin().listDatabases()).databases.map((d: AnyDoc) => d.name);
    await g().aggregate([{ $match: { k: 'none' } }, { $merge: { into: { db: 'semantics_never', coll: 'm' } } }]).toArray();
    await g().aggregate([{ $merge: { into: { db: 'semantics_never', coll: 'm' }, whenNotMatched: 'discard' } }]).toArray();
    await g().aggregate([{ $merge: { into: 'merge_discarded', whenNotMatched: 'discard' } }]).toArray();
    await expect(g().aggregate([{ $merge: { into: 'merge_failed', whenNotMatched: 'fail' } }]).toArray()).rejects.toMatchObject({ code: 13113 });
    expect(await databases()).not.toContain('semantics_never');
    expect(await db.listCollections({ name: { $in: ['merge_discarded', 'merge_failed'] } }).toArray()).toEqual([]);
  });

  it('$merge whenMatched as a pipeline updates the matched document, with $$new the incoming one and let evaluated against it', async () => {
    const target = db.collection<AnyDoc>('merge_pipeline');
    await target.insertMany([{ _id: 'a', total: 10, runs: 1 }, { _id: 'b', total: 1, runs: 1 }]);
    await g().aggregate([
      { $group: { _id: '$k', total: { $sum: '$v' } } },
      { $merge: { into: 'merge_pipeline', whenMatched: [{ $set: { total: { $add: ['$total', '$$new.total'] }, runs: { $add: ['$runs', 1] } } }] } },
    ]).toArray();
    await g().aggregate([
      { $group: { _id: '$k', total: { $sum: '$v' } } },
      { $merge: { into: 'merge_pipeline', let: { doubled: { $multiply: ['$total', 2] } }, whenMatched: [{ $set: { last: '$$doubled' } }, { $unset: 'runs' }] } },
    ]).toArray();
    const sums = Object.fromEntries((await g().aggregate([{ $group: { _id: '$k', total: { $sum: '$v' } } }]).toArray()).map((d) => [d._id, d.total]));
    expect(await target.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'a', total: 10 + sums.a, last: 2 * sums.a },
      { _id: 'b', total: 1 + sums.b, last: 2 * sums.b },
    ]);
  });

  it('$out to a namespace mongod calls invalid is refused (73) before anything runs, and no temporary collection is left behind', async () => {
    const refusal = (stage: AnyDoc) => g().aggregate([{ $match: { k: 'a' } }, stage]).toArray().then(() => undefined, (error: MongoServerError) => ({ code: error.code, message: error.message }));
    expect(await refusal({ $out: '' })).toEqual({ code: 73, message: 'Invalid $out target namespace, semantics.' });
    expect(await refusal({ $out: { db: 'semantics', coll: '' } })).toEqual({ code: 73, message: 'Invalid $out target namespace, semantics.' });
    expect(await refusal({ $out: { db: '', coll: 'x' } })).toMatchObject({ code: 73 });
    expect(await refusal({ $out: { db: 'semantics', coll: 'a\0b' } })).toMatchObject({ code: 73 });
    expect(await refusal({ $out: { db: 'semantics', coll: 'a$b' } })).toMatchObject({ code: 73 });
    expect(await refusal({ $merge: { into: { coll: 'a\0b' } } })).toMatchObject({ code: 73 });
    // Nothing created: no temporary collection of a $out that could never be renamed over its target.
    expect((await db.listCollections().toArray()).map((c) => c.name).filter((name) => name.startsWith('tmp.'))).toEqual([]);
  });
});
