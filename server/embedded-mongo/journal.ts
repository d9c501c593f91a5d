// Append-only journal of document writes in front of SQLite. Each command's writes become one
// frame (magic, length, CRC-32, records), appended with one write(2) before the command is
// acknowledged: once in the OS page cache it survives kill -9 of the process, and after an
// fdatasync (writeConcern j:true, the periodic commit, group commit) it survives power loss.
// Frames are applied to SQLite in batches shortly after, then the journal is emptied; on startup
// the intact frames left over are replayed. Records are idempotent assignments (put or delete of
// one record id), so replaying ones SQLite already holds is harmless.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export type JournalRecord =
  | { op: 'put'; collection: string; rid: number; doc: Buffer }
  | { op: 'delete'; collection: string; rid: number };

const OP_PUT = 1;
const OP_DELETE = 2;
// Record inside a frame: length (u32) + op (u8) + rid (f64) + collection name length (u16).
const RECORD_HEADER = 4 + 1 + 8 + 2;

// Frame: magic (4 bytes) + body length (u32) + CRC-32 of the length bytes and the body (u32).
// As a little-endian u32 the magic reads 0x0A4A4DE5 (172 MB), far above any record length of
// the unframed journal of earlier versions (a record holds one document, at most 16 MB), so
// the first four bytes tell the two formats apart.
export const FRAME_MAGIC = Buffer.from([0xe5, 0x4d, 0x4a, 0x0a]);
export const FRAME_HEADER = 12;
/** A command's writes are limited by the 48 MB message size; anything longer is damage. */
const MAX_FRAME_BODY = 1 << 30;

export function encodeRecord(record: JournalRecord): Buffer {
  const name = Buffer.from(record.collection, 'utf8');
  const body = record.op === 'put' ? record.doc : undefined;
  const length = RECORD_HEADER + name.length + (body?.length ?? 0);
  const buf = Buffer.allocUnsafe(length);
  buf.writeUInt32LE(length, 0);
  buf[4] = record.op === 'put' ? OP_PUT : OP_DELETE;
  buf.writeDoubleLE(record.rid, 5);
  buf.writeUInt16LE(name.length, 13);
  name.copy(buf, RECORD_HEADER);
  body?.copy(buf, RECORD_HEADER + name.length);
  return buf;
}

/** One frame holding the encoded records of one command. */
export function encodeFrame(records: Buffer[]): Buffer {
  let bodyLength = 0;
  for (const r of records) bodyLength += r.length;
  const header = Buffer.allocUnsafe(FRAME_HEADER);
  FRAME_MAGIC.copy(header, 0);
  header.writeUInt32LE(bodyLength, 4);
  let crc = zlib.crc32(header.subarray(4, 8));
  for (const r of records) crc = zlib.crc32(r, crc);
  header.writeUInt32LE(crc, 8);
  return Buffer.concat([header, ...records], FRAME_HEADER + bodyLength);
}

/** Decodes the records of a frame body (or of a whole unframed journal); null if malformed. */
function decodeBody(data: Buffer, start: number, end: number, strict: boolean): { records: JournalRecord[]; end: number } | null {
  const records: JournalRecord[] = [];
  let offset = start;
  while (offset < end) {
    if (offset + RECORD_HEADER > end) return strict ? null : { records, end: offset };
    const length = data.readUInt32LE(offset);
    const op = data[offset + 4];
    const nameLength = data.readUInt16LE(offset + 13);
    if (length < RECORD_HEADER + nameLength || offset + length > end || (op !== OP_PUT && op !== OP_DELETE)) {
      return strict ? null : { records, end: offset };
    }
    const rid = data.readDoubleLE(offset + 5);
    const collection = data.toString('utf8', offset + RECORD_HEADER, offset + RECORD_HEADER + nameLength);
    if (op === OP_PUT) {
      records.push({ op: 'put', collection, rid, doc: Buffer.from(data.subarray(offset + RECORD_HEADER + nameLength, offset + length)) });
    } else {
      records.push({ op: 'delete', collection, rid });
    }
    offset += length;
  }
  return { records, end: offset };
}

