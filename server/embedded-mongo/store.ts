// The set of databases: each is one SQLite file plus its collections' in-memory working sets.
import fs from 'node:fs';
import path from 'node:path';
import { Collection } from './collection.js';
import { MongoServerError } from './errors.js';
import { DatabaseFile } from './storage.js';
import type { Document } from './values.js';

export class DatabaseState {
  readonly collections = new Map<string, Collection>();

  constructor(readonly name: string, readonly file: DatabaseFile) {
    for (const stored of file.listCollections()) {
      const collection = new Collection(name, stored.name, stored.options, file, stored.indexes);
      collection.load(file.loadDocuments(stored.name));
      this.collections.set(stored.name, collection);
    }
  }

  get(name: string): Collection | undefined {
    return this.collections.get(name);
  }

  /** Writes create collections implicitly, as in MongoDB. */
  getOrCreate(name: string): Collection {
    return this.collections.get(name) ?? this.create(name, {});
  }

  create(name: string, options: Document): Collection {
    validateCollectionName(this.name, name);
    if (this.collections.has(name)) throw new MongoServerError('NamespaceExists', `Collection ${this.name}.${name} already exists.`);
    const collection = new Collection(this.name, name, options, this.file);
    collection.persistCatalog();
    this.collections.set(name, collection);
    return collection;
  }

  drop(name: string): boolean {
    if (!this.collections.has(name)) return false;
    this.file.deleteCollection(name);
    this.collections.delete(name);
    return true;
  }

  rename(from: string, to: string, target: DatabaseState): void {
    const collection = this.collections.get(from);
    if (!collection) throw new MongoServerError('NamespaceNotFound', 'Source collection does not exist');
    if (target !== this) {
      throw new MongoServerError('IllegalOperation', 'renameCollection across databases is not supported by the embedded store');
    }
    validateCollectionName(this.name, to);
    this.file.renameCollection(from, to);
    this.collections.delete(from);
    collection.name = to;
    this.collections.set(to, collection);
  }

  /** Runs fn atomically against storage: one SQLite transaction per command. */
  write<T>(fn: () => T): T {
    return this.file.transaction(fn);
  }
}

function validateCollectionName(db: string, name: string): void {
  if (name === '' || name.includes('$') || name.includes('\0') || name.startsWith('.')) {
    throw new MongoServerError('InvalidNamespace', `Invalid collection name: ${db}.${name}`);
  }
}

function validateDatabaseName(name: string): void {
  if (name === '' || /[/\\. "$*<>:|?\0]/.test(name) || name.length > 63) {
    throw new MongoServerError('InvalidNamespace', `Invalid database name: '${name}'`);
  }
}

/**
 * One store per data directory, as mongod's mongod.lock ensures: two stores on the same files
 * would each keep their own working set and overwrite each other. A lock left by a process
 * that no longer runs (kill -9) is taken over.
 */
function acquireDirectoryLock(dbPath: string): string {
  const lockPath = path.join(dbPath, 'embedded-mongo.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return lockPath;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(lockPath, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && processIsAlive(holder)) {
        throw new MongoServerError('DBPathInUse', `Unable to lock the data directory ${dbPath}: it is in use by process ${holder}`);
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new MongoServerError('DBPathInUse', `Unable to lock the data directory ${dbPath}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Store {
  private readonly databases = new Map<string, DatabaseState>();
  private readonly lockPath: string | undefined;

  constructor(private readonly dbPath: string | null) {
    if (dbPath) {
      fs.mkdirSync(dbPath, { recursive: true });
      this.lockPath = acquireDirectoryLock(dbPath);
      try {
        for (const name of DatabaseFile.list(dbPath)) this.databases.set(name, new DatabaseState(name, DatabaseFile.open(dbPath, name)));
      } catch (err) {
        this.close();
        throw err;
      }
    }
  }

  database(name: string): DatabaseState {
    let db = this.databases.get(name);
    if (!db) {
      validateDatabaseName(name);
      db = new DatabaseState(name, DatabaseFile.open(this.dbPath, name));
      this.databases.set(name, db);
    }
    return db;
  }

  existingDatabase(name: string): DatabaseState | undefined {
    return this.databases.get(name);
  }

  listDatabases(): DatabaseState[] {
    return [...this.databases.values()];
  }

  dropDatabase(name: string): void {
    const db = this.databases.get(name);
    if (!db) return;
    this.databases.delete(name);
    db.file.destroy();
  }

  sweepExpired(now = Date.now()): void {
    for (const db of this.databases.values()) {
      db.write(() => {
        for (const collection of db.collections.values()) collection.sweepExpired(now);
      });
    }
  }

  close(): void {
    for (const db of this.databases.values()) db.file.close();
    this.databases.clear();
    if (this.lockPath) fs.rmSync(this.lockPath, { force: true });
  }
}
