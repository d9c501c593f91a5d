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
