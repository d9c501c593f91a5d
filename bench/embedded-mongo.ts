// Benchmark of the embedded MongoDB-compatible store, through mongoose, against the wire floor.
//
//   npx tsx bench/embedded-mongo.ts [--ops N] [--samples N] [--seconds S] [--in-memory] [--quick]
//                                   [--only durability|memory] [--docs N]
//
// Starts the store itself (on a temporary dbPath unless --in-memory), then measures:
//  - the median and p95 of insert (Model.create), findById, updateOne with $inc and
//    findOneAndUpdate, each interleaved with an admin `ping` round trip in the same loop so the
//    baseline sees the same conditions;
//  - an indexed `.lean()` query returning 50 of 100,000 documents, also against ping;
//  - sustained inserts/s into a collection with a unique index from 8 mongoose connections;
//  - RSS and heapUsed sampled over an N-operation mixed run (default 1,000,000);
//  - durability (bench/embedded-mongo-durability.ts): j:true inserts from 8 clients against
//    default-ack inserts, and start-up time on 100,000 documents against reading the same rows;
//  - memory per attendee-shaped document with the app's indexes against its BSON size
//    (bench/embedded-mongo-memory.ts; --docs N, default 20,000, 5,000 with --quick).
// --quick shrinks every section to run in a couple of minutes; --only durability|memory runs one.
// Prints a table, then one line of JSON with every figure, baseline, ratio and target.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { startEmbeddedMongo } from '../server/embedded-mongo/index.js';
import { durabilityBench } from './embedded-mongo-durability.js';
import { measureMemoryPerDocument, type MemoryPerDocument } from './embedded-mongo-memory.js';

// ---- options ---------------------------------------------------------------------------------
function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}
const QUICK = process.argv.includes('--quick');
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const OPS = flag('ops', QUICK ? 100_000 : 1_000_000);
const SAMPLES = flag('samples', QUICK ? 300 : 2000);
const SUSTAIN_SECONDS = flag('seconds', QUICK ? 2 : 5);
const IN_MEMORY = process.argv.includes('--in-memory');
const CLIENTS = 8;
const BIG = 100_000;
const PER_BUCKET = 50;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Progress on stderr, so that stdout holds only the table and the JSON line. */
const progress = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---- statistics ------------------------------------------------------------------------------
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
interface Dist { median: number; p95: number; n: number }
function dist(samples: number[]): Dist {
  const s = [...samples].sort((a, b) => a - b);
  return { median: round(quantile(s, 0.5)), p95: round(quantile(s, 0.95)), n: s.length };
}
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const us = (t0: number) => (performance.now() - t0) * 1000; // microseconds
const mib = (b: number) => round(b / 1024 / 1024, 1);

// ---- setup -----------------------------------------------------------------------------------
interface Item { _id?: unknown; name: string; n: number; bucket: number; tags: string[] }
const itemSchema = new Schema<Item>({ name: String, n: Number, bucket: { type: Number, index: true }, tags: [String] });
interface Account { email: string; client: number; seq: number }
const accountSchema = new Schema<Account>({ email: { type: String, unique: true }, client: Number, seq: Number });

interface Sustained { inserted: number; duplicates: number; seconds: number }

/** Each client: its own mongoose connection inserting one document at a time until the deadline. */
async function clientLoop(M: Model<Account>, client: number, deadline: number, tally: { inserted: number; duplicates: number }, bare: boolean) {
  for (let seq = 0; performance.now() < deadline; seq++) {
    try {
      const doc = { email: `c${client}-${seq}@example.org`, client, seq };
      if (bare) await M.collection.insertOne(doc);
      else await M.create(doc);
      tally.inserted++;
    } catch (e) {
      if ((e as { code?: number }).code === 11000) tally.duplicates++;
      else throw e;
    }
  }
}

