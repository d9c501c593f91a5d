// Durability as a MongoDB user asks for it: writeConcern j:true / w:"majority" waits for the disk
// (and concurrent writers share one fdatasync), the periodic commit, writeConcern errors of a
// standalone, the data-directory lock whatever PID the lock file names, and a full disk: the
// write gets an error, nothing unacknowledged is visible, nothing acknowledged is lost.
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Document, MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { closeAfterKill, connect, startCli, tempDir, type CliProcess } from './helpers.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function storeOnDisk(options: Parameters<typeof startEmbeddedMongo>[1] = {}) {
  const tmp = tempDir('embedded-mongo-durability-');
  cleanups.push(() => tmp.remove());
  const store = await startEmbeddedMongo({ dbPath: tmp.dir }, options);
  cleanups.push(() => store.stop());
  const client = await connect(store.uri);
  cleanups.push(() => client.close());
  return { dir: tmp.dir, store, client };
}

async function journalStatus(client: MongoClient): Promise<Document> {
  return ((await client.db('admin').command({ serverStatus: 1 })) as Document).journal as Document;
}

function trackCli(p: CliProcess): CliProcess {
  cleanups.push(() => {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  });
  return p;
}

describe('writeConcern j:true and w:"majority"', () => {
  it('j:true waits for an fdatasync of the journal; the default acknowledgement does not', async () => {
    const { client } = await storeOnDisk();
    const checkIns = client.db('live').collection('checkins');
    await checkIns.insertOne({ attendee: 'a-1' });
    const before = await journalStatus(client);
    await checkIns.insertOne({ attendee: 'a-2' });
    expect((await journalStatus(client)).fsyncs).toBe(before.fsyncs);

    await checkIns.insertOne({ attendee: 'a-3' }, { writeConcern: { j: true } });
    const afterJ = await journalStatus(client);
    expect(afterJ.fsyncs).toBe((before.fsyncs as number) + 1);
    expect(afterJ.syncedWrites).toBe((before.syncedWrites as number) + 1);

    await checkIns.updateOne({ attendee: 'a-3' }, { $set: { at: new Date() } }, { writeConcern: { w: 'majority' } });
    const afterMajority = await journalStatus(client);
    expect(afterMajority.syncedWrites).toBe((before.syncedWrites as number) + 2);
    expect(afterMajority.fsyncs).toBe((before.fsyncs as number) + 2);
    expect(await checkIns.countDocuments()).toBe(3);
  });

  it('eight check-in desks writing with j:true at once share fdatasyncs (group commit)', async () => {
    const { store, client } = await storeOnDisk();
    const before = await journalStatus(client);
    const desks = await Promise.all(Array.from({ length: 8 }, () => connect(store.uri, { maxPoolSize: 1 })));
    cleanups.push(() => Promise.all(desks.map((d) => d.close())).then(() => undefined));
    const perDesk = 30;
    await Promise.all(
      desks.map(async (desk, d) => {
        const checkIns = desk.db('live').collection('checkins');
        for (let i = 0; i < perDesk; i++) await checkIns.insertOne({ desk: d, i }, { writeConcern: { j: true } });
      }),
    );
    const after = await journalStatus(client);
    const writes = (after.syncedWrites as number) - (before.syncedWrites as number);
    const commits = (after.groupCommits as number) - (before.groupCommits as number);
    const fsyncs = (after.fsyncs as number) - (before.fsyncs as number);
    expect(writes).toBe(8 * perDesk);
    // Eight writers waiting together: fdatasyncs are shared (typically three writes each; how
    // many depends on how fast the disk answers, so only "fewer than one per write" is certain).
    expect(commits).toBeLessThan(writes);
    expect(fsyncs).toBeLessThanOrEqual(commits);
    expect(await client.db('live').collection('checkins').countDocuments()).toBe(8 * perDesk);
  });

  it('answers w:2 and unknown tags as a standalone mongod does, and writes nothing', async () => {
    const { client } = await storeOnDisk();
    const notes = client.db('app').collection('notes');
    await expect(notes.insertOne({ _id: 'w2' as never }, { writeConcern: { w: 2 } })).rejects.toMatchObject({
      code: 2,
      codeName: 'BadValue',
      message: "cannot use 'w' > 1 on a standalone",
    });
    // A replica-set tag name (the driver's type only knows numbers and 'majority').
    await expect(notes.insertOne({ _id: 'tag' as never }, { writeConcern: { w: 'eastCoast' as 'majority' } })).rejects.toMatchObject({ code: 2 });
    await expect(client.db('app').command({ insert: 'notes', documents: [{ _id: 'j' }], writeConcern: { j: 'yes' } })).rejects.toMatchObject({
      code: 9,
      codeName: 'FailedToParse',
    });
    await expect(client.db('app').command({ insert: 'notes', documents: [{ _id: 'neg' }], writeConcern: { w: -1 } })).rejects.toMatchObject({ code: 9 });
    expect(await notes.countDocuments()).toBe(0);
  });

  it('the fsync command waits for the disk, on the admin database only', async () => {
    const { client } = await storeOnDisk();
    await client.db('app').collection('notes').insertOne({ text: 'x' });
    const before = await journalStatus(client);
    expect(await client.db('admin').command({ fsync: 1 })).toMatchObject({ ok: 1, numFiles: 1 });
    // It waited for the group commit (an fdatasync, unless the journal had meanwhile been
    // applied to SQLite, which syncs it too).
    const after = await journalStatus(client);
    expect(after.syncedWrites).toBe((before.syncedWrites as number) + 1);
    expect(after.fsyncs).toBeGreaterThanOrEqual(before.fsyncs as number);
    await expect(client.db('app').command({ fsync: 1 })).rejects.toMatchObject({ code: 13 });
  });

  it('journalCommitMs syncs the journal periodically without anyone asking (mongod commitIntervalMs)', async () => {
    const { client } = await storeOnDisk({ journalCommitMs: 5 });
    const notes = client.db('app').collection('notes');
    for (let i = 0; i < 20; i++) await notes.insertOne({ i });
    await new Promise((r) => setTimeout(r, 100));
    const status = await journalStatus(client);
    expect(status.commitIntervalMs).toBe(5);
    expect(status.fsyncs).toBeGreaterThan(0);
    expect(status.syncedWrites).toBe(0);
  });

  it('the CLI takes --journal-commit-ms, and EMBEDDED_MONGO_FSYNC=always makes every write wait for the disk', async () => {
    const tmp = tempDir('embedded-mongo-fsync-env-');
    cleanups.push(() => tmp.remove());
    const cli = trackCli(await startCli(tmp.dir, undefined, { args: ['--journal-commit-ms', '40'], env: { EMBEDDED_MONGO_FSYNC: 'always' } }));
    const client = await connect(cli.uri);
    cleanups.push(() => client.close());
    await client.db('app').collection('notes').insertOne({ text: 'synced' });
    const status = await journalStatus(client);
    expect(status).toMatchObject({ commitIntervalMs: 40, syncEveryWrite: true, syncedWrites: 1 });
    expect(status.fsyncs).toBeGreaterThanOrEqual(1);
  });

  it('refuses an EMBEDDED_MONGO_FSYNC it does not understand', async () => {
    const tmp = tempDir('embedded-mongo-fsync-bad-');
    cleanups.push(() => tmp.remove());
    await expect(startCli(tmp.dir, undefined, { env: { EMBEDDED_MONGO_FSYNC: 'sometimes' } })).rejects.toThrow(/EMBEDDED_MONGO_FSYNC must be/);
  });
});

