// Bridge to mingo for aggregation expressions: mingo wants plain JS numbers, so BSON numeric
// wrappers are promoted on the way in (aggregation output therefore uses int/double types).
import { Aggregator, Query } from 'mingo';
import { resolve as resolvePath } from 'mingo/util';

type MingoOptions = NonNullable<ConstructorParameters<typeof Aggregator>[1]>;
import { MongoLocationError, MongoServerError, badValue } from './errors.js';
import { extraOperators } from './expressions.js';
import { checkPipeline } from './pipeline-checks.js';
import { fieldsUnder, pipelineReads } from './pipeline-deps.js';
import { countingGroup } from './group-counts.js';
import { coveredCountingGroup } from './covered-group.js';
import type { Collection } from './collection.js';
import type { Document } from './values.js';
import { ObjectId, bsonType, isNumeric, isPlainDocument, toNumber } from './values.js';

export function promote(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(promote);
  if (isPlainDocument(value)) {
    const out: Document = {};
    for (const key of Object.keys(value)) out[key] = promote(value[key]);
    return out;
  }
  switch (bsonType(value)) {
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return toNumber(value);
    case 'BSONRegExp': {
      const r = value as { pattern: string; options: string };
      return new RegExp(r.pattern, r.options.replace(/[^imsu]/g, ''));
    }
    default:
      return value;
  }
}

export function promoteDocument(doc: Document): Document {
  return promote(doc) as Document;
}

/**
 * A collection's documents for $lookup; with `narrowTo`, only those whose `field` equals one of
 * `values` are needed (more may be returned: $lookup still matches each pair itself), and when
 * it names `fields`, only those top-level fields (and `field`'s) are read from them.
 */
export type CollectionResolver = (name: string, narrowTo?: { field: string; values: unknown[]; fields?: string[] }) => Document[];

/**
 * Stages where mingo differs from MongoDB are rewritten into the stages MongoDB defines them as
 * (also inside $facet, $lookup and $unionWith sub-pipelines). mingo's $bucket puts a value equal
 * to an inner boundary into the bucket below it; MongoDB's boundaries are inclusive below and
 * exclusive above, $bucket being a $group on a $switch over the boundaries and a $sort on _id.
 */
function rewriteStages(pipeline: Document[]): Document[] {
  return pipeline.flatMap((stage): Document[] => {
    if (!isPlainDocument(stage)) return [stage];
    if (isPlainDocument(stage.$bucket)) return rewriteBucket(stage.$bucket);
    // mingo's $count yields { n: 0 } for no input; MongoDB's $count (a $group on null plus a
    // $project) yields no document at all.
    if (typeof stage.$count === 'string' && Object.keys(stage).length === 1) {
      return [{ $group: { _id: null, [stage.$count]: { $sum: 1 } } }, { $project: { _id: 0 } }];
    }
    if (isPlainDocument(stage.$facet)) {
      const facets: Document = {};
      for (const [name, sub] of Object.entries(stage.$facet)) facets[name] = Array.isArray(sub) ? rewriteStages(sub as Document[]) : sub;
      return [{ $facet: facets }];
    }
    for (const key of ['$lookup', '$unionWith'] as const) {
      const spec = stage[key];
      if (isPlainDocument(spec) && Array.isArray(spec.pipeline)) return [{ [key]: { ...spec, pipeline: rewriteStages(spec.pipeline as Document[]) } }];
    }
    return [stage];
  });
}

function rewriteBucket(spec: Document): Document[] {
  const boundaries = spec.boundaries;
  if (!Array.isArray(boundaries) || boundaries.length < 2) return [{ $bucket: spec }]; // let mingo report the error
  const branches = boundaries.slice(0, -1).map((lower, i) => ({
    case: { $and: [{ $gte: [spec.groupBy, lower] }, { $lt: [spec.groupBy, boundaries[i + 1]] }] },
    then: lower,
  }));
  const $switch: Document = { branches };
  if (spec.default !== undefined) $switch.default = spec.default;
  const output = isPlainDocument(spec.output) ? spec.output : { count: { $sum: 1 } };
  return [{ $group: { _id: { $switch }, ...output } }, { $sort: { _id: 1 } }];
}

