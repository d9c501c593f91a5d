// Query filters compiled to predicates over BSON documents, with MongoDB's semantics: implicit
// array traversal on dotted paths, type bracketing for ranges, cross-type numeric equality and
// optional collation for strings. Also sort comparators.
import { Binary } from 'bson';
import { MAX_QUERY_TREE_DEPTH, MongoLocationError, badValue, queryTreeTooDeep } from './errors.js';
import { forgetNearDistance, geoPredicate, noGeoIndex } from './geo.js';
import { compileJsonSchema } from './json-schema.js';
import { compileExpr } from './mingo-bridge.js';
import { parseTextSearch, recordTextScore, scoreDocument, textIndexRequired, textScoreOf, type TextIndexInfo } from './text.js';
import type { Document, StringComparer } from './values.js';
import { bsonType, bsonTypeName, compareValues, formatValue, isNumeric, isPlainDocument, isRegexValue, isTruthy, toNumber, typeOrder } from './values.js';

export type Matcher = (doc: Document) => boolean;
type Predicate = (value: unknown) => boolean;

export interface QueryOptions {
  strings?: StringComparer;
  /** `let` variables visible to $expr as $$name. */
  variables?: Document;
  /** The filter is an aggregation $match (where mongod refuses $where differently). */
  inPipeline?: boolean;
  /** The collection's text index, for $text. */
  text?: TextIndexInfo;
  /** The collection's 2dsphere fields, for $near/$nearSphere. */
  geoFields?: string[];
  /** The collection's namespace, for error messages. */
  namespace?: string;
  /** How deep inside the filter this part is (mongod refuses more than 100 levels). */
  depth?: number;
}

const alwaysTrue: Matcher = () => true;

export function compileFilter(filter: unknown, options: QueryOptions = {}): Matcher {
  if (filter === undefined || filter === null) return alwaysTrue;
  if (!isPlainDocument(filter)) throw badValue('filter must be an object');
  const depth = options.depth ?? 0;
  if (depth > MAX_QUERY_TREE_DEPTH) throw queryTreeTooDeep(() => formatValue(filter));
  const keys = Object.keys(filter);
  if (keys.length === 0) return alwaysTrue;
  const inner = { ...options, depth: depth + 1 };
  const parts = keys.map((key) => compileClause(key, filter[key], inner));
  return parts.length === 1 ? parts[0] : (doc) => parts.every((p) => p(doc));
}

function compileClause(key: string, value: unknown, options: QueryOptions): Matcher {
  if (key.startsWith('$')) {
    switch (key) {
      case '$and':
      case '$or':
      case '$nor': {
        if (!Array.isArray(value) || value.length === 0) throw badValue(`${key} must be a nonempty array`);
        const subs = value.map((f) => {
          if (!isPlainDocument(f)) throw badValue(`$or/$and/$nor entries need to be full objects`);
          return compileFilter(f, options);
        });
        if (key === '$and') return (doc) => subs.every((s) => s(doc));
        if (key === '$or') return (doc) => subs.some((s) => s(doc));
        return (doc) => !subs.some((s) => s(doc));
      }
      case '$expr':
        return compileExpr(value, options.variables);
      case '$comment':
        return alwaysTrue;
      case '$jsonSchema': {
        const check = compileJsonSchema(value);
        return (doc) => check(doc).length === 0;
      }
      case '$text': {
        if (!options.text) throw textIndexRequired();
        const info = options.text;
        const search = parseTextSearch(value, info);
        return (doc) => {
          const score = scoreDocument(doc, search, info);
          if (score === undefined) return false;
          recordTextScore(doc, score);
          return true;
        };
      }
      case '$where':
        // What mongod started with --noscripting (javascriptEnabled: false) answers: no code runs here.
        if (options.inPipeline) throw badValue('$where is not allowed in this context');
        throw new MongoLocationError(6108304, 'no globalScriptEngine in $where parsing');
      default:
        throw badValue(`unknown top level operator: ${key}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.`);
    }
  }
  if (isPlainDocument(value) && ('$near' in value || '$nearSphere' in value)) return nearMatcher(key, value, options);
  return conditionMatcher(key.split('.'), compileCondition(value, options));
}

