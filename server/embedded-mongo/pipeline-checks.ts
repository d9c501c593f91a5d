// The shape checks mongod makes on each aggregation stage before running anything, with its
// codes and messages. mingo assumes well-formed stages (a $sample of 5 would ask it for an
// array of NaN elements), so nothing reaches it unchecked.
import { MongoLocationError, MongoServerError, badValue, failedToParse } from './errors.js';
import type { Document } from './values.js';
import { bsonTypeName, isNumeric, isPlainDocument, toNumber } from './values.js';

const object = (stage: string, code: number, message?: string) => (arg: unknown) => {
  if (!isPlainDocument(arg)) throw new MongoLocationError(code, message ?? `${stage} specification stage must be an object, got ${bsonTypeName(arg)}`);
};

/** Stages mongod parses from an IDL definition answer a wrong type with TypeMismatch. */
const idlObject = (stage: string) => (arg: unknown) => {
  if (!isPlainDocument(arg)) throw new MongoServerError('TypeMismatch', `BSON field '${stage}' is the wrong type '${bsonTypeName(arg)}', expected type 'object'`);
};

const positiveInteger = (arg: unknown, notNumber: () => Error, negative: () => Error) => {
  if (!isNumeric(arg) || !Number.isInteger(toNumber(arg))) throw notNumber();
  if (toNumber(arg) < 0) throw negative();
};

