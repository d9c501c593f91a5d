// MongoDB wire protocol framing: legacy OP_QUERY/OP_REPLY for the first handshake, OP_MSG after.
import { deserialize, serialize, type Long } from 'bson';
import type { Document } from './values.js';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const MAX_MESSAGE_SIZE = 48_000_000;
export const HEADER_SIZE = 16;

const FLAG_CHECKSUM_PRESENT = 1 << 0;
const FLAG_MORE_TO_COME = 1 << 1;

/** Documents keep their exact BSON types (Int32 stays Int32, Double stays Double). */
export const deserializeOptions = { promoteValues: false, promoteBuffers: false, bsonRegExp: true } as const;

export class ProtocolError extends Error {}

export interface MessageHeader {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export interface IncomingCommand {
  requestId: number;
  opCode: typeof OP_QUERY | typeof OP_MSG;
  /** Database name: `$db` for OP_MSG, the namespace prefix for OP_QUERY. */
  db: string;
  body: Document;
  /** OP_MSG with moreToCome: the client expects no reply. */
  moreToCome: boolean;
  /**
   * A section document over BSONObjMaxInternalSize: mongod refuses the whole message while
   * parsing it (BSONObjectTooLarge, 10334) and runs nothing; the caller answers with this text.
   */
  oversized?: string;
}

/** BSONObjMaxInternalSize: the 16 MiB user limit plus 16 KiB of room for a command around it. */
export const MAX_INTERNAL_DOCUMENT_BYTES = 16 * 1024 * 1024 + 16 * 1024;

/** mongod's text for a BSON object over the internal limit (BSONObj::_assertInvalid). */
export function oversizedDocumentMessage(size: number, doc: Document): string {
  const first = Object.keys(doc)[0];
  return (
    `BSONObj size: ${size} (0x${size.toString(16).toUpperCase()}) is invalid. Size must be between 0 and ${MAX_INTERNAL_DOCUMENT_BYTES}(16MB)` +
    (first === undefined ? '' : ` First element: ${first}: ${elementText(doc[first])}`)
  );
}

/** A short rendering of a BSON value in mongod's log style (BSONElement::toString). */
function elementText(value: unknown, depth = 0): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value !== 'object') return String(value);
  const bsontype = (value as { _bsontype?: string })._bsontype;
  if (bsontype === 'ObjectId' || bsontype === 'ObjectID') return `ObjectId('${String((value as { toHexString(): string }).toHexString())}')`;
  if (bsontype === 'Double') {
    const n = (value as { value: number }).value;
    return Number.isInteger(n) ? n.toFixed(1) : String(n);
  }
  if (bsontype === 'Int32' || bsontype === 'Long' || bsontype === 'Decimal128') return String(value);
  if (bsontype !== undefined) return bsontype;
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (depth > 0) return '{ ... }';
  const entries = Object.entries(value as Document).slice(0, 3).map(([k, v]) => `${k}: ${elementText(v, depth + 1)}`);
  return entries.length ? `{ ${entries.join(', ')}${Object.keys(value).length > 3 ? ', ...' : ''} }` : '{}';
}

export function readHeader(buf: Buffer, offset = 0): MessageHeader {
  return {
    length: buf.readInt32LE(offset),
    requestId: buf.readInt32LE(offset + 4),
    responseTo: buf.readInt32LE(offset + 8),
    opCode: buf.readInt32LE(offset + 12),
  };
}

function readCString(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new ProtocolError('unterminated cstring');
  return [buf.toString('utf8', offset, end), end + 1];
}

