// Secondary indexes kept in memory as sorted lists of (key, rid) entries (index-entries.ts): they
// enforce unique, sparse and partial constraints and let equality/range filters avoid scanning
// the collection.
import { MongoServerError, badValue } from './errors.js';
import { collationComparer, compileFilter, walkPath, type Matcher } from './query.js';
import { checkGeoField } from './geo.js';
import { EntryList, type Entry } from './index-entries.js';
import type { Document, StringComparer } from './values.js';
import { compareValues, formatValue, isNumeric, isPlainDocument, isTruthy, toNumber, typeOrder } from './values.js';

export interface IndexBound {
  value: unknown;
  inclusive: boolean;
}

function compareKeys(a: unknown[], b: unknown[], strings?: StringComparer): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareValues(a[i], b[i], strings);
    if (c !== 0) return c;
  }
  return 0;
}

/** Options that define an index's behaviour; two specs with the same key and these are the same index. */
const BEHAVIOUR_OPTIONS = ['unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds', 'collation', 'hidden', 'weights', 'default_language', 'language_override'];

export class Index {
  readonly name: string;
  readonly fields: { path: string[]; name: string }[];
  readonly unique: boolean;
  readonly sparse: boolean;
  readonly expireAfterSeconds: number | undefined;
  /** 'text' and '2dsphere' indexes keep no sorted entries: $text and geo queries evaluate their documents. */
  readonly kind: 'btree' | 'text' | '2dsphere';
  /** True once any document produced several keys (an array value): ranges can't be intersected. */
  multikey = false;
  /**
   * True once any document held an array on the way to one of the key paths (even one of a
   * single element, which gives one key): then a key value is not the document's value at the
   * path, and the index cannot stand in for the documents (covered-group.ts).
   */
  arrayValues = false;
  private readonly partial: Matcher | undefined;
  /** The index's collation: keys are ordered and compared for uniqueness with it. */
  private readonly strings: StringComparer | undefined;
  private readonly entries: EntryList;

  constructor(readonly spec: Document) {
    const key = spec.key;
    if (!isPlainDocument(key) || Object.keys(key).length === 0) throw badValue('Index keys cannot be empty.');
    this.name = String(spec.name);
    const kinds = Object.values(key);
    this.kind = kinds.includes('text') ? 'text' : kinds.includes('2dsphere') ? '2dsphere' : 'btree';
    this.fields = Object.keys(key).map((name) => ({ name, path: name.split('.') }));
    this.unique = isTruthy(spec.unique) || this.name === '_id_';
    this.sparse = isTruthy(spec.sparse);
    this.expireAfterSeconds = spec.expireAfterSeconds === undefined ? undefined : toNumber(spec.expireAfterSeconds);
    this.partial = isPlainDocument(spec.partialFilterExpression) ? compileFilter(spec.partialFilterExpression) : undefined;
    this.strings = isPlainDocument(spec.collation) ? collationComparer(spec.collation) : undefined;
    this.entries = new EntryList(this.fields.length, (a, b) => compareEntry(a, b, this.strings));
  }

  get keyPattern(): Document {
    return this.spec.key as Document;
  }

  /** Whether this index can answer lookups for every document (not sparse, not partial). */
  get coversAllDocuments(): boolean {
    // A collated index orders strings by its collation, which lookups in binary order cannot use.
    return this.kind === 'btree' && !this.sparse && !this.partial && !this.strings;
  }

  sameBehaviourAs(other: Document): boolean {
    return BEHAVIOUR_OPTIONS.every((opt) => compareValues(this.spec[opt] ?? null, other[opt] ?? null) === 0 || (opt === 'unique' && isTruthy(this.spec[opt]) === isTruthy(other[opt])));
  }