export interface PipelineReadOptions {
  /** When the input was decoded with only some fields: the whole stored document of one. */
  wholeDocument?: (doc: Document) => Document;
  /** Everything through mingo on whole documents (no counting $group, no narrowed $lookup reads). */
  plain?: boolean;
}

/** mingo runs JavaScript ($where, $function, $accumulator) unless told not to: never. */
const MINGO_BASE = { idKey: '_id', scriptEnabled: false, context: extraOperators } as const;

/**
 * mingo computes every $setWindowFields output through an internal `$function` whose body is its
 * own closure, so it needs scriptEnabled there. No client code can reach it: refuseScripts has
 * already refused every $where, $function and $accumulator in the pipeline before it runs.
 */
function usesWindowFields(value: unknown, depth = 0): boolean {
  if (depth > 200) return false;
  if (Array.isArray(value)) return value.some((v) => usesWindowFields(v, depth + 1));
  if (!isPlainDocument(value)) return false;
  return Object.keys(value).some((k) => k === '$setWindowFields' || usesWindowFields(value[k], depth + 1));
}

/**
 * A leading [$match, $group] answered from an index alone (covered-group.ts), or undefined.
 * `group` is the $group stage's specification as the client sent it.
 */
export function runCoveredGroup(collection: Collection, filter: Document, group: Document, matcher: (doc: Document) => boolean): Document[] | undefined {
  try {
    refuseScripts(group);
    return coveredCountingGroup(collection, filter, promote(group) as Document, matcher, MINGO_BASE, promote)?.map(idFirst);
  } catch {
    // Whatever went wrong, the ordinary path meets it again and reports it as mongod would.
    return undefined;
  }
}

export function runPipeline(
  docs: Iterable<Document>,
  pipeline: Document[],
  resolve: CollectionResolver,
  variables?: Document,
  collation?: unknown,
  textScore?: (doc: Document) => number | undefined,
  read: PipelineReadOptions = {},
): Document[] {
  const { wholeDocument, plain = false } = read;
  checkPipeline(pipeline);
  refuseScripts(pipeline);
  const scored = textScore !== undefined && usesTextScore(pipeline);
  const stages = promote(rewriteStages(scored ? withScoreField(pipeline) : pipeline)) as Document[];
  const collationOption = mingoCollation(collation);
  const options: MingoOptions = {
    ...MINGO_BASE,
    scriptEnabled: usesWindowFields(pipeline),
    collectionResolver: (name: string) => resolve(name).map(promoteDocument),
    ...(variables ? { variables: promote(variables) as Document } : {}),
    ...(collationOption ? { collation: collationOption } : {}),
  };
  const originals: Document[] = [];
  let current: Document[] = [];
  for (const doc of docs) {
    originals.push(doc);
    const promoted = promoteDocument(doc);
    if (scored) promoted[SCORE_FIELD] = textScore(doc) ?? 0;
    current.push(promoted);
  }
  const groupKey = collationGroupKey(collation);
  try {
    if (!groupKey) {
      current = runWithNarrowedLookups(stages, current, options, resolve, plain);
    } else {
      // $group under a case/diacritic-insensitive collation: mingo groups by exact value, so
      // group here by the collation's key and let mingo compute each group's accumulators.
      let pending: Document[] = [];
      const flush = () => {
        if (pending.length) current = new Aggregator(pending, options).run(current) as Document[];
        pending = [];
      };
      for (const stage of stages) {
        if (isPlainDocument(stage.$group)) {
          flush();
          current = collatedGroup(current, stage.$group, groupKey, options);
        } else {
          pending.push(stage);
        }
      }
      flush();
    }
  } catch (err) {
    throw mingoError(err);
  }
  if (current.length === 0) probeExpressions(stages, options);
  if (scored) for (const doc of current) delete doc[SCORE_FIELD];
  return restoreById(current, originals, wholeDocument).map(idFirst);
}

/**
 * A top-level $lookup on localField/foreignField needs only the foreign documents whose field
 * equals a local value: mingo would take the whole foreign collection (every meeting's attendees,
 * decoded and promoted) and hash it for each such stage. The stages run in segments; before each
 * such $lookup the local values of the documents reaching it are collected and the resolver
 * fetches just their matches (through an index when the foreign field has one), which mingo then
 * joins as before. Values an equality filter would not find exactly (regexes) keep the full read.
 */