/** `bare`: the same loop through each connection's driver collection, skipping mongoose's document layer. */
async function sustainedHere(uri: string, bare = false): Promise<Sustained> {
  const conns: Connection[] = [];
  for (let c = 0; c < CLIENTS; c++) conns.push(await mongoose.createConnection(uri, { dbName: 'bench', maxPoolSize: 2 }).asPromise());
  const models = conns.map((c) => c.model<Account>(bare ? 'BareAccount' : 'Account', accountSchema));
  await Promise.all(models.map((m) => m.init()));
  const tally = { inserted: 0, duplicates: 0 };
  const start = performance.now();
  await Promise.all(models.map((M, c) => clientLoop(M, c, start + SUSTAIN_SECONDS * 1000, tally, bare)));
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(conns.map((c) => c.close()));
  return { ...tally, seconds };
}

/** Memory per document, on a store of its own in this thread (the worker's store is not involved). */
async function memoryPerDocumentSection(): Promise<MemoryPerDocument> {
  const docs = flag('docs', QUICK ? 5_000 : 20_000);
  progress(`memory per document over ${docs} attendee-shaped documents`);
  const m = await measureMemoryPerDocument(docs);
  console.log(`memory per attendee-shaped document (${m.documents} documents, ${m.indexes} indexes): BSON ${m.bsonBytesPerDocument} B, resident ${m.residentBytesPerDocument} B (heap ${m.heapBytesPerDocument} B + buffers ${m.externalBytesPerDocument} B), ratio ${m.ratio}  ${m.target}  ${m.pass ? 'PASS' : 'FAIL'}`);
  return m;
}

