// Collections and indexes: create, drop, rename, list; createIndexes, listIndexes, dropIndexes.
import { Binary, UUID } from 'bson';
import { MongoLocationError, MongoServerError, badValue, failedToParse } from '../errors.js';
import { compileFilter } from '../query.js';
import type { Document } from '../values.js';
import { bsonTypeName, compareValues, isNumeric, isPlainDocument, isTruthy, toNumber } from '../values.js';
import { arrayArg, collectionArg, type CommandHandler } from './context.js';

/** What listCollections reports back as a collection's options (generic command fields are not). */
const COLLECTION_OPTIONS = new Set([
  'capped', 'size', 'max', 'validator', 'validationLevel', 'validationAction', 'viewOn', 'pipeline', 'collation',
  'timeseries', 'expireAfterSeconds', 'clusteredIndex', 'changeStreamPreAndPostImages', 'storageEngine',
  'indexOptionDefaults', 'encryptedFields',
]);

export const create: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'create');
  const db = ctx.store.database(ctx.db);
  const options: Document = {};
  for (const [key, value] of Object.entries(command)) {
    if (COLLECTION_OPTIONS.has(key)) options[key] = value;
  }
  if (options.timeseries !== undefined) options.timeseries = timeseriesOptions(options.timeseries);
  checkValidation(options, 'create');
  db.write(() => db.create(name, options));
  return { ok: 1 };
};

/**
 * A validator that would fail on every write is refused when it is set, as mongod refuses it
 * (an unknown operator, a $jsonSchema keyword it does not support), and so are unknown levels
 * and actions.
 */
function checkValidation(options: Document, commandName: string): void {
  const { validator, validationLevel, validationAction } = options;
  if (validator !== undefined) {
    if (!isPlainDocument(validator)) throw new MongoServerError('TypeMismatch', `BSON field '${commandName}.validator' is the wrong type '${bsonTypeName(validator)}', expected type 'object'`);
    compileFilter(validator);
  }
  const allowed: Array<[string, unknown, string[]]> = [
    ['validationLevel', validationLevel, ['off', 'strict', 'moderate']],
    ['validationAction', validationAction, ['error', 'warn']],
  ];
  for (const [field, value, values] of allowed) {
    if (value !== undefined && !values.includes(value as string)) {
      throw badValue(`Enumeration value '${String(value)}' for field '${commandName}.${field}' is not a valid value.`);
    }
  }
}

const GRANULARITY_SPAN: Record<string, number> = { seconds: 3600, minutes: 86400, hours: 2592000 };

/** A timeseries collection's options as mongod checks and stores them. */
function timeseriesOptions(spec: unknown): Document {
  if (!isPlainDocument(spec)) throw new MongoServerError('TypeMismatch', `BSON field 'create.timeseries' is the wrong type '${bsonTypeName(spec)}', expected type 'object'`);
  for (const key of Object.keys(spec)) {
    if (!['timeField', 'metaField', 'granularity', 'bucketMaxSpanSeconds', 'bucketRoundingSeconds'].includes(key)) {
      throw new MongoLocationError(40415, `BSON field 'create.timeseries.${key}' is an unknown field.`);
    }
  }
  if (spec.timeField === undefined) throw new MongoLocationError(40414, "BSON field 'create.timeseries.timeField' is missing but a required field");
  if (typeof spec.timeField !== 'string') throw new MongoServerError('TypeMismatch', `BSON field 'create.timeseries.timeField' is the wrong type '${bsonTypeName(spec.timeField)}', expected type 'string'`);
  if (spec.metaField !== undefined && typeof spec.metaField !== 'string') {
    throw new MongoServerError('TypeMismatch', `BSON field 'create.timeseries.metaField' is the wrong type '${bsonTypeName(spec.metaField)}', expected type 'string'`);
  }
  for (const field of [spec.timeField, spec.metaField]) {
    if (typeof field === 'string' && (field === '' || field.includes('.') || field.startsWith('$'))) {
      throw new MongoServerError('BadValue', `Invalid field name for the timeseries collection: ${field}`);
    }
  }
  if (spec.metaField === spec.timeField) throw new MongoServerError('InvalidOptions', "The 'timeField' and 'metaField' options cannot be the same");
  if (spec.metaField === '_id' || spec.timeField === '_id') throw new MongoServerError('InvalidOptions', "The 'metaField' and 'timeField' options cannot be '_id'");
  const granularity = spec.granularity ?? 'seconds';
  if (typeof granularity !== 'string' || !(granularity in GRANULARITY_SPAN)) {
    throw new MongoServerError('BadValue', `Enumeration value '${String(granularity)}' for field 'create.timeseries.granularity' is not a valid value.`);
  }
  const out: Document = { timeField: spec.timeField };
  if (spec.metaField !== undefined) out.metaField = spec.metaField;
  out.granularity = granularity;
  out.bucketMaxSpanSeconds = spec.bucketMaxSpanSeconds ?? GRANULARITY_SPAN[granularity];
  return out;
}