function readDocument(buf: Buffer, offset: number, limit: number): [Document, number] {
  if (offset + 5 > limit) throw new ProtocolError('truncated document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > limit) throw new ProtocolError('invalid document length');
  const doc = deserialize(buf.subarray(offset, offset + size), deserializeOptions) as Document;
  return [doc, offset + size];
}

/** Parses one complete message (header included). Throws ProtocolError on malformed input. */
export function parseMessage(message: Buffer): IncomingCommand {
  const header = readHeader(message);
  if (header.opCode === OP_MSG) return parseOpMsg(message, header);
  if (header.opCode === OP_QUERY) return parseOpQuery(message, header);
  throw new ProtocolError(`unsupported opCode ${header.opCode}`);
}

function parseOpMsg(message: Buffer, header: MessageHeader): IncomingCommand {
  const flags = message.readUInt32LE(HEADER_SIZE);
  const end = flags & FLAG_CHECKSUM_PRESENT ? message.length - 4 : message.length;
  let offset = HEADER_SIZE + 4;
  let body: Document | undefined;
  let oversized: string | undefined;
  const sequences: [string, Document[]][] = [];
  const checkSize = (doc: Document, start: number) => {
    const size = message.readInt32LE(start);
    if (size > MAX_INTERNAL_DOCUMENT_BYTES) oversized ??= oversizedDocumentMessage(size, doc);
  };
  while (offset < end) {
    const kind = message[offset++];
    if (kind === 0) {
      const start = offset;
      [body, offset] = readDocument(message, offset, end);
      checkSize(body, start);
    } else if (kind === 1) {
      const size = message.readInt32LE(offset);
      const sectionEnd = offset + size;
      if (size < 5 || sectionEnd > end) throw new ProtocolError('invalid document sequence length');
      const [identifier, start] = readCString(message, offset + 4);
      let pos = start;
      const docs: Document[] = [];
      while (pos < sectionEnd) {
        let doc: Document;
        const docStart = pos;
        [doc, pos] = readDocument(message, pos, sectionEnd);
        checkSize(doc, docStart);
        docs.push(doc);
      }
      sequences.push([identifier, docs]);
      offset = sectionEnd;
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new ProtocolError('OP_MSG without a body section');
  // Kind-1 sections are the command's array arguments (documents, updates, deletes).
  for (const [identifier, docs] of sequences) body[identifier] = docs;
  // A missing $db is answered by the command layer (mongod: "OP_MSG requests require a $db argument").
  const db = typeof body.$db === 'string' ? body.$db : '';
  const command: IncomingCommand = { requestId: header.requestId, opCode: OP_MSG, db, body, moreToCome: (flags & FLAG_MORE_TO_COME) !== 0 };
  if (oversized !== undefined) command.oversized = oversized;
  return command;
}

function parseOpQuery(message: Buffer, header: MessageHeader): IncomingCommand {
  let offset = HEADER_SIZE + 4; // skip flags
  const [namespace, afterName] = readCString(message, offset);
  offset = afterName;
  offset += 8; // numberToSkip, numberToReturn
  let [query] = readDocument(message, offset, message.length);
  // Drivers may wrap the command as { $query: {...}, $readPreference: ... }.
  if (query.$query && typeof query.$query === 'object') query = query.$query as Document;
  const dot = namespace.indexOf('.');
  const db = dot < 0 ? namespace : namespace.slice(0, dot);
  return { requestId: header.requestId, opCode: OP_QUERY, db, body: query, moreToCome: false };
}

/** A reply whose BSON body is already encoded (cursor batches built from cached document bytes). */
export class RawReply {
  constructor(readonly body: Buffer) {}
}

export type Reply = Document | RawReply;

/**
 * { cursor: { <batchField>: [docs...], id, ns }, ok: 1 } with the documents' BSON copied in as
 * they are, instead of serializing every document again for every reply.
 */
export function encodeCursorReply(batchField: 'firstBatch' | 'nextBatch', docs: Buffer[], id: Long, ns: string): RawReply {
  const indexNames = docs.map((_, i) => String(i));
  const arraySize = 4 + docs.reduce((sum, doc, i) => sum + 1 + indexNames[i].length + 1 + doc.length, 0) + 1;
  const nsBytes = Buffer.byteLength(ns, 'utf8');
  const cursorSize = 4 + (1 + batchField.length + 1 + arraySize) + (1 + 3 + 8) + (1 + 3 + 4 + nsBytes + 1) + 1;
  const total = 4 + (1 + 7 + cursorSize) + (1 + 3 + 8) + 1;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  const int32 = (n: number) => (at = out.writeInt32LE(n, at));
  const byte = (n: number) => (out[at++] = n);
  const cstring = (s: string) => {
    at += out.write(s, at, 'latin1');
    out[at++] = 0;
  };
  int32(total);
  byte(0x03);
  cstring('cursor');
  int32(cursorSize);
  byte(0x04);
  cstring(batchField);
  int32(arraySize);
  docs.forEach((doc, i) => {
    byte(0x03);
    cstring(indexNames[i]);
    at += doc.copy(out, at);
  });
  byte(0);
  byte(0x12);
  cstring('id');
  at = out.writeInt32LE(id.low, at);
  at = out.writeInt32LE(id.high, at);
  byte(0x02);
  cstring('ns');
  int32(nsBytes + 1);
  at += out.write(ns, at, 'utf8');
  byte(0);
  byte(0); // end of cursor
  byte(0x01);
  cstring('ok');
  at = out.writeDoubleLE(1, at);
  byte(0);
  return new RawReply(out);
}

function replyBody(reply: Reply): Uint8Array {
  return reply instanceof RawReply ? reply.body : serialize(reply);
}

let nextRequestId = 1;

function header(length: number, responseTo: number, opCode: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_SIZE);
  buf.writeInt32LE(length, 0);
  buf.writeInt32LE(nextRequestId++ & 0x7fffffff, 4);
  buf.writeInt32LE(responseTo, 8);
  buf.writeInt32LE(opCode, 12);
  return buf;
}

export function encodeOpMsgReply(responseTo: number, reply: Reply): Buffer {
  const body = replyBody(reply);
  const length = HEADER_SIZE + 4 + 1 + body.length;
  const prefix = Buffer.allocUnsafe(5);
  prefix.writeUInt32LE(0, 0);
  prefix[4] = 0;
  return Buffer.concat([header(length, responseTo, OP_MSG), prefix, body], length);
}

export function encodeOpReply(responseTo: number, reply: Reply): Buffer {
  const body = replyBody(reply);
  const fields = Buffer.alloc(20); // responseFlags, cursorID (0), startingFrom, numberReturned
  fields.writeInt32LE(1, 16);
  const length = HEADER_SIZE + fields.length + body.length;
  return Buffer.concat([header(length, responseTo, OP_REPLY), fields, body], length);
}
