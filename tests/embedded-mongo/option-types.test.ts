// Options of the wrong BSON type are refused as mongod's IDL refuses them (TypeMismatch, 14),
// before anything runs, instead of being read loosely: a string `multi` used to update every
// document, a string limit was ignored, a numeric hint or a string collation passed unseen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Document, MongoClient } from 'mongodb';
import { connect, startStore, type RunningStore } from './helpers.js';

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

describe('options of the wrong type', () => {
  it('are refused with TypeMismatch and leave the data as it was', async () => {
    const db = client.db('optiontypes');
    const c = db.collection<{ _id: number; v: number }>('c');
    await c.insertMany([{ _id: 1, v: 0 }, { _id: 2, v: 0 }, { _id: 3, v: 0 }]);
    const refused: Document[] = [
      { find: 'c', limit: 'a' },
      { find: 'c', skip: 'a' },
      { find: 'c', hint: 5 },
      { find: 'c', collation: 'x' },
      { find: 'c', maxTimeMS: 'x' },
      { find: 'c', let: 5 },
      { find: 'c', singleBatch: 'yes' },
      { count: 'c', limit: 'x' },
      { distinct: 'c', key: 'v', collation: 'x' },
      { aggregate: 'c', pipeline: [], cursor: { batchSize: 'x' } },
      { aggregate: 'c', pipeline: [], cursor: {}, collation: 5 },
      { insert: 'c', documents: [{ _id: 9 }], ordered: 'x' },
      { update: 'c', updates: [{ q: {}, u: { $set: { v: 1 } }, multi: 'x' }] },
      { update: 'c', updates: [{ q: { _id: 7 }, u: { $set: { v: 1 } }, upsert: 'x' }] },
      { update: 'c', updates: [{ q: {}, u: { $set: { v: 1 } }, arrayFilters: 5 }] },
      { update: 'c', updates: [{ q: {}, u: { $set: { v: 1 } }, collation: 5 }] },
      { delete: 'c', deletes: [{ q: {}, limit: 'x' }] },
      { findAndModify: 'c', query: {}, update: { $set: { v: 1 } }, new: 'x' },
      { findAndModify: 'c', query: { _id: 8 }, update: { $set: { v: 1 } }, upsert: 'x' },
    ];
    for (const command of refused) {
      const error = await db.command(command).then(
        () => undefined,
        (e: { code?: number; codeName?: string; message: string }) => e,
      );
      expect(error, JSON.stringify(command)).toMatchObject({ code: 14, codeName: 'TypeMismatch' });
      expect(error!.message).toMatch(/^BSON field '.+' is the wrong type '.+', expected type/);
    }
    expect(await c.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, v: 0 }, { _id: 2, v: 0 }, { _id: 3, v: 0 }]);
  });

  it('getMore with a string batchSize is refused and the cursor goes on', async () => {
    const db = client.db('optiontypes');
    await db.collection<{ _id: number }>('g').insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: i })));
    const first = (await db.command({ find: 'g', batchSize: 2 })) as { cursor: { id: unknown } };
    await expect(db.command({ getMore: first.cursor.id, collection: 'g', batchSize: 'x' })).rejects.toMatchObject({ code: 14 });
    const next = (await db.command({ getMore: first.cursor.id, collection: 'g' })) as { cursor: { nextBatch: unknown[] } };
    expect(next.cursor.nextBatch).toHaveLength(3);
  });

  it('booleans sent as numbers, as some drivers do, still work', async () => {
    const db = client.db('optiontypes');
    const r = await db.command({ update: 'c', updates: [{ q: {}, u: { $inc: { v: 1 } }, multi: 1, upsert: 0 }], ordered: 1 });
    expect(r).toMatchObject({ n: 3, nModified: 3 });
  });

  it('a writeConcern wtimeout that is not a number is refused', async () => {
    const db = client.db('optiontypes');
    await expect(db.command({ insert: 'c', documents: [{ _id: 20 }], writeConcern: { wtimeout: 'x' } })).rejects.toMatchObject({ code: 9 });
    expect(await db.collection<{ _id: number }>('c').countDocuments({ _id: 20 })).toBe(0);
  });
});

describe('index key patterns', () => {
  it('an unknown plugin, a zero or a non-number value is refused with CannotCreateIndex and creates nothing', async () => {
    const db = client.db('optiontypes');
    for (const key of [{ a: 'bogus' }, { a: 0 }, { a: true }, { a: { x: 1 } }, {}]) {
      await expect(db.command({ createIndexes: 'k', indexes: [{ key, name: 'bad' }] }), JSON.stringify(key)).rejects.toMatchObject({
        code: 67,
        codeName: 'CannotCreateIndex',
      });
    }
    await db.collection('k').createIndexes([{ key: { a: 1 } }, { key: { b: -1, c: 1 } }, { key: { t: 'text' } }, { key: { g: '2dsphere' } }]);
    const names = (await db.collection('k').listIndexes().toArray()).map((i) => i.name as string);
    expect(names).not.toContain('bad');
    expect(names).toEqual(expect.arrayContaining(['a_1', 'b_-1_c_1', 't_text', 'g_2dsphere']));
  });
});

describe('$size', () => {
  it('a negative or fractional size is refused with BadValue as mongod refuses it', async () => {
    const c = client.db('optiontypes').collection('sz');
    await c.insertOne({ a: [1, 2] });
    await expect(c.find({ a: { $size: -1 } }).toArray()).rejects.toMatchObject({ code: 2, message: '$size may not be negative' });
    await expect(c.find({ a: { $size: 1.5 } }).toArray()).rejects.toMatchObject({ code: 2, message: '$size must be a whole number' });
    expect(await c.countDocuments({ a: { $size: 2 } })).toBe(1);
  });
});
