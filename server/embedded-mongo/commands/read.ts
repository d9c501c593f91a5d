// find, getMore, killCursors, count, distinct and aggregate.
import { randomUUID } from 'node:crypto';
import { Long, deserialize, type UUID } from 'bson';
import type { Collection } from '../collection.js';
import { MongoLocationError, MongoServerError, badValue, failedToParse } from '../errors.js';
import { evaluateLet, mingoError, runCoveredGroup, runPipeline, type CollectionResolver } from '../mingo-bridge.js';
import { checkHint } from '../hint.js';
import { checkPipeline, mergeNamespace, mergeOnFields, outNamespace } from '../pipeline-checks.js';
import { validateCollectionName } from '../store.js';
import { explain } from './explain.js';
import { collectionUuid } from './ddl.js';
import { compileProjection } from '../projection.js';
import { FieldSelection, withoutFields } from '../document-store.js';
import { pipelineReads, topLevelFields } from '../pipeline-deps.js';
import { ReplyBytes, rawBson } from '../raw-bson.js';
import { fieldsFor } from '../partial-read.js';
import { planOrderedScan } from '../planner.js';
import { EARTH_RADIUS_METERS, distanceTo, nearClause, nearDistanceOf, noGeoIndex, parseGeometry, parseNear } from '../geo.js';
import { collationComparer, compileFilter, parseSort, sortDocuments, walkPath, type QueryOptions } from '../query.js';
import { hasText, textScoreOf } from '../text.js';
import { withIdFirst } from '../update.js';
import { deserializeOptions, encodeCursorReply, type RawReply } from '../wire.js';
import type { Document } from '../values.js';
import { compareValues, getPath, isNumeric, isPlainDocument, isTruthy, toInteger, toNumber, typeOrder } from '../values.js';
import { checkFieldTypes, collectionArg, documentArg, nonNegative, type CommandContext, type CommandHandler } from './context.js';

/** What a read runs over: a collection (with its indexes) or the computed documents of a view. */
type ReadSource = Collection | Document[] | undefined;

function existingCollection(ctx: CommandContext, name: string, depth = 0): ReadSource {
  const db = ctx.store.existingDatabase(ctx.db);
  const collection = db?.get(name);
  if (!collection || typeof collection.options.viewOn !== 'string') return collection;
  if (depth > 20) throw new MongoLocationError(ViewDepthLimitExceeded, 'View depth too deep or view cycle detected');
  const source = existingCollection(ctx, collection.options.viewOn, depth + 1);
  const docs = source === undefined ? [] : Array.isArray(source) ? source : [...source.documents.values()];
  const pipeline = Array.isArray(collection.options.pipeline) ? (collection.options.pipeline as Document[]) : [];
  return pipeline.length ? runPipeline(docs, pipeline, (from) => [...(db?.get(from)?.documents.values() ?? [])]) : docs;
}

const ViewDepthLimitExceeded = 149;

/** The indexes a hint is checked against: a real collection's (a view's documents have none). */
function indexesOf(source: ReadSource): Collection['indexes'] | undefined {
  return source === undefined || Array.isArray(source) ? undefined : source.indexes;
}

function sourceSize(source: ReadSource): number {
  return source === undefined ? 0 : Array.isArray(source) ? source.length : source.documents.size;
}

interface MatchOptions {
  filter: Document;
  inPipeline?: boolean;
  collation?: unknown;
  variables?: Document;
  /** Stop after this many matches (only when no sort is applied). */
  stopAfter?: number;
  /** Decode only these fields: for results that go straight into a reply (see fieldsFor). */
  fields?: FieldSelection;
}

function letArg(command: Document): Document | undefined {
  return evaluateLet(command.let);
}

/** What $text and $near need from the collection a filter runs on. */
function collectionQueryOptions(source: ReadSource): Pick<QueryOptions, 'text' | 'geoFields' | 'namespace'> {
  return !source || Array.isArray(source) ? {} : source.queryOptions();
}

function matchDocuments(source: ReadSource, options: MatchOptions): Document[] {
  const out: Document[] = [];
  for (const doc of matchingDocuments(source, options)) {
    out.push(doc);
    if (options.stopAfter !== undefined && out.length >= options.stopAfter) break;
  }
  return out;
}

/** With the notablescan parameter set, mongod refuses any query that would scan a collection. */
function guardTableScan(ctx: CommandContext, source: ReadSource, filter: Document | undefined): void {
  if (!ctx.server.parameters.flag('notablescan') || !source || Array.isArray(source) || source.hasIndexPlan(filter)) return;
  throw new MongoServerError(
    'NoQueryExecutionPlans',
    `error processing query: ns=${source.namespace} planner returned error :: caused by :: No indexed plan available, and running with 'notablescan'`,
  );
}

/** The matches one at a time, for a cursor to take a batch per getMore (the filter is compiled at once). */
function matchingDocuments(source: ReadSource, { filter, collation, variables, fields, inPipeline }: MatchOptions): Iterable<Document> {
  const strings = collationComparer(collation);
  const matcher = compileFilter(filter, { strings, variables, inPipeline, ...collectionQueryOptions(source) });
  if (!source) return [];
  if (!Array.isArray(source) && fields) {
    const matches = source.matching(filter, matcher, strings === undefined, fields);
    return (function* () {
      for (const [, doc] of matches) yield doc;
    })();
  }
  const candidates = Array.isArray(source) ? source.map((doc) => [0, doc] as const) : source.candidates(filter, strings === undefined);
  return (function* () {
    for (const [, doc] of candidates) if (matcher(doc)) yield doc;
  })();
}

