// A counting [$match, $group] whose fields are all in one index is answered from the index's
// entries (server/embedded-mongo/covered-group.ts) without decoding a document, and gives
// exactly the answer of reading the documents (internalPipelineOptimizations off). Where the index
// cannot stand in for the documents (an array on a key path, null that may be missing and matters,
// a sparse or partial index, a field outside the index) the documents are read as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EJSON } from 'bson';
import { Decimal128, Double, Int32, Long, ObjectId, Timestamp, type Document, type MongoClient } from 'mongodb';
import { connect, startStore, type RunningStore } from './helpers.js';

let store: RunningStore;
let client: MongoClient;

const meeting = new ObjectId();
const other = new ObjectId();
const sites = [new ObjectId(), new ObjectId(), new ObjectId()];
const statuses = ['present', 'absent', 'leftEarly', 'expected'];
const reasons = ['ốm', 'công tác', 'Ốm'];

/** Attendance-like records: every state, reason, lateness; null and missing statuses and reasons; numbers of three types. */
const records: Document[] = Array.from({ length: 600 }, (_, i) => ({
  _id: new ObjectId(),
  meetingId: i % 7 === 6 ? other : meeting,
  siteId: sites[i % sites.length],
  ...(i % 17 === 0 ? {} : i % 19 === 0 ? { status: null } : { status: statuses[i % statuses.length] }),
  ...(i % 4 === 1 ? { absence: { reason: reasons[i % reasons.length], note: 'x' } } : i % 4 === 2 ? { absence: null } : {}),
  late: i % 5 === 0 ? true : i % 11 === 0 ? null : false,
  weight: [new Int32(1), new Double(1), new Long(1), new Double(2.5)][i % 4],
  walkIn: i % 13 === 0,
}));

async function scanned(): Promise<number> {
  const status = await client.db('admin').command({ serverStatus: 1 });
  const value = status.metrics.queryExecutor.scannedObjects as Long | number;
  return typeof value === 'number' ? value : value.toNumber();
}

async function setOptimizations(on: boolean): Promise<void> {
  await client.db('admin').command({ setParameter: 1, internalPipelineOptimizations: on });
}

/** The reply read from the documents and with the optimizations on, as canonical Extended JSON in a fixed order, and how many documents the latter decoded. */
async function both(collection: string, pipeline: Document[]): Promise<{ optimized: string; documents: string; decoded: number; rows: Document[] }> {
  const run = async () => client.db('covered').collection(collection).aggregate(pipeline).toArray();
  const canonical = (rows: Document[]) => rows.map((row) => EJSON.stringify(row, { relaxed: false })).sort().join('\n');
  await setOptimizations(false);
  const documents = await run();
  await setOptimizations(true);
  const before = await scanned();
  const optimized = await run();
  const decoded = (await scanned()) - before;
  return { optimized: canonical(optimized), documents: canonical(documents), decoded, rows: optimized };
}

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
  const db = client.db('covered');
  await db.collection('records').createIndex({ meetingId: 1, siteId: 1, status: 1, 'absence.reason': 1, late: 1, walkIn: 1 });
  await db.collection('records').createIndex({ meetingId: 1, weight: -1 });
  await db.collection('records').insertMany(records);
  // The same records where one holds an array on a key path: that index can no longer answer.
  await db.collection('arrays').createIndex({ meetingId: 1, status: 1 });
  await db.collection('arrays').insertMany([...records.map((record) => ({ ...record, _id: new ObjectId() })), { meetingId: meeting, status: ['present'] }]);
  // Document values, the same fields in two orders, and dates: the index holds them whole.
  await db.collection('places').createIndex({ meetingId: 1, place: 1, day: 1 });
  await db.collection('places').insertMany(Array.from({ length: 60 }, (_, i) => ({
    meetingId: meeting,
    place: [{ a: 1, b: 2 }, { b: 2, a: 1 }, { a: 1 }, { a: { b: null } }, { a: {} }][i % 5],
    day: new Date(Date.UTC(2026, 11, 1 + (i % 3))),
  })));
  // More distinct values at one key position than fit in 8 bits, and more than six positions read.
  await db.collection('wide').createIndex({ meetingId: 1, code: 1, a: 1, b: 1, c: 1, d: 1, e: 1, f: 1 });
  await db.collection('wide').insertMany(Array.from({ length: 900 }, (_, i) => ({ meetingId: meeting, code: `m${i % 300}`, a: i % 2, b: i % 3, c: i % 5 === 0, d: `d${i % 4}`, e: i % 2 ? new Int32(i % 6) : new Double(i % 6), f: null })));
  await db.collection('sparse').createIndex({ meetingId: 1, status: 1 }, { sparse: true });
  await db.collection('sparse').insertMany(records.map((record) => ({ ...record, _id: new ObjectId() })));
});

