// Bad input on the wire: garbage, oversized or undersized length headers, broken BSON, unknown
// opcodes, half messages and invalid operators. Each misbehaving connection gets an error or is
// closed; the server keeps serving everyone else.
import net from 'node:net';
import { BSON, MongoServerError, type Document, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStore, type RunningStore } from './helpers.js';
import { header, OP_MSG, opMsg } from './wire-frames.js';

// Test collections hold documents of any shape (numeric and string _ids included).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

let store: RunningStore;
let bystander: MongoClient; // a well-behaved client connected the whole time

beforeAll(async () => {
  store = await startStore();
  bystander = await connect(store.uri);
  await bystander.db('wire').collection<AnyDoc>('c').insertOne({ _id: 1, ok: true });
});

afterAll(async () => {
  await bystander?.close();
  await store?.stop();
});

/** An OP_MSG whose single kind-0 section is `body` as given (possibly not valid BSON). */
const rawOpMsg = (body: Buffer, requestId = 1) => opMsg([Buffer.concat([Buffer.from([0]), body])], 0, requestId);

interface Exchange { data: Buffer; closed: boolean }

/** Send bytes on a fresh raw connection; collect what comes back until close or `waitMs`. */
function exchange(bytes: Buffer, waitMs = 1500): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(store.port, '127.0.0.1');
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d) => {
      chunks.push(d);
      // A complete reply is enough: no need to wait for the timeout.
      const all = Buffer.concat(chunks);
      if (all.length >= 4 && all.length >= all.readInt32LE(0)) finish(false);
    });
    sock.on('close', () => finish(true));
    sock.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? finish(true) : reject(e)));
  });
}

/** The first document of an OP_MSG reply. */
function replyDocument(data: Buffer): Document {
  expect(data.length).toBeGreaterThanOrEqual(21);
  const len = data.readInt32LE(0);
  expect(data.readInt32LE(12)).toBe(OP_MSG);
  expect(data[20]).toBe(0); // kind-0 section
  return BSON.deserialize(data.subarray(21, len));
}

async function serverStillServes(): Promise<void> {
  expect((await bystander.db('wire').collection<AnyDoc>('c').findOne({ _id: 1 }))?.ok).toBe(true);
  const fresh = await connect(store.uri);
  try {
    expect((await fresh.db('admin').command({ ping: 1 })).ok).toBe(1);
  } finally {
    await fresh.close();
  }
}

describe('a raw OP_MSG the way a driver frames it', () => {
  it('is answered (the framing used below is right)', async () => {
    const r = await exchange(rawOpMsg(Buffer.from(BSON.serialize({ ping: 1, $db: 'admin' }))), 3000);
    expect(replyDocument(r.data).ok).toBe(1);
  });
});

describe('malformed frames', () => {
  it('random garbage: the connection is answered with an error or closed; others carry on', async () => {
    const garbage = Buffer.alloc(256);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 151 + 17) & 0xff;
    garbage.writeInt32LE(256, 0); // a plausible length so the frame is complete
    const r = await exchange(garbage);
    expect(r.closed || r.data.length > 0).toBe(true);
    await serverStillServes();
  });

  it('an oversized length header (2 GiB) closes the connection without waiting for the bytes', async () => {
    const r = await exchange(header(0x7ffffff0, 1, OP_MSG), 3000);
    expect(r.closed).toBe(true);
    await serverStillServes();
  });

  it('a length just above maxMessageSizeBytes is refused too', async () => {
    const r = await exchange(header(48_000_001, 1, OP_MSG), 3000);
    expect(r.closed).toBe(true);
    await serverStillServes();
  });

  it('a length shorter than the header itself, or negative, closes the connection', async () => {
    expect((await exchange(header(4, 1, OP_MSG), 3000)).closed).toBe(true);
    expect((await exchange(header(-20, 1, OP_MSG), 3000)).closed).toBe(true);
    await serverStillServes();
  });

  it('an unknown opcode closes the connection without a reply', async () => {
    const msg = Buffer.concat([header(16 + 8, 1, 9999), Buffer.alloc(8)]);
    const r = await exchange(msg);
    // Like mongod: a stream that speaks no known opcode cannot be trusted, so nothing is answered
    // (a success reply, or any reply, would be a bug) and the connection is closed.
    expect(r.data.length).toBe(0);
    expect(r.closed).toBe(true);
    await serverStillServes();
  });

  it('half a message followed by silence does not hold anyone up', async () => {
    const full = rawOpMsg(Buffer.from(BSON.serialize({ ping: 1, $db: 'admin' })));
    const sock = net.connect(store.port, '127.0.0.1');
    await new Promise<void>((r) => sock.on('connect', () => r()));
    sock.write(full.subarray(0, 10));
    await serverStillServes();
    sock.destroy();
  });
});

