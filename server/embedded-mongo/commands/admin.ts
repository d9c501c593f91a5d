// Handshake, server introspection and session commands.
import os from 'node:os';
import v8 from 'node:v8';
import { Long } from 'bson';
import type { Collection } from '../collection.js';
import { decodeStats } from '../document-store.js';
import type { Store } from '../store.js';
import { MongoServerError } from '../errors.js';
import type { Document } from '../values.js';
import { isTruthy } from '../values.js';
import { collectionArg, type CommandContext, type CommandHandler } from './context.js';

export const SERVER_VERSION = '7.0.0';

function helloReply(ctx: CommandContext, legacy: boolean): Document {
  const reply: Document = legacy ? { ismaster: true } : { isWritablePrimary: true };
  return {
    ...reply,
    helloOk: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  };
}

export const hello: CommandHandler = (_command, ctx) => helloReply(ctx, false);
export const isMaster: CommandHandler = (_command, ctx) => helloReply(ctx, true);

export const ping: CommandHandler = () => ({ ok: 1 });

export const buildInfo: CommandHandler = () => ({
  version: SERVER_VERSION,
  gitVersion: 'embedded',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: 16 * 1024 * 1024,
  storageEngines: ['sqlite'],
  javascriptEngine: 'none',
  modules: [],
  openssl: { running: 'disabled' },
  ok: 1,
});

export const serverStatus: CommandHandler = (_command, ctx) => {
  const memory = process.memoryUsage();
  return {
    host: os.hostname(),
    version: SERVER_VERSION,
    process: 'bridgepoint-embedded-mongo',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor((Date.now() - ctx.server.startedAt) / 1000),
    uptimeMillis: Long.fromNumber(Date.now() - ctx.server.startedAt),
    localTime: new Date(),
    connections: { current: ctx.server.connections, available: 1000 - ctx.server.connections },
    mem: { bits: 64, resident: Math.round(memory.rss / 1048576), virtual: Math.round(memory.rss / 1048576), supported: true },
    metrics: { cursor: { open: { total: ctx.cursors.size } }, queryExecutor: { scannedObjects: Long.fromNumber(decodeStats.decoded) } },
    embeddedMongo: workingSetStatus(ctx.store, memory),
    storageEngine: { name: 'sqlite', supportsCommittedReads: false, persistent: ctx.server.dbPath !== null, readOnly: ctx.store.health.failure !== undefined },
    journal: journalStatus(ctx),
    ok: 1,
  };
};

/**
 * The store's own memory report: the working set (documents' BSON in their buffers, index
 * entries) against the memory budget, the thread's heap, and documents per database.
 */
function workingSetStatus(store: Store, memory: NodeJS.MemoryUsage): Document {
  const databases: Document = {};
  let documentBytes = 0;
  let dataBytes = 0;
  let indexBytes = 0;
  for (const db of store.listDatabases()) {
    const entry = { collections: 0, documents: 0, dataBytes: 0, documentBytes: 0, indexBytes: 0 };
    for (const collection of db.collections.values()) {
      const usage = collection.memoryUsage;
      entry.collections++;
      entry.documents += usage.documents;
      entry.dataBytes += usage.dataBytes;
      entry.documentBytes += usage.residentBytes;
      entry.indexBytes += usage.indexBytes;
    }
    documentBytes += entry.documentBytes;
    dataBytes += entry.dataBytes;
    indexBytes += entry.indexBytes;
    databases[db.name] = entry;
  }
  const heap = v8.getHeapStatistics();
  const workingSetBytes = documentBytes + indexBytes;
  return {
    memory: {
      budgetBytes: store.memory.limitBytes,
      workingSetBytes,
      budgetUsedPercent: Math.round((workingSetBytes / store.memory.limitBytes) * 1000) / 10,
      dataBytes,
      documentBytes,
      indexBytes,
      heapUsedBytes: heap.used_heap_size,
      heapLimitBytes: heap.heap_size_limit,
      externalBytes: memory.external,
      arrayBufferBytes: memory.arrayBuffers,
      residentBytes: memory.rss,
    },
    databases,
  };
}

