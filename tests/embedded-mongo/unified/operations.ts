// Entity operations of the unified test format, mapped onto the real `mongodb` driver.
//
// Every operation lists the arguments it understands; an argument it does not know, an
// operation it does not know, or an entity of the wrong type is an error, so the test FAILS
// rather than passing on a half-done operation.
import {
  type AbstractCursor,
  type AnyBulkWriteOperation,
  type BulkWriteResult,
  type Collection,
  type Db,
  type Document,
  type MongoClient,
} from 'mongodb';
import type { EntityMap, Entity } from './entities.js';
import type { Operation } from './spec.js';

export interface OperationContext {
  entities: EntityMap;
  /** The runner's internal client, for testRunner assertions. */
  internal: MongoClient;
  /** Records a fail point set by `failPoint` so that the runner can switch it off afterwards. */
  failPointSet: (clientId: string, name: string) => void;
}

type Args = Document;
type Handler<T> = (target: T, args: Args, ctx: OperationContext) => Promise<unknown>;
interface OpDef<T> { required: string[]; optional: string[]; run: Handler<T> }

const WRITE_OPTS = ['comment', 'bypassDocumentValidation', 'rawData', 'let', 'writeConcern', 'timeoutMS'];

/** Options the driver takes under the same name as the spec. */
function pick(args: Args, skip: string[]): Document {
  const out: Document = {};
  for (const [k, v] of Object.entries(args)) {
    if (skip.includes(k)) continue;
    if (k === 'returnDocument') out.returnDocument = String(v).toLowerCase();
    else out[k] = v;
  }
  return out;
}

/** Driver result objects to the plain documents the spec's expectResult describes. */
function isBulkWriteResult(r: unknown): r is BulkWriteResult {
  // The driver does not export BulkWriteResult as a value; recognise it by its getters.
  return typeof r === 'object' && r !== null && r.constructor?.name === 'BulkWriteResult';
}

export function resultToDocument(result: unknown): unknown {
  if (isBulkWriteResult(result)) {
    return {
      insertedCount: result.insertedCount,
      matchedCount: result.matchedCount,
      modifiedCount: result.modifiedCount,
      deletedCount: result.deletedCount,
      upsertedCount: result.upsertedCount,
      upsertedIds: { ...result.upsertedIds },
      insertedIds: { ...result.insertedIds },
    };
  }
  return result;
}

function updateResult(r: Document): Document {
  const out: Document = { ...r };
  // The node driver reports a missing upsertedId as null; the spec treats it as unset.
  if (out.upsertedId === null || out.upsertedId === undefined) delete out.upsertedId;
  return out;
}

