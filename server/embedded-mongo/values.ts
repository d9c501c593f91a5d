// BSON value semantics on documents deserialized with promoteValues:false: MongoDB's cross-type
// comparison order, numeric equality across Int32/Long/Double/Decimal128, cloning and dotted paths.
import { Decimal128, Double, Int32, Long, ObjectId } from 'bson';

export type Document = Record<string, unknown>;

/** Something that can order strings differently (collation). Default is binary order. */
export type StringComparer = (a: string, b: string) => number;

const binaryStringOrder: StringComparer = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Plain objects and arrays are the common case: answer them without reading `_bsontype`. */
export function bsonType(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const ctor = (value as object).constructor;
  if (ctor === Object || ctor === Array) return undefined;
  // bson 7 defines _bsontype as a prototype getter; cache it per class.
  let name = bsonTypeByClass.get(ctor);
  if (name === undefined) {
    name = (value as { _bsontype?: string })._bsontype ?? '';
    bsonTypeByClass.set(ctor, name);
  }
  return name === '' ? undefined : name;
}

const bsonTypeByClass = new Map<unknown, string>();

export function isRegexValue(value: unknown): boolean {
  return value instanceof RegExp || bsonType(value) === 'BSONRegExp';
}

export function isPlainDocument(value: unknown): value is Document {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value) || value instanceof Date || value instanceof RegExp) return false;
  if (bsonType(value) !== undefined) return false;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return false;
  return true;
}

export function isNumeric(value: unknown): boolean {
  if (typeof value === 'number' || typeof value === 'bigint') return true;
  const t = bsonType(value);
  return t === 'Int32' || t === 'Double' || t === 'Long' || t === 'Decimal128';
}

/** Best-effort JS number for any numeric BSON value (Decimal128 and big Longs lose precision). */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  switch (bsonType(value)) {
    case 'Int32':
    case 'Double':
      return (value as Int32 | Double).value;
    case 'Long':
      return (value as Long).toNumber();
    case 'Decimal128':
      return Number((value as Decimal128).toString());
    default:
      return Number.NaN;
  }
}

/** Integer-valued command arguments (limit, skip, batchSize...) arrive as Int32/Long/Double. */
export function toInteger(value: unknown, fallback = 0): number {
  if (value === undefined || value === null) return fallback;
  const n = toNumber(value);
  return Number.isFinite(n) ? Math.trunc(n) : fallback;
}

export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (isNumeric(value)) return toNumber(value) !== 0;
  return true;
}

/** Canonical type class in MongoDB's comparison order. */
export function typeOrder(value: unknown): number {
  if (value === undefined || value === null) return 2;
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 3;
    case 'string':
      return 4;
    case 'boolean':
      return 9;
    default:
  }
  const ctor = (value as object).constructor;
  if (ctor === Object) return 5;
  if (ctor === Array) return 6;
  if (Array.isArray(value)) return 6;
  if (value instanceof Date) return 10;
  if (value instanceof RegExp) return 12;
  switch (bsonType(value)) {
    case 'MinKey':
      return 1;
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return 3;
    case 'BSONSymbol':
      return 4;
    case 'Binary':
      return 7;
    case 'ObjectId':
      return 8;
    case 'Timestamp':
      return 11;
    case 'BSONRegExp':
      return 12;
    case 'Code':
      return 13;
    case 'MaxKey':
      return 100;
    case undefined:
      return 5;
    default:
      return 5;
  }
}

function isExactInteger(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  const t = bsonType(value);
  return t === 'Int32' || t === 'Long' || (typeof value === 'number' && Number.isInteger(value));
}

function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (bsonType(value) === 'Long') return (value as Long).toBigInt();
  return BigInt(toNumber(value));
}

