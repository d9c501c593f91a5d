// Bridge to mingo for aggregation expressions: mingo wants plain JS numbers, so BSON numeric
// wrappers are promoted on the way in (aggregation output therefore uses int/double types).
import { Aggregator, Query } from 'mingo';
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

export type CollectionResolver = (name: string) => Document[];

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

export function runPipeline(docs: Iterable<Document>, pipeline: Document[], resolve: CollectionResolver, variables?: Document): Document[] {
  const aggregator = new Aggregator(promote(rewriteStages(pipeline)) as Document[], {
    collectionResolver: (name: string) => resolve(name).map(promoteDocument),
    idKey: '_id',
    ...(variables ? { variables: promote(variables) as Document } : {}),
  });
  const originals: Document[] = [];
  const input: Document[] = [];
  for (const doc of docs) {
    originals.push(doc);
    input.push(promoteDocument(doc));
  }
  const output = aggregator.run(input) as Document[];
  return restoreById(output, originals).map(idFirst);
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
function restoreById(output: Document[], originals: Document[]): Document[] {
  if (output.length === 0 || originals.length === 0) return output;
  const byId = new Map<string, Document>();
  for (const doc of originals) {
    const key = idKey(doc._id);
    if (key !== undefined) byId.set(key, doc);
  }
  if (byId.size === 0) return output;
  return output.map((doc) => {
    const key = idKey(doc._id);
    const original = key === undefined ? undefined : byId.get(key);
    return original ? (restoreTypes(doc, original) as Document) : doc;
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
  const query = new Query({ $expr: promote(expr) } as Record<string, unknown>, variables ? { variables: promote(variables) as Document } : {});
  return (doc) => query.test(promoteDocument(doc));
}

/** `let` values are expressions themselves ({ $literal: ... }, { $add: [...] }): evaluate them once. */
export function evaluateLet(variables: unknown): Document | undefined {
  if (variables === null || typeof variables !== 'object' || Array.isArray(variables)) return undefined;
  const [evaluated] = new Aggregator([{ $replaceWith: { $literal: {} } }, { $addFields: promote(variables) as Document }], { idKey: '_id' }).run([{}]) as Document[];
  return evaluated;
}

/** mingo's $project/$group emit _id last; MongoDB keeps it first. */
function idFirst(doc: Document): Document {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const out: Document = { _id: doc._id };
  for (const key of Object.keys(doc)) if (key !== '_id') out[key] = doc[key];
  return out;
}