/** Durability counters: group commits, fdatasyncs, and why the store went read-only, if it did. */
function journalStatus(ctx: CommandContext): Document {
  const { stats } = ctx.store.groupCommit;
  const failure = ctx.store.health.failure;
  return {
    enabled: ctx.server.dbPath !== null,
    commitIntervalMs: ctx.store.options.journalCommitMs ?? 0,
    syncEveryWrite: ctx.store.options.syncEveryWrite === true,
    fsyncs: stats.fsyncs,
    groupCommits: stats.commits,
    syncedWrites: stats.syncedWrites,
    ...(failure ? { readOnlySince: failure.at, readOnlyReason: failure.cause } : {}),
  };
}

/** mongod's fsync command: the reply waits for the journal's fdatasync (server.ts); no fsyncLock. */
export const fsync: CommandHandler = (command, ctx) => {
  if (ctx.db !== 'admin') throw new MongoServerError('Unauthorized', 'fsync may only be run against the admin database.');
  if (isTruthy(command.lock)) throw new MongoServerError('CommandNotSupported', 'fsync with lock: true is not supported by the embedded store');
  return { numFiles: ctx.store.listDatabases().length, ok: 1 };
};

export const hostInfo: CommandHandler = () => ({
  system: { currentTime: new Date(), hostname: os.hostname(), cpuAddrSize: 64, memSizeMB: Math.round(os.totalmem() / 1048576), numCores: os.cpus().length, cpuArch: os.arch() },
  os: { type: os.type(), name: os.platform(), version: os.release() },
  extra: {},
  ok: 1,
});

function adminOnly(ctx: CommandContext, command: string): void {
  if (ctx.db !== 'admin') throw new MongoServerError('Unauthorized', `${command} may only be run against the admin database.`);
}

export const getParameter: CommandHandler = (command, ctx) => {
  adminOnly(ctx, 'getParameter');
  return { ...ctx.server.parameters.read(command), ok: 1 };
};

export const setParameter: CommandHandler = (command, ctx) => {
  adminOnly(ctx, 'setParameter');
  return { ...ctx.server.parameters.write(command), ok: 1 };
};

export const getCmdLineOpts: CommandHandler = (_command, ctx) => ({
  argv: process.argv,
  parsed: { net: { port: ctx.server.port, bindIp: '127.0.0.1' }, storage: { dbPath: ctx.server.dbPath ?? ':memory:' } },
  ok: 1,
});

export const getLog: CommandHandler = (command) => {
  if (command.getLog === '*') return { names: ['global', 'startupWarnings'], ok: 1 };
  return { totalLinesWritten: 0, log: [], ok: 1 };
};

export const listDatabases: CommandHandler = (command, ctx) => {
  const databases = ctx.store
    .listDatabases()
    .filter((db) => db.collections.size > 0)
    .map((db) => {
      let documents = 0;
      for (const c of db.collections.values()) documents += c.documents.size;
      return { name: db.name, sizeOnDisk: documents * 256, empty: documents === 0 };
    });
  if (command.nameOnly) return { databases: databases.map((d) => ({ name: d.name })), ok: 1 };
  return { databases, totalSize: databases.reduce((s, d) => s + d.sizeOnDisk, 0), totalSizeMb: 0, ok: 1 };
};

export const connectionStatus: CommandHandler = () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 });

export const whatsmyuri: CommandHandler = (_command, ctx) => ({ you: ctx.clientAddress, ok: 1 });

/** Sessions are accepted and forgotten: the store has no per-session state. */
export const sessionNoop: CommandHandler = () => ({ ok: 1 });

/** Sizes as MongoDB reports them: BSON bytes of the documents, and the memory of index entries. */
function collectionSizes(collection: Collection | undefined): { count: number; size: number; indexSizes: Document; totalIndexSize: number } {
  const size = collection?.documents.dataBytes ?? 0;
  const indexSizes: Document = {};
  let totalIndexSize = 0;
  for (const index of collection?.indexes ?? []) {
    indexSizes[index.name] = index.bytes;
    totalIndexSize += index.bytes;
  }
  return { count: collection?.documents.size ?? 0, size, indexSizes, totalIndexSize };
}

export const dbStats: CommandHandler = (_command, ctx) => {
  const db = ctx.store.existingDatabase(ctx.db);
  let objects = 0;
  let dataSize = 0;
  let indexes = 0;
  let indexSize = 0;
  let views = 0;
  for (const c of db?.collections.values() ?? []) {
    if (typeof c.options.viewOn === 'string') views++;
    const sizes = collectionSizes(c);
    objects += sizes.count;
    dataSize += sizes.size;
    indexes += c.indexes.length;
    indexSize += sizes.totalIndexSize;
  }
  return {
    db: ctx.db,
    collections: (db?.collections.size ?? 0) - views,
    views,
    objects,
    avgObjSize: objects ? dataSize / objects : 0,
    dataSize,
    storageSize: dataSize,
    indexes,
    indexSize,
    totalSize: dataSize + indexSize,
    scaleFactor: 1,
    ok: 1,
  };
};

