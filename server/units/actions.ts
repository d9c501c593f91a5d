// What an administrator can do with organizing units: add one, rename it. Units are never
// deleted: meetings and accounts keep pointing at them (a finished conference stays its unit's).
import './messages.js';
import { z } from 'zod';
import { UnitModel, type UnitRecord } from './model.js';
import { commitMeetingChange, type MeetingRecord } from '../meetings/revision.js';
import { requireAdmin, type Actor } from '../lib/actor.js';
import { Forbidden, Invalid, NotFound, isDuplicateKeyError } from '../lib/errors.js';
import { objectId, parseInput, requiredText } from '../lib/validation.js';
import { searchKey } from '../lib/text.js';
import { isObjectIdString } from '../lib/input.js';

const unitName = requiredText(200, 'units.name.required');
const addSchema = z.object({ name: unitName });
const renameSchema = z.object({ unitId: objectId, name: unitName });

/** "Sở Y tế" is taken, whichever way the new name was typed: the message names the existing unit. */
async function nameTaken(name: string): Promise<Invalid> {
  const existing = await UnitModel.findOne({ nameKey: searchKey(name) }, { name: 1 }).lean();
  return new Invalid({ name: { key: 'units.nameTaken', params: { name: existing?.name ?? name } } });
}

export async function addUnit(actor: Actor, input: unknown): Promise<UnitRecord> {
  const { name } = parseInput(addSchema, input);
  requireAdmin(actor);
  try {
    const unit = await UnitModel.create({ name, nameKey: searchKey(name) });
    return unit.toObject() as UnitRecord;
  } catch (error) {
    if (isDuplicateKeyError(error)) throw await nameTaken(name);
    throw error;
  }
}

export async function renameUnit(actor: Actor, input: unknown): Promise<UnitRecord> {
  const { unitId, name } = parseInput(renameSchema, input);
  requireAdmin(actor);
  try {
    const unit = await UnitModel.findByIdAndUpdate(unitId, { $set: { name, nameKey: searchKey(name) } }, { returnDocument: 'after' }).lean<UnitRecord>();
    if (!unit) throw new NotFound('units.notFound');
    return unit;
  } catch (error) {
    if (isDuplicateKeyError(error)) throw await nameTaken(name);
    throw error;
  }
}

/** The unit named `name`, created if missing (seeding, and the first administrator's own unit). */
export async function ensureUnit(name: string): Promise<UnitRecord> {
  const nameKey = searchKey(name);
  const unit = await UnitModel.findOneAndUpdate({ nameKey }, { $setOnInsert: { name, nameKey } }, { upsert: true, returnDocument: 'after' })
    .lean<UnitRecord>()
    .catch(async (error: unknown) => {
      // Two starts upserting the same unit at once: one insert wins, the other reads it.
      if (isDuplicateKeyError(error)) return UnitModel.findOne({ nameKey }).lean<UnitRecord>();
      throw error;
    });
  if (!unit) throw new NotFound('units.notFound');
  return unit;
}

/**
 * The unit a new meeting belongs to. An organizer's is their own. An administrator's is the one
 * they chose, else the unit named like the meeting's organizing unit, else the only unit; on a
 * new installation with no unit yet, the first meeting creates it from that name.
 */
export async function unitForNewMeeting(actor: Extract<Actor, { kind: 'organizer' }>, requested: unknown, organizingUnit: string | undefined): Promise<UnitRecord> {
  if (!actor.isAdmin) {
    const own = actor.unitId ? await UnitModel.findById(actor.unitId).lean<UnitRecord>() : null;
    if (!own) throw new Forbidden('accounts.noUnit');
    return own;
  }
  const unitId = typeof requested === 'string' && requested !== '' ? requested : undefined;
  if (unitId !== undefined) {
    const chosen = isObjectIdString(unitId) ? await UnitModel.findById(unitId).lean<UnitRecord>() : null;
    if (!chosen) throw new Invalid({ unitId: { key: 'units.notFound' } });
    return chosen;
  }
  if (organizingUnit) {
    const named = await UnitModel.findOne({ nameKey: searchKey(organizingUnit) }).lean<UnitRecord>();
    if (named) return named;
  }
  const candidates = await UnitModel.find({}).sort({ nameKey: 1 }).limit(2).lean<UnitRecord[]>();
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) return ensureUnit(organizingUnit || defaultUnitName);
  throw new Invalid({ unitId: { key: 'units.required' } });
}

/** The name of the unit a new installation's first meeting creates when it names none. */
export const defaultUnitName = 'Đơn vị tổ chức';

const moveSchema = z.object({ meetingId: objectId, unitId: objectId });

/** An administrator hands a meeting to another unit (its organizers see it from then on). */
export async function moveMeetingToUnit(actor: Actor, input: unknown): Promise<MeetingRecord> {
  const { meetingId, unitId } = parseInput(moveSchema, input);
  requireAdmin(actor);
  if (!(await UnitModel.exists({ _id: unitId }))) throw new Invalid({ unitId: { key: 'units.notFound' } });
  const { meeting } = await commitMeetingChange({
    meetingId,
    update: { $set: { unitId } },
    audit: { actor },
    events: (_result, _revision, stored) => [{ type: 'meeting.updated', payload: { id: String(stored._id), unitId, changed: ['unitId'] } }],
  });
  return meeting;
}
