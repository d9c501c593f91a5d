// The conformance runner checks itself: a runner that passes everything proves nothing, so
// these tests feed it wrong expectations, unknown operations and unknown arguments and make
// sure each one FAILS, and check the matching rules on their own.
import { Int32, Long, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startStore, type RunningStore } from './helpers.js';
import { exactlyEqual, matches } from './unified/match.js';
import { compareVersions, requirementsSkipReason, type ServerFacts } from './unified/requirements.js';
import { ConformanceFailure, runUnifiedTest } from './unified/runner.js';
import { crudSpecDir, loadSpecFiles, type UnifiedFile, type UnifiedTest } from './unified/spec.js';

describe('matching rules', () => {
  it('root documents may have extra fields, nested ones may not', () => {
    expect(matches({ a: 1 }, { a: 1, b: 2 })).toEqual([]);
    expect(matches({ a: { x: 1 } }, { a: { x: 1, y: 2 } })).not.toEqual([]);
    expect(matches({ a: 1, b: 2 }, { a: 1 })).not.toEqual([]);
  });

  it('arrays must have the same length and matching elements', () => {
    expect(matches([1, 2, 3], [1, 2, 3, 4], false)).not.toEqual([]);
    expect(matches([{ x: 1 }], [{ x: 1, y: 1 }], false)).not.toEqual([]);
  });

  it('numbers compare by value across int, long and double; other types do not mix', () => {
    expect(matches({ n: 1 }, { n: 1.0 })).toEqual([]);
    expect(matches({ n: 1 }, { n: Long.fromNumber(1) })).toEqual([]);
    expect(matches({ n: new Int32(2) }, { n: 2 })).toEqual([]);
    expect(matches({ n: 1 }, { n: 1.5 })).not.toEqual([]);
    expect(matches({ n: 1 }, { n: '1' })).not.toEqual([]);
    expect(matches({ n: null }, { n: 0 })).not.toEqual([]);
  });

  it('$$exists, $$unsetOrMatches and $$type', () => {
    expect(matches({ a: { $$exists: true } }, { a: null })).toEqual([]);
    expect(matches({ a: { $$exists: true } }, {})).not.toEqual([]);
    expect(matches({ a: { $$exists: false } }, { a: 1 })).not.toEqual([]);
    expect(matches({ a: { $$unsetOrMatches: 1 } }, {})).toEqual([]);
    expect(matches({ a: { $$unsetOrMatches: 1 } }, { a: 2 })).not.toEqual([]);
    expect(matches({ $$unsetOrMatches: { insertedId: 1 } }, undefined)).toEqual([]);
    expect(matches({ a: { $$type: ['int', 'long'] } }, { a: Long.fromNumber(5) })).toEqual([]);
    expect(matches({ a: { $$type: 'string' } }, { a: 5 })).not.toEqual([]);
    expect(matches({ a: { $$type: 'objectId' } }, { a: new ObjectId() })).toEqual([]);
  });

  it('an unknown $$ operator is a mismatch, never a pass', () => {
    expect(matches({ a: { $$frobnicate: 1 } }, { a: 1 })).not.toEqual([]);
  });

  it('collection contents must match exactly, whatever the key order', () => {
    expect(exactlyEqual([{ _id: 1, a: 1 }], [{ a: 1, _id: 1 }])).toEqual([]);
    expect(exactlyEqual([{ _id: 1 }], [{ _id: 1, a: 1 }])).not.toEqual([]);
    expect(exactlyEqual([{ _id: 1 }], [])).not.toEqual([]);
  });
});

describe('runOnRequirements', () => {
  const server: ServerFacts = {
    version: '7.0.0', topology: 'single', serverless: false, auth: false, csfle: false, parameters: async () => undefined,
  };
  it('compares versions numerically', () => {
    expect(compareVersions('7.0.0', '4.10')).toBe(1);
    expect(compareVersions('4.2', '4.2.0')).toBe(0);
    expect(compareVersions('3.6', '3.10')).toBe(-1);
  });
  it('is met when any one requirement is met, and says why otherwise', async () => {
    expect(await requirementsSkipReason([{ minServerVersion: '8.0' }, { topologies: ['single'] }], server)).toBeUndefined();
    expect(await requirementsSkipReason([{ minServerVersion: '8.0' }], server)).toMatch(/>= 8.0/);
    expect(await requirementsSkipReason([{ topologies: ['replicaset', 'sharded'] }], server)).toMatch(/topology/);
    expect(await requirementsSkipReason([{ serverless: 'require' }], server)).toMatch(/Serverless/);
    expect(await requirementsSkipReason([{ auth: true }], server)).toMatch(/auth/);
  });
});

