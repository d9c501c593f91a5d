// Memory per document of the embedded store: attendee-shaped documents (server/attendees/model.ts)
// with the app's eleven indexes, inserted straight into a store in this thread, and the heap plus
// off-heap (ArrayBuffer) growth divided by the number of documents, against their BSON size.
//
//   npx tsx bench/embedded-mongo-memory.ts [--docs N] [--in-memory]      (standalone; also a section of bench/embedded-mongo.ts)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ObjectId, calculateObjectSize, deserialize, serialize } from 'bson';
import { Store } from '../server/embedded-mongo/store.js';
import { deserializeOptions } from '../server/embedded-mongo/wire.js';
import { newToken, searchKey, searchTokens } from '../server/lib/text.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** The indexes of server/attendees/model.ts, as mongoose creates them. */
export const ATTENDEE_INDEXES = [
  { key: { meetingId: 1, email: 1 }, name: 'meetingId_1_email_1', unique: true, partialFilterExpression: { email: { $type: 'string' } } },
  { key: { meetingId: 1, fullName: 1 }, name: 'meetingId_1_fullName_1' },
  { key: { meetingId: 1, siteId: 1, fullName: 1 }, name: 'meetingId_1_siteId_1_fullName_1' },
  { key: { meetingId: 1, siteId: 1, searchText: 1 }, name: 'meetingId_1_siteId_1_searchText_1' },
  { key: { meetingId: 1, searchText: 1 }, name: 'meetingId_1_searchText_1' },
  { key: { meetingId: 1, searchTokens: 1 }, name: 'meetingId_1_searchTokens_1' },
  { key: { meetingId: 1, organization: 1 }, name: 'meetingId_1_organization_1' },
  { key: { meetingId: 1, role: 1 }, name: 'meetingId_1_role_1' },
  { key: { meetingId: 1, siteId: 1, organization: 1, role: 1, walkIn: 1 }, name: 'meetingId_1_siteId_1_organization_1_role_1_walkIn_1' },
  { key: { accessToken: 1 }, name: 'accessToken_1', unique: true },
];

const FAMILY = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Phan', 'Vũ', 'Võ', 'Đặng', 'Bùi', 'Đỗ'];
const MIDDLE = ['Văn', 'Thị', 'Hữu', 'Minh', 'Thanh', 'Quốc', 'Ngọc', 'Đức'];
const GIVEN = ['An', 'Bình', 'Châu', 'Dũng', 'Hà', 'Hải', 'Hương', 'Khánh', 'Lan', 'Long', 'Mai', 'Nam', 'Phúc', 'Quân', 'Tâm', 'Trang'];
const ORGS = ['Sở Y tế Hà Nội', 'Bệnh viện Chợ Rẫy', 'Đại học Quốc gia TP.HCM', 'Bộ Giáo dục và Đào tạo', 'UBND tỉnh Đà Nẵng', 'Viện Hàn lâm KHXH'];
const POSITIONS = ['Giám đốc', 'Phó giám đốc', 'Trưởng phòng', 'Chuyên viên', 'Bác sĩ', 'Giảng viên'];
const ROLES = ['chair', 'speaker', 'delegate', 'delegate', 'delegate', 'guest', 'press'];

/** One attendee as mongoose sends it (timestamps, __v), read back the way the store receives it. */
export function attendeeDocument(i: number, meetingId: ObjectId, siteIds: ObjectId[]): Record<string, unknown> {
  const fullName = `${FAMILY[i % FAMILY.length]} ${MIDDLE[(i >> 2) % MIDDLE.length]} ${GIVEN[(i >> 4) % GIVEN.length]} ${i}`;
  const organization = ORGS[i % ORGS.length];
  const position = POSITIONS[(i >> 1) % POSITIONS.length];
  const email = `dai-bieu-${i}@example.vn`;
  const searchText = searchKey(`${fullName} ${organization} ${position} ${email}`);
  const now = new Date(Date.UTC(2026, 11, 1, 8, 0, 0) + i * 1000);
  const doc = {
    _id: new ObjectId(),
    meetingId,
    fullName,
    position,
    organization,
    email,
    phone: `09${String(10_000_000 + i).slice(-8)}`,
    siteId: siteIds[i % siteIds.length],
    role: ROLES[i % ROLES.length],
    accessToken: newToken(),
    searchText,
    searchTokens: searchTokens(searchText),
    createdAt: now,
    updatedAt: now,
    __v: 0,
  };
  return deserialize(serialize(doc), deserializeOptions);
}