function runWithNarrowedLookups(stages: Document[], input: Document[], options: MingoOptions, resolve: CollectionResolver, plain: boolean): Document[] {
  let current = input;
  let pending: Document[] = [];
  const flush = () => {
    if (pending.length) current = plain ? (new Aggregator(pending, options).run(current) as Document[]) : runStages(pending, current, options);
    pending = [];
  };
  for (const [i, stage] of stages.entries()) {
    const spec = isPlainDocument(stage) && Object.keys(stage).length === 1 ? stage.$lookup : undefined;
    if (!isPlainDocument(spec) || typeof spec.from !== 'string' || typeof spec.localField !== 'string' || typeof spec.foreignField !== 'string' || spec.foreignField.startsWith('$')) {
      pending.push(stage);
      continue;
    }
    flush();
    const values = localValues(current, spec.localField);
    if (!values) {
      pending.push(stage);
      continue;
    }
    const foreign = resolve(spec.from, { field: spec.foreignField, values, fields: plain ? undefined : joinedFields(spec, stages.slice(i + 1)) }).map(promoteDocument);
    const joined = plain || spec.pipeline !== undefined || spec.let !== undefined ? undefined : joinByKey(current, foreign, spec);
    if (joined) {
      current = joined;
      continue;
    }
    pending.push({ $lookup: { ...spec, from: foreign } });
    flush();
  }
  flush();
  return current;
}

/** mingo runs the stages, except counting $groups (group-counts.ts). */
function runStages(stages: Document[], docs: Document[], options: MingoOptions): Document[] {
  let current = docs;
  let batch: Document[] = [];
  for (const stage of stages) {
    if (Object.keys(stage).length === 1 && isPlainDocument(stage.$group)) {
      if (batch.length) current = new Aggregator(batch, options).run(current) as Document[];
      batch = [];
      const grouped = countingGroup(current, stage.$group, options);
      if (grouped) {
        current = grouped;
        continue;
      }
    }
    batch.push(stage);
  }
  return batch.length ? (new Aggregator(batch, options).run(current) as Document[]) : current;
}

/** The join key of a single ObjectId or string (values mingo's $lookup matches by value alone). */
function joinKey(value: unknown): string | undefined {
  if (typeof value === 'string') return `s${value}`;
  if (value instanceof ObjectId) return `o${value.toHexString()}`;
  return undefined;
}

/**
 * mingo's $lookup on localField/foreignField ({ ...local, [as]: matches in foreign order }) when
 * every local and foreign value is one ObjectId or string: a map from key to documents instead
 * of mingo's hashing. Undefined (mingo joins) for anything else: arrays, null, missing, numbers...
 */
function joinByKey(locals: Document[], foreign: Document[], spec: Document): Document[] | undefined {
  const as = spec.as as string;
  const byKey = new Map<string, Document[]>();
  for (const doc of foreign) {
    const key = joinKey(resolvePath(doc, spec.foreignField as string));
    if (key === undefined) return undefined;
    const list = byKey.get(key);
    if (list) list.push(doc);
    else byKey.set(key, [doc]);
  }
  const keys: string[] = [];
  for (const doc of locals) {
    const key = joinKey(resolvePath(doc, spec.localField as string));
    if (key === undefined) return undefined;
    keys.push(key);
  }
  return locals.map((doc, i) => ({ ...doc, [as]: byKey.get(keys[i]) ?? [] }));
}

/**
 * The top-level fields of the joined documents that the stages after a $lookup read through its
 * `as` path; undefined (the whole documents) when the lookup has a sub-pipeline or it cannot be told.
 */
function joinedFields(spec: Document, after: Document[]): string[] | undefined {
  if (spec.pipeline !== undefined || typeof spec.as !== 'string' || spec.as === '' || spec.as.startsWith('$')) return undefined;
  const reads = pipelineReads(after);
  const fields = reads && fieldsUnder(reads, spec.as);
  return fields && [...fields];
}

