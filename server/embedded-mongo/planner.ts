// Picks an index for a filter so equality and range lookups on indexed fields skip the full scan.
// The plan only narrows candidates: callers still run the full matcher on each candidate.
import type { Index, IndexBound } from './indexes.js';
import type { Document } from './values.js';
import { compareValues, isPlainDocument, isRegexValue, typeOrder } from './values.js';

/** Values that an index equality lookup finds exactly (arrays and regexes match differently). */
function isLookupLiteral(value: unknown): boolean {
  if (value === undefined || Array.isArray(value) || isRegexValue(value)) return false;
  if (typeOrder(value) === 1 || typeOrder(value) === 100) return false;
  return !(isPlainDocument(value) && Object.keys(value).some((k) => k.startsWith('$')));
}

interface FieldPlan {
  index: Index;
  /** Lower is better: equality lookups beat ranges. */
  cost: number;
  run: () => number[];
}

function planField(index: Index, condition: unknown): FieldPlan | undefined {
  // An equality on a unique single-field index (_id) finds at most one document: it beats an
  // equality on the first field of a wider index ({ meetingId, _id } must not walk the meeting).
  const equalityCost = index.unique && index.fields.length === 1 ? 0 : 1;
  if (!isPlainDocument(condition) || !Object.keys(condition)[0]?.startsWith('$')) {
    if (!isLookupLiteral(condition)) return undefined;
    return { index, cost: equalityCost, run: () => index.lookupEqual(condition) };
  }
  if ('$eq' in condition && isLookupLiteral(condition.$eq)) {
    return { index, cost: equalityCost, run: () => index.lookupEqual(condition.$eq) };
  }
  if (Array.isArray(condition.$in) && condition.$in.every(isLookupLiteral)) {
    const values = condition.$in;
    return { index, cost: 2, run: () => [...new Set(values.flatMap((v) => index.lookupEqual(v)))] };
  }
  const bounds = comparisonBounds(condition, index.multikey);
  if (!bounds) return undefined;
  return { index, cost: 3, run: () => index.lookupRange(bounds.lower, bounds.upper) };
}

/** Index bounds from $gt/$gte/$lt/$lte, or undefined when a range scan could miss matches. */
function comparisonBounds(condition: Document, multikey: boolean): { lower?: IndexBound; upper?: IndexBound } | undefined {
  let lower: IndexBound | undefined;
  let upper: IndexBound | undefined;
  for (const op of ['$gt', '$gte'] as const) {
    if (op in condition && isLookupLiteral(condition[op]) && !isPlainDocument(condition[op])) lower = { value: condition[op], inclusive: op === '$gte' };
  }
  for (const op of ['$lt', '$lte'] as const) {
    if (op in condition && isLookupLiteral(condition[op]) && !isPlainDocument(condition[op])) upper = { value: condition[op], inclusive: op === '$lte' };
  }
  if (lower && upper && typeOrder(lower.value) !== typeOrder(upper.value)) return undefined;
  // Null bounds also match missing fields in ways a range scan would not reproduce.
  if ((lower && lower.value === null) || (upper && upper.value === null)) return undefined;
  // On a multikey index one element may satisfy $gt and another $lt: use one bound only.
  if (multikey && lower && upper) upper = undefined;
  if (!lower && !upper) return undefined;
  return { lower, upper };
}

/** Candidate record ids for the filter, or undefined when no index helps (full scan). */
export function planCandidates(filter: Document | undefined, indexes: Index[]): number[] | undefined {
  if (!filter) return undefined;
  const compound = planCompoundCandidates(filter, indexes);
  if (compound) return compound;
  let best: FieldPlan | undefined;
  for (const field of Object.keys(filter)) {
    if (field.startsWith('$')) continue;
    for (const index of indexes) {
      if (!index.coversAllDocuments || index.fields[0].name !== field) continue;
      const plan = planField(index, filter[field]);
      if (plan && (!best || plan.cost < best.cost)) best = plan;
    }
  }
  if (!best && Array.isArray(filter.$and)) {
    for (const sub of filter.$and) {
      if (!isPlainDocument(sub)) continue;
      const rids = planCandidates(sub, indexes);
      if (rids) return rids;
    }
  }
  return best?.run();
}

// ---- compound plans: equality on an index's leading fields, then a range or an order on the next

/** The filter's conditions per field, top level and inside $and (all must hold). */
function conditionsByField(filter: Document): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  const add = (doc: Document) => {
    for (const [field, condition] of Object.entries(doc)) {
      if (field === '$and' && Array.isArray(condition)) {
        for (const sub of condition) if (isPlainDocument(sub)) add(sub);
      } else if (!field.startsWith('$')) {
        const list = out.get(field);
        if (list) list.push(condition);
        else out.set(field, [condition]);
      }
    }
  };
  add(filter);
  return out;
}

