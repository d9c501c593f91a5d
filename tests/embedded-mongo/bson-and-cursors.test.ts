// Every BSON type survives a round trip byte for byte, and cursors hand out large results in
// batches of the requested size through getMore.
import {
  Binary,
  BSON,
  BSONRegExp,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
  type CommandStartedEvent,
  type Document,
  type MongoClient,
} from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStore, tempDir, type RunningStore } from './helpers.js';

// Test collections hold documents of any shape (numeric and string _ids included).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

let store: RunningStore;
let client: MongoClient;
const tmp = tempDir();

beforeAll(async () => {
  store = await startStore({ dbPath: tmp.dir });
  client = await connect(store.uri, { monitorCommands: true });
});

afterAll(async () => {
  await client?.close();
  await store?.stop();
  tmp.remove();
});

const exact = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

function everyType(id: number): Document {
  return {
    _id: id,
    objectId: new ObjectId('65a1b2c3d4e5f60718293a4b'),
    date: new Date('2024-02-29T12:34:56.789Z'),
    dateBefore1970: new Date(-123456789),
    decimal: Decimal128.fromString('1234567890.123456789012345678901234'),
    decimalNegZero: Decimal128.fromString('-0.00'),
    long: Long.fromString('9223372036854775807'),
    longNeg: Long.fromString('-9007199254740993'),
    int: new Int32(-2147483648),
    double: new Double(1), // a double that happens to be integral must stay a double
    doubleFrac: new Double(0.1),
    doubleNegZero: new Double(-0),
    doubleNaN: new Double(NaN),
    doubleInf: new Double(-Infinity),
    binary: new Binary(Buffer.from([0, 1, 2, 253, 254, 255]), 0),
    binaryUserDefined: new Binary(Buffer.from('custom'), 0x80),
    uuid: new UUID('0f8fad5b-d9cb-469f-a165-70867728950e').toBinary(),
    regex: new BSONRegExp('^a.c$', 'imsx'),
    nil: null,
    bool: false,
    str: 'grüße 😀 \u0000 inside',
    emptyStr: '',
    timestamp: new Timestamp({ t: 1700000000, i: 7 }),
    minKey: new MinKey(),
    maxKey: new MaxKey(),
    code: new Code('function () { return 1; }'),
    nested: { a: [1, [2, [3, { deep: [new Int32(4), null, { x: 'y' }] }]]], emptyDoc: {}, emptyArr: [] },
    arrayOfDocs: [{ k: 1 }, { k: new Long(2) }, { k: new Decimal128('3') }],
  };
}

describe('BSON types round-trip', () => {
  it('a document holding every type comes back byte-identical', async () => {
    const coll = client.db('bson').collection<AnyDoc>('types');
    const doc = everyType(1);
    await coll.insertOne(doc);
    const raw = await coll.findOne({ _id: 1 }, { raw: true });
    expect(Buffer.from(raw as unknown as Uint8Array).equals(Buffer.from(BSON.serialize(doc)))).toBe(true);
  });

  it('types survive a restart of an on-disk store', async () => {
    const coll = client.db('bson').collection<AnyDoc>('types');
    await coll.insertOne(everyType(2));
    await client.close();
    await store.stop();
    store = await startStore({ dbPath: tmp.dir });
    client = await connect(store.uri, { monitorCommands: true });
    const back = await client.db('bson').collection<AnyDoc>('types').findOne({ _id: 2 }, exact);
    expect(Buffer.from(BSON.serialize(back!)).equals(Buffer.from(BSON.serialize(everyType(2))))).toBe(true);
  });

  it('typed values decode to the right classes', async () => {
    const back = (await client.db('bson').collection<AnyDoc>('types').findOne({ _id: 1 }, exact))!;
    expect(back.objectId).toBeInstanceOf(ObjectId);
    expect(back.date).toBeInstanceOf(Date);
    expect(back.decimal).toBeInstanceOf(Decimal128);
    expect(back.decimal.toString()).toBe('1234567890.123456789012345678901234');
    expect(back.long).toBeInstanceOf(Long);
    expect(back.long.toString()).toBe('9223372036854775807');
    expect(back.int).toBeInstanceOf(Int32);
    expect(back.double).toBeInstanceOf(Double);
    expect(Object.is(back.doubleNegZero.valueOf(), -0)).toBe(true);
    expect(Number.isNaN(back.doubleNaN.valueOf())).toBe(true);
    expect(back.uuid.sub_type).toBe(4);
    expect(back.uuid.toUUID().toHexString()).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(back.regex).toEqual(new BSONRegExp('^a.c$', 'imsx'));
    expect(back.nil).toBeNull();
  });

  it('queries match typed values: ObjectId, Date, Decimal128, Long, UUID, null and nested paths', async () => {
    const coll = client.db('bson').collection<AnyDoc>('types');
    const hit = async (filter: Document) => (await coll.find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await hit({ objectId: new ObjectId('65a1b2c3d4e5f60718293a4b') })).toEqual([1, 2]);
    expect(await hit({ date: { $gt: new Date('2024-01-01') } })).toEqual([1, 2]);
    expect(await hit({ decimal: Decimal128.fromString('1234567890.123456789012345678901234') })).toEqual([1, 2]);
    expect(await hit({ long: Long.fromString('9223372036854775807') })).toEqual([1, 2]);
    expect(await hit({ uuid: new UUID('0f8fad5b-d9cb-469f-a165-70867728950e') })).toEqual([1, 2]);
    expect(await hit({ nil: null })).toEqual([1, 2]);
    expect(await hit({ 'nested.a.1.1.deep.2.x': 'y' })).toEqual([1, 2]);
    expect(await hit({ 'arrayOfDocs.k': 2 })).toEqual([1, 2]); // Long 2 equals the number 2
    expect(await hit({ 'arrayOfDocs.k': 3 })).toEqual([1, 2]); // so does Decimal128 3
    expect(await hit({ regex: { $type: 'regex' }, long: { $type: 'long' }, int: { $type: 'int' }, double: { $type: 'double' } })).toEqual([1, 2]);
  });
});