interface Frame {
  offset: number;
  end: number;
  records: JournalRecord[];
}

/** The intact frame at offset, or why there is none. */
function readFrame(data: Buffer, offset: number): Frame | { problem: string } {
  if (offset + FRAME_HEADER > data.length) return { problem: 'incomplete frame header' };
  if (!data.subarray(offset, offset + 4).equals(FRAME_MAGIC)) return { problem: 'no frame marker' };
  const bodyLength = data.readUInt32LE(offset + 4);
  if (bodyLength > MAX_FRAME_BODY) return { problem: `impossible frame length ${bodyLength}` };
  const end = offset + FRAME_HEADER + bodyLength;
  if (end > data.length) return { problem: `frame of ${bodyLength} bytes runs past the end of the file` };
  const crc = zlib.crc32(data.subarray(offset + FRAME_HEADER, end), zlib.crc32(data.subarray(offset + 4, offset + 8)));
  if (crc !== data.readUInt32LE(offset + 8)) return { problem: 'checksum mismatch' };
  const body = decodeBody(data, offset + FRAME_HEADER, end, true);
  if (!body) return { problem: 'malformed records under a valid checksum' };
  return { offset, end, records: body.records };
}

/** The next intact frame at or after `from`, found by its marker. */
function nextIntactFrame(data: Buffer, from: number): Frame | undefined {
  for (let at = data.indexOf(FRAME_MAGIC, from); at >= 0; at = data.indexOf(FRAME_MAGIC, at + 1)) {
    const frame = readFrame(data, at);
    if ('records' in frame) return frame;
  }
  return undefined;
}

export interface JournalDamage {
  /** Byte offset of the first damaged frame. */
  offset: number;
  problem: string;
  /** Bytes from the damage to the end of the file (torn tail) or to the next intact frame. */
  droppedBytes: number;
  /** Offset of an intact frame after the damage: the damage is in the middle, not a torn tail. */
  intactAfter?: number;
}

export interface JournalScan {
  format: 'empty' | 'framed' | 'unframed';
  /** Records of the intact frames before any damage, in order. */
  records: JournalRecord[];
  frames: number;
  damage?: JournalDamage;
}

/**
 * Reads a journal: every intact frame up to the first damaged one. Damage with nothing intact
 * after it is a torn tail (a crash in the middle of an append) and is dropped; damage followed
 * by an intact frame is corruption, reported with `intactAfter` for the caller to refuse.
 * An unframed journal of an earlier version is decoded record by record (it has no checksums:
 * it stops at the first record that does not parse).
 */
export function scanJournal(data: Buffer): JournalScan {
  if (data.length === 0) return { format: 'empty', records: [], frames: 0 };
  const head = data.subarray(0, 4);
  if (!head.equals(FRAME_MAGIC.subarray(0, head.length))) return scanUnframed(data);
  const records: JournalRecord[] = [];
  let frames = 0;
  let offset = 0;
  while (offset < data.length) {
    const frame = readFrame(data, offset);
    if (!('records' in frame)) {
      const next = nextIntactFrame(data, offset + 1);
      const damage: JournalDamage = { offset, problem: frame.problem, droppedBytes: (next?.offset ?? data.length) - offset };
      if (next) damage.intactAfter = next.offset;
      return { format: 'framed', records, frames, damage };
    }
    for (const r of frame.records) records.push(r);
    frames++;
    offset = frame.end;
  }
  return { format: 'framed', records, frames };
}

function scanUnframed(data: Buffer): JournalScan {
  const body = decodeBody(data, 0, data.length, false)!;
  const scan: JournalScan = { format: 'unframed', records: body.records, frames: 0 };
  if (body.end < data.length) scan.damage = { offset: body.end, problem: 'unparsable record in an unframed journal', droppedBytes: data.length - body.end };
  return scan;
}