export const collStats: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'collStats');
  const collection = ctx.store.existingDatabase(ctx.db)?.get(name);
  const { count, size, indexSizes, totalIndexSize } = collectionSizes(collection);
  return {
    ns: `${ctx.db}.${name}`,
    count,
    size,
    avgObjSize: count ? Math.round(size / count) : 0,
    storageSize: size,
    nindexes: collection?.indexes.length ?? 0,
    totalIndexSize,
    totalSize: size + totalIndexSize,
    indexSizes,
    scaleFactor: 1,
    ok: 1,
  };
};

// ---- What tools ask of a server (mongosh, Compass, drivers' test suites)

function adminDatabaseOnly(name: string, ctx: CommandContext): void {
  if (ctx.db !== 'admin') throw new MongoServerError('Unauthorized', `${name} may only be run against the admin database.`);
}

/** validate: the collection's indexes against its documents, and its documents against its validator. */
export const validate: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'validate');
  const collection = ctx.store.existingDatabase(ctx.db)?.get(name);
  if (!collection) throw new MongoServerError('NamespaceNotFound', `Collection '${ctx.db}.${name}' does not exist to validate.`);
  if (typeof collection.options.viewOn === 'string') throw new MongoServerError('CommandNotSupportedOnView', 'Cannot validate a view');
  const { nrecords, indexes, nonCompliant } = collection.check();
  const errors = indexes.filter((index) => index.keys !== index.expected).map((index) => `index ${index.name} has ${index.keys} keys where its ${nrecords} documents give ${index.expected}`);
  return {
    ns: `${ctx.db}.${name}`,
    nInvalidDocuments: 0,
    nNonCompliantDocuments: nonCompliant,
    nrecords,
    nIndexes: indexes.length,
    keysPerIndex: Object.fromEntries(indexes.map((index) => [index.name, index.keys])),
    indexDetails: Object.fromEntries(indexes.map((index) => [index.name, { valid: index.keys === index.expected }])),
    valid: errors.length === 0,
    repaired: false,
    warnings: nonCompliant > 0 ? [`Detected one or more documents in this collection not conformant to the schema validation rules.`] : [],
    errors,
    extraIndexEntries: [],
    missingIndexEntries: [],
    corruptRecords: [],
    ok: 1,
  };
};

/** dataSize: one collection's document bytes and count (`keyPattern`/`min`/`max` ranges are not narrowed). */
export const dataSize: CommandHandler = (command, ctx) => {
  const ns = command.dataSize;
  if (typeof ns !== 'string' || !ns.includes('.')) throw new MongoServerError('InvalidNamespace', `Invalid namespace specified '${String(ns)}'`);
  const dot = ns.indexOf('.');
  const collection = ctx.store.existingDatabase(ns.slice(0, dot))?.get(ns.slice(dot + 1));
  return { size: collection?.documents.dataBytes ?? 0, numObjects: collection?.documents.size ?? 0, millis: 0, ok: 1 };
};

/** The store runs one command at a time: when currentOp runs, nothing else is in progress. */
export const currentOp: CommandHandler = (_command, ctx) => {
  adminDatabaseOnly('currentOp', ctx);
  return { inprog: [], ok: 1 };
};

export const killOp: CommandHandler = (command, ctx) => {
  adminDatabaseOnly('killOp', ctx);
  if (command.op === undefined) throw new MongoServerError('BadValue', 'Did not provide "op" field');
  return { info: 'attempting to kill op', ok: 1 };
};

/** profile: there is no profiler; asking its level answers "off", turning it on is refused. */
export const profile: CommandHandler = (command) => {
  const level = Number(command.profile);
  if (level !== -1 && level !== 0) throw new MongoServerError('CommandNotSupported', 'the embedded store has no profiler: profile levels 1 and 2 are not supported');
  return { was: 0, slowms: 100, sampleRate: 1, ok: 1 };
};

/** A standalone mongod answers the replica-set status this way. */
export const replSetGetStatus: CommandHandler = () => {
  throw new MongoServerError('NoReplicationEnabled', 'not running with --replSet');
};