describe('bad BSON inside a well-framed message', () => {
  it('a document whose length overruns the section is answered with an error or closed', async () => {
    const body = Buffer.from(BSON.serialize({ ping: 1, $db: 'admin' }));
    body.writeInt32LE(1000, 0); // claims 1000 bytes
    const r = await exchange(rawOpMsg(body));
    if (!r.closed && r.data.length > 0) expect(replyDocument(r.data).ok).toBe(0);
    expect(r.closed || r.data.length > 0).toBe(true);
    await serverStillServes();
  });

  it('a document without its terminating zero, or with a bad element type, is answered with an error or closed', async () => {
    const noTerminator = Buffer.from(BSON.serialize({ ping: 1, $db: 'admin' }));
    noTerminator[noTerminator.length - 1] = 7;
    const badType = Buffer.from(BSON.serialize({ ping: 1, $db: 'admin' }));
    badType[4] = 0x55; // element type 0x55 does not exist
    for (const body of [noTerminator, badType]) {
      const r = await exchange(rawOpMsg(body));
      if (!r.closed && r.data.length > 0) expect(replyDocument(r.data).ok).toBe(0);
      expect(r.closed || r.data.length > 0).toBe(true);
    }
    await serverStillServes();
  });

  it('a command document without $db is answered with an error, not a crash', async () => {
    const r = await exchange(rawOpMsg(Buffer.from(BSON.serialize({ ping: 1 }))));
    if (!r.closed) expect(replyDocument(r.data).ok).toBe(0);
    await serverStillServes();
  });

  it('fifty hostile connections at once leave the server standing', async () => {
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'.padEnd(64, 'x'));
    await Promise.all(Array.from({ length: 50 }, (_, i) => exchange(i % 2 ? garbage : header(0x7fffffff, i, OP_MSG), 2000)));
    await serverStillServes();
  });
});

describe('invalid operators', () => {
  const coll = () => bystander.db('wire').collection<AnyDoc>('c');

  it('an unknown query operator is BadValue (2)', async () => {
    const err = await coll().find({ a: { $frob: 1 } }).toArray().catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(2);
    const top = await coll().find({ $frob: [] }).toArray().catch((e) => e);
    expect(top).toBeInstanceOf(MongoServerError);
    expect(top.code).toBe(2);
  });

  it('an unknown aggregation stage is an error, and so is an unknown update operator', async () => {
    const agg = await coll().aggregate([{ $frob: {} }]).toArray().catch((e) => e);
    expect(agg).toBeInstanceOf(MongoServerError);
    const upd = await coll().updateOne({ _id: 1 }, { $frob: { a: 1 } } as never).catch((e) => e);
    expect(upd).toBeInstanceOf(MongoServerError);
    expect(upd.code).toBe(9);
    await serverStillServes();
  });
});

describe('filters nested too deep', () => {
  const coll = () => bystander.db('wire').collection<AnyDoc>('c');
  const nested = (levels: number): AnyDoc => {
    let f: AnyDoc = { ok: true };
    for (let i = 0; i < levels; i++) f = { $and: [f] };
    return f;
  };

  it('100 levels of $and are served; 101 are refused as mongod refuses them (BadValue, query tree depth 100)', async () => {
    expect(await coll().countDocuments(nested(100))).toBe(1);
    const err = await coll().find(nested(101)).toArray().catch((e) => e);
    expect(err).toMatchObject({ code: 2, codeName: 'BadValue', message: 'exceeded maximum query tree depth of 100 at { ok: true }' });
  });

  it('thousands of levels in find, count, update, delete and aggregate: BadValue, never an internal error, and nothing changes', async () => {
    const deep = nested(3000);
    const expectDepthError = (e: AnyDoc) => expect(e).toMatchObject({ code: 2, message: expect.stringMatching(/^exceeded maximum query tree depth of 100 at /) });
    expectDepthError(await coll().find(deep).toArray().catch((e) => e));
    expectDepthError(await coll().countDocuments(deep).catch((e) => e));
    expectDepthError(await coll().aggregate([{ $project: { ok: 1 } }, { $match: deep }]).toArray().catch((e) => e));
    expectDepthError(await coll().updateMany(deep, { $set: { touched: true } }).catch((e) => e));
    expectDepthError(await coll().findOneAndDelete(deep).catch((e) => e));
    expectDepthError(await coll().deleteMany(deep).catch((e) => e));
    expect(await coll().find({}).toArray()).toEqual([{ _id: 1, ok: true }]);
    await serverStillServes();
  });
});
