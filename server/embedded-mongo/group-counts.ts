// A $group whose accumulators are all counts ({ $sum: <integer> }), e.g. "how many records per
// (site, role, status)", without mingo evaluating its _id expression and hashing the result for
// every document. The _id expression reads known paths (pipeline-deps.ts); documents whose values
// at those paths are identical get the same _id, so they are first partitioned natively by those
// values, and mingo then runs the same $group over one representative per partition, counting
// each with its partition's size. Group order (first occurrence), _id values and counts are
// exactly mingo's over all documents. Anything else (other accumulators, $rand, $$ROOT, a value
// of a type the partition key does not know) is left to mingo.
import { Aggregator } from 'mingo';
import { pipelineReads } from './pipeline-deps.js';
import type { Document } from './values.js';
import { ObjectId, isPlainDocument } from './values.js';

type MingoOptions = NonNullable<ConstructorParameters<typeof Aggregator>[1]>;

/** Where a representative carries its partition's size (never read by the _id expression). */
const SIZE_FIELD = '__embeddedPartitionSize';

/** The $group's output, or undefined when it is not a counting group this can answer. */
export function countingGroup(docs: Document[], spec: Document, options: MingoOptions): Document[] | undefined {
  if (docs.length < 2) return undefined;
  const plan = countingPlan(spec, docs.length);
  if (!plan) return undefined;
  const partitions = new Map<string, { doc: Document; size: number }>();
  for (const doc of docs) {
    let key = '';
    for (const path of plan.paths) {
      const part = pathKey(doc, path);
      if (part === undefined) return undefined;
      key += `${part}|`;
    }
    const partition = partitions.get(key);
    if (partition) partition.size++;
    else partitions.set(key, { doc, size: 1 });
  }
  return groupPartitions([...partitions.values()], plan, options);
}

/** A counting $group: the paths its _id reads and its accumulators over partition sizes. */
export interface CountingPlan {
  id: unknown;
  paths: string[][];
  accumulators: Document;
}

/**
 * The plan of a $group whose accumulators are all integer $sums and whose _id reads known paths
 * (no $$ROOT, no $rand); undefined otherwise. `maxDocs` bounds the counts (exact integers only).
 */
export function countingPlan(spec: Document, maxDocs: number): CountingPlan | undefined {
  if (!('_id' in spec)) return undefined;
  const accumulators: Document = {};
  for (const [name, accumulator] of Object.entries(spec)) {
    if (name === '_id') continue;
    if (name === SIZE_FIELD || !isPlainDocument(accumulator) || Object.keys(accumulator).length !== 1) return undefined;
    const step = accumulator.$sum;
    // Integer steps: step x size is the same number as adding step size times.
    if (typeof step !== 'number' || !Number.isSafeInteger(step) || Math.abs(step) * maxDocs > Number.MAX_SAFE_INTEGER) return undefined;
    accumulators[name] = { $sum: step === 1 ? `$${SIZE_FIELD}` : { $multiply: [step, `$${SIZE_FIELD}`] } };
  }
  if (mentionsRandom(spec._id)) return undefined;
  const reads = pipelineReads([{ $group: { _id: spec._id } }]);
  if (!reads || reads.walked.size > 0) return undefined;
  const paths = [...reads.values].map((path) => path.split('.'));
  if (paths.some((path) => path[0] === SIZE_FIELD)) return undefined;
  return { id: spec._id, paths, accumulators };
}

/** mingo's $group over one representative document per partition, counting each with its size. */
export function groupPartitions(partitions: Array<{ doc: Document; size: number }>, plan: CountingPlan, options: MingoOptions): Document[] {
  const representatives = partitions.map(({ doc, size }) => ({ ...doc, [SIZE_FIELD]: size }));
  return new Aggregator([{ $group: { _id: plan.id, ...plan.accumulators } }], options).run(representatives) as Document[];
}

/** $rand, $$NOW and $$CLUSTER_TIME may differ from one evaluation to the next. */
function mentionsRandom(value: unknown): boolean {
  if (typeof value === 'string') return value.startsWith('$$NOW') || value.startsWith('$$CLUSTER_TIME');
  if (Array.isArray(value)) return value.some(mentionsRandom);
  if (!isPlainDocument(value)) return false;
  return Object.entries(value).some(([key, child]) => key === '$rand' || mentionsRandom(child));
}

/**
 * What decides the value of `path` in `doc`: the value at the path while the way there is
 * through documents, else the whole first value that is not a document (an array, a scalar,
 * nothing), with the depth where the walk stopped.
 */
export function pathKey(doc: Document, path: string[]): string | undefined {
  let value: unknown = doc;
  let depth = 0;
  for (; depth < path.length && isPlainDocument(value); depth++) value = value[path[depth]];
  const serialized = valueKey(value, 0);
  return serialized === undefined ? undefined : `${depth}:${serialized}`;
}

/** A string that differs whenever the values differ (type included); undefined for types not listed. */
export function valueKey(value: unknown, depth: number): string | undefined {
  if (depth > 100) return undefined;
  switch (typeof value) {
    case 'string':
      return `s${JSON.stringify(value)}`;
    case 'number':
      return Object.is(value, -0) ? 'n-0' : `n${value}`;
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 'z';
  if (value instanceof ObjectId) return `o${value.toHexString()}`;
  if (value instanceof Date) return `d${value.getTime()}`;
  if (value instanceof RegExp) return `r${JSON.stringify([value.source, value.flags])}`;
  if (Array.isArray(value)) {
    let out = '[';
    for (const element of value) {
      const part = valueKey(element, depth + 1);
      if (part === undefined) return undefined;
      out += `${part},`;
    }
    return `${out}]`;
  }
  if (!isPlainDocument(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  let out = '{';
  for (const key of Object.keys(value)) {
    const part = valueKey(value[key], depth + 1);
    if (part === undefined) return undefined;
    out += `${JSON.stringify(key)}:${part},`;
  }
  return `${out}}`;
}
