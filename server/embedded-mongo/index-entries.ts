// An index's (key, rid) entries in key order, kept compact: a sequence of small sorted chunks,
// each holding its keys flat in one array (width values per entry) and its rids in another, so
// an entry costs its key values and a few array slots, not an object and a key array each.
// Inserts and deletes move at most one chunk's worth of slots.
//
// Equal key values next to each other share one JS value: an entry inserted beside one with the
// same meetingId (or role, or search word) points at its neighbour's value instead of keeping
// its own copy, so a compound index on { meetingId, ... } holds each meeting's id about once.
import type { Document } from './values.js';
import { bsonType, compareValues } from './values.js';

export interface Entry {
  key: unknown[];
  rid: number;
}

const MAX_CHUNK = 512;

interface Chunk {
  keys: unknown[];
  rids: number[];
}

export class EntryList {
  private chunks: Chunk[] = [];
  private count = 0;
  /** Estimated heap bytes held by the entries (slots and the key values they own). */
  bytes = 0;

  constructor(
    private readonly width: number,
    private readonly compare: (a: Entry, b: Entry) => number,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Replaces the contents with entries already sorted by compare. */
  resetSorted(entries: Entry[]): void {
    const w = this.width;
    this.chunks = [];
    this.bytes = 0;
    let previous: unknown[] | undefined;
    for (let start = 0; start < entries.length; start += MAX_CHUNK / 2) {
      const slice = entries.slice(start, start + MAX_CHUNK / 2);
      const keys: unknown[] = new Array(slice.length * w);
      const rids: number[] = new Array(slice.length);
      slice.forEach((e, i) => {
        for (let j = 0; j < w; j++) {
          const value = previous && sameValue(previous[j], e.key[j]) ? previous[j] : e.key[j];
          if (value !== previous?.[j]) this.bytes += valueBytes(value);
          keys[i * w + j] = value;
        }
        rids[i] = e.rid;
        previous = keys.slice(i * w, i * w + w);
      });
      this.chunks.push({ keys, rids });
    }
    this.count = entries.length;
    this.bytes += this.count * slotBytes(w);
  }

  insert(key: unknown[], rid: number): void {
    const w = this.width;
    if (this.chunks.length === 0) {
      this.chunks.push({ keys: [...key], rids: [rid] });
      this.count = 1;
      this.bytes = slotBytes(w) + key.reduce<number>((sum, v) => sum + valueBytes(v), 0);
      return;
    }
    const item = { key, rid };
    let [c, i] = this.position((e) => this.compare(e, item) > 0);
    if (c === this.chunks.length) {
      c--;
      i = this.chunks[c].rids.length;
    }
    const chunk = this.chunks[c];
    // Share equal values with the entry before (or, at the very start, after) this one.
    const neighbour = i > 0 ? this.keyAt(c, i - 1) : c > 0 ? this.keyAt(c - 1, this.chunks[c - 1].rids.length - 1) : this.keyAt(c, 0);
    const stored = key.map((v, j) => {
      if (sameValue(neighbour[j], v)) return neighbour[j];
      this.bytes += valueBytes(v);
      return v;
    });
    chunk.keys.splice(i * w, 0, ...stored);
    chunk.rids.splice(i, 0, rid);
    this.count++;
    this.bytes += slotBytes(w);
    if (chunk.rids.length > MAX_CHUNK) {
      const half = chunk.rids.length >> 1;
      this.chunks.splice(
        c,
        1,
        { keys: chunk.keys.slice(0, half * w), rids: chunk.rids.slice(0, half) },
        { keys: chunk.keys.slice(half * w), rids: chunk.rids.slice(half) },
      );
    }
  }

  /** Removes the entry comparing equal to (key, rid); false if there is none. */
  delete(key: unknown[], rid: number): boolean {
    const w = this.width;
    const item = { key, rid };
    const [c, i] = this.position((e) => this.compare(e, item) >= 0);
    if (c === this.chunks.length) return false;
    const chunk = this.chunks[c];
    if (this.compare(this.entryAt(c, i), item) !== 0) return false;
    const before = i > 0 ? this.keyAt(c, i - 1) : c > 0 ? this.keyAt(c - 1, this.chunks[c - 1].rids.length - 1) : undefined;
    const after = i + 1 < chunk.rids.length ? this.keyAt(c, i + 1) : c + 1 < this.chunks.length ? this.keyAt(c + 1, 0) : undefined;
    for (let j = 0; j < w; j++) {
      const v = chunk.keys[i * w + j];
      // A value shared with a neighbour stays alive (and counted) through it.
      if (before?.[j] !== v && after?.[j] !== v) this.bytes -= valueBytes(v);
    }
    this.bytes -= slotBytes(w);
    chunk.keys.splice(i * w, w);
    chunk.rids.splice(i, 1);
    this.count--;
    if (chunk.rids.length === 0) this.chunks.splice(c, 1);
    return true;
  }

  /** Entries from the first one for which pred (false...false true...true) holds, ascending. */
  *from(pred: (e: Entry) => boolean): Generator<Entry> {
    let [c, i] = this.position(pred);
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c];
      for (; i < chunk.rids.length; i++) yield this.entryAt(c, i);
    }
  }

  /**
   * From the first entry satisfying pred, in order: visit(keys, base) sees an entry's key values
   * at keys[base .. base + width) without a copy; it returns false to stop.
   */
  visitFrom(pred: (e: Entry) => boolean, visit: (keys: readonly unknown[], base: number) => boolean): void {
    const w = this.width;
    let [c, i] = this.position(pred);
    for (; c < this.chunks.length; c++, i = 0) {
      const { keys, rids } = this.chunks[c];
      for (; i < rids.length; i++) if (!visit(keys, i * w)) return;
    }
  }

  *ascending(): Generator<Entry> {
    for (let c = 0; c < this.chunks.length; c++) {
      for (let i = 0; i < this.chunks[c].rids.length; i++) yield this.entryAt(c, i);
    }
  }

  *descending(): Generator<Entry> {
    for (let c = this.chunks.length - 1; c >= 0; c--) {
      for (let i = this.chunks[c].rids.length - 1; i >= 0; i--) yield this.entryAt(c, i);
    }
  }

  /** Record ids in key order, without building the entries. */
  *rids(direction: 1 | -1): Generator<number> {
    if (direction === 1) {
      for (const chunk of this.chunks) yield* chunk.rids;
      return;
    }
    for (let c = this.chunks.length - 1; c >= 0; c--) {
      const rids = this.chunks[c].rids;
      for (let i = rids.length - 1; i >= 0; i--) yield rids[i];
    }
  }

  private keyAt(c: number, i: number): unknown[] {
    const w = this.width;
    return this.chunks[c].keys.slice(i * w, i * w + w);
  }

  private entryAt(c: number, i: number): Entry {
    return { key: this.keyAt(c, i), rid: this.chunks[c].rids[i] };
  }

  /** [chunk, offset] of the first entry satisfying pred; [chunks.length, 0] if none does. */
  private position(pred: (e: Entry) => boolean): [number, number] {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(this.entryAt(mid, this.chunks[mid].rids.length - 1))) hi = mid;
      else lo = mid + 1;
    }
    if (lo === this.chunks.length) return [lo, 0];
    let a = 0;
    let b = this.chunks[lo].rids.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (pred(this.entryAt(lo, mid))) b = mid;
      else a = mid + 1;
    }
    return [lo, a];
  }
}

