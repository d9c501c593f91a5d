// Builders of journal files as server/embedded-mongo/README.md documents their format, written
// independently of the store's own encoder, for tests that damage a journal byte by byte.
import zlib from 'node:zlib';
import { BSON, type Document } from 'mongodb';

export const FRAME_MAGIC = Buffer.from([0xe5, 0x4d, 0x4a, 0x0a]);
export const FRAME_HEADER = 12;

/** One journal record: put (a document) or delete of record id `rid` in a collection. */
export function putRecord(collection: string, rid: number, doc: Document): Buffer {
  return record(1, collection, rid, Buffer.from(BSON.serialize(doc)));
}

export function deleteRecord(collection: string, rid: number): Buffer {
  return record(2, collection, rid, Buffer.alloc(0));
}

function record(op: number, collection: string, rid: number, body: Buffer): Buffer {
  const name = Buffer.from(collection, 'utf8');
  const head = Buffer.alloc(15);
  head.writeUInt32LE(15 + name.length + body.length, 0);
  head[4] = op;
  head.writeDoubleLE(rid, 5);
  head.writeUInt16LE(name.length, 13);
  return Buffer.concat([head, name, body]);
}

/** A frame: the writes of one command, with their length and CRC-32. */
export function frame(records: Buffer[]): Buffer {
  const body = Buffer.concat(records);
  const head = Buffer.alloc(FRAME_HEADER);
  FRAME_MAGIC.copy(head, 0);
  head.writeUInt32LE(body.length, 4);
  head.writeUInt32LE(zlib.crc32(body, zlib.crc32(head.subarray(4, 8))), 8);
  return Buffer.concat([head, body]);
}

/** A journal of frames, and where each frame starts. */
export function journal(frames: Buffer[]): { bytes: Buffer; offsets: number[] } {
  const offsets: number[] = [];
  let at = 0;
  for (const f of frames) {
    offsets.push(at);
    at += f.length;
  }
  return { bytes: Buffer.concat(frames), offsets };
}