/** $near/$nearSphere: needs a 2dsphere index on the field; records each match's distance. */
function nearMatcher(key: string, value: Document, options: QueryOptions): Matcher {
  if (options.inPipeline) throw badValue('$geoNear, $near, and $nearSphere are not allowed in this context');
  if (!options.geoFields?.includes(key)) throw noGeoIndex(options.namespace ?? '', '$geoNear');
  const op = '$near' in value ? '$near' : '$nearSphere';
  for (const k of Object.keys(value)) {
    if (k !== op && k !== '$maxDistance' && k !== '$minDistance') throw badValue(`unknown operator with $near: ${k}`);
  }
  const pred = geoPredicate(op, value[op], value)!;
  const path = key.split('.');
  return (doc) => {
    forgetNearDistance(doc);
    return walkPath(doc, path, 0, (v) => pred(v, doc));
  };
}

/**
 * True if pred holds for any value reached by the path. Arrays met before the last segment are
 * traversed element by element (MongoDB's implicit array traversal); a missing value is undefined.
 */
export function walkPath(value: unknown, path: string[], i: number, pred: Predicate): boolean {
  if (i === path.length) return pred(value);
  if (Array.isArray(value)) {
    const part = path[i];
    if (/^\d+$/.test(part) && walkPath(value[Number(part)], path, i + 1, pred)) return true;
    let sawDocument = false;
    for (const element of value) {
      if (isPlainDocument(element)) {
        sawDocument = true;
        if (walkPath(element, path, i, pred)) return true;
      }
    }
    return sawDocument ? false : pred(undefined);
  }
  if (isPlainDocument(value)) return walkPath(value[path[i]], path, i + 1, pred);
  return pred(undefined);
}

interface Condition {
  /** Holds when some value reached by the path satisfies it. */
  positive?: Predicate;
  /** $ne, $nin, $not, $exists:false: hold when no value reached by the path satisfies this. */
  negative?: Predicate;
}

