// insert, update, delete and findAndModify. Each command runs synchronously inside one SQLite
// transaction, so its read-modify-write is atomic with respect to every other connection.
import { calculateObjectSize } from 'bson';
import type { Collection } from '../collection.js';
import { MongoLocationError, MongoServerError, asServerError, badValue, failedToParse } from '../errors.js';
import { checkHint } from '../hint.js';
import { evaluateLet } from '../mingo-bridge.js';
import { compileProjection } from '../projection.js';
import { rawBson } from '../raw-bson.js';
import { collationComparer, compileFilter, parseSort, sortDocuments, type Matcher } from '../query.js';
import type { DatabaseState } from '../store.js';
import {
  applyOperators,
  applyPipeline,
  applyReplacement,
  checkReplacement,
  identical,
  updateKind,
  upsertSeed,
  validateOperators,
  validateIdValue,
  withIdFirst,
} from '../update.js';
import type { Document } from '../values.js';
import { isPlainDocument, isTruthy, toInteger } from '../values.js';
import { arrayArg, checkFieldTypes, collectionArg, documentArg, type CommandHandler } from './context.js';

function writeError(index: number, raw: unknown): Document {
  const err = asServerError(raw);
  return { index, code: err.code, errmsg: err.message, ...err.extra };
}

/**
 * Runs each statement of a write batch, turning server errors into MongoDB's writeErrors;
 * an ordered batch stops at the first error, an unordered one carries on.
 */
function runStatements(statements: unknown[], ordered: boolean, run: (statement: unknown, index: number) => void): Document[] {
  const writeErrors: Document[] = [];
  for (let i = 0; i < statements.length; i++) {
    try {
      run(statements[i], i);
    } catch (err) {
      writeErrors.push(writeError(i, err));
      if (ordered) break;
    }
  }
  return writeErrors;
}

function prepareInsert(doc: unknown): Document {
  if (!isPlainDocument(doc)) throw badValue('document to insert must be an object');
  const prepared = withIdFirst(doc);
  validateIdValue(prepared);
  const size = documentSize(prepared);
  if (size > MAX_DOCUMENT_BYTES) throw badValue(`object to insert too large. size in bytes: ${size}, max size: ${MAX_DOCUMENT_BYTES}`);
  return prepared;
}

/** The time field of a timeseries collection: every measurement must carry a date there. */
function timeFieldOf(collection: Collection): string | undefined {
  const timeseries = collection.options.timeseries;
  return isPlainDocument(timeseries) && typeof timeseries.timeField === 'string' ? timeseries.timeField : undefined;
}

/** BSONObjMaxUserSize: no stored document may be larger (16 MiB). */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** BSON size of a document about to be stored (its serialization is kept for the write). */
function documentSize(doc: Document): number {
  try {
    return rawBson(doc).length;
  } catch {
    // Too large even for the serializer's buffer: measure without serializing.
    return calculateObjectSize(doc);
  }
}

/** A write command's statements: 1 to maxWriteBatchSize (100,000) of them, as mongod requires. */
function writeBatch(command: Document, field: string): unknown[] {
  const statements = arrayArg(command, field);
  if (statements.length < 1 || statements.length > MAX_WRITE_BATCH_SIZE) {
    throw new MongoServerError('InvalidLength', `Write batch sizes must be between 1 and ${MAX_WRITE_BATCH_SIZE}. Got ${statements.length} operations.`);
  }
  return statements;
}

const MAX_WRITE_BATCH_SIZE = 100_000;

export const insert: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'insert');
  const documents = writeBatch(command, 'documents');
  checkFieldTypes(command, 'insert', { ordered: 'bool', bypassDocumentValidation: 'bool' });
  const ordered = command.ordered !== false;
  const db = ctx.store.database(ctx.db);
  let n = 0;
  const writeErrors = db.write(() => {
    const collection = db.getOrCreate(name);
    const timeField = timeFieldOf(collection);
    return runStatements(documents, ordered, (doc) => {
      const prepared = prepareInsert(doc);
      if (timeField !== undefined && !(prepared[timeField] instanceof Date)) {
        throw badValue(`'${timeField}' must be present and contain a valid BSON UTC datetime value`);
      }
      collection.insert(prepared, command.bypassDocumentValidation === true);
      n++;
    });
  });
  return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
};