/** The distinct values of `path` in `docs` (array elements spread, missing as null); undefined when one is not an exact-match value. */
function localValues(docs: Document[], path: string): unknown[] | undefined {
  const values = new Map<string, unknown>();
  for (const doc of docs) {
    const value = resolvePath(doc, path) ?? null;
    for (const element of Array.isArray(value) ? (value.length ? value : [null]) : [value]) {
      if (element instanceof RegExp || (element !== null && typeof element === 'object' && !(element instanceof ObjectId) && !(element instanceof Date))) return undefined;
      values.set(element instanceof ObjectId ? `o${element.toHexString()}` : element instanceof Date ? `d${element.getTime()}` : `${typeof element}:${String(element)}`, element);
    }
  }
  return [...values.values()];
}

/**
 * mongod parses every expression before running a pipeline; mingo meets them only as documents
 * flow. When nothing flowed to the end, run the stages once over an empty document so an unknown
 * operator or variable is still reported (other errors a real document could avoid are ignored;
 * stages that read other collections are left out of the probe).
 */
/** Errors mongod raises while parsing (unknown operator, stage or variable; malformed expression). */
const PARSE_ERRORS = [168, 40324, 17276, 15983, 31264];

function probeExpressions(stages: Document[], options: MingoOptions): void {
  const local = stages.filter((stage) => !['$lookup', '$graphLookup', '$unionWith', '$facet'].includes(Object.keys(stage)[0]));
  if (local.length === 0) return;
  try {
    new Aggregator(local, options).run([{}]);
  } catch (err) {
    const translated = mingoError(err);
    if (PARSE_ERRORS.includes(translated.code)) throw translated;
  }
}

/** Where a $text score travels through mingo, which knows no $meta: a field, removed at the end. */
const SCORE_FIELD = '__embeddedTextScore';

function usesTextScore(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(usesTextScore);
  if (!isPlainDocument(value)) return false;
  if (value.$meta === 'textScore') return true;
  return Object.values(value).some(usesTextScore);
}

function withScoreField(value: unknown, inSort = false): Document[] {
  const rewrite = (v: unknown, sort: boolean): unknown => {
    if (Array.isArray(v)) return v.map((e) => rewrite(e, false));
    if (!isPlainDocument(v)) return v;
    if (v.$meta === 'textScore' && Object.keys(v).length === 1) return sort ? -1 : `$${SCORE_FIELD}`;
    const out: Document = {};
    for (const [k, child] of Object.entries(v)) {
      if (sort && isPlainDocument(child) && child.$meta === 'textScore') out[SCORE_FIELD] = -1;
      else out[k] = rewrite(child, k === '$sort');
    }
    return out;
  };
  return rewrite(value, inSort) as Document[];
}

/** A key under which strings equal for the collation are equal (strength 1 or 2); undefined when exact. */
export function collationGroupKey(collation: unknown): ((s: string) => string) | undefined {
  if (!isPlainDocument(collation) || typeof collation.locale !== 'string' || collation.locale === 'simple') return undefined;
  const strength = collation.strength === undefined ? 3 : toNumber(collation.strength);
  if (strength >= 3) return undefined;
  if (strength === 2) return (s) => s.normalize('NFC').toLowerCase();
  return (s) => foldDiacritics(s).toLowerCase();
}

/** Base letters only: "Nguyễn Đức" -> "Nguyen Duc" (combining marks dropped, đ/Đ as d/D). */
export function foldDiacritics(s: string): string {
  return s.normalize('NFD').replace(/\p{M}+/gu, '').replace(/đ/g, 'd').replace(/Đ/g, 'D');
}

function mingoCollation(collation: unknown): MingoOptions['collation'] | undefined {
  if (!isPlainDocument(collation) || typeof collation.locale !== 'string' || collation.locale === 'simple') return undefined;
  let locale = collation.locale.replace(/_/g, '-');
  try {
    Intl.Collator.supportedLocalesOf([locale]);
  } catch {
    locale = 'en';
  }
  return { ...collation, locale, ...(collation.strength === undefined ? {} : { strength: toNumber(collation.strength) }) } as MingoOptions['collation'];
}