/** skip, limit and projection applied as documents are taken. */
function* window(results: Iterable<Document>, skip: number, limit: number, project?: (doc: Document) => Document): Generator<Document> {
  let skipped = 0;
  let taken = 0;
  for (const doc of results) {
    if (skipped < skip) {
      skipped++;
      continue;
    }
    yield project ? project(doc) : doc;
    if (limit > 0 && ++taken >= limit) return;
  }
}

function cursorReply(
  ctx: CommandContext,
  name: string,
  results: Iterable<Document>,
  batchSize: number | undefined,
  singleBatch = false,
  reading?: Collection,
  awaitData = false,
): RawReply {
  const namespace = `${ctx.db}.${name}`;
  const { bytes, id } = ctx.cursors.open(namespace, results, batchSize, singleBatch, ctx.session, reading && collectionGone(ctx, reading, namespace), awaitData);
  return encodeCursorReply('firstBatch', bytes, id, namespace);
}

/** mongod's QueryPlanKilled messages for a cursor whose collection was dropped or renamed since. */
function collectionGone(ctx: CommandContext, collection: Collection, namespace: string): () => string | undefined {
  const db = ctx.db;
  const name = collection.name;
  const uuid = (collectionUuid(db, name) as UUID).toHexString(true);
  return () => {
    const database = ctx.store.existingDatabase(db);
    if (database?.get(name) === collection) return undefined;
    if (database?.get(collection.name) === collection) return `collection renamed from '${namespace}' to '${db}.${collection.name}'. UUID ${uuid}`;
    return `collection dropped. UUID ${uuid}`;
  };
}

function optionalBatchSize(command: Document, field = 'batchSize'): number | undefined {
  if (command[field] === undefined) return undefined;
  return nonNegative(toInteger(command[field]), field);
}

export const find: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'find');
  checkFieldTypes(command, 'FindCommandRequest', {
    limit: 'number', skip: 'number', batchSize: 'number', maxTimeMS: 'number', hint: ['string', 'object'],
    collation: 'object', min: 'object', max: 'object', let: 'object', readConcern: 'object',
    singleBatch: 'bool', allowDiskUse: 'bool', noCursorTimeout: 'bool', returnKey: 'bool', showRecordId: 'bool',
    tailable: 'bool', awaitData: 'bool', allowPartialResults: 'bool',
  });
  if (isTruthy(command.awaitData) && !isTruthy(command.tailable)) throw failedToParse("Cannot set 'awaitData' without also setting 'tailable'");
  const filter = documentArg(command, 'filter') ?? {};
  const sort = parseSort(command.sort);
  const scored = hasText(filter);
  const near = nearClause(filter);
  if (!scored && sort.some(([, , meta]) => meta === 'textScore')) {
    throw new MongoLocationError(40218, 'query requires text score metadata, but it is not available');
  }
  const project = compileProjection(command.projection, filter, scored ? { textScore: textScoreOf } : undefined);
  const skip = nonNegative(toInteger(command.skip), 'skip');
  let limit = toInteger(command.limit);
  let singleBatch = isTruthy(command.singleBatch);
  if (limit < 0) {
    // Legacy negative limit: one batch of |limit| documents.
    limit = -limit;
    singleBatch = true;
  }
  const batchSize = optionalBatchSize(command);
  const strings = collationComparer(command.collation);
  const collection = existingCollection(ctx, name);
  checkHint(indexesOf(collection), command.hint);
  guardTableScan(ctx, collection, filter);
  const variables = letArg(command);
  const special = scored || near !== undefined;
  // Decode only what the filter and sort read: without a projection the reply is the stored
  // bytes; with one, only the documents in the reply are decoded whole to be projected (a sort
  // of many matches for one page then decodes the page, not every match).
  const fields = special ? undefined : fieldsFor(filter, sort.map(([path]) => path));
  const excluded = fields && collection && !Array.isArray(collection) ? topLevelExclusion(command.projection) : undefined;
  const projectWhole = excluded
    ? // Only sent, never read again (cursor batches take rawBson): the projected bytes, wrapped.
      (doc: Document) => new ReplyBytes(withoutFields(rawBson(doc), excluded)) as unknown as Document
    : fields && command.projection !== undefined && collection && !Array.isArray(collection)
      ? (doc: Document) => project(wholeDocument(doc))
      : project;
  let results: Iterable<Document> | undefined = special
    ? undefined
    : (orderedFromIndex(collection, filter, sort, strings === undefined, limit > 0 ? skip + limit : undefined, variables, fields) ??
      sortedFromIndex(collection, filter, sort, strings === undefined, variables, fields));
  if (!results && sort.length === 0 && !near) {
    // No sort: the matches are produced as the cursor's batches are taken.
    results = matchingDocuments(collection, { filter, collation: command.collation, variables, fields });
  } else if (!results) {
    // A sort without an index to follow needs every match first (their selected fields only,
    // when there is no projection).
    let matched = matchDocuments(collection, { filter, collation: command.collation, variables, fields });
    // $near returns the nearest first (a sort, when given, orders them instead).
    if (near && sort.length === 0) matched = sortByDistance(matched);
    results = sortDocuments(matched, sort, strings);
  }
  if (skip > 0 || limit > 0 || command.projection !== undefined) results = window(results, skip, limit, command.projection !== undefined ? projectWhole : undefined);
  const effectiveBatch = limit > 0 && (batchSize === undefined || batchSize === 0 || batchSize > limit) ? limit : batchSize;
  const reading = collection && !Array.isArray(collection) ? collection : undefined;
  return cursorReply(ctx, name, results, effectiveBatch, singleBatch, reading, isTruthy(command.tailable) && isTruthy(command.awaitData));
};

