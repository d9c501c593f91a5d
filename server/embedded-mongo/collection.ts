// One collection's working set: documents by record id (as BSON bytes, document-store.ts), their
// indexes, and write-through to SQLite. Every write is validated against all unique indexes and
// the memory budget before anything changes.
import { MongoServerError, badValue } from './errors.js';
import { compileFilter, type Matcher } from './query.js';
import { compileJsonSchema } from './json-schema.js';
import { ID_INDEX_SPEC, Index, defaultIndexName } from './indexes.js';
import { planCandidates } from './planner.js';
import { isTextKey, normalizeTextIndexSpec, textIndexInfo, type TextIndexInfo } from './text.js';
import { DocumentStore, type FieldSelection } from './document-store.js';
import { entryBytes } from './index-entries.js';
import type { MemoryBudget } from './memory.js';
import { detachBinaries, rawBson } from './raw-bson.js';
import type { DatabaseFile } from './storage.js';
import type { Document } from './values.js';
import { compareValues, isPlainDocument, isTruthy, toNumber } from './values.js';

export class Collection {
  readonly documents: DocumentStore;
  readonly indexes: Index[] = [];
  private nextRid = 1;

  constructor(
    readonly dbName: string,
    public name: string,
    public options: Document,
    private readonly file: DatabaseFile,
    indexSpecs: Document[] = [ID_INDEX_SPEC],
    private readonly memory?: MemoryBudget,
  ) {
    this.documents = new DocumentStore(memory?.limitBytes);
    for (const spec of indexSpecs) this.indexes.push(new Index(spec));
    if (!this.indexes.some((i) => i.name === '_id_')) this.indexes.unshift(new Index(ID_INDEX_SPEC));
  }

  get namespace(): string {
    return `${this.dbName}.${this.name}`;
  }

  get idIndex(): Index {
    return this.indexes[0];
  }

  /** Loads stored documents at startup (no validation: they were valid when written). */
  load(documents: Iterable<[number, Document]>): void {
    // One pass: each document is decoded once (by storage), its bytes kept and its keys taken.
    const keyed: [number, Document][] = [];
    for (const [rid, doc] of documents) {
      this.documents.put(rid, rawBson(doc));
      keyed.push([rid, doc]);
      if (rid >= this.nextRid) this.nextRid = rid + 1;
      if (keyed.length >= LOAD_BATCH) this.loadKeys(keyed.splice(0));
    }
    this.loadKeys(keyed);
    for (const index of this.indexes) index.finishLoad(this.namespace);
  }

  private loadKeys(batch: [number, Document][]): void {
    for (const index of this.indexes) index.collect(batch);
  }

  /** Memory the collection holds: document bytes (and their slabs) and index entries. */
  get memoryUsage(): { documents: number; dataBytes: number; residentBytes: number; indexBytes: number } {
    return {
      documents: this.documents.size,
      dataBytes: this.documents.dataBytes,
      residentBytes: this.documents.residentBytes,
      indexBytes: this.indexes.reduce((sum, index) => sum + index.bytes, 0),
    };
  }

  persistCatalog(): void {
    this.file.putCollection(this.name, this.options, this.indexes.map((i) => i.spec));
  }

  /** Views hold no documents of their own. */
  private assertWritable(): void {
    if (typeof this.options.viewOn === 'string') {
      throw new MongoServerError('CommandNotSupportedOnView', `Namespace ${this.namespace} is a view, not a collection`);
    }
  }

  private validatorCheck: { source: unknown; check: (doc: Document) => Document | undefined } | undefined;

  /**
   * Why `doc` fails the collection's validator (query-style, $jsonSchema, or both), in the shape
   * of mongod's errInfo.details; undefined when it passes or there is none.
   */
  private validationFailure(doc: Document): Document | undefined {
    const validator = this.options.validator;
    if (!isPlainDocument(validator) || Object.keys(validator).length === 0) return undefined;
    if (this.validatorCheck?.source !== validator) this.validatorCheck = { source: validator, check: compileValidator(validator) };
    return this.validatorCheck.check(doc);
  }

  /**
   * Enforces the validator on a new version of a document (validationAction "error"). Level
   * "moderate" leaves documents that already failed it (`previous`) free to change.
   */
  private validate(doc: Document, previous?: Document): void {
    if (this.options.validationLevel === 'off' || this.options.validationAction === 'warn') return;
    if (previous !== undefined && this.options.validationLevel === 'moderate' && this.validationFailure(previous) !== undefined) return;
    const details = this.validationFailure(doc);
    if (details === undefined) return;
    throw new MongoServerError('DocumentValidationFailure', 'Document failed validation', { errInfo: { failingDocumentId: doc._id, details } });
  }