afterAll(async () => {
  await client.close();
  await store.stop();
});

const byState = { siteId: '$siteId', status: { $ifNull: ['$status', 'none'] }, reason: { $ifNull: ['$absence.reason', null] }, late: { $eq: ['$late', true] }, walkIn: '$walkIn' };

describe('counting $group answered from an index', () => {
  const covered: Array<[string, Document[], string?]> = [
    ['per site and state, as the attendance report counts', [{ $match: { meetingId: meeting } }, { $group: { _id: byState, count: { $sum: 1 } } }]],
    ['with a $ne and an $in in the $match', [{ $match: { meetingId: meeting, walkIn: { $ne: true }, status: { $in: ['present', 'absent'] } } }, { $group: { _id: { siteId: '$siteId', late: { $ifNull: ['$late', 'unknown'] } }, n: { $sum: 1 }, twice: { $sum: 2 } } }]],
    ['then sorted and projected', [{ $match: { meetingId: meeting } }, { $group: { _id: { siteId: '$siteId' }, n: { $sum: 1 } } }, { $sort: { n: -1, '_id.siteId': 1 } }, { $project: { n: 1, half: { $divide: ['$n', 2] } } }]],
    ['numbers of three types keyed together', [{ $match: { meetingId: meeting } }, { $group: { _id: { w: '$weight' }, n: { $sum: 1 } } }]],
    ['counts by condition ($sum of $cond over $and, $or, $in, $eq, $ne)', [{ $match: { meetingId: meeting } }, { $group: {
      _id: { siteId: '$siteId' },
      came: { $sum: { $cond: [{ $and: [{ $in: [{ $ifNull: ['$status', 'none'] }, ['present', 'leftEarly']] }, { $ne: ['$walkIn', true] }] }, 1, 0] } },
      sick: { $sum: { $cond: { if: { $eq: ['$absence.reason', 'ốm'] }, then: 1, else: 0 } } },
      lateOrWalkIn: { $sum: { $cond: [{ $or: [{ $eq: ['$late', true] }, { $eq: ['$walkIn', true] }] }, 2, -1] } },
      all: { $sum: 1 },
    } }]],
    ['300 distinct values at one position', [{ $match: { meetingId: meeting } }, { $group: { _id: { code: '$code' }, n: { $sum: 1 } } }], 'wide'],
    ['seven positions read', [{ $match: { meetingId: meeting } }, { $group: { _id: { a: '$a', b: '$b', c: '$c', d: '$d', e: '$e', f: { $ifNull: ['$f', 0] } }, n: { $sum: 1 } } }], 'wide'],
    ['a dotted path whose enclosing document is null or missing', [{ $match: { meetingId: meeting } }, { $group: { _id: { reason: { $ifNull: ['$absence.reason', 'none'] } }, n: { $sum: 1 } } }]],
  ];
  for (const [name, pipeline, collection = 'records'] of covered) {
    it(`reads no document and answers as the documents do: ${name}`, async () => {
      const { optimized, documents, decoded, rows } = await both(collection, pipeline);
      expect(rows.length).toBeGreaterThan(1);
      expect(optimized).toBe(documents);
      expect(decoded).toBe(0);
    });
  }

  it('counts what the records hold', async () => {
    const { rows } = await both('records', [{ $match: { meetingId: meeting } }, { $group: { _id: { status: { $ifNull: ['$status', 'none'] } }, n: { $sum: 1 } } }]);
    const expected = new Map<string, number>();
    for (const record of records) if (record.meetingId.equals(meeting)) expected.set(record.status ?? 'none', (expected.get(record.status ?? 'none') ?? 0) + 1);
    expect(new Map(rows.map((row) => [row._id.status as string, row.n as number]))).toEqual(expected);
  });

  it('answers as the documents do for document and date values', async () => {
    for (const pipeline of [
      [{ $match: { meetingId: meeting } }, { $group: { _id: { place: '$place', day: '$day' }, n: { $sum: 1 } } }],
      [{ $match: { meetingId: meeting, day: { $gte: new Date(Date.UTC(2026, 11, 2)) } } }, { $group: { _id: { day: '$day', a: { $ifNull: ['$place.a', 'none'] } }, n: { $sum: 1 } } }],
    ]) {
      const { optimized, documents, rows } = await both('places', pipeline);
      expect(rows.length).toBeGreaterThan(1);
      expect(optimized).toBe(documents);
    }
  });

  const read: Array<[string, string, Document[]]> = [
    ['null and missing give different keys ($status as is)', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { status: '$status' }, n: { $sum: 1 } } }]],
    ['the $match tells null from missing ($exists)', 'records', [{ $match: { meetingId: meeting, status: { $exists: true } } }, { $group: { _id: { siteId: '$siteId' }, n: { $sum: 1 } } }]],
    ['a field outside every index', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { siteId: '$siteId', note: '$absence.note' }, n: { $sum: 1 } } }]],
    ['a $sum of a condition on a value that is not true or false', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { siteId: '$siteId' }, n: { $sum: { $cond: [{ $ifNull: ['$late', 0] }, 1, 0] } } } }]],
    ['an accumulator other than a count', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { siteId: '$siteId' }, w: { $sum: '$weight' } } }]],
    ['an array on a key path', 'arrays', [{ $match: { meetingId: meeting } }, { $group: { _id: { status: { $ifNull: ['$status', 'none'] } }, n: { $sum: 1 } } }]],
    ['a sparse index', 'sparse', [{ $match: { meetingId: meeting } }, { $group: { _id: { status: { $ifNull: ['$status', 'none'] } }, n: { $sum: 1 } } }]],
  ];
  for (const [name, collection, pipeline] of read) {
    it(`reads the documents when the index cannot stand in for them: ${name}`, async () => {
      const { optimized, documents, decoded, rows } = await both(collection, pipeline);
      expect(rows.length).toBeGreaterThan(1);
      expect(optimized).toBe(documents);
      expect(decoded).toBeGreaterThan(0);
    });
  }
});