describe('the data-directory lock', () => {
  it('starts although the lock file names a live process, or this very process (container restarts)', async () => {
    const tmp = tempDir('embedded-mongo-lockpid-');
    cleanups.push(() => tmp.remove());
    for (const pid of ['1', String(process.pid)]) {
      writeFileSync(path.join(tmp.dir, 'embedded-mongo.lock'), pid);
      const store = await startEmbeddedMongo({ dbPath: tmp.dir });
      const client = await connect(store.uri);
      await client.db('app').collection('notes').insertOne({ pid });
      await client.close();
      await store.stop();
    }
    const store = await startEmbeddedMongo({ dbPath: tmp.dir }, { thread: 'main' });
    const client = await connect(store.uri);
    expect(await client.db('app').collection('notes').countDocuments()).toBe(2);
    await client.close();
    await store.stop();
  });

  it('two live stores on one directory: the second gets DBPathInUse (98) with a clear message; after a stop it starts', async () => {
    const tmp = tempDir('embedded-mongo-twostores-');
    cleanups.push(() => tmp.remove());
    const first = await startEmbeddedMongo({ dbPath: tmp.dir });
    const refused = await startEmbeddedMongo({ dbPath: tmp.dir }, { thread: 'main' }).then(
      (s) => s.stop().then(() => undefined),
      (e: Error & { code?: number }) => e,
    );
    expect(refused).toMatchObject({ code: 98 });
    expect(refused!.message).toMatch(new RegExp(`data directory ${tmp.dir}: it is in use by another running embedded-mongo store \\(process ${process.pid}\\)`));
    await first.stop();
    const second = await startEmbeddedMongo({ dbPath: tmp.dir });
    await second.stop();
  });
});