function sortByDistance(docs: Document[]): Document[] {
  return docs
    .map((doc) => ({ doc, d: nearDistanceOf(doc) ?? Number.POSITIVE_INFINITY }))
    .sort((a, b) => a.d - b.d)
    .map((e) => e.doc);
}

/**
 * "First page of a meeting's attendees by name": when an index fixes the filter's equality
 * fields and then runs in the sort's order, walk it and stop once the page is full (plus the
 * documents tied with the last one, which the rest of the sort then orders).
 */
function orderedFromIndex(
  source: ReadSource,
  filter: Document,
  sort: ReturnType<typeof parseSort>,
  binaryStrings: boolean,
  stopAfter: number | undefined,
  variables: Document | undefined,
  fields?: FieldSelection,
): Document[] | undefined {
  if (!source || Array.isArray(source) || !binaryStrings || stopAfter === undefined) return undefined;
  const scan = planOrderedScan(filter, sort, source.indexes);
  if (!scan) return undefined;
  // Another index narrows the filter further ("nguyen van" in one meeting): decoding and sorting
  // its few candidates is cheapest, but many (a common name in a large meeting) are cheaper
  // walked in the sort's order, skipping entries that are not candidates without decoding them,
  // until the page is full. A walk that goes on past `skipBudget` entries per candidate (the
  // matches sort late) gives up for decoding and sorting them after all: those it has not
  // reached yet, the ones it decoded on the way are not decoded again.
  const only = scan.narrower && scan.narrower.length > 2 * stopAfter ? new Set(scan.narrower) : undefined;
  if (scan.narrower && !only) return undefined;
  let walkLeft = only ? only.size * skipBudget : Number.POSITIVE_INFINITY;
  const matcher = compileFilter(filter, { variables });
  const { sortKeyStart: from, sortKeyLength: length } = scan;
  const out: Document[] = [];
  let last: unknown[] | undefined;
  for (const { key, rid } of scan.entries) {
    if (last && (scan.complete || !sameSortKey(key, last, from, length))) break;
    // A candidate leaves the set once reached: what is left is what the walk has not decoded.
    if (only && !only.delete(rid)) {
      if (--walkLeft >= 0) continue;
      for (const unread of only) {
        const doc = source.documents.get(unread, fields);
        if (doc && matcher(doc)) out.push(doc);
      }
      return sortDocuments(out, sort);
    }
    const doc = source.documents.get(rid, fields);
    if (!doc || !matcher(doc)) continue;
    out.push(doc);
    if (out.length >= stopAfter) last = key;
  }
  return scan.complete ? out : sortDocuments(out, sort);
}

/**
 * Index entries a narrowed ordered walk may pass over per candidate. Skipping one (an index step,
 * a key comparison, a set lookup) costs about a tenth of decoding a candidate, so a walk that
 * gives up has cost at most some 40% more than decoding and sorting every candidate at once
 * (the second reader measured 1.7x with 16).
 */
const skipBudget = 4;

function sameSortKey(a: unknown[], b: unknown[], from: number, length: number): boolean {
  for (let i = from; i < from + length; i++) if (compareValues(a[i], b[i]) !== 0) return false;
  return true;
}

/**
 * "Newest 20" style queries: when the filter has no index of its own but the single sort field
 * does, walk that index in order and stop once enough documents matched, instead of sorting
 * the whole collection.
 */
function sortedFromIndex(
  source: ReadSource,
  filter: Document,
  sort: ReturnType<typeof parseSort>,
  binaryStrings: boolean,
  variables: Document | undefined,
  fields?: FieldSelection,
): Iterable<Document> | undefined {
  if (!source || Array.isArray(source) || sort.length !== 1 || !binaryStrings || source.hasIndexPlan(filter)) return undefined;
  const [path, direction] = sort[0];
  const ordered = source.orderedBy(path.join('.'), direction, fields);
  if (!ordered) return undefined;
  const matcher = compileFilter(filter, { variables });
  // Walked as the cursor takes batches; a limit stops the walk (window()).
  return (function* () {
    for (const doc of ordered) if (matcher(doc)) yield doc;
  })();
}

/** Cursor ids are Int64, but a client that promoted them to numbers may send a double back. */
function cursorIdArg(value: unknown): Long | undefined {
  if (value instanceof Long) return value;
  if (isNumeric(value)) return Long.fromNumber(toInteger(value));
  return undefined;
}

