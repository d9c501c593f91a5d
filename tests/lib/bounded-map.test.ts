import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../server/lib/bounded-map.js';

describe('a bounded cache', () => {
  it('forgets its oldest entry once full, and replacing an entry does not evict another', () => {
    const cache = new BoundedMap<string, number>(2);
    cache.set('a', 1).set('b', 2);
    cache.set('b', 20);
    expect([...cache]).toEqual([['a', 1], ['b', 20]]);
    cache.set('c', 3);
    expect([...cache]).toEqual([['b', 20], ['c', 3]]);
  });
});

describe('a bounded cache with a time to live', () => {
  it('never serves an entry past its TTL, even though its key still matches', () => {
    let now = 1_000;
    const cache = new BoundedMap<string, number>(10, { ttlMs: 100, now: () => now });
    cache.set('meeting:7', 42);
    now += 99;
    expect(cache.get('meeting:7')).toBe(42);
    expect(cache.has('meeting:7')).toBe(true);
    now += 1;
    expect(cache.get('meeting:7')).toBeUndefined();
    expect(cache.has('meeting:7')).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('storing an entry again starts its TTL again, and an expired entry does not count toward the limit', () => {
    let now = 0;
    const cache = new BoundedMap<string, number>(2, { ttlMs: 100, now: () => now });
    cache.set('a', 1).set('b', 2);
    now = 60;
    cache.set('a', 10);
    now = 120;
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(10);
    cache.set('c', 3);
    expect([...cache]).toEqual([['a', 10], ['c', 3]]);
    now = 160;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBe(3);
  });
});