  /**
   * The validate command's checks: per index, the keys it holds against those its documents give;
   * and how many documents fail the collection's validator.
   */
  check(): { nrecords: number; indexes: Array<{ name: string; keys: number; expected: number }>; nonCompliant: number } {
    const expected = this.indexes.map(() => 0);
    let nonCompliant = 0;
    for (const [, doc] of this.documents.entries()) {
      this.indexes.forEach((index, i) => (expected[i] += index.keysFor(doc)?.length ?? 0));
      if (this.validationFailure(doc) !== undefined) nonCompliant++;
    }
    return { nrecords: this.documents.size, indexes: this.indexes.map((index, i) => ({ name: index.name, keys: index.size, expected: expected[i] })), nonCompliant };
  }

  /** `bypassValidation`: the command's bypassDocumentValidation. */
  insert(input: Document, bypassValidation = false): number {
    this.assertWritable();
    if (!bypassValidation) this.validate(input);
    const doc = detachBinaries(input);
    const bytes = rawBson(doc);
    const rid = this.nextRid;
    const keys = this.indexes.map((index) => index.keysFor(doc));
    this.indexes.forEach((index, i) => index.checkUnique(keys[i], rid, this.namespace));
    this.memory?.check(this.documents.costOf(bytes.length) + estimatedKeyBytes(keys), this.namespace);
    this.file.putDocument(this.name, rid, doc, () => this.restoreRecord(rid, undefined));
    this.nextRid++;
    this.documents.put(rid, bytes);
    this.indexes.forEach((index, i) => index.add(rid, keys[i]));
    this.trimCapped();
    return rid;
  }

  /** A capped collection drops its oldest documents beyond `max` documents or `size` bytes. */
  private trimCapped(): void {
    if (!isTruthy(this.options.capped)) return;
    const max = toNumber(this.options.max) > 0 ? toNumber(this.options.max) : Number.POSITIVE_INFINITY;
    const size = toNumber(this.options.size) > 0 ? toNumber(this.options.size) : Number.POSITIVE_INFINITY;
    // Record ids grow with insertion, and the store keeps insertion order: the first is the oldest.
    while (this.documents.size > 1 && (this.documents.size > max || this.documents.dataBytes > size)) {
      this.remove(this.documents.keys().next().value as number);
    }
  }

  replace(rid: number, next: Document, bypassValidation = false): void {
    this.assertWritable();
    const doc = detachBinaries(next);
    const previous = this.documents.get(rid);
    if (!previous) throw new Error(`record ${rid} vanished`);
    if (!bypassValidation) this.validate(doc, previous);
    const bytes = rawBson(doc);
    const oldKeys = this.indexes.map((index) => index.keysFor(previous));
    const newKeys = this.indexes.map((index) => index.keysFor(doc));
    // Most updates leave indexed fields alone (a $inc on a counter): skip those indexes.
    const changed = this.indexes.map((_, i) => !sameKeys(oldKeys[i], newKeys[i]));
    this.indexes.forEach((index, i) => changed[i] && index.checkUnique(newKeys[i], rid, this.namespace));
    // Only growth counts against the budget: an update that keeps or shrinks a document is
    // always allowed, so a full store can still be tidied (its new version may take a fresh
    // buffer for a moment; the old one's space is reclaimed by compaction).
    const growth = bytes.length - this.documents.byteLength(rid) + estimatedKeyBytes(newKeys.filter((_, i) => changed[i])) - estimatedKeyBytes(oldKeys.filter((_, i) => changed[i]));
    if (growth > 0) this.memory?.check(growth, this.namespace);
    this.file.putDocument(this.name, rid, doc, () => this.restoreRecord(rid, previous));
    this.documents.put(rid, bytes);
    this.indexes.forEach((index, i) => {
      if (!changed[i]) return;
      index.remove(rid, oldKeys[i]);
      index.add(rid, newKeys[i]);
    });
  }

  remove(rid: number): void {
    const doc = this.documents.get(rid);
    if (!doc) return;
    this.file.deleteDocument(this.name, rid, () => this.restoreRecord(rid, doc));
    this.documents.delete(rid);
    for (const index of this.indexes) index.remove(rid, index.keysFor(doc));
  }

