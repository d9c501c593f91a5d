// The "Evaluating Matches" rules of MongoDB's unified test format.
//
// `matches(expected, actual)` returns a list of human-readable mismatches (empty = match).
// Root-level documents may carry extra keys in the actual value; nested ones may not.
// `$$exists`, `$$type`, `$$unsetOrMatches`, `$$sessionLsid`, `$$matchesEntity`, `$$lte`,
// `$$matchAsRoot` and `$$matchAsDocument` are understood; anything else beginning with `$$`
// is reported as a mismatch (an unknown operator must never pass silently).
import { EJSON } from 'bson';

export interface MatchContext {
  /** Look up an entity (session lsid, saved value) by name; throws if unknown. */
  entity?: (name: string) => unknown;
}

type Doc = Record<string, unknown>;

/** A plain document as opposed to a BSON value object (ObjectId, Long, Binary...) or array. */
export function isPlainDocument(v: unknown): v is Doc {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  if ((v as { _bsontype?: unknown })._bsontype !== undefined) return false;
  if (v instanceof Date || v instanceof RegExp || v instanceof Uint8Array || v instanceof Map) return false;
  return true;
}

function bsonType(v: unknown): string | undefined {
  return v !== null && typeof v === 'object' ? ((v as { _bsontype?: string })._bsontype) : undefined;
}

/** The numeric value of a JS number or a BSON Int32/Long/Double, or undefined (Decimal128 excluded). */
export function numericValue(v: unknown): number | bigint | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v;
  switch (bsonType(v)) {
    case 'Int32':
    case 'Double':
      return (v as { valueOf(): number }).valueOf();
    case 'Long':
      return (v as { toBigInt(): bigint }).toBigInt();
    default:
      return undefined;
  }
}

function numEq(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    // Compare exactly when both are integral; a non-integral double never equals a Long.
    const toBig = (x: number | bigint) =>
      typeof x === 'bigint' ? x : Number.isInteger(x) ? BigInt(x) : undefined;
    const ba = toBig(a);
    const bb = toBig(b);
    return ba !== undefined && bb !== undefined && ba === bb;
  }
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function numLte(actual: number | bigint, limit: number | bigint): boolean {
  if (typeof actual === 'bigint' || typeof limit === 'bigint') return Number(actual) <= Number(limit);
  return actual <= limit;
}

