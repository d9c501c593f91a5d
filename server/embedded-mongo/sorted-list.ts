// A sorted list kept as a sequence of small sorted chunks: inserts and deletes move at most one
// chunk's worth of elements (a flat array would move up to the whole index on every write).

const MAX_CHUNK = 512;

export class SortedList<T> {
  private chunks: T[][] = [];
  private count = 0;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** Replaces the contents with items already sorted by compare. */
  resetSorted(items: T[]): void {
    this.chunks = [];
    for (let i = 0; i < items.length; i += MAX_CHUNK / 2) this.chunks.push(items.slice(i, i + MAX_CHUNK / 2));
    this.count = items.length;
  }

  get size(): number {
    return this.count;
  }

  insert(item: T): void {
    if (this.chunks.length === 0) {
      this.chunks.push([item]);
      this.count = 1;
      return;
    }
    const [c, i] = this.position((e) => this.compare(e, item) > 0);
    // Past the end: append to the last chunk.
    const chunkIndex = c === this.chunks.length ? c - 1 : c;
    const chunk = this.chunks[chunkIndex];
    chunk.splice(c === this.chunks.length ? chunk.length : i, 0, item);
    this.count++;
    if (chunk.length > MAX_CHUNK) this.chunks.splice(chunkIndex, 1, chunk.slice(0, chunk.length >> 1), chunk.slice(chunk.length >> 1));
  }

  /** Removes the element comparing equal to item; false if there is none. */
  delete(item: T): boolean {
    const [c, i] = this.position((e) => this.compare(e, item) >= 0);
    if (c === this.chunks.length) return false;
    const chunk = this.chunks[c];
    if (this.compare(chunk[i], item) !== 0) return false;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(c, 1);
    return true;
  }

  /** Elements from the first one for which pred (false...false true...true) holds, ascending. */
  *from(pred: (e: T) => boolean): Generator<T> {
    let [c, i] = this.position(pred);
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c];
      for (; i < chunk.length; i++) yield chunk[i];
    }
  }

  *ascending(): Generator<T> {
    for (const chunk of this.chunks) yield* chunk;
  }

  *descending(): Generator<T> {
    for (let c = this.chunks.length - 1; c >= 0; c--) {
      const chunk = this.chunks[c];
      for (let i = chunk.length - 1; i >= 0; i--) yield chunk[i];
    }
  }

  /** [chunk, offset] of the first element satisfying pred; [chunks.length, 0] if none does. */
  private position(pred: (e: T) => boolean): [number, number] {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid];
      if (pred(chunk[chunk.length - 1])) hi = mid;
      else lo = mid + 1;
    }
    if (lo === this.chunks.length) return [lo, 0];
    const chunk = this.chunks[lo];
    let a = 0;
    let b = chunk.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (pred(chunk[mid])) b = mid;
      else a = mid + 1;
    }
    return [lo, a];
  }
}
