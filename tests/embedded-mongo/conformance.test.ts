// MongoDB's official CRUD conformance tests (unified test format), run against the embedded
// store through the real `mongodb` driver over TCP.
//
// Data: ../shared/mongodb-specs/crud-unified/*.json (read in place, never copied).
// Every unified test is one vitest test. A test whose runOnRequirements the server does not
// meet is skipped with the reason; everything else must pass, and anything the runner cannot
// do (an unknown operation, argument or assertion) fails the test.
//
// Set CONFORMANCE_MONGODB_URI to run the same tests against another server (e.g. a real mongod),
// or CONFORMANCE_ON_DISK=1 to run them against the store on a temporary dbPath instead of memory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { discoverServer, type ServerFacts } from './unified/requirements.js';
import { runUnifiedTest, skipReason } from './unified/runner.js';
import { crudSpecCandidates, crudSpecDir, loadSpecFiles, repoRoot } from './unified/spec.js';

const files = loadSpecFiles();
const total = files.reduce((n, f) => n + f.spec.tests.length, 0);
/** Outcome per test (keyed by file and index): a test counts once, whatever happens late. */
const outcomes = new Map<string, 'passed' | 'failed' | 'skipped'>();
const failures: Array<{ id: string; file: string; test: string; message: string }> = [];
const skips: Array<{ file: string; test: string; reason: string }> = [];

let store: { uri: string; stop(): Promise<void> } | undefined;
let dbPath: string | undefined;
let uri: string;
let internal: MongoClient;
let server: ServerFacts;

beforeAll(async () => {
  if (process.env.CONFORMANCE_MONGODB_URI) {
    uri = process.env.CONFORMANCE_MONGODB_URI;
  } else {
    dbPath = process.env.CONFORMANCE_ON_DISK ? mkdtempSync(path.join(os.tmpdir(), 'conformance-')) : undefined;
    const started = await startEmbeddedMongo(dbPath ? { dbPath } : { inMemory: true }, {});
    store = started;
    uri = started.uri;
  }
  internal = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await internal.connect();
  server = await discoverServer(internal);
});

afterAll(async () => {
  await internal?.close();
  await store?.stop();
  if (dbPath) rmSync(dbPath, { recursive: true, force: true });
  const count = (o: string) => [...outcomes.values()].filter((v) => v === o).length;
  const tally = { passed: count('passed'), skipped: count('skipped') };
  const failed = count('failed');
  // Filtered out (-t) or never reached because the run was interrupted.
  const notRun = total - tally.passed - failed - tally.skipped;
  const byFile = new Map<string, number>();
  for (const f of failures) byFile.set(f.file, (byFile.get(f.file) ?? 0) + 1);
  const report = {
    server: server ? { version: server.version, topology: server.topology } : undefined,
    passed: tally.passed,
    failed,
    skipped: tally.skipped,
    notRun,
    total,
    failuresByFile: Object.fromEntries([...byFile].sort((a, b) => b[1] - a[1])),
    failures,
    skips,
  };
  const outDir = path.join(repoRoot, 'test-results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'conformance.json'), JSON.stringify(report, null, 2));
  if (byFile.size > 0) {
    console.log(`conformance failures by file:\n${[...byFile].map(([f, n]) => `  ${n}  ${f}`).join('\n')}`);
  }
  const driver = skips.filter((s) => s.reason.includes('(driver behaviour)')).length;
  console.log(
    `conformance skips: ${tally.skipped - driver} by runOnRequirements (version/topology a standalone 7.0 does not meet), ` +
      `${driver} for node-driver behaviour no server can change (see unified/runner.ts DRIVER_DEVIATIONS)`,
  );
  if (notRun > 0) console.log(`conformance: ${notRun} of ${total} tests did not run (filtered out or interrupted)`);
  console.log(`conformance: ${tally.passed} passed, ${failed} failed, ${tally.skipped} skipped (of ${total})`);
});

// Without the shared data the suite would vanish silently: that is a failure, not a skip.
it('finds MongoDB\'s CRUD conformance data', () => {
  expect(crudSpecDir, `conformance data not found (looked in ${crudSpecCandidates.join(', ')}; set MONGODB_SPECS_DIR)`).toBeDefined();
  // The shared copy holds 487 unified tests; a much smaller count means files went missing.
  expect(total).toBeGreaterThanOrEqual(450);
});

for (const { file, spec } of files) {
  describe(file, () => {
    spec.tests.forEach((test, index) => {
      const id = `${file}#${index}`;
      it(test.description, async (ctx) => {
        // Also catches failures the runner never sees, such as a test timing out.
        ctx.onTestFailed(() => {
          outcomes.set(id, 'failed');
          if (!failures.some((f) => f.id === id)) {
            failures.push({ id, file, test: test.description, message: 'failed outside the runner (e.g. timed out)' });
          }
        });
        const why = await skipReason(file, spec, test, server);
        if (why) {
          outcomes.set(id, 'skipped');
          skips.push({ file, test: test.description, reason: why });
          ctx.skip(why);
        }
        try {
          await runUnifiedTest(spec, test, uri, internal);
          if (outcomes.get(id) !== 'failed') outcomes.set(id, 'passed');
        } catch (e) {
          outcomes.set(id, 'failed');
          failures.push({ id, file, test: test.description, message: e instanceof Error ? e.message : String(e) });
          throw e;
        }
      });
    });
  });
}