/** A small tmpfs when this machine lets us mount one (root), else undefined. */
function mountSmallDisk(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('a full disk', () => {
  it('fails the write that does not fit, turns the store read-only with a clear error, and loses nothing acknowledged', async () => {
    const tmp = tempDir('embedded-mongo-diskfull-');
    cleanups.push(() => tmp.remove());
    const onTmpfs = mountSmallDisk(tmp.dir);
    if (onTmpfs) cleanups.push(() => void execFileSync('umount', ['-l', tmp.dir]));
    // Without a tmpfs, the documented test hook makes journal appends fail as a full disk would.
    const env = onTmpfs ? {} : { EMBEDDED_MONGO_TEST_JOURNAL_LIMIT: String(2 * 1024 * 1024) };
    let cli = trackCli(await startCli(tmp.dir, undefined, { env }));
    let client = await connect(cli.uri, { retryWrites: false });
    const photos = client.db('app').collection('photos');

    const acknowledged: string[] = [];
    let failure: (Error & { code?: number }) | undefined;
    let failedId = '';
    for (let i = 0; i < 400 && !failure; i++) {
      const id = `photo-${i}`;
      try {
        await photos.insertOne({ _id: id as never, bytes: 'x'.repeat(32 * 1024) });
        acknowledged.push(id);
      } catch (err) {
        failure = err as Error & { code?: number };
        failedId = id;
      }
    }
    expect(failure, 'the disk never filled up').toBeDefined();
    // mongod's OutOfDiskSpace, whether the journal append or SQLite met the full disk first.
    expect(failure, `${failure!.message}\n${cli.output()}`).toMatchObject({ code: 14031, codeName: 'OutOfDiskSpace' });
    expect(failure!.message).toMatch(/no space left|disk is full|read-only/i);

    await expect(photos.insertOne({ _id: 'later' as never })).rejects.toMatchObject({ code: 14031, message: expect.stringMatching(/read-only mode/) });
    // Reads are still served, and show exactly what was acknowledged.
    const visible = (await photos.find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
    expect(visible.sort()).toEqual([...acknowledged].sort());
    expect(visible).not.toContain(failedId);
    const status = (await client.db('admin').command({ serverStatus: 1 })) as Document;
    expect(status.storageEngine).toMatchObject({ readOnly: true });
    expect((status.journal as Document).readOnlyReason).toBeTruthy();

    // Pull the plug, make room, start again: everything acknowledged is there, the store writes again.
    cli.child.kill('SIGKILL');
    await cli.exited;
    await closeAfterKill(client);
    if (onTmpfs) execFileSync('mount', ['-o', 'remount,size=16m', tmp.dir]);
    cli = trackCli(await startCli(tmp.dir));
    client = await connect(cli.uri);
    cleanups.push(() => client.close());
    const again = client.db('app').collection('photos');
    const afterRestart = (await again.find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
    expect(afterRestart.sort()).toEqual([...acknowledged].sort());
    await again.insertOne({ _id: 'after-restart' as never });
    expect(await again.countDocuments()).toBe(acknowledged.length + 1);
  });

  it('a first write to a new database on a full disk gets OutOfDiskSpace, not an internal error, and leaves no file behind', async () => {
    const tmp = tempDir('embedded-mongo-diskfull-newdb-');
    cleanups.push(() => tmp.remove());
    const onTmpfs = mountSmallDisk(tmp.dir);
    if (onTmpfs) cleanups.push(() => void execFileSync('umount', ['-l', tmp.dir]));
    const env = onTmpfs ? {} : { EMBEDDED_MONGO_TEST_JOURNAL_LIMIT: '1024' };
    const cli = trackCli(await startCli(tmp.dir, undefined, { env }));
    const client = await connect(cli.uri, { retryWrites: false });
    cleanups.push(() => client.close());
    await client.db('app').collection('photos').insertOne({ _id: 'first' as never });
    if (onTmpfs) {
      // Someone else fills the disk: the store has not failed a write yet when it meets it.
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${path.join(tmp.dir, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
      } catch {
        // dd stops with "No space left on device": the disk is full now.
      }
    } else {
      await expect(client.db('app').collection('photos').insertOne({ _id: 'big' as never, bytes: 'x'.repeat(4096) })).rejects.toMatchObject({ code: 14031 });
    }
    const refused = await client.db('other').collection('things').insertOne({ _id: 'x' as never }).catch((e: Error & { code?: number }) => e);
    expect(refused, cli.output()).toMatchObject({ code: 14031, codeName: 'OutOfDiskSpace' });
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith('other.'))).toEqual([]);
    expect(((await client.db('admin').command({ listDatabases: 1, nameOnly: true })) as Document).databases).toEqual([{ name: 'app' }]);
    expect(await client.db('app').collection('photos').countDocuments()).toBe(1);
  });
});
