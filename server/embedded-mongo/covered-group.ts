// A counting aggregation ([$match, $group] whose accumulators are all integer $sums) answered
// from one index's entries, without reading a document: mongod's covered plans. "How many
// attendees per (site, role)" for one meeting walks the meeting's range of an index that holds
// every field the $match and the $group read, partitions the entries by those fields' values
// natively, and lets mingo run the same $group over one representative document per partition
// (group-counts.ts), counting each with its partition's size.
//
// The index must stand in for the documents exactly: a plain ascending/descending index over
// every document (not sparse, partial, collated, text, geo or hashed), no array ever met on a key
// path (an array, even of one element, is not its index key), and a leading key field the $match
// tests for equality (the range walked). An index key of null is either null or a missing field:
// such a partition is tried both ways (and with each enclosing document of a dotted path null);
// the $match must decide the same and the $group give the same _id, else the aggregation is left
// to the ordinary path. So are a $group keyed by anything but a document of fields ({ a: '$a' },
// whose output is never an input document), other accumulators, $$variables, collations, `let`
// and `hint`. Groups come out in the index's order of their first entry, an order $group does
// not promise (as with mongod, a caller who needs one sorts).
import { Aggregator } from 'mingo';
import type { Collection } from './collection.js';
import type { Index } from './indexes.js';
import type { Matcher } from './query.js';
import { countingPlan, groupPartitions, valueKey, type CountingPlan } from './group-counts.js';
import { pipelineReads } from './pipeline-deps.js';
import type { Document } from './values.js';
import type { Double, Int32 } from 'bson';
import { ObjectId, bsonType, isNumeric, isPlainDocument, toNumber } from './values.js';

type MingoOptions = NonNullable<ConstructorParameters<typeof Aggregator>[1]>;

/** Partitions with a null key tried in more ways than this are left to the ordinary path. */
const MAX_VARIANTS = 64;

/**
 * The $group's output over the documents `filter` matches, read from an index alone; undefined
 * when no index can answer it exactly (the caller then runs the pipeline as usual). `spec` and
 * the values are as mingo gets them (promoted); `matcher` is the native filter, on stored values.
 */
export function coveredCountingGroup(
  collection: Collection,
  filter: Document,
  spec: Document,
  matcher: Matcher,
  options: MingoOptions,
  promote: (value: unknown) => unknown,
): Document[] | undefined {
  if (!isPlainDocument(spec._id) || Object.keys(spec._id).some((key) => key.startsWith('$')) || JSON.stringify(spec._id).includes('$$')) return undefined;
  const used = new Set<string>();
  if (!filterPaths(filter, used)) return undefined;
  const plan: CoveredPlan | undefined = countingPlan(spec, Math.max(1, collection.documents.size)) ?? sumsPlan(spec);
  if (!plan) return undefined;
  for (const path of plan.paths) used.add(path.join('.'));
  const paths = [...used];
  if (paths.some((path) => path.split('.').some((part) => part === '' || /^\d+$/.test(part)))) return undefined;
  if (paths.some((a) => paths.some((b) => b.startsWith(`${a}.`)))) return undefined;
  const choice = chooseIndex(collection.indexes, filter, paths);
  if (!choice) return undefined;
  const { index, value } = choice;
  const positions = paths.map((path) => index.fields.findIndex((field) => field.name === path));
  const split = paths.map((path) => path.split('.'));

  // The range walked is the filter when it is only the equality on the index's first field;
  // otherwise the $match may tell apart values of that field the equality joins: numbers of
  // different types ($type). Other values equal to it are it (an ObjectId, a string, a date).
  const filterKeys = Object.keys(filter);
  const onlyEquality = filterKeys.length === 1 && filterKeys[0] === index.fields[0].name;
  const test = onlyEquality ? () => true : matcher;
  const keyFirst = !onlyEquality && isNumeric(value);
  const partitions = partitionEntries(index, value, positions, promote, true, keyFirst) ?? partitionEntries(index, value, positions, promote, false, keyFirst);
  if (partitions === 'refused' || partitions === undefined) return undefined;
  const native = nativeGroups(partitions, split, test, plan, promote);
  if (native !== undefined) return native.length > 0 ? native : undefined;
  // Sums of expressions are computed natively or not here at all.
  if (plan.sums) return undefined;

  const representatives: Array<{ doc: Document; size: number }> = [];
  /** Every way of being null of the partitions that have some, tagged with their partition. */
  const alternatives: Document[] = [];
  for (const { values, size } of partitions) {
    const variants = documentsFor(split, values);
    if (!variants) return undefined;
    const decisions = new Set(variants.map((variant) => matcher(variant)));
    if (decisions.size !== 1) return undefined;
    if (!decisions.has(true)) continue;
    const promoted = variants.map((variant) => promote(variant) as Document);
    if (promoted.length > 1) for (const variant of promoted) alternatives.push({ ...variant, [PARTITION_FIELD]: representatives.length });
    representatives.push({ doc: promoted[0], size });
  }
  if (representatives.length === 0) return undefined;
  if (alternatives.length > 0 && !sameIdEachWay(alternatives, plan.id, options)) return undefined;
  return groupPartitions(representatives, plan, options);
}