const collectionOps: Record<string, OpDef<Collection<Document>>> = {
  insertOne: {
    required: ['document'],
    optional: [...WRITE_OPTS],
    run: (c, a) => c.insertOne(a.document, pick(a, ['document'])),
  },
  insertMany: {
    required: ['documents'],
    optional: [...WRITE_OPTS, 'ordered'],
    run: (c, a) => c.insertMany(a.documents, pick(a, ['documents'])),
  },
  find: {
    required: ['filter'],
    optional: ['sort', 'projection', 'skip', 'limit', 'batchSize', 'comment', 'hint', 'collation', 'let', 'allowDiskUse', 'rawData', 'maxTimeMS', 'min', 'max', 'returnKey', 'showRecordId', 'noCursorTimeout', 'singleBatch', 'timeoutMS'],
    run: (c, a) => c.find(a.filter, pick(a, ['filter'])).toArray(),
  },
  findOne: {
    required: ['filter'],
    optional: ['sort', 'projection', 'skip', 'comment', 'hint', 'collation', 'let', 'allowDiskUse', 'rawData', 'maxTimeMS'],
    run: (c, a) => c.findOne(a.filter, pick(a, ['filter'])),
  },
  updateOne: {
    required: ['filter', 'update'],
    optional: [...WRITE_OPTS, 'upsert', 'arrayFilters', 'collation', 'hint', 'sort'],
    run: async (c, a) => updateResult(await c.updateOne(a.filter, a.update, pick(a, ['filter', 'update'])) as unknown as Document),
  },
  updateMany: {
    required: ['filter', 'update'],
    optional: [...WRITE_OPTS, 'upsert', 'arrayFilters', 'collation', 'hint'],
    run: async (c, a) => updateResult(await c.updateMany(a.filter, a.update, pick(a, ['filter', 'update'])) as unknown as Document),
  },
  replaceOne: {
    required: ['filter', 'replacement'],
    optional: [...WRITE_OPTS, 'upsert', 'collation', 'hint', 'sort'],
    run: async (c, a) => updateResult(await c.replaceOne(a.filter, a.replacement, pick(a, ['filter', 'replacement'])) as unknown as Document),
  },
  deleteOne: {
    required: ['filter'],
    optional: [...WRITE_OPTS, 'collation', 'hint'],
    run: (c, a) => c.deleteOne(a.filter, pick(a, ['filter'])),
  },
  deleteMany: {
    required: ['filter'],
    optional: [...WRITE_OPTS, 'collation', 'hint'],
    run: (c, a) => c.deleteMany(a.filter, pick(a, ['filter'])),
  },
  findOneAndUpdate: {
    required: ['filter', 'update'],
    optional: [...WRITE_OPTS, 'upsert', 'arrayFilters', 'collation', 'hint', 'sort', 'projection', 'returnDocument', 'maxTimeMS'],
    run: (c, a) => c.findOneAndUpdate(a.filter, a.update, pick(a, ['filter', 'update'])),
  },
  findOneAndReplace: {
    required: ['filter', 'replacement'],
    optional: [...WRITE_OPTS, 'upsert', 'collation', 'hint', 'sort', 'projection', 'returnDocument', 'maxTimeMS'],
    run: (c, a) => c.findOneAndReplace(a.filter, a.replacement, pick(a, ['filter', 'replacement'])),
  },
  findOneAndDelete: {
    required: ['filter'],
    optional: [...WRITE_OPTS, 'collation', 'hint', 'sort', 'projection', 'maxTimeMS'],
    run: (c, a) => c.findOneAndDelete(a.filter, pick(a, ['filter'])),
  },
  countDocuments: {
    required: ['filter'],
    optional: ['skip', 'limit', 'collation', 'hint', 'comment', 'rawData', 'maxTimeMS', 'timeoutMS'],
    run: (c, a) => c.countDocuments(a.filter, pick(a, ['filter'])),
  },
  // The deprecated `count` helper: sends the legacy `count` command.
  count: {
    required: [],
    optional: ['filter', 'skip', 'limit', 'collation', 'hint', 'comment', 'rawData', 'maxTimeMS'],
    run: (c, a) => c.count(a.filter ?? {}, pick(a, ['filter'])),
  },
  estimatedDocumentCount: {
    required: [],
    optional: ['comment', 'rawData', 'maxTimeMS', 'timeoutMS'],
    run: (c, a) => c.estimatedDocumentCount(pick(a, [])),
  },
  distinct: {
    required: ['fieldName', 'filter'],
    optional: ['collation', 'hint', 'comment', 'rawData', 'maxTimeMS'],
    run: (c, a) => c.distinct(a.fieldName, a.filter, pick(a, ['fieldName', 'filter'])),
  },
  aggregate: {
    required: ['pipeline'],
    optional: ['allowDiskUse', 'batchSize', 'bypassDocumentValidation', 'collation', 'comment', 'hint', 'let', 'maxTimeMS', 'rawData', 'timeoutMS'],
    run: (c, a) => c.aggregate(a.pipeline, pick(a, ['pipeline'])).toArray(),
  },
  bulkWrite: {
    required: ['requests'],
    optional: [...WRITE_OPTS, 'ordered'],
    run: async (c, a) => {
      const models = (a.requests as Document[]).map(checkBulkModel);
      return resultToDocument(await c.bulkWrite(models, pick(a, ['requests'])));
    },
  },
  drop: {
    required: [],
    optional: ['comment'],
    run: (c, a) => c.drop(pick(a, [])),
  },
  // A cursor kept as an entity (saveResultAsEntity), iterated by the cursor operations below.
  createFindCursor: {
    required: ['filter'],
    optional: ['sort', 'projection', 'skip', 'limit', 'batchSize', 'comment', 'hint', 'collation', 'let', 'allowDiskUse', 'maxTimeMS', 'timeoutMS'],
    run: async (c, a) => {
      const cursor = c.find(a.filter, pick(a, ['filter']));
      await cursor.hasNext(); // the spec's createFindCursor sends the find command now
      return cursor;
    },
  },
  createIndex: {
    required: ['keys'],
    optional: ['unique', 'name', 'sparse', 'expireAfterSeconds', 'partialFilterExpression', 'collation', 'hidden', 'comment'],
    run: (c, a) => c.createIndex(a.keys, pick(a, ['keys'])),
  },
  dropIndex: {
    required: ['name'],
    optional: ['comment'],
    run: (c, a) => c.dropIndex(a.name, pick(a, ['name'])),
  },
  dropIndexes: {
    required: [],
    optional: ['comment', 'maxTimeMS'],
    run: (c, a) => c.dropIndexes(pick(a, [])),
  },
  listIndexes: {
    required: [],
    optional: ['batchSize', 'comment'],
    run: (c, a) => c.listIndexes(pick(a, [])).toArray(),
  },
  rename: {
    required: ['to'],
    optional: ['dropTarget', 'comment'],
    run: (c, a) => c.rename(a.to, pick(a, ['to'])).then(() => undefined),
  },
};

