// Durability section of bench/embedded-mongo.ts (its own module so other sections merge cleanly):
//  - inserts from 8 clients with writeConcern { j: true } (each acknowledged after an fdatasync,
//    shared by group commit) against the same inserts acknowledged after the journal append
//    (the default), in alternating phases of the same run; target: j:true at most 3x slower;
//  - start-up time on a data directory of 100,000 attendee-shaped documents with the app's kind
//    of indexes, against reading the same SQLite rows (and against reading + decoding them).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { BSON, MongoClient, type Document } from 'mongodb';
import { startEmbeddedMongo } from '../server/embedded-mongo/index.js';

export interface DurabilityBenchOptions {
  quick: boolean;
  progress(message: string): void;
}

export interface DurabilityBenchResult {
  lines: string[];
  json: Document;
  pass: boolean;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : Number.NaN;
};

const CLIENTS = 8;
const STARTUP_DOCS = 100_000;

async function serverJournal(client: MongoClient): Promise<Document> {
  return ((await client.db('admin').command({ serverStatus: 1 })) as Document).journal as Document;
}

/** 8 clients inserting one document at a time for `ms`, with or without j:true. */
async function phase(clients: MongoClient[], j: boolean, ms: number, tag: string): Promise<{ inserted: number; seconds: number; latenciesUs: number[] }> {
  const latenciesUs: number[] = [];
  let inserted = 0;
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    clients.map(async (client, c) => {
      const checkIns = client.db('bench').collection('checkins');
      for (let i = 0; performance.now() < deadline; i++) {
        const t0 = performance.now();
        await checkIns.insertOne({ attendee: `${tag}-${c}-${i}`, desk: c, at: new Date() }, j ? { writeConcern: { j: true } } : {});
        latenciesUs.push((performance.now() - t0) * 1000);
        inserted++;
      }
    }),
  );
  return { inserted, seconds: (performance.now() - start) / 1000, latenciesUs };
}