export const getMore: CommandHandler = (command, ctx) => {
  const id = cursorIdArg(command.getMore);
  if (!id) throw new MongoServerError('TypeMismatch', "Field 'getMore' must be of type long in: { getMore: ... }");
  const name = collectionArg(command, 'collection');
  checkFieldTypes(command, 'getMore', { batchSize: 'number', maxTimeMS: 'number' });
  const namespace = `${ctx.db}.${name}`;
  const { bytes, id: nextId } = ctx.cursors.getMore(id, namespace, optionalBatchSize(command), ctx.session, command.maxTimeMS !== undefined);
  return encodeCursorReply('nextBatch', bytes, nextId, namespace);
};

export const killCursors: CommandHandler = (command, ctx) => {
  collectionArg(command, 'killCursors');
  if (!Array.isArray(command.cursors)) throw new MongoServerError('TypeMismatch' , "BSON field 'killCursors.cursors' is the wrong type, expected type 'array'");
  const ids = command.cursors.map(cursorIdArg).filter((c): c is Long => c !== undefined);
  const { killed, notFound } = ctx.cursors.kill(ids);
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

export const count: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'count');
  checkFieldTypes(command, 'count', { limit: 'number', skip: 'number', maxTimeMS: 'number', hint: ['string', 'object'], collation: 'object', readConcern: 'object' });
  const filter = documentArg(command, 'query') ?? {};
  const skip = nonNegative(toInteger(command.skip), 'skip');
  const limit = Math.abs(toInteger(command.limit));
  const collection = existingCollection(ctx, name);
  checkHint(indexesOf(collection), command.hint);
  if (Object.keys(filter).length === 0 && collection) {
    const total = Math.max(0, sourceSize(collection) - skip);
    return { n: limit > 0 ? Math.min(limit, total) : total, ok: 1 };
  }
  guardTableScan(ctx, collection, filter);
  const matched = matchDocuments(collection, { filter, collation: command.collation, stopAfter: limit > 0 ? skip + limit : undefined, fields: fieldsFor(filter) });
  const n = Math.max(0, matched.length - skip);
  return { n: limit > 0 ? Math.min(limit, n) : n, ok: 1 };
};

export const distinct: CommandHandler = (command, ctx) => {
  const name = collectionArg(command, 'distinct');
  checkFieldTypes(command, 'distinct', { maxTimeMS: 'number', collation: 'object', hint: ['string', 'object'], readConcern: 'object' });
  if (typeof command.key !== 'string') throw new MongoServerError('TypeMismatch', "BSON field 'distinct.key' is the wrong type, expected type 'string'");
  if (command.key === '') throw badValue('FieldPath cannot be constructed with empty string');
  const path = command.key.split('.');
  const filter = documentArg(command, 'query') ?? {};
  const strings = collationComparer(command.collation);
  const values: unknown[] = [];
  const add = (v: unknown) => {
    if (v === undefined) return;
    if (!values.some((existing) => typeOrder(existing) === typeOrder(v) && compareValues(existing, v, strings) === 0)) values.push(v);
  };
  const source = existingCollection(ctx, name);
  guardTableScan(ctx, source, filter);
  for (const doc of matchDocuments(source, { filter, collation: command.collation })) {
    walkPath(doc, path, 0, (v) => {
      if (Array.isArray(v)) v.forEach(add);
      else add(v);
      return false;
    });
  }
  values.sort((a, b) => compareValues(a, b, strings));
  return { values, ok: 1 };
};

// ---- aggregate

