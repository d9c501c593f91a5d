// What the store does with the journal it finds at startup: every intact write is applied, a torn
// tail (a crash in the middle of an append) is dropped with a line in the log, and damage in the
// middle (an intact write after a damaged one) stops the start with the file, the offset and the
// repair command, which then keeps every intact write. Journals are written byte by byte here
// (journal-frames.ts), the store is only ever read through the driver.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startEmbeddedMongo } from '../../server/embedded-mongo/index.js';
import { connect, repoRoot, tempDir } from './helpers.js';
import { deleteRecord, frame, journal, putRecord } from './journal-frames.js';

const run = promisify(execFile);

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A data directory holding database "app" with an empty collection "notes". */
async function directoryWithNotes(): Promise<{ dir: string; journalPath: string }> {
  const tmp = tempDir('embedded-mongo-journal-');
  cleanups.push(() => tmp.remove());
  const store = await startEmbeddedMongo({ dbPath: tmp.dir }, { thread: 'main' });
  const client = await connect(store.uri);
  await client.db('app').createCollection('notes');
  await client.close();
  await store.stop();
  return { dir: tmp.dir, journalPath: path.join(tmp.dir, 'app.sqlite-journal.bin') };
}

/** Starts the store on dir (in this thread, so its log lines can be read) and lists the notes. */
async function startAndList(dir: string): Promise<{ notes: string[]; log: string }> {
  const log: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void log.push(args.join(' ')));
  const store = await startEmbeddedMongo({ dbPath: dir }, { thread: 'main' });
  vi.restoreAllMocks();
  try {
    const client = await connect(store.uri);
    const notes = (await client.db('app').collection('notes').find().sort({ _id: 1 }).toArray()).map((d) => String(d._id));
    await client.close();
    return { notes, log: log.join('\n') };
  } finally {
    await store.stop();
  }
}

const note = (n: number) => putRecord('notes', n, { _id: `note-${n}`, text: `acknowledged write ${n}` });

/** Three commands' writes: notes 1-2, note 3, note 4 (and note 2 deleted). */
function threeFrames() {
  return journal([frame([note(1), note(2)]), frame([note(3)]), frame([note(4), deleteRecord('notes', 2)])]);
}

describe('journal recovery at startup', () => {
  it('applies every intact frame in order, puts and deletes', async () => {
    const { dir, journalPath } = await directoryWithNotes();
    writeFileSync(journalPath, threeFrames().bytes);
    const { notes, log } = await startAndList(dir);
    expect(notes).toEqual(['note-1', 'note-3', 'note-4']);
    expect(log).toBe('');
  });

  it('drops a torn tail (the last frame cut off by a crash) and says so in the log', async () => {
    const { dir, journalPath } = await directoryWithNotes();
    const { bytes, offsets } = threeFrames();
    const cut = offsets[2]! + 20;
    writeFileSync(journalPath, bytes.subarray(0, cut));
    const { notes, log } = await startAndList(dir);
    expect(notes).toEqual(['note-1', 'note-2', 'note-3']);
    expect(log).toContain(journalPath);
    expect(log).toMatch(new RegExp(`torn tail of ${cut - offsets[2]!} bytes at offset ${offsets[2]}`));
  });

  it('treats a file truncated inside a frame header as a torn tail', async () => {
    const { dir, journalPath } = await directoryWithNotes();
    const { bytes, offsets } = threeFrames();
    writeFileSync(journalPath, bytes.subarray(0, offsets[1]! + 5));
    const { notes, log } = await startAndList(dir);
    expect(notes).toEqual(['note-1', 'note-2']);
    expect(log).toMatch(/torn tail of 5 bytes/);
  });

  it('drops a last frame whose body has a flipped bit, instead of applying it', async () => {
    const { dir, journalPath } = await directoryWithNotes();
    const { bytes, offsets } = threeFrames();
    bytes[bytes.length - 30]! ^= 0x04;
    writeFileSync(journalPath, bytes);
    const { notes, log } = await startAndList(dir);
    expect(notes).toEqual(['note-1', 'note-2', 'note-3']);
    expect(log).toMatch(new RegExp(`at offset ${offsets[2]} \\(checksum mismatch\\)`));
  });

  it('refuses to start on a bit flip in the middle, naming the file and the offset, and the repair keeps every intact write', async () => {
    const { dir, journalPath } = await directoryWithNotes();
    const { bytes, offsets } = threeFrames();
    bytes[offsets[1]! + 40]! ^= 0x01; // inside note 3's document
    writeFileSync(journalPath, bytes);

    const refused = await startEmbeddedMongo({ dbPath: dir }, { thread: 'main' }).then(
      (s) => s.stop().then(() => undefined),
      (e: Error) => e,
    );
    expect(refused).toBeInstanceOf(Error);
    expect(refused!.message).toContain(journalPath);
    expect(refused!.message).toContain(`offset ${offsets[1]}`);
    expect(refused!.message).toContain(`npm run embedded-mongo -- --repair --dbpath ${dir}`);
    // The worker thread (the default) reports the same refusal.
    await expect(startEmbeddedMongo({ dbPath: dir })).rejects.toThrow(/damaged at byte offset/);

    const repaired = await run('npm', ['run', '--silent', 'embedded-mongo', '--', '--repair', '--dbpath', dir], { cwd: repoRoot });
    expect(repaired.stdout).toMatch(/kept 2 intact frames \(4 writes\)/);
    const aside = readdirSync(dir).filter((f) => f.startsWith('app.sqlite-journal.bin.damaged-'));
    expect(aside).toHaveLength(1);

    const { notes } = await startAndList(dir);
    // Note 3's frame was the damaged one; the frames before and after it are kept (note 2 deleted by the last).
    expect(notes).toEqual(['note-1', 'note-4']);
  });

  it('refuses to start on a flipped frame header in the middle', async () => {
    const { dir, journalPath } = await directoryWithNotes();
    const { bytes, offsets } = threeFrames();
    bytes[offsets[1]! + 5]! ^= 0x80; // the length field
    writeFileSync(journalPath, bytes);
    await expect(startEmbeddedMongo({ dbPath: dir }, { thread: 'main' })).rejects.toThrow(new RegExp(`damaged at byte offset ${offsets[1]}`));
    // Nothing was changed by the refusal: the journal is still there for the repair.
    expect(existsSync(journalPath)).toBe(true);
  });

  it('drops a flipped header in the last frame as a torn tail', async () => {
    const { dir, journalPath } = await directoryWithNotes();
    const { bytes, offsets } = threeFrames();
    bytes[offsets[2]!]! ^= 0xff; // the frame marker
    writeFileSync(journalPath, bytes);
    const { notes, log } = await startAndList(dir);
    expect(notes).toEqual(['note-1', 'note-2', 'note-3']);
    expect(log).toMatch(/no frame marker/);
  });

  it('reads a journal left by an earlier version (no checksums) once, then writes checksummed frames', async () => {
    const { dir, journalPath } = await directoryWithNotes();
    writeFileSync(journalPath, Buffer.concat([note(1), note(2)]));
    const { notes, log } = await startAndList(dir);
    expect(notes).toEqual(['note-1', 'note-2']);
    expect(log).toMatch(/without checksums/);
  });
});
