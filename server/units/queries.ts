// What the account and meeting pages read of units.
import './messages.js';
import { Types } from 'mongoose';
import { UnitModel, type UnitRecord } from './model.js';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { isObjectIdString } from '../lib/input.js';

export interface UnitOption {
  id: string;
  name: string;
}

/** Every unit for an administrator; an organizer's own unit only. */
export async function listUnits(actor: Actor): Promise<UnitOption[]> {
  requireOrganizer(actor);
  const filter = actor.isAdmin ? {} : actor.unitId ? { _id: new Types.ObjectId(actor.unitId) } : { _id: null };
  const units = await UnitModel.find(filter, { name: 1 }).sort({ nameKey: 1 }).lean<UnitRecord[]>();
  return units.map((unit) => ({ id: String(unit._id), name: unit.name }));
}

/**
 * The units a new meeting may be given, when the asker chooses: an administrator any unit; an
 * organizer's meetings are always their own unit's (undefined: nothing to choose).
 */
export async function unitChoicesForNewMeeting(actor: Actor): Promise<UnitOption[] | undefined> {
  if (actor.kind !== 'organizer' || !actor.isAdmin) return undefined;
  return listUnits(actor);
}

export async function findUnit(unitId: string): Promise<UnitRecord | null> {
  if (!isObjectIdString(unitId)) return null;
  return UnitModel.findById(unitId).lean<UnitRecord>();
}