// A second reader's attack: every pipeline the covered path takes must answer exactly as the
// documents do (BSON types included: the replies are compared unpromoted), on data changed in
// between, with values of several types, and errors must be the same errors.
describe('covered $group against the documents, value by value', () => {
  /** The reply (or the error) read from the documents and with the optimizations on, unpromoted. */
  async function outcomes(collection: string, pipeline: Document[], options: Document = {}): Promise<{ optimized: string; documents: string }> {
    const run = async () => {
      try {
        const rows = await client.db('covered').collection(collection).aggregate(pipeline, { ...options, promoteValues: false }).toArray();
        return rows.map((row) => EJSON.stringify(row, { relaxed: false })).sort().join('\n');
      } catch (error) {
        const { code, codeName, message } = error as { code?: number; codeName?: string; message: string };
        return `error ${code} ${codeName} ${message}`;
      }
    };
    await setOptimizations(false);
    const documents = await run();
    await setOptimizations(true);
    const optimized = await run();
    return { optimized, documents };
  }

  const big = Long.fromString('9007199254740993');
  const bigger = Long.fromString('9007199254740992');
  beforeAll(async () => {
    const db = client.db('covered');
    await db.collection('types').createIndex({ meetingId: 1, w: 1, s: 1 });
    await db.collection('types').insertMany(Array.from({ length: 40 }, (_, i) => ({
      meetingId: meeting,
      // Equal numbers of four BSON types, two Longs a double cannot tell apart, and strings that look like numbers.
      w: [new Int32(1), new Double(1), new Long(1), new Double(1.5), big, bigger, '1', new Int32(2)][i % 8],
      s: i % 3 === 0 ? 'a' : i % 3 === 1 ? null : undefined,
    })).map((doc) => (doc.s === undefined ? { meetingId: doc.meetingId, w: doc.w } : doc)));
    // The index's first field holding equal numbers of three types.
    await db.collection('types').insertMany(Array.from({ length: 12 }, (_, i) => ({ meetingId: [new Int32(7), new Double(7), new Long(7)][i % 3], w: new Int32(i % 2), s: i % 4 === 0 ? 'b' : 'a' })));
  });

  const cases: Array<[string, string, Document[], Document?]> = [
    ['a $type of double in the $match over numbers of several types', 'types', [{ $match: { meetingId: meeting, w: { $type: 'double' } } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }]],
    ['a $type of int in the $match', 'types', [{ $match: { meetingId: meeting, w: { $type: 'int' } } }, { $group: { _id: { w: '$w' }, n: { $sum: 1 } } }]],
    ['a $type of long in the $match', 'types', [{ $match: { meetingId: meeting, w: { $type: 'long' } } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }]],
    ['an equality on a Long a double cannot hold', 'types', [{ $match: { meetingId: meeting, w: big } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }]],
    ['an $in of a Long a double cannot hold and another number', 'types', [{ $match: { meetingId: meeting, w: { $in: [big, new Int32(2)] } } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }]],
    ['a range over Longs and a number below', 'types', [{ $match: { meetingId: meeting, $or: [{ w: { $gt: bigger } }, { w: new Int32(2) }] } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }]],
    ['a $type on the first field of the index besides its equality', 'types', [{ $match: { meetingId: 7, $or: [{ meetingId: { $type: 'double' } }, { s: 'b' }] } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }]],
    ['a range over Longs', 'types', [{ $match: { meetingId: meeting, w: { $gt: bigger } } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }]],
    ['a string that looks like a number and the number', 'types', [{ $match: { meetingId: meeting } }, { $group: { _id: { w: '$w', isOne: { $eq: ['$w', '1'] } }, n: { $sum: 1 } } }]],
    ['a $sum of a double, a Long and a huge Long', 'types', [{ $match: { meetingId: meeting } }, { $group: { _id: { s: '$s' }, half: { $sum: 0.5 }, one: { $sum: new Double(1) }, long: { $sum: new Long(1) }, huge: { $sum: big }, max: { $sum: 2147483647 } } }]],
    ['a $sum of the field itself', 'types', [{ $match: { meetingId: meeting, w: { $type: 'number' } } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, w: { $sum: '$w' } } }]],
    ['$cond with a non-boolean condition, a reversed $eq, an $eq to null', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { siteId: '$siteId' }, a: { $sum: { $cond: ['$walkIn', 1, 0] } }, b: { $sum: { $cond: [{ $eq: ['present', '$status'] }, 1, 0] } }, c: { $sum: { $cond: [{ $eq: ['$status', null] }, 1, 0] } } } }]],
    ['$cond with a literal condition and $ne on a missing field', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { siteId: '$siteId' }, a: { $sum: { $cond: [true, 2, 0] } }, b: { $sum: { $cond: [{ $ne: ['$status', 'present'] }, 1, 0] } } } }]],
    ['literals of several BSON types in the _id and a decimal $sum', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { s: '$siteId', l: new Long(5), d: new Double(2), m: Decimal128.fromString('3'), o: meeting, t: new Date(0) }, n: { $sum: Decimal128.fromString('1') }, c: { $sum: 1 } } }]],
    ['a $cond whose branches are Longs and doubles', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { s: '$siteId' }, a: { $sum: { $cond: [{ $eq: ['$late', true] }, new Long(1), new Double(0)] } } } }]],
    ['$group _id null', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: null, n: { $sum: 1 } } }]],
    ['$group _id a field path', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: '$siteId', n: { $sum: 1 } } }]],
    ['$group _id an empty document', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: {}, n: { $sum: 1 } } }]],
    ['$group _id a document inside a document', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { at: { site: '$siteId' } }, n: { $sum: 1 } } }]],
    ['$group _id with a dotted name', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { 'a.b': '$siteId' }, n: { $sum: 1 } } }]],
    ['an accumulator with a dotted name', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { s: '$siteId' }, 'n.x': { $sum: 1 } } }]],
    ['an accumulator named with a $', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { s: '$siteId' }, $n: { $sum: 1 } } }]],
    ['a $match on a field not first in the index', 'records', [{ $match: { siteId: sites[0] } }, { $group: { _id: { status: '$status' }, n: { $sum: 1 } } }]],
    ['a meeting with no records', 'records', [{ $match: { meetingId: new ObjectId() } }, { $group: { _id: { s: '$siteId' }, n: { $sum: 1 } } }]],
    ['a collection that does not exist', 'nothing', [{ $match: { meetingId: meeting } }, { $group: { _id: { s: '$siteId' }, n: { $sum: 1 } } }]],
    ['a collation grouping reasons that differ by case', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { reason: '$absence.reason' }, n: { $sum: 1 } } }], { collation: { locale: 'vi', strength: 1 } }],
    ['a hint', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { s: '$siteId' }, n: { $sum: 1 } } }], { hint: { meetingId: 1, weight: -1 } }],
    ['let', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { s: '$siteId', k: '$$k' }, n: { $sum: 1 } } }], { let: { k: 1 } }],
    ['$getField', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { s: { $getField: 'status' } }, n: { $sum: 1 } } }]],
    ['$skip and $limit after a sorted group', 'records', [{ $match: { meetingId: meeting } }, { $group: { _id: { s: '$siteId', st: '$status' }, n: { $sum: 1 } } }, { $sort: { n: -1, '_id.s': 1, '_id.st': 1 } }, { $skip: 1 }, { $limit: 3 }]],
  ];
  for (const [name, collection, pipeline, options] of cases) {
    it(`answers as the documents do: ${name}`, async () => {
      const { optimized, documents } = await outcomes(collection, pipeline, options);
      expect(optimized).toBe(documents);
    });
  }

  it('follows arrays appearing after the index was made, updates and deletes', async () => {
    const db = client.db('covered');
    const changing = db.collection('changing');
    await changing.createIndex({ meetingId: 1, status: 1, 'absence.reason': 1 });
    await changing.insertMany(records.map((record) => ({ ...record, _id: new ObjectId() })));
    const pipelines: Document[][] = [
      [{ $match: { meetingId: meeting } }, { $group: { _id: { status: { $ifNull: ['$status', 'none'] }, reason: { $ifNull: ['$absence.reason', 'none'] } }, n: { $sum: 1 } } }],
      [{ $match: { meetingId: meeting, status: 'present' } }, { $group: { _id: { reason: { $ifNull: ['$absence.reason', 'none'] } }, n: { $sum: 1 } } }],
    ];
    const compare = async () => {
      for (const pipeline of pipelines) {
        const { optimized, documents } = await outcomes('changing', pipeline);
        expect(optimized).toBe(documents);
      }
    };
    await compare();
    await changing.updateMany({ meetingId: meeting, status: 'absent' }, { $set: { status: 'present' } });
    await compare();
    await changing.deleteMany({ meetingId: meeting, status: 'expected' });
    await compare();
    // An array of one element on a dotted key path, set by an update.
    const one = await changing.findOne({ meetingId: meeting, status: 'present' });
    await changing.updateOne({ _id: one!._id }, { $set: { absence: [{ reason: 'ốm' }] } });
    await compare();
    await changing.updateOne({ _id: one!._id }, { $set: { status: ['present'] } });
    await compare();
    // The array goes: the answers stay right (whether or not the index is used again).
    await changing.deleteOne({ _id: one!._id });
    await compare();
    await changing.insertOne({ meetingId: meeting, status: 'present', absence: { reason: ['ốm', 'x'] } });
    await compare();
  });

  it('answers as the documents do over NaN, -0, decimals, timestamps and arrays that were there before the index', async () => {
    const db = client.db('covered');
    const odd = db.collection('odd');
    await odd.insertMany(Array.from({ length: 48 }, (_, i) => ({
      meetingId: meeting,
      v: [new Double(Number.NaN), new Double(-0), new Int32(0), Decimal128.fromString('0.1'), new Double(0.1), Decimal128.fromString('1.000000000000000000001'), new Int32(1), new Timestamp({ t: 1, i: 1 }), 'x', true, new Date(0), { a: new Int32(1) }][i % 12],
      s: i % 2 ? 'a' : null,
    })));
    const pipelines: Document[][] = [
      [{ $match: { meetingId: meeting } }, { $group: { _id: { v: '$v' }, n: { $sum: 1 } } }],
      [{ $match: { meetingId: meeting } }, { $group: { _id: { s: '$s' }, n: { $sum: 1 } } }],
      [{ $match: { meetingId: meeting, v: { $type: 'decimal' } } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }],
      [{ $match: { meetingId: meeting, v: { $in: [Decimal128.fromString('1.000000000000000000001'), 'x'] } } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }],
      [{ $match: { meetingId: meeting, v: Number.NaN } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }],
      [{ $match: { meetingId: meeting, v: { $in: [0, 'x'] } } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }],
      [{ $match: { meetingId: meeting, v: { a: 1 } } }, { $group: { _id: { s: { $ifNull: ['$s', 'none'] } }, n: { $sum: 1 } } }],
    ];
    const compare = async () => {
      for (const pipeline of pipelines) {
        const { optimized, documents } = await outcomes('odd', pipeline);
        expect({ pipeline: EJSON.stringify(pipeline), optimized }).toEqual({ pipeline: EJSON.stringify(pipeline), optimized: documents });
      }
    };
    await odd.createIndex({ meetingId: 1, v: 1, s: 1 });
    await compare();
    // An array on a key path already there when the index is made.
    const withArrays = db.collection('oddArrays');
    await withArrays.insertMany([...Array.from({ length: 20 }, (_, i) => ({ meetingId: meeting, v: i % 3, s: i % 2 ? 'a' : null })), { meetingId: meeting, v: [1], s: 'a' }]);
    await withArrays.createIndex({ meetingId: 1, v: 1, s: 1 });
    for (const pipeline of [[{ $match: { meetingId: meeting } }, { $group: { _id: { v: '$v' }, n: { $sum: 1 } } }], [{ $match: { meetingId: meeting, v: 1 } }, { $group: { _id: { s: '$s' }, n: { $sum: 1 } } }]]) {
      const { optimized, documents } = await outcomes('oddArrays', pipeline);
      expect(optimized).toBe(documents);
    }
  });

  it('leaves a partial index to the documents', async () => {
    const db = client.db('covered');
    await db.collection('partial').createIndex({ meetingId: 1, status: 1 }, { partialFilterExpression: { status: { $type: 'string' } } });
    await db.collection('partial').insertMany(records.map((record) => ({ ...record, _id: new ObjectId() })));
    const { optimized, documents } = await outcomes('partial', [{ $match: { meetingId: meeting } }, { $group: { _id: { status: { $ifNull: ['$status', 'none'] } }, n: { $sum: 1 } } }]);
    expect(optimized).toBe(documents);
  });
});
