// Serialized BSON of stored documents, kept while the document lives: stored documents are
// immutable, so a document read many times (or journaled, then read) is serialized once.
import { serialize } from 'bson';
import type { Document } from './values.js';

const serialized = new WeakMap<Document, Buffer>();

export function rawBson(doc: Document): Buffer {
  let bytes = serialized.get(doc);
  if (!bytes) {
    const u8 = serialize(doc);
    bytes = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
    serialized.set(doc, bytes);
  }
  return bytes;
}