function equalityOf(condition: unknown): { value: unknown } | undefined {
  if (!isPlainDocument(condition) || !Object.keys(condition)[0]?.startsWith('$')) return isLookupLiteral(condition) ? { value: condition } : undefined;
  if ('$eq' in condition && isLookupLiteral(condition.$eq)) return { value: condition.$eq };
  return undefined;
}

/** The values a field must equal one of: an equality, or an `$in` of plain literals. */
function equalValuesOf(condition: unknown): unknown[] | undefined {
  const equal = equalityOf(condition);
  if (equal) return [equal.value];
  if (isPlainDocument(condition) && Object.keys(condition).length === 1 && Array.isArray(condition.$in) && condition.$in.every(isLookupLiteral)) {
    // Repeated values scan the same entries twice; the caller's Set drops the repeats.
    return condition.$in;
  }
  return undefined;
}

function singleValueOf(condition: unknown): unknown[] | undefined {
  const equal = equalityOf(condition);
  return equal ? [equal.value] : undefined;
}

/** More prefix combinations than this and a scan of the index's own range is cheaper. */
const MAX_PREFIX_COMBINATIONS = 1000;

/**
 * Whether the index holds every document the filter can match: a full index always; a partial
 * one when each condition of its partialFilterExpression is an equality the filter makes too
 * (`{isMain: true}`), or an `$exists: true` on a field the filter equates to a non-null value.
 */
function servesFilter(index: Index, conditions: Map<string, unknown[]>): boolean {
  if (index.coversAllDocuments) return true;
  const partial = index.spec.partialFilterExpression;
  if (index.kind !== 'btree' || index.sparse || isPlainDocument(index.spec.collation) || !isPlainDocument(partial)) return false;
  return Object.entries(partial).every(([field, required]) => {
    if (field.startsWith('$')) return false;
    const equals = (conditions.get(field) ?? []).map(equalityOf).filter((e) => e !== undefined);
    const requiredEqual = equalityOf(required);
    if (requiredEqual) return equals.some((e) => compareValues(e.value, requiredEqual.value) === 0);
    const existsOnly = isPlainDocument(required) && Object.keys(required).length === 1 && required.$exists === true;
    return existsOnly && equals.some((e) => e.value !== null);
  });
}

/** The literal prefix of an anchored, case-sensitive regex ("^nguyen"), if that is all it needs. */
function regexPrefix(condition: unknown): string | undefined {
  let source: unknown;
  let flags: unknown = '';
  if (condition instanceof RegExp) {
    source = condition.source;
    flags = condition.flags;
  } else if ((condition as { _bsontype?: string } | null)?._bsontype === 'BSONRegExp') {
    source = (condition as { pattern: string }).pattern;
    flags = (condition as { options: string }).options;
  } else if (isPlainDocument(condition) && '$regex' in condition && Object.keys(condition).every((k) => k === '$regex' || k === '$options')) {
    return regexPrefix(condition.$regex instanceof RegExp || typeof condition.$regex !== 'string' ? condition.$regex : new RegExp(condition.$regex, typeof condition.$options === 'string' ? condition.$options : ''));
  }
  if (typeof source !== 'string' || typeof flags !== 'string' || /[imx]/.test(flags)) return undefined;
  const match = /^\^((?:[^\\^$.|?*+()[\]{}]|\\[^A-Za-z0-9])*)$/.exec(source) ?? /^\^((?:[^\\^$.|?*+()[\]{}]|\\[^A-Za-z0-9])*)\.\*$/.exec(source);
  if (!match || match[1] === '') return undefined;
  return match[1].replace(/\\(.)/g, '$1');
}

interface RangePlan {
  lower?: IndexBound;
  upper?: IndexBound;
  within?: (value: unknown) => boolean;
  /** Longer string prefixes are assumed more selective. */
  strength: number;
}

function rangeOf(condition: unknown, multikey: boolean): RangePlan | undefined {
  const prefix = regexPrefix(condition);
  // One element has to match a regex, so both bounds are safe on a multikey index too.
  if (prefix !== undefined) return { lower: { value: prefix, inclusive: true }, within: (v) => typeof v === 'string' && v.startsWith(prefix), strength: 1 + prefix.length / 100 };
  if (!isPlainDocument(condition)) return undefined;
  const bounds = comparisonBounds(condition, multikey);
  if (!bounds) return undefined;
  return { ...bounds, strength: bounds.lower && bounds.upper ? 0.9 : 0.5 };
}

interface CompoundPlan {
  index: Index;
  /** Per leading field, the values it may equal (one for an equality, several for an `$in`). */
  prefix: unknown[][];
  range?: RangePlan;
  score: number;
}

/**
 * The index with the longest equality prefix (plus a range on the next field) for the filter.
 * With `withIn`, a field of the prefix may be an `$in` ("these meetings' main sites"): the plan
 * then scans the prefix once per combination of values.
 */
