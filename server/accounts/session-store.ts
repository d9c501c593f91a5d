// Sessions live in the database (connect-mongo), with a short read cache in front.
import MongoStore from 'connect-mongo';
import type { SessionData } from 'express-session';
import type { Db, MongoClient } from 'mongodb';
import { BoundedMap } from '../lib/bounded-map.js';

/**
 * The session store with a short read cache: every signed-in request loads its session, and
 * a session changes rarely (sign-in, flash messages, sign-out), each time through set/destroy
 * here, which drop the cached copy. Reads within a couple of seconds of each other reuse it
 * (a parsed copy each time, as express-session changes the object it gets). With several app
 * processes, a sign-out in one reaches the others within that lifetime.
 */
const sessionTouchAfterSeconds = 3600;
const cachedSessionsLimit = 10_000;

class CachedMongoStore extends MongoStore {
  private readonly cache = new BoundedMap<string, { json: string; lastModified?: number; loadedAt: number }>(cachedSessionsLimit);
  /** Bumped by every write of a session, so a read that raced with it is not cached. */
  private readonly versions = new BoundedMap<string, number>(cachedSessionsLimit);
  private static readonly lifetimeMs = 2_000;

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    const cached = this.cache.get(sid);
    if (cached && Date.now() - cached.loadedAt < CachedMongoStore.lifetimeMs) {
      const session = JSON.parse(cached.json) as SessionData & { lastModified?: Date };
      if (cached.lastModified !== undefined) session.lastModified = new Date(cached.lastModified);
      return callback(null, session);
    }
    const version = this.versions.get(sid) ?? 0;
    super.get(sid, (err, session) => {
      if (!err && session && (this.versions.get(sid) ?? 0) === version) {
        const { lastModified, ...rest } = session as SessionData & { lastModified?: Date };
        this.cache.set(sid, { json: JSON.stringify(rest), lastModified: lastModified?.getTime(), loadedAt: Date.now() });
      }
      callback(err, session);
    });
  }

  private forget(sid: string): void {
    this.cache.delete(sid);
    this.versions.set(sid, (this.versions.get(sid) ?? 0) + 1);
  }

  override set(sid: string, session: SessionData, callback?: (err: unknown) => void): void {
    this.forget(sid);
    super.set(sid, session, (err) => {
      this.forget(sid);
      callback?.(err);
    });
  }

  override touch(sid: string, session: SessionData & { lastModified?: Date }, callback?: (err: unknown) => void): void {
    super.touch(sid, session, (err) => {
      // A touch that wrote moves lastModified and the expiry: read them again next time.
      if (!session.lastModified || Date.now() - session.lastModified.getTime() >= sessionTouchAfterSeconds * 1000) this.forget(sid);
      callback?.(err);
    });
  }

  override destroy(sid: string, callback?: (err: unknown) => void): void {
    this.forget(sid);
    super.destroy(sid, (err) => {
      this.forget(sid);
      callback?.(err);
    });
  }
}

const sessionsCollection = 'sessions';

/** The app's session store: the `sessions` collection of the app's database, 14 days. */
export function createSessionStore(client: MongoClient, dbName: string | undefined): MongoStore {
  // Its expiry index is built with the models' (buildSessionIndexes): connect-mongo builds it once,
  // and a build cut off (the store restarting as the app starts) left every session read failing.
  return new CachedMongoStore({ client, dbName, collectionName: sessionsCollection, ttl: 14 * 24 * 3600, touchAfter: sessionTouchAfterSeconds, autoRemove: 'disabled' });
}

/** The sessions' expiry index (what connect-mongo's autoRemove 'native' builds): expired sessions go. */
export async function buildSessionIndexes(db: Db): Promise<void> {
  await db.collection(sessionsCollection).createIndex({ expires: 1 }, { expireAfterSeconds: 0 });
}