export const aggregate: CommandHandler = (command, ctx) => {
  const target = command.aggregate;
  const name = typeof target === 'string' ? target : undefined;
  if (!name && !(isNumeric(target) && toInteger(target) === 1)) {
    throw failedToParse("Invalid value for 'aggregate' field: must be a collection name or 1");
  }
  if (!Array.isArray(command.pipeline)) throw new MongoServerError('TypeMismatch', "BSON field 'aggregate.pipeline' is the wrong type, expected type 'array'");
  if (isTruthy(command.explain)) {
    // aggregate with explain: true is the older spelling of { explain: { aggregate } }.
    const inner: Document = {};
    for (const [key, value] of Object.entries(command)) if (key !== 'explain') inner[key] = value;
    return explain({ explain: inner, verbosity: 'queryPlanner' }, ctx);
  }
  if (!isPlainDocument(command.cursor)) {
    throw failedToParse("The 'cursor' option is required, except for aggregate with the explain argument");
  }
  checkFieldTypes(command, 'aggregate', {
    maxTimeMS: 'number', hint: ['string', 'object'], collation: 'object', let: 'object', readConcern: 'object',
    allowDiskUse: 'bool', bypassDocumentValidation: 'bool',
  });
  checkFieldTypes(command.cursor, 'aggregate.cursor', { batchSize: 'number' });
  const pipeline = [...command.pipeline] as Document[];
  checkPipeline(pipeline);
  if (pipeline.some((stage) => '$changeStream' in stage)) {
    // Same answer as a standalone mongod: change streams need a replica set's oplog.
    throw new MongoLocationError(40573, 'The $changeStream stage is only supported on replica sets');
  }
  const last = pipeline[pipeline.length - 1];
  const output = last && ('$out' in last || '$merge' in last) ? pipeline.pop() : undefined;
  const collection = name ? existingCollection(ctx, name) : undefined;
  checkHint(indexesOf(collection), command.hint);
  let input: Document[];
  let narrowed = false;
  const first = pipeline[0];
  pipeline.forEach((stage, i) => {
    if (i > 0 && '$geoNear' in stage) throw new MongoLocationError(40602, '$geoNear is only valid as the first stage in a pipeline');
    if (i > 0 && '$match' in stage && hasText(stage.$match)) {
      throw new MongoLocationError(17313, '$match with $text is only allowed as the first pipeline stage');
    }
  });
  const scored = first !== undefined && '$match' in first && hasText(first.$match);
  const stream = !output && !scored && !(first && '$geoNear' in first) && !(first && '$match' in first && !isPlainDocument(first.$match)) && name ? streamPlan(first && '$match' in first ? pipeline.slice(1) : pipeline) : undefined;
  if (stream) {
    // Every stage maps one document at a time: the matches go through the pipeline a chunk at a
    // time, as the cursor's batches are taken, instead of all of them at once.
    const leading = first && '$match' in first ? (first.$match as Document) : {};
    guardTableScan(ctx, collection, leading);
    const matches = matchingDocuments(collection, { filter: leading, collation: command.collation, variables: letArg(command), inPipeline: true });
    const variables = letArg(command);
    const resolveNone: CollectionResolver = () => [];
    const run = (docs: Document[]) => runPipeline(docs, stream.stages, resolveNone, variables, command.collation);
    // The stages are checked before any document flows, as when the pipeline runs at once.
    try {
      run([]);
    } catch (err) {
      throw mingoError(err);
    }
    return cursorReply(ctx, name!, streamThrough(matches, stream, run), optionalBatchSize(command.cursor as Document));
  }
  if (first && '$geoNear' in first) {
    pipeline.shift();
    input = geoNear(collection, first.$geoNear, ctx);
  } else if (first && '$match' in first && isPlainDocument(first.$match)) {
    // The leading $match uses indexes and the native matcher; mingo handles the rest.
    pipeline.shift();
    guardTableScan(ctx, collection, first.$match as Document);
    const covered = output === undefined ? coveredGroup(ctx, command, collection, first.$match as Document, pipeline) : undefined;
    if (covered) return cursorReply(ctx, name!, covered, optionalBatchSize(command.cursor as Document));
    const fields = output === undefined ? pipelineFields(ctx, first.$match as Document, pipeline) : undefined;
    input = matchDocuments(collection, { filter: first.$match as Document, collation: command.collation, variables: letArg(command), inPipeline: true, fields });
    narrowed = fields !== undefined && collection !== undefined && !Array.isArray(collection);
  } else if (!name && first && Array.isArray(first.$documents)) {
    pipeline.shift();
    input = first.$documents as Document[];
  } else if (!name && first && '$listLocalSessions' in first) {
    // Sessions are not tracked; the caller's own session is the one we know about.
    pipeline.shift();
    input = isPlainDocument(command.lsid) ? [{ _id: { id: command.lsid.id }, lastUse: new Date() }] : [];
  } else {
    guardTableScan(ctx, collection, {});
    input = collection === undefined ? [] : Array.isArray(collection) ? collection : [...collection.documents.values()];
  }
  const db = ctx.store.existingDatabase(ctx.db);
  const optimized = ctx.server.parameters.flag(OPTIMIZATIONS_PARAMETER);
  const resolve: CollectionResolver = (from, narrowTo) => {
    const foreign = db?.get(from);
    if (!foreign) return [];
    // A view's documents are computed; a collection answers the equality through its indexes.
    if (!narrowTo || typeof foreign.options.viewOn === 'string') return [...foreign.documents.values()];
    const filter = { [narrowTo.field]: { $in: narrowTo.values } };
    // Only the fields the rest of the pipeline reads from the joined documents (and the join's).
    const fields = narrowTo.fields ? new FieldSelection([narrowTo.field.split('.')[0], ...narrowTo.fields]) : undefined;
    return matchDocuments(foreign, { filter, fields });
  };
  let results: Document[];
  try {
    results =
      countPipeline(input, pipeline) ??
      (pipeline.length
        ? runPipeline(input, pipeline, resolve, letArg(command), command.collation, scored ? textScoreOf : undefined, { wholeDocument: narrowed ? wholeDocument : undefined, plain: !optimized })
        : input);
  } catch (err) {
    throw mingoError(err);
  }
  if (output) {
    writeOutput(ctx, output, results, command.bypassDocumentValidation === true);
    results = [];
  }
  return cursorReply(ctx, name ?? '$cmd.aggregate', results, optionalBatchSize(command.cursor as Document));
};

/**
 * setParameter switch for the aggregate read optimizations: decoding only the fields the pipeline
 * reads (below) and counting $groups (group-counts.ts). On by default; tests compare both ways.
 */
export const OPTIMIZATIONS_PARAMETER = 'internalPipelineOptimizations';

/**
 * The top-level fields the leading $match of an aggregate must decode: the filter's and those
 * the later stages read (pipeline-deps.ts), plus _id; undefined for the whole document.
 */
function pipelineFields(ctx: CommandContext, filter: Document, rest: Document[]): FieldSelection | undefined {
  if (!ctx.server.parameters.flag(OPTIMIZATIONS_PARAMETER)) return undefined;
  const filterFields = fieldsFor(filter);
  const reads = filterFields && pipelineReads(rest);
  if (!filterFields || !reads) return undefined;
  return new FieldSelection(['_id', ...filterFields.fields, ...topLevelFields(reads)]);
}

