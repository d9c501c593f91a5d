// explain for find, count, distinct, update, delete and findAndModify: which index the planner
// picks (IXSCAN) or a collection scan (COLLSCAN), and with executionStats what it examined.
import type { Collection } from '../collection.js';
import { MongoServerError } from '../errors.js';
import type { Index } from '../indexes.js';
import { planCandidates } from '../planner.js';
import { collationComparer, compileFilter } from '../query.js';
import type { Document } from '../values.js';
import { isPlainDocument } from '../values.js';
import { SERVER_VERSION } from './admin.js';
import type { CommandHandler } from './context.js';

/** Where each explainable command keeps its collection name and its filter. */
function describe(inner: Document): { name: unknown; filter: unknown; collation: unknown } {
  const command = Object.keys(inner)[0];
  switch (command) {
    case 'find':
      return { name: inner.find, filter: inner.filter, collation: inner.collation };
    case 'count':
    case 'distinct':
      return { name: inner[command], filter: inner.query, collation: inner.collation };
    case 'findAndModify':
    case 'findandmodify':
      return { name: inner[command], filter: inner.query, collation: inner.collation };
    case 'update': {
      const first = Array.isArray(inner.updates) && isPlainDocument(inner.updates[0]) ? inner.updates[0] : {};
      return { name: inner.update, filter: first.q, collation: first.collation };
    }
    case 'aggregate': {
      const pipeline = Array.isArray(inner.pipeline) ? inner.pipeline : [];
      const first = isPlainDocument(pipeline[0]) ? pipeline[0] : {};
      return { name: inner.aggregate, filter: isPlainDocument(first.$match) ? first.$match : {}, collation: inner.collation };
    }
    case 'delete': {
      const first = Array.isArray(inner.deletes) && isPlainDocument(inner.deletes[0]) ? inner.deletes[0] : {};
      return { name: inner.delete, filter: first.q, collation: first.collation };
    }
    default:
      throw new MongoServerError('CommandNotFound', `Explain failed due to unknown command: ${command}`);
  }
}

/** The index whose plan yields the fewest candidates, as the planner would narrow with it. */
function chosenIndex(collection: Collection, filter: Document): Index | undefined {
  let best: { index: Index; size: number } | undefined;
  for (const index of collection.indexes) {
    const rids = planCandidates(filter, [index]);
    if (rids && (!best || rids.length < best.size)) best = { index, size: rids.length };
  }
  return best?.index;
}

export const explain: CommandHandler = (command, ctx) => {
  const inner = command.explain;
  if (!isPlainDocument(inner)) throw new MongoServerError('TypeMismatch', "BSON field 'explain' is the wrong type, expected type 'object'");
  const { name, filter: rawFilter, collation } = describe(inner);
  if (typeof name !== 'string') throw new MongoServerError('InvalidNamespace', 'collection name has invalid type');
  const filter = isPlainDocument(rawFilter) ? rawFilter : {};
  const verbosity = typeof command.verbosity === 'string' ? command.verbosity : 'allPlansExecution';
  const collection = ctx.store.existingDatabase(ctx.db)?.get(name);
  const strings = collationComparer(collation);
  const index = collection && strings === undefined ? chosenIndex(collection, filter) : undefined;
  const scan: Document = index
    ? { stage: 'IXSCAN', keyPattern: index.keyPattern, indexName: index.name, isMultiKey: index.multikey, isUnique: index.unique, isSparse: index.sparse, direction: 'forward' }
    : { stage: 'COLLSCAN', filter, direction: 'forward' };
  const winningPlan: Document = index ? { stage: 'FETCH', filter, inputStage: scan } : scan;
  const reply: Document = {
    explainVersion: '1',
    queryPlanner: { namespace: `${ctx.db}.${name}`, indexFilterSet: false, parsedQuery: filter, winningPlan, rejectedPlans: [] },
  };
  if (verbosity !== 'queryPlanner') {
    const started = Date.now();
    const matcher = compileFilter(filter, { strings, ...collection?.queryOptions() });
    let examined = 0;
    let returned = 0;
    for (const [, doc] of collection?.candidates(filter, strings === undefined) ?? []) {
      examined++;
      if (matcher(doc)) returned++;
    }
    reply.executionStats = {
      executionSuccess: true,
      nReturned: returned,
      executionTimeMillis: Date.now() - started,
      totalKeysExamined: index ? examined : 0,
      totalDocsExamined: examined,
    };
  }
  const serverInfo = { host: 'localhost', port: ctx.server.port, version: SERVER_VERSION };
  if (Object.keys(inner)[0] === 'aggregate') {
    const pipeline = (Array.isArray(inner.pipeline) ? inner.pipeline : []) as Document[];
    const rest = pipeline.slice(pipeline.length > 0 && isPlainDocument(pipeline[0]) && '$match' in pipeline[0] ? 1 : 0);
    if (rest.some((stage) => !isPlainDocument(stage) || !PUSHED_DOWN.has(Object.keys(stage)[0]))) {
      // As mongod shows a pipeline whose later stages run outside the query layer: the
      // $cursor stage (the $match's plan) first, then the remaining stages.
      const cursorStage: Document = { queryPlanner: reply.queryPlanner };
      if (reply.executionStats) cursorStage.executionStats = reply.executionStats;
      return { explainVersion: '1', stages: [{ $cursor: cursorStage }, ...rest], command: inner, serverInfo, ok: 1 };
    }
  }
  return { ...reply, command: inner, serverInfo, ok: 1 };
};

/** Stages mongod runs inside the query layer, so the explain has one top-level queryPlanner. */
const PUSHED_DOWN = new Set(['$sort', '$limit', '$skip', '$project']);
