// Dependency analysis of an aggregation pipeline, as mongod does it: which fields of the input
// documents the stages can read, so the leading $match decodes only those (document-store.ts
// partial decoding) and a $lookup decodes only the foreign fields read from its `as` field.
// Undefined ("the whole document") whenever a stage is not understood: $$ROOT/$$CURRENT, stages
// that pass documents on to the output ($out/$merge, or no $group/$project/$count at the end),
// $replaceRoot, $facet, $unionWith, $getField and any stage or form not listed here.
import type { Document } from './values.js';
import { isPlainDocument } from './values.js';

/** What a pipeline reads: dotted paths whose whole value is read, and paths only walked ($unwind). */
export interface Reads {
  /** Paths whose values (with everything under them) may be read. */
  values: Set<string>;
  /** Paths whose presence and array-ness matter but not their content ($unwind). */
  walked: Set<string>;
}

class WholeDocument extends Error {}

const giveUp = (): never => {
  throw new WholeDocument();
};

/**
 * The reads of `stages` (those after the leading $match) up to a stage that builds new documents
 * ($group, inclusion $project, $count...); undefined when the input documents may reach the output
 * or a read cannot be told.
 */
export function pipelineReads(stages: Document[]): Reads | undefined {
  const reads: Reads = { values: new Set(), walked: new Set() };
  try {
    for (const stage of stages) if (stageReads(stage, reads) === 'ends') return reads;
  } catch (err) {
    if (err instanceof WholeDocument) return undefined;
    throw err;
  }
  return undefined;
}

/** The top-level fields of `reads` (both kinds). */
export function topLevelFields(reads: Reads): Set<string> {
  const fields = new Set<string>();
  for (const path of [...reads.values, ...reads.walked]) fields.add(path.split('.')[0]);
  return fields;
}

/**
 * The top-level fields of the documents stored under `as` (a $lookup's output path) that `reads`
 * may look at; undefined when the whole joined document may be read.
 */
export function fieldsUnder(reads: Reads, as: string): Set<string> | undefined {
  const fields = new Set<string>();
  for (const path of reads.values) {
    if (path === as || as.startsWith(`${path}.`)) return undefined;
    if (path.startsWith(`${as}.`)) fields.add(path.slice(as.length + 1).split('.')[0]);
  }
  // Unwinding the joined array itself needs only how many there are; unwinding a field of them
  // needs that field.
  for (const path of reads.walked) if (path.startsWith(`${as}.`)) fields.add(path.slice(as.length + 1).split('.')[0]);
  return fields;
}

function stageReads(stage: Document, reads: Reads): 'ends' | 'continues' {
  if (!isPlainDocument(stage) || Object.keys(stage).length !== 1) return giveUp();
  const [name] = Object.keys(stage);
  const spec = stage[name];
  switch (name) {
    case '$match':
      if (!isPlainDocument(spec)) return giveUp();
      filterReads(spec, '', reads);
      return 'continues';
    case '$sort':
      if (!isPlainDocument(spec)) return giveUp();
      for (const [path, direction] of Object.entries(spec)) {
        // { $meta: 'textScore' } reads no field.
        if (!isPlainDocument(direction)) addPath(path, reads.values);
      }
      return 'continues';
    case '$limit':
    case '$skip':
    case '$sample':
      return 'continues';
    case '$addFields':
    case '$set':
      if (!isPlainDocument(spec)) return giveUp();
      expressionReads(spec, reads);
      return 'continues';
    case '$unset':
      return 'continues';
    case '$project':
      if (!isPlainDocument(spec)) return giveUp();
      return projectReads(spec, reads);
    case '$unwind': {
      const path = typeof spec === 'string' ? spec : isPlainDocument(spec) ? spec.path : undefined;
      if (typeof path !== 'string' || !path.startsWith('$') || path.startsWith('$$')) return giveUp();
      addPath(path.slice(1), reads.walked);
      return 'continues';
    }
    case '$lookup':
      if (!isPlainDocument(spec)) return giveUp();
      if (spec.localField !== undefined) {
        if (typeof spec.localField !== 'string') return giveUp();
        addPath(spec.localField, reads.values);
      }
      // A sub-pipeline runs on the foreign documents; it sees the local one only through `let`.
      if (spec.let !== undefined) expressionReads(spec.let, reads);
      return 'continues';
    case '$group':
      if (!isPlainDocument(spec)) return giveUp();
      expressionReads(spec, reads);
      return 'ends';
    case '$bucket':
    case '$bucketAuto':
      if (!isPlainDocument(spec)) return giveUp();
      expressionReads(spec.groupBy, reads);
      expressionReads(spec.output, reads);
      return 'ends';
    case '$sortByCount':
      expressionReads(spec, reads);
      return 'ends';
    case '$count':
      return 'ends';
    default:
      return giveUp();
  }
}

