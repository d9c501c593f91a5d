// Smoke test: mongoose over TCP against the embedded store does the basics an app needs; the
// standalone command line explains itself.
import { execFile } from 'node:child_process';
import path from 'node:path';
import mongoose, { Schema } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { repoRoot } from './helpers.js';

interface ExplainReply {
  queryPlanner: { winningPlan: { stage: string; inputStage?: { indexName: string } } };
  executionStats: { totalDocsExamined: number };
}

let mongo: EmbeddedMongo;
let connection: mongoose.Connection;

const attendeeSchema = new Schema({
  email: { type: String, required: true, unique: true },
  name: String,
  checkIns: { type: Number, default: 0 },
  tags: [String],
});

beforeAll(async () => {
  mongo = await startEmbeddedMongo({ inMemory: true });
  connection = await mongoose.createConnection(mongo.uri, { dbName: 'smoke' }).asPromise();
});

afterAll(async () => {
  await connection?.close();
  await mongo?.stop();
});

describe('embedded store through mongoose', () => {
  it('creates, finds, updates and deletes attendees, enforcing a unique email', async () => {
    const Attendee = connection.model('Attendee', attendeeSchema);
    await Attendee.init();

    const ana = await Attendee.create({ email: 'ana@example.org', name: 'Ana', tags: ['speaker'] });
    expect(ana._id).toBeDefined();

    const found = await Attendee.findById(ana._id).lean();
    expect(found?.name).toBe('Ana');

    await Attendee.updateOne({ _id: ana._id }, { $inc: { checkIns: 1 }, $push: { tags: 'vip' } });
    const updated = await Attendee.findOneAndUpdate({ email: 'ana@example.org' }, { $set: { name: 'Ana B' } }, { returnDocument: 'after' }).lean();
    expect(updated).toMatchObject({ name: 'Ana B', checkIns: 1, tags: ['speaker', 'vip'] });

    await expect(Attendee.create({ email: 'ana@example.org', name: 'Copy' })).rejects.toMatchObject({
      code: 11000,
      keyPattern: { email: 1 },
      keyValue: { email: 'ana@example.org' },
    });

    const indexes = await Attendee.collection.indexes();
    expect(indexes.map((i) => i.name).sort()).toEqual(['_id_', 'email_1']);

    await Attendee.deleteOne({ _id: ana._id });
    expect(await Attendee.countDocuments()).toBe(0);
  });

  it('pages through more documents than one batch and aggregates them', async () => {
    const Session = connection.model('Session', new Schema({ n: Number, room: String }));
    await Session.insertMany(Array.from({ length: 250 }, (_, n) => ({ n, room: n % 2 ? 'A' : 'B' })));
    const all = await Session.find({ n: { $gte: 10 } }).sort({ n: -1 }).lean();
    expect(all).toHaveLength(240);
    expect(all[0].n).toBe(249);
    // Sorted by an indexed field with a filter the index does not cover: same answer as a scan.
    await Session.collection.createIndex({ n: 1 });
    const newestInA = await Session.find({ room: 'A' }).sort({ n: -1 }).limit(3).lean();
    expect(newestInA.map((s) => s.n)).toEqual([249, 247, 245]);
    // explain tells an index lookup from a collection scan.
    const indexed = (await Session.find({ n: 42 }).explain('executionStats')) as unknown as ExplainReply;
    expect(indexed.queryPlanner.winningPlan.inputStage?.indexName).toBe('n_1');
    expect(indexed.executionStats.totalDocsExamined).toBe(1);
    const scanned = (await Session.find({ room: 'A' }).explain()) as unknown as ExplainReply;
    expect(scanned.queryPlanner.winningPlan.stage).toBe('COLLSCAN');
    const byRoom = await Session.aggregate([{ $group: { _id: '$room', total: { $sum: 1 } } }, { $sort: { _id: 1 } }]);
    expect(byRoom).toEqual([{ _id: 'A', total: 125 }, { _id: 'B', total: 125 }]);
  });

  it('answers an upsert with the new id and refuses transactions like a standalone mongod', async () => {
    const Counter = connection.model('Counter', new Schema({ key: String, value: Number }));
    const result = await Counter.updateOne({ key: 'visits' }, { $inc: { value: 1 }, $setOnInsert: { key: 'visits' } }, { upsert: true });
    expect(result.upsertedCount).toBe(1);
    expect((await Counter.findOne({ key: 'visits' }).lean())?.value).toBe(1);

    const session = await connection.startSession();
    await expect(
      session.withTransaction(async () => {
        await Counter.create([{ key: 'x', value: 1 }], { session });
      }),
    ).rejects.toThrow(/retryable writes|Transaction numbers are only allowed on a replica set member or mongos/);
    await session.endSession();
  });
});

describe('embedded store on disk', () => {
  it('keeps data across a restart and refuses a second store on the same directory', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dbPath = mkdtempSync(path.join(os.tmpdir(), 'smoke-'));
    try {
      const first = await startEmbeddedMongo({ dbPath });
      await expect(startEmbeddedMongo({ dbPath })).rejects.toThrow(/in use/);
      const conn = await mongoose.createConnection(first.uri, { dbName: 'disk' }).asPromise();
      await conn.collection('notes').insertOne({ text: 'kept' });
      await conn.close();
      await first.stop();

      const second = await startEmbeddedMongo({ dbPath });
      const again = await mongoose.createConnection(second.uri, { dbName: 'disk' }).asPromise();
      expect(await again.collection('notes').findOne({}, { projection: { _id: 0 } })).toEqual({ text: 'kept' });
      await again.close();
      await second.stop();
    } finally {
      rmSync(dbPath, { recursive: true, force: true });
    }
  });
});

describe('the standalone command line', () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'server/embedded-mongo/cli.ts'), ...args], { cwd: repoRoot }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out: stdout + stderr }),
      );
    });

  it('--help prints every option and exits 0; an unknown option or a bad number exits 2 with a message, not a stack trace', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const option of ['--port', '--dbpath', '--in-memory', '--journal-commit-ms', '--repair', '--memory-budget-mb']) expect(help.out).toContain(option);
    const unknown = await run(['--bogus']);
    expect(unknown).toMatchObject({ code: 2, out: expect.stringContaining("Unknown option '--bogus'") });
    expect(unknown.out).not.toContain('    at ');
    const port = await run(['--port', 'abc']);
    expect(port).toMatchObject({ code: 2, out: expect.stringContaining('--port must be a whole number from 0 to 65535, not "abc"') });
  });
});
