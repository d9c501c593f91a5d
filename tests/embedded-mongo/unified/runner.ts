// Executes one test of a unified-format file, following "Executing a Test" of the spec:
// initialData -> entities -> operations (results/errors checked) -> expectEvents -> outcome.
import { MongoServerError, MongoBulkWriteError, type Document, type MongoClient } from 'mongodb';
import { EntityMap, type ObservedEvent } from './entities.js';
import { exactlyEqual, matches } from './match.js';
import { resultToDocument, runEntityOperation, runTestRunnerOperation } from './operations.js';
import { requirementsSkipReason, compareVersions, type ServerFacts } from './requirements.js';
import {
  SUPPORTED_SCHEMA,
  type CollectionData,
  type ExpectedError,
  type ExpectedEventsForClient,
  type Operation,
  type UnifiedFile,
  type UnifiedTest,
} from './spec.js';

export class ConformanceFailure extends Error {
  override name = 'ConformanceFailure';
}

function fail(where: string, problems: string[]): never {
  throw new ConformanceFailure(`${where}:\n  ${problems.join('\n  ')}`);
}

/**
 * Tests that check behaviour of the node driver (mongodb 7.9) which no server can change. They
 * are skipped, with the reason, never passed:
 *  - the driver leaves out `bypassDocumentValidation: false` for findAndModify, aggregate and
 *    bulk writes, where the spec wants it sent;
 *  - the driver replaces `_id: null` with a fresh ObjectId before sending an insert
 *    (`maybeAddIdToDocuments` tests `_id == null`), so the server never sees the null _id.
 *    commands.test.ts checks the store's own handling of a null _id with a raw insert command.
 */
const NULL_ID = 'node driver replaces a null _id with a generated ObjectId before sending (driver behaviour)';
const DRIVER_DEVIATIONS: Record<string, string> = {
  'create-null-ids.json > inserting _id with type null via insertOne': NULL_ID,
  'create-null-ids.json > inserting _id with type null via insertMany': NULL_ID,
  'create-null-ids.json > inserting _id with type null via bulkWrite': NULL_ID,
  'bypassDocumentValidation.json > Aggregate with $out passes bypassDocumentValidation: false':
    'node driver omits bypassDocumentValidation:false from aggregate (driver behaviour)',
  'bypassDocumentValidation.json > BulkWrite passes bypassDocumentValidation: false':
    'node driver omits bypassDocumentValidation:false from bulk writes (driver behaviour)',
  'bypassDocumentValidation.json > FindOneAndReplace passes bypassDocumentValidation: false':
    'node driver omits bypassDocumentValidation:false from findAndModify (driver behaviour)',
  'bypassDocumentValidation.json > FindOneAndUpdate passes bypassDocumentValidation: false':
    'node driver omits bypassDocumentValidation:false from findAndModify (driver behaviour)',
  'bypassDocumentValidation.json > InsertMany passes bypassDocumentValidation: false':
    'node driver omits bypassDocumentValidation:false from insertMany, a bulk write (driver behaviour)',
};

/** A reason to skip the test, or undefined if it must run. Incompatible schemas are errors, not skips. */
export async function skipReason(
  fileName: string,
  file: UnifiedFile,
  test: UnifiedTest,
  server: ServerFacts,
): Promise<string | undefined> {
  if (test.skipReason) return `skipReason: ${test.skipReason}`;
  const fileWhy = await requirementsSkipReason(file.runOnRequirements, server);
  if (fileWhy) return fileWhy;
  const testWhy = await requirementsSkipReason(test.runOnRequirements, server);
  if (testWhy) return testWhy;
  return DRIVER_DEVIATIONS[`${fileName} > ${test.description}`];
}

export function checkSchemaVersion(file: UnifiedFile): void {
  const [maj, min] = file.schemaVersion.split('.').map(Number);
  const [smaj, smin] = SUPPORTED_SCHEMA.split('.').map(Number);
  if (maj !== smaj || compareVersions(file.schemaVersion, SUPPORTED_SCHEMA) > 0 || Number.isNaN(min) || smin === undefined) {
    throw new ConformanceFailure(`schemaVersion ${file.schemaVersion} is not supported by this runner (supports ${SUPPORTED_SCHEMA})`);
  }
}

async function loadCollectionData(internal: MongoClient, data: CollectionData[]): Promise<void> {
  for (const d of data) {
    const db = internal.db(d.databaseName);
    try {
      await db.command({ drop: d.collectionName, writeConcern: { w: 'majority' } });
    } catch (e) {
      if (!(e instanceof MongoServerError && e.code === 26)) throw e; // NamespaceNotFound is fine
    }
    if (d.createOptions) {
      await db.command({ create: d.collectionName, ...d.createOptions, writeConcern: { w: 'majority' } });
    }
    if (d.documents.length > 0) {
      await db.collection(d.collectionName).insertMany(d.documents, { writeConcern: { w: 'majority' } });
    } else if (!d.createOptions) {
      await db.command({ create: d.collectionName, writeConcern: { w: 'majority' } });
    }
  }
}

