// The app keeps its HTTP sessions in the store through connect-mongo on mongoose's client, the
// way server/app.ts wires it: sessions are written, read, touched, destroyed, and expire
// through connect-mongo's TTL index.
import MongoStore from 'connect-mongo';
import type { SessionData } from 'express-session';
import mongoose, { type Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStore, type RunningStore } from './helpers.js';

let store: RunningStore;
let conn: Connection;
let sessions: MongoStore;

const call = <T>(fn: (cb: (err: unknown, value?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

function session(user: string, maxAgeMs = 60_000): SessionData {
  return { cookie: { originalMaxAge: maxAgeMs, expires: new Date(Date.now() + maxAgeMs), httpOnly: true, path: '/' }, user } as unknown as SessionData;
}

beforeAll(async () => {
  store = await startStore();
  conn = await mongoose.createConnection(store.uri, { dbName: 'sessions_app', serverSelectionTimeoutMS: 5000 }).asPromise();
  sessions = MongoStore.create({ client: conn.getClient(), dbName: 'sessions_app', collectionName: 'sessions', ttl: 3600, touchAfter: 0 });
});

afterAll(async () => {
  await sessions?.close();
  await conn?.close();
  await store?.stop();
});

describe('connect-mongo on the embedded store', () => {
  it('stores a session and reads it back', async () => {
    await call<void>((cb) => sessions.set('sid-1', session('ann'), cb));
    const back = await call<SessionData | null>((cb) => sessions.get('sid-1', cb));
    expect((back as unknown as { user: string }).user).toBe('ann');
  });

  it('created its TTL index on `expires`', async () => {
    await new Promise((r) => setTimeout(r, 200)); // index creation is asynchronous in connect-mongo
    const indexes = await conn.db!.collection('sessions').listIndexes().toArray();
    expect(indexes.find((i) => i.key.expires === 1)).toMatchObject({ expireAfterSeconds: 0 });
  });

  it('touch extends the expiry, destroy removes the session', async () => {
    const before = (await conn.db!.collection('sessions').findOne({ _id: 'sid-1' as never }))!.expires as Date;
    await new Promise((r) => setTimeout(r, 20));
    await call<void>((cb) => sessions.touch('sid-1', session('ann', 120_000), cb));
    const after = (await conn.db!.collection('sessions').findOne({ _id: 'sid-1' as never }))!.expires as Date;
    expect(after.getTime()).toBeGreaterThan(before.getTime());
    await call<void>((cb) => sessions.destroy('sid-1', cb));
    expect(await call<SessionData | null>((cb) => sessions.get('sid-1', cb))).toBeFalsy();
  });

  it('an expired session is not returned and is swept by the TTL monitor', async () => {
    await call<void>((cb) => sessions.set('sid-old', session('bob', 60_000), cb));
    // Age it by hand, as if it had been written long ago.
    await conn.db!.collection('sessions').updateOne({ _id: 'sid-old' as never }, { $set: { expires: new Date(Date.now() - 1000) } });
    expect(await call<SessionData | null>((cb) => sessions.get('sid-old', cb))).toBeFalsy();
    const deadline = Date.now() + 15_000;
    while ((await conn.db!.collection('sessions').countDocuments({ _id: 'sid-old' as never })) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await conn.db!.collection('sessions').countDocuments({ _id: 'sid-old' as never })).toBe(0);
  });

  it('counts and clears sessions', async () => {
    await call<void>((cb) => sessions.set('a', session('a'), cb));
    await call<void>((cb) => sessions.set('b', session('b'), cb));
    expect(await call<number>((cb) => sessions.length(cb))).toBe(2);
    await call<void>((cb) => sessions.clear(cb));
    expect(await call<number>((cb) => sessions.length(cb))).toBe(0);
  });
});