async function groupCommit(options: DurabilityBenchOptions) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-durability-'));
  const store = await startEmbeddedMongo({ dbPath: dir });
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const c = new MongoClient(store.uri, { maxPoolSize: 1 });
      await c.connect();
      return c;
    }),
  );
  try {
    const rounds = options.quick ? 4 : 10;
    const phaseMs = options.quick ? 500 : 1000;
    options.progress(`group commit: ${CLIENTS} clients, ${rounds} rounds of ${phaseMs} ms default-ack / ${phaseMs} ms j:true`);
    await phase(clients, false, 300, 'warm');
    await phase(clients, true, 300, 'warmj');
    const totals = { plain: { inserted: 0, seconds: 0, lat: [] as number[] }, j: { inserted: 0, seconds: 0, lat: [] as number[] } };
    let syncedWrites = 0;
    let fsyncs = 0;
    let commits = 0;
    // Alternating phases: both modes see the same machine load (two cores shared by many).
    for (let r = 0; r < rounds; r++) {
      const p = await phase(clients, false, phaseMs, `p${r}`);
      totals.plain.inserted += p.inserted;
      totals.plain.seconds += p.seconds;
      totals.plain.lat.push(...p.latenciesUs);
      const before = await serverJournal(clients[0]!);
      const q = await phase(clients, true, phaseMs, `j${r}`);
      const after = await serverJournal(clients[0]!);
      totals.j.inserted += q.inserted;
      totals.j.seconds += q.seconds;
      totals.j.lat.push(...q.latenciesUs);
      syncedWrites += (after.syncedWrites as number) - (before.syncedWrites as number);
      fsyncs += (after.fsyncs as number) - (before.fsyncs as number);
      commits += (after.groupCommits as number) - (before.groupCommits as number);
    }
    const plainRate = totals.plain.inserted / totals.plain.seconds;
    const jRate = totals.j.inserted / totals.j.seconds;
    const ratio = round(plainRate / jRate, 2);
    return {
      clients: CLIENTS,
      defaultAck: { docsPerSecond: Math.round(plainRate), medianUs: Math.round(median(totals.plain.lat)), inserted: totals.plain.inserted },
      journaled: {
        docsPerSecond: Math.round(jRate),
        medianUs: Math.round(median(totals.j.lat)),
        inserted: totals.j.inserted,
        fsyncs,
        groupCommits: commits,
        writesPerFsync: fsyncs ? round(syncedWrites / fsyncs, 1) : null,
      },
      ratio,
      target: 'ratio <= 3 (default-ack docs/s over j:true docs/s)',
      pass: ratio <= 3,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function attendee(i: number): Document {
  const site = i % 40;
  return {
    meetingId: `m${i % 5}`,
    siteId: `s${site}`,
    fullName: `Nguyễn Văn Người Dự ${i}`,
    email: `attendee${i}@example.vn`,
    phone: `09${String(10_000_000 + i).slice(-8)}`,
    organization: `Sở ${site}`,
    role: i % 10 === 0 ? 'speaker' : 'attendee',
    status: 'registered',
    rsvp: { response: 'accepted', respondedAt: new Date(1_760_000_000_000 + i * 1000) },
    revision: 0,
    createdAt: new Date(1_760_000_000_000 + i),
    updatedAt: new Date(1_760_000_000_000 + i),
  };
}

async function startup(options: DurabilityBenchOptions) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-startup-'));
  try {
    options.progress(`start-up: writing ${STARTUP_DOCS} attendee documents`);
    const loader = await startEmbeddedMongo({ dbPath: dir });
    const client = new MongoClient(loader.uri);
    await client.connect();
    const attendees = client.db('bridgepoint').collection('attendees');
    await attendees.createIndex({ meetingId: 1, siteId: 1 });
    await attendees.createIndex({ meetingId: 1, email: 1 }, { unique: true });
    for (let off = 0; off < STARTUP_DOCS; off += 5000) {
      await attendees.insertMany(Array.from({ length: 5000 }, (_, k) => attendee(off + k)), { ordered: false });
    }
    await client.close();
    await loader.stop();

    const file = path.join(dir, 'bridgepoint.sqlite');
    const repeats = options.quick ? 2 : 5;
    const startMs: number[] = [];
    const readMs: number[] = [];
    const decodeMs: number[] = [];
    options.progress(`start-up: ${repeats} starts against reading the same rows`);
    for (let r = 0; r < repeats; r++) {
      // Baseline: the same rows read straight from the same SQLite file.
      let t0 = performance.now();
      const db = new Database(file, { readonly: true });
      let bytes = 0;
      for (const row of db.prepare('SELECT rid, doc FROM documents').iterate() as Iterable<{ doc: Buffer }>) bytes += row.doc.length;
      readMs.push(performance.now() - t0);
      t0 = performance.now();
      let decoded = 0;
      for (const row of db.prepare('SELECT rid, doc FROM documents').iterate() as Iterable<{ doc: Buffer }>) {
        decoded += Object.keys(BSON.deserialize(row.doc, { promoteValues: false })).length;
      }
      decodeMs.push(performance.now() - t0);
      db.close();
      if (bytes === 0 || decoded === 0) throw new Error('the data file is empty');

      // The store's start: open, load the working set, build the indexes, listen.
      t0 = performance.now();
      const store = await startEmbeddedMongo({ dbPath: dir }, { thread: 'main' });
      startMs.push(performance.now() - t0);
      const check = new MongoClient(store.uri);
      await check.connect();
      const n = await check.db('bridgepoint').collection('attendees').countDocuments();
      await check.close();
      await store.stop();
      if (n !== STARTUP_DOCS) throw new Error(`start-up: ${n} documents after a restart, expected ${STARTUP_DOCS}`);
    }
    const start = round(median(startMs));
    const read = round(median(readMs));
    const decode = round(median(decodeMs));
    return {
      documents: STARTUP_DOCS,
      indexes: 3,
      startMs: start,
      readRowsMs: read,
      readAndDecodeMs: decode,
      ratio: round(start / read, 2),
      ratioToReadAndDecode: round(start / decode, 2),
      repeats,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function durabilityBench(options: DurabilityBenchOptions): Promise<DurabilityBenchResult> {
  const gc = await groupCommit(options);
  const st = await startup(options);
  const lines = [
    '',
    `durability: inserts from ${gc.clients} clients, alternating phases in one run`,
    `  default ack (journal append)   ${String(gc.defaultAck.docsPerSecond).padStart(7)} docs/s   median ${gc.defaultAck.medianUs} µs`,
    `  j:true (fdatasync, group commit)${String(gc.journaled.docsPerSecond).padStart(6)} docs/s   median ${gc.journaled.medianUs} µs   ${gc.journaled.writesPerFsync ?? '-'} writes per fdatasync (${gc.journaled.fsyncs} fdatasyncs)`,
    `  ratio ${gc.ratio.toFixed(2)}  target <= 3  ${gc.pass ? 'PASS' : 'FAIL'}`,
    `start-up on ${st.documents} attendee documents (${st.indexes} indexes): ${st.startMs} ms (median of ${st.repeats})`,
    `  reading the same rows from SQLite: ${st.readRowsMs} ms (ratio ${st.ratio.toFixed(2)}); reading + decoding the BSON: ${st.readAndDecodeMs} ms (ratio ${st.ratioToReadAndDecode.toFixed(2)})`,
  ];
  return { lines, json: { groupCommit: gc, startup: st }, pass: gc.pass };
}

// Standalone: `npx tsx bench/embedded-mongo-durability.ts [--quick]` (also run by bench/embedded-mongo.ts).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const progress = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
  const result = await durabilityBench({ quick, progress });
  for (const line of result.lines) console.log(line);
  const { groupCommit: gc, startup: st } = result.json;
  console.log(
    JSON.stringify({
      bench: 'embedded-mongo-durability',
      quick,
      jTrueDocsPerSecond: gc.journaled.docsPerSecond,
      baselineDefaultAckDocsPerSecond: gc.defaultAck.docsPerSecond,
      ratio: gc.ratio,
      writesPerFsync: gc.journaled.writesPerFsync,
      startupMs: st.startMs,
      startupDocuments: st.documents,
      baselineReadRowsMs: st.readRowsMs,
      startupRatio: st.ratio,
      pass: result.pass,
    }),
  );
}