/** Where an alternative carries its partition's number (never read by the _id expression: it reads only index fields). */
const PARTITION_FIELD = '__embeddedPartition';

/** Whether the $group's _id is the same for every alternative of each partition (one mingo run for all). */
function sameIdEachWay(alternatives: Document[], id: unknown, options: MingoOptions): boolean {
  const groups = new Aggregator([{ $group: { _id: id, partitions: { $addToSet: `$${PARTITION_FIELD}` } } }], options).run(alternatives) as Document[];
  const seen = new Set<number>();
  for (const group of groups) {
    for (const partition of group.partitions as number[]) {
      if (seen.has(partition)) return false;
      seen.add(partition);
    }
  }
  return true;
}

type Partition = { values: unknown[]; size: number };

/**
 * The entries whose first key field equals `value`, partitioned by their values at `positions`
 * (values the $match cannot tell apart together: see exactKey; the $group joins equal numbers of different types itself). Each
 * position's values get small numbers; a partition is the list of numbers, packed into one
 * number (8 bits each) when `packed` and they fit (undefined when they do not: try unpacked).
 * Neighbouring entries mostly repeat values (the index is sorted, and equal neighbours share one
 * JS value), so most entries cost a few identity checks. 'refused' when a value is of a type the
 * partition key does not know.
 */
function partitionEntries(index: Index, value: unknown, positions: number[], promote: (value: unknown) => unknown, packed: boolean, keyFirst: boolean): Partition[] | 'refused' | undefined {
  // The first field equals `value` in every entry walked (an ObjectId, a string, a date or a
  // number: compareValues-equal values of those are equal for the $group too): not keyed unless
  // the $match reads it beyond that equality (numbers of several types: { $type: 'double' }).
  const tracked = positions.flatMap((position, i) => (position === 0 && !keyFirst ? [] : [i]));
  if (packed && tracked.length > 6) return undefined;
  const weights = tracked.map((_, t) => 256 ** t);
  const numberings = positions.map(() => new Map<string, number>());
  const primitives = positions.map(() => new Map<unknown, number>());
  const objects = positions.map(() => new WeakMap<object, number>());
  const numberOf = (i: number, raw: unknown): number | undefined => {
    const isObject = typeof raw === 'object' && raw !== null;
    let n = isObject ? objects[i].get(raw) : primitives[i].get(raw);
    if (n !== undefined) return n;
    const part = raw === null || raw === undefined ? 'z' : exactKey(raw, promote, 0);
    if (part === undefined) return undefined;
    n = numberings[i].get(part);
    if (n === undefined) numberings[i].set(part, (n = numberings[i].size));
    if (isObject) objects[i].set(raw, n);
    else primitives[i].set(raw, n);
    return n;
  };
  const none = Symbol('none');
  const lastRaw: unknown[] = positions.map(() => none);
  const lastNumber: number[] = positions.map(() => 0);
  let packedKey = 0;
  const byNumber = new Map<number, Partition>();
  const byString = new Map<string, Partition>();
  let current: Partition | undefined;
  let outcome: 'refused' | 'overflow' | undefined;
  index.visitEqual(value, (keys, base) => {
    if (outcome) return;
    let same = current !== undefined;
    for (let t = 0; t < tracked.length; t++) {
      const i = tracked[t];
      const raw = keys[base + positions[i]];
      if (raw === lastRaw[i]) continue;
      const n = numberOf(i, raw);
      if (n === undefined) {
        outcome = 'refused';
        return;
      }
      lastRaw[i] = raw;
      if (n === lastNumber[i]) continue;
      if (packed && n > 255) {
        outcome = 'overflow';
        return;
      }
      same = false;
      packedKey += (n - lastNumber[i]) * weights[t];
      lastNumber[i] = n;
    }
    if (same) {
      current!.size++;
      return;
    }
    current = packed ? byNumber.get(packedKey) : byString.get(lastNumber.join(','));
    if (current) {
      current.size++;
      return;
    }
    current = { values: positions.map((position) => keys[base + position]), size: 1 };
    if (packed) byNumber.set(packedKey, current);
    else byString.set(lastNumber.join(','), current);
  });
  if (outcome === 'refused') return 'refused';
  if (outcome === 'overflow') return undefined;
  return [...(packed ? byNumber : byString).values()];
}

