// Open cursors: results not yet returned, by Int64 id. Idle cursors are reaped so memory stays flat.
import { randomBytes } from 'node:crypto';
import { Long } from 'bson';
import { MongoServerError } from './errors.js';
import { rawBson } from './raw-bson.js';
import type { Document } from './values.js';

const IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** Leaves headroom under the 16MB reply limit for the cursor envelope. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024;

interface OpenCursor {
  namespace: string;
  remaining: Document[];
  position: number;
  lastUsed: number;
}

export class CursorRegistry {
  private readonly cursors = new Map<bigint, OpenCursor>();

  /**
   * Takes the first batch from results and keeps the rest under a new cursor id
   * (0 when everything fit in the first batch).
   */
  open(namespace: string, results: Document[], batchSize: number | undefined, singleBatch = false): Batch {
    const taken = takeBatch(results, 0, batchSize ?? 101);
    if (singleBatch || taken.length >= results.length) return { ...taken, id: Long.ZERO };
    const id = newCursorId();
    this.cursors.set(id, { namespace, remaining: results, position: taken.length, lastUsed: Date.now() });
    return { ...taken, id: Long.fromBigInt(id) };
  }

  getMore(id: Long, namespace: string, batchSize: number | undefined): Batch {
    const key = id.toBigInt();
    const cursor = this.cursors.get(key);
    if (!cursor) throw new MongoServerError('CursorNotFound', `cursor id ${key} not found`);
    if (cursor.namespace !== namespace) {
      throw new MongoServerError('Unauthorized', `Requested getMore on namespace '${namespace}', but cursor belongs to a different namespace ${cursor.namespace}`);
    }
    const taken = takeBatch(cursor.remaining, cursor.position, batchSize ?? Number.MAX_SAFE_INTEGER);
    cursor.position += taken.length;
    cursor.lastUsed = Date.now();
    if (cursor.position >= cursor.remaining.length) {
      this.cursors.delete(key);
      return { ...taken, id: Long.ZERO };
    }
    return { ...taken, id };
  }

  kill(ids: Long[]): { killed: Long[]; notFound: Long[] } {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const id of ids) (this.cursors.delete(id.toBigInt()) ? killed : notFound).push(id);
    return { killed, notFound };
  }

  reapIdle(now = Date.now()): void {
    for (const [id, cursor] of this.cursors) if (now - cursor.lastUsed > IDLE_TIMEOUT_MS) this.cursors.delete(id);
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

function takeBatch(results: Document[], start: number, batchSize: number): Omit<Batch, 'id'> {
  const limit = batchSize <= 0 ? Number.MAX_SAFE_INTEGER : batchSize;
  const end = Math.min(results.length, start + limit);
  // Even 101 documents can exceed the 16MB reply limit when they are large, so always measure.
  const batch: Document[] = [];
  const bytes: Buffer[] = [];
  let total = 0;
  for (let i = start; i < end; i++) {
    const raw = rawBson(results[i]);
    total += raw.length;
    if (batch.length > 0 && total > MAX_BATCH_BYTES) break;
    batch.push(results[i]);
    bytes.push(raw);
  }
  return { batch, bytes, length: batch.length };
}