function isOperatorObject(value: unknown): value is Document {
  if (!isPlainDocument(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys[0].startsWith('$');
}

function allOf(preds: Predicate[]): Predicate | undefined {
  if (preds.length === 0) return undefined;
  return preds.length === 1 ? preds[0] : (v) => preds.every((p) => p(v));
}

function anyOf(preds: Predicate[]): Predicate | undefined {
  if (preds.length === 0) return undefined;
  return preds.length === 1 ? preds[0] : (v) => preds.some((p) => p(v));
}

function compileCondition(value: unknown, options: QueryOptions): Condition {
  if (!isOperatorObject(value)) return { positive: equalityPredicate(value, options) };
  const positives: Predicate[] = [];
  const negatives: Predicate[] = [];
  for (const op of Object.keys(value)) {
    if (op === '$options') {
      if (!('$regex' in value)) throw badValue('$options needs a $regex');
      continue;
    }
    const arg = value[op];
    switch (op) {
      case '$ne':
        negatives.push(equalityPredicate(arg, options));
        break;
      case '$nin':
        negatives.push(inPredicate(arg, options, '$nin'));
        break;
      case '$not': {
        if (isRegexValue(arg)) {
          negatives.push(regexPredicate(arg));
          break;
        }
        if (!isOperatorObject(arg)) throw badValue('$not needs a regex or a document');
        const inner = compileCondition(arg, options);
        if (inner.positive && !inner.negative) negatives.push(inner.positive);
        else if (inner.negative && !inner.positive) positives.push(inner.negative);
        else if (inner.positive && inner.negative) {
          const p = inner.positive;
          const n = inner.negative;
          negatives.push((v) => p(v) && !n(v));
        }
        break;
      }
      case '$exists':
        if (isTruthy(arg)) positives.push((v) => v !== undefined);
        else negatives.push((v) => v !== undefined);
        break;
      default:
        positives.push(operatorPredicate(op, arg, value, options));
    }
  }
  return { positive: allOf(positives), negative: anyOf(negatives) };
}

function conditionMatcher(path: string[], condition: Condition): Matcher {
  const { positive, negative } = condition;
  if (positive && negative) return (doc) => walkPath(doc, path, 0, positive) && !walkPath(doc, path, 0, negative);
  if (negative) return (doc) => !walkPath(doc, path, 0, negative);
  if (positive) return (doc) => walkPath(doc, path, 0, positive);
  return alwaysTrue;
}

export function toJsRegExp(value: unknown, extraOptions = ''): RegExp {
  if (value instanceof RegExp) {
    return extraOptions ? new RegExp(value.source, mergeFlags(value.flags, extraOptions)) : value;
  }
  const r = value as { pattern: string; options: string };
  return buildRegExp(r.pattern, mergeFlags(r.options, extraOptions));
}

function mergeFlags(a: string, b: string): string {
  return [...new Set((a + b).split(''))].join('');
}

function buildRegExp(pattern: string, options: string): RegExp {
  let source = pattern;
  // 'x' (extended) is not a JS flag: drop unescaped whitespace and # comments ourselves.
  // eslint-disable-next-line no-control-regex -- NUL stands in for an escaped '#' while comments are stripped
  if (options.includes('x')) source = source.replace(/\\#/g, '\u0000').replace(/#.*$/gm, '').replace(/\s+/g, '').replace(/\u0000/g, '\\#');
  const flags = options.replace(/[^ims]/g, '');
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw badValue(`Regular expression is invalid: ${(err as Error).message}`);
  }
}

function regexPredicate(arg: unknown, extraOptions = ''): Predicate {
  const re = toJsRegExp(arg, extraOptions);
  const test = (v: unknown) => {
    if (typeof v === 'string') {
      re.lastIndex = 0;
      return re.test(v);
    }
    return isRegexValue(v) && compareValues(v, arg) === 0;
  };
  return (v) => test(v) || (Array.isArray(v) && v.some(test));
}

function equalityPredicate(target: unknown, options: QueryOptions): Predicate {
  if (isRegexValue(target)) return regexPredicate(target);
  const strings = options.strings;
  if (target === null) {
    // {field: null} matches null, missing, and arrays containing null.
    return (v) => v === null || v === undefined || (Array.isArray(v) && v.some((e) => e === null));
  }
  const targetType = typeOrder(target);
  const eq = (v: unknown) => typeOrder(v) === targetType && compareValues(v, target, strings) === 0;
  return (v) => eq(v) || (Array.isArray(v) && v.some(eq));
}

/**
 * A key that is equal for two values exactly when compareValues calls them equal, for the types
 * where that is cheap to say (strings without a collation, JS numbers, booleans, dates,
 * ObjectIds); undefined for the rest.
 */
function equalityKey(value: unknown, strings: QueryOptions['strings']): string | undefined {
  switch (typeof value) {
    case 'string':
      return strings ? undefined : `s${value}`;
    case 'number':
      return Number.isNaN(value) ? undefined : `n${value === 0 ? 0 : value}`;
    case 'boolean':
      return value ? 'b1' : 'b0';
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : `d${value.getTime()}`;
  if ((value as { _bsontype?: string } | null)?._bsontype === 'ObjectId') return `o${(value as { toHexString(): string }).toHexString()}`;
  return undefined;
}

function inPredicate(arg: unknown, options: QueryOptions, op: string): Predicate {
  if (!Array.isArray(arg)) throw badValue(`${op} needs an array`);
  const keyed = new Set<string>();
  const keyedPreds: Predicate[] = [];
  const rest: Predicate[] = [];
  for (const target of arg) {
    if (isOperatorObject(target) && op !== '$all') throw badValue('cannot nest $ under $in');
    const key = isRegexValue(target) ? undefined : equalityKey(target, options.strings);
    if (key === undefined) rest.push(equalityPredicate(target, options));
    else {
      keyed.add(key);
      keyedPreds.push(equalityPredicate(target, options));
    }
  }
  if (keyed.size < 8) {
    const preds = [...keyedPreds, ...rest];
    return (v) => preds.some((p) => p(v));
  }
  // A long list ("these 3,000 attendees") is a set lookup per value instead of a comparison with
  // every element; values without a key (a Long equal to a listed number) take the long way.
  const scalar = (e: unknown): boolean => {
    if (e === null || e === undefined || Array.isArray(e)) return false;
    const key = equalityKey(e, options.strings);
    return key !== undefined ? keyed.has(key) : keyedPreds.some((p) => p(e));
  };
  return (v) => scalar(v) || (Array.isArray(v) && v.some(scalar)) || rest.some((p) => p(v));
}

function comparisonPredicate(op: string, target: unknown, options: QueryOptions): Predicate {
  const targetType = typeOrder(target);
  const test = (cmp: number) => (op === '$gt' ? cmp > 0 : op === '$gte' ? cmp >= 0 : op === '$lt' ? cmp < 0 : cmp <= 0);
  const inclusive = op === '$gte' || op === '$lte';
  const single = (v: unknown) => {
    const vt = typeOrder(v);
    // MinKey/MaxKey bounds cover every type; otherwise ranges only match within a type class.
    if (targetType === 1 || targetType === 100) return test(compareValues(v, target));
    if (vt !== targetType) return false;
    if (targetType === 2) return inclusive;
    return test(compareValues(v, target, options.strings));
  };
  return (v) => single(v) || (Array.isArray(v) && v.some(single));
}

const typeAliases: Record<string, string[]> = {
  double: ['double'],
  string: ['string'],
  object: ['object'],
  array: ['array'],
  binData: ['binData'],
  undefined: ['undefined'],
  objectId: ['objectId'],
  bool: ['bool'],
  date: ['date'],
  null: ['null'],
  regex: ['regex'],
  javascript: ['javascript'],
  int: ['int'],
  timestamp: ['timestamp'],
  long: ['long'],
  decimal: ['decimal'],
  minKey: ['minKey'],
  maxKey: ['maxKey'],
  number: ['double', 'int', 'long', 'decimal'],
};

const typeNumbers: Record<number, string> = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 6: 'undefined', 7: 'objectId', 8: 'bool',
  9: 'date', 10: 'null', 11: 'regex', 13: 'javascript', 16: 'int', 17: 'timestamp', 18: 'long', 19: 'decimal',
  [-1]: 'minKey', 127: 'maxKey',
};

function typePredicate(arg: unknown): Predicate {
  const wanted = new Set<string>();
  for (const t of Array.isArray(arg) ? arg : [arg]) {
    const name = isNumeric(t) ? typeNumbers[toNumber(t)] : typeof t === 'string' ? t : undefined;
    const aliases = name ? typeAliases[name] : undefined;
    if (!aliases) throw badValue(`Unknown type name alias: ${String(t)}`);
    aliases.forEach((a) => wanted.add(a));
  }
  const single = (v: unknown) => v !== undefined && wanted.has(bsonTypeName(v));
  return (v) => single(v) || (Array.isArray(v) && !wanted.has('array') && v.some(single)) || (Array.isArray(v) && wanted.has('array'));
}

function elemMatchPredicate(arg: unknown, options: QueryOptions): Predicate {
  if (!isPlainDocument(arg)) throw badValue('$elemMatch needs an Object');
  const keys = Object.keys(arg);
  const isValueCondition = keys.length > 0 && keys[0].startsWith('$') && !['$and', '$or', '$nor', '$expr'].includes(keys[0]);
  if (isValueCondition) {
    const { positive, negative } = compileCondition(arg, options);
    const test = (e: unknown) => (!positive || positive(e)) && (!negative || !negative(e));
    return (v) => Array.isArray(v) && v.some(test);
  }
  const matcher = compileFilter(arg, options);
  return (v) => Array.isArray(v) && v.some((e) => isPlainDocument(e) && matcher(e));
}

/** Bit positions of a $bits* argument: a non-negative integer mask, an array of positions, or BinData. */
function bitPositions(op: string, arg: unknown): number[] {
  const positions: number[] = [];
  if (arg instanceof Binary) {
    const bytes = arg.value();
    for (let i = 0; i < bytes.length; i++) for (let b = 0; b < 8; b++) if (bytes[i]! & (1 << b)) positions.push(i * 8 + b);
    return positions;
  }
  if (isNumeric(arg)) {
    const n = toNumber(arg);
    if (!Number.isInteger(n)) throw badValue(`Expected an integer: ${op}: ${formatValue(arg)}`);
    if (n < 0) throw badValue(`Expected a positive number in: ${op}: ${formatValue(arg)}`);
    let mask = BigInt(n);
    for (let i = 0; mask > 0n; i++, mask >>= 1n) if (mask & 1n) positions.push(i);
    return positions;
  }
  if (Array.isArray(arg)) {
    for (const p of arg) {
      if (!isNumeric(p) || !Number.isInteger(toNumber(p))) throw badValue(`bit positions must be an integer but got: ${formatValue(p)}`);
      if (toNumber(p) < 0) throw badValue(`bit positions cannot be negative but got: ${formatValue(p)}`);
      positions.push(toNumber(p));
    }
    return positions;
  }
  throw badValue(`${op} takes an Array, a number, or a BinData but received: ${op}: ${formatValue(arg)}`);
}

/** $bitsAllSet/$bitsAllClear/$bitsAnySet/$bitsAnyClear over integral numbers (as 64-bit two's complement) and BinData. */
function bitsPredicate(op: string, arg: unknown): Predicate {
  const positions = bitPositions(op, arg);
  const wantSet = op === '$bitsAllSet' || op === '$bitsAnySet';
  const all = op === '$bitsAllSet' || op === '$bitsAllClear';
  const single = (v: unknown): boolean => {
    let isSet: (p: number) => boolean;
    if (v instanceof Binary) {
      const bytes = v.value();
      isSet = (p) => p >> 3 < bytes.length && (bytes[p >> 3]! & (1 << (p & 7))) !== 0;
    } else if (isNumeric(v)) {
      const n = bsonType(v) === 'Long' ? BigInt((v as { toString(): string }).toString()) : toNumber(v);
      if (typeof n === 'number' && (!Number.isInteger(n) || n < -(2 ** 63) || n >= 2 ** 63)) return false;
      const bits = BigInt.asUintN(64, BigInt(n));
      const negative = BigInt(n) < 0n;
      isSet = (p) => (p >= 64 ? negative : ((bits >> BigInt(p)) & 1n) === 1n);
    } else {
      return false;
    }
    return all ? positions.every((p) => isSet(p) === wantSet) : positions.some((p) => isSet(p) === wantSet);
  };
  return (v) => single(v) || (Array.isArray(v) && v.some(single));
}

function operatorPredicate(op: string, arg: unknown, all: Document, options: QueryOptions): Predicate {
  switch (op) {
    case '$eq':
      return equalityPredicate(arg, options);
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return comparisonPredicate(op, arg, options);
    case '$in':
      return inPredicate(arg, options, '$in');
    case '$regex': {
      const opts = typeof all.$options === 'string' ? all.$options : '';
      if (typeof arg !== 'string' && !isRegexValue(arg)) throw badValue('$regex has to be a string');
      return regexPredicate(typeof arg === 'string' ? { pattern: arg, options: '' } : arg, opts);
    }
    case '$size': {
      if (!isNumeric(arg)) throw badValue('$size needs a number');
      const n = toNumber(arg);
      if (n < 0) throw badValue('$size may not be negative');
      if (!Number.isInteger(n)) throw badValue('$size must be a whole number');
      return (v) => Array.isArray(v) && v.length === n;
    }
    case '$all': {
      if (!Array.isArray(arg)) throw badValue('$all needs an array');
      if (arg.length === 0) return () => false;
      const preds = arg.map((t) =>
        isPlainDocument(t) && '$elemMatch' in t ? elemMatchPredicate(t.$elemMatch, options) : equalityPredicate(t, options),
      );
      return (v) => preds.every((p) => p(v));
    }
    case '$elemMatch':
      return elemMatchPredicate(arg, options);
    case '$type':
      return typePredicate(arg);
    case '$mod': {
      if (!Array.isArray(arg) || arg.length !== 2) throw badValue('malformed mod, needs to be an array of two numbers');
      const [divisor, remainder] = arg.map(toNumber);
      if (divisor === 0) throw badValue('divisor cannot be 0');
      const single = (v: unknown) => isNumeric(v) && Math.trunc(toNumber(v)) % divisor === remainder;
      return (v) => single(v) || (Array.isArray(v) && v.some(single));
    }
    case '$comment':
      return () => true;
    case '$bitsAllSet':
    case '$bitsAllClear':
    case '$bitsAnySet':
    case '$bitsAnyClear':
      return bitsPredicate(op, arg);
    case '$geoWithin':
    case '$within':
    case '$geoIntersects': {
      const single = geoPredicate(op, arg, all)!;
      // A field may hold one geometry, a legacy [lng, lat] pair, or an array of geometries.
      return (v) => single(v) || (Array.isArray(v) && !(v.length === 2 && isNumeric(v[0])) && v.some((e) => single(e)));
    }
    default:
      throw badValue(`unknown operator: ${op}`);
  }
}

/** A third element 'textScore' sorts by the $text score (highest first), as { f: { $meta: 'textScore' } }. */
export type SortSpec = [path: string[], direction: 1 | -1, meta?: 'textScore'][];

export function parseSort(sort: unknown): SortSpec {
  if (sort === undefined || sort === null) return [];
  if (!isPlainDocument(sort)) throw badValue('sort must be an object');
  return Object.keys(sort).map((key) => {
    const dir = sort[key];
    if (isPlainDocument(dir)) {
      if (dir.$meta !== 'textScore' || Object.keys(dir).length !== 1) throw badValue(`$meta for sort must be 'textScore', got ${JSON.stringify(dir)}`);
      return [key.split('.'), -1 as const, 'textScore' as const];
    }
    const n = toNumber(dir);
    if (n !== 1 && n !== -1) throw badValue(`$sort key ordering must be 1 (for ascending) or -1 (for descending)`);
    return [key.split('.'), n as 1 | -1];
  });
}

function keyOf(doc: Document, path: string[], direction: 1 | -1, meta: 'textScore' | undefined, strings?: StringComparer): unknown {
  return meta === 'textScore' ? (textScoreOf(doc) ?? 0) : sortKey(doc, path, direction, strings);
}

/** Sort key of a document for one path: arrays sort by their smallest (asc) or largest (desc) element. */
function sortKey(doc: Document, path: string[], direction: 1 | -1, strings?: StringComparer): unknown {
  let best: unknown;
  let found = false;
  walkPath(doc, path, 0, (v) => {
    const candidates = Array.isArray(v) ? (v.length === 0 ? [undefined] : v) : [v];
    for (const c of candidates) {
      const value = c === undefined ? null : c;
      if (!found || compareValues(value, best, strings) * direction < 0) {
        best = value;
        found = true;
      }
    }
    return false;
  });
  return found ? best : null;
}

export function sortComparator(spec: SortSpec, strings?: StringComparer): (a: Document, b: Document) => number {
  return (a, b) => {
    for (const [path, direction, meta] of spec) {
      const c = compareValues(keyOf(a, path, direction, meta, strings), keyOf(b, path, direction, meta, strings), strings);
      if (c !== 0) return c * direction;
    }
    return 0;
  };
}

export function sortDocuments(docs: Document[], spec: SortSpec, strings?: StringComparer): Document[] {
  if (spec.length === 0) return docs;
  // Precompute keys once per document: comparisons would otherwise re-walk paths O(n log n) times.
  const keyed = docs.map((doc) => ({ doc, keys: spec.map(([path, dir, meta]) => keyOf(doc, path, dir, meta, strings)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < spec.length; i++) {
      const c = compareValues(a.keys[i], b.keys[i], strings);
      if (c !== 0) return c * spec[i][1];
    }
    return 0;
  });
  return keyed.map((k) => k.doc);
}

/** Collation strength 1/2 make string comparison case-insensitive (1 also ignores accents). */
export function collationComparer(collation: unknown): StringComparer | undefined {
  if (!isPlainDocument(collation)) return undefined;
  const locale = typeof collation.locale === 'string' && collation.locale !== 'simple' ? collation.locale : undefined;
  if (!locale) return undefined;
  const strength = collation.strength === undefined ? 3 : toNumber(collation.strength);
  const sensitivity = strength === 1 ? 'base' : strength === 2 ? 'accent' : 'variant';
  // ICU locale ids use underscores (en_US); Intl wants BCP 47 tags (en-US).
  let tag = locale.replace(/_/g, '-');
  try {
    Intl.Collator.supportedLocalesOf([tag]);
  } catch {
    tag = 'en';
  }
  const collator = new Intl.Collator(tag, { sensitivity, numeric: collation.numericOrdering === true });
  return (a, b) => collator.compare(a, b);
}
