// A collection's documents kept as their BSON bytes, packed into large shared buffers (slabs),
// and decoded on read. A decoded document costs about 5-8x its BSON size in JS objects; the
// bytes cost their size, and a reply is built from them without serializing again.
//
// Looks like a Map<number, Document> to its readers (get/has/size/keys/values/entries), but each
// read decodes a fresh document: callers may keep or change what they get without affecting
// the store. Writes go through put()/delete().
import { Double, Int32, Long, ObjectId, deserialize } from 'bson';
import { rawBson, rememberRawBson } from './raw-bson.js';
import type { Document } from './values.js';
import { deserializeOptions } from './wire.js';

/** Slab size: large enough that the per-buffer overhead vanishes, small enough to compact cheaply. */
const SLAB_BYTES = 2 * 1024 * 1024;
/** A small collection starts with a small slab; each new one doubles up to SLAB_BYTES. */
const FIRST_SLAB_BYTES = 16 * 1024;
/** Locations are slab * SLAB_BYTES + offset: a small integer (Smi) for the first 2 GiB. */
const LOCATION_SLAB = SLAB_BYTES;
/** A full slab whose live bytes fall below this share is compacted into the current one. */
const COMPACT_BELOW = 0.5;
/** Approximate heap cost of one entry of the rid -> location map (hash table slots and slack). */
export const LOCATION_ENTRY_BYTES = 40;

interface Slab {
  bytes: Buffer;
  /** Bytes of live documents in it. */
  live: number;
  /** Bytes written so far (the next free offset). */
  used: number;
}

/** Documents decoded so far by every store in this thread: serverStatus's scannedObjects. */
export const decodeStats = { decoded: 0 };

export class DocumentStore {
  private readonly locations = new Map<number, number>();
  /** Largest slab: SLAB_BYTES, less under a small memory budget so that one slab is a small part of it. */
  private readonly maxSlab: number;

  constructor(budgetBytes = Number.POSITIVE_INFINITY) {
    this.maxSlab = Math.max(FIRST_SLAB_BYTES, Math.min(SLAB_BYTES, Math.floor(budgetBytes / 64)));
  }
  private readonly slabs: (Slab | undefined)[] = [];
  private readonly freeSlabs: number[] = [];
  private current = -1;
  private liveBytes = 0;
  private slabBytes = 0;

  get size(): number {
    return this.locations.size;
  }

  /** BSON bytes of the documents held. */
  get dataBytes(): number {
    return this.liveBytes;
  }

  /** Memory held for documents: the slabs (live documents plus space not yet reclaimed) and the location map. */
  get residentBytes(): number {
    return this.slabBytes + this.locations.size * LOCATION_ENTRY_BYTES;
  }

  has(rid: number): boolean {
    return this.locations.has(rid);
  }

  /** The stored BSON of a document: a view into its slab (valid until the document changes). */
  raw(rid: number): Buffer | undefined {
    const location = this.locations.get(rid);
    if (location === undefined) return undefined;
    return this.view(location);
  }

  /** Size in bytes of a stored document, without decoding it. */
  byteLength(rid: number): number {
    const location = this.locations.get(rid);
    if (location === undefined) return 0;
    const slab = this.slabs[Math.floor(location / LOCATION_SLAB)]!;
    return slab.bytes.readInt32LE(location % LOCATION_SLAB);
  }

  /**
   * The document, or with `fields` only those top-level fields of it (what a filter and a sort
   * look at): enough to match it and send its stored bytes, at a fraction of a full decode.
   */
  /** Resident bytes that storing a document of this size would add (its slot, and a new slab if needed). */
  costOf(length: number): number {
    const slab = this.current >= 0 ? this.slabs[this.current] : undefined;
    const fits = slab !== undefined && slab.used + length <= slab.bytes.length;
    return LOCATION_ENTRY_BYTES + (fits ? 0 : length > SLAB_BYTES ? length : this.nextSlabSize(length));
  }

  private nextSlabSize(length: number): number {
    return Math.min(this.maxSlab, Math.max(FIRST_SLAB_BYTES, this.slabBytes, length));
  }

  get(rid: number, fields?: FieldSelection): Document | undefined {
    const bytes = this.raw(rid);
    return bytes && (fields ? decodeFields(bytes, fields) : decode(bytes));
  }