/**
 * [$match, $group] counting per values of indexed fields, answered from the index's entries
 * (covered-group.ts) when the optimizations are on and nothing asks for more (collation, let,
 * hint); undefined to run the pipeline as usual.
 */
function coveredGroup(ctx: CommandContext, command: Document, collection: ReadSource, filter: Document, rest: Document[]): Document[] | undefined {
  if (!collection || Array.isArray(collection) || typeof collection.options.viewOn === 'string') return undefined;
  const [group, ...after] = rest;
  if (!group || Object.keys(group).length !== 1 || !isPlainDocument(group.$group)) return undefined;
  if (!after.every((stage) => Object.keys(stage).length === 1 && AFTER_COVERED_GROUP.has(Object.keys(stage)[0]!))) return undefined;
  if (command.collation !== undefined || command.let !== undefined || command.hint !== undefined || !ctx.server.parameters.flag(OPTIMIZATIONS_PARAMETER)) return undefined;
  const matcher = compileFilter(filter, { inPipeline: true, ...collectionQueryOptions(collection) });
  const groups = runCoveredGroup(collection, filter, group.$group, matcher);
  return groups && after.length ? runPipeline(groups, after, () => []) : groups;
}

/** Stages that may follow a covered $group (they read only its output, a few documents). */
const AFTER_COVERED_GROUP = new Set(['$sort', '$match', '$project', '$addFields', '$set', '$unset', '$skip', '$limit']);

/**
 * The fields a projection only leaves out ({ searchText: 0, __v: 0 }: top-level names, each 0 or
 * false), or undefined for any other projection (inclusions, paths, operators).
 */
function topLevelExclusion(projection: unknown): FieldSelection | undefined {
  if (!isPlainDocument(projection)) return undefined;
  const names = Object.keys(projection);
  if (names.length === 0) return undefined;
  for (const name of names) {
    const value = projection[name];
    if (name.includes('.') || name.startsWith('$') || !(typeof value === 'boolean' || isNumeric(value)) || isTruthy(value)) return undefined;
  }
  return new FieldSelection(names);
}

/** A document read with a field selection, decoded whole from the stored bytes it remembers. */
function wholeDocument(doc: Document): Document {
  return deserialize(rawBson(doc), deserializeOptions) as Document;
}

/** Stages that map each document on its own, so that a pipeline of only these can stream. */
const PER_DOCUMENT_STAGES = new Set(['$match', '$project', '$addFields', '$set', '$unset', '$replaceRoot', '$replaceWith']);
/** Documents sent through the pipeline at a time when it streams. */
const STREAM_CHUNK = 256;

interface StreamPlan {
  stages: Document[];
  skip: number;
  limit: number;
}

/**
 * The pipeline (after a leading $match) as per-document stages followed by at most a $skip and a
 * $limit, or undefined when some stage needs every document at once ($group, $sort, $lookup...).
 * $$NOW and $$CLUSTER_TIME must stay one value for the whole command, so those never stream.
 */
function streamPlan(pipeline: Document[]): StreamPlan | undefined {
  let end = pipeline.length;
  let skip = 0;
  let limit = 0;
  const last = pipeline[end - 1];
  if (last && '$limit' in last && isNumeric(last.$limit)) {
    limit = toNumber(last.$limit);
    end--;
  }
  const beforeLimit = pipeline[end - 1];
  if (beforeLimit && '$skip' in beforeLimit && isNumeric(beforeLimit.$skip)) {
    skip = toNumber(beforeLimit.$skip);
    end--;
  }
  if (!Number.isInteger(skip) || !Number.isInteger(limit) || skip < 0 || limit < 0) return undefined;
  const stages = pipeline.slice(0, end);
  for (const stage of stages) {
    const keys = Object.keys(stage);
    if (keys.length !== 1 || !PER_DOCUMENT_STAGES.has(keys[0]!)) return undefined;
    if (keys[0] === '$match' && hasText(stage.$match)) return undefined;
  }
  if (/\$\$(NOW|CLUSTER_TIME)/.test(JSON.stringify(stages))) return undefined;
  return { stages, skip, limit };
}

/** The documents through the streaming pipeline, chunk by chunk, as the cursor asks for them. */
function* streamThrough(input: Iterable<Document>, plan: StreamPlan, run: (docs: Document[]) => Document[]): Generator<Document> {
  const iterator = input[Symbol.iterator]();
  let toSkip = plan.skip;
  let left = plan.limit;
  for (let exhausted = false; !exhausted; ) {
    const chunk: Document[] = [];
    while (chunk.length < STREAM_CHUNK) {
      const next = iterator.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      chunk.push(next.value);
    }
    if (chunk.length === 0) return;
    let out: Document[];
    try {
      out = plan.stages.length ? run(chunk) : chunk;
    } catch (err) {
      // Found at a getMore as at the first batch: in mongod's terms, never the engine's.
      throw mingoError(err);
    }
    for (const doc of out) {
      if (toSkip > 0) {
        toSkip--;
        continue;
      }
      yield doc;
      if (plan.limit > 0 && --left === 0) return;
    }
  }
}

