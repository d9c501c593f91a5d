/**
 * A Map that forgets its oldest entry once it holds `limit` entries: for the small caches of a
 * long-running process (counts per meeting revision, formatted dates, sessions), which must not
 * grow without end. With `ttlMs`, `get` and `has` also forget an entry that old: a cache keyed
 * by a revision is then never trusted past that age, even when a write bypassed the revision.
 * Expiry is a timestamp per entry checked on read (no timers).
 */
export class BoundedMap<K, V> extends Map<K, V> {
  private readonly ttlMs: number | undefined;
  private readonly now: () => number;
  private readonly storedAt = new Map<K, number>();

  constructor(
    private readonly limit: number,
    options: { ttlMs?: number; now?: () => number } = {},
  ) {
    super();
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) this.delete(this.keys().next().value as K);
    // A replaced entry moves to the end, so the oldest stored is always first to be evicted.
    if (this.ttlMs !== undefined) {
      super.delete(key);
      this.storedAt.delete(key);
      this.storedAt.set(key, this.now());
    }
    return super.set(key, value);
  }

  override get(key: K): V | undefined {
    return this.expire(key) ? undefined : super.get(key);
  }

  override has(key: K): boolean {
    return !this.expire(key) && super.has(key);
  }

  override delete(key: K): boolean {
    this.storedAt.delete(key);
    return super.delete(key);
  }

  override clear(): void {
    this.storedAt.clear();
    super.clear();
  }

  /** Deletes `key` if it is older than the TTL; true when it did. */
  private expire(key: K): boolean {
    if (this.ttlMs === undefined) return false;
    const storedAt = this.storedAt.get(key);
    if (storedAt === undefined || this.now() - storedAt < this.ttlMs) return false;
    this.delete(key);
    return true;
  }
}
