// What happens to an open cursor when the world changes under it, as mongod answers: a getMore
// after its collection was dropped (alone or with its database) or renamed is QueryPlanKilled
// (175) and the cursor is gone; a getMore from another session, or without the session the
// cursor was opened in, is refused (50736/50737/50738). The driver's own cursors keep working.
import type { Document, Long, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStore, type RunningStore } from './helpers.js';

let store: RunningStore;
let client: MongoClient;
let other: MongoClient;

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
  other = await connect(store.uri);
});

afterAll(async () => {
  await other?.close();
  await client?.close();
  await store?.stop();
});

async function openCursor(dbName: string, coll: string): Promise<Long> {
  const db = client.db(dbName);
  await db.collection(coll).insertMany(Array.from({ length: 10 }, (_, i) => ({ k: i })));
  const reply = (await db.command({ find: coll, batchSize: 2 })) as { cursor: { id: Long; firstBatch: Document[] } };
  expect(reply.cursor.firstBatch).toHaveLength(2);
  return reply.cursor.id;
}

describe('a cursor whose collection went away', () => {
  it('a getMore after the collection was dropped is QueryPlanKilled, also when it was created again, and the cursor is gone', async () => {
    const db = client.db('lifetime-drop');
    const id = await openCursor('lifetime-drop', 'people');
    await db.collection('people').drop();
    await db.collection('people').insertMany([{ k: 100 }, { k: 101 }, { k: 102 }]);
    await expect(db.command({ getMore: id, collection: 'people' })).rejects.toMatchObject({
      code: 175,
      codeName: 'QueryPlanKilled',
      message: expect.stringMatching(/^collection dropped\. UUID [0-9a-f-]{36}$/),
    });
    await expect(db.command({ getMore: id, collection: 'people' })).rejects.toMatchObject({ code: 43 });
  });

  it('a getMore after dropDatabase is QueryPlanKilled', async () => {
    const db = client.db('lifetime-dropdb');
    const id = await openCursor('lifetime-dropdb', 'people');
    await db.dropDatabase();
    await expect(db.command({ getMore: id, collection: 'people' })).rejects.toMatchObject({ code: 175, message: expect.stringMatching(/^collection dropped\./) });
  });

  it('a getMore after a rename names both namespaces', async () => {
    const db = client.db('lifetime-rename');
    const id = await openCursor('lifetime-rename', 'people');
    await db.collection('people').rename('attendees');
    await expect(db.command({ getMore: id, collection: 'people' })).rejects.toMatchObject({
      code: 175,
      message: expect.stringMatching(/^collection renamed from 'lifetime-rename\.people' to 'lifetime-rename\.attendees'\. UUID /),
    });
  });

  it('other collections\' changes and writes to the same collection leave the cursor alone', async () => {
    const db = client.db('lifetime-unrelated');
    const cursor = db.collection('people').find({}, { batchSize: 2 });
    await db.collection('people').insertMany(Array.from({ length: 10 }, (_, i) => ({ k: i })));
    expect(await cursor.next()).toMatchObject({ k: 0 });
    await db.collection('elsewhere').insertOne({ x: 1 });
    await db.collection('elsewhere').drop();
    await db.collection('people').insertOne({ k: 10 });
    expect((await cursor.toArray()).map((d) => d.k)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('a cursor belongs to its session', () => {
  it('a getMore in another session is refused with 50738, naming both sessions', async () => {
    const db = client.db('lifetime-session');
    await db.collection('people').insertMany(Array.from({ length: 10 }, (_, i) => ({ k: i })));
    const mine = client.startSession();
    const theirs = client.startSession();
    try {
      const reply = (await db.command({ find: 'people', batchSize: 2 }, { session: mine })) as { cursor: { id: Long } };
      const refused = await db.command({ getMore: reply.cursor.id, collection: 'people' }, { session: theirs }).catch((e: Error & { code?: number }) => e);
      expect(refused).toMatchObject({ code: 50738 });
      expect((refused as Error).message).toMatch(
        new RegExp(`^Cannot run getMore on cursor ${reply.cursor.id}, which was created in session [0-9a-f-]{36} - \\S+ -  - , in session [0-9a-f-]{36} - `),
      );
      // Another client (its own implicit session) cannot take it either; the owner still can.
      await expect(other.db('lifetime-session').command({ getMore: reply.cursor.id, collection: 'people' })).rejects.toMatchObject({ code: 50738 });
      const more = (await db.command({ getMore: reply.cursor.id, collection: 'people' }, { session: mine })) as { cursor: { nextBatch: Document[] } };
      expect(more.cursor.nextBatch.map((d) => d.k)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await mine.endSession();
      await theirs.endSession();
    }
  });

  it('the driver\'s and mongoose-style cursors (find, aggregate, listCollections) page through in their own session', async () => {
    const db = client.db('lifetime-driver');
    await db.collection('people').insertMany(Array.from({ length: 250 }, (_, i) => ({ k: i })));
    expect(await db.collection('people').find({}, { batchSize: 7 }).toArray()).toHaveLength(250);
    expect(await db.collection('people').aggregate([{ $match: {} }], { batchSize: 7 }).toArray()).toHaveLength(250);
    for (let i = 0; i < 5; i++) await db.createCollection(`c${i}`);
    expect(await db.listCollections({}, { batchSize: 2 }).toArray()).toHaveLength(6);
  });
});

describe('tailable and awaitData options, as the drivers\' maxTimeMS tests send them', () => {
  it('awaitData without tailable is FailedToParse; a getMore with maxTimeMS on a cursor that is not awaitData is BadValue', async () => {
    const coll = client.db('lifetime-await').collection('people');
    await coll.insertMany(Array.from({ length: 5 }, (_, i) => ({ k: i })));
    const err = await coll.find({}, { awaitData: true, batchSize: 1 }).next().catch((e: Error) => e);
    expect(err).toMatchObject({ code: 9, codeName: 'FailedToParse', message: "Cannot set 'awaitData' without also setting 'tailable'" });
    const cursor = coll.find({}, { batchSize: 1, maxAwaitTimeMS: 100 });
    try {
      expect(await cursor.next()).toMatchObject({ k: 0 });
      await expect(cursor.next()).rejects.toMatchObject({ code: 2, message: 'cannot set maxTimeMS on getMore command for a non-awaitData cursor' });
    } finally {
      await cursor.close();
    }
    // Without maxAwaitTimeMS the same cursor pages normally.
    expect(await coll.find({}, { batchSize: 1 }).toArray()).toHaveLength(5);
  });
});
