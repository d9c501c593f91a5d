// A MongoDB driver nobody here wrote: Debian's python3-pymongo (tests/embedded-mongo/clients/
// pymongo_client.py) does what an application does against the embedded store over TCP; its
// answers are checked here, and what it wrote is read back through the Node driver.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Binary, Decimal128, Long, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStore, type RunningStore } from './helpers.js';

const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('./clients/pymongo_client.py', import.meta.url));

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

describe('a Python application through pymongo (python3-pymongo)', () => {
  it('inserts, pages through cursors, aggregates, updates, bulk-writes, indexes, meets errors and validators as against mongod', async () => {
    // .ci/run installs python3-pymongo; without it this fails saying so.
    expect(existsSync(python), `${python} is missing`).toBe(true);
    const { stdout } = await promisify(execFile)(python, [script, store.uri, 'pymongo_app'], { timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!);

    const ids = Array.from({ length: 100 }, (_, i) => i);
    expect(out.hello).toEqual({ isWritablePrimary: true, maxWireVersion: 21 });
    expect(out.inserted).toBe(100);
    expect(out.page).toEqual(ids.filter((n) => n >= 50).reverse().slice(5, 15));
    expect(out.all_in_batches_of_7).toBe(100);
    expect(out.projection).toEqual({ name: 'Đại biểu 7' });
    expect(out.groups).toEqual([0, 1, 2].map((group) => {
      const members = ids.filter((n) => n % 3 === group);
      return { _id: group, count: members.length, sum: members.reduce((a, b) => a + b, 0) };
    }));
    expect(out.distinct).toEqual([0, 1, 2]);
    // "Đại biểu 1", "Đại biểu 10".."19", "Đại biểu 100"-less: 1 + 10.
    expect(out.regex_vi).toBe(ids.filter((n) => String(n).startsWith('1')).length);
    const groupZero = ids.filter((n) => n % 3 === 0).length;
    expect(out.update_many).toEqual({ matched: groupZero, modified: groupZero });
    expect(out.find_one_and_update).toEqual({ tags: ['x'] });
    expect(out.upserted_id).toBe('new');
    expect(out.bulk).toEqual({ inserted: 1, modified: 1, deleted: 1 });
    expect(out.duplicate).toEqual({ code: 11000, keyValue: { _id: 3 } });
    expect(out.unordered).toEqual({ inserted: 2, failed_at: [1] });
    expect(out.indexes).toEqual(['_id_', 'group_n', 'name_1']);
    expect(out.explain_index).toBe(true);
    expect(out.kinds_round_trip).toBe(true);
    expect(out.validation).toEqual({ code: 121, missing: ['name'] });
    expect(out.bad_operator).toBe(2);
    expect(out.collections).toEqual(['checked', 'people', 'values']);
    expect(out.after_drop).toEqual(['people', 'values']);

    // What Python wrote, as the Node driver reads it: the same BSON types.
    const db = client.db('pymongo_app');
    const kinds = await db.collection<{ _id: string; long?: unknown; decimal?: unknown; date?: unknown; uuid?: unknown }>('values').findOne({ _id: 'kinds' }, { promoteLongs: false });
    expect(kinds?.long).toEqual(Long.fromString('9007199254740993'));
    expect(kinds?.decimal).toEqual(Decimal128.fromString('1234.5678'));
    expect(kinds?.date).toEqual(new Date('2021-12-29T07:00:00.123Z'));
    expect((kinds?.uuid as Binary).sub_type).toBe(Binary.SUBTYPE_UUID);
    expect((kinds?.uuid as Binary).toUUID().toHexString()).toBe('12345678-1234-5678-1234-567812345678');
    const people = db.collection<{ _id: number | string; n: number; flag?: boolean }>('people');
    expect(await people.countDocuments({ flag: true })).toBe(groupZero);
    expect(await people.countDocuments()).toBe(100 + 1 /* upsert */ + 1 /* bulk insert */ - 1 /* bulk delete */ + 2 /* unordered */);
  });
});