/** The $geoNear stage: documents by distance from a point, nearest first, with the distance in a field. */
function geoNear(source: ReadSource, rawSpec: unknown, ctx: CommandContext): Document[] {
  if (!isPlainDocument(rawSpec)) throw failedToParse('$geoNear specification must be an object');
  const spec = rawSpec;
  if (typeof spec.distanceField !== 'string' || spec.distanceField === '') {
    throw new MongoServerError('FailedToParse', "$geoNear requires a 'distanceField' option as a String");
  }
  if (spec.near === undefined) throw new MongoServerError('FailedToParse', "$geoNear requires a 'near' option");
  const collection = source && !Array.isArray(source) ? source : undefined;
  const namespace = collection?.namespace ?? `${ctx.db}.?`;
  const fields = collection?.geoFields() ?? [];
  let key: string;
  if (typeof spec.key === 'string') {
    if (!fields.includes(spec.key)) throw noGeoIndex(namespace);
    key = spec.key;
  } else {
    if (fields.length === 0) throw noGeoIndex(namespace);
    if (fields.length > 1) throw badValue(`There is more than one 2dsphere index on ${namespace}; unsure which to use for $geoNear`);
    key = fields[0];
  }
  // A GeoJSON point measures in meters, a legacy [lng, lat] pair in radians, as in mongod.
  const bounds = { $maxDistance: spec.maxDistance, $minDistance: spec.minDistance };
  const near = isPlainDocument(spec.near) && 'type' in spec.near
    ? parseNear('$geoNear', { $geometry: spec.near, ...bounds }, {})
    : parseNear('$geoNear', spec.near, bounds);
  const filter = isPlainDocument(spec.query) ? spec.query : {};
  const matcher = compileFilter(filter, collectionQueryOptions(source));
  const multiplier = spec.distanceMultiplier === undefined ? 1 : toNumber(spec.distanceMultiplier);
  const scored: Array<{ doc: Document; distance: number }> = [];
  for (const doc of collection?.documents.values() ?? []) {
    if (!matcher(doc)) continue;
    const distance = distanceOf(doc, key, near);
    if (distance !== undefined) scored.push({ doc, distance });
  }
  scored.sort((a, b) => a.distance - b.distance);
  return scored.map(({ doc, distance }) => {
    const out = structuredCopy(doc);
    setPath(out, spec.distanceField as string, distance * multiplier);
    if (typeof spec.includeLocs === 'string') setPath(out, spec.includeLocs, fieldValue(doc, key));
    return out;
  });
}

function fieldValue(doc: Document, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) value = isPlainDocument(value) ? value[part] : undefined;
  return value;
}

function distanceOf(doc: Document, key: string, near: ReturnType<typeof parseNear>): number | undefined {
  const value = fieldValue(doc, key);
  if (value === undefined || value === null) return undefined;
  let geometry;
  try {
    geometry = parseGeometry(value);
  } catch {
    return undefined;
  }
  const radians = distanceTo(near.point, geometry);
  const distance = near.unit === 'meters' ? radians * EARTH_RADIUS_METERS : radians;
  return distance < near.min || distance > near.max ? undefined : distance;
}

function structuredCopy(doc: Document): Document {
  return { ...doc };
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let container = doc;
  for (const part of parts.slice(0, -1)) {
    container[part] = isPlainDocument(container[part]) ? { ...(container[part] as Document) } : {};
    container = container[part] as Document;
  }
  container[parts[parts.length - 1]] = value;
}

/**
 * The driver's countDocuments is aggregate [$match, $skip?, $limit?, {$group: {_id: 1, n: {$sum: 1}}}]:
 * answer it by counting, without handing every matched document to mingo.
 */
function countPipeline(input: Document[], pipeline: Document[]): Document[] | undefined {
  let skip = 0;
  let limit = Number.POSITIVE_INFINITY;
  let i = 0;
  if (pipeline[i] && '$skip' in pipeline[i] && isNumeric(pipeline[i].$skip)) skip = toInteger(pipeline[i++].$skip);
  if (pipeline[i] && '$limit' in pipeline[i] && isNumeric(pipeline[i].$limit)) limit = toInteger(pipeline[i++].$limit);
  const group = pipeline[i]?.$group;
  if (i !== pipeline.length - 1 || !isPlainDocument(group) || Object.keys(group).length !== 2) return undefined;
  const [countField] = Object.keys(group).filter((k) => k !== '_id');
  const sum = group[countField];
  const isCountOfOne = isPlainDocument(sum) && Object.keys(sum).length === 1 && isNumeric(sum.$sum) && toInteger(sum.$sum) === 1;
  const id = group._id;
  if (!isCountOfOne || !(id === null || (isNumeric(id) && !isPlainDocument(id)))) return undefined;
  const n = Math.max(0, Math.min(input.length - skip, limit));
  return n === 0 ? [] : [{ _id: id, [countField]: n }];
}

const idChangedByMerge = () => new MongoServerError('ImmutableField', '$merge failed to update the matching document, did you attempt to modify the _id or the shard key?');
const notACollection = (db: string, name: string) => new MongoServerError('CommandNotSupportedOnView', `Namespace ${db}.${name} is a view, not a collection`);

/**
 * whenMatched as a pipeline, as mongod runs it: an update pipeline on the matched document, with
 * `$$new` the incoming document and `let`'s variables evaluated against it; the _id stays.
 */