  /** All index keys of a document; null when sparse/partial rules leave it out of the index. */
  keysFor(doc: Document): unknown[][] | null {
    if (this.partial && !this.partial(doc)) return null;
    if (this.kind === '2dsphere') {
      for (const f of this.fields) if (this.spec.key && (this.spec.key as Document)[f.name] === '2dsphere') checkGeoField(doc, f.path, this.name);
      return null;
    }
    if (this.kind === 'text') return null;
    // Fast path for the common single top-level field holding a scalar (every _id index).
    if (this.fields.length === 1 && this.fields[0].path.length === 1) {
      const value = doc[this.fields[0].name];
      if (!Array.isArray(value) && !isPlainDocument(value)) {
        if (value === undefined && this.sparse) return null;
        return [[value === undefined ? null : value]];
      }
    }
    if (!this.arrayValues && this.fields.some((f) => arrayOnPath(doc, f.path))) this.arrayValues = true;
    const perField = this.fields.map((f) => fieldValues(doc, f.path));
    if (this.sparse && perField.every((values) => values.length === 1 && values[0] === undefined)) return null;
    let keys: unknown[][] = [[]];
    for (const values of perField) {
      const next: unknown[][] = [];
      for (const prefix of keys) for (const v of values) next.push([...prefix, v === undefined ? null : v]);
      keys = next;
    }
    if (keys.length > 1) this.multikey = true;
    return keys;
  }

  /** Throws DuplicateKey if another document already holds one of these keys. */
  checkUnique(keys: unknown[][] | null, rid: number, namespace: string): void {
    if (!this.unique || !keys) return;
    for (const key of keys) {
      for (const e of this.entries.from((e) => compareKeys(e.key, key, this.strings) >= 0)) {
        if (compareKeys(e.key, key, this.strings) !== 0) break;
        if (e.rid !== rid) throw this.duplicateKeyError(key, namespace);
      }
    }
  }

  duplicateKeyError(key: unknown[], namespace: string): MongoServerError {
    const keyValue: Document = {};
    this.fields.forEach((f, i) => (keyValue[f.name] = key[i]));
    const rendered = this.fields.map((f, i) => `${f.name}: ${formatValue(key[i])}`).join(', ');
    return new MongoServerError(
      'DuplicateKey',
      `E11000 duplicate key error collection: ${namespace} index: ${this.name} dup key: { ${rendered} }`,
      { keyPattern: this.keyPattern, keyValue },
    );
  }

  add(rid: number, keys: unknown[][] | null): void {
    if (!keys) return;
    for (const key of keys) this.entries.insert(key, rid);
  }

  /**
   * Builds the index from scratch over many documents with one sort instead of one sorted
   * insertion each; duplicates fail a unique index.
   */
  build(documents: Iterable<[number, Document]>, namespace: string): void {
    this.collect(documents);
    this.finishLoad(namespace);
  }

  /** Entries gathered by collect() for finishLoad(). */
  private loading: Entry[] = [];

  /** Takes the keys of a batch of documents (a bulk build in steps: documents need not stay decoded). */
  collect(documents: Iterable<[number, Document]>): void {
    for (const [rid, doc] of documents) {
      for (const key of this.keysFor(doc) ?? []) this.loading.push({ key, rid });
    }
  }

  /** Sorts the collected entries into the index; duplicates fail a unique index. */
  finishLoad(namespace: string): void {
    const entries = this.loading;
    this.loading = [];
    entries.sort((a, b) => compareEntry(a, b, this.strings));
    if (this.unique) {
      for (let i = 1; i < entries.length; i++) {
        if (entries[i].rid !== entries[i - 1].rid && compareKeys(entries[i].key, entries[i - 1].key, this.strings) === 0) {
          throw this.duplicateKeyError(entries[i].key, namespace);
        }
      }
    }
    this.entries.resetSorted(entries);
  }

  remove(rid: number, keys: unknown[][] | null): void {
    if (!keys) return;
    for (const key of keys) this.entries.delete(key, rid);
  }

