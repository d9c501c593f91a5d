// mongod's failCommand fail point as drivers' tests use it: `blockConnection` with `blockTimeMS`
// holds the command's connection that long before the command runs (or fails, with `errorCode`);
// other connections are answered meanwhile, and the held connection's answers keep their order.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoClient } from 'mongodb';
import { connect, startStore, type RunningStore } from './helpers.js';
import { kind0, opMsg } from './wire-frames.js';

let store: RunningStore;
let held: MongoClient;
let other: MongoClient;

beforeAll(async () => {
  store = await startStore();
  held = await connect(store.uri, { appName: 'held', maxPoolSize: 1 });
  other = await connect(store.uri, { appName: 'other' });
  await held.db('fp').collection('people').insertMany([{ _id: 1, name: 'Lan' } as never, { _id: 2, name: 'Hùng' } as never]);
});
afterAll(async () => {
  await held?.close();
  await other?.close();
  await store?.stop();
});

const failPoint = (data: Record<string, unknown>) => other.db('admin').command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { appName: 'held', ...data } });

describe('failCommand with blockConnection', () => {
  it('holds the command, answers other connections meanwhile, then runs it', async () => {
    await failPoint({ failCommands: ['find'], blockConnection: true, blockTimeMS: 1500 });
    const order: string[] = [];
    const blocked = held.db('fp').collection('people').find({}).sort({ _id: 1 }).toArray().then((rows) => (order.push('held find'), rows));
    // Sent after the held find, answered before it.
    await other.db('fp').collection('people').countDocuments({}).then(() => order.push('other count'));
    const rows = await blocked;
    expect(order).toEqual(['other count', 'held find']);
    expect(rows.map((row) => row.name)).toEqual(['Lan', 'Hùng']);
  });

  it('with an error code, waits and then fails the command; the next one runs as usual', async () => {
    await failPoint({ failCommands: ['insert'], blockConnection: true, blockTimeMS: 1000, errorCode: 91 });
    const order: string[] = [];
    const refused = held.db('fp').collection('people').insertOne({ _id: 3, name: 'Minh' } as never).then(
      () => 'inserted',
      (error: { code?: number }) => `refused ${error.code}`,
    );
    await other.db('fp').collection('people').findOne({ _id: 1 } as never).then(() => order.push('other read'));
    order.push(await refused);
    expect(order).toEqual(['other read', 'refused 91']);
    expect(await held.db('fp').collection('people').countDocuments({ _id: 3 } as never)).toBe(0);
    await held.db('fp').collection('people').insertOne({ _id: 3, name: 'Minh' } as never);
    expect(await held.db('fp').collection('people').countDocuments({})).toBe(3);
  });

  it('a connection closed after the wait (closeConnection): what it sent behind the held command is not carried out', async () => {
    // A client that sent two inserts at once on one connection: mongod reads the second only
    // after the first is answered, so a connection closed meanwhile never carries it out.
    await other.db('admin').command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['insert'], blockConnection: true, blockTimeMS: 300, closeConnection: true } });
    const frames = Buffer.concat([
      opMsg([kind0({ insert: 'pipelined', documents: [{ _id: 'held' }], $db: 'fp' })], 0, 1),
      opMsg([kind0({ insert: 'pipelined', documents: [{ _id: 'behind' }], $db: 'fp' })], 0, 2),
    ]);
    const replies = await new Promise<number>((resolve, reject) => {
      const socket = net.connect(store.port, '127.0.0.1');
      let received = 0;
      socket.on('connect', () => socket.write(frames));
      socket.on('data', () => received++);
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(replies).toBe(0);
    expect(await other.db('fp').collection('pipelined').find({}).toArray()).toEqual([]);
  });

  it('blockConnection without a usable blockTimeMS fails the command with InvalidOptions, as mongod does', async () => {
    for (const blockTimeMS of [undefined, -5]) {
      await failPoint({ failCommands: ['find'], blockConnection: true, ...(blockTimeMS === undefined ? {} : { blockTimeMS }) });
      const refused = await held.db('fp').collection('people').findOne({ _id: 1 } as never).then(
        () => 'found',
        (error: { code?: number }) => `refused ${error.code}`,
      );
      expect(refused).toBe('refused 72');
      expect(await held.db('fp').collection('people').findOne({ _id: 1 } as never)).toMatchObject({ name: 'Lan' });
    }
  });
});