/**
 * A partition key for a stored value that keeps apart what the $match may tell apart: numbers of
 * different BSON types ($type), Longs and decimals a double cannot hold (equality, ranges), also
 * inside documents and arrays. Values it joins are the same for the $match; the $group still
 * joins equal numbers of different types (its own keys, or mingo's over promoted values).
 */
function exactKey(raw: unknown, promote: (value: unknown) => unknown, depth: number): string | undefined {
  if (depth > 100) return undefined;
  switch (bsonType(raw)) {
    case 'Int32':
      return `i${(raw as Int32).value}`;
    case 'Double':
      return Object.is((raw as Double).value, -0) ? 'd-0' : `d${(raw as Double).value}`;
    case 'Long':
    case 'Decimal128':
      return `${bsonType(raw) === 'Long' ? 'l' : 'm'}${String(raw)}`;
    default:
      break;
  }
  if (Array.isArray(raw)) {
    let out = '[';
    for (const element of raw) {
      const part = exactKey(element, promote, depth + 1);
      if (part === undefined) return undefined;
      out += `${part},`;
    }
    return `${out}]`;
  }
  if (isPlainDocument(raw) && Object.getPrototypeOf(raw) === Object.prototype) {
    let out = '{';
    for (const key of Object.keys(raw)) {
      const part = exactKey(raw[key], promote, depth + 1);
      if (part === undefined) return undefined;
      out += `${JSON.stringify(key)}:${part},`;
    }
    return `${out}}`;
  }
  return valueKey(promote(raw), depth);
}

/**
 * The index to walk: one that stands in for its documents, holds every path read, and whose
 * first field the filter tests for equality with a plain value; the narrowest such.
 */
function chooseIndex(indexes: Index[], filter: Document, paths: string[]): { index: Index; value: unknown } | undefined {
  let best: { index: Index; value: unknown } | undefined;
  for (const index of indexes) {
    if (!index.coversAllDocuments || index.multikey || index.arrayValues) continue;
    if (Object.entries(index.keyPattern).some(([name, direction]) => name.includes('$') || !isNumeric(direction) || Math.abs(toNumber(direction)) !== 1)) continue;
    const names = new Set(index.fields.map((field) => field.name));
    if (!paths.every((path) => names.has(path))) continue;
    const value = equalityValue(filter[index.fields[0].name]);
    if (value === undefined) continue;
    if (!best || index.fields.length < best.index.fields.length) best = { index, value };
  }
  return best;
}

/** The value a filter condition tests for equality, when it is a plain scalar (no null, regex, array or document). */
function equalityValue(condition: unknown): unknown {
  const value = isPlainDocument(condition) && Object.keys(condition).length === 1 && '$eq' in condition ? condition.$eq : condition;
  if (value === null || value === undefined || Array.isArray(value) || value instanceof RegExp) return undefined;
  if (typeof value === 'object') {
    const type = (value as { _bsontype?: string })._bsontype;
    if (!(value instanceof Date) && type !== 'ObjectId' && type !== 'Int32' && type !== 'Long' && type !== 'Double') return undefined;
  }
  return value;
}

/**
 * The field paths a filter reads, into `out`; false when it reads more than named paths can say
 * ($expr, $where, $text, $jsonSchema, another top-level operator).
 */
function filterPaths(filter: Document, out: Set<string>): boolean {
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(value) || value.length === 0) return false;
      for (const sub of value) if (!isPlainDocument(sub) || !filterPaths(sub, out)) return false;
      continue;
    }
    if (key.startsWith('$')) return false;
    out.add(key);
  }
  return true;
}

/**
 * The documents a partition's key values stand for: one, or when some are null, each way of
 * being null (the field missing, null, or an enclosing document null).
 */
function documentsFor(paths: string[][], values: unknown[]): Document[] | undefined {
  let docs: Document[] = [{}];
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i];
    const value = values[i];
    if (value !== null && value !== undefined) {
      for (const doc of docs) setPath(doc, path, value);
      continue;
    }
    const next: Document[] = [];
    for (const doc of docs) {
      next.push(doc);
      for (let depth = 1; depth <= path.length; depth++) {
        const copy = structuredCopy(doc);
        setPath(copy, path.slice(0, depth), null);
        next.push(copy);
      }
    }
    if (next.length > MAX_VARIANTS) return undefined;
    docs = next;
  }
  return docs;
}