  clear(): void {
    this.entries.resetSorted([]);
    this.multikey = false;
    this.arrayValues = false;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Estimated heap bytes of the index's entries. */
  get bytes(): number {
    return this.entries.bytes;
  }

  /** Rids whose first key field equals value, in index order. */
  lookupEqual(value: unknown): number[] {
    const out: number[] = [];
    for (const e of this.entries.from((e) => compareValues(e.key[0], value) >= 0)) {
      if (compareValues(e.key[0], value) !== 0) break;
      out.push(e.rid);
    }
    return out;
  }

  /** Rids whose first key field is within bounds, staying inside one BSON type class (type bracketing). */
  lookupRange(lower: IndexBound | undefined, upper: IndexBound | undefined): number[] {
    const typeClass = typeOrder((lower ?? upper)!.value);
    const start = lower
      ? (e: Entry) => (lower.inclusive ? compareValues(e.key[0], lower.value) >= 0 : compareValues(e.key[0], lower.value) > 0)
      : (e: Entry) => typeOrder(e.key[0]) >= typeClass;
    const out: number[] = [];
    for (const e of this.entries.from(start)) {
      const k = e.key[0];
      if (typeOrder(k) !== typeClass) break;
      if (upper) {
        const c = compareValues(k, upper.value);
        if (c > 0 || (c === 0 && !upper.inclusive)) break;
      }
      out.push(e.rid);
    }
    return out;
  }

  /**
   * Entries whose leading key fields equal `prefix` and, when bounds are given, whose next field
   * lies within them (one BSON type class, as lookupRange), in ascending key order. `within`
   * narrows a lower-bounded range further (a string prefix: the keys starting with it). For
   * compound plans: equality on the leading fields, then a range or an order on the next.
   */
  *scanPrefix(prefix: unknown[], lower?: IndexBound, upper?: IndexBound, within?: (value: unknown) => boolean): Generator<{ key: unknown[]; rid: number }> {
    const n = prefix.length;
    const samePrefix = (key: unknown[]): number => {
      for (let i = 0; i < n; i++) {
        const c = compareValues(key[i], prefix[i]);
        if (c !== 0) return c;
      }
      return 0;
    };
    const bound = lower ?? upper;
    const typeClass = bound ? typeOrder(bound.value) : 0;
    const start = (e: Entry): boolean => {
      const c = samePrefix(e.key);
      if (c !== 0) return c > 0;
      if (lower) return lower.inclusive ? compareValues(e.key[n], lower.value) >= 0 : compareValues(e.key[n], lower.value) > 0;
      if (upper) return typeOrder(e.key[n]) >= typeClass;
      return true;
    };
    for (const e of this.entries.from(start)) {
      if (samePrefix(e.key) !== 0) return;
      if (bound) {
        const k = e.key[n];
        if (typeOrder(k) !== typeClass) return;
        if (upper) {
          const c = compareValues(k, upper.value);
          if (c > 0 || (c === 0 && !upper.inclusive)) return;
        }
        if (within && !within(k)) return;
      }
      yield e;
    }
  }

  /**
   * The key values of the entries whose first key field equals `value`, in key order, without
   * copying them: visit(keys, base) sees one entry's values at keys[base + field position].
   */
  visitEqual(value: unknown, visit: (keys: readonly unknown[], base: number) => void): void {
    let last: unknown;
    this.entries.visitFrom(
      (e) => compareValues(e.key[0], value) >= 0,
      (keys, base) => {
        const first = keys[base];
        // Neighbours share equal values: one comparison per run of them.
        if (first !== last) {
          if (compareValues(first, value) !== 0) return false;
          last = first;
        }
        visit(keys, base);
        return true;
      },
    );
  }

  /** Record ids in key order (ascending or descending). */
  *ridsInOrder(direction: 1 | -1): Iterable<number> {
    yield* this.entries.rids(direction);
  }
}

function compareEntry(a: Entry, b: Entry, strings?: StringComparer): number {
  return compareKeys(a.key, b.key, strings) || a.rid - b.rid;
}

/** Whether an array lies on the way along `path` (the value at its end included). */
function arrayOnPath(doc: Document, path: string[]): boolean {
  let value: unknown = doc;
  for (const part of path) {
    if (!isPlainDocument(value)) return false;
    value = value[part];
    if (Array.isArray(value)) return true;
  }
  return false;
}

/** Distinct values a document holds at an index path; leaf arrays contribute their elements. */
function fieldValues(doc: Document, path: string[]): unknown[] {
  const out: unknown[] = [];
  const add = (v: unknown) => {
    if (!out.some((existing) => typeOrder(existing) === typeOrder(v) && compareValues(existing, v) === 0)) out.push(v);
  };
  walkPath(doc, path, 0, (v) => {
    if (Array.isArray(v)) {
      if (v.length === 0) add(undefined);
      else v.forEach(add);
    } else {
      add(v);
    }
    return false;
  });
  if (out.length === 0) out.push(undefined);
  return out;
}

export function defaultIndexName(key: Document): string {
  return Object.keys(key)
    .map((k) => `${k}_${isNumeric(key[k]) ? toNumber(key[k]) : String(key[k])}`)
    .join('_');
}

export const ID_INDEX_SPEC: Document = { v: 2, key: { _id: 1 }, name: '_id_' };
