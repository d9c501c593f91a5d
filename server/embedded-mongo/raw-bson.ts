// Serialized BSON of stored documents, kept while the document lives: stored documents are
// immutable, so a document read many times (or journaled, then read) is serialized once.
import { serialize } from 'bson';
import type { Document } from './values.js';

const serialized = new WeakMap<Document, Buffer>();

export function rawBson(doc: Document): Buffer {
  let bytes = serialized.get(doc);
  if (!bytes) {
    const u8 = serialize(doc);
    // Small serializations are slices of Node's shared 8KB pool; a long-lived slice would keep
    // its whole slab alive, so cached bytes get their own memory.
    bytes = Buffer.allocUnsafeSlow(u8.byteLength);
    bytes.set(u8);
    serialized.set(doc, bytes);
  }
  return bytes;
}