const CHECKS: Record<string, (arg: unknown) => void> = {
  $match: object('$match', 15959, 'the match filter must be an expression in an object'),
  $project: (arg) => {
    object('$project', 15969, '$project specification must be an object')(arg);
    if (Object.keys(arg as Document).length === 0) throw new MongoLocationError(51272, 'Invalid $project :: caused by :: projection specification must have at least one field');
  },
  $addFields: object('$addFields', 40272),
  $set: object('$set', 40272),
  $group: (arg) => {
    object('$group', 15947, "a group's fields must be specified in an object")(arg);
    if (!('_id' in (arg as Document))) throw new MongoLocationError(15955, 'a group specification must include an _id');
  },
  $sort: (arg) => {
    object('$sort', 15973, 'the $sort key specification must be an object')(arg);
    if (Object.keys(arg as Document).length === 0) throw new MongoLocationError(15976, '$sort stage must have at least one sort key');
    for (const [key, dir] of Object.entries(arg as Document)) {
      if (isPlainDocument(dir)) continue; // { $meta: ... }
      if (!isNumeric(dir) || (toNumber(dir) !== 1 && toNumber(dir) !== -1)) {
        throw new MongoLocationError(15975, `$sort key ordering must be 1 (for ascending) or -1 (for descending)`);
      }
      if (key === '') throw new MongoLocationError(40352, 'FieldPath cannot be constructed with empty string');
    }
  },
  $limit: (arg) =>
    positiveInteger(
      arg,
      () => new MongoLocationError(15957, 'the limit must be specified as a number'),
      () => new MongoLocationError(15958, 'the limit must be positive'),
    ),
  $skip: (arg) =>
    positiveInteger(
      arg,
      () => new MongoLocationError(15972, 'Argument to $skip must be a number'),
      () => new MongoLocationError(15956, 'Argument to $skip cannot be negative'),
    ),
  $sample: (arg) => {
    if (!isPlainDocument(arg)) throw new MongoLocationError(28745, 'the $sample stage specification must be an object');
    if (arg.size === undefined) throw new MongoLocationError(28749, '$sample stage must specify a size');
    if (!isNumeric(arg.size)) throw new MongoLocationError(28746, 'size argument to $sample must be a number');
    if (toNumber(arg.size) < 0) throw new MongoLocationError(28747, 'size argument to $sample must not be negative');
  },
  $unwind: (arg) => {
    const path = isPlainDocument(arg) ? arg.path : arg;
    if (!isPlainDocument(arg) && typeof arg !== 'string') {
      throw new MongoLocationError(15981, `expected either a string or an object as specification for $unwind stage, got ${bsonTypeName(arg)}`);
    }
    if (typeof path !== 'string') throw new MongoLocationError(28812, 'no path specified to $unwind stage');
    if (!path.startsWith('$')) throw new MongoLocationError(28818, `path option to $unwind stage should be prefixed with a '$': ${path}`);
  },
  $count: (arg) => {
    if (typeof arg !== 'string' || arg === '') throw new MongoLocationError(40156, 'the count field must be a non-empty string');
    if (arg.startsWith('$')) throw new MongoLocationError(40158, 'the count field cannot be a $-prefixed path');
    if (arg.includes('.')) throw new MongoLocationError(40160, "the count field cannot contain '.'");
  },
  $unset: (arg) => {
    const fields = typeof arg === 'string' ? [arg] : arg;
    if (!Array.isArray(fields)) throw new MongoLocationError(31002, '$unset specification must be a string or an array');
    if (fields.length === 0) throw new MongoLocationError(31119, '$unset specification must be a string or an array with at least one field');
    if (fields.some((f) => typeof f !== 'string')) throw new MongoLocationError(31120, '$unset specification must be a string or an array containing only string values');
  },
  $replaceRoot: (arg) => {
    if (!isPlainDocument(arg)) throw new MongoLocationError(40229, `expected an object as specification for $replaceRoot stage, got ${bsonTypeName(arg)}`);
    if (arg.newRoot === undefined) throw new MongoLocationError(40231, "no newRoot specified for the $replaceRoot stage");
  },
  $replaceWith: () => undefined,
  $facet: (arg) => {
    if (!isPlainDocument(arg) || Object.keys(arg).length === 0) throw new MongoLocationError(40169, 'the $facet specification must be a non-empty object');
    for (const [name, sub] of Object.entries(arg)) {
      if (!Array.isArray(sub)) throw new MongoLocationError(40170, `arguments to $facet must be arrays, ${name} is type ${bsonTypeName(sub)}`);
      checkPipeline(sub as Document[], 'facet');
    }
  },
  $lookup: (arg) => {
    if (!isPlainDocument(arg)) throw failedToParse('the $lookup specification must be an Object');
    if (Array.isArray(arg.pipeline)) checkPipeline(arg.pipeline as Document[], 'lookup');
    else if (arg.pipeline !== undefined) throw new MongoServerError('TypeMismatch', "BSON field '$lookup.pipeline' is the wrong type, expected type 'array'");
  },
  $unionWith: (arg) => {
    if (typeof arg === 'string') return;
    if (!isPlainDocument(arg)) throw new MongoLocationError(40271, `the $unionWith stage specification must be an object or string, but found ${bsonTypeName(arg)}`);
    if (Array.isArray(arg.pipeline)) checkPipeline(arg.pipeline as Document[], 'unionWith');
  },
  $bucket: object('$bucket', 40201, 'Argument to $bucket stage must be an object'),
  $bucketAuto: (arg) => {
    object('$bucketAuto', 40240, 'The argument to $bucketAuto must be an object')(arg);
    const spec = arg as Document;
    if (spec.groupBy === undefined || spec.buckets === undefined) throw new MongoLocationError(40246, "$bucketAuto requires 'groupBy' and 'buckets' to be specified");
    if (!isNumeric(spec.buckets) || !Number.isInteger(toNumber(spec.buckets))) {
      throw new MongoLocationError(40241, `The $bucketAuto 'buckets' field must be a numeric value, but found type: ${bsonTypeName(spec.buckets)}`);
    }
    if (toNumber(spec.buckets) <= 0) throw new MongoLocationError(40243, `The $bucketAuto 'buckets' field must be greater than 0, but found: ${toNumber(spec.buckets)}`);
  },
  $sortByCount: (arg) => {
    if (!(typeof arg === 'string' && arg.startsWith('$')) && !isPlainDocument(arg)) {
      throw new MongoLocationError(40148, 'the sortByCount field must be defined as a $-prefixed path or an expression');
    }
  },
  $graphLookup: object('$graphLookup', 40327, 'the $graphLookup stage specification must be an object'),
  $redact: (arg) => {
    if (!isPlainDocument(arg) && typeof arg !== 'string') throw badValue(`$redact specification must be an expression, got ${bsonTypeName(arg)}`);
  },
  $densify: idlObject('$densify'),
  $fill: idlObject('$fill'),
  $setWindowFields: idlObject('$setWindowFields'),
  $out: (arg) => {
    if (typeof arg !== 'string' && !isPlainDocument(arg)) throw new MongoLocationError(16990, `$out only supports a string or object argument, not ${bsonTypeName(arg)}`);
    if (isPlainDocument(arg)) outNamespace(arg);
  },
  $merge: (arg) => {
    if (typeof arg !== 'string' && !isPlainDocument(arg)) throw new MongoLocationError(51182, `$merge only supports a string or object argument, not ${bsonTypeName(arg)}`);
    if (isPlainDocument(arg)) {
      if (!('into' in arg)) throw new MongoLocationError(40414, "BSON field '$merge.into' is missing but a required field");
      mergeNamespace(arg.into);
      checkMergeModes(arg);
    }
  },
};