function canonicalKey(value: unknown, fold: (s: string) => string): string {
  if (typeof value === 'string') return `s${JSON.stringify(fold(value))}`;
  if (value === null || value === undefined) return 'z';
  if (typeof value === 'number') return `n${value}`;
  if (Array.isArray(value)) return `[${value.map((v) => canonicalKey(v, fold)).join(',')}]`;
  if (value instanceof Date) return `d${value.getTime()}`;
  if (isPlainDocument(value)) return `{${Object.keys(value).map((k) => `${JSON.stringify(k)}:${canonicalKey(value[k], fold)}`).join(',')}}`;
  return `o${String(value)}`;
}

function collatedGroup(items: Document[], spec: Document, fold: (s: string) => string, options: MingoOptions): Document[] {
  if (!('_id' in spec)) throw new MongoLocationError(15955, "a group specification must include an _id");
  const ids = new Aggregator([{ $replaceWith: { k: spec._id } }], options).run(items) as Document[];
  const groups = new Map<string, { id: unknown; docs: Document[] }>();
  items.forEach((doc, i) => {
    const id = ids[i]?.k ?? null;
    const key = canonicalKey(id, fold);
    let group = groups.get(key);
    if (!group) {
      group = { id, docs: [] };
      groups.set(key, group);
    }
    group.docs.push(doc);
  });
  const accumulators = { ...spec, _id: null };
  const out: Document[] = [];
  for (const { id, docs } of groups.values()) {
    const [result] = new Aggregator([{ $group: accumulators }], options).run(docs) as Document[];
    out.push({ ...result, _id: id });
  }
  return out;
}

/** mongod runs without a JavaScript engine here: $where, $function and $accumulator are refused. */
export function refuseScripts(value: unknown, depth = 0): void {
  if (depth > 200) return;
  if (Array.isArray(value)) {
    for (const v of value) refuseScripts(v, depth + 1);
    return;
  }
  if (!isPlainDocument(value)) return;
  for (const key of Object.keys(value)) {
    if (key === '$where') throw badValue('$where is not allowed in this context');
    if (key === '$function' || key === '$accumulator') {
      throw new MongoLocationError(31264, `${key} is not allowed: server-side JavaScript execution is disabled`);
    }
    refuseScripts(value[key], depth + 1);
  }
}

/**
 * mingo reports problems as plain Errors; give them the codes and texts mongod uses. A JS
 * runtime error (TypeError...) means an argument of a shape mingo did not expect: it is reported
 * as a bad argument, never with the engine's internal text.
 */
export function mingoError(err: unknown): MongoServerError {
  if (err instanceof MongoServerError) return err;
  const message = err instanceof Error ? err.message : String(err);
  let m: RegExpExecArray | null;
  if ((m = /unregistered pipeline operator (\S*?)\.?$|Unknown pipeline operator: '([^']*)'|pipeline operator[^$]*(\$\w+)/i.exec(message))) {
    return new MongoLocationError(40324, `Unrecognized pipeline stage name: '${m[1] ?? m[2] ?? m[3]}'`);
  }
  if ((m = /accumulator '(\$\w+)' is not registered/.exec(message))) {
    return new MongoServerError('InvalidPipelineOperator', `Unrecognized expression '${m[1]}'`);
  }
  if ((m = /unknown query operator (\$\w+)/.exec(message))) return badValue(`unknown operator: ${m[1]}`);
  if ((m = /unknown top level operator: (\$\w+)/.exec(message))) return badValue(`unknown top level operator: ${m[1]}`);
  if ((m = /Use of undefined variable: (\w+)/.exec(message))) return new MongoLocationError(17276, `Use of undefined variable: ${m[1]}`);
  if ((m = /Path collision at (\S+?)\.?$/.exec(message))) return new MongoLocationError(31250, `Path collision at ${m[1]}`);
  if (/Expression must contain a single operator/.test(message)) {
    return new MongoLocationError(15983, 'An object representing an expression must have exactly one field');
  }
  if (/requires 'scriptEnabled'/.test(message)) return new MongoLocationError(31264, 'server-side JavaScript execution is disabled');
  if (err instanceof Error && err.name !== 'Error' && err.name !== 'MingoError') {
    return badValue('Invalid argument: an operator or stage received a value of a type it does not accept');
  }
  return badValue(message.replace(/^mingo:\s*/i, ''));
}