function bestCompound(conditions: Map<string, unknown[]>, indexes: Index[], withIn = true): CompoundPlan | undefined {
  let best: CompoundPlan | undefined;
  for (const index of indexes) {
    if (!servesFilter(index, conditions)) continue;
    const prefix: unknown[][] = [];
    let combinations = 1;
    for (const field of index.fields) {
      const values = (conditions.get(field.name) ?? [])
        .map(withIn ? equalValuesOf : singleValueOf)
        .filter((v) => v !== undefined)
        .sort((a, b) => a.length - b.length)[0];
      if (!values || combinations * Math.max(values.length, 1) > MAX_PREFIX_COMBINATIONS) break;
      combinations *= Math.max(values.length, 1);
      prefix.push(values);
    }
    let range: RangePlan | undefined;
    const next = index.fields[prefix.length];
    for (const condition of (next && conditions.get(next.name)) || []) {
      const candidate = rangeOf(condition, index.multikey);
      if (candidate && (!range || candidate.strength > range.strength)) range = candidate;
    }
    const score = prefix.length + (range?.strength ?? 0);
    if (score > 0 && (!best || score > best.score)) best = { index, prefix, range, score };
  }
  return best;
}

/**
 * Candidates from a compound index when it narrows more than one field can: the equality
 * prefix plus a range (an anchored regex is a range). Undefined when a single field plan is as
 * good, so planCandidates keeps its behaviour there.
 */
export function planCompoundCandidates(filter: Document | undefined, indexes: Index[]): number[] | undefined {
  if (!filter) return undefined;
  const plan = bestCompound(conditionsByField(filter), indexes);
  if (!plan || (plan.prefix.length < 2 && !(plan.prefix.length === 1 && plan.range) && !(plan.range?.within && plan.prefix.length === 0))) return undefined;
  const rids: number[] = [];
  let combinations: unknown[][] = [[]];
  for (const values of plan.prefix) combinations = combinations.flatMap((head) => values.map((value) => [...head, value]));
  for (const prefix of combinations) {
    for (const entry of plan.index.scanPrefix(prefix, plan.range?.lower, plan.range?.upper, plan.range?.within)) rids.push(entry.rid);
  }
  return plan.index.multikey || combinations.length > 1 ? [...new Set(rids)] : rids;
}

export interface OrderedScan {
  /** Entries in sort order; `tie` is the part of the key the sort reads (equal = tied). */
  entries: Iterable<{ key: unknown[]; rid: number }>;
  /** The index key positions of the sort fields it provides. */
  sortKeyStart: number;
  sortKeyLength: number;
  /** Whether the index order is the whole sort (otherwise ties need the remaining sort fields). */
  complete: boolean;
  /**
   * Set when another index narrows the filter further (a search word's range): its candidates,
   * whose order the walk then gives (the caller decides which of the two plans to follow).
   */
  narrower?: number[];
}

/**
 * "Page of a meeting's attendees by name": an index whose leading fields are fixed by equality
 * in the filter and whose next fields are the sort gives the documents already in order, so
 * the caller stops at the limit. Ascending walks only; multikey indexes order by elements.
 * When a compound candidates plan narrows further (it fixes more fields or a range), the scan
 * also names those candidates (`narrower`), and the caller chooses.
 */
export function planOrderedScan(filter: Document, sort: Array<[string[], 1 | -1, ...unknown[]]>, indexes: Index[]): OrderedScan | undefined {
  if (sort.length === 0) return undefined;
  const conditions = conditionsByField(filter);
  let best: { index: Index; prefix: unknown[]; covered: number } | undefined;
  for (const index of indexes) {
    if (!index.coversAllDocuments || index.multikey) continue;
    const prefix: unknown[] = [];
    for (const field of index.fields) {
      const equal = conditions.get(field.name)?.map(equalityOf).find((e) => e !== undefined);
      if (!equal) break;
      prefix.push(equal.value);
    }
    let covered = 0;
    while (covered < sort.length && prefix.length + covered < index.fields.length) {
      const field = index.fields[prefix.length + covered];
      const [path, direction] = sort[covered];
      // Entries are kept in ascending key order whatever the key's direction: only an ascending sort
      // reads them in order.
      if (field.name !== path.join('.') || direction !== 1) break;
      covered++;
    }
    if (covered === 0) continue;
    if (!best || prefix.length > best.prefix.length || (prefix.length === best.prefix.length && covered > best.covered)) best = { index, prefix, covered };
  }
  if (!best) return undefined;
  // Only equalities fix the order: an `$in` prefix (several runs) would need a merge.
  const candidates = bestCompound(conditions, indexes, false);
  const narrower = candidates && (candidates.prefix.length > best.prefix.length || (candidates.prefix.length === best.prefix.length && candidates.range));
  return {
    entries: best.index.scanPrefix(best.prefix),
    sortKeyStart: best.prefix.length,
    sortKeyLength: best.covered,
    complete: best.covered === sort.length,
    ...(narrower ? { narrower: planCandidates(filter, indexes) ?? [] } : {}),
  };
}