/** Every intact frame of a damaged journal, skipping damaged stretches (the repair command). */
export function salvageJournal(data: Buffer): { records: JournalRecord[]; frames: number; skipped: JournalDamage[] } {
  const first = scanJournal(data);
  if (first.format !== 'framed') return { records: first.records, frames: 0, skipped: first.damage ? [first.damage] : [] };
  const records = [...first.records];
  let frames = first.frames;
  const skipped: JournalDamage[] = [];
  let damage = first.damage;
  while (damage) {
    skipped.push(damage);
    if (damage.intactAfter === undefined) break;
    const rest = scanJournal(data.subarray(damage.intactAfter));
    for (const r of rest.records) records.push(r);
    frames += rest.frames;
    damage = rest.damage && { ...rest.damage, offset: rest.damage.offset + damage.intactAfter, intactAfter: rest.damage.intactAfter === undefined ? undefined : rest.damage.intactAfter + damage.intactAfter };
  }
  return { records, frames, skipped };
}

/**
 * Test hook: make journal appends fail as a full disk would (see tests/embedded-mongo/). Set by
 * EMBEDDED_MONGO_TEST_JOURNAL_LIMIT=<bytes> in the store's environment: appends that would take
 * the process's journals past that many bytes in total fail with ENOSPC after writing part of
 * the frame, exactly as write(2) does on a full file system.
 */
const testLimit = Number(process.env.EMBEDDED_MONGO_TEST_JOURNAL_LIMIT ?? Number.NaN);
let testBytesWritten = 0;

function writeFully(fd: number, data: Buffer): void {
  let written = 0;
  while (written < data.length) {
    let length = data.length - written;
    if (Number.isFinite(testLimit)) {
      const room = testLimit - testBytesWritten;
      if (room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      length = Math.min(length, room);
    }
    const n = fs.writeSync(fd, data, written, length);
    testBytesWritten += n;
    written += n;
  }
}

export class Journal {
  private fd: number;
  /** Bytes in the file (where a failed append is cut back to). */
  private size: number;
  /** Appends so far, and how many of them an fdatasync has covered. */
  appended = 0;
  durable = 0;
  private syncing: Promise<void> | undefined;
  private closed = false;

  constructor(readonly filePath: string) {
    const existed = fs.existsSync(filePath);
    this.fd = fs.openSync(filePath, 'a+');
    this.size = fs.fstatSync(this.fd).size;
    // The new file's name must survive power loss too, not only its bytes.
    if (!existed) syncDirectory(filePath);
  }

  read(): Buffer {
    return fs.readFileSync(this.filePath);
  }

  /** Appends one frame; on failure cuts the file back so no partial frame stays behind. */
  append(frame: Buffer): void {
    try {
      writeFully(this.fd, frame);
    } catch (err) {
      try {
        fs.ftruncateSync(this.fd, this.size);
      } catch {
        // The partial frame fails its checksum and is dropped as a torn tail at the next start.
      }
      throw err;
    }
    this.size += frame.length;
    this.appended++;
  }

  get needsSync(): boolean {
    return this.durable < this.appended && !this.closed;
  }

  /** fdatasync of everything appended so far (off the event loop); resolves once on disk. */
  sync(): Promise<void> {
    const target = this.appended;
    const run = (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        if (this.closed) return resolve();
        fs.fdatasync(this.fd, (err) => {
          if (err) return reject(err);
          if (target > this.durable) this.durable = target;
          resolve();
        });
      });
    const previous = this.syncing ?? Promise.resolve();
    const current = previous.then(run, run);
    this.syncing = current;
    void current.then(
      () => this.syncing === current && (this.syncing = undefined),
      () => this.syncing === current && (this.syncing = undefined),
    );
    return current;
  }

  /** Everything appended is durable elsewhere (SQLite, synced): empty the file. */
  clear(): void {
    fs.ftruncateSync(this.fd, 0);
    this.size = 0;
    this.durable = this.appended;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // An fdatasync still running on the thread pool keeps the descriptor until it returns.
    const fd = this.fd;
    if (this.syncing) void this.syncing.finally(() => fs.closeSync(fd)).catch(() => undefined);
    else fs.closeSync(fd);
  }
}

export function syncDirectory(filePath: string): void {
  try {
    const fd = fs.openSync(path.dirname(filePath), 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the file's contents are still synced.
  }
}
