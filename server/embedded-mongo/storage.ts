// Durable storage: one SQLite file (WAL) per database, documents kept as BSON blobs so every
// value round-trips with its exact type. The in-memory working set lives in collection.ts.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { deserialize, serialize } from 'bson';
import type { Document } from './values.js';
import { deserializeOptions } from './wire.js';

export interface StoredCollection {
  name: string;
  options: Document;
  indexes: Document[];
}

export class DatabaseFile {
  private readonly db: Database.Database;
  private readonly statements;

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
      yield [row.rid, deserialize(row.doc, deserializeOptions) as Document];
    }
  }

  putCollection(name: string, options: Document, indexes: Document[]): void {
    this.statements.putCollection.run(name, serialize(options), serialize({ list: indexes }));
  }

  deleteCollection(name: string): void {
    this.statements.deleteCollection.run(name);
    this.statements.deleteCollectionDocs.run(name);
  }

  renameCollection(from: string, to: string): void {
    this.statements.renameCollection.run(to, from);
    this.statements.renameCollectionDocs.run(to, from);
  }

  putDocument(collection: string, rid: number, doc: Document): void {
    this.statements.putDocument.run(collection, rid, serialize(doc));
  }

  deleteDocument(collection: string, rid: number): void {
    this.statements.deleteDocument.run(collection, rid);
  }

  /** Runs fn in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }

  /** Closes and removes the file and its WAL companions (dropDatabase). */
  destroy(): void {
    this.close();
    if (!this.filePath) return;
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(this.filePath + suffix, { force: true });
  }
}