/** Values worth sharing between neighbours: same type and equal (strings, ids, dates, integers). */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'string') return a === b;
  if (a === null || typeof a !== 'object' || b === null || typeof b !== 'object' || a === b) return false;
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  const type = bsonType(a);
  if (type !== 'ObjectId' && type !== 'Int32' && type !== 'Long') return false;
  return bsonType(b) === type && compareValues(a, b) === 0;
}

/** Estimated bytes of one entry with this key, before any sharing with its neighbours. */
export function entryBytes(key: unknown[]): number {
  let bytes = slotBytes(key.length);
  for (const v of key) bytes += valueBytes(v);
  return bytes;
}

/** Slots of one entry: its key values and rid in the chunk arrays, with their growth slack. */
function slotBytes(width: number): number {
  return Math.ceil((width + 1) * 8 * 1.25);
}

/** Approximate heap size of one key value held by an index. */
export function valueBytes(value: unknown): number {
  if (typeof value === 'string') return 8 * Math.ceil((16 + value.length * (isOneByte(value) ? 1 : 2)) / 8);
  if (value === null || typeof value !== 'object') return 0;
  if (value instanceof Date) return 48;
  switch (bsonType(value)) {
    case 'ObjectId':
      return 56;
    case 'Int32':
    case 'Double':
      return 32;
    case 'Long':
    case 'Timestamp':
      return 40;
    case 'Decimal128':
    case 'Binary':
      return 120 + ((value as { length?: number }).length ?? 16);
    default:
      return documentBytes(value);
  }
}

/** Whether V8 can keep the string one byte per character (Latin-1). */
function isOneByte(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Embedded documents and arrays used as index keys: a rough per-field cost. */
function documentBytes(value: object): number {
  let bytes = 56;
  for (const v of Object.values(value as Document)) bytes += 16 + valueBytes(v);
  return bytes;
}