function setPath(doc: Document, path: string[], value: unknown): void {
  let container = doc;
  for (const part of path.slice(0, -1)) {
    if (!isPlainDocument(container[part])) container[part] = {};
    container = container[part] as Document;
  }
  container[path[path.length - 1]] = value;
}

/** A copy of the nested plain documents (the values inside are shared, never changed). */
function structuredCopy(doc: Document): Document {
  const out: Document = {};
  for (const [key, value] of Object.entries(doc)) out[key] = isPlainDocument(value) && Object.getPrototypeOf(value) === Object.prototype ? structuredCopy(value) : value;
  return out;
}

/** A counting plan, or one whose accumulators are $sums of expressions computed here (`sums`). */
type CoveredPlan = CountingPlan & { sums?: Array<[string, Compiled]> };

/**
 * A $group whose accumulators are all { $sum: expression } of the forms compileExpression knows
 * (a count by condition: { $sum: { $cond: [{ $eq: ['$status', 'absent'] }, 1, 0] } }), each
 * expression the same for every document of a partition: its value times the partition's size.
 */
function sumsPlan(spec: Document): CoveredPlan | undefined {
  if (!('_id' in spec)) return undefined;
  const sums: Array<[string, Compiled]> = [];
  for (const [name, accumulator] of Object.entries(spec)) {
    if (name === '_id') continue;
    if (!isPlainDocument(accumulator) || Object.keys(accumulator).length !== 1 || !('$sum' in accumulator)) return undefined;
    const compiled = compileExpression(accumulator.$sum);
    if (!compiled) return undefined;
    sums.push([name, compiled]);
  }
  const reads = pipelineReads([{ $group: spec }]);
  if (!reads || reads.walked.size > 0) return undefined;
  return { id: spec._id, paths: [...reads.values].map((path) => path.split('.')), accumulators: {}, sums };
}

// ---- The common _id shapes without mingo

/** A value a field path does not reach. */
const MISSING = Symbol('missing');
/** A value this evaluator does not group natively (mingo does). */
class Unsupported extends Error {}

type Compiled = (doc: Document) => unknown;

/**
 * The _id expression as a function, for the forms counted here: a document of fields each a
 * path ('$a.b'), a literal, { $ifNull: [expression, literal] } or { $eq: [expression, true /
 * false / 'text'] }; undefined for anything else (mingo evaluates it). The values it meets are
 * never arrays (the index would not be used), so a path walks documents only.
 */
function compileId(id: unknown): Compiled | undefined {
  if (!isPlainDocument(id)) return undefined;
  const fields: Array<[string, Compiled]> = [];
  for (const [name, expression] of Object.entries(id)) {
    const compiled = compileExpression(expression);
    if (!compiled) return undefined;
    fields.push([name, compiled]);
  }
  return (doc) => {
    const out: Document = {};
    for (const [name, compiled] of fields) {
      const value = compiled(doc);
      // How a missing value shows in an _id document is mingo's business.
      if (value === MISSING) throw new Unsupported();
      out[name] = value;
    }
    return out;
  };
}

function compileExpression(expression: unknown): Compiled | undefined {
  if (typeof expression === 'string') {
    if (expression.startsWith('$$')) return undefined;
    if (!expression.startsWith('$')) return () => expression;
    const path = expression.slice(1).split('.');
    return (doc) => {
      let value: unknown = doc;
      for (const part of path) {
        if (!isPlainDocument(value)) return MISSING;
        value = value[part];
        if (value === undefined) return MISSING;
      }
      return value;
    };
  }
  if (expression === null || typeof expression === 'boolean' || (typeof expression === 'number' && Number.isFinite(expression))) return () => expression;
  if (!isPlainDocument(expression) || Object.keys(expression).length !== 1) return undefined;
  const [operator] = Object.keys(expression);
  const args = expression[operator];
  if (operator === '$cond') {
    const parts = Array.isArray(args) && args.length === 3 ? args : isPlainDocument(args) && Object.keys(args).length === 3 && 'if' in args && 'then' in args && 'else' in args ? [args.if, args.then, args.else] : undefined;
    const [test, then, otherwise] = (parts ?? []).map(compileExpression);
    if (!test || !then || !otherwise) return undefined;
    return (doc) => (truth(test(doc)) ? then(doc) : otherwise(doc));
  }
  if (operator === '$and' || operator === '$or') {
    if (!Array.isArray(args) || args.length === 0) return undefined;
    const parts = args.map(compileExpression);
    if (parts.some((part) => !part)) return undefined;
    const all = operator === '$and';
    return (doc) => {
      for (const part of parts) if (truth(part!(doc)) !== all) return !all;
      return all;
    };
  }
  if (operator === '$in') {
    const [first, list] = Array.isArray(args) && args.length === 2 ? args : [];
    const inner = compileExpression(first);
    if (!inner || !Array.isArray(list) || !list.every((item) => typeof item === 'boolean' || (typeof item === 'string' && !item.startsWith('$')))) return undefined;
    return (doc) => {
      const value = inner(doc);
      // mongod refuses a missing value here; whatever is said about it is not said here.
      if (value === MISSING) throw new Unsupported();
      return list.includes(value);
    };
  }
  if (!Array.isArray(args) || args.length !== 2) return undefined;
  const [first, second] = args;
  const isLiteral = (value: unknown) => value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && !value.startsWith('$'));
  const inner = compileExpression(first);
  if (!inner) return undefined;
  if (operator === '$ifNull' && isLiteral(second)) {
    return (doc) => {
      const value = inner(doc);
      return value === null || value === MISSING ? second : value;
    };
  }
  if ((operator === '$eq' || operator === '$ne') && (typeof second === 'boolean' || (typeof second === 'string' && !second.startsWith('$')))) {
    const equal = operator === '$eq';
    return (doc) => (inner(doc) === second) === equal;
  }
  return undefined;
}