/** Cursor entity operations. */
const cursorOps: Record<string, OpDef<AbstractCursor<Document>>> = {
  iterateUntilDocumentOrError: { required: [], optional: [], run: (c) => c.next() },
  iterateOnce: { required: [], optional: [], run: (c) => c.tryNext() },
  close: { required: [], optional: [], run: (c) => c.close() },
};

const BULK_MODELS: Record<string, string[]> = {
  insertOne: ['document'],
  updateOne: ['filter', 'update', 'upsert', 'arrayFilters', 'collation', 'hint', 'sort'],
  updateMany: ['filter', 'update', 'upsert', 'arrayFilters', 'collation', 'hint'],
  replaceOne: ['filter', 'replacement', 'upsert', 'collation', 'hint', 'sort'],
  deleteOne: ['filter', 'collation', 'hint'],
  deleteMany: ['filter', 'collation', 'hint'],
};

/** The spec's write models have the driver's shape; check that nothing unknown slips through. */
function checkBulkModel(m: Document): AnyBulkWriteOperation<Document> {
  const [kind, body] = Object.entries(m)[0] as [string, Document];
  const allowed = BULK_MODELS[kind];
  if (!allowed) throw new Error(`unsupported bulkWrite model ${kind}`);
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw new Error(`unsupported ${kind} argument ${k}`);
  return m as AnyBulkWriteOperation<Document>;
}

const databaseOps: Record<string, OpDef<Db>> = {
  aggregate: {
    required: ['pipeline'],
    optional: ['allowDiskUse', 'batchSize', 'bypassDocumentValidation', 'collation', 'comment', 'hint', 'let', 'maxTimeMS', 'rawData'],
    run: (d, a) => d.aggregate(a.pipeline, pick(a, ['pipeline'])).toArray(),
  },
  runCommand: {
    required: ['command'],
    optional: ['commandName', 'readPreference'],
    run: (d, a) => d.command(a.command, pick(a, ['command', 'commandName'])),
  },
  createCollection: {
    required: ['collection'],
    optional: ['viewOn', 'pipeline', 'capped', 'size', 'max', 'validator', 'collation', 'expireAfterSeconds', 'timeseries', 'clusteredIndex', 'changeStreamPreAndPostImages', 'encryptedFields'],
    run: async (d, a) => {
      await d.createCollection(a.collection, pick(a, ['collection']));
      return undefined;
    },
  },
  dropCollection: {
    required: ['collection'],
    optional: ['encryptedFields'],
    run: (d, a) => d.dropCollection(a.collection, pick(a, ['collection'])),
  },
  modifyCollection: {
    required: ['collection'],
    optional: ['validator', 'validationLevel', 'validationAction', 'index', 'expireAfterSeconds', 'changeStreamPreAndPostImages'],
    run: (d, a) => d.command({ collMod: a.collection, ...pick(a, ['collection']) }),
  },
  listCollections: {
    required: [],
    optional: ['filter', 'batchSize', 'nameOnly', 'authorizedCollections', 'comment'],
    run: (d, a) => d.listCollections(a.filter ?? {}, pick(a, ['filter'])).toArray(),
  },
  listCollectionNames: {
    required: [],
    optional: ['filter', 'batchSize', 'comment'],
    run: async (d, a) => (await d.listCollections(a.filter ?? {}, { ...pick(a, ['filter']), nameOnly: true }).toArray()).map((c) => c.name),
  },
  createCommandCursor: {
    required: ['command'],
    optional: ['commandName', 'batchSize', 'comment', 'maxTimeMS', 'timeoutMode', 'cursorType'],
    run: async (d, a) => {
      const cursor = d.runCursorCommand(a.command, pick(a, ['command', 'commandName', 'cursorType', 'timeoutMode']));
      if (a.batchSize !== undefined) cursor.setBatchSize(a.batchSize);
      await cursor.hasNext();
      return cursor;
    },
  },
  runCursorCommand: {
    required: ['command'],
    optional: ['commandName', 'batchSize', 'comment', 'maxTimeMS', 'timeoutMode', 'cursorType'],
    run: (d, a) => {
      const cursor = d.runCursorCommand(a.command, pick(a, ['command', 'commandName', 'cursorType', 'timeoutMode', 'batchSize']));
      if (a.batchSize !== undefined) cursor.setBatchSize(a.batchSize);
      return cursor.toArray();
    },
  },
};

