import { describe, expect, it } from 'vitest';
import { connectTestDatabase } from '../helpers/database.js';
import { createFirstAdmin, hasAnyAccount, inviteAccount } from '../../server/accounts/actions.js';
import { addUnit } from '../../server/units/actions.js';
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

      const adminActor = { kind: 'organizer', userId: admin.id, name: admin.name, isAdmin: true } as const;
      const unit = await addUnit(adminActor, { name: 'Sở Khoa học và Công nghệ' });
      const staff = { email: 'staff@example.vn', name: 'Cán bộ', password: 'another long password', unitId: String(unit._id) };
      const { user: organizer } = await inviteAccount(adminActor, staff);
      await expect(inviteAccount({ kind: 'organizer', userId: organizer.id, name: organizer.name, isAdmin: false, unitId: String(unit._id) }, { ...staff, email: 'x@example.vn' })).rejects.toBeInstanceOf(Forbidden);
      await expect(inviteAccount(adminActor, { ...staff, email: 'STAFF@example.vn' })).rejects.toMatchObject({ fields: { email: { key: 'accounts.emailTaken' } } });
      await expect(inviteAccount(adminActor, { ...staff, email: 'short@example.vn', password: 'short' })).rejects.toMatchObject({ fields: { password: { key: 'accounts.passwordTooShort' } } });
    } finally {
      await database.close();
    }
  });
});
