// The set of databases: each is one SQLite file plus its collections' in-memory working sets.
import fs from 'node:fs';
import path from 'node:path';
import { Collection } from './collection.js';
import { MongoServerError } from './errors.js';
import Database from 'better-sqlite3';
import { GroupCommit } from './durability.js';
import { MemoryBudget, memoryBudgetBytes } from './memory.js';
import { DatabaseFile, StorageHealth, isDiskError, type StorageLog } from './storage.js';
import type { Document } from './values.js';

export class DatabaseState {
  readonly collections = new Map<string, Collection>();

  constructor(readonly name: string, readonly file: DatabaseFile, private readonly memory?: MemoryBudget) {
    for (const stored of file.listCollections()) {
      const collection = new Collection(name, stored.name, stored.options, file, stored.indexes, memory);
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
    const collection = new Collection(this.name, name, options, this.file, undefined, this.memory);
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

export function validateCollectionName(db: string, name: string): void {
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
 * would each keep their own working set and overwrite each other. The lock is an exclusive
 * SQLite transaction held open on an empty lock database: an fcntl lock that the kernel drops
 * when the process ends, however it ends (kill -9, out-of-memory kill, container restart), so
 * nothing stale is ever left to clean up. `embedded-mongo.lock` beside it names the holder's
 * PID for people reading the directory; it is never trusted (after a container restart the
 * PID in it can be alive again, or be the new store's own).
 */
class DirectoryLock {
  private constructor(private readonly db: Database.Database, private readonly pidPath: string) {}

  static acquire(dbPath: string): DirectoryLock {
    const pidPath = path.join(dbPath, 'embedded-mongo.lock');
    // A process killed a moment ago may still be closing its files: wait a little for it.
    const db = new Database(path.join(dbPath, 'embedded-mongo.lock.db'), { timeout: LOCK_WAIT_MS });
    try {
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      let holder = '';
      try {
        holder = fs.readFileSync(pidPath, 'utf8').trim();
      } catch {
        // No PID file: the other store is still starting.
      }
      throw new MongoServerError(
        'DBPathInUse',
        `Unable to lock the data directory ${dbPath}: it is in use by another running embedded-mongo store${/^\d+$/.test(holder) ? ` (process ${holder})` : ''}. Stop that store, or start this one with another --dbpath.`,
      );
    }
    fs.writeFileSync(pidPath, `${process.pid}\n`);
    return new DirectoryLock(db, pidPath);
  }

  release(): void {
    fs.rmSync(this.pidPath, { force: true });
    this.db.close();
  }
}

const LOCK_WAIT_MS = 500;

export interface StoreOptions {
  /** Periodic fdatasync of the journal, like mongod's commitIntervalMs (0 or undefined: none). */
  journalCommitMs?: number;
  /** Every acknowledged write waits for an fdatasync, as if it asked for j:true. */
  syncEveryWrite?: boolean;
  /** Start-up repair: keep every intact journal frame, move damaged journals aside. */
  repair?: boolean;
  log?: StorageLog;
  /** Memory budget of the working set in MiB (default: EMBEDDED_MONGO_MEMORY_MB, else 60% of the heap limit). */
  memoryBudgetMb?: number;
}

export class Store {
  private readonly databases = new Map<string, DatabaseState>();
  private readonly lock: DirectoryLock | undefined;
  /** Shared by every database: one failed write to disk makes the whole store read-only. */
  readonly health = new StorageHealth();
  readonly groupCommit = new GroupCommit(() => [...this.databases.values()].map((db) => db.file));

  /** The working set's budget: writes past it get ExceededMemoryLimit (memory.ts). */
  readonly memory: MemoryBudget;

  constructor(private readonly dbPath: string | null, readonly options: StoreOptions = {}) {
    this.memory = new MemoryBudget(memoryBudgetBytes(options.memoryBudgetMb), () => this.workingSetBytes());
    if (dbPath) {
      fs.mkdirSync(dbPath, { recursive: true });
      this.lock = DirectoryLock.acquire(dbPath);
      try {
        for (const name of DatabaseFile.list(dbPath)) this.databases.set(name, new DatabaseState(name, this.openFile(name), this.memory));
      } catch (err) {
        this.close();
        throw err;
      }
      this.groupCommit.startPeriodic(options.journalCommitMs);
    }
  }

  private openFile(name: string): DatabaseFile {
    return DatabaseFile.open(this.dbPath, name, { health: this.health, log: this.options.log, repair: this.options.repair });
  }

  /**
   * A new database's file, created by its first write: refused in read-only mode, and a full
   * disk while creating it makes the store read-only as any failed write to disk does (the
   * client gets OutOfDiskSpace, not an internal error); the empty file is removed again.
   */
  private createFile(name: string): DatabaseFile {
    this.health.assertWritable();
    try {
      return this.openFile(name);
    } catch (err) {
      if (!this.dbPath || !isDiskError(err)) throw err;
      const file = path.join(this.dbPath, `${name}.sqlite`);
      for (const suffix of ['-journal.bin', '-wal', '-shm', '']) fs.rmSync(file + suffix, { force: true });
      throw this.health.fail(err, `creating ${file}`);
    }
  }

  /** Resolves once every write journaled so far is on disk (writeConcern j:true, group commit). */
  waitDurable(): Promise<void> {
    return this.dbPath ? this.groupCommit.waitDurable() : Promise.resolve();
  }

  database(name: string): DatabaseState {
    let db = this.databases.get(name);
    if (!db) {
      validateDatabaseName(name);
      db = new DatabaseState(name, this.createFile(name), this.memory);
      this.databases.set(name, db);
    }
    return db;
  }

  /** Bytes the working set holds: every collection's documents (slabs) and index entries. */
  workingSetBytes(): number {
    let bytes = 0;
    for (const db of this.databases.values()) {
      for (const collection of db.collections.values()) {
        const usage = collection.memoryUsage;
        bytes += usage.residentBytes + usage.indexBytes;
      }
    }
    return bytes;
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
    // Read-only after a disk error: expired documents stay until the store is restarted.
    if (this.health.failure) return;
    for (const db of this.databases.values()) {
      db.write(() => {
        for (const collection of db.collections.values()) collection.sweepExpired(now);
      });
    }
  }

  close(): void {
    for (const db of this.databases.values()) db.file.close();
    this.databases.clear();
    this.lock?.release();
  }
}