// ---- update

interface UpdateSpec {
  filter: Document;
  update: unknown;
  multi: boolean;
  upsert: boolean;
  arrayFilters?: Document[];
  collation?: unknown;
  sort?: Document;
  variables?: Document;
  /** The command's bypassDocumentValidation. */
  bypassValidation?: boolean;
}

interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
  before?: Document;
  after?: Document;
}

/** Index of the array element at arrayPath that made the document match (positional `$`). */
function positionalIndexFinder(doc: Document, matcher: Matcher): (arrayPath: string[]) => number | undefined {
  return (arrayPath) => {
    let parent: unknown = doc;
    for (const part of arrayPath.slice(0, -1)) parent = isPlainDocument(parent) ? parent[part] : undefined;
    const field = arrayPath[arrayPath.length - 1];
    if (!isPlainDocument(parent) || !Array.isArray(parent[field])) return undefined;
    const array = parent[field] as unknown[];
    for (let i = 0; i < array.length; i++) {
      // Test the whole filter against the document with the array narrowed to one element.
      const probe = narrowArray(doc, arrayPath, array[i]);
      if (matcher(probe)) return i;
    }
    return undefined;
  };
}

function narrowArray(doc: Document, path: string[], element: unknown): Document {
  const [head, ...rest] = path;
  const copy: Document = { ...doc };
  copy[head] = rest.length === 0 ? [element] : narrowArray(copy[head] as Document, rest, element);
  return copy;
}

function applyUpdate(doc: Document, spec: UpdateSpec, matcher: Matcher, isInsert: boolean): Document {
  const kind = updateKind(spec.update);
  if (kind === 'replacement') return applyReplacement(doc, spec.update as Document);
  if (kind === 'pipeline') return applyPipeline(doc, spec.update as unknown[], spec.variables);
  return applyOperators(doc, spec.update as Document, {
    isInsert,
    arrayFilters: spec.arrayFilters,
    positionalIndex: isInsert ? undefined : positionalIndexFinder(doc, matcher),
  });
}

function performUpdate(db: DatabaseState, name: string, spec: UpdateSpec): UpdateOutcome {
  const kind = updateKind(spec.update);
  if (kind === 'operators') validateOperators(spec.update as Document);
  if (kind === 'replacement' && spec.multi) throw failedToParse('multi update is not supported for replacement-style update');
  if (kind === 'replacement') checkReplacement(spec.update as Document);
  const strings = collationComparer(spec.collation);
  const matcher = compileFilter(spec.filter, { strings, variables: spec.variables, ...db.get(name)?.queryOptions() });
  const collection = spec.upsert ? db.getOrCreate(name) : db.get(name);
  const targets = collection ? findTargets(collection, spec, matcher, strings !== undefined) : [];
  if (targets.length === 0) {
    if (!spec.upsert || !collection) return { matched: 0, modified: 0 };
    return upsert(collection, spec, matcher);
  }
  let modified = 0;
  let before: Document | undefined;
  let after: Document | undefined;
  for (const [rid, doc] of targets) {
    const next = applyUpdate(doc, spec, matcher, false);
    if (!identical(next, doc)) {
      // mongod checks the updated document before writing it: BSONObjectTooLarge (10334), the code
      // mongod 8.0 gives (7.0 gave the same message under the location code 17419).
      if (documentSize(next) > MAX_DOCUMENT_BYTES) throw new MongoServerError('BSONObjectTooLarge', `Resulting document after update is larger than ${MAX_DOCUMENT_BYTES}`);
      collection!.replace(rid, next, spec.bypassValidation);
      modified++;
    }
    before = doc;
    after = next;
  }
  return { matched: targets.length, modified, before, after };
}