async function main(): Promise<void> {
  if (ONLY === 'durability') {
    const durability = await durabilityBench({ quick: QUICK, progress });
    for (const line of durability.lines) console.log(line);
    console.log(JSON.stringify({ bench: 'embedded-mongo', section: 'durability', quick: QUICK, durability: durability.json, pass: durability.pass }));
    return;
  }
  if (ONLY === 'memory') {
    const perDocument = await memoryPerDocumentSection();
    console.log(JSON.stringify({ bench: 'embedded-mongo', section: 'memory', quick: QUICK, memoryPerDocument: perDocument, pass: perDocument.pass }));
    return;
  }
  if (ONLY !== undefined) throw new Error(`--only knows: durability, memory (not ${ONLY})`);
  const dbDir = IN_MEMORY ? undefined : mkdtempSync(path.join(os.tmpdir(), 'bench-embedded-mongo-'));
  const store = await startEmbeddedMongo(dbDir ? { dbPath: dbDir } : { inMemory: true }, {});
  const started = performance.now();
  const conn = await mongoose.createConnection(store.uri, { dbName: 'bench', maxPoolSize: 10 }).asPromise();
  const admin = conn.db!.admin();
  const ping = async () => {
    const t0 = performance.now();
    await admin.command({ ping: 1 });
    return us(t0);
  };

  try {
    const Item = conn.model<Item>('Item', itemSchema);
    await Item.init();
    // Warm up every path (JIT, statement caches, connection pool).
    for (let i = 0; i < 300; i++) {
      await ping();
      const d = await Item.create({ name: `warm${i}`, n: 0, bucket: -1, tags: ['w'] });
      await Item.findById(d._id);
      await Item.updateOne({ _id: d._id }, { $inc: { n: 1 } });
      await Item.findOneAndUpdate({ _id: d._id }, { $inc: { n: 1 } }, { returnDocument: 'after' });
    }

    // ---- single-document operations, each interleaved with ping -------------------------------
    progress(`single-document operations, ${SAMPLES} samples each, interleaved with ping`);
    const pings: number[] = [];
    const opSamples: Record<string, number[]> = { insert: [], findById: [], updateOneInc: [], findOneAndUpdate: [] };
    // The same operation through the bare driver (Model.collection), for context only: what is
    // left between it and ping is the store's work; between it and mongoose, mongoose's.
    const rawSamples: Record<string, number[]> = { insert: [], findById: [], updateOneInc: [], findOneAndUpdate: [], leanQuery50of100k: [] };
    const timed = async (into: number[], f: () => Promise<unknown>) => {
      const t0 = performance.now();
      const r = await f();
      into.push(us(t0));
      return r;
    };
    const ids: unknown[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      pings.push(await ping());
      const d = (await timed(opSamples.insert!, () => Item.create({ name: `item${i}`, n: 0, bucket: -2, tags: ['a', 'b'] }))) as { _id: unknown };
      ids.push(d._id);
      await timed(rawSamples.insert!, () => Item.collection.insertOne({ name: `raw${i}`, n: 0, bucket: -3, tags: ['a', 'b'] }));
    }
    for (let i = 0; i < SAMPLES; i++) {
      const id = ids[(i * 7919) % ids.length];
      pings.push(await ping());
      await timed(opSamples.findById!, () => Item.findById(id));
      await timed(rawSamples.findById!, () => Item.collection.findOne({ _id: id as never }));
    }
    for (let i = 0; i < SAMPLES; i++) {
      const id = ids[(i * 104729) % ids.length];
      pings.push(await ping());
      await timed(opSamples.updateOneInc!, () => Item.updateOne({ _id: id }, { $inc: { n: 1 } }));
      await timed(rawSamples.updateOneInc!, () => Item.collection.updateOne({ _id: id as never }, { $inc: { n: 1 } }));
    }
    for (let i = 0; i < SAMPLES; i++) {
      const id = ids[(i * 15485863) % ids.length];
      pings.push(await ping());
      await timed(opSamples.findOneAndUpdate!, () => Item.findOneAndUpdate({ _id: id }, { $inc: { n: 1 } }, { returnDocument: 'after' }));
      await timed(rawSamples.findOneAndUpdate!, () => Item.collection.findOneAndUpdate({ _id: id as never }, { $inc: { n: 1 } }, { returnDocument: 'after' }));
    }

    // ---- indexed lean query: 50 of 100,000 ----------------------------------------------------
    const Big = conn.model<Item>('Big', itemSchema, 'big');
    await Big.init();
    const buckets = BIG / PER_BUCKET;
    progress(`loading ${BIG} documents for the indexed lean query`);
    const loadStart = performance.now();
    for (let off = 0; off < BIG; off += 5000) {
      const batch = Array.from({ length: 5000 }, (_, k) => {
        const i = off + k;
        return { name: `big${i}`, n: i, bucket: i % buckets, tags: ['x'] };
      });
      await Big.collection.insertMany(batch, { ordered: false });
    }
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const leanPings: number[] = [];
    const leanSamples: number[] = [];
    let wrongCount = 0;
    for (let i = 0; i < Math.max(200, SAMPLES / 4); i++) {
      leanPings.push(await ping());
      const t0 = performance.now();
      const docs = await Big.find({ bucket: (i * 37) % buckets }).lean();
      leanSamples.push(us(t0));
      if (docs.length !== PER_BUCKET) wrongCount++;
      await timed(rawSamples.leanQuery50of100k!, () => Big.collection.find({ bucket: (i * 37) % buckets }).toArray());
    }
    if (wrongCount > 0) throw new Error(`the indexed query returned the wrong number of documents ${wrongCount} times`);

    // ---- sustained inserts from 8 connections into a unique-indexed collection ----------------
    // The 8 mongoose connections share this thread, the way one app process holds them.
    progress(`sustained inserts from ${CLIENTS} connections for ${SUSTAIN_SECONDS} s`);
    const Account = conn.model<Account>('Account', accountSchema);
    await Account.init(); // the unique index exists before the first insert
    const sustained = await sustainedHere(store.uri);
    const bareSustained = await sustainedHere(store.uri, true); // context: the same without mongoose
    const bareInsertsPerSecond = Math.round(bareSustained.inserted / bareSustained.seconds);
    const { inserted, duplicates } = sustained;
    const sustainSeconds = sustained.seconds;
    const insertsPerSecond = Math.round(inserted / sustainSeconds);
    const stored = await Account.countDocuments();
    if (stored !== inserted) throw new Error(`sustained run: ${inserted} acknowledged but ${stored} stored`);

    // ---- memory over a long mixed run ---------------------------------------------------------
    const Mem = conn.model<Item>('Mem', itemSchema, 'mem');
    await Mem.init();
    const WINDOW = 1000; // live documents at any time: each insert is matched by a delete
    const live: unknown[] = [];
    const memSamples: Array<{ ops: number; rssMiB: number; heapUsedMiB: number }> = [];
    const sampleEvery = Math.max(2000, Math.floor(OPS / 50));
    const WORKERS = Number(process.env.BENCH_WORKERS ?? 2); // more only queue up on the single-threaded store
    let done = 0;
    let nextSample = 0;
    progress(`memory over ${OPS} mixed operations`);
    const memStart = performance.now();
    const sample = () => {
      gc();
      const m = process.memoryUsage();
      memSamples.push({ ops: done, rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed) });
    };
    sample();
    nextSample = sampleEvery;
    // The app's mix: mostly reads, some updates, and inserts each matched by a delete so that
    // the data set stays the same size and any growth is the store's (or the driver's).
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        for (let k = w; ; k += WORKERS) {
          if (done >= OPS) return;
          const pick = live[(k * 7919) % Math.max(1, live.length)];
          switch (k % 10) {
            case 0: {
              const d = await Mem.collection.insertOne({ name: `m${k}`, n: 0, bucket: k % 100, tags: ['m'] });
              live.push(d.insertedId);
              done++;
              if (live.length > WINDOW) {
                await Mem.deleteOne({ _id: live.shift() });
                done++;
              }
              break;
            }
            case 1:
              await Mem.updateOne({ _id: pick }, { $inc: { n: 1 } });
              done++;
              break;
            case 2:
            case 3:
            case 4:
            case 5:
            case 6:
              await Mem.findById(pick).lean();
              done++;
              break;
            default:
              await Mem.find({ bucket: k % 100 }).limit(5).lean();
              done++;
          }
          if (done >= nextSample) {
            nextSample += sampleEvery;
            sample();
            if (memSamples.length % 10 === 0) progress(`  ${done} ops, rss ${memSamples[memSamples.length - 1]!.rssMiB} MiB`);
          }
        }
      }),
    );
    sample();
    const memSeconds = (performance.now() - memStart) / 1000;
    // Flat: after the first 10% (warm-up), the end is within a small margin of the level reached.
    const warm = memSamples.find((s) => s.ops >= OPS * 0.1) ?? memSamples[0]!;
    const last = memSamples[memSamples.length - 1]!;
    const peakRss = Math.max(...memSamples.filter((s) => s.ops >= warm.ops).map((s) => s.rssMiB));
    const rssGrowth = round(last.rssMiB - warm.rssMiB);
    const heapGrowth = round(last.heapUsedMiB - warm.heapUsedMiB);
    const RSS_LIMIT_MIB = 64;
    const HEAP_LIMIT_MIB = 16;
    const memFlat = rssGrowth <= RSS_LIMIT_MIB && heapGrowth <= HEAP_LIMIT_MIB;

    // ---- report --------------------------------------------------------------------------------
    const pingDist = dist(pings);
    const leanPingDist = dist(leanPings);
    type Row = {
      name: string; median: number; p95: number; baseline: number; ratio: number; target: string; pass: boolean;
      driverMedian: number; driverRatio: number;
    };
    const driver = (name: string) => {
      const m = dist(rawSamples[name]!).median;
      return { driverMedian: m, driverRatio: round(m / (name === 'leanQuery50of100k' ? leanPingDist.median : pingDist.median), 2) };
    };
    const rows: Row[] = [];
    for (const [name, s] of Object.entries(opSamples)) {
      const d = dist(s);
      const ratio = round(d.median / pingDist.median, 2);
      rows.push({ name, median: d.median, p95: d.p95, baseline: pingDist.median, ratio, target: 'ratio <= 2', pass: ratio <= 2, ...driver(name) });
    }
    const lean = dist(leanSamples);
    const leanRatio = round(lean.median / leanPingDist.median, 2);
    rows.push({ name: 'leanQuery50of100k', median: lean.median, p95: lean.p95, baseline: leanPingDist.median, ratio: leanRatio, target: 'ratio <= 4', pass: leanRatio <= 4, ...driver('leanQuery50of100k') });

    console.log(`\nembedded-mongo benchmark (${IN_MEMORY ? 'in-memory' : 'on disk, WAL'}; node ${process.version}; ${os.cpus().length} cpus)`);
    console.log(`ping (admin command) baseline: median ${pingDist.median} µs, p95 ${pingDist.p95} µs over ${pingDist.n} round trips\n`);
    const pad = (s: string | number, n: number) => String(s).padStart(n);
    console.log(`${'operation (mongoose)'.padEnd(20)}${pad('median µs', 11)}${pad('p95 µs', 10)}${pad('ping µs', 10)}${pad('ratio', 8)}  target       result   bare driver: median µs, ratio`);
    for (const r of rows) {
      console.log(`${r.name.padEnd(20)}${pad(r.median, 11)}${pad(r.p95, 10)}${pad(r.baseline, 10)}${pad(r.ratio.toFixed(2), 8)}  ${r.target.padEnd(12)} ${r.pass ? 'PASS' : 'FAIL'}   ${pad(r.driverMedian, 10)}${pad(r.driverRatio.toFixed(2), 7)}`);
    }
    console.log(`\nsustained inserts, ${CLIENTS} mongoose connections, unique index: ${insertsPerSecond} docs/s (${inserted} in ${round(sustainSeconds, 2)} s, ${duplicates} duplicates)  target >= 5000  ${insertsPerSecond >= 5000 ? 'PASS' : 'FAIL'}   bare driver: ${bareInsertsPerSecond} docs/s`);
    console.log(`loading ${BIG} documents for the lean query: ${round(loadSeconds, 2)} s`);
    console.log(`memory over ${done} mixed operations (${round(memSeconds, 1)} s, ${Math.round(done / memSeconds)} ops/s):`);
    const shown = memSamples.filter((_, i) => i % Math.ceil(memSamples.length / 10) === 0 || i === memSamples.length - 1);
    for (const s of shown) console.log(`  after ${pad(s.ops, 9)} ops: rss ${pad(s.rssMiB, 7)} MiB, heapUsed ${pad(s.heapUsedMiB, 7)} MiB`);
    console.log('  (rss is the whole process, store worker thread included; heapUsed is the main thread: mongoose + driver)');
    console.log(`  growth after warm-up (${warm.ops} ops): rss ${rssGrowth} MiB (limit ${RSS_LIMIT_MIB}), heapUsed ${heapGrowth} MiB (limit ${HEAP_LIMIT_MIB})  ${memFlat ? 'PASS' : 'FAIL'}`);

    const durability = await durabilityBench({ quick: QUICK, progress });
    for (const line of durability.lines) console.log(line);
    const perDocument = await memoryPerDocumentSection();

    const result = {
      bench: 'embedded-mongo',
      storage: IN_MEMORY ? 'memory' : 'disk',
      unit: 'microseconds',
      ping: pingDist,
      operations: Object.fromEntries(
        rows.map((r) => [r.name, { median: r.median, p95: r.p95, baseline: r.baseline, ratio: r.ratio, target: r.target, pass: r.pass, driverMedian: r.driverMedian, driverRatio: r.driverRatio }]),
      ),
      sustainedInserts: { clients: CLIENTS, uniqueIndex: true, docsPerSecond: insertsPerSecond, seconds: round(sustainSeconds, 2), target: '>= 5000', pass: insertsPerSecond >= 5000, driverDocsPerSecond: bareInsertsPerSecond },
      memory: {
        ops: done,
        seconds: round(memSeconds, 1),
        warmupOps: warm.ops,
        rssStartMiB: warm.rssMiB,
        rssEndMiB: last.rssMiB,
        rssPeakMiB: peakRss,
        rssGrowthMiB: rssGrowth,
        heapUsedStartMiB: warm.heapUsedMiB,
        heapUsedEndMiB: last.heapUsedMiB,
        heapGrowthMiB: heapGrowth,
        heapScope: 'heapUsed is the main thread (mongoose + driver); the store runs in its worker thread, which rss covers',
        target: `rss growth <= ${RSS_LIMIT_MIB} MiB and heapUsed growth <= ${HEAP_LIMIT_MIB} MiB after warm-up`,
        pass: memFlat,
      },
      durability: durability.json,
      memoryPerDocument: perDocument,
      totalSeconds: round((performance.now() - started) / 1000, 1),
      pass: rows.every((r) => r.pass) && insertsPerSecond >= 5000 && memFlat && durability.pass && perDocument.pass,
    };
    console.log(JSON.stringify(result));
  } finally {
    await conn.close();
    await store.stop();
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