describe('cursors across batches', () => {
  it('a find of 1,000 documents with batchSize 100 arrives in order through 10 round trips', async () => {
    const coll = client.db('cursors').collection<AnyDoc>('big');
    await coll.insertMany(Array.from({ length: 1000 }, (_, i) => ({ _id: i, pad: 'x'.repeat(100) })));
    const started: CommandStartedEvent[] = [];
    const listener = (e: CommandStartedEvent) => started.push(e);
    client.on('commandStarted', listener);
    const ids: number[] = [];
    for await (const d of coll.find({}, { batchSize: 100 }).sort({ _id: 1 })) ids.push(d._id as number);
    client.off('commandStarted', listener);
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const names = started.map((e) => e.commandName);
    expect(names.filter((n) => n === 'find')).toHaveLength(1);
    // 100 in the first batch, 9 getMores of 100; the last one may or may not need a 10th empty one.
    expect(names.filter((n) => n === 'getMore').length).toBeGreaterThanOrEqual(9);
    expect(names.filter((n) => n === 'getMore').length).toBeLessThanOrEqual(10);
  });

  it('interleaved cursors on the same connection do not disturb each other', async () => {
    const coll = client.db('cursors').collection<AnyDoc>('big');
    const a = coll.find({ _id: { $lt: 300 } }, { batchSize: 7 }).sort({ _id: 1 });
    const b = coll.find({ _id: { $gte: 700 } }, { batchSize: 5 }).sort({ _id: -1 });
    const fromA: number[] = [];
    const fromB: number[] = [];
    for (let i = 0; i < 300; i++) {
      fromA.push((await a.next())!._id as number);
      fromB.push((await b.next())!._id as number);
    }
    expect(fromA).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(fromB).toEqual(Array.from({ length: 300 }, (_, i) => 999 - i));
    expect(await a.next()).toBeNull();
    await b.close();
  });

  it('a limit smaller than the batches closes the cursor once reached', async () => {
    const coll = client.db('cursors').collection<AnyDoc>('big');
    const docs = await coll.find({}, { batchSize: 30 }).sort({ _id: -1 }).limit(75).toArray();
    expect(docs.map((d) => d._id)).toEqual(Array.from({ length: 75 }, (_, i) => 999 - i));
  });

  it('a cursor closed early is killed on the server', async () => {
    const coll = client.db('cursors').collection<AnyDoc>('big');
    const killed: CommandStartedEvent[] = [];
    const listener = (e: CommandStartedEvent) => e.commandName === 'killCursors' && killed.push(e);
    client.on('commandStarted', listener);
    const c = coll.find({}, { batchSize: 10 });
    await c.next();
    await c.close();
    client.off('commandStarted', listener);
    expect(killed).toHaveLength(1);
  });
});

describe('large documents and messages', () => {
  it('a 15 MiB document round-trips; one over 16 MiB is refused', async () => {
    const coll = client.db('large').collection<AnyDoc>('docs');
    const big = 'x'.repeat(15 * 1024 * 1024);
    await coll.insertOne({ _id: 'big', big });
    const back = await coll.findOne({ _id: 'big' });
    expect(back?.big.length).toBe(big.length);
    // Over maxBsonObjectSize (16 MiB): refused, and nothing is stored.
    await expect(coll.insertOne({ _id: 'huge', huge: 'y'.repeat(17 * 1024 * 1024) })).rejects.toThrow();
    expect(await coll.countDocuments({ _id: 'huge' })).toBe(0);
  });

  it('an insertMany larger than one 48 MB message is split by the driver and all of it arrives', async () => {
    const coll = client.db('large').collection<AnyDoc>('many');
    const chunk = 'z'.repeat(1024 * 1024);
    const docs = Array.from({ length: 60 }, (_, i) => ({ _id: i, chunk }));
    const r = await coll.insertMany(docs);
    expect(r.insertedCount).toBe(60);
    // Reading them back takes several batches (each reply stays under 16 MiB).
    let n = 0;
    for await (const d of coll.find({}, { projection: { _id: 1, chunk: 1 } })) {
      expect(d.chunk.length).toBe(chunk.length);
      n++;
    }
    expect(n).toBe(60);
  });
});

