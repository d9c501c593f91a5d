// A long $in list is answered through a set of keys; it must match exactly what the same
// values as separate equalities match, across types that compare equal (1, 1.0, Long 1) and
// with a collation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal128, Long, ObjectId, type CollationOptions, type Collection, type MongoClient } from 'mongodb';
import { connect, startStore, type RunningStore } from './helpers.js';

let store: RunningStore;
let client: MongoClient;
let things: Collection;

const ids = Array.from({ length: 30 }, () => new ObjectId());
const day = (n: number) => new Date(Date.UTC(2022, 0, n));
const values: unknown[] = [
  1, 2.5, -0, new Long(7), Decimal128.fromString('9'), 'Lai Vung', 'lai vung', 'Lấp Vò', true, false, null, day(1), day(2), ids[0], ids[1],
  [1, 'x'], ['Lai Vung'], [ids[2], 3], { a: 1 }, [[1]], /^Lai/,
];

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
  things = client.db('inlists').collection('things');
  await things.insertMany([...values.map((value, i) => ({ i, value })), { i: 100 }]);
});

afterAll(async () => {
  await client?.close();
  await store?.stop();
});

async function matched(filter: object, collation?: CollationOptions): Promise<number[]> {
  return (await things.find(filter, collation ? { collation } : {}).toArray()).map((doc) => doc.i as number).sort((a, b) => a - b);
}

describe('a long $in list', () => {
  const list = [1, new Long(2), 7, 9, 0, 'Lai Vung', 'LẤP VÒ', true, day(2), ids[0], ids[2], 'x', 'y', 'z', 42, 43, 44, ids[5], ids[6], [1], null];

  it('matches what the same values as separate equalities match', async () => {
    expect(list.length).toBeGreaterThan(8);
    const expected = await matched({ $or: list.map((value) => ({ value })) });
    expect(expected.length).toBeGreaterThan(5);
    expect(await matched({ value: { $in: list } })).toEqual(expected);
    expect(await matched({ value: { $nin: list } })).toEqual((await matched({})).filter((i) => !expected.includes(i)));
  });

  it('compares strings with the collation when one is given', async () => {
    const collation = { locale: 'vi', strength: 1 };
    const expected = await matched({ $or: list.map((value) => ({ value })) }, collation);
    expect(await matched({ value: { $in: list } }, collation)).toEqual(expected);
    expect(expected).toEqual(expect.arrayContaining([5, 6, 7]));
  });
});
