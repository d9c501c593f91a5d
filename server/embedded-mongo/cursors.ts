// Open cursors: results not yet returned, by Int64 id. Idle cursors are reaped so memory stays flat.
// A cursor's results are an iterator: a plan that can produce documents one at a time (an index
// walk, a collection scan with a filter) is run a batch per getMore instead of all at once.
import { randomBytes } from 'node:crypto';
import { Long } from 'bson';
import { MongoLocationError, MongoServerError } from './errors.js';
import { rawBson } from './raw-bson.js';
import type { Document } from './values.js';

const IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** Leaves headroom under the 16MB reply limit for the cursor envelope. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024;

interface OpenCursor {
  namespace: string;
  source: Iterator<Document>;
  /** The next document, already taken from source (it did not fit the last batch, or was peeked). */
  next: Document | undefined;
  lastUsed: number;
  /** The session it was opened in (mongod refuses a getMore from another session, or none). */
  session: string | undefined;
  /** Why the cursor can no longer go on (its collection was dropped or renamed), if it cannot. */
  killedBy?: () => string | undefined;
  /** A tailable awaitData cursor (the only kind a getMore may give a maxTimeMS). */
  awaitData: boolean;
}

export class CursorRegistry {
  private readonly cursors = new Map<bigint, OpenCursor>();

  /**
   * Takes the first batch from results and keeps the rest under a new cursor id
   * (0 when everything fit in the first batch). Results may be produced lazily.
   */
  open(
    namespace: string,
    results: Iterable<Document>,
    batchSize: number | undefined,
    singleBatch = false,
    session?: string,
    killedBy?: () => string | undefined,
    awaitData = false,
  ): Batch {
    const source = results[Symbol.iterator]();
    const { next, ...taken } = takeBatch(source, undefined, batchSize ?? 101);
    if (singleBatch || next === undefined) {
      source.return?.();
      return { ...taken, id: Long.ZERO };
    }
    const id = newCursorId();
    this.cursors.set(id, { namespace, source, next, lastUsed: Date.now(), session, killedBy, awaitData });
    return { ...taken, id: Long.fromBigInt(id) };
  }

  getMore(id: Long, namespace: string, batchSize: number | undefined, session?: string, maxTimeMS = false): Batch {
    const key = id.toBigInt();
    const cursor = this.cursors.get(key);
    if (!cursor) throw new MongoServerError('CursorNotFound', `cursor id ${key} not found`);
    if (cursor.namespace !== namespace) {
      throw new MongoServerError('Unauthorized', `Requested getMore on namespace '${namespace}', but cursor belongs to a different namespace ${cursor.namespace}`);
    }
    if (cursor.session === undefined && session !== undefined) {
      throw new MongoLocationError(50736, `Cannot run getMore on cursor ${key}, which was not created in a session, in session ${session}`);
    }
    if (cursor.session !== undefined && session === undefined) {
      throw new MongoLocationError(50737, `Cannot run getMore on cursor ${key}, which was created in session ${cursor.session}, without an lsid`);
    }
    if (cursor.session !== session) {
      throw new MongoLocationError(50738, `Cannot run getMore on cursor ${key}, which was created in session ${cursor.session}, in session ${session}`);
    }
    if (maxTimeMS && !cursor.awaitData) throw new MongoServerError('BadValue', 'cannot set maxTimeMS on getMore command for a non-awaitData cursor');
    // As mongod: a getMore after the collection was dropped or renamed is QueryPlanKilled, and
    // the cursor is gone (it does not go on reading the documents of a dropped collection).
    const killed = cursor.killedBy?.();
    if (killed !== undefined) {
      this.close(key);
      throw new MongoServerError('QueryPlanKilled', killed);
    }
    const { next, ...taken } = takeBatch(cursor.source, cursor.next, batchSize ?? Number.MAX_SAFE_INTEGER);
    cursor.next = next;
    cursor.lastUsed = Date.now();
    if (next === undefined) {
      this.cursors.delete(key);
      return { ...taken, id: Long.ZERO };
    }
    return { ...taken, id };
  }

  kill(ids: Long[]): { killed: Long[]; notFound: Long[] } {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const id of ids) (this.close(id.toBigInt()) ? killed : notFound).push(id);
    return { killed, notFound };
  }

  reapIdle(now = Date.now()): void {
    for (const [id, cursor] of this.cursors) if (now - cursor.lastUsed > IDLE_TIMEOUT_MS) this.close(id);
  }

  private close(id: bigint): boolean {
    const cursor = this.cursors.get(id);
    if (!cursor) return false;
    this.cursors.delete(id);
    cursor.source.return?.();
    return true;
  }

  get size(): number {
    return this.cursors.size;
  }
}

/**
 * Random positive 63-bit ids like mongod's: drivers keep ids above 2^53 as Int64 (Long) values,
 * and unguessable ids keep one client from fetching another's cursor by counting.
 */
function newCursorId(): bigint {
  const id = randomBytes(8).readBigUInt64LE() & 0x7fffffffffffffffn;
  return id > 2n ** 53n ? id : id + 2n ** 53n;
}

/** One batch of a cursor: the documents and their BSON, which the reply is built from. */
export interface Batch {
  batch: Document[];
  bytes: Buffer[];
  length: number;
  id: Long;
}

/**
 * Up to batchSize documents (and under the reply size limit) from source, starting with `first`
 * when given; `next` is the document after the batch, undefined once source is exhausted.
 */
function takeBatch(source: Iterator<Document>, first: Document | undefined, batchSize: number): Omit<Batch, 'id'> & { next: Document | undefined } {
  const limit = batchSize <= 0 ? Number.MAX_SAFE_INTEGER : batchSize;
  const pull = (): Document | undefined => {
    const r = source.next();
    return r.done ? undefined : r.value;
  };
  // Even 101 documents can exceed the 16MB reply limit when they are large, so always measure.
  const batch: Document[] = [];
  const bytes: Buffer[] = [];
  let total = 0;
  let next = first ?? pull();
  while (next !== undefined && batch.length < limit) {
    const raw = rawBson(next);
    if (batch.length > 0 && total + raw.length > MAX_BATCH_BYTES) break;
    total += raw.length;
    batch.push(next);
    bytes.push(raw);
    next = pull();
  }
  return { batch, bytes, length: batch.length, next };
}