// These self-tests replay a real spec test (find.json) with wrong expectations.
describe.skipIf(crudSpecDir === undefined)('the runner fails what must fail', () => {
  let store: RunningStore;
  let internal: MongoClient;
  const find = loadSpecFiles().find((f) => f.file === 'find.json')?.spec ?? { tests: [] as UnifiedTest[] } as unknown as UnifiedFile;
  const base = find.tests[0]!; // 'find with multiple batches works': result, events and no error

  beforeAll(async () => {
    store = await startStore();
    internal = await connect(store.uri);
  });
  afterAll(async () => {
    await internal?.close();
    await store?.stop();
  });

  const run = (file: UnifiedFile, test: UnifiedTest) => runUnifiedTest(file, test, store.uri, internal);
  const variant = (change: (t: UnifiedTest) => void): UnifiedTest => {
    const t = structuredClone(base);
    change(t);
    return t;
  };

  it('the unmodified test passes', async () => {
    await expect(run(find, base)).resolves.toBeUndefined();
  });

  it('a wrong expected result fails', async () => {
    const t = variant((x) => {
      x.operations[0]!.expectResult = [{ _id: 999 }];
    });
    await expect(run(find, t)).rejects.toBeInstanceOf(ConformanceFailure);
  });

  it('a wrong outcome fails', async () => {
    const t = variant((x) => {
      x.outcome = [{ collectionName: 'coll0', databaseName: 'find-tests', documents: [{ _id: 1, x: 'nope' }] }];
    });
    await expect(run(find, t)).rejects.toBeInstanceOf(ConformanceFailure);
  });

  it('a wrong expected event fails, and so does a missing one', async () => {
    const wrong = variant((x) => {
      x.expectEvents = [{ client: 'client0', events: [{ commandStartedEvent: { command: { find: 'other' } } }] }];
    });
    await expect(run(find, wrong)).rejects.toBeInstanceOf(ConformanceFailure);
    const tooMany = variant((x) => {
      x.expectEvents = [{ client: 'client0', events: [{ commandStartedEvent: { commandName: 'find' } }, { commandStartedEvent: { commandName: 'find' } }] }];
    });
    const file = structuredClone(find);
    (file.createEntities![0] as { client: { observeEvents?: string[] } }).client.observeEvents = ['commandStartedEvent'];
    await expect(run(file, tooMany)).rejects.toBeInstanceOf(ConformanceFailure);
  });

  it('an expected error that does not happen fails', async () => {
    const t = variant((x) => {
      x.operations[0]!.expectError = { isError: true };
      delete x.operations[0]!.expectResult;
    });
    await expect(run(find, t)).rejects.toBeInstanceOf(ConformanceFailure);
  });

  it('an unknown operation or argument fails', async () => {
    const op = variant((x) => {
      x.operations[0]!.name = 'findFrobnicated';
    });
    await expect(run(find, op)).rejects.toThrow(/unsupported collection operation/);
    const arg = variant((x) => {
      x.operations[0]!.arguments = { ...x.operations[0]!.arguments, frobnicate: true };
    });
    await expect(run(find, arg)).rejects.toThrow(/unsupported argument/);
  });

  it('cursor entities: createFindCursor, iterateUntilDocumentOrError and close, with their events', async () => {
    const file: UnifiedFile = {
      description: 'cursor self-test',
      schemaVersion: '1.0',
      createEntities: [
        { client: { id: 'client0', observeEvents: ['commandStartedEvent'] } },
        { database: { id: 'database0', client: 'client0', databaseName: 'cursor-tests' } },
        { collection: { id: 'collection0', database: 'database0', collectionName: 'coll0' } },
      ],
      initialData: [{ collectionName: 'coll0', databaseName: 'cursor-tests', documents: [{ _id: 1 }, { _id: 2 }, { _id: 3 }] }],
      tests: [],
    };
    const test: UnifiedTest = {
      description: 'iterate a cursor two documents at a time, then close it',
      operations: [
        { name: 'createFindCursor', object: 'collection0', arguments: { filter: {}, sort: { _id: 1 }, batchSize: 2 }, saveResultAsEntity: 'cursor0' },
        { name: 'iterateUntilDocumentOrError', object: 'cursor0', expectResult: { _id: 1 } },
        { name: 'iterateUntilDocumentOrError', object: 'cursor0', expectResult: { _id: 2 } },
        { name: 'iterateUntilDocumentOrError', object: 'cursor0', expectResult: { _id: 3 } },
        { name: 'close', object: 'cursor0' },
        { name: 'listIndexes', object: 'collection0', expectResult: [{ name: '_id_' }] },
        { name: 'assertCollectionExists', object: 'testRunner', arguments: { databaseName: 'cursor-tests', collectionName: 'coll0' } },
        { name: 'assertIndexNotExists', object: 'testRunner', arguments: { databaseName: 'cursor-tests', collectionName: 'coll0', indexName: 'x_1' } },
      ],
      expectEvents: [{
        client: 'client0',
        events: [
          { commandStartedEvent: { command: { find: 'coll0', batchSize: 2 }, commandName: 'find' } },
          { commandStartedEvent: { command: { getMore: { $$type: ['int', 'long'] }, collection: 'coll0', batchSize: 2 }, commandName: 'getMore' } },
          { commandStartedEvent: { command: { listIndexes: 'coll0' }, commandName: 'listIndexes' } },
        ],
      }],
    };
    await expect(run(file, test)).resolves.toBeUndefined();
    const wrong = structuredClone(test);
    wrong.operations[2]!.expectResult = { _id: 3 };
    await expect(run(file, wrong)).rejects.toBeInstanceOf(ConformanceFailure);
  });

  it('an unsupported schema version fails', async () => {
    await expect(run({ ...find, schemaVersion: '2.0' }, base)).rejects.toThrow(/schemaVersion/);
  });
});
