// A fresh in-memory embedded store per test file, reached by mongoose over TCP like production.
import { randomBytes } from 'node:crypto';
import { connectDatabase, type DatabaseHandle } from '../../server/database.js';

export async function connectTestDatabase(): Promise<DatabaseHandle> {
  return connectDatabase({ embedded: { inMemory: true } }, `test_${randomBytes(4).toString('hex')}`);
}
