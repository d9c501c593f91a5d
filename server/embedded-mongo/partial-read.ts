// Which top-level fields a find needs decoded to decide and order its results (partial decode,
// document-store.ts): the filter's fields and the sort's. Undefined when it needs the whole
// document ($expr, $where, $jsonSchema, $text and the like look at any field).
import { FieldSelection } from './document-store.js';
import type { Document } from './values.js';
import { isPlainDocument } from './values.js';

const LOGICAL = new Set(['$and', '$or', '$nor']);

function collectFilterFields(filter: Document, into: Set<string>): boolean {
  for (const [key, value] of Object.entries(filter)) {
    if (LOGICAL.has(key)) {
      if (!Array.isArray(value)) return false;
      for (const clause of value) if (!isPlainDocument(clause) || !collectFilterFields(clause, into)) return false;
    } else if (key === '$comment') {
      continue;
    } else if (key.startsWith('$')) {
      return false;
    } else {
      into.add(key.split('.')[0]);
    }
  }
  return true;
}

/** The fields to decode for a filter plus sort paths, or undefined for the whole document. */
export function fieldsFor(filter: Document | undefined, sortPaths: string[][] = []): FieldSelection | undefined {
  const fields = new Set<string>();
  if (filter && !collectFilterFields(filter, fields)) return undefined;
  for (const path of sortPaths) fields.add(path[0]);
  return new FieldSelection(fields);
}
