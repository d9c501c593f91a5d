// Standalone server: npm run embedded-mongo -- --port 27017 --dbpath ./data/db (--help: every option).
// The memory budget defaults to EMBEDDED_MONGO_MEMORY_MB, else 60% of the heap.
import { parseArgs } from 'node:util';
import { startEmbeddedMongo } from './index.js';
import { Store } from './store.js';

const usage = `usage: npm run embedded-mongo -- [--port 27017] [--dbpath ./data/db] [--in-memory]
  [--journal-commit-ms N]   0-500: periodic fdatasync of the journal (mongod's commitIntervalMs)
  [--repair]                keep every intact journal write, move damaged journals aside, exit
  [--memory-budget-mb N]    memory budget of the working set`;

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '27017' },
        dbpath: { type: 'string', default: './data/db' },
        'in-memory': { type: 'boolean', default: false },
        'journal-commit-ms': { type: 'string' },
        repair: { type: 'boolean', default: false },
        'memory-budget-mb': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    console.error(`embedded-mongo: ${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
}

/** A whole number option within its range, or a clear message and exit 2. */
function wholeNumber(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    console.error(`embedded-mongo: --${name} must be a whole number from ${min} to ${max}, not "${text}"\n${usage}`);
    process.exit(2);
  }
  return value;
}

const values = parseCommandLine();
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const port = wholeNumber('port', values.port, 0, 65535)!;
const commitMs = wholeNumber('journal-commit-ms', values['journal-commit-ms'], 0, 500);
const memoryBudgetMb = wholeNumber('memory-budget-mb', values['memory-budget-mb'], 1, 1_048_576);

if (values.repair) {
  // Opening the store in repair mode does the work; closing it applies everything to SQLite.
  const messages: string[] = [];
  try {
    new Store(values.dbpath!, { repair: true, log: (m) => messages.push(m) }).close();
  } catch (err) {
    console.error(`embedded-mongo: repair of ${values.dbpath} failed: ${(err as Error).message}`);
    process.exit(1);
  }
  for (const m of messages) console.log(`embedded-mongo: ${m}`);
  console.log(`embedded-mongo: repair of ${values.dbpath} done${messages.length ? '' : ': nothing was damaged'}`);
  process.exit(0);
}

const storage = values['in-memory'] ? ({ inMemory: true } as const) : { dbPath: values.dbpath! };
const mongo = await startEmbeddedMongo(storage, {
  port,
  thread: 'main',
  journalCommitMs: commitMs,
  memoryBudgetMb,
}).catch((err: Error & { code?: unknown }) => {
  // DBPathInUse, a damaged journal (with the repair command to run), a bad option.
  console.error(`embedded-mongo: cannot start: ${err.message}${err.code !== undefined ? ` (${String(err.code)})` : ''}`);
  process.exit(1);
});
console.log(`embedded-mongo listening on ${mongo.uri} (${'dbPath' in storage ? storage.dbPath : 'in memory'})`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void mongo.stop().then(() => process.exit(0));
  });
}