const MERGE_FIELDS = new Set(['into', 'on', 'let', 'whenMatched', 'whenNotMatched', 'targetCollectionVersion']);
// mongod's enum also has 'pipeline', which only a pipeline given as whenMatched means: refused as a string here.
const WHEN_MATCHED = new Set(['replace', 'keepExisting', 'merge', 'fail']);
const WHEN_NOT_MATCHED = new Set(['insert', 'discard', 'fail']);

/**
 * $merge's other fields as mongod's IDL and DocumentSourceMerge::create check them: no unknown
 * field, whenMatched a mode or a pipeline, whenNotMatched a mode, `let` only with a pipeline and
 * never redefining `new`.
 */
function checkMergeModes(spec: Document): void {
  for (const key of Object.keys(spec)) {
    if (!MERGE_FIELDS.has(key)) throw new MongoLocationError(40415, `BSON field '$merge.${key}' is an unknown field.`);
  }
  mergeOnFields(spec.on);
  const { whenMatched, whenNotMatched } = spec;
  if (whenMatched !== undefined && whenMatched !== null) {
    if (typeof whenMatched !== 'string' && !Array.isArray(whenMatched)) {
      throw new MongoLocationError(51191, `$merge 'whenMatched' field  must be either a string or an array, but found ${bsonTypeName(whenMatched)}`);
    }
    if (typeof whenMatched === 'string' && !WHEN_MATCHED.has(whenMatched)) {
      throw new MongoServerError('BadValue', `Enumeration value '${whenMatched}' for field 'whenMatched' is not a valid value.`);
    }
  }
  if (whenNotMatched !== undefined && whenNotMatched !== null) {
    if (typeof whenNotMatched !== 'string') throw new MongoServerError('TypeMismatch', `BSON field '$merge.whenNotMatched' is the wrong type '${bsonTypeName(whenNotMatched)}', expected type 'string'`);
    if (!WHEN_NOT_MATCHED.has(whenNotMatched)) throw new MongoServerError('BadValue', `Enumeration value '${whenNotMatched}' for field '$merge.whenNotMatched' is not a valid value.`);
  }
  const letSpec = spec.let;
  if (letSpec === undefined || letSpec === null) return;
  if (!isPlainDocument(letSpec)) throw new MongoServerError('TypeMismatch', `BSON field '$merge.let' is the wrong type '${bsonTypeName(letSpec)}', expected type 'object'`);
  if (!Array.isArray(whenMatched)) {
    throw new MongoLocationError(51199, `Cannot use 'let' variables with 'whenMatched: ${typeof whenMatched === 'string' ? whenMatched : 'merge'}' mode`);
  }
  if ('new' in letSpec && letSpec.new !== '$$ROOT') {
    throw new MongoLocationError(51273, "'let' may not define a value for the reserved 'new' variable other than '$$ROOT'");
  }
}

/** Checks every stage's shape (also inside $facet, $lookup and $unionWith). */
export function checkPipeline(pipeline: unknown[], context: 'top' | 'facet' | 'lookup' | 'unionWith' = 'top'): void {
  pipeline.forEach((stage, i) => {
    if (!isPlainDocument(stage) || Object.keys(stage).length !== 1) {
      throw new MongoLocationError(40323, 'A pipeline stage specification object must contain exactly one field.');
    }
    const name = Object.keys(stage)[0];
    if (Object.hasOwn(CHECKS, name)) CHECKS[name](stage[name]);
    if (name === '$out' || name === '$merge') {
      // mongod's sub-pipeline validators refuse a writing stage wherever it stands in them.
      if (context === 'facet') throw new MongoLocationError(40600, `${name} is not allowed to be used within a $facet stage`);
      if (context === 'lookup') throw new MongoLocationError(51047, `${name} is not allowed within a $lookup's sub-pipeline`);
      if (context === 'unionWith') throw new MongoLocationError(31441, `${name} is not allowed within a $unionWith's sub-pipeline`);
      if (i !== pipeline.length - 1) throw new MongoLocationError(40601, `${name} can only be the final stage in the pipeline`);
    }
  });
}

/**
 * Where `$out` writes: a collection of the aggregate's database, or `{db, coll}` (both strings,
 * nothing else but mongod's `timeseries`, which is not supported here), checked as mongod's IDL
 * parser checks it. Internal databases and system collections are refused as mongod does.
 */
