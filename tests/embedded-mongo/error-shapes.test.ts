// Unknown commands and odd argument shapes: every refusal is a mongod-shaped error (numeric code,
// codeName, errmsg in mongod's words), never a JavaScript exception text from inside the store,
// and the store keeps serving afterwards.
import { Int32, type Db, type Document, type MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStore, type RunningStore } from './helpers.js';

let store: RunningStore;
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  store = await startStore();
  client = await connect(store.uri);
  db = client.db('shapes');
  await db.collection('fuzz').insertMany([{ _id: 1, a: [1, 2], b: { c: 1 }, s: 'x' } as Document, { _id: 2, a: 3 } as Document]);
  await db.collection('kept').insertOne({ _id: 1, note: 'untouched' } as Document);
});

afterAll(async () => {
  await client?.close();
  await store?.stop();
});

interface Refusal {
  ok: number;
  code: number;
  codeName: string;
  errmsg: string;
}

/** Runs a command and returns its refusal (the driver's error fields), or undefined if it worked. */
async function refusal(command: Document): Promise<Refusal | undefined> {
  try {
    await db.command(command);
    return undefined;
  } catch (err) {
    const e = err as { code?: unknown; codeName?: unknown; message: string };
    return { ok: 0, code: e.code as number, codeName: e.codeName as string, errmsg: e.message };
  }
}

/** Text that only a JavaScript exception inside the store would produce. */
const INTERNAL_TEXT = /is not a function|Cannot read prop|Cannot convert|is not iterable|is not defined|TypeError|RangeError|Maximum call stack|undefined|\[object Object\]|mingo/i;

const ODD_VALUES: unknown[] = [new Int32(5), 'str', [1], null, true, { $foo: 1 }, { a: { $foo: 1 } }, [[1]], { '': 1 }, JSON.parse('{"__proto__": 1}'), { constructor: 1 }, { toString: 1 }];

const STAGES = [
  '$match', '$project', '$group', '$sort', '$limit', '$skip', '$unwind', '$lookup', '$addFields', '$set', '$replaceRoot', '$replaceWith', '$facet',
  '$bucket', '$bucketAuto', '$count', '$sortByCount', '$unset', '$sample', '$out', '$merge', '$densify', '$fill', '$setWindowFields', '$redact',
  '$graphLookup', '$unionWith', '$geoNear',
];

function oddCommands(v: unknown): Document[] {
  return [
    { find: 'fuzz', filter: v }, { find: 'fuzz', projection: v }, { find: 'fuzz', sort: v }, { find: 'fuzz', hint: v }, { find: 'fuzz', skip: v },
    { find: 'fuzz', limit: v }, { find: 'fuzz', batchSize: v }, { find: 'fuzz', collation: v }, { find: v },
    { aggregate: 'fuzz', pipeline: [v], cursor: {} }, { aggregate: 'fuzz', pipeline: v, cursor: {} }, { aggregate: 'fuzz', pipeline: [], cursor: v },
    ...STAGES.map((stage) => ({ aggregate: 'fuzz', pipeline: [{ [stage]: v }], cursor: {} })),
    { aggregate: 'fuzz', pipeline: [{ $project: { x: v } }], cursor: {} }, { aggregate: 'fuzz', pipeline: [{ $group: { _id: null, x: v } }], cursor: {} },
    { insert: 'fuzz', documents: v }, { insert: 'fuzz', documents: [v] }, { update: 'fuzz', updates: v }, { update: 'fuzz', updates: [v] },
    { update: 'fuzz', updates: [{ q: {}, u: v }] }, { update: 'fuzz', updates: [{ q: v, u: { $set: { a: 1 } } }] },
    { update: 'fuzz', updates: [{ q: {}, u: { $set: v } }] }, { update: 'fuzz', updates: [{ q: {}, u: [v] }] },
    { update: 'fuzz', updates: [{ q: {}, u: { $inc: { a: v } }, arrayFilters: v }] },
    { delete: 'fuzz', deletes: v }, { delete: 'fuzz', deletes: [v] }, { delete: 'fuzz', deletes: [{ q: v, limit: 0 }] },
    { findAndModify: 'fuzz', query: v, update: { $set: { z: 1 } } }, { findAndModify: 'fuzz', update: v }, { findAndModify: 'fuzz', sort: v, remove: true },
    { findAndModify: 'fuzz', fields: v, update: {} }, { count: 'fuzz', query: v }, { distinct: 'fuzz', key: v }, { distinct: 'fuzz', key: 'a', query: v },
    { createIndexes: 'fuzz', indexes: v }, { createIndexes: 'fuzz', indexes: [v] }, { createIndexes: 'fuzz', indexes: [{ key: v, name: 'x' }] },
    { dropIndexes: 'fuzz', index: v }, { listIndexes: v }, { listCollections: 1, filter: v }, { create: v }, { collMod: 'fuzz', validator: v },
    { renameCollection: v, to: v }, { getMore: v, collection: 'fuzz' }, { killCursors: 'fuzz', cursors: v }, { explain: v },
    { explain: { find: 'fuzz', filter: v } }, { getParameter: v }, { dbStats: v }, { collStats: v }, { drop: v },
  ];
}