  /** Stores (or replaces) a document's BSON. */
  put(rid: number, bytes: Buffer): void {
    this.release(rid);
    this.locations.set(rid, this.append(bytes));
    this.liveBytes += bytes.length;
  }

  /** Map-style write: serializes the document (or reuses the bytes it was read from). */
  set(rid: number, doc: Document): this {
    this.put(rid, rawBson(doc));
    return this;
  }

  delete(rid: number): boolean {
    if (!this.release(rid)) return false;
    this.locations.delete(rid);
    return true;
  }

  clear(): void {
    this.locations.clear();
    this.slabs.length = 0;
    this.freeSlabs.length = 0;
    this.current = -1;
    this.liveBytes = 0;
    this.slabBytes = 0;
  }

  keys(): IterableIterator<number> {
    return this.locations.keys();
  }

  *values(): IterableIterator<Document> {
    for (const location of this.locations.values()) yield decode(this.view(location));
  }

  *entries(fields?: FieldSelection): IterableIterator<[number, Document]> {
    for (const [rid, location] of this.locations) {
      const bytes = this.view(location);
      yield [rid, fields ? decodeFields(bytes, fields) : decode(bytes)];
    }
  }

  [Symbol.iterator](): IterableIterator<[number, Document]> {
    return this.entries();
  }

  /**
   * The documents (or those of `rids`) that `matcher` accepts, each decoded with `fields` only;
   * a rejected document costs a walk of its top-level fields and nothing else.
   */
  *matching(fields: FieldSelection, matcher: (doc: Document) => boolean, rids?: Iterable<number>): IterableIterator<[number, Document]> {
    const pairs: Iterable<[number, number]> = rids ? this.locationsOf(rids) : this.locations;
    for (const [rid, location] of pairs) {
      const slab = this.slabs[Math.floor(location / LOCATION_SLAB)]!;
      const doc = decodeFieldsAt(slab.bytes, location % LOCATION_SLAB, fields);
      if (!matcher(doc)) continue;
      rememberRawBson(doc, this.view(location));
      yield [rid, doc];
    }
  }

  private *locationsOf(rids: Iterable<number>): IterableIterator<[number, number]> {
    for (const rid of rids) {
      const location = this.locations.get(rid);
      if (location !== undefined) yield [rid, location];
    }
  }

  private view(location: number): Buffer {
    const slab = this.slabs[Math.floor(location / LOCATION_SLAB)]!;
    const offset = location % LOCATION_SLAB;
    return slab.bytes.subarray(offset, offset + slab.bytes.readInt32LE(offset));
  }

  /** Forgets a document's bytes (the slab space is reclaimed by compaction). */
  private release(rid: number): boolean {
    const location = this.locations.get(rid);
    if (location === undefined) return false;
    const index = Math.floor(location / LOCATION_SLAB);
    const slab = this.slabs[index]!;
    const length = slab.bytes.readInt32LE(location % LOCATION_SLAB);
    slab.live -= length;
    this.liveBytes -= length;
    if (index !== this.current) {
      if (slab.live === 0) this.dropSlab(index);
      else if (slab.live < slab.used * COMPACT_BELOW) this.compact(index);
    }
    return true;
  }

  private append(bytes: Buffer): number {
    if (bytes.length > SLAB_BYTES) {
      // A document larger than a slab (up to 16 MiB) gets a slab of its own.
      const index = this.newSlab(bytes.length);
      const slab = this.slabs[index]!;
      bytes.copy(slab.bytes, 0);
      slab.used = slab.live = bytes.length;
      return index * LOCATION_SLAB;
    }
    let slab = this.current >= 0 ? this.slabs[this.current] : undefined;
    if (!slab || slab.used + bytes.length > slab.bytes.length) {
      this.current = this.newSlab(this.nextSlabSize(bytes.length));
      slab = this.slabs[this.current]!;
    }
    const offset = slab.used;
    bytes.copy(slab.bytes, offset);
    slab.used += bytes.length;
    slab.live += bytes.length;
    return this.current * LOCATION_SLAB + offset;
  }

