// Picks an index for a filter so equality and range lookups on indexed fields skip the full scan.
// The plan only narrows candidates: callers still run the full matcher on each candidate.
import type { Index, IndexBound } from './indexes.js';
import type { Document } from './values.js';
import { isPlainDocument, isRegexValue, typeOrder } from './values.js';

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
  if (!isPlainDocument(condition) || !Object.keys(condition)[0]?.startsWith('$')) {
    if (!isLookupLiteral(condition)) return undefined;
    return { index, cost: 1, run: () => index.lookupEqual(condition) };
  }
  if ('$eq' in condition && isLookupLiteral(condition.$eq)) {
    return { index, cost: 1, run: () => index.lookupEqual(condition.$eq) };
  }
  if (Array.isArray(condition.$in) && condition.$in.every(isLookupLiteral)) {
    const values = condition.$in;
    return { index, cost: 2, run: () => [...new Set(values.flatMap((v) => index.lookupEqual(v)))] };
  }
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
  if (index.multikey && lower && upper) upper = undefined;
  if (!lower && !upper) return undefined;
  return { index, cost: 3, run: () => index.lookupRange(lower, upper) };
}

/** Candidate record ids for the filter, or undefined when no index helps (full scan). */
export function planCandidates(filter: Document | undefined, indexes: Index[]): number[] | undefined {
  if (!filter) return undefined;
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