export function compareNumbers(a: unknown, b: unknown): number {
  // Longs beyond 2^53 compare exactly against other integers.
  if ((bsonType(a) === 'Long' || bsonType(b) === 'Long') && isExactInteger(a) && isExactInteger(b)) {
    const x = toBigInt(a);
    const y = toBigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = toNumber(a);
  const y = toNumber(b);
  // MongoDB orders NaN below every other number and equal to itself.
  if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
  if (Number.isNaN(y)) return 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Byte-wise order without allocating: index lookups compare ObjectIds millions of times. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

function regexParts(value: unknown): [string, string] {
  if (value instanceof RegExp) return [value.source, value.flags];
  const r = value as { pattern: string; options: string };
  return [r.pattern, r.options];
}

interface PackedObjectId {
  i0?: number;
  i1?: number;
  i2?: number;
  i3?: number;
}

/**
 * bson 7 keeps an ObjectId as four big-endian 24-bit groups (i0..i3) and builds a new Buffer for
 * every `.id` read; comparing the groups gives byte order without allocating.
 */
function compareObjectIds(a: ObjectId, b: ObjectId): number {
  const x = a as unknown as PackedObjectId;
  const y = b as unknown as PackedObjectId;
  if (typeof x.i0 === 'number' && typeof y.i0 === 'number') {
    return x.i0 - y.i0 || x.i1! - y.i1! || x.i2! - y.i2! || x.i3! - y.i3!;
  }
  return compareBytes(a.id, b.id);
}

/** Total order over BSON values, as MongoDB sorts and compares them. */
export function compareValues(a: unknown, b: unknown, strings: StringComparer = binaryStringOrder): number {
  const ta = typeOrder(a);
  const tb = typeOrder(b);
  if (ta !== tb) return ta - tb;
  switch (ta) {
    case 1:
    case 2:
    case 100:
      return 0;
    case 3:
      return compareNumbers(a, b);
    case 4:
      return strings(String(a), String(b));
    case 5:
      return compareDocuments(a as Document, b as Document, strings);
    case 6:
      return compareArrays(a as unknown[], b as unknown[], strings);
    case 7: {
      const x = a as { buffer: Uint8Array; sub_type: number };
      const y = b as { buffer: Uint8Array; sub_type: number };
      if (x.buffer.length !== y.buffer.length) return x.buffer.length - y.buffer.length;
      if (x.sub_type !== y.sub_type) return x.sub_type - y.sub_type;
      return compareBytes(x.buffer, y.buffer);
    }
    case 8:
      return compareObjectIds(a as ObjectId, b as ObjectId);
    case 9:
      return a === b ? 0 : a ? 1 : -1;
    case 10:
      return Math.sign((a as Date).getTime() - (b as Date).getTime());
    case 11: {
      const x = (a as Long).toBigInt();
      const y = (b as Long).toBigInt();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 12: {
      const [pa, fa] = regexParts(a);
      const [pb, fb] = regexParts(b);
      return binaryStringOrder(pa, pb) || binaryStringOrder(fa, fb);
    }
    default:
      return binaryStringOrder(String(a), String(b));
  }
}

function compareDocuments(a: Document, b: Document, strings: StringComparer): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const byType = typeOrder(a[ka[i]]) - typeOrder(b[kb[i]]);
    if (byType !== 0) return byType;
    const byName = binaryStringOrder(ka[i], kb[i]);
    if (byName !== 0) return byName;
    const byValue = compareValues(a[ka[i]], b[kb[i]], strings);
    if (byValue !== 0) return byValue;
  }
  return ka.length - kb.length;
}

function compareArrays(a: unknown[], b: unknown[], strings: StringComparer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i], b[i], strings);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

export function valuesEqual(a: unknown, b: unknown, strings?: StringComparer): boolean {
  return compareValues(a, b, strings) === 0;
}

/**
 * Copy of a document tree: plain objects and arrays are copied, BSON leaf values are shared
 * (they are never mutated in place), so stored documents stay immutable snapshots.
 */
export function cloneDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneDeep) as T;
  if (isPlainDocument(value)) {
    const out: Document = {};
    for (const key of Object.keys(value)) out[key] = cloneDeep(value[key]);
    return out as T;
  }
  return value;
}

/** Value at a dotted path without array traversal except numeric positions. */
export function getPath(doc: unknown, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(part)) return undefined;
      current = current[Number(part)];
    } else if (isPlainDocument(current)) {
      current = current[part];
    } else {
      return undefined;
    }
  }
  return current;
}

/** Mongo shell-like rendering used inside error messages, e.g. `{ email: "a@b.c" }`. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[ ${value.map(formatValue).join(', ')} ]`;
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (value instanceof RegExp) return String(value);
  switch (bsonType(value)) {
    case 'Int32':
    case 'Double':
      return String((value as Int32).value);
    case 'Long':
      return `${(value as Long).toString()}`;
    case 'Decimal128':
      return `Decimal128("${(value as Decimal128).toString()}")`;
    case 'ObjectId':
      return `ObjectId('${(value as ObjectId).toHexString()}')`;
    case 'BSONRegExp': {
      const [p, f] = regexParts(value);
      return `/${p}/${f}`;
    }
    case undefined:
      break;
    default:
      return String(value);
  }
  const doc = value as Document;
  const entries = Object.keys(doc).map((k) => `${k}: ${formatValue(doc[k])}`);
  return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
}

export function bsonTypeName(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 'int' : 'double';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  switch (bsonType(value)) {
    case 'Int32':
      return 'int';
    case 'Double':
      return 'double';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'ObjectId':
      return 'objectId';
    case 'Binary':
      return 'binData';
    case 'Timestamp':
      return 'timestamp';
    case 'BSONRegExp':
      return 'regex';
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    case 'Code':
      return 'javascript';
    case 'BSONSymbol':
      return 'symbol';
    default:
      return 'object';
  }
}

export { Decimal128, Double, Int32, Long, ObjectId };
