// Aggregation expression operators mongod 7.0 has and mingo lacks, added to mingo's context so
// a pipeline that uses them runs as on mongod instead of failing with "Unrecognized expression":
// $toObjectId (string ids joined to ObjectId ones), $indexOfCP, $bsonSize, $binarySize,
// $tsSecond and $tsIncrement. Errors carry mongod's codes and messages.
import { Binary, Long, Timestamp, calculateObjectSize } from 'bson';
import { Context, evalExpr } from 'mingo/core';
import { MongoLocationError, MongoServerError } from './errors.js';
import { ObjectId, bsonTypeName, isPlainDocument } from './values.js';

type Operator = (obj: unknown, expr: unknown, options: Parameters<typeof evalExpr>[2]) => unknown;

/** A one-argument operator may be written `{ $op: x }` or `{ $op: [x] }`. */
function single(name: string, expr: unknown): unknown {
  if (!Array.isArray(expr)) return expr;
  if (expr.length !== 1) throw new MongoLocationError(16020, `Expression ${name} takes exactly 1 arguments. ${expr.length} were passed in.`);
  return expr[0];
}

const isNil = (v: unknown) => v === null || v === undefined;

const $toObjectId: Operator = (obj, expr, options) => {
  const value = evalExpr(obj, single('$toObjectId', expr), options);
  if (isNil(value)) return null;
  if (value instanceof ObjectId) return value;
  if (typeof value === 'string') {
    if (value.length !== 24) {
      throw new MongoServerError('ConversionFailure', `Failed to parse objectId '${value}' in $convert with no onError value: Invalid string length for parsing to OID, expected 24 but found ${value.length}`);
    }
    if (!/^[0-9a-fA-F]{24}$/.test(value)) {
      throw new MongoServerError('ConversionFailure', `Failed to parse objectId '${value}' in $convert with no onError value: Invalid character found in hex string: '${value.match(/[^0-9a-fA-F]/)![0]}'`);
    }
    return new ObjectId(value);
  }
  throw new MongoServerError('ConversionFailure', `Unsupported conversion from ${bsonTypeName(value)} to objectId in $convert with no onError value`);
};

const $indexOfCP: Operator = (obj, expr, options) => {
  if (!Array.isArray(expr) || expr.length < 2 || expr.length > 4) {
    throw new MongoLocationError(16020, `Expression $indexOfCP takes at least 2 arguments, and at most 4, but ${Array.isArray(expr) ? expr.length : 1} were passed in.`);
  }
  const [string, token, start, end] = evalExpr(obj, expr, options) as unknown[];
  if (isNil(string)) return null;
  if (typeof string !== 'string') throw new MongoLocationError(40093, `$indexOfCP requires a string as the first argument, found: ${bsonTypeName(string)}`);
  if (typeof token !== 'string') throw new MongoLocationError(40094, `$indexOfCP requires a string as the second argument, found: ${bsonTypeName(token)}`);
  const points = Array.from(string);
  const needle = Array.from(token);
  const index = (v: unknown, which: string, fallback: number): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new MongoLocationError(40096, `$indexOfCP requires an integral ${which} index, found a value of type: ${bsonTypeName(v)}, with value: ${String(v)}`);
    if (v < 0) throw new MongoLocationError(40097, `$indexOfCP requires a nonnegative ${which} index, found: ${v}`);
    return v;
  };
  const from = index(start, 'starting', 0);
  const to = Math.min(index(end, 'ending', points.length), points.length);
  for (let i = from; i + needle.length <= to; i++) {
    let k = 0;
    while (k < needle.length && points[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
};

const $bsonSize: Operator = (obj, expr, options) => {
  const value = evalExpr(obj, single('$bsonSize', expr), options);
  if (isNil(value)) return null;
  if (!isPlainDocument(value)) throw new MongoLocationError(31393, `$bsonSize requires a document input, found: ${bsonTypeName(value)}`);
  return calculateObjectSize(value);
};

const $binarySize: Operator = (obj, expr, options) => {
  const value = evalExpr(obj, single('$binarySize', expr), options);
  if (isNil(value)) return null;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (value instanceof Binary) return value.length();
  throw new MongoLocationError(51276, `$binarySize requires a string or BinData argument, found: ${bsonTypeName(value)}`);
};

function timestampPart(name: '$tsSecond' | '$tsIncrement', part: 't' | 'i'): Operator {
  return (obj, expr, options) => {
    const value = evalExpr(obj, single(name, expr), options);
    if (isNil(value)) return null;
    if (!(value instanceof Timestamp)) throw new MongoLocationError(5687301, `Argument to ${name} must be a Timestamp, but is ${bsonTypeName(value)}`);
    return Long.fromNumber(part === 't' ? value.t : value.i);
  };
}

/** The operators above, for mingo's `context` option (merged with mingo's own). */
export const extraOperators = Context.init({
  expression: {
    $toObjectId,
    $indexOfCP,
    $bsonSize,
    $binarySize,
    $tsSecond: timestampPart('$tsSecond', 't'),
    $tsIncrement: timestampPart('$tsIncrement', 'i'),
  } as never,
});
