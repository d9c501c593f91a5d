/**
 * A Map that forgets its oldest entry once it holds `limit` entries: for the small caches of a
 * long-running process (counts per meeting revision, formatted dates, sessions), which must not
 * grow without end.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}
