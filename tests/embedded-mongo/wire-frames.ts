// Builders of raw wire-protocol frames, for tests that talk to the store byte by byte.
import net from 'node:net';
import { BSON, type Document } from 'mongodb';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
export const CHECKSUM_PRESENT = 1;
export const MORE_TO_COME = 2;

export function header(length: number, requestId: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(0, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

export const bson = (d: Document) => Buffer.from(BSON.serialize(d));
export const cstring = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);

/** CRC-32C (Castagnoli), as OP_MSG checksums use. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
export function crc32c(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function opMsg(sections: Buffer[], flags = 0, requestId = 7): Buffer {
  const body = Buffer.concat([Buffer.alloc(4), ...sections]);
  body.writeUInt32LE(flags, 0);
  const withChecksum = (flags & CHECKSUM_PRESENT) !== 0;
  const length = 16 + body.length + (withChecksum ? 4 : 0);
  const msg = Buffer.concat([header(length, requestId, OP_MSG), body]);
  if (!withChecksum) return msg;
  const sum = Buffer.alloc(4);
  sum.writeUInt32LE(crc32c(msg), 0);
  return Buffer.concat([msg, sum]);
}
export const kind0 = (d: Document) => Buffer.concat([Buffer.from([0]), bson(d)]);
export function kind1(identifier: string, docs: Document[]): Buffer {
  const payload = Buffer.concat([cstring(identifier), ...docs.map(bson)]);
  const size = Buffer.alloc(4);
  size.writeInt32LE(4 + payload.length, 0);
  return Buffer.concat([Buffer.from([1]), size, payload]);
}

/** Sends one message on a fresh connection; resolves with the first complete reply, or null after `waitMs`. */
export function roundTrip(port: number, msg: Buffer, waitMs = 2000): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const done = (v: Buffer | null) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), waitMs);
    sock.on('connect', () => sock.write(msg));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) done(buf.subarray(0, buf.readInt32LE(0)));
    });
    sock.on('error', reject);
  });
}

/** The body document of an OP_MSG reply (its kind-0 section). */
export function opMsgReplyBody(reply: Buffer): Document {
  return BSON.deserialize(reply.subarray(21, 21 + reply.readInt32LE(21)));
}