  private newSlab(size: number): number {
    // Slabs are never written again once left: views handed out earlier (replies, cursors)
    // keep reading the bytes they were given even after the document changes.
    const slab: Slab = { bytes: Buffer.allocUnsafeSlow(size), live: 0, used: 0 };
    this.slabBytes += size;
    const index = this.freeSlabs.pop() ?? this.slabs.length;
    this.slabs[index] = slab;
    return index;
  }

  private dropSlab(index: number): void {
    this.slabBytes -= this.slabs[index]!.bytes.length;
    this.slabs[index] = undefined;
    this.freeSlabs.push(index);
  }

  /** Moves a mostly-dead slab's live documents to the current slab and frees it. */
  private compact(index: number): void {
    const slab = this.slabs[index]!;
    // Detach first so the moves below cannot pick this slab again.
    this.dropSlab(index);
    this.freeSlabs.pop();
    for (const [rid, location] of this.locations) {
      if (Math.floor(location / LOCATION_SLAB) !== index) continue;
      const offset = location % LOCATION_SLAB;
      const bytes = slab.bytes.subarray(offset, offset + slab.bytes.readInt32LE(offset));
      this.locations.set(rid, this.append(bytes));
    }
    this.freeSlabs.push(index);
  }
}

function decode(bytes: Buffer): Document {
  decodeStats.decoded++;
  const doc = deserialize(bytes, deserializeOptions) as Document;
  // Its reply (or journal record) reuses these bytes instead of serializing the document again.
  rememberRawBson(doc, bytes);
  return doc;
}

/**
 * The top-level field names a read needs decoded. A document decoded with a selection holds
 * only those fields; its remembered BSON is still the whole stored document, so a reply built
 * from it sends everything. Only for reads whose documents go straight into a reply.
 */
export class FieldSelection {
  readonly fields: string[];
  private readonly names: Buffer[];

  constructor(fields: Iterable<string>) {
    this.fields = [...new Set(fields)];
    this.names = this.fields.map((f) => Buffer.from(f, 'utf8'));
  }

  /** Index of the selected field whose UTF-8 name is bytes[offset, offset + length), or -1. */
  find(bytes: Buffer, offset: number, length: number): number {
    for (let n = 0; n < this.names.length; n++) {
      const name = this.names[n];
      if (name.length !== length) continue;
      let i = 0;
      while (i < length && bytes[offset + i] === name[i]) i++;
      if (i === length) return n;
    }
    return -1;
  }
}

/**
 * Walks the top-level elements and decodes only the selected ones: scalars directly (as
 * deserialize with promoteValues: false gives them), anything else through deserialize.
 */
function decodeFields(bytes: Buffer, selection: FieldSelection): Document {
  const doc = decodeFieldsAt(bytes, 0, selection);
  rememberRawBson(doc, bytes);
  return doc;
}

/** decodeFields on the document at `base` of a slab, without a view of it (nothing remembered). */
function decodeFieldsAt(bytes: Buffer, base: number, selection: FieldSelection): Document {
  decodeStats.decoded++;
  const doc: Document = {};
  forEachElement(bytes, base, (type, element, nameStart, nameEnd, start, size) => {
    const n = selection.find(bytes, nameStart, nameEnd - nameStart);
    if (n >= 0) doc[selection.fields[n]] = decodeValue(type, bytes, element, start, size);
  });
  return doc;
}

/**
 * The document's BSON without the selected top-level fields, copied element by element: what
 * an exclusion projection ({ searchText: 0 }) makes of a stored document, with no decoding.
 */
export function withoutFields(bytes: Buffer, selection: FieldSelection): Buffer {
  const kept: Array<[number, number]> = [];
  let length = 5;
  forEachElement(bytes, 0, (_type, element, nameStart, nameEnd, start, size) => {
    if (selection.find(bytes, nameStart, nameEnd - nameStart) >= 0) return;
    const next = start + size;
    const last = kept[kept.length - 1];
    // Neighbouring kept elements are copied as one run.
    if (last && last[1] === element) last[1] = next;
    else kept.push([element, next]);
    length += next - element;
  });
  const out = Buffer.allocUnsafe(length);
  out.writeInt32LE(length, 0);
  let at = 4;
  for (const [from, to] of kept) at += bytes.copy(out, at, from, to);
  out[at] = 0;
  return out;
}

