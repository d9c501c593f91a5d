// $lookup on localField/foreignField reads only the foreign documents it can join (through an
// index when there is one), not the whole foreign collection, and still joins exactly as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Long, ObjectId, type MongoClient } from 'mongodb';
import { connect, startStore, type RunningStore } from './helpers.js';

let store: RunningStore;
let client: MongoClient;

async function scanned(): Promise<number> {
  const status = await client.db('admin').command({ serverStatus: 1 });
  const value = status.metrics.queryExecutor.scannedObjects as Long | number;
  return typeof value === 'number' ? value : value.toNumber();
}

const small = new ObjectId();
const big = new ObjectId();

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
  const db = client.db('lookup');
  const people = [
    ...Array.from({ length: 3000 }, (_, i) => ({ _id: new ObjectId(), meetingId: big, name: `Đại biểu ${i}`, role: i % 2 ? 'delegate' : 'guest' })),
    ...Array.from({ length: 20 }, (_, i) => ({ _id: new ObjectId(), meetingId: small, name: `Người ${i}`, role: i % 4 ? 'delegate' : 'speaker', tags: ['a', `t${i % 3}`] })),
  ];
  await db.collection('people').insertMany(people);
  await db.collection('records').createIndex({ meetingId: 1 });
  await db.collection('records').insertMany(people.map((person, i) => ({ meetingId: person.meetingId, personId: person._id, status: i % 3 ? 'present' : 'absent', tag: i % 5 === 0 ? 't1' : null })));
  // A record whose person is missing joins nothing.
  await db.collection('records').insertOne({ meetingId: small, personId: new ObjectId(), status: 'present', tag: 'a' });
});

afterAll(async () => {
  await client.close();
  await store.stop();
});

describe('$lookup in the embedded store', () => {
  it('joins one meeting\'s records to their people reading those people only', async () => {
    const records = client.db('lookup').collection('records');
    const before = await scanned();
    const rows = await records
      .aggregate([
        { $match: { meetingId: small } },
        { $lookup: { from: 'people', localField: 'personId', foreignField: '_id', as: 'person' } },
        { $group: { _id: { $ifNull: [{ $first: '$person.role' }, 'none'] }, count: { $sum: 1 }, present: { $sum: { $cond: [{ $eq: ['$status', 'present'] }, 1, 0] } } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    const read = (await scanned()) - before;
    // 21 records and their 20 people (through the _id index), not the 3,020 people.
    expect(read).toBeLessThan(200);

    // The same figures counted here from the raw documents.
    const people = await client.db('lookup').collection('people').find({ meetingId: small }).toArray();
    const raw = await records.find({ meetingId: small }).toArray();
    const roleOf = new Map(people.map((person) => [String(person._id), person.role as string]));
    const expected = new Map<string, { count: number; present: number }>();
    for (const record of raw) {
      const role = roleOf.get(String(record.personId)) ?? 'none';
      const entry = expected.get(role) ?? { count: 0, present: 0 };
      entry.count += 1;
      if (record.status === 'present') entry.present += 1;
      expected.set(role, entry);
    }
    expect(rows).toEqual([...expected.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([role, entry]) => ({ _id: role, ...entry })));
  });

  it('joins on a field without an index, on array elements and on missing values as MongoDB does', async () => {
    const records = client.db('lookup').collection('records');
    const rows = await records
      .aggregate([
        { $match: { meetingId: small, tag: { $in: ['t1', 'a', null] } } },
        { $lookup: { from: 'people', localField: 'tag', foreignField: 'tags', as: 'tagged' } },
        { $project: { _id: 0, tag: 1, tagged: { $size: '$tagged' } } },
        { $group: { _id: '$tag', tagged: { $max: '$tagged' }, records: { $sum: 1 } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    const people = await client.db('lookup').collection('people').find({}).toArray();
    const raw = await records.find({ meetingId: small, tag: { $in: ['t1', 'a', null] } }).toArray();
    const taggedWith = (tag: unknown) => people.filter((person) => (tag === null || tag === undefined ? !Array.isArray(person.tags) || person.tags.length === 0 : Array.isArray(person.tags) && person.tags.includes(tag))).length;
    const expected = new Map<unknown, { tagged: number; records: number }>();
    for (const record of raw) {
      const entry = expected.get(record.tag ?? null) ?? { tagged: taggedWith(record.tag ?? null), records: 0 };
      entry.records += 1;
      expected.set(record.tag ?? null, entry);
    }
    const order = (value: unknown) => (value === null ? '' : String(value));
    expect(rows).toEqual([...expected.entries()].sort(([a], [b]) => order(a).localeCompare(order(b))).map(([tag, entry]) => ({ _id: tag, ...entry })));
    // Records with no tag join the people who have none (3,000 of them).
    expect(rows.find((row) => row._id === null)?.tagged).toBe(3000);
  });
});