function findTargets(collection: Collection, spec: UpdateSpec, matcher: Matcher, hasCollation: boolean): [number, Document][] {
  const targets: [number, Document][] = [];
  const sorted = spec.sort && Object.keys(spec.sort).length > 0;
  for (const [rid, doc] of collection.candidates(spec.filter, !hasCollation)) {
    if (!matcher(doc)) continue;
    targets.push([rid, doc]);
    if (!spec.multi && !sorted) break;
  }
  if (sorted && targets.length > 1) {
    const byDoc = new Map(targets.map(([rid, doc]) => [doc, rid]));
    const first = sortDocuments(targets.map(([, doc]) => doc), parseSort(spec.sort))[0];
    return [[byDoc.get(first)!, first]];
  }
  return targets;
}

function upsert(collection: Collection, spec: UpdateSpec, matcher: Matcher): UpdateOutcome {
  const kind = updateKind(spec.update);
  let doc: Document;
  if (kind === 'replacement') {
    const seed = upsertSeed(spec.filter);
    doc = applyReplacement(seed._id === undefined ? {} : { _id: seed._id }, spec.update as Document);
  } else {
    doc = applyUpdate(upsertSeed(spec.filter), spec, matcher, true);
  }
  doc = withIdFirst(doc);
  validateIdValue(doc);
  // BSONObjectTooLarge as mongod 8.0 gives it (7.0: location code 17420, same message).
  if (documentSize(doc) > MAX_DOCUMENT_BYTES) throw new MongoServerError('BSONObjectTooLarge', `Document to upsert is larger than ${MAX_DOCUMENT_BYTES}`);
  collection.insert(doc, spec.bypassValidation);
  return { matched: 0, modified: 0, upsertedId: doc._id, after: doc };
}

function readUpdateSpec(raw: unknown): UpdateSpec {
  if (!isPlainDocument(raw)) throw failedToParse('update statement must be an object');
  const filter = raw.q === undefined ? {} : raw.q;
  if (!isPlainDocument(filter)) throw failedToParse("BSON field 'q' must be an object");
  if (raw.u === undefined) throw failedToParse("BSON field 'update.updates.u' is missing but a required field");
  return {
    filter,
    update: raw.u,
    multi: isTruthy(raw.multi),
    upsert: isTruthy(raw.upsert),
    arrayFilters: Array.isArray(raw.arrayFilters) ? (raw.arrayFilters as Document[]) : undefined,
    collation: raw.collation,
    variables: isPlainDocument(raw.c) ? raw.c : undefined,
  };
}

export const update: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'update');
  const updates = writeBatch(command, 'updates');
  checkFieldTypes(command, 'update', { ordered: 'bool', bypassDocumentValidation: 'bool', let: 'object' });
  for (const statement of updates) {
    if (isPlainDocument(statement)) {
      checkFieldTypes(statement, 'update.updates', {
        multi: 'bool', upsert: 'bool', arrayFilters: 'array', collation: 'object', hint: ['string', 'object'], c: 'object',
      });
    }
  }
  const ordered = command.ordered !== false;
  for (const statement of updates) {
    // Sorted updateOne/replaceOne arrived in MongoDB 8.0; the 7.0 we report rejects the field.
    if (isPlainDocument(statement) && statement.sort !== undefined) {
      throw new MongoLocationError(40415, "BSON field 'update.updates.sort' is an unknown field.");
    }
  }
  const db = ctx.store.database(ctx.db);
  const letVariables = evaluateLet(command.let);
  const upserted: Document[] = [];
  let n = 0;
  let nModified = 0;
  const writeErrors = db.write(() =>
    runStatements(updates, ordered, (statement, index) => {
      const spec = readUpdateSpec(statement);
      checkHint(db.get(name)?.indexes, (statement as Document).hint);
      if (letVariables) spec.variables = { ...letVariables, ...spec.variables };
      spec.bypassValidation = command.bypassDocumentValidation === true;
      const outcome = performUpdate(db, name, spec);
      if (outcome.upsertedId !== undefined) {
        upserted.push({ index, _id: outcome.upsertedId });
        n++;
      } else {
        n += outcome.matched;
        nModified += outcome.modified;
      }
    }),
  );
  const reply: Document = { n, nModified };
  if (upserted.length) reply.upserted = upserted;
  if (writeErrors.length) reply.writeErrors = writeErrors;
  reply.ok = 1;
  return reply;
};

// ---- delete

