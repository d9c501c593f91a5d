// Serialized BSON of stored documents, kept while the document lives: stored documents are
// immutable, so a document read many times (or journaled, then read) is serialized once.
import { deserialize, serialize } from 'bson';
import type { Document } from './values.js';
import { bsonType, isPlainDocument } from './values.js';
import { deserializeOptions } from './wire.js';

const serialized = new WeakMap<Document, Buffer>();

/**
 * A document that is only sent, never read: its reply bytes, already made (an exclusion
 * projection's). Cheaper than remembering bytes for a fresh object: a WeakMap entry per reply
 * document cost the store more than the projection itself.
 */
export class ReplyBytes {
  constructor(readonly bytes: Buffer) {}
}

export function rawBson(doc: Document): Buffer {
  if (doc instanceof ReplyBytes) return doc.bytes;
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

/** Records bytes a document was just read from (SQLite rows), so its first reply needs no serialize. */
export function rememberRawBson(doc: Document, bytes: Buffer): void {
  serialized.set(doc, bytes);
}

function containsBinary(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsBinary);
  if (isPlainDocument(value)) {
    for (const key in value) if (containsBinary(value[key])) return true;
    return false;
  }
  return bsonType(value) === 'Binary';
}

/**
 * Binary values deserialized from a request are views into the whole request buffer (up to
 * 48MB for a batch insert). A stored document holding one would pin that buffer, so such a
 * document is re-read from its own BSON, whose bytes it keeps anyway.
 */
export function detachBinaries(doc: Document): Document {
  if (!containsBinary(doc)) return doc;
  const bytes = rawBson(doc);
  const own = deserialize(bytes, deserializeOptions) as Document;
  serialized.set(own, bytes);
  return own;
}