/** The $type alias names of a value as MongoDB's `$type` query operator would report them. */
export function typeNamesOf(v: unknown): string[] {
  if (v === undefined) return [];
  if (v === null) return ['null'];
  if (typeof v === 'string') return ['string'];
  if (typeof v === 'boolean') return ['bool'];
  if (typeof v === 'bigint') return ['long', 'number'];
  if (typeof v === 'number') {
    // The driver promotes int32/int64/double to JS numbers; an integral value may have been any.
    if (!Number.isInteger(v)) return ['double', 'number'];
    const names = Math.abs(v) <= 2147483647 ? ['int', 'long', 'double'] : ['long', 'double'];
    return [...names, 'number'];
  }
  if (Array.isArray(v)) return ['array'];
  if (v instanceof Date) return ['date'];
  if (v instanceof RegExp) return ['regex'];
  switch (bsonType(v)) {
    case 'ObjectId': return ['objectId'];
    case 'Int32': return ['int', 'number'];
    case 'Long': return ['long', 'number'];
    case 'Double': return ['double', 'number'];
    case 'Decimal128': return ['decimal', 'number'];
    case 'Binary': return ['binData'];
    case 'BSONRegExp': return ['regex'];
    case 'Timestamp': return ['timestamp'];
    case 'MinKey': return ['minKey'];
    case 'MaxKey': return ['maxKey'];
    case 'Code': return [(v as { scope?: unknown }).scope ? 'javascriptWithScope' : 'javascript'];
    case 'BSONSymbol': return ['symbol'];
    case 'DBRef': return ['object'];
    case undefined: return ['object'];
    default: return [];
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  try {
    return EJSON.stringify(v as never, { relaxed: true });
  } catch {
    return String(v);
  }
}

function specialOperator(v: unknown): [string, unknown] | undefined {
  if (!isPlainDocument(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0]!.startsWith('$$')) return [keys[0]!, v[keys[0]!]];
  return undefined;
}

/** Byte/structure equality for BSON scalars that are not numbers. */
function scalarEquals(expected: unknown, actual: unknown): boolean {
  const en = numericValue(expected);
  const an = numericValue(actual);
  if (en !== undefined || an !== undefined) return en !== undefined && an !== undefined && numEq(en, an);
  if (expected === actual) return true;
  if (typeof expected !== 'object' || typeof actual !== 'object' || expected === null || actual === null) return false;
  if (expected instanceof Date && actual instanceof Date) return expected.getTime() === actual.getTime();
  if (expected instanceof RegExp && actual instanceof RegExp)
    return expected.source === actual.source && expected.flags === actual.flags;
  const et = bsonType(expected);
  const at = bsonType(actual);
  if (et !== at) return false;
  return EJSON.stringify(expected as never, { relaxed: false }) === EJSON.stringify(actual as never, { relaxed: false });
}

/**
 * Match `actual` against `expected`. `root` says whether extra keys are permitted in `actual`
 * (for root-level documents only).
 */
export function matches(expected: unknown, actual: unknown, root = true, ctx: MatchContext = {}): string[] {
  const errors: string[] = [];
  matchAt(expected, actual, root, '$', errors, ctx);
  return errors;
}

function matchAt(expected: unknown, actualIn: unknown, root: boolean, path: string, errors: string[], ctx: MatchContext): void {
  // The driver sends some documents (e.g. `sort`) as Maps to keep their key order.
  const actual = actualIn instanceof Map ? Object.fromEntries(actualIn) : actualIn;
  const op = specialOperator(expected);
  if (op) {
    matchOperator(op[0], op[1], actual, root, path, errors, ctx, actual !== undefined);
    return;
  }
  if (isPlainDocument(expected)) {
    if (!isPlainDocument(actual)) {
      errors.push(`${path}: expected a document ${show(expected)}, got ${show(actual)}`);
      return;
    }
    for (const [key, value] of Object.entries(expected)) {
      const sub = `${path}.${key}`;
      const keyOp = specialOperator(value);
      const present = Object.prototype.hasOwnProperty.call(actual, key) && actual[key] !== undefined;
      if (keyOp) {
        matchOperator(keyOp[0], keyOp[1], present ? actual[key] : undefined, false, sub, errors, ctx, present);
        continue;
      }
      if (!present) {
        errors.push(`${sub}: missing (expected ${show(value)})`);
        continue;
      }
      matchAt(value, actual[key], false, sub, errors, ctx);
    }
    if (!root) {
      for (const key of Object.keys(actual)) {
        if (actual[key] === undefined) continue;
        if (!Object.prototype.hasOwnProperty.call(expected, key)) {
          errors.push(`${path}.${key}: unexpected extra field ${show(actual[key])}`);
        }
      }
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) {
      errors.push(`${path}: expected an array ${show(expected)}, got ${show(actual)}`);
      return;
    }
    if (actual.length !== expected.length) {
      errors.push(`${path}: expected ${expected.length} elements, got ${actual.length}: ${show(actual)}`);
      return;
    }
    expected.forEach((e, i) => matchAt(e, actual[i], false, `${path}[${i}]`, errors, ctx));
    return;
  }
  if (!scalarEquals(expected, actual)) {
    errors.push(`${path}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

function matchOperator(
  name: string,
  arg: unknown,
  actual: unknown,
  root: boolean,
  path: string,
  errors: string[],
  ctx: MatchContext,
  present: boolean,
): void {
  switch (name) {
    case '$$exists':
      if (Boolean(arg) !== present) {
        errors.push(`${path}: expected ${arg ? 'to exist' : `not to exist, got ${show(actual)}`}`);
      }
      return;
    case '$$unsetOrMatches':
      if (!present) return;
      // Does not change root-ness: an unset-or-matching root result is still a root document.
      matchAt(arg, actual, root, path, errors, ctx);
      return;
    case '$$type': {
      const wanted = Array.isArray(arg) ? (arg as string[]) : [arg as string];
      if (!present) {
        errors.push(`${path}: expected a value of type ${wanted.join('|')}, got nothing`);
        return;
      }
      const have = typeNamesOf(actual);
      if (!wanted.some((w) => have.includes(w))) {
        errors.push(`${path}: expected type ${wanted.join('|')}, got ${have.join('|') || 'unknown'} (${show(actual)})`);
      }
      return;
    }
    case '$$sessionLsid':
    case '$$matchesEntity': {
      if (!ctx.entity) throw new Error(`${name} used without an entity map`);
      const entity = ctx.entity(String(arg));
      const want = name === '$$sessionLsid' ? (entity as { id?: unknown }).id : entity;
      if (want === undefined) throw new Error(`${name}: entity ${String(arg)} has no value to match`);
      if (!present) {
        errors.push(`${path}: expected ${name} ${String(arg)}, got nothing`);
        return;
      }
      matchAt(want, actual, false, path, errors, ctx);
      return;
    }
    case '$$lte': {
      const a = numericValue(actual);
      const l = numericValue(arg);
      if (a === undefined || l === undefined || !numLte(a, l)) {
        errors.push(`${path}: expected a number <= ${show(arg)}, got ${show(actual)}`);
      }
      return;
    }
    case '$$matchAsRoot':
      if (!present) {
        errors.push(`${path}: expected a document, got nothing`);
        return;
      }
      matchAt(arg, actual, true, path, errors, ctx);
      return;
    case '$$matchAsDocument': {
      if (typeof actual !== 'string') {
        errors.push(`${path}: expected an extended JSON string, got ${show(actual)}`);
        return;
      }
      matchAt(arg, EJSON.parse(actual, { relaxed: false }), false, path, errors, ctx);
      return;
    }
    default:
      errors.push(`${path}: unsupported special operator ${name}`);
  }
}

/**
 * Exact equality for collection contents (`outcome`): no special operators, no extra keys at
 * any level, key order ignored, numbers compared by value.
 */
export function exactlyEqual(expected: unknown, actual: unknown, path = '$'): string[] {
  const errors: string[] = [];
  const walk = (e: unknown, a: unknown, p: string): void => {
    if (isPlainDocument(e)) {
      if (!isPlainDocument(a)) {
        errors.push(`${p}: expected a document ${show(e)}, got ${show(a)}`);
        return;
      }
      const ek = Object.keys(e).filter((k) => e[k] !== undefined);
      const ak = Object.keys(a).filter((k) => a[k] !== undefined);
      for (const k of ek) {
        if (!Object.prototype.hasOwnProperty.call(a, k) || a[k] === undefined) errors.push(`${p}.${k}: missing (expected ${show(e[k])})`);
        else walk(e[k], a[k], `${p}.${k}`);
      }
      for (const k of ak) if (!ek.includes(k)) errors.push(`${p}.${k}: unexpected extra field ${show(a[k])}`);
      return;
    }
    if (Array.isArray(e)) {
      if (!Array.isArray(a) || a.length !== e.length) {
        errors.push(`${p}: expected ${show(e)}, got ${show(a)}`);
        return;
      }
      e.forEach((x, i) => walk(x, a[i], `${p}[${i}]`));
      return;
    }
    if (!scalarEquals(e, a)) errors.push(`${p}: expected ${show(e)}, got ${show(a)}`);
  };
  walk(expected, actual, path);
  return errors;
}