export const drop: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'drop');
  const db = ctx.store.existingDatabase(ctx.db);
  const collection = db?.get(name);
  if (!db || !collection) return { ok: 1 }; // MongoDB 7 no longer errors on a missing collection
  const nIndexesWas = collection.indexes.length;
  db.write(() => db.drop(name));
  return { nIndexesWas, ns: `${ctx.db}.${name}`, ok: 1 };
};

export const dropDatabase: CommandHandler = (_command, ctx) => {
  ctx.store.dropDatabase(ctx.db);
  return { dropped: ctx.db, ok: 1 };
};

function splitNamespace(namespace: unknown, field: string): [string, string] {
  if (typeof namespace !== 'string' || !namespace.includes('.')) {
    throw new MongoServerError('InvalidNamespace', `Invalid ${field} namespace: ${typeof namespace === 'string' ? namespace : bsonTypeName(namespace)}`);
  }
  const dot = namespace.indexOf('.');
  return [namespace.slice(0, dot), namespace.slice(dot + 1)];
}

export const renameCollection: CommandHandler = (command, ctx) => {
  const [fromDb, fromName] = splitNamespace(command.renameCollection, 'source');
  const [toDb, toName] = splitNamespace(command.to, 'target');
  if (fromDb === toDb && fromName === toName) throw new MongoServerError('IllegalOperation', "Can't rename a collection to itself");
  const source = ctx.store.existingDatabase(fromDb);
  if (!source?.get(fromName)) throw new MongoServerError('NamespaceNotFound', `Source collection ${fromDb}.${fromName} does not exist`);
  // Refused before the target database is created (its file would be left behind).
  if (fromDb !== toDb) throw new MongoServerError('IllegalOperation', 'renameCollection across databases is not supported by the embedded store');
  const target = ctx.store.database(toDb);
  source.write(() => {
    if (target.get(toName)) {
      if (!isTruthy(command.dropTarget)) throw new MongoServerError('NamespaceExists', 'target namespace exists');
      target.drop(toName);
    }
    source.rename(fromName, toName, target);
  });
  return { ok: 1 };
};

export const listCollections: CommandHandler = (command, ctx) => {
  const filter = command.filter === undefined || command.filter === null ? {} : command.filter;
  if (!isPlainDocument(filter)) throw new MongoServerError('TypeMismatch', "BSON field 'listCollections.filter' is the wrong type, expected type 'object'");
  const matcher = compileFilter(filter);
  const nameOnly = isTruthy(command.nameOnly);
  const db = ctx.store.existingDatabase(ctx.db);
  const entries: Document[] = [];
  for (const collection of db?.collections.values() ?? []) {
    const isView = typeof collection.options.viewOn === 'string';
    const isTimeseries = isPlainDocument(collection.options.timeseries);
    const entry: Document = nameOnly
      ? { name: collection.name, type: isView ? 'view' : isTimeseries ? 'timeseries' : 'collection' }
      : isTimeseries
        ? { name: collection.name, type: 'timeseries', options: collection.options, info: { readOnly: false } }
        : isView
        ? { name: collection.name, type: 'view', options: collection.options, info: { readOnly: true } }
        : {
          name: collection.name,
          type: 'collection',
          options: collection.options,
          info: { readOnly: false, uuid: collectionUuid(ctx.db, collection.name) },
          idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
        };
    if (matcher(entry)) entries.push(entry);
  }
  const namespace = `${ctx.db}.$cmd.listCollections`;
  const batchSize = isPlainDocument(command.cursor) ? command.cursor.batchSize : undefined;
  const { batch, id } = ctx.cursors.open(namespace, entries, batchSize === undefined ? undefined : Number(batchSize), false, ctx.session);
  return { cursor: { id, ns: namespace, firstBatch: batch }, ok: 1 };
};

/** A stable UUID per namespace, so repeated listCollections calls agree. */
export function collectionUuid(db: string, name: string): Binary {
  const bytes = Buffer.alloc(16);
  const text = `${db}.${name}`;
  for (let i = 0; i < text.length; i++) bytes[i % 16] = (bytes[i % 16] * 31 + text.charCodeAt(i)) & 0xff;
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return new UUID(bytes.toString('hex'));
}

/** mongod's own index types; any other string in a key pattern is an unknown plugin. */
const INDEX_PLUGINS = new Set(['text', '2dsphere', '2d', 'hashed', 'geoHaystack', 'columnstore']);

