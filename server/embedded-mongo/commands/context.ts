// What every command handler receives, and argument helpers shared by the command groups.
import { Binary } from 'bson';
import type { CursorRegistry } from '../cursors.js';
import { MongoServerError, badValue } from '../errors.js';
import type { ServerParameters } from '../parameters.js';
import type { Store } from '../store.js';
import type { Reply } from '../wire.js';
import type { Document } from '../values.js';
import { bsonTypeName, isNumeric, isPlainDocument } from '../values.js';

export interface ServerInfo {
  port: number;
  startedAt: number;
  dbPath: string | null;
  /** Open client connections right now. */
  connections: number;
  /** getParameter / setParameter values. */
  parameters: ServerParameters;
}

export interface CommandContext {
  store: Store;
  cursors: CursorRegistry;
  /** Database the command runs against ($db). */
  db: string;
  connectionId: number;
  clientAddress: string;
  server: ServerInfo;
  /** The command's logical session (its lsid, as mongod prints it), if it has one. */
  session?: string;
}

/**
 * An lsid as mongod prints it in messages: the session's UUID, then the hash of the (here always
 * unauthenticated, empty) user name.
 */
export function sessionName(lsid: unknown): string | undefined {
  if (!isPlainDocument(lsid) || !(lsid.id instanceof Binary)) return undefined;
  const id = lsid.id.sub_type === Binary.SUBTYPE_UUID && lsid.id.position === 16 ? lsid.id.toUUID().toHexString(true) : Buffer.from(lsid.id.buffer).toString('hex');
  return `${id} - 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= -  - `;
}

/** A reply document, or a cursor reply already encoded from cached document bytes. */
export type CommandHandler = (command: Document, ctx: CommandContext) => Reply;

/** The collection name a command targets: the value of its first field. */
export function collectionArg(command: Document, name: string): string {
  const value = command[name];
  if (typeof value !== 'string') {
    throw new MongoServerError('InvalidNamespace', `collection name has invalid type ${value === null ? 'null' : typeof value}`);
  }
  if (value === '') throw new MongoServerError('InvalidNamespace', `Invalid namespace specified '.'`);
  return value;
}

export function documentArg(command: Document, field: string, required = false): Document | undefined {
  const value = command[field];
  if (value === undefined || value === null) {
    if (required) throw new MongoServerError('FailedToParse', `BSON field '${field}' is missing but a required field`);
    return undefined;
  }
  if (!isPlainDocument(value)) {
    throw new MongoServerError('TypeMismatch', `BSON field '${field}' is the wrong type '${bsonTypeName(value)}', expected type 'object'`);
  }
  return value;
}

export function arrayArg(command: Document, field: string): unknown[] {
  const value = command[field];
  if (!Array.isArray(value)) {
    if (value === undefined) throw new MongoServerError('FailedToParse', `BSON field '${field}' is missing but a required field`);
    throw new MongoServerError('TypeMismatch', `BSON field '${field}' is the wrong type, expected type 'array'`);
  }
  return value;
}

export function nonNegative(value: number, field: string): number {
  if (value < 0) throw badValue(`${field} value must be non-negative, but received: ${value}`);
  return value;
}

/** The BSON types an IDL field accepts, as mongod names them in its TypeMismatch message. */
export type FieldKind = 'number' | 'bool' | 'object' | 'string' | 'array';

const kindNames: Record<FieldKind, string[]> = {
  number: ['long', 'int', 'decimal', 'double'],
  // mongod's IDL "safeBool"/"optionalBool": a bool, or a number read as one.
  bool: ['bool', 'long', 'int', 'decimal', 'double'],
  object: ['object'],
  string: ['string'],
  array: ['array'],
};

function hasKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'number':
      return isNumeric(value);
    case 'bool':
      return typeof value === 'boolean' || isNumeric(value);
    case 'object':
      return isPlainDocument(value);
    case 'string':
      return typeof value === 'string';
    case 'array':
      return Array.isArray(value);
  }
}

/**
 * Options a command's IDL declares with a type: a value of another type is refused with
 * TypeMismatch before anything runs, as mongod refuses it, instead of being read loosely
 * (a string 'multi' updating every document, a numeric hint ignored). Absent and null pass.
 */
export function checkFieldTypes(spec: Document, struct: string, fields: Record<string, FieldKind | FieldKind[]>): void {
  for (const [field, want] of Object.entries(fields)) {
    const value = spec[field];
    if (value === undefined || value === null) continue;
    const kinds = Array.isArray(want) ? want : [want];
    if (kinds.some((k) => hasKind(value, k))) continue;
    const names = [...new Set(kinds.flatMap((k) => kindNames[k]))];
    const expected = names.length === 1 ? `type '${names[0]}'` : `types '[${names.join(', ')}]'`;
    throw new MongoServerError('TypeMismatch', `BSON field '${struct}.${field}' is the wrong type '${bsonTypeName(value)}', expected ${expected}`);
  }
}