export const deleteCommand: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'delete');
  const deletes = writeBatch(command, 'deletes');
  checkFieldTypes(command, 'delete', { ordered: 'bool', bypassDocumentValidation: 'bool', let: 'object' });
  for (const statement of deletes) {
    if (isPlainDocument(statement)) checkFieldTypes(statement, 'delete.deletes', { limit: 'number', collation: 'object', hint: ['string', 'object'] });
  }
  const ordered = command.ordered !== false;
  const db = ctx.store.database(ctx.db);
  const variables = evaluateLet(command.let);
  let n = 0;
  const writeErrors = db.write(() => {
    const collection = db.get(name);
    return runStatements(deletes, ordered, (spec) => {
      if (!isPlainDocument(spec)) throw failedToParse('delete statement must be an object');
      const filter = (spec.q ?? {}) as Document;
      if (!isPlainDocument(filter)) throw failedToParse("BSON field 'q' must be an object");
      const limit = toInteger(spec.limit, 0);
      if (limit !== 0 && limit !== 1) throw failedToParse(`The limit field in delete objects must be 0 or 1. Got ${limit}`);
      checkHint(collection?.indexes, spec.hint);
      const strings = collationComparer(spec.collation);
      const matcher = compileFilter(filter, { strings, variables, ...collection?.queryOptions() });
      if (!collection) return;
      const victims: number[] = [];
      for (const [rid, doc] of collection.candidates(filter, strings === undefined)) {
        if (!matcher(doc)) continue;
        victims.push(rid);
        if (limit === 1) break;
      }
      for (const rid of victims) collection.remove(rid);
      n += victims.length;
    });
  });
  return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
};

// ---- findAndModify

export const findAndModify: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, Object.keys(command)[0]);
  checkFieldTypes(command, 'findAndModify', {
    new: 'bool', upsert: 'bool', remove: 'bool', bypassDocumentValidation: 'bool', maxTimeMS: 'number',
    arrayFilters: 'array', collation: 'object', hint: ['string', 'object'], let: 'object',
  });
  const filter = documentArg(command, 'query') ?? {};
  const sort = documentArg(command, 'sort');
  const remove = isTruthy(command.remove);
  const returnNew = isTruthy(command.new);
  const upsertFlag = isTruthy(command.upsert);
  const hasUpdate = command.update !== undefined;
  if (remove && hasUpdate) throw failedToParse('Cannot specify both an update and remove=true');
  if (!remove && !hasUpdate) throw failedToParse('Either an update or remove=true must be specified');
  if (remove && returnNew) throw failedToParse("Cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
  if (remove && upsertFlag) throw failedToParse('Cannot specify both upsert=true and remove=true ');
  const project = compileProjection(command.fields, filter);
  const db = ctx.store.database(ctx.db);
  return db.write(() => {
    checkHint(db.get(name)?.indexes, command.hint);
    if (remove) {
      const collection = db.get(name);
      const strings = collationComparer(command.collation);
      const matcher = compileFilter(filter, { strings, variables: evaluateLet(command.let), ...collection?.queryOptions() });
      if (!collection) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
      const spec: UpdateSpec = { filter, update: {}, multi: false, upsert: false, sort };
      const [target] = findTargets(collection, spec, matcher, strings !== undefined);
      if (!target) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
      collection.remove(target[0]);
      return { lastErrorObject: { n: 1 }, value: project(target[1]), ok: 1 };
    }
    const spec: UpdateSpec = {
      filter,
      update: command.update,
      multi: false,
      upsert: upsertFlag,
      sort,
      arrayFilters: Array.isArray(command.arrayFilters) ? (command.arrayFilters as Document[]) : undefined,
      collation: command.collation,
      variables: evaluateLet(command.let),
      bypassValidation: command.bypassDocumentValidation === true,
    };
    const outcome = performUpdate(db, name, spec);
    const lastErrorObject: Document = { n: outcome.upsertedId !== undefined ? 1 : outcome.matched, updatedExisting: outcome.matched > 0 };
    if (outcome.upsertedId !== undefined) lastErrorObject.upserted = outcome.upsertedId;
    const value = returnNew ? outcome.after : outcome.before;
    return { lastErrorObject, value: value ? project(value) : null, ok: 1 };
  });
};