function addPath(path: string, into: Set<string>): void {
  if (path === '' || path.startsWith('$')) giveUp();
  into.add(path);
}

/** A query filter's reads: its field paths (under `prefix`), and $expr's. */
function filterReads(filter: Document, prefix: string, reads: Reads): void {
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(value)) return giveUp();
      for (const clause of value) {
        if (!isPlainDocument(clause)) return giveUp();
        filterReads(clause, prefix, reads);
      }
    } else if (key === '$expr') {
      expressionReads(value, reads);
    } else if (key === '$comment') {
      continue;
    } else if (key.startsWith('$')) {
      return giveUp();
    } else {
      // Whatever the operators on it ($elemMatch, $size...), they read only under this path.
      addPath(prefix + key, reads.values);
    }
  }
}

/** Inclusion $project ends the documents' shape; exclusion passes the rest on. */
function projectReads(spec: Document, reads: Reads): 'ends' | 'continues' {
  let inclusion = false;
  const walk = (node: Document, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix + key;
      if (typeof value === 'number' || typeof value === 'boolean' || isNumericWrapper(value)) {
        const included = typeof value === 'boolean' ? value : Number(value) !== 0;
        if (included) {
          if (path !== '_id') inclusion = true;
          addPath(path, reads.values);
        }
      } else if (isPlainDocument(value) && Object.keys(value).length > 0 && !Object.keys(value)[0].startsWith('$')) {
        walk(value, `${path}.`);
      } else {
        // A computed field: the projection is an inclusion.
        inclusion = true;
        expressionReads(value, reads);
      }
    }
  };
  walk(spec, '');
  if (!inclusion) return 'continues';
  // _id is kept unless excluded.
  if (spec._id === undefined) reads.values.add('_id');
  return 'ends';
}

function isNumericWrapper(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as { _bsontype?: unknown })._bsontype === 'string' && ['Int32', 'Double', 'Long', 'Decimal128'].includes((value as { _bsontype: string })._bsontype);
}

/** Operators that read a field named by a plain string, or the whole document, implicitly. */
const OPAQUE_OPERATORS = new Set(['$getField', '$setField', '$unsetField', '$function', '$accumulator', '$where', '$meta']);

/**
 * An expression's reads: "$a.b" reads a.b; "$$ROOT"/"$$CURRENT" the whole document ("$$ROOT.a"
 * reads a); other variables are not the document. Literal strings that merely start with "$"
 * only make the result larger, never wrong.
 */
function expressionReads(value: unknown, reads: Reads, depth = 0): void {
  if (depth > 200) return giveUp();
  if (typeof value === 'string') {
    if (!value.startsWith('$')) return;
    if (value.startsWith('$$')) {
      const [variable, ...rest] = value.slice(2).split('.');
      if (variable === 'ROOT' || variable === 'CURRENT') {
        if (rest.length === 0) return giveUp();
        addPath(rest.join('.'), reads.values);
      }
      return;
    }
    addPath(value.slice(1), reads.values);
    return;
  }
  if (Array.isArray(value)) {
    for (const element of value) expressionReads(element, reads, depth + 1);
    return;
  }
  if (!isPlainDocument(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (key === '$literal') continue;
    if (OPAQUE_OPERATORS.has(key)) return giveUp();
    // $let may rebind CURRENT, after which "$a" no longer means the document's a.
    if (key === '$let' && isPlainDocument(child) && isPlainDocument(child.vars) && 'CURRENT' in child.vars) return giveUp();
    // $top/$bottom/$topN/$bottomN (and $sortArray) name fields in sortBy without a "$".
    if (key === 'sortBy' && isPlainDocument(child)) {
      for (const path of Object.keys(child)) addPath(path, reads.values);
      continue;
    }
    expressionReads(child, reads, depth + 1);
  }
}
