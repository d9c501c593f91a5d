import { describe, expect, it } from 'vitest';
import { connectTestDatabase } from '../helpers/database.js';
import { createAccount, createFirstAdmin, hasAnyAccount } from '../../server/accounts/actions.js';
import { Conflict, Forbidden, Invalid } from '../../server/lib/errors.js';

describe('the first administrator', () => {
  it('is created once with the setup code, never twice, and passwords are hashed', async () => {
    const database = await connectTestDatabase();
    try {
      expect(await hasAnyAccount()).toBe(false);
      const input = { email: 'Admin@Example.vn', name: 'Quản trị', password: 'a long enough password' };
      await expect(createFirstAdmin(input, { expected: 'abc123', given: 'wrong' })).rejects.toBeInstanceOf(Invalid);
      expect(await hasAnyAccount()).toBe(false);

      const admin = await createFirstAdmin(input, { expected: 'abc123', given: 'abc123' });
      expect(admin.email).toBe('admin@example.vn');
      expect(admin.role).toBe('admin');
      expect(admin.passwordHash).toMatch(/^\$argon2id\$/);
      await expect(createFirstAdmin({ ...input, email: 'second@example.vn' }, { expected: 'abc123', given: 'abc123' })).rejects.toBeInstanceOf(Conflict);

      const organizer = await createAccount({ kind: 'organizer', userId: admin.id, name: admin.name, isAdmin: true }, { email: 'staff@example.vn', name: 'Cán bộ', password: 'another long password' });
      await expect(createAccount({ kind: 'organizer', userId: organizer.id, name: organizer.name, isAdmin: false }, { email: 'x@example.vn', name: 'X', password: 'another long password' })).rejects.toBeInstanceOf(Forbidden);
      await expect(createAccount({ kind: 'organizer', userId: admin.id, name: admin.name, isAdmin: true }, { email: 'STAFF@example.vn', name: 'Trùng', password: 'another long password' })).rejects.toMatchObject({ fields: { email: { key: 'accounts.emailTaken' } } });
      await expect(createAccount({ kind: 'organizer', userId: admin.id, name: admin.name, isAdmin: true }, { email: 'short@example.vn', name: 'Ngắn', password: 'short' })).rejects.toMatchObject({ fields: { password: { key: 'accounts.passwordTooShort' } } });
    } finally {
      await database.close();
    }
  });
});