function mergePipelineResult(current: Document, incoming: Document, pipeline: Document[], letSpec: unknown): Document {
  const resolveNone: CollectionResolver = () => [];
  let variables: Document = { new: incoming };
  try {
    if (isPlainDocument(letSpec)) {
      const [evaluated] = runPipeline([incoming], [{ $replaceWith: letSpec }], resolveNone);
      variables = { ...evaluated, new: incoming };
    }
    const [updated] = runPipeline([current], pipeline, resolveNone, variables);
    if (updated === undefined) return current;
    if ('_id' in updated && compareValues(updated._id, current._id) !== 0) {
      throw idChangedByMerge();
    }
    return withIdFirst({ ...updated, _id: current._id });
  } catch (err) {
    if (err instanceof MongoServerError) throw err;
    throw mingoError(err);
  }
}

function writeOutput(ctx: CommandContext, stage: Document, results: Document[], bypassValidation: boolean): void {
  if ('$out' in stage) {
    const { db: dbName, coll: target } = outNamespace(stage.$out, ctx.db);
    const db = ctx.store.database(dbName);
    // As mongod: the results go into a temporary collection with the target's options (its
    // validator) and indexes, renamed over the target only once every document went in, so a
    // document the validator or a unique index refuses leaves the target as it was.
    db.write(() => {
      const previous = db.get(target);
      if (typeof previous?.options.viewOn === 'string') throw notACollection(dbName, target);
      if (isTruthy(previous?.options.capped)) throw new MongoLocationError(17152, `namespace '${dbName}.${target}' is capped so it can't be used for $out`);
      // The rename over the target would refuse a name this store never gives a collection ('$'):
      // refused before the temporary collection exists, so none is left behind.
      validateCollectionName(dbName, target);
      const temp = `tmp.agg_out.${randomUUID()}`;
      const collection = db.create(temp, previous?.options ?? {});
      try {
        for (const index of previous?.indexes ?? []) if (index.name !== '_id_') collection.createIndex(index.spec);
        collection.persistCatalog();
        for (const doc of results) collection.insert(withIdFirst(doc), bypassValidation);
      } catch (err) {
        db.drop(temp);
        throw err;
      }
      db.drop(target);
      db.rename(temp, target, db);
    });
    return;
  }
  const spec = stage.$merge;
  const { db: dbName, coll: into } = mergeNamespace(isPlainDocument(spec) ? spec.into : spec, ctx.db);
  const options = isPlainDocument(spec) ? spec : {};
  const on = mergeOnFields(options.on);
  const onId = on.length === 1 && on[0] === '_id';
  const whenMatched = typeof options.whenMatched === 'string' || Array.isArray(options.whenMatched) ? options.whenMatched : 'merge';
  const whenNotMatched = typeof options.whenNotMatched === 'string' ? options.whenNotMatched : 'insert';
  if (!ctx.store.existingDatabase(dbName)?.get(into)) {
    // A target that does not exist matches nothing: as mongod, it (and its database) is made only
    // by the first document inserted into it, never by a $merge that inserts none.
    if (!onId) throw new MongoLocationError(51183, 'Cannot find index to verify that join fields will be unique');
    if (results.length > 0 && whenNotMatched === 'fail') throw new MongoLocationError(13113, 'Found a document without a match in the target collection');
    if (results.length === 0 || whenNotMatched !== 'insert') return;
  }
  const db = ctx.store.database(dbName);
  db.write(() => {
    if (typeof db.get(into)?.options.viewOn === 'string') throw notACollection(dbName, into);
    // As mongod: fields other than _id must be those of a unique index of the target, so that a
    // document matches at most one (a target that does not exist has none).
    const target = db.get(into);
    const onSet = new Set(on);
    const supported = onId || target?.indexes.some((index) => index.unique && index.spec.partialFilterExpression === undefined && index.fields.length === onSet.size && index.fields.every((field) => onSet.has(field.name)));
    if (!supported) throw new MongoLocationError(51183, 'Cannot find index to verify that join fields will be unique');
    const collection = target ?? db.getOrCreate(into);
    for (const doc of results) {
      const values = on.map((field) => getPath(doc, field));
      if (!onId && values.some((value) => value === undefined || value === null || Array.isArray(value))) {
        throw new MongoLocationError(51132, "$merge write error: 'on' field cannot be missing, null, undefined or an array");
      }
      const filter = Object.fromEntries(on.map((field, i) => [field, values[i]]));
      const existing = [...collection.candidates(filter)].find(([, d]) => on.every((field, i) => compareValues(getPath(d, field), values[i]) === 0));
      if (!existing) {
        if (whenNotMatched === 'insert') collection.insert(withIdFirst(doc), bypassValidation);
        else if (whenNotMatched === 'fail') throw new MongoLocationError(13113, 'Found a document without a match in the target collection');
        continue;
      }
      const [rid, current] = existing;
      if (whenMatched === 'keepExisting') continue;
      if (whenMatched === 'fail') throw collection.idIndex.duplicateKeyError([doc._id], collection.namespace);
      if (!Array.isArray(whenMatched) && '_id' in doc && compareValues(doc._id, current._id) !== 0) {
        throw idChangedByMerge();
      }
      const next = Array.isArray(whenMatched) ? mergePipelineResult(current, doc, whenMatched as Document[], options.let) : whenMatched === 'replace' ? withIdFirst({ ...doc, _id: current._id }) : { ...current, ...doc, _id: current._id };
      collection.replace(rid, next, bypassValidation);
    }
  });
}
