// A fresh in-memory embedded store per test file, reached by mongoose over TCP like production,
// with the organizing unit the tests' organizers belong to.
import { randomBytes } from 'node:crypto';
import { connectDatabase, type DatabaseHandle } from '../../server/database.js';
import { UnitModel } from '../../server/units/model.js';
import { searchKey } from '../../server/lib/text.js';

/** The unit of the tests' hand-made organizer actors (`unitId: testUnit.id`). */
export const testUnit = { id: '00000000000000000000a0a1', name: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp' } as const;

export async function connectTestDatabase(): Promise<DatabaseHandle> {
  const database = await connectDatabase({ embedded: { inMemory: true } }, `test_${randomBytes(4).toString('hex')}`);
  await UnitModel.create({ _id: testUnit.id, name: testUnit.name, nameKey: searchKey(testUnit.name) });
  return database;
}
