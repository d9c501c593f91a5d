// Append-only journal of document writes in front of SQLite. A command's writes are appended
// with one write(2) before it is acknowledged: once in the OS page cache they survive kill -9 of
// the process. They are applied to SQLite in batches shortly after, then the journal is emptied;
// on startup any leftover records are replayed. Records are idempotent assignments (put or delete
// of one record id), so replaying ones SQLite already holds is harmless.
import fs from 'node:fs';

export type JournalRecord =
  | { op: 'put'; collection: string; rid: number; doc: Buffer }
  | { op: 'delete'; collection: string; rid: number };

const OP_PUT = 1;
const OP_DELETE = 2;
// length (u32) + op (u8) + rid (f64) + collection name length (u16)
const FIXED_HEADER = 4 + 1 + 8 + 2;

export function encodeRecord(record: JournalRecord): Buffer {
  const name = Buffer.from(record.collection, 'utf8');
  const body = record.op === 'put' ? record.doc : undefined;
  const length = FIXED_HEADER + name.length + (body?.length ?? 0);
  const buf = Buffer.allocUnsafe(length);
  buf.writeUInt32LE(length, 0);
  buf[4] = record.op === 'put' ? OP_PUT : OP_DELETE;
  buf.writeDoubleLE(record.rid, 5);
  buf.writeUInt16LE(name.length, 13);
  name.copy(buf, FIXED_HEADER);
  body?.copy(buf, FIXED_HEADER + name.length);
  return buf;
}

/** Decodes complete records; a torn tail (partial last record) is ignored. */
export function decodeRecords(data: Buffer): JournalRecord[] {
  const out: JournalRecord[] = [];
  let offset = 0;
  while (offset + FIXED_HEADER <= data.length) {
    const length = data.readUInt32LE(offset);
    if (length < FIXED_HEADER || offset + length > data.length) break;
    const op = data[offset + 4];
    const rid = data.readDoubleLE(offset + 5);
    const nameLength = data.readUInt16LE(offset + 13);
    const collection = data.toString('utf8', offset + FIXED_HEADER, offset + FIXED_HEADER + nameLength);
    if (op === OP_PUT) {
      out.push({ op: 'put', collection, rid, doc: Buffer.from(data.subarray(offset + FIXED_HEADER + nameLength, offset + length)) });
    } else if (op === OP_DELETE) {
      out.push({ op: 'delete', collection, rid });
    } else {
      break;
    }
    offset += length;
  }
  return out;
}

export class Journal {
  private fd: number;

  constructor(readonly filePath: string) {
    this.fd = fs.openSync(filePath, 'a+');
  }

  readAll(): JournalRecord[] {
    return decodeRecords(fs.readFileSync(this.filePath));
  }

  append(chunks: Buffer[]): void {
    const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    let written = 0;
    while (written < data.length) written += fs.writeSync(this.fd, data, written, data.length - written);
  }

  clear(): void {
    fs.ftruncateSync(this.fd, 0);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