describe('odd shapes and unknown commands', () => {
  it('every refusal of ~1000 odd commands is mongod-shaped, none leaks an internal exception, the store keeps serving', async () => {
    const leaks: string[] = [];
    let refused = 0;
    for (const v of ODD_VALUES) {
      for (const command of oddCommands(v)) {
        const r = await refusal(command);
        if (!r) continue;
        refused++;
        const shaped = Number.isInteger(r.code) && r.code !== 1 && typeof r.codeName === 'string' && r.codeName !== '' && r.errmsg !== '';
        if (!shaped || INTERNAL_TEXT.test(r.errmsg)) leaks.push(`${JSON.stringify(command)} -> ${r.code} ${r.codeName} ${r.errmsg}`);
      }
    }
    expect(leaks).toEqual([]);
    expect(refused).toBeGreaterThan(500);
    expect(await db.collection('kept').find().toArray()).toEqual([{ _id: 1, note: 'untouched' }]);
    expect(await db.command({ ping: 1 })).toEqual({ ok: 1 });
  });

  it('answers with the codes and messages mongod uses', async () => {
    expect(await refusal({ frobnicate: 1 })).toMatchObject({ code: 59, codeName: 'CommandNotFound', errmsg: "no such command: 'frobnicate'" });
    expect(await refusal({ aggregate: 't', pipeline: [{ $sample: 5 }], cursor: {} })).toMatchObject({ code: 28745, errmsg: 'the $sample stage specification must be an object' });
    expect(await refusal({ aggregate: 't', pipeline: [{ $sample: { size: -1 } }], cursor: {} })).toMatchObject({ code: 28747 });
    expect(await refusal({ aggregate: 't', pipeline: [{ $limit: -1 }], cursor: {} })).toMatchObject({ code: 15958, errmsg: 'the limit must be positive' });
    expect(await refusal({ aggregate: 't', pipeline: [{ $skip: 'x' }], cursor: {} })).toMatchObject({ code: 15972 });
    expect(await refusal({ aggregate: 't', pipeline: [{ $unwind: 'a' }], cursor: {} })).toMatchObject({ code: 28818 });
    expect(await refusal({ aggregate: 't', pipeline: [{ $group: { n: { $sum: 1 } } }], cursor: {} })).toMatchObject({ code: 15955 });
    expect(await refusal({ aggregate: 't', pipeline: [{ $project: { x: { $frob: 1 } } }], cursor: {} })).toMatchObject({
      code: 168,
      codeName: 'InvalidPipelineOperator',
      errmsg: "Unrecognized expression '$frob'",
    });
    expect(await refusal({ aggregate: 't', pipeline: [{ $frob: {} }], cursor: {} })).toMatchObject({ code: 40324, errmsg: "Unrecognized pipeline stage name: '$frob'" });
    expect(await refusal({ aggregate: 't', pipeline: [{ $out: 'x' }, { $match: {} }], cursor: {} })).toMatchObject({ code: 40601 });
    expect(await refusal({ aggregate: 't', pipeline: [{ $match: { $expr: { $eq: ['$$nope', 1] } } }], cursor: {} })).toMatchObject({ code: 17276 });
    // Found before any document flows, as mongod parses them: also over an empty collection.
    expect(await refusal({ aggregate: 'empty', pipeline: [{ $match: { a: 1 } }, { $addFields: { y: { $frob: '$a' } } }], cursor: {} })).toMatchObject({ code: 168 });
    expect(await refusal({ aggregate: 'empty', pipeline: [{ $group: { _id: null, n: { $frob: 1 } } }], cursor: {} })).toMatchObject({ code: 168 });
    expect(await refusal({ find: 't', filter: new Int32(5) })).toMatchObject({ code: 14, errmsg: "BSON field 'filter' is the wrong type 'int', expected type 'object'" });
  });
});
