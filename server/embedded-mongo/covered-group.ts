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
import { countingPlan, groupPartitions, valueKey } from './group-counts.js';
import type { Document } from './values.js';
import { isNumeric, isPlainDocument, toNumber } from './values.js';

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
  const plan = countingPlan(spec, Math.max(1, collection.documents.size));
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

  const partitions = new Map<string, { values: unknown[]; size: number }>();
  const lastRaw: unknown[] = new Array(positions.length).fill(Symbol('none'));
  const lastPart: string[] = new Array(positions.length).fill('');
  let refused = false;
  index.visitEqual(value, (keys, base) => {
    if (refused) return;
    let key = '';
    for (let i = 0; i < positions.length; i++) {
      const raw = keys[base + positions[i]];
      if (raw !== lastRaw[i]) {
        const part = raw === null || raw === undefined ? 'z' : valueKey(promote(raw), 0);
        if (part === undefined) {
          refused = true;
          return;
        }
        lastRaw[i] = raw;
        lastPart[i] = part;
      }
      key += `${lastPart[i]}|`;
    }
    const partition = partitions.get(key);
    if (partition) partition.size++;
    else partitions.set(key, { values: positions.map((position) => keys[base + position]), size: 1 });
  });
  if (refused) return undefined;

  const representatives: Array<{ doc: Document; size: number }> = [];
  for (const { values, size } of partitions.values()) {
    const variants = documentsFor(split, values);
    if (!variants) return undefined;
    const decisions = new Set(variants.map((variant) => matcher(variant)));
    if (decisions.size !== 1) return undefined;
    if (!decisions.has(true)) continue;
    const promoted = variants.map((variant) => promote(variant) as Document);
    if (promoted.length > 1 && new Aggregator([{ $group: { _id: plan.id } }], options).run(promoted).length !== 1) return undefined;
    representatives.push({ doc: promoted[0], size });
  }
  if (representatives.length === 0) return undefined;
  return groupPartitions(representatives, plan, options);
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
