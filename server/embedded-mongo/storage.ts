// Durable storage: one SQLite file (WAL) per database, documents kept as BSON blobs so every
// value round-trips with its exact type. Document writes reach SQLite through the journal
// (journal.ts) in batches; catalog changes go straight to SQLite. The in-memory working set
// lives in collection.ts. A failed write to disk puts the whole store in read-only mode
// (fail-stop, `StorageHealth`): the working set never runs ahead of what is on disk.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { deserialize, serialize } from 'bson';
import { MongoServerError } from './errors.js';
import type { Document } from './values.js';
import { Journal, encodeFrame, encodeRecord, salvageJournal, scanJournal, type JournalDamage, type JournalRecord } from './journal.js';
import { rawBson, rememberRawBson } from './raw-bson.js';
import { deserializeOptions } from './wire.js';

/** How long journaled writes wait before being applied to SQLite in one transaction. */
const APPLY_DELAY_MS = 100;
const APPLY_THRESHOLD_RECORDS = 10_000;

export interface StoredCollection {
  name: string;
  options: Document;
  indexes: Document[];
}

/** Where the store says what it recovered or dropped at startup (stderr by default). */
export type StorageLog = (message: string) => void;

export const defaultStorageLog: StorageLog = (message) => console.error(`embedded-mongo: ${message}`);

/**
 * Whether the store may still write. The first failed write to disk (ENOSPC, EIO, a SQLite
 * I/O error) stops all writes of the store until it is restarted; reads go on. mongod itself
 * aborts on a failed journal write; staying up read-only keeps the app's pages readable.
 * Writes then answer OutOfDiskSpace (14031, mongod's code for a full disk) or, for other I/O
 * errors, OperationFailed (96). Not IllegalOperation (20): the Node driver rewrites that code
 * on any write into "does not support retryable writes", which would hide the cause.
 */
export class StorageHealth {
  failure: { at: Date; cause: string; diskFull: boolean } | undefined;

  assertWritable(): void {
    if (!this.failure) return;
    throw this.error(
      `Cannot execute a write operation in read-only mode: the store stopped accepting writes at ${this.failure.at.toISOString()} after a failed write to disk (${this.failure.cause}); free space or fix the disk, then restart the store`,
    );
  }

  /** Records the failure and returns the error the failing write answers with. */
  fail(err: unknown, what: string): MongoServerError {
    const e = err as NodeJS.ErrnoException;
    const cause = `${what}: ${e.message ?? String(err)}`;
    const diskFull = e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.code === 'SQLITE_FULL';
    this.failure ??= { at: new Date(), cause, diskFull };
    return this.error(`${cause}; the write was not applied and the store is read-only until it is restarted`);
  }

  private error(message: string): MongoServerError {
    return new MongoServerError(this.failure?.diskFull ? 'OutOfDiskSpace' : 'OperationFailed', message);
  }
}

/** The journal holds damage followed by intact writes: starting would silently lose them. */
export class JournalCorruptError extends Error {
  readonly code = 'JournalCorrupt';

  constructor(readonly journalPath: string, readonly damage: JournalDamage, dbPath: string) {
    super(
      `The journal ${journalPath} is damaged at byte offset ${damage.offset} (${damage.problem}) and intact writes follow it at offset ${damage.intactAfter}. ` +
        'The store refuses to start rather than drop acknowledged writes. To keep every intact write and move the damaged journal aside, run: ' +
        `npm run embedded-mongo -- --repair --dbpath ${dbPath}`,
    );
  }
}

export interface DatabaseFileOptions {
  health?: StorageHealth;
  log?: StorageLog;
  /** Apply every intact journal frame, skipping damage, and move the damaged journal aside. */
  repair?: boolean;
}

/** SQLite's "disk is full" and I/O errors stop the store; constraint errors are ordinary. */
export function isDiskError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(SQLITE_FULL|SQLITE_IOERR|SQLITE_CANTOPEN|ENOSPC|EDQUOT|EIO)/.test(code);
}

export class DatabaseFile {
  private readonly db: Database.Database;
  private readonly statements;
  /** Null in memory-only mode: documents then live only in the working set. */
  private readonly journal: Journal | null;
  readonly health: StorageHealth;
  /** Journaled but not yet in SQLite, in order. */
  private pending: JournalRecord[] = [];
  /** Encoded records of the command in progress, appended to the journal as one frame when it ends. */
  private unflushed: Buffer[] = [];
  /** How to take back the working-set changes of the command in progress, if its append fails. */
  private undo: Array<() => void> = [];
  private transactionDepth = 0;
  private applyTimer: NodeJS.Timeout | undefined;

