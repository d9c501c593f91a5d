// Open cursors: results not yet returned, by Int64 id. Idle cursors are reaped so memory stays flat.
import { randomBytes } from 'node:crypto';
import { Long, calculateObjectSize } from 'bson';
import { MongoServerError } from './errors.js';
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
  open(namespace: string, results: Document[], batchSize: number | undefined, singleBatch = false): { batch: Document[]; id: Long } {
    const batch = takeBatch(results, 0, batchSize ?? 101);
    if (singleBatch || batch.length >= results.length) return { batch, id: Long.ZERO };
    const id = newCursorId();
    this.cursors.set(id, { namespace, remaining: results, position: batch.length, lastUsed: Date.now() });
    return { batch, id: Long.fromBigInt(id) };
  }

  getMore(id: Long, namespace: string, batchSize: number | undefined): { batch: Document[]; id: Long } {
    const key = id.toBigInt();
    const cursor = this.cursors.get(key);
    if (!cursor) throw new MongoServerError('CursorNotFound', `cursor id ${key} not found`);
    if (cursor.namespace !== namespace) {
      throw new MongoServerError('Unauthorized', `Requested getMore on namespace '${namespace}', but cursor belongs to a different namespace ${cursor.namespace}`);
    }
    const batch = takeBatch(cursor.remaining, cursor.position, batchSize ?? Number.MAX_SAFE_INTEGER);
    cursor.position += batch.length;
    cursor.lastUsed = Date.now();
    if (cursor.position >= cursor.remaining.length) {
      this.cursors.delete(key);
      return { batch, id: Long.ZERO };
    }
    return { batch, id };
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

function takeBatch(results: Document[], start: number, batchSize: number): Document[] {
  const limit = batchSize <= 0 ? Number.MAX_SAFE_INTEGER : batchSize;
  const end = Math.min(results.length, start + limit);
  // Even 101 documents can exceed the 16MB reply limit when they are large, so always measure.
  const batch: Document[] = [];
  let bytes = 0;
  for (let i = start; i < end; i++) {
    bytes += calculateObjectSize(results[i]);
    if (batch.length > 0 && bytes > MAX_BATCH_BYTES) break;
    batch.push(results[i]);
  }
  return batch;
}
