// What the administrators' pages read of accounts.
import './messages.js';
import { Types } from 'mongoose';
import { UserModel } from './model.js';
import { UnitModel } from '../units/model.js';
import { requireAdmin, type Actor } from '../lib/actor.js';

export interface AccountView {
  id: string;
  email: string;
  name: string;
  role: 'admin' | 'organizer';
  unitId?: string;
  unitName?: string;
  /** active: can sign in; invited: has not chosen a password yet; disabled: refused. */
  status: 'active' | 'invited' | 'disabled';
  lastLoginAt?: Date;
}

export async function listAccounts(actor: Actor, options: { userId?: string } = {}): Promise<AccountView[]> {
  requireAdmin(actor);
  const filter = options.userId ? { _id: new Types.ObjectId(options.userId) } : {};
  const users = await UserModel.find(filter, { passwordHash: 1, email: 1, name: 1, role: 1, unitId: 1, disabled: 1, lastLoginAt: 1 }).sort({ name: 1 }).lean();
  const unitIds = [...new Set(users.flatMap((user) => (user.unitId ? [String(user.unitId)] : [])))];
  const units = new Map((await UnitModel.find({ _id: { $in: unitIds } }, { name: 1 }).lean()).map((unit) => [String(unit._id), unit.name]));
  return users.map((user) => ({
    id: String(user._id),
    email: user.email,
    name: user.name,
    role: user.role,
    ...(user.unitId ? { unitId: String(user.unitId), unitName: units.get(String(user.unitId)) } : {}),
    status: user.disabled ? 'disabled' : user.passwordHash ? 'active' : 'invited',
    ...(user.lastLoginAt ? { lastLoginAt: user.lastLoginAt } : {}),
  }));
}