  constructor(readonly filePath: string | null, options: DatabaseFileOptions = {}) {
    this.health = options.health ?? new StorageHealth();
    this.db = new Database(filePath ?? ':memory:');
    try {
      if (filePath) {
        this.db.pragma('journal_mode = WAL');
        // FULL: each commit's WAL frames are fsynced, so once journaled writes are applied and
        // the journal emptied, they are on disk (j:true writes must survive power loss). Commits
        // come in 100 ms batches, so this is at most ten fsyncs a second.
        this.db.pragma('synchronous = FULL');
      }
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS collections (name TEXT PRIMARY KEY, options BLOB NOT NULL, indexes BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS documents (
          collection TEXT NOT NULL, rid INTEGER NOT NULL, doc BLOB NOT NULL,
          PRIMARY KEY (collection, rid)) WITHOUT ROWID;
      `);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.statements = {
      listCollections: this.db.prepare('SELECT name, options, indexes FROM collections'),
      putCollection: this.db.prepare('INSERT OR REPLACE INTO collections (name, options, indexes) VALUES (?, ?, ?)'),
      deleteCollection: this.db.prepare('DELETE FROM collections WHERE name = ?'),
      deleteCollectionDocs: this.db.prepare('DELETE FROM documents WHERE collection = ?'),
      renameCollection: this.db.prepare('UPDATE collections SET name = ? WHERE name = ?'),
      renameCollectionDocs: this.db.prepare('UPDATE documents SET collection = ? WHERE collection = ?'),
      loadDocuments: this.db.prepare('SELECT rid, doc FROM documents WHERE collection = ? ORDER BY rid'),
      putDocument: this.db.prepare('INSERT OR REPLACE INTO documents (collection, rid, doc) VALUES (?, ?, ?)'),
      deleteDocument: this.db.prepare('DELETE FROM documents WHERE collection = ? AND rid = ?'),
    };
    this.journal = filePath ? new Journal(`${filePath}-journal.bin`) : null;
    if (this.journal) {
      try {
        this.recover(this.journal, options.log ?? defaultStorageLog, options.repair === true);
      } catch (err) {
        this.journal.close();
        this.db.close();
        throw err;
      }
    }
  }

  /** Applies the writes acknowledged before a crash but not yet in SQLite, then empties the journal. */
  private recover(journal: Journal, log: StorageLog, repair: boolean): void {
    const data = journal.read();
    const scan = scanJournal(data);
    const dbPath = path.dirname(journal.filePath);
    let records = scan.records;
    if (scan.damage?.intactAfter !== undefined) {
      if (!repair) throw new JournalCorruptError(journal.filePath, scan.damage, dbPath);
      const salvaged = salvageJournal(data);
      records = salvaged.records;
      const aside = `${journal.filePath}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      fs.copyFileSync(journal.filePath, aside);
      const skipped = salvaged.skipped.map((d) => `${d.droppedBytes} bytes at offset ${d.offset} (${d.problem})`).join(', ');
      log(`repair of ${journal.filePath}: kept ${salvaged.frames} intact frames (${records.length} writes), skipped ${skipped}; the damaged journal was copied to ${aside}`);
    } else if (scan.damage) {
      log(
        `${journal.filePath}: dropped a torn tail of ${scan.damage.droppedBytes} bytes at offset ${scan.damage.offset} (${scan.damage.problem}), ` +
          `the remains of a write cut off by a crash and never acknowledged; ${scan.records.length} journaled writes before it were recovered`,
      );
    }
    if (scan.format === 'unframed') log(`${journal.filePath}: read ${records.length} writes from a journal without checksums (earlier version); new writes are checksummed`);
    if (records.length) this.applyRecords(records);
    if (data.length) journal.clear();
  }

  private applyRecords(records: JournalRecord[]): void {
    this.db.transaction(() => {
      for (const r of records) {
        if (r.op === 'put') this.statements.putDocument.run(r.collection, r.rid, r.doc);
        else this.statements.deleteDocument.run(r.collection, r.rid);
      }
    })();
  }

  /**
   * Moves journaled writes into SQLite and empties the journal. On a disk error the store goes
   * read-only and the writes stay journaled (they are replayed at the next start).
   */
  applyPending(): void {
    if (this.applyTimer) {
      clearTimeout(this.applyTimer);
      this.applyTimer = undefined;
    }
    if (!this.journal || this.pending.length === 0) return;
    try {
      this.applyRecords(this.pending);
    } catch (err) {
      throw this.health.fail(err, `applying the journal to ${this.filePath}`);
    }
    this.pending = [];
    this.journal.clear();
  }

  private record(record: JournalRecord, undo?: () => void): void {
    if (!this.journal) return;
    this.health.assertWritable();
    this.pending.push(record);
    this.unflushed.push(encodeRecord(record));
    if (undo) this.undo.push(undo);
    if (this.transactionDepth === 0) this.flushJournal();
  }

  /**
   * Appends the command's writes as one frame. If the append fails, the command's changes are
   * taken back out of the working set before the error reaches the client, and the store stops
   * accepting writes: nothing the disk does not hold is ever visible.
   */
  private flushJournal(): void {
    if (!this.journal || this.unflushed.length === 0) {
      this.undo = [];
      return;
    }
    const frame = encodeFrame(this.unflushed);
    const count = this.unflushed.length;
    const undo = this.undo;
    this.unflushed = [];
    this.undo = [];
    try {
      this.health.assertWritable();
      this.journal.append(frame);
    } catch (err) {
      this.pending.length -= count;
      for (let i = undo.length - 1; i >= 0; i--) undo[i]();
      if (err instanceof MongoServerError) throw err;
      throw this.health.fail(err, `appending to the journal ${this.journal.filePath}`);
    }
    if (this.pending.length >= APPLY_THRESHOLD_RECORDS) this.applySoon(0);
    else this.applySoon(APPLY_DELAY_MS);
  }

  private applySoon(delay: number): void {
    if (this.applyTimer && delay > 0) return;
    if (this.applyTimer) clearTimeout(this.applyTimer);
    const apply = () => {
      try {
        this.applyPending();
      } catch {
        // The store is read-only now (health.failure says why); the writes stay journaled.
      }
    };
    if (delay === 0) return apply();
    this.applyTimer = setTimeout(apply, delay);
    this.applyTimer.unref();
  }

  /** Whether journal appends wait for an fdatasync to reach the disk. */
  get needsSync(): boolean {
    return this.journal?.needsSync ?? false;
  }

  /** fdatasync of the journal (group commit calls this for every database at once). */
  async syncJournal(): Promise<void> {
    if (!this.journal) return;
    try {
      await this.journal.sync();
    } catch (err) {
      throw this.health.fail(err, `fdatasync of the journal ${this.journal.filePath}`);
    }
  }

  /** A catalog change: the journal is applied first, so SQLite sees every change in command order. */
  private catalogChange(what: string, change: () => void): void {
    this.health.assertWritable();
    this.flushJournal();
    this.applyPending();
    try {
      change();
    } catch (err) {
      if (isDiskError(err)) throw this.health.fail(err, `${what} in ${this.filePath}`);
      throw err;
    }
  }

  static open(dbPath: string | null, dbName: string, options: DatabaseFileOptions = {}): DatabaseFile {
    return new DatabaseFile(dbPath ? path.join(dbPath, `${dbName}.sqlite`) : null, options);
  }

  /** Database names found in a data directory. */
  static list(dbPath: string): string[] {
    if (!fs.existsSync(dbPath)) return [];
    return fs
      .readdirSync(dbPath)
      .filter((f) => f.endsWith('.sqlite'))
      .map((f) => f.slice(0, -'.sqlite'.length));
  }

  listCollections(): StoredCollection[] {
    return (this.statements.listCollections.all() as { name: string; options: Buffer; indexes: Buffer }[]).map((row) => ({
      name: row.name,
      options: deserialize(row.options, deserializeOptions) as Document,
      indexes: (deserialize(row.indexes, deserializeOptions) as { list: Document[] }).list,
    }));
  }

  *loadDocuments(collection: string): Iterable<[number, Document]> {
    for (const row of this.statements.loadDocuments.iterate(collection) as Iterable<{ rid: number; doc: Buffer }>) {
      const doc = deserialize(row.doc, deserializeOptions) as Document;
      rememberRawBson(doc, row.doc);
      yield [row.rid, doc];
    }
  }

  putCollection(name: string, options: Document, indexes: Document[]): void {
    this.catalogChange('saving the catalog', () => this.statements.putCollection.run(name, serialize(options), serialize({ list: indexes })));
  }

  deleteCollection(name: string): void {
    this.catalogChange('dropping a collection', () =>
      this.db.transaction(() => {
        this.statements.deleteCollection.run(name);
        this.statements.deleteCollectionDocs.run(name);
      })(),
    );
  }

  renameCollection(from: string, to: string): void {
    this.catalogChange('renaming a collection', () =>
      this.db.transaction(() => {
        this.statements.renameCollection.run(to, from);
        this.statements.renameCollectionDocs.run(to, from);
      })(),
    );
  }

  /** `undo` puts the working set back as it was, should the journal append fail. */
  putDocument(collection: string, rid: number, doc: Document, undo?: () => void): void {
    if (!this.journal) return;
    this.record({ op: 'put', collection, rid, doc: rawBson(doc) }, undo);
  }

  deleteDocument(collection: string, rid: number, undo?: () => void): void {
    this.record({ op: 'delete', collection, rid }, undo);
  }

  /**
   * Groups the writes of fn: they reach the journal with one write(2) when the outermost call
   * returns (or throws, since the working set already holds them), before any reply is sent.
   */
  transaction<T>(fn: () => T): T {
    if (this.transactionDepth === 0) this.health.assertWritable();
    this.transactionDepth++;
    try {
      return fn();
    } finally {
      this.transactionDepth--;
      if (this.transactionDepth === 0) this.flushJournal();
    }
  }

  close(): void {
    try {
      this.flushJournal();
      this.applyPending();
    } catch {
      // Read-only after a disk error: what is journaled is replayed at the next start.
    }
    if (this.applyTimer) clearTimeout(this.applyTimer);
    this.journal?.close();
    this.db.close();
  }

  /** Closes and removes the file and its WAL companions (dropDatabase). */
  destroy(): void {
    this.health.assertWritable();
    this.close();
    if (!this.filePath) return;
    for (const suffix of ['', '-wal', '-shm', '-journal.bin']) fs.rmSync(this.filePath + suffix, { force: true });
  }
}
