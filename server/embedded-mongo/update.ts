// Update operators applied to BSON documents with MongoDB's semantics and error codes:
// field operators ($set, $inc, $push...), positional paths ($, $[], $[id]), replacements,
// pipeline updates, and the document an upsert starts from.
import { Decimal128, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import { MongoLocationError, MongoServerError, badValue, failedToParse, typeMismatch } from './errors.js';
import { restoreTypes, runPipeline } from './mingo-bridge.js';
import { compileFilter, parseSort, sortDocuments, type Matcher } from './query.js';
import type { Document } from './values.js';
import { bsonType, bsonTypeName, cloneDeep, compareValues, formatValue, isNumeric, isPlainDocument, isRegexValue, toInteger, toNumber } from './values.js';

export interface UpdateContext {
  isInsert: boolean;
  arrayFilters?: Document[];
  /** Index of the array element the query matched, for the positional `$` operator. */
  positionalIndex?: (arrayPath: string[]) => number | undefined;
}

export type UpdateKind = 'operators' | 'replacement' | 'pipeline';

export function updateKind(update: unknown): UpdateKind {
  if (Array.isArray(update)) return 'pipeline';
  if (!isPlainDocument(update)) throw failedToParse('Update argument must be either an object or an array');
  const first = Object.keys(update)[0];
  return first !== undefined && first.startsWith('$') ? 'operators' : 'replacement';
}

/** Validates a replacement document (no $-prefixed top-level fields). */
export function checkReplacement(replacement: Document): void {
  for (const key of Object.keys(replacement)) {
    if (key.startsWith('$')) {
      throw new MongoServerError(
        'DollarPrefixedFieldName',
        `The dollar ($) prefixed field '${key}' in '${key}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
      );
    }
  }
}

/** New document for a replacement update: keeps the original _id first. */
export function applyReplacement(original: Document, replacement: Document): Document {
  checkReplacement(replacement);
  if ('_id' in replacement && original._id !== undefined && !sameId(replacement._id, original._id)) {
    throw new MongoServerError(
      'ImmutableField',
      `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${formatValue(replacement._id)}`,
    );
  }
  const out: Document = original._id === undefined ? {} : { _id: original._id };
  for (const key of Object.keys(replacement)) if (key !== '_id' || original._id === undefined) out[key] = cloneDeep(replacement[key]);
  return out;
}

const FIELD_OPERATORS = new Set([
  '$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$currentDate', '$push', '$addToSet',
  '$pop', '$pull', '$pullAll', '$setOnInsert', '$bit',
]);

/** Update documents already checked: a multi-update applies the same one to many documents. */
const validatedUpdates = new WeakSet<Document>();

/** Parse-time checks mongod makes before touching any document. */
export function validateOperators(update: Document): void {
  if (validatedUpdates.has(update)) return;
  const seenPaths: string[] = [];
  for (const op of Object.keys(update)) {
    if (!FIELD_OPERATORS.has(op)) {
      throw failedToParse(`Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
    }
    const fields = update[op];
    if (!isPlainDocument(fields)) {
      throw failedToParse(`Modifiers operate on fields but we found type ${bsonTypeName(fields)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${formatValue(fields)}}`);
    }
    for (const path of Object.keys(fields)) {
      checkPath(path, seenPaths);
      if (op === '$rename') {
        const to = fields[path];
        if (typeof to !== 'string') throw badValue(`The 'to' field for $rename must be a string: ${path}: ${formatValue(to)}`);
        if (to === path) throw badValue(`The source and target field for $rename must differ: ${path}: "${to}"`);
        checkPath(to, seenPaths);
      }
    }
  }
  validatedUpdates.add(update);
}

/** Applies an operator update to a copy of doc and returns the copy. */
export function applyOperators(doc: Document, update: Document, ctx: UpdateContext): Document {
  validateOperators(update);
  const out = cloneDeep(doc);
  const filters = compileArrayFilters(ctx.arrayFilters);
  for (const op of Object.keys(update)) {
    if (op === '$setOnInsert' && !ctx.isInsert) continue;
    const fields = update[op] as Document;
    for (const path of Object.keys(fields)) {
      const arg = fields[path];
      if (op === '$rename') {
        applyRename(out, path, arg as string);
        continue;
      }
      const parts = path.split('.');
      const create = op !== '$unset' && op !== '$pop' && op !== '$pull' && op !== '$pullAll';
      for (const [container, key] of resolveTargets(out, parts, 0, create, ctx, filters, path)) {
        applyFieldOperator(op, container, key, arg, path, out);
      }
    }
  }
  if (!ctx.isInsert && !sameId(out._id, doc._id)) {
    throw new MongoServerError('ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  return out;
}

function checkPath(path: string, seen: string[]): void {
  if (path === '') throw new MongoServerError('EmptyFieldName', 'An empty update path is not valid.');
  if (path.split('.').some((p) => p === '')) {
    throw new MongoServerError('EmptyFieldName', `The update path '${path}' contains an empty field name, which is not allowed.`);
  }
  for (const other of seen) {
    if (other === path || other.startsWith(path + '.') || path.startsWith(other + '.')) {
      const shorter = other.length < path.length ? other : path;
      throw new MongoServerError('ConflictingUpdateOperators', `Updating the path '${path}' would create a conflict at '${shorter}'`);
    }
  }
  seen.push(path);
}

function compileArrayFilters(arrayFilters: Document[] | undefined): Map<string, Matcher> {
  const out = new Map<string, Matcher>();
  for (const filter of arrayFilters ?? []) {
    if (!isPlainDocument(filter)) throw failedToParse('arrayFilters entries must be objects');
    const keys = Object.keys(filter);
    if (keys.length === 0) throw failedToParse('Cannot use an expression without a top-level field name in arrayFilters');
    const identifier = keys[0].split('.')[0];
    if (out.has(identifier)) throw failedToParse(`Found multiple array filters with the same top-level field name ${identifier}`);
    out.set(identifier, compileFilter(filter));
  }
  return out;
}

type Target = [container: Document | unknown[], key: string];

/** Containers and keys an update path refers to, creating missing intermediate documents when asked. */
function resolveTargets(
  container: Document | unknown[],
  parts: string[],
  i: number,
  create: boolean,
  ctx: UpdateContext,
  filters: Map<string, Matcher>,
  fullPath: string,
): Target[] {
  const part = parts[i];
  const last = i === parts.length - 1;
  let keys: string[];
  if (part === '$') {
    const index = ctx.positionalIndex?.(parts.slice(0, i));
    if (index === undefined) throw badValue('The positional operator did not find the match needed from the query.');
    keys = [String(index)];
  } else if (part === '$[]' || /^\$\[\w*\]$/.test(part)) {
    if (!Array.isArray(container)) {
      if (ctx.isInsert) throw badValue(`The path '${parts.slice(0, i).join('.')}' must exist in the document in order to apply array updates.`);
      throw badValue(`Cannot apply array updates to non-array element ${parts[i - 1]}: ${formatValue(container)}`);
    }
    if (part === '$[]') {
      keys = container.map((_, idx) => String(idx));
    } else {
      const identifier = part.slice(2, -1);
      const filter = filters.get(identifier);
      if (!filter) throw badValue(`No array filter found for identifier '${identifier}' in path '${fullPath}'`);
      keys = [];
      container.forEach((element, idx) => {
        if (filter({ [identifier]: element })) keys.push(String(idx));
      });
    }
  } else {
    keys = [part];
  }
  if (last) return keys.map((k) => [container, k]);
  const out: Target[] = [];
  for (const key of keys) {
    let next = getChild(container, key);
    if (next === undefined || next === null) {
      if (!create) continue;
      if (next === null) throw pathNotViable(parts[i + 1], key, next);
      next = {};
      setChild(container, key, next);
    }
    if (!isPlainDocument(next) && !Array.isArray(next)) {
      if (!create) continue;
      throw pathNotViable(parts[i + 1], key, next);
    }
    out.push(...resolveTargets(next, parts, i + 1, create, ctx, filters, fullPath));
  }
  return out;
}

function pathNotViable(field: string, key: string, value: unknown): MongoServerError {
  return new MongoLocationError(28, `Cannot create field '${field}' in element {${key}: ${formatValue(value)}}`);
}

function getChild(container: Document | unknown[], key: string): unknown {
  if (Array.isArray(container)) return /^\d+$/.test(key) ? container[Number(key)] : undefined;
  return container[key];
}

function setChild(container: Document | unknown[], key: string, value: unknown): void {
  if (Array.isArray(container)) {
    if (!/^\d+$/.test(key)) throw new MongoLocationError(28, `Cannot create field '${key}' in element {${formatValue(container)}}`);
    const index = Number(key);
    while (container.length < index) container.push(null);
    container[index] = value;
  } else {
    container[key] = value;
  }
}

function unsetChild(container: Document | unknown[], key: string): void {
  if (Array.isArray(container)) {
    if (/^\d+$/.test(key) && Number(key) < container.length) container[Number(key)] = null;
  } else {
    delete container[key];
  }
}

function applyFieldOperator(op: string, container: Document | unknown[], key: string, arg: unknown, path: string, root: Document): void {
  const current = getChild(container, key);
  switch (op) {
    case '$set':
    case '$setOnInsert':
      setChild(container, key, cloneDeep(arg));
      return;
    case '$unset':
      unsetChild(container, key);
      return;
    case '$inc':
    case '$mul': {
      if (!isNumeric(arg)) {
        const verb = op === '$inc' ? 'increment' : 'multiply';
        throw typeMismatch(`Cannot ${verb} with non-numeric argument: {${path}: ${formatValue(arg)}}`);
      }
      if (current === undefined) {
        setChild(container, key, op === '$inc' ? arg : multiplyNumbers(zeroLike(arg), arg));
        return;
      }
      if (!isNumeric(current)) {
        throw typeMismatch(
          `Cannot apply ${op} to a value of non-numeric type. {_id: ${formatValue(root._id)}} has the field '${key}' of non-numeric type ${bsonTypeName(current)}`,
        );
      }
      setChild(container, key, op === '$inc' ? addNumbers(current, arg) : multiplyNumbers(current, arg));
      return;
    }
    case '$min':
    case '$max': {
      const c = current === undefined ? 0 : compareValues(arg, current);
      if (current === undefined || (op === '$min' ? c < 0 : c > 0)) setChild(container, key, cloneDeep(arg));
      return;
    }
    case '$currentDate': {
      const wantsTimestamp = isPlainDocument(arg) && arg.$type === 'timestamp';
      if (isPlainDocument(arg) && arg.$type !== 'timestamp' && arg.$type !== 'date') {
        throw badValue("The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}");
      }
      const now = Date.now();
      setChild(container, key, wantsTimestamp ? new Timestamp({ t: Math.floor(now / 1000), i: 1 }) : new Date(now));
      return;
    }
    case '$push':
    case '$addToSet': {
      const array = requireArray(current, key, root);
      const hasEach = isPlainDocument(arg) && '$each' in arg;
      const items = hasEach ? (arg as Document).$each : [arg];
      if (!Array.isArray(items)) throw badValue(`The argument to $each in ${op} must be an array but it was of type: ${bsonTypeName(items)}`);
      if (op === '$addToSet') {
        for (const item of items) if (!array.some((e) => compareValues(e, item) === 0)) array.push(cloneDeep(item));
      } else {
        pushWithModifiers(array, items, hasEach ? (arg as Document) : {});
      }
      setChild(container, key, array);
      return;
    }
    case '$pop': {
      if (current === undefined) return;
      if (!Array.isArray(current)) throw typeMismatch(`Path '${path}' contains an element of non-array type '${bsonTypeName(current)}'`);
      if (toNumber(arg) >= 1) current.pop();
      else current.shift();
      return;
    }
    case '$pull':
    case '$pullAll': {
      if (current === undefined) return;
      if (!Array.isArray(current)) throw badValue('Cannot apply $pull to a non-array value');
      const remove = op === '$pullAll' ? pullAllPredicate(arg) : pullPredicate(arg);
      setChild(container, key, current.filter((e) => !remove(e)));
      return;
    }
    case '$bit': {
      if (!isPlainDocument(arg)) throw badValue('$bit needs an object');
      let value = current === undefined ? 0 : toNumber(current);
      for (const [bitOp, operand] of Object.entries(arg)) {
        const n = toNumber(operand);
        value = bitOp === 'and' ? value & n : bitOp === 'or' ? value | n : bitOp === 'xor' ? value ^ n : value;
      }
      setChild(container, key, new Int32(value));
      return;
    }
    default:
      throw failedToParse(`Unknown modifier: ${op}`);
  }
}

function requireArray(current: unknown, key: string, root: Document): unknown[] {
  if (current === undefined) return [];
  if (!Array.isArray(current)) {
    throw badValue(`The field '${key}' must be an array but is of type ${bsonTypeName(current)} in document {_id: ${formatValue(root._id)}}`);
  }
  return current;
}

function pushWithModifiers(array: unknown[], items: unknown[], modifiers: Document): void {
  const copies = items.map(cloneDeep);
  if (modifiers.$position !== undefined) {
    let position = toInteger(modifiers.$position);
    if (position < 0) position = Math.max(0, array.length + position);
    array.splice(Math.min(position, array.length), 0, ...copies);
  } else {
    array.push(...copies);
  }
  if (modifiers.$sort !== undefined) {
    const sort = modifiers.$sort;
    if (isPlainDocument(sort)) {
      const sorted = sortDocuments(array as Document[], parseSort(sort));
      array.splice(0, array.length, ...sorted);
    } else {
      const direction = toNumber(sort);
      array.sort((a, b) => compareValues(a, b) * direction);
    }
  }
  if (modifiers.$slice !== undefined) {
    const slice = toInteger(modifiers.$slice);
    const kept = slice >= 0 ? array.slice(0, slice) : array.slice(Math.max(0, array.length + slice));
    array.splice(0, array.length, ...kept);
  }
}

function pullPredicate(arg: unknown): (e: unknown) => boolean {
  if (isPlainDocument(arg)) {
    const keys = Object.keys(arg);
    if (keys.length > 0 && keys[0].startsWith('$') && !['$and', '$or', '$nor'].includes(keys[0])) {
      // Condition on the element itself, e.g. { $gte: 6 }.
      const matcher = compileFilter({ v: arg });
      return (e) => matcher({ v: e });
    }
    const matcher = compileFilter(arg);
    return (e) => isPlainDocument(e) && matcher(e);
  }
  return (e) => compareValues(e, arg) === 0;
}

function pullAllPredicate(arg: unknown): (e: unknown) => boolean {
  if (!Array.isArray(arg)) throw badValue(`$pullAll requires an array argument but was given a ${bsonTypeName(arg)}`);
  return (e) => arg.some((v) => compareValues(e, v) === 0);
}

function applyRename(doc: Document, from: string, to: string): void {
  const fromParts = from.split('.');
  const parent = fromParts.slice(0, -1).reduce<unknown>((c, p) => (isPlainDocument(c) ? c[p] : undefined), doc);
  if (!isPlainDocument(parent) || !(fromParts[fromParts.length - 1] in parent)) return;
  const value = parent[fromParts[fromParts.length - 1]];
  delete parent[fromParts[fromParts.length - 1]];
  const toParts = to.split('.');
  let container: Document = doc;
  for (const part of toParts.slice(0, -1)) {
    if (!isPlainDocument(container[part])) container[part] = {};
    container = container[part] as Document;
  }
  container[toParts[toParts.length - 1]] = value;
}

// ---- numeric arithmetic that keeps MongoDB's type promotion (int -> long -> double -> decimal)

type NumericKind = 0 | 1 | 2 | 3; // int, long, double, decimal

function kindOf(value: unknown): NumericKind {
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 0 : 2;
  switch (bsonType(value)) {
    case 'Int32':
      return 0;
    case 'Long':
      return 1;
    case 'Decimal128':
      return 3;
    default:
      return 2;
  }
}

function toBig(value: unknown): bigint {
  if (bsonType(value) === 'Long') return (value as Long).toBigInt();
  return BigInt(Math.trunc(toNumber(value)));
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function integerResult(result: bigint, kind: NumericKind): unknown {
  if (kind === 0 && result >= -(2n ** 31n) && result < 2n ** 31n) return new Int32(Number(result));
  if (result >= INT64_MIN && result <= INT64_MAX) return Long.fromBigInt(result);
  return new Double(Number(result));
}

function arithmetic(a: unknown, b: unknown, bigOp: (x: bigint, y: bigint) => bigint, numOp: (x: number, y: number) => number): unknown {
  const kind = Math.max(kindOf(a), kindOf(b)) as NumericKind;
  if (kind <= 1) return integerResult(bigOp(toBig(a), toBig(b)), kind);
  const result = numOp(toNumber(a), toNumber(b));
  return kind === 3 ? Decimal128.fromString(String(result)) : new Double(result);
}

function addNumbers(a: unknown, b: unknown): unknown {
  return arithmetic(a, b, (x, y) => x + y, (x, y) => x + y);
}

function multiplyNumbers(a: unknown, b: unknown): unknown {
  return arithmetic(a, b, (x, y) => x * y, (x, y) => x * y);
}

function zeroLike(value: unknown): unknown {
  switch (kindOf(value)) {
    case 0:
      return new Int32(0);
    case 1:
      return Long.fromInt(0);
    case 3:
      return Decimal128.fromString('0');
    default:
      return new Double(0);
  }
}

/** mongod compares _id by value for immutability: Int32 1 and Double 1.0 are the same _id. */
function sameId(a: unknown, b: unknown): boolean {
  return a !== undefined && b !== undefined ? compareValues(a, b) === 0 : a === b;
}

/** Deep equality that also distinguishes BSON types (Int32 1 vs Double 1), i.e. "would the bytes change". */
export function identical(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => identical(v, b[i]));
  if (isPlainDocument(a)) {
    if (!isPlainDocument(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && identical(a[k], b[k]));
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (bsonTypeName(a) !== bsonTypeName(b)) return false;
  return compareValues(a, b) === 0;
}

// ---- pipeline updates

/** mongod's location code for a stage that is not allowed in an update pipeline. */
const InvalidPipelineStageInUpdate = 72;

const PIPELINE_UPDATE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);

export function applyPipeline(doc: Document, pipeline: unknown[], variables?: Document): Document {
  for (const stage of pipeline) {
    const name = isPlainDocument(stage) ? Object.keys(stage)[0] : undefined;
    if (!name || !PIPELINE_UPDATE_STAGES.has(name)) {
      throw new MongoLocationError(InvalidPipelineStageInUpdate, `${name ?? 'stage'} is not allowed to be used within an update`);
    }
  }
  const [result] = runPipeline([doc], pipeline as Document[], () => [], variables);
  if (!result) throw badValue('pipeline update produced no document');
  let restored = restoreTypes(result, doc) as Document;
  // A pipeline that drops _id (e.g. $replaceRoot) keeps the document's original _id.
  if (restored._id === undefined && doc._id !== undefined) restored = withIdFirst({ ...restored, _id: doc._id });
  if (!sameId(restored._id, doc._id) && doc._id !== undefined) {
    throw new MongoServerError('ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  return restored;
}

// ---- upserts

/** The document an upsert starts from: the filter's equality conditions. */
export function upsertSeed(filter: Document): Document {
  const seed: Document = {};
  collectEqualities(filter, seed);
  return seed;
}

function collectEqualities(filter: Document, seed: Document): void {
  for (const key of Object.keys(filter)) {
    const value = filter[key];
    if (key === '$and' && Array.isArray(value)) {
      for (const sub of value) if (isPlainDocument(sub)) collectEqualities(sub, seed);
      continue;
    }
    if (key.startsWith('$')) continue;
    let literal: unknown;
    if (isPlainDocument(value) && Object.keys(value)[0]?.startsWith('$')) {
      if ('$eq' in value) literal = value.$eq;
      else if (Array.isArray(value.$in) && value.$in.length === 1) literal = value.$in[0];
      else continue;
    } else {
      literal = value;
    }
    if (isRegexValue(literal)) continue;
    setDotted(seed, key, cloneDeep(literal));
  }
}

function setDotted(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let container = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainDocument(container[part])) container[part] = {};
    container = container[part] as Document;
  }
  container[parts[parts.length - 1]] = value;
}

/** Puts _id first (generating an ObjectId if missing), as mongod stores documents. */
export function withIdFirst(doc: Document): Document {
  if (Object.keys(doc)[0] === '_id' && doc._id !== undefined) return doc;
  const out: Document = { _id: doc._id === undefined ? new ObjectId() : doc._id };
  for (const key of Object.keys(doc)) if (key !== '_id') out[key] = doc[key];
  return out;
}

export function validateIdValue(doc: Document): void {
  const id = doc._id;
  if (Array.isArray(id)) throw new MongoServerError('InvalidIdField', `The '_id' value cannot be of type array`);
  if (isRegexValue(id)) {
    throw new MongoServerError('InvalidIdField', `The '_id' value cannot be of type regex`);
  }
  if (isPlainDocument(id)) {
    for (const key of Object.keys(id)) {
      if (key.startsWith('$')) throw new MongoServerError('DollarPrefixedFieldName', `_id fields may not contain '$'-prefixed fields: ${key} is not valid for storage.`);
    }
  }
}