export function outNamespace(spec: unknown, currentDb?: string): { db: string; coll: string } {
  const target = typeof spec === 'string' ? { db: currentDb, coll: spec } : namespaceFields('$out', spec as Document, ['db', 'coll']);
  return checkOutputTarget('$out', target);
}

/**
 * Where `$merge` writes: `into` as a collection name, or `{db?, coll}` (db defaults to the aggregate's).
 * Without `currentDb` (checking a pipeline before it runs), the aggregate's own database is not checked.
 */
export function mergeNamespace(into: unknown, currentDb?: string): { db: string; coll: string } {
  // mongod's mergeTargetNssParseFromBSON, then its IDL NamespaceSpec ({db?, coll?}, strict).
  if (typeof into === 'string') {
    if (into === '') throw new MongoLocationError(5786800, "$merge 'into' field cannot be an empty string");
    return checkOutputTarget('$merge', { db: currentDb, coll: into });
  }
  if (!isPlainDocument(into)) throw new MongoLocationError(51178, `$merge 'into' field  must be either a string or an object, but found ${bsonTypeName(into)}`);
  const target = namespaceFields('into', into, []);
  if (!target.coll) throw new MongoLocationError(5786801, "$merge 'into' field must specify a 'coll' that is not empty, null or undefined");
  return checkOutputTarget('$merge', { db: target.db || currentDb, coll: target.coll });
}

/**
 * `{db, coll}` as mongod's IDL parses it: field by field in the document's order (an unknown field
 * 40415, a wrong type 14; null or undefined counts as absent), then the required fields (40414).
 */
function namespaceFields(field: string, spec: Document, required: Array<'db' | 'coll'>): { db: string; coll: string } {
  const found: { db?: string; coll?: string } = {};
  for (const [key, value] of Object.entries(spec)) {
    if (key === 'timeseries' && field === '$out') throw new MongoServerError('IllegalOperation', '$out to a time-series collection is not supported by this store');
    if (key !== 'db' && key !== 'coll') throw new MongoLocationError(40415, `BSON field '${field}.${key}' is an unknown field.`);
    if (value === null || value === undefined) continue;
    if (typeof value !== 'string') throw new MongoServerError('TypeMismatch', `BSON field '${field}.${key}' is the wrong type '${bsonTypeName(value)}', expected type 'string'`);
    found[key] = value;
  }
  for (const key of required) {
    if (found[key] === undefined) throw new MongoLocationError(40414, `BSON field '${field}.${key}' is missing but a required field`);
  }
  return { db: found.db ?? '', coll: found.coll ?? '' };
}

/**
 * mongod's NamespaceString::isValid (a database name of 1-63 characters without / \\ . space " or
 * NUL, a collection name that is not empty; no NUL anywhere), then system collections and internal
 * databases. A database left undefined is the aggregate's own, valid already.
 */
function checkOutputTarget(stage: string, target: { db: string | undefined; coll: string }): { db: string; coll: string } {
  const db = target.db;
  const validDb = db === undefined || (db !== '' && db.length < 64 && !/[/\\. "\0]/.test(db));
  if (!validDb || target.coll === '' || target.coll.includes('\0')) {
    throw new MongoServerError('InvalidNamespace', `Invalid ${stage} target namespace, ${db ?? ''}.${target.coll}`);
  }
  if (db === 'admin' || db === 'local' || db === 'config') {
    throw new MongoLocationError(31321, `Can't ${stage} to internal database: ${db}`);
  }
  if (target.coll.startsWith('system.')) throw new MongoLocationError(17385, `Can't ${stage} to special collection: ${target.coll}`);
  return { db: db ?? '', coll: target.coll };
}

/** $merge's `on`: one field or an array of them (mongod's mergeOnFieldsParseFromBSON); `_id` when absent. */
export function mergeOnFields(on: unknown): string[] {
  if (on === undefined || on === null) return ['_id'];
  if (typeof on === 'string') return [on];
  if (!Array.isArray(on)) throw new MongoLocationError(51186, `$merge 'on' field  must be either a string or an array of strings, but found ${bsonTypeName(on)}`);
  for (const field of on) {
    if (typeof field !== 'string') throw new MongoLocationError(51134, `$merge 'on' array elements must be strings, but found ${bsonTypeName(field)}`);
  }
  if (on.length === 0) throw new MongoLocationError(51187, "If explicitly specifying $merge 'on', must include at least one field");
  return on as string[];
}