const clientOps: Record<string, OpDef<MongoClient>> = {
  listDatabases: {
    required: [],
    optional: ['filter', 'nameOnly', 'authorizedDatabases', 'comment'],
    run: async (c, a) => (await c.db('admin').admin().listDatabases(pick(a, []))).databases,
  },
  listDatabaseNames: {
    required: [],
    optional: ['filter', 'authorizedDatabases', 'comment'],
    run: async (c, a) => (await c.db('admin').admin().listDatabases({ ...pick(a, []), nameOnly: true })).databases.map((d) => d.name),
  },
};

function checkArguments(op: Operation, def: OpDef<unknown>): Args {
  const args = op.arguments ?? {};
  for (const r of def.required) if (!(r in args)) throw new Error(`${op.name}: missing required argument ${r}`);
  for (const k of Object.keys(args)) {
    if (k === 'session') throw new Error(`${op.name}: session entities are not implemented by this runner`);
    if (!def.required.includes(k) && !def.optional.includes(k)) throw new Error(`${op.name}: unsupported argument ${k}`);
  }
  return args;
}

/** Run one entity operation (not `testRunner` ones) and return its raw result. */
export async function runEntityOperation(op: Operation, ctx: OperationContext): Promise<unknown> {
  const entity: Entity = ctx.entities.get(op.object);
  if (entity.kind === 'collection') {
    const def = collectionOps[op.name];
    if (!def) throw new Error(`unsupported collection operation ${op.name}`);
    return def.run(entity.collection, checkArguments(op, def as OpDef<unknown>), ctx);
  }
  if (entity.kind === 'database') {
    const def = databaseOps[op.name];
    if (!def) throw new Error(`unsupported database operation ${op.name}`);
    return def.run(entity.db, checkArguments(op, def as OpDef<unknown>), ctx);
  }
  if (entity.kind === 'cursor') {
    const def = cursorOps[op.name];
    if (!def) throw new Error(`unsupported cursor operation ${op.name}`);
    return def.run(entity.cursor, checkArguments(op, def as OpDef<unknown>), ctx);
  }
  if (entity.kind === 'client') {
    const def = clientOps[op.name];
    if (!def) throw new Error(`unsupported client operation ${op.name}`);
    return def.run(entity.client, checkArguments(op, def as OpDef<unknown>), ctx);
  }
  throw new Error(`unsupported operation ${op.name} on ${entity.kind} entity ${op.object}`);
}

async function internalNames(ctx: OperationContext, dbName: string): Promise<string[]> {
  return (await ctx.internal.db(dbName).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
}

/** Special operations on the `testRunner` object. */
export async function runTestRunnerOperation(op: Operation, ctx: OperationContext): Promise<void> {
  const args = op.arguments ?? {};
  switch (op.name) {
    case 'failPoint': {
      const client = ctx.entities.client(String(args.client)).client;
      const fp = args.failPoint as Document;
      await client.db('admin').command(fp);
      ctx.failPointSet(String(args.client), String(fp.configureFailPoint));
      return;
    }
    case 'assertCollectionExists':
    case 'assertCollectionNotExists': {
      const names = (await internalNames(ctx, String(args.databaseName))).includes(String(args.collectionName));
      const want = op.name === 'assertCollectionExists';
      if (names !== want) throw new Error(`${op.name}: ${args.databaseName}.${args.collectionName} ${names ? 'exists' : 'does not exist'}`);
      return;
    }
    case 'assertIndexExists':
    case 'assertIndexNotExists': {
      const indexes = await ctx.internal.db(String(args.databaseName)).collection(String(args.collectionName)).listIndexes().toArray().catch(() => []);
      const has = indexes.some((i) => i.name === args.indexName);
      const want = op.name === 'assertIndexExists';
      if (has !== want) throw new Error(`${op.name}: index ${String(args.indexName)} ${has ? 'exists' : 'does not exist'}`);
      return;
    }
    default:
      throw new Error(`unsupported testRunner operation ${op.name}`);
  }
}