/** A key for _id values that identify a document cheaply (ObjectId, string, number). */
function idKey(id: unknown): string | undefined {
  if (typeof id === 'string') return `s${id}`;
  if (typeof id === 'number') return `n${id}`;
  if (isNumeric(id)) return `n${toNumber(id)}`;
  if (id instanceof ObjectId) return `o${id.toHexString()}`;
  return undefined;
}

/**
 * Output documents that are still input documents (after $match, $sort, $addFields...) get the
 * BSON types of their unchanged values back: Int32 vs Double, Long, Decimal128.
 */
function restoreById(output: Document[], originals: Document[], wholeDocument?: (doc: Document) => Document): Document[] {
  if (output.length === 0 || originals.length === 0) return output;
  // Outputs keyed by documents ($group by several fields) are never input documents.
  if (!output.some((doc) => idKey(doc._id) !== undefined)) return output;
  const byId = new Map<string, Document>();
  for (const doc of originals) {
    const key = idKey(doc._id);
    if (key !== undefined) byId.set(key, doc);
  }
  if (byId.size === 0) return output;
  return output.map((doc) => {
    const key = idKey(doc._id);
    const original = key === undefined ? undefined : byId.get(key);
    if (!original) return doc;
    // An original decoded with some fields only is read whole: its other fields may share names
    // with the output's (a $group keyed by _id), and they give the types as for a whole read.
    return restoreTypes(doc, wholeDocument ? wholeDocument(original) : original) as Document;
  });
}

/** mingo returns plain JS numbers: values it did not change get their original BSON types back. */
export function restoreTypes(next: unknown, previous: unknown): unknown {
  if (previous === undefined) return next;
  if (isPlainDocument(next)) {
    const prev = isPlainDocument(previous) ? previous : {};
    const out: Document = {};
    for (const key of Object.keys(next)) out[key] = restoreTypes(next[key], prev[key]);
    return out;
  }
  if (Array.isArray(next)) {
    const prev = Array.isArray(previous) ? previous : [];
    return next.map((v, i) => restoreTypes(v, prev[i]));
  }
  if (typeof next === 'number' && isNumeric(previous) && toNumber(previous) === next) return previous;
  if (next instanceof RegExp) {
    const original = promote(previous);
    if (original instanceof RegExp && original.source === next.source && original.flags === next.flags) return previous;
  }
  return next;
}

/** Compiles a `$expr` filter against promoted documents. */
export function compileExpr(expr: unknown, variables?: Document): (doc: Document) => boolean {
  refuseScripts(expr);
  let query: Query;
  try {
    query = new Query({ $expr: promote(expr) } as Record<string, unknown>, { ...MINGO_BASE, ...(variables ? { variables: promote(variables) as Document } : {}) });
  } catch (err) {
    throw mingoError(err);
  }
  // Reported even when no document is tested, as mongod reports it when parsing.
  try {
    query.test({});
  } catch (err) {
    const translated = mingoError(err);
    if (PARSE_ERRORS.includes(translated.code)) throw translated;
  }
  return (doc) => {
    try {
      return query.test(promoteDocument(doc));
    } catch (err) {
      throw mingoError(err);
    }
  };
}

/** `let` values are expressions themselves ({ $literal: ... }, { $add: [...] }): evaluate them once. */
export function evaluateLet(variables: unknown): Document | undefined {
  if (variables === null || typeof variables !== 'object' || Array.isArray(variables)) return undefined;
  refuseScripts(variables);
  try {
    const [evaluated] = new Aggregator([{ $replaceWith: { $literal: {} } }, { $addFields: promote(variables) as Document }], MINGO_BASE).run([{}]) as Document[];
    return evaluated;
  } catch (err) {
    throw mingoError(err);
  }
}

/** mingo's $project/$group emit _id last; MongoDB keeps it first. */
export function idFirst(doc: Document): Document {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const out: Document = { _id: doc._id };
  for (const key of Object.keys(doc)) if (key !== '_id') out[key] = doc[key];
  return out;
}