/**
 * Walks the elements of the BSON document (or array) at `base`: each one's type, where it starts,
 * its name's bytes [nameStart, nameEnd), and its value's start and size. `visit` returning false
 * stops the walk (forEachElement then returns false).
 */
function forEachElement(bytes: Buffer, base: number, visit: (type: number, element: number, nameStart: number, nameEnd: number, start: number, size: number) => boolean | void): boolean {
  const end = base + bytes.readInt32LE(base) - 1;
  let offset = base + 4;
  while (offset < end) {
    const type = bytes[offset];
    const nameStart = offset + 1;
    let nameEnd = nameStart;
    while (bytes[nameEnd] !== 0) nameEnd++;
    const start = nameEnd + 1;
    const size = valueSize(type, bytes, start);
    if (visit(type, offset, nameStart, nameEnd, start, size) === false) return false;
    offset = start + size;
  }
  return true;
}

/** Bytes of an element's value of BSON type `type` starting at `at`. */
function valueSize(type: number, bytes: Buffer, at: number): number {
  switch (type) {
    case 0x01: // double
    case 0x09: // date
    case 0x11: // timestamp
    case 0x12: // int64
      return 8;
    case 0x10: // int32
      return 4;
    case 0x07: // ObjectId
      return 12;
    case 0x13: // decimal128
      return 16;
    case 0x08: // bool
      return 1;
    case 0x06: // undefined
    case 0x0a: // null
    case 0x7f: // maxKey
    case 0xff: // minKey
      return 0;
    case 0x02: // string
    case 0x0d: // javascript
    case 0x0e: // symbol
      return 4 + bytes.readInt32LE(at);
    case 0x05: // binary: length, subtype, bytes
      return 5 + bytes.readInt32LE(at);
    case 0x0c: // dbPointer: string, ObjectId
      return 4 + bytes.readInt32LE(at) + 12;
    case 0x03: // document
    case 0x04: // array
    case 0x0f: // code with scope
      return bytes.readInt32LE(at);
    case 0x0b: {
      // regex: two C strings
      let i = at;
      while (bytes[i] !== 0) i++;
      i++;
      while (bytes[i] !== 0) i++;
      return i + 1 - at;
    }
    default:
      throw new Error(`stored document has an unknown BSON type 0x${type.toString(16)}`);
  }
}

function decodeValue(type: number, bytes: Buffer, elementStart: number, at: number, size: number): unknown {
  switch (type) {
    case 0x01:
      return new Double(bytes.readDoubleLE(at));
    case 0x10:
      return new Int32(bytes.readInt32LE(at));
    case 0x02:
      return bytes.toString('utf8', at + 4, at + size - 1);
    case 0x07:
      return new ObjectId(bytes.subarray(at, at + 12));
    case 0x08:
      return bytes[at] === 1;
    case 0x0a:
      return null;
    case 0x09:
      return new Date(new Long(bytes.readInt32LE(at), bytes.readInt32LE(at + 4)).toNumber());
    case 0x12:
      return new Long(bytes.readInt32LE(at), bytes.readInt32LE(at + 4));
    default: {
      // An array of scalars (a search's word list, tags): its elements directly.
      const elements = type === 0x04 ? scalarArray(bytes, at) : undefined;
      if (elements) return elements;
      // Documents, other arrays and rarer types: deserialize a one-element document.
      const length = at + size - elementStart;
      const single = Buffer.allocUnsafe(4 + length + 1);
      single.writeInt32LE(single.length, 0);
      bytes.copy(single, 4, elementStart, at + size);
      single[4 + length] = 0;
      const decoded = deserialize(single, deserializeOptions) as Document;
      for (const key in decoded) return decoded[key];
      return undefined;
    }
  }
}

/** The BSON types decodeValue reads directly. */
const scalarTypes = new Set([0x01, 0x10, 0x02, 0x07, 0x08, 0x0a, 0x09, 0x12]);

/** The elements of the array at `at` when every one is a scalar decodeValue reads directly, else undefined. */
function scalarArray(bytes: Buffer, at: number): unknown[] | undefined {
  const out: unknown[] = [];
  const scalars = forEachElement(bytes, at, (type, element, _nameStart, _nameEnd, start, size) => {
    if (!scalarTypes.has(type)) return false;
    out.push(decodeValue(type, bytes, element, start, size));
  });
  return scalars ? out : undefined;
}