export interface MemoryPerDocument {
  documents: number;
  indexes: number;
  bsonBytesPerDocument: number;
  /** Heap (JS objects) and off-heap (Buffers) growth per document, indexes included. */
  residentBytesPerDocument: number;
  heapBytesPerDocument: number;
  externalBytesPerDocument: number;
  ratio: number;
  /** What the memory budget counts per document (serverStatus.embeddedMongo.memory.workingSetBytes / documents). */
  budgetBytesPerDocument: number;
  target: string;
  pass: boolean;
}

function used(): { heap: number; external: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.arrayBuffers };
}

/** On disk (as the app runs it: the journal keeps each document's BSON) unless `inMemory`. */
export async function measureMemoryPerDocument(documents = 20_000, inMemory = false): Promise<MemoryPerDocument> {
  const dir = inMemory ? null : mkdtempSync(path.join(os.tmpdir(), 'bench-embedded-mongo-memory-'));
  const meetings = Array.from({ length: 4 }, () => new ObjectId());
  const sites = Array.from({ length: 6 }, () => new ObjectId());
  const store = new Store(dir);
  const collection = store.database('bench').getOrCreate('attendees');
  for (const spec of ATTENDEE_INDEXES) collection.createIndex(spec);
  const before = used();
  let bson = 0;
  // Inserted in batches as a client would send them; the inputs are dropped after each batch.
  for (let i = 0; i < documents; i += 1000) {
    store.database('bench').write(() => {
      for (let k = i; k < Math.min(documents, i + 1000); k++) {
        const doc = attendeeDocument(k, meetings[k % meetings.length], sites);
        bson += calculateObjectSize(doc);
        collection.insert(doc);
      }
    });
  }
  // Journaled writes are applied to SQLite (and their buffers let go) shortly after.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const after = used();
  const heap = (after.heap - before.heap) / documents;
  const external = (after.external - before.external) / documents;
  const resident = heap + external;
  const bsonPerDoc = bson / documents;
  const ratio = Math.round((resident / bsonPerDoc) * 100) / 100;
  const budgetPerDoc = store.workingSetBytes() / documents;
  // Keep the store alive until measured.
  if (collection.documents.size !== documents) throw new Error(`stored ${collection.documents.size} of ${documents}`);
  store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  return {
    documents,
    indexes: ATTENDEE_INDEXES.length + 1,
    bsonBytesPerDocument: Math.round(bsonPerDoc),
    residentBytesPerDocument: Math.round(resident),
    heapBytesPerDocument: Math.round(heap),
    externalBytesPerDocument: Math.round(external),
    ratio,
    budgetBytesPerDocument: Math.round(budgetPerDoc),
    target: 'ratio <= 4',
    pass: ratio <= 4,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--docs');
  const n = i === -1 ? 20_000 : Number(process.argv[i + 1]);
  const m = await measureMemoryPerDocument(n, process.argv.includes('--in-memory'));
  console.log(`memory per attendee-shaped document (${m.documents} documents, ${m.indexes} indexes):`);
  console.log(`  BSON ${m.bsonBytesPerDocument} B, resident ${m.residentBytesPerDocument} B (heap ${m.heapBytesPerDocument} B + buffers ${m.externalBytesPerDocument} B), ratio ${m.ratio}  ${m.target}  ${m.pass ? 'PASS' : 'FAIL'}; the budget counts ${m.budgetBytesPerDocument} B`);
  console.log(JSON.stringify({ bench: 'embedded-mongo-memory', ...m }));
}
