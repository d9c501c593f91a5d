// The wire protocol as the issue lists it, spoken byte by byte: legacy OP_QUERY hello answered
// with OP_REPLY, OP_MSG kind-0 and kind-1 sections, moreToCome (no reply), and checksums.
import net from 'node:net';
import { BSON, type Document, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStore, type RunningStore } from './helpers.js';
import { CHECKSUM_PRESENT, MORE_TO_COME, OP_MSG, OP_QUERY, OP_REPLY, bson, cstring, header, kind0, kind1, opMsg, roundTrip as sendFrame } from './wire-frames.js';

let store: RunningStore;
let client: MongoClient;

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
});

afterAll(async () => {
  await client?.close();
  await store?.stop();
});

const roundTrip = (msg: Buffer, waitMs?: number) => sendFrame(store.port, msg, waitMs);

function parseOpMsgReply(r: Buffer): { responseTo: number; doc: Document } {
  expect(r.readInt32LE(12)).toBe(OP_MSG);
  expect(r[20]).toBe(0);
  const docLen = r.readInt32LE(21);
  return { responseTo: r.readInt32LE(8), doc: BSON.deserialize(r.subarray(21, 21 + docLen)) };
}

describe('the driver\'s first message: legacy OP_QUERY hello', () => {
  it('isMaster on admin.$cmd is answered with an OP_REPLY describing the server', async () => {
    const q = Buffer.concat([Buffer.alloc(4), cstring('admin.$cmd'), Buffer.alloc(4), Buffer.alloc(4), bson({ isMaster: 1, helloOk: true })]);
    q.writeInt32LE(-1, 4 + 'admin.$cmd'.length + 1 + 4); // numberToReturn
    const msg = Buffer.concat([header(16 + q.length, 42, OP_QUERY), q]);
    const r = await roundTrip(msg);
    expect(r).not.toBeNull();
    expect(r!.readInt32LE(8)).toBe(42); // responseTo
    expect(r!.readInt32LE(12)).toBe(OP_REPLY);
    expect(r!.readInt32LE(32)).toBe(1); // numberReturned
    const doc = BSON.deserialize(r!.subarray(36));
    expect(doc.ok).toBe(1);
    expect(doc.ismaster).toBe(true);
    expect(doc.helloOk).toBe(true);
    expect(doc.maxWireVersion).toBeGreaterThanOrEqual(21);
  });
});

describe('OP_MSG', () => {
  it('answers a kind-0 command with the requestId in responseTo', async () => {
    const r = await roundTrip(opMsg([kind0({ ping: 1, $db: 'admin' })], 0, 1234));
    const { responseTo, doc } = parseOpMsgReply(r!);
    expect(responseTo).toBe(1234);
    expect(doc.ok).toBe(1);
  });

  it('takes the documents of an insert from a kind-1 document sequence', async () => {
    const r = await roundTrip(opMsg([kind0({ insert: 'seq', $db: 'wire' }), kind1('documents', [{ _id: 1 }, { _id: 2 }, { _id: 3 }])]));
    expect(parseOpMsgReply(r!).doc).toMatchObject({ ok: 1, n: 3 });
    expect(await client.db('wire').collection('seq').countDocuments()).toBe(3);
  });

  it('takes update statements from a kind-1 sequence too', async () => {
    const r = await roundTrip(opMsg([
      kind0({ update: 'seq', $db: 'wire' }),
      kind1('updates', [{ q: { _id: 1 }, u: { $set: { a: 1 } } }, { q: { _id: 2 }, u: { $set: { a: 2 } } }]),
    ]));
    expect(parseOpMsgReply(r!).doc).toMatchObject({ ok: 1, n: 2, nModified: 2 });
  });

  it('accepts a message carrying a CRC-32C checksum', async () => {
    const r = await roundTrip(opMsg([kind0({ ping: 1, $db: 'admin' })], CHECKSUM_PRESENT));
    expect(r).not.toBeNull();
    expect(parseOpMsgReply(r!).doc.ok).toBe(1);
  });

  it('sends no reply when moreToCome is set, but carries out the write', async () => {
    const r = await roundTrip(opMsg([kind0({ insert: 'fireAndForget', documents: [{ _id: 'x' }], writeConcern: { w: 0 }, $db: 'wire' })], MORE_TO_COME), 700);
    expect(r).toBeNull();
    // The write lands even though nobody was told.
    const deadline = Date.now() + 2000;
    while ((await client.db('wire').collection('fireAndForget').countDocuments()) === 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(await client.db('wire').collection('fireAndForget').countDocuments()).toBe(1);
  });

  it('the driver\'s own unacknowledged writes (w: 0) arrive', async () => {
    const coll = client.db('wire').collection('w0', { writeConcern: { w: 0 } });
    await coll.insertOne({ _id: 'a' } as never);
    await coll.insertOne({ _id: 'b' } as never);
    const deadline = Date.now() + 2000;
    while ((await client.db('wire').collection('w0').countDocuments()) < 2 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(await client.db('wire').collection('w0').countDocuments()).toBe(2);
  });

  it('pipelined messages on one connection are each answered, in order', async () => {
    const msgs = Buffer.concat([1, 2, 3].map((id) => opMsg([kind0({ ping: 1, $db: 'admin' })], 0, id)));
    const replies: number[] = await new Promise((resolve, reject) => {
      const sock = net.connect(store.port, '127.0.0.1');
      let buf = Buffer.alloc(0);
      const got: number[] = [];
      const timer = setTimeout(() => { sock.destroy(); resolve(got); }, 3000);
      sock.on('connect', () => sock.write(msgs));
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) {
          got.push(buf.readInt32LE(8));
          buf = buf.subarray(buf.readInt32LE(0));
        }
        if (got.length === 3) { clearTimeout(timer); sock.destroy(); resolve(got); }
      });
      sock.on('error', reject);
    });
    expect(replies).toEqual([1, 2, 3]);
  });
});