function errorSummary(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${e.name}${code !== undefined ? ` (code ${String(code)})` : ''}: ${e.message}`;
  }
  return String(e);
}

function checkError(op: Operation, expected: ExpectedError, err: unknown, entities: EntityMap): void {
  const problems: string[] = [];
  const e = err as Error & {
    code?: number; codeName?: string; errorResponse?: Document; hasErrorLabel?: (l: string) => boolean;
    writeErrors?: unknown; result?: unknown; errInfo?: unknown;
  };
  const isServer = err instanceof MongoServerError;
  const bulk = err instanceof MongoBulkWriteError ? err : undefined;
  const writeErrors: Array<{ code?: number; errmsg?: string; codeName?: string }> = bulk
    ? (Array.isArray(bulk.writeErrors) ? bulk.writeErrors : [bulk.writeErrors]).filter(Boolean) as never
    : [];
  const wce = bulk?.err as { code?: number; errmsg?: string; codeName?: string } | undefined;
  if (expected.isClientError !== undefined && expected.isClientError === isServer) {
    problems.push(`expected a ${expected.isClientError ? 'client' : 'server'} error, got ${errorSummary(err)}`);
  }
  if (expected.isTimeoutError) problems.push('isTimeoutError assertions are not implemented by this runner');
  if (expected.errorContains !== undefined) {
    const needle = expected.errorContains.toLowerCase();
    const hay = [e?.message, ...writeErrors.map((w) => w.errmsg), wce?.errmsg].filter(Boolean).map((s) => String(s).toLowerCase());
    if (!hay.some((h) => h.includes(needle))) problems.push(`expected the error to contain "${expected.errorContains}", got ${errorSummary(err)}`);
  }
  if (expected.errorCode !== undefined) {
    const codes = [isServer ? e.code : undefined, ...writeErrors.map((w) => w.code), wce?.code];
    if (!codes.includes(expected.errorCode)) problems.push(`expected server error code ${expected.errorCode}, got ${errorSummary(err)}`);
  }
  if (expected.errorCodeName !== undefined) {
    const want = expected.errorCodeName.toLowerCase();
    const names = [isServer ? e.codeName : undefined, ...writeErrors.map((w) => w.codeName), wce?.codeName];
    if (!names.some((n) => typeof n === 'string' && n.toLowerCase() === want)) {
      problems.push(`expected server error codeName ${expected.errorCodeName}, got ${errorSummary(err)} (codeName ${String(e?.codeName)})`);
    }
  }
  for (const label of expected.errorLabelsContain ?? []) {
    if (!e?.hasErrorLabel?.(label)) problems.push(`expected error label ${label}`);
  }
  for (const label of expected.errorLabelsOmit ?? []) {
    if (e?.hasErrorLabel?.(label)) problems.push(`expected no error label ${label}`);
  }
  if (expected.writeErrors !== undefined || expected.writeConcernErrors !== undefined) {
    problems.push('writeErrors/writeConcernErrors assertions (clientBulkWrite) are not implemented by this runner');
  }
  if (expected.errorResponse !== undefined) {
    if (!isServer) problems.push(`expected a server response, got ${errorSummary(err)}`);
    else {
      const response = e.errorResponse ?? (bulk ? { code: bulk.code, ...(writeErrors[0] ?? {}) } : {});
      problems.push(...matches(expected.errorResponse, response, true, { entity: (n) => entities.valueOf(n) }).map((p) => `errorResponse ${p}`));
    }
  }
  if (expected.expectResult !== undefined) {
    const partial = bulk ? resultToDocument(bulk.result) : e?.result !== undefined ? resultToDocument(e.result) : undefined;
    problems.push(...matches(expected.expectResult, partial, true, { entity: (n) => entities.valueOf(n) }).map((p) => `error result ${p}`));
  }
  if (problems.length) fail(`operation ${op.name} on ${op.object}: error assertions failed`, problems);
}

function eventToDocument(ev: ObservedEvent): Document {
  const body: Document = { commandName: ev.commandName, databaseName: ev.databaseName };
  if (ev.command !== undefined) body.command = ev.command;
  if (ev.reply !== undefined) body.reply = ev.reply;
  return body;
}

function checkEvents(expectations: ExpectedEventsForClient[], entities: EntityMap): void {
  for (const exp of expectations) {
    if (exp.eventType && exp.eventType !== 'command') {
      fail('expectEvents', [`eventType ${exp.eventType} is not implemented by this runner`]);
    }
    const actual = entities.client(exp.client).events;
    const problems: string[] = [];
    if (actual.length < exp.events.length || (!exp.ignoreExtraEvents && actual.length !== exp.events.length)) {
      problems.push(
        `expected ${exp.events.length} events, observed ${actual.length}: ${actual.map((a) => `${a.type}(${a.commandName})`).join(', ')}`,
      );
    }
    exp.events.forEach((expected, i) => {
      const [type, body] = Object.entries(expected)[0] as [string, Document];
      const got = actual[i];
      if (!got) return;
      if (got.type !== type) {
        problems.push(`event ${i}: expected ${type}, observed ${got.type}(${got.commandName})`);
        return;
      }
      for (const k of Object.keys(body)) {
        if (!['command', 'reply', 'commandName', 'databaseName'].includes(k)) {
          problems.push(`event ${i}: assertion on ${k} is not implemented by this runner`);
        }
      }
      const gotDoc = eventToDocument(got);
      const ctx = { entity: (n: string) => entities.valueOf(n) };
      for (const key of ['commandName', 'databaseName'] as const) {
        if (body[key] !== undefined && body[key] !== gotDoc[key]) {
          problems.push(`event ${i} ${key}: expected ${String(body[key])}, observed ${String(gotDoc[key])}`);
        }
      }
      for (const key of ['command', 'reply'] as const) {
        if (body[key] !== undefined) {
          problems.push(...matches(body[key], gotDoc[key], true, ctx).map((p) => `event ${i} (${got.commandName}) ${key}${p.slice(1)}`));
        }
      }
    });
    if (problems.length) fail(`expectEvents for ${exp.client}`, problems);
  }
}

async function checkOutcome(internal: MongoClient, outcome: CollectionData[]): Promise<void> {
  for (const o of outcome) {
    const docs = await internal
      .db(o.databaseName)
      .collection(o.collectionName)
      .find({}, { sort: { _id: 1 }, readPreference: 'primary', readConcern: { level: 'local' } })
      .toArray();
    const problems = exactlyEqual(o.documents, docs);
    if (problems.length) fail(`outcome of ${o.databaseName}.${o.collectionName}`, problems);
  }
}

/** Operations whose result is an iterable of documents: each element is a root-level document. */
const ITERABLE_RESULTS = new Set(['find', 'aggregate', 'listCollections', 'listDatabases', 'listIndexes', 'runCursorCommand']);

function matchResult(op: Operation, actual: unknown, entities: EntityMap): string[] {
  const ctx = { entity: (n: string) => entities.valueOf(n) };
  const expected = op.expectResult;
  if (ITERABLE_RESULTS.has(op.name) && Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`$: expected ${expected.length} documents, got ${JSON.stringify(actual)}`];
    if (actual.length !== expected.length) {
      return [`$: expected ${expected.length} documents, got ${actual.length}: ${JSON.stringify(actual)}`];
    }
    return expected.flatMap((e, i) => matches(e, actual[i], true, ctx).map((p) => `$[${i}]${p.slice(1)}`));
  }
  return matches(expected, actual, true, ctx);
}

/** Run a test that is known to apply. Throws a ConformanceFailure (or the unexpected error) on failure. */
export async function runUnifiedTest(file: UnifiedFile, test: UnifiedTest, uri: string, internal: MongoClient): Promise<void> {
  checkSchemaVersion(file);
  if (file.initialData) await loadCollectionData(internal, file.initialData);
  const entities = new EntityMap(uri);
  const failPoints: Array<{ client: string; name: string }> = [];
  try {
    await entities.create(file.createEntities ?? []);
    const ctx = { entities, internal, failPointSet: (client: string, name: string) => failPoints.push({ client, name }) };
    for (const [index, op] of test.operations.entries()) {
      const where = `operation #${index} ${op.name} on ${op.object}`;
      if (op.object === 'testRunner') {
        await runTestRunnerOperation(op, ctx);
        continue;
      }
      let result: unknown;
      let error: unknown;
      let threw = false;
      try {
        result = await runEntityOperation(op, ctx);
      } catch (e) {
        threw = true;
        error = e;
      }
      if (op.ignoreResultAndError) continue;
      if (op.expectError) {
        if (!threw) fail(where, [`expected an error, got result ${JSON.stringify(resultToDocument(result))}`]);
        checkError(op, op.expectError, error, entities);
        continue;
      }
      if (threw) {
        if (error instanceof Error) error.message = `${where}: unexpected ${errorSummary(error)}`;
        throw error;
      }
      if (op.expectResult !== undefined) {
        const problems = matchResult(op, resultToDocument(result), entities);
        if (problems.length) fail(`${where}: result mismatch`, problems);
      }
      if (op.saveResultAsEntity) entities.save(op.saveResultAsEntity, result);
    }
    entities.stopListening();
    if (test.expectEvents) checkEvents(test.expectEvents, entities);
    if (test.outcome) await checkOutcome(internal, test.outcome);
  } finally {
    for (const fp of failPoints) {
      await entities
        .client(fp.client)
        .client.db('admin')
        .command({ configureFailPoint: fp.name, mode: 'off' })
        .catch(() => undefined);
    }
    await entities.close();
  }
}