  /** Puts record rid back as it was before a write whose journal append failed (undefined: absent). */
  private restoreRecord(rid: number, previous: Document | undefined): void {
    const current = this.documents.get(rid);
    if (current) {
      for (const index of this.indexes) index.remove(rid, index.keysFor(current));
      this.documents.delete(rid);
    }
    if (previous) {
      this.documents.set(rid, previous);
      for (const index of this.indexes) index.add(rid, index.keysFor(previous));
    }
    if (isTruthy(this.options.capped) && previous) {
      // Capped collections read their oldest document from the store's order: restore it.
      const ordered = [...this.documents].sort((a, b) => a[0] - b[0]);
      this.documents.clear();
      for (const [r, d] of ordered) this.documents.set(r, d);
    }
  }

  /**
   * Documents that may match the filter: an index range when one applies, else everything.
   * With `fields`, each holds only those fields (for reads that reply with the stored bytes).
   */
  *candidates(filter: Document | undefined, useIndexes = true, fields?: FieldSelection): Iterable<[number, Document]> {
    const rids = useIndexes ? planCandidates(filter, this.indexes) : undefined;
    if (!rids) {
      yield* this.documents.entries(fields);
      return;
    }
    for (const rid of rids) {
      const doc = this.documents.get(rid, fields);
      if (doc) yield [rid, doc];
    }
  }

  /**
   * The documents the matcher accepts, among the filter's candidates, decoded with `fields`
   * only (for replies built from the stored bytes): rejected ones are never fully decoded.
   */
  matching(filter: Document | undefined, matcher: Matcher, useIndexes: boolean, fields: FieldSelection): Iterable<[number, Document]> {
    const rids = useIndexes ? planCandidates(filter, this.indexes) : undefined;
    return this.documents.matching(fields, matcher, rids);
  }

  /** Whether the filter narrows to an index range (rather than a full scan). */
  hasIndexPlan(filter: Document | undefined): boolean {
    return planCandidates(filter, this.indexes) !== undefined;
  }

  /**
   * Documents in the order of a single-field sort, read from an index on that field; undefined
   * when no index can give that order (multikey indexes order by elements, not documents).
   */
  orderedBy(field: string, direction: 1 | -1, fields?: FieldSelection): Iterable<Document> | undefined {
    const index = this.indexes.find((i) => i.coversAllDocuments && !i.multikey && i.fields[0].name === field);
    if (!index) return undefined;
    const documents = this.documents;
    return (function* () {
      for (const rid of index.ridsInOrder(direction)) {
        const doc = documents.get(rid, fields);
        if (doc) yield doc;
      }
    })();
  }

  // ---- index management

  /** Creates an index; returns false when an identical one already exists. */
  createIndex(rawSpec: Document): boolean {
    const key = rawSpec.key;
    if (!isPlainDocument(key) || Object.keys(key).length === 0) throw badValue('Index keys cannot be empty.');
    const name = typeof rawSpec.name === 'string' ? rawSpec.name : defaultIndexName(key);
    let spec: Document = { v: 2, key, name };
    for (const [k, v] of Object.entries(rawSpec)) if (!['v', 'key', 'name', 'ns', 'background'].includes(k)) spec[k] = v;
    if (isTextKey(key)) spec = normalizeTextIndexSpec(spec);
    if (Object.values(key).includes('2dsphere')) spec['2dsphereIndexVersion'] ??= 3;
    if (spec.unique !== undefined && !isTruthy(spec.unique)) delete spec.unique;
    if (spec.sparse !== undefined && !isTruthy(spec.sparse)) delete spec.sparse;
    const storedKey = spec.key as Document;
    const sameKey = this.indexes.find((i) => compareValues(i.keyPattern, storedKey) === 0 && sameKeyTypes(i.keyPattern, storedKey));
    const sameName = this.indexes.find((i) => i.name === name);
    if (sameKey && sameKey.name === name && sameKey.sameBehaviourAs(spec)) return false;
    if (name === '_id_' || (sameKey?.name === '_id_' && !isTruthy(spec.unique) && Object.keys(spec).length === 3)) return false;
    if (sameName && !sameKey) {
      throw new MongoServerError(
        'IndexKeySpecsConflict',
        `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`,
      );
    }
    if (sameKey) {
      throw new MongoServerError(
        'IndexOptionsConflict',
        `An equivalent index already exists with a different name and options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameKey.spec)}`,
      );
    }
    const index = new Index(spec);
    // Building over existing documents enforces uniqueness before the index becomes visible.
    index.build(this.documents, this.namespace);
    this.memory?.check(index.bytes, this.namespace);
    this.indexes.push(index);
    return true;
  }