/** A key pattern's values are non-zero numbers or a known plugin's name, as mongod checks them. */
function checkKeyPattern(key: Document): void {
  if (Object.keys(key).length === 0) throw new MongoServerError('CannotCreateIndex', 'Index keys cannot be empty.');
  for (const value of Object.values(key)) {
    if (typeof value === 'string') {
      if (!INDEX_PLUGINS.has(value)) throw new MongoServerError('CannotCreateIndex', `Unknown index plugin '${value}'`);
    } else if (isNumeric(value)) {
      const n = toNumber(value);
      if (n === 0 || Number.isNaN(n)) throw new MongoServerError('CannotCreateIndex', `Values in v:2 index key pattern cannot be of value ${n}`);
    } else {
      throw new MongoServerError(
        'CannotCreateIndex',
        `Values in v:2 index key pattern cannot be of type ${bsonTypeName(value)}. Only numbers > 0, numbers < 0, and strings are allowed.`,
      );
    }
  }
}

export const createIndexes: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'createIndexes');
  const specs = arrayArg(command, 'indexes');
  if (specs.length === 0) throw badValue('Must specify at least one index to create');
  const db = ctx.store.database(ctx.db);
  return db.write(() => {
    const createdCollectionAutomatically = !db.get(name);
    const collection = db.getOrCreate(name);
    const numIndexesBefore = collection.indexes.length;
    for (const spec of specs) {
      if (!isPlainDocument(spec)) throw failedToParse('index specification must be an object');
      if (!isPlainDocument(spec.key)) throw failedToParse("The 'key' field is a required property of an index specification");
      checkKeyPattern(spec.key);
      collection.createIndex(spec);
    }
    collection.persistCatalog();
    const reply: Document = { numIndexesBefore, numIndexesAfter: collection.indexes.length, createdCollectionAutomatically };
    if (numIndexesBefore === collection.indexes.length) reply.note = 'all indexes already exist';
    reply.ok = 1;
    return reply;
  });
};

export const listIndexes: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'listIndexes');
  const collection = ctx.store.existingDatabase(ctx.db)?.get(name);
  if (!collection) throw new MongoServerError('NamespaceNotFound', `ns does not exist: ${ctx.db}.${name}`);
  const namespace = `${ctx.db}.${name}`;
  const { batch, id } = ctx.cursors.open(namespace, collection.indexes.map((i) => i.spec), undefined, false, ctx.session);
  return { cursor: { id, ns: namespace, firstBatch: batch }, ok: 1 };
};

export const dropIndexes: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, Object.keys(command)[0]);
  const db = ctx.store.existingDatabase(ctx.db);
  const collection = db?.get(name);
  if (!db || !collection) throw new MongoServerError('NamespaceNotFound', `ns not found ${ctx.db}.${name}`);
  const nIndexesWas = collection.indexes.length;
  const which = command.index;
  db.write(() => {
    if (which === '*') {
      for (const index of [...collection.indexes]) if (index.name !== '_id_') collection.dropIndex(index.name);
    } else if (typeof which === 'string') {
      collection.dropIndex(which);
    } else if (Array.isArray(which)) {
      for (const n of which) collection.dropIndex(String(n));
    } else if (isPlainDocument(which)) {
      const index = collection.indexes.find((i) => compareValues(i.keyPattern, which) === 0);
      if (!index) throw new MongoServerError('IndexNotFound', `can't find index with key: ${JSON.stringify(which)}`);
      collection.dropIndex(index.name);
    } else {
      throw badValue('invalid index argument');
    }
    collection.persistCatalog();
  });
  return { nIndexesWas, ok: 1 };
};

export const collMod: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'collMod');
  const db = ctx.store.existingDatabase(ctx.db);
  const collection = db?.get(name);
  if (!db || !collection) throw new MongoServerError('NamespaceNotFound', `ns does not exist: ${ctx.db}.${name}`);
  const reply: Document = {};
  db.write(() => {
    const options = { ...collection.options };
    for (const key of ['validator', 'validationLevel', 'validationAction', 'viewOn', 'pipeline']) {
      if (command[key] !== undefined) options[key] = command[key];
    }
    checkValidation(command, 'collMod');
    collection.options = options;
    const indexChange = command.index;
    if (isPlainDocument(indexChange)) {
      const index = collection.indexes.find((i) =>
        typeof indexChange.name === 'string' ? i.name === indexChange.name : compareValues(i.keyPattern, indexChange.keyPattern) === 0,
      );
      if (!index) throw new MongoServerError('IndexNotFound', `cannot find index ${JSON.stringify(indexChange.name ?? indexChange.keyPattern)} for ns ${ctx.db}.${name}`);
      if (indexChange.expireAfterSeconds !== undefined) {
        reply.expireAfterSeconds_old = index.spec.expireAfterSeconds;
        reply.expireAfterSeconds_new = indexChange.expireAfterSeconds;
        collection.replaceIndexSpec(index.name, { ...index.spec, expireAfterSeconds: indexChange.expireAfterSeconds });
      }
    }
    collection.persistCatalog();
  });
  return { ...reply, ok: 1 };
};
