// `hint` validation: mongod refuses a hint that names no index of the collection (BadValue, 2).
// A collection that does not exist has nothing to check against, and mongod does not complain.
import { badValue } from './errors.js';
import type { Index } from './indexes.js';
import { compareValues, isPlainDocument } from './values.js';

export function checkHint(indexes: readonly Index[] | undefined, hint: unknown): void {
  if (hint === undefined || hint === null || indexes === undefined) return;
  if (typeof hint === 'string') {
    if (indexes.some((index) => index.name === hint)) return;
  } else if (isPlainDocument(hint)) {
    const keys = Object.keys(hint);
    if (keys.length === 0 || keys[0] === '$natural') return;
    if (indexes.some((index) => compareValues(index.keyPattern, hint) === 0)) return;
  } else {
    return;
  }
  throw badValue('error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index');
}