  /** Swaps an index's options (collMod), rebuilding its entries under the new spec. */
  replaceIndexSpec(name: string, spec: Document): void {
    const i = this.indexes.findIndex((index) => index.name === name);
    const index = new Index(spec);
    index.build(this.documents, this.namespace);
    this.indexes[i] = index;
  }

  dropIndex(name: string): void {
    const i = this.indexes.findIndex((index) => index.name === name);
    if (i < 0) throw new MongoServerError('IndexNotFound', `index not found with name [${name}]`);
    if (name === '_id_') throw badValue('cannot drop _id index');
    this.indexes.splice(i, 1);
  }

  /** Removes documents whose TTL index date is older than expireAfterSeconds. Returns how many. */
  sweepExpired(now: number): number {
    let removed = 0;
    for (const index of this.indexes) {
      if (index.expireAfterSeconds === undefined || index.fields.length !== 1) continue;
      const cutoff = new Date(now - index.expireAfterSeconds * 1000);
      for (const rid of index.lookupRange(undefined, { value: cutoff, inclusive: false })) {
        this.remove(rid);
        removed++;
      }
    }
    return removed;
  }

  /** The collection's text index (there is at most one), as $text needs it. */
  textIndex(): TextIndexInfo | undefined {
    const index = this.indexes.find((i) => i.kind === 'text');
    return index ? textIndexInfo(index.spec) : undefined;
  }

  /** What $text and $near need to know about this collection when a filter is compiled. */
  queryOptions(): { text?: TextIndexInfo; geoFields: string[]; namespace: string } {
    return { text: this.textIndex(), geoFields: this.geoFields(), namespace: this.namespace };
  }

  /** The 2dsphere indexes' fields, for $near/$geoNear. */
  geoFields(): string[] {
    return this.indexes.filter((i) => i.kind === '2dsphere').flatMap((i) => i.fields.filter((f) => (i.keyPattern[f.name] as unknown) === '2dsphere').map((f) => f.name));
  }

  get dataSize(): number {
    return this.documents.size;
  }
}

/** Documents read per batch while loading, so index keys are taken without holding every document decoded. */
const LOAD_BATCH = 10_000;

/** What a document's index entries will roughly cost, for the memory budget's check. */
function estimatedKeyBytes(keys: (unknown[][] | null)[]): number {
  let bytes = 0;
  for (const perIndex of keys) for (const key of perIndex ?? []) bytes += entryBytes(key);
  return bytes;
}

function sameKeys(a: unknown[][] | null, b: unknown[][] | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  // Same value but another type (Int32 1 vs Double 1) sorts the same, so it is the same key.
  return a.every((key, i) => key.every((v, j) => compareValues(v, b[i][j]) === 0));
}

function sameKeyTypes(a: Document, b: Document): boolean {
  return Object.keys(a).every((k, i) => Object.keys(b)[i] === k && (typeof a[k] === 'string') === (typeof b[k] === 'string') && (typeof a[k] === 'string' ? a[k] === b[k] : toNumber(a[k]) === toNumber(b[k])));
}

/**
 * A validator as mongod applies it: a query filter whose top-level `$jsonSchema` (if any) is
 * checked with the rest. The failure's details: `$jsonSchema`'s broken rules when it is the whole
 * validator, else the clauses that failed.
 */
function compileValidator(validator: Document): (doc: Document) => Document | undefined {
  const check = validator.$jsonSchema === undefined ? undefined : compileJsonSchema(validator.$jsonSchema);
  // Each other clause on its own, to name the ones a document fails.
  const clauses = Object.keys(validator)
    .filter((field) => field !== '$jsonSchema')
    .map((field) => {
      const condition = validator[field];
      const operator = field.startsWith('$') ? field : isPlainDocument(condition) && Object.keys(condition)[0]?.startsWith('$') ? Object.keys(condition)[0] : '$eq';
      return { detail: { operatorName: operator, specifiedAs: { [field]: condition } }, matcher: compileFilter({ [field]: condition }) };
    });
  return (doc) => {
    const broken = check?.(doc) ?? [];
    const failed = clauses.filter((clause) => !clause.matcher(doc)).map((clause) => clause.detail);
    if (broken.length === 0 && failed.length === 0) return undefined;
    const schemaDetail = { operatorName: '$jsonSchema', schemaRulesNotSatisfied: broken };
    if (clauses.length === 0) return schemaDetail;
    return { operatorName: '$and', clausesNotSatisfied: [...(broken.length > 0 ? [schemaDetail] : []), ...failed] };
  };
}