/** A condition's value: only true or false are decided here (mongod's truthiness of other values is mingo's). */
function truth(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Unsupported();
  return value;
}

/** A key equal for _id values mingo groups together; Unsupported for values it is not sure of. */
function groupKey(value: unknown, top = true): string {
  // The _id document itself (its fields in the spec's order); a document inside it is mingo's
  // to compare (field order and all).
  if (top && isPlainDocument(value) && Object.getPrototypeOf(value) === Object.prototype) {
    let out = '{';
    for (const [name, field] of Object.entries(value)) out += `${JSON.stringify(name)}:${groupKey(field, false)},`;
    return `${out}}`;
  }
  if (typeof value === 'string') return `s${JSON.stringify(value)}`;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (value === null) return 'z';
  if (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0)) return `n${value}`;
  if (value instanceof ObjectId) return `o${value.toHexString()}`;
  if (value instanceof Date) return `d${value.getTime()}`;
  throw new Unsupported();
}

/**
 * The $group's output computed here: each partition's _id (the same whichever way its null keys
 * are taken, or undefined), groups in order of first partition, each accumulator step x count.
 * Undefined when the _id is not of a form compileId knows or meets a value groupKey does not.
 */
function nativeGroups(
  partitions: Iterable<{ values: unknown[]; size: number }>,
  paths: string[][],
  matcher: Matcher,
  plan: CoveredPlan,
  promote: (value: unknown) => unknown,
): Document[] | undefined {
  const id = compileId(plan.id);
  if (!id) return undefined;
  const steps: Array<[string, Compiled]> =
    plan.sums ??
    Object.entries(plan.accumulators).map(([name, accumulator]) => {
      const sum = (accumulator as Document).$sum;
      const step = isPlainDocument(sum) ? ((sum.$multiply as unknown[])[0] as number) : 1;
      return [name, () => step];
    });
  const groups = new Map<string, Document>();
  try {
    for (const { values, size } of partitions) {
      const variants = documentsFor(paths, values);
      if (!variants) return undefined;
      let key: string | undefined;
      let first: unknown;
      let matched: boolean | undefined;
      let amounts: number[] | undefined;
      for (const variant of variants) {
        const decision = matcher(variant);
        if (matched !== undefined && decision !== matched) return undefined;
        matched = decision;
        const promoted = promote(variant) as Document;
        const value = id(promoted);
        const k = groupKey(value);
        if (key !== undefined && k !== key) return undefined;
        if (key === undefined) first = value;
        key = k;
        // Each accumulator's amount per document: an integer, the same whichever way.
        const each = steps.map(([, step]) => step(promoted));
        if (!each.every((amount) => typeof amount === 'number' && Number.isSafeInteger(amount))) return undefined;
        if (amounts && each.some((amount, i) => amount !== amounts![i])) return undefined;
        amounts = each as number[];
      }
      if (!matched || key === undefined || !amounts) continue;
      let group = groups.get(key);
      if (!group) {
        group = { _id: first };
        for (const [name] of steps) group[name] = 0;
        groups.set(key, group);
      }
      steps.forEach(([name], i) => ((group![name] as number) += amounts![i] * size));
    }
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  const out = [...groups.values()];
  if (out.some((group) => steps.some(([name]) => !Number.isSafeInteger(group[name])))) return undefined;
  return out;
}
