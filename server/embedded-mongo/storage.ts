// Durable storage: one SQLite file (WAL) per database, documents kept as BSON blobs so every
// value round-trips with its exact type. Document writes reach SQLite through the journal
// (journal.ts) in batches; catalog changes go straight to SQLite. The in-memory working set
// lives in collection.ts.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { deserialize, serialize } from 'bson';
import type { Document } from './values.js';
import { Journal, encodeRecord, type JournalRecord } from './journal.js';
import { rawBson, rememberRawBson } from './raw-bson.js';
import { deserializeOptions } from './wire.js';

/** How long journaled writes wait before being applied to SQLite in one transaction. */
const APPLY_DELAY_MS = 50;
const APPLY_THRESHOLD_RECORDS = 10_000;

export interface StoredCollection {
  name: string;
  options: Document;
  indexes: Document[];
}

export class DatabaseFile {
  private readonly db: Database.Database;
  private readonly statements;
  /** Null in memory-only mode: documents then live only in the working set. */
  private readonly journal: Journal | null;
  /** Journaled but not yet in SQLite, in order. */
  private pending: JournalRecord[] = [];
  /** Encoded records of the command in progress, appended to the journal when it ends. */
  private unflushed: Buffer[] = [];
  private transactionDepth = 0;
  private applyTimer: NodeJS.Timeout | undefined;

  constructor(readonly filePath: string | null) {
    this.db = new Database(filePath ?? ':memory:');
    if (filePath) {
      this.db.pragma('journal_mode = WAL');
      // NORMAL under WAL: a commit is in the WAL before we acknowledge, so it survives a
      // process crash (kill -9); only an OS crash/power loss could lose the last commits.
      this.db.pragma('synchronous = NORMAL');
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS collections (name TEXT PRIMARY KEY, options BLOB NOT NULL, indexes BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS documents (
        collection TEXT NOT NULL, rid INTEGER NOT NULL, doc BLOB NOT NULL,
        PRIMARY KEY (collection, rid)) WITHOUT ROWID;
    `);
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
      // Writes acknowledged before a crash but not yet applied to SQLite.
      const leftover = this.journal.readAll();
      if (leftover.length) this.applyRecords(leftover);
      this.journal.clear();
    }
  }

  private applyRecords(records: JournalRecord[]): void {
    this.db.transaction(() => {
      for (const r of records) {
        if (r.op === 'put') this.statements.putDocument.run(r.collection, r.rid, r.doc);
        else this.statements.deleteDocument.run(r.collection, r.rid);
      }
    })();
  }

  /** Moves journaled writes into SQLite and empties the journal. */
  applyPending(): void {
    if (this.applyTimer) {
      clearTimeout(this.applyTimer);
      this.applyTimer = undefined;
    }
    if (!this.journal || this.pending.length === 0) return;
    this.applyRecords(this.pending);
    this.pending = [];
    this.journal.clear();
  }

  private record(record: JournalRecord): void {
    if (!this.journal) return;
    this.pending.push(record);
    this.unflushed.push(encodeRecord(record));
    if (this.transactionDepth === 0) this.flushJournal();
  }

  private flushJournal(): void {
    if (!this.journal || this.unflushed.length === 0) return;
    this.journal.append(this.unflushed);
    this.unflushed = [];
    if (this.pending.length >= APPLY_THRESHOLD_RECORDS) this.applyPending();
    else if (!this.applyTimer) {
      this.applyTimer = setTimeout(() => this.applyPending(), APPLY_DELAY_MS);
      this.applyTimer.unref();
    }
  }

  static open(dbPath: string | null, dbName: string): DatabaseFile {
    return new DatabaseFile(dbPath ? path.join(dbPath, `${dbName}.sqlite`) : null);
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

  // Catalog changes first apply the journal, so SQLite sees every change in command order.

  putCollection(name: string, options: Document, indexes: Document[]): void {
    this.flushJournal();
    this.applyPending();
    this.statements.putCollection.run(name, serialize(options), serialize({ list: indexes }));
  }

  deleteCollection(name: string): void {
    this.flushJournal();
    this.applyPending();
    this.db.transaction(() => {
      this.statements.deleteCollection.run(name);
      this.statements.deleteCollectionDocs.run(name);
    })();
  }

  renameCollection(from: string, to: string): void {
    this.flushJournal();
    this.applyPending();
    this.db.transaction(() => {
      this.statements.renameCollection.run(to, from);
      this.statements.renameCollectionDocs.run(to, from);
    })();
  }

  putDocument(collection: string, rid: number, doc: Document): void {
    if (!this.journal) return;
    this.record({ op: 'put', collection, rid, doc: rawBson(doc) });
  }

  deleteDocument(collection: string, rid: number): void {
    this.record({ op: 'delete', collection, rid });
  }

  /**
   * Groups the writes of fn: they reach the journal with one write(2) when the outermost call
   * returns (or throws, since the working set already holds them), before any reply is sent.
   */
  transaction<T>(fn: () => T): T {
    this.transactionDepth++;
    try {
      return fn();
    } finally {
      this.transactionDepth--;
      if (this.transactionDepth === 0) this.flushJournal();
    }
  }

  close(): void {
    this.flushJournal();
    this.applyPending();
    this.journal?.close();
    this.db.close();
  }

  /** Closes and removes the file and its WAL companions (dropDatabase). */
  destroy(): void {
    this.close();
    if (!this.filePath) return;
    for (const suffix of ['', '-wal', '-shm', '-journal.bin']) fs.rmSync(this.filePath + suffix, { force: true });
  }
}