describe('indexes are used', () => {
  it('an equality lookup on an indexed field is far faster than the same lookup without the index', async () => {
    const coll = client.db('wire').collection('scan');
    await coll.insertMany(Array.from({ length: 30_000 }, (_, i) => ({ k: i, u: i, pad: 'p'.repeat(50) })));
    await coll.createIndex({ k: 1 });
    // Interleaved, so that a busy machine slows both kinds alike.
    const indexedTimes: number[] = [];
    const scanTimes: number[] = [];
    for (let i = 0; i < 25; i++) {
      for (const [field, into] of [['k', indexedTimes], ['u', scanTimes]] as const) {
        const t0 = performance.now();
        const docs = await coll.find({ [field]: (i * 1999) % 30_000 }).toArray();
        into.push(performance.now() - t0);
        expect(docs).toHaveLength(1);
      }
    }
    const median = (t: number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;
    expect(median(indexedTimes) * 3).toBeLessThan(median(scanTimes));
    // explain says the same: an IXSCAN that examines one document, against a COLLSCAN of all.
    const indexed = await coll.find({ k: 1234 }).explain('executionStats');
    expect(indexed.queryPlanner.winningPlan.inputStage).toMatchObject({ stage: 'IXSCAN', indexName: 'k_1' });
    expect(indexed.executionStats).toMatchObject({ nReturned: 1, totalDocsExamined: 1 });
    const scanned = await coll.find({ u: 1234 }).explain('executionStats');
    expect(scanned.queryPlanner.winningPlan.stage).toBe('COLLSCAN');
    expect(scanned.executionStats.totalDocsExamined).toBe(30_000);
    const range = await coll.find({ k: { $gte: 100, $lt: 105 } }).explain('executionStats');
    expect(range.executionStats).toMatchObject({ nReturned: 5, totalDocsExamined: 5 });
    // And a range on the indexed field returns the right documents.
    expect((await coll.find({ k: { $gte: 100, $lt: 105 } }).sort({ k: 1 }).toArray()).map((d) => d.k)).toEqual([100, 101, 102, 103, 104]);
  });
});

describe('TTL indexes', () => {
  it('documents whose date field is past expireAfterSeconds are swept in the background', async () => {
    const coll = client.db('wire').collection('sessions');
    await coll.createIndex({ expires: 1 }, { expireAfterSeconds: 0 });
    await coll.insertMany([
      { _id: 'old' as never, expires: new Date(Date.now() - 60_000) },
      { _id: 'fresh' as never, expires: new Date(Date.now() + 3_600_000) },
      { _id: 'no-date' as never, expires: 'not a date' },
    ]);
    const deadline = Date.now() + 15_000;
    while ((await coll.countDocuments({ _id: 'old' as never })) > 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
    }
    expect((await coll.find().sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual(['fresh', 'no-date']);
  });
});
