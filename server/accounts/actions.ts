// Organizer accounts: creating them, checking passwords, and the one-time first-admin setup.
import { z } from 'zod';
import { hash, verify } from '@node-rs/argon2';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Types } from 'mongoose';
import './messages.js';
import { UserModel, accountRoles, type UserDocument } from './model.js';
import { requireAdmin, type Actor } from '../lib/actor.js';
import { Conflict, Forbidden, Invalid, NotFound, Unauthorized } from '../lib/errors.js';
import { isDuplicateKeyError } from '../lib/errors.js';
import { objectId, parseInput, requiredText } from '../lib/validation.js';
import { revokeAskers } from '../lib/revocations.js';
import { newToken } from '../lib/text.js';
import { UnitModel } from '../units/model.js';

const newAccountSchema = z.object({
  email: z.preprocess((value) => (typeof value === 'string' ? value.trim().toLowerCase() : value), z.email('accounts.emailInvalid')),
  name: requiredText(200),
  password: z.string({ error: 'accounts.passwordTooShort' }).min(12, 'accounts.passwordTooShort').max(200),
  role: z.enum(['admin', 'organizer']).default('organizer'),
});

const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().max(320),
  password: z.string().max(200),
});

// A fixed hash to verify against when the e-mail is unknown, so timing does not reveal which
// addresses have accounts.
const unknownUserHash = hash('bridgepoint-timing-equaliser');

export function organizerActor(user: Pick<UserDocument, 'name' | 'role' | 'unitId'> & { _id: unknown }): Actor {
  const isAdmin = user.role === 'admin';
  return { kind: 'organizer', userId: String(user._id), name: user.name, isAdmin, ...(user.unitId && !isAdmin ? { unitId: String(user.unitId) } : {}) };
}

async function insertAccount(values: z.output<typeof newAccountSchema>): Promise<UserDocument> {
  try {
    return await UserModel.create({ email: values.email, name: values.name, role: values.role, passwordHash: await hash(values.password) });
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new Invalid({ email: { key: 'accounts.emailTaken' } });
    throw error;
  }
}

export async function hasAnyAccount(): Promise<boolean> {
  return (await UserModel.exists({})) !== null;
}

/**
 * The first administrator, from the environment or the setup page. Only while no account
 * exists; the setup page must present the one-time code printed in the server log.
 */
export async function createFirstAdmin(input: unknown, setupCode?: { expected: string; given: unknown }): Promise<UserDocument> {
  const values = parseInput(newAccountSchema, input);
  if (setupCode && !sameSecret(setupCode.expected, setupCode.given)) throw new Invalid({ setupCode: { key: 'accounts.setupCodeWrong' } });
  if (await hasAnyAccount()) throw new Conflict('accounts.setupDone');
  return insertAccount({ ...values, role: 'admin' });
}

export async function authenticate(input: unknown): Promise<UserDocument> {
  const parsed = credentialsSchema.safeParse(input);
  if (!parsed.success) throw new Unauthorized('accounts.badCredentials');
  const user = await UserModel.findOne({ email: parsed.data.email });
  // An invited account has no password yet: it is verified against the fixed hash (same timing) and fails.
  const passwordMatches = await verify(user?.passwordHash ?? (await unknownUserHash), parsed.data.password).catch(() => false);
  if (!user || !user.passwordHash || !passwordMatches) throw new Unauthorized('accounts.badCredentials');
  if (user.disabled) throw new Forbidden('accounts.disabled');
  await UserModel.updateOne({ _id: user._id }, { $set: { lastLoginAt: new Date() } });
  return user;
}

function sameSecret(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given.trim());
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A session ended (sign-out, or replaced by a new one at sign-in): every live connection opened
 * with it closes now, on every app instance, instead of following meetings as the old asker.
 */
export function sessionEnded(sessionId: string): void {
  revokeAskers({ kind: 'session', id: sessionId });
}

// ---------------------------------------------------------------------------------------------
// Administration: inviting organizers, their unit and role, disabling them, resetting access.

/** How long a one-time invitation or reset link stays valid. */
export const invitationLifetimeMs = 7 * 24 * 60 * 60_000;

const emailField = z.preprocess((value) => (typeof value === 'string' ? value.trim().toLowerCase() : value), z.email('accounts.emailInvalid').max(320));
const roleField = z.enum(accountRoles, { error: 'accounts.roleInvalid' });
const unitField = z.preprocess((value) => (value === '' || value === null ? undefined : value), objectId.optional());
const optionalPassword = z.preprocess(
  (value) => (value === '' || value === null ? undefined : value),
  z.string({ error: 'accounts.passwordTooShort' }).min(12, 'accounts.passwordTooShort').max(200).optional(),
);

const inviteSchema = z.object({ email: emailField, name: requiredText(200), role: roleField.default('organizer'), unitId: unitField, password: optionalPassword });
const updateSchema = z.object({ userId: objectId, name: requiredText(200).optional(), role: roleField.optional(), unitId: unitField });
const userIdSchema = z.object({ userId: objectId });
const acceptSchema = z.object({ token: z.string().min(10).max(200), password: z.string({ error: 'accounts.passwordTooShort' }).min(12, 'accounts.passwordTooShort').max(200) });

export interface Invitation {
  user: UserDocument;
  /** The one-time link's token, shown once to the administrator (only its hash is stored). */
  token?: string;
  expiresAt?: Date;
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');

function newInvitation(now = Date.now()): { token: string; stored: { tokenHash: string; expiresAt: Date } } {
  const token = newToken(24);
  return { token, stored: { tokenHash: tokenHash(token), expiresAt: new Date(now + invitationLifetimeMs) } };
}

/** An organizer needs a unit to work in; an administrator may have one (shown as theirs) or none. */
async function checkUnit(role: (typeof accountRoles)[number], unitId: string | undefined): Promise<void> {
  if (role === 'organizer' && !unitId) throw new Invalid({ unitId: { key: 'units.required' } });
  if (unitId && !(await UnitModel.exists({ _id: new Types.ObjectId(unitId) }))) throw new Invalid({ unitId: { key: 'units.notFound' } });
}

/**
 * An administrator adds an organizer (or another administrator). With a first password the
 * account works at once; without one it gets a one-time link to choose it (copy it, or mail it).
 */
export async function inviteAccount(actor: Actor, input: unknown): Promise<Invitation> {
  const values = parseInput(inviteSchema, input);
  requireAdmin(actor);
  await checkUnit(values.role, values.unitId);
  const invitation = values.password ? undefined : newInvitation();
  try {
    const user = await UserModel.create({
      email: values.email,
      name: values.name,
      role: values.role,
      ...(values.unitId ? { unitId: values.unitId } : {}),
      ...(values.password ? { passwordHash: await hash(values.password) } : { invitation: invitation!.stored }),
    });
    return { user, token: invitation?.token, expiresAt: invitation?.stored.expiresAt };
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new Invalid({ email: { key: 'accounts.emailTaken' } });
    throw error;
  }
}

async function loadAccount(userId: string): Promise<UserDocument> {
  const user = await UserModel.findById(userId);
  if (!user) throw new NotFound('accounts.notFound');
  return user;
}

/** The last active administrator cannot stop being one: someone must be able to manage accounts. */
async function keepsAnAdministrator(user: UserDocument): Promise<boolean> {
  if (user.role !== 'admin' || user.disabled) return true;
  return (await UserModel.countDocuments({ role: 'admin', disabled: { $ne: true }, _id: { $ne: user._id } })) > 0;
}

export async function updateAccount(actor: Actor, input: unknown): Promise<UserDocument> {
  const values = parseInput(updateSchema, input);
  requireAdmin(actor);
  const user = await loadAccount(values.userId);
  const role = values.role ?? user.role;
  const unitId = 'unitId' in values && values.unitId !== undefined ? values.unitId : user.unitId ? String(user.unitId) : undefined;
  await checkUnit(role, unitId);
  if (role !== 'admin' && !(await keepsAnAdministrator(user))) throw new Conflict('accounts.lastAdmin');
  const set: Record<string, unknown> = { role, ...(values.name ? { name: values.name } : {}), ...(unitId ? { unitId } : {}) };
  // A new role or unit changes what the account may see: sessions signed in before end.
  const reach = role !== user.role || String(user.unitId ?? '') !== String(unitId ?? '');
  const updated = await UserModel.findByIdAndUpdate(user._id, { $set: set, ...(reach ? { $inc: { accessVersion: 1 } } : {}) }, { returnDocument: 'after' });
  if (reach) revokeAskers({ kind: 'user', id: String(user._id) });
  return updated ?? user;
}

export async function setAccountDisabled(actor: Actor, input: unknown, disabled: boolean): Promise<UserDocument> {
  const { userId } = parseInput(userIdSchema, input);
  requireAdmin(actor);
  if (disabled && userId === actor.userId) throw new Conflict('accounts.cannotDisableSelf');
  const user = await loadAccount(userId);
  if (disabled && !(await keepsAnAdministrator(user))) throw new Conflict('accounts.lastAdmin');
  const updated = await UserModel.findByIdAndUpdate(userId, { $set: { disabled }, $inc: { accessVersion: 1 } }, { returnDocument: 'after' });
  // Every live screen of the account closes now, on every instance, as its sessions do.
  if (disabled) revokeAskers({ kind: 'user', id: userId });
  return updated ?? user;
}

const changeSchema = updateSchema.extend({ disabled: z.boolean({ error: 'accounts.disabledInvalid' }).optional() });

/**
 * The API's one PATCH of an account: any of name, role, unit and `disabled` (true or false, nothing
 * else). The whole request is checked before anything is written, so a refused one changes nothing:
 * a `disabled: "true"` read as false would have enabled the account it meant to disable.
 */
export async function changeAccount(actor: Actor, input: unknown): Promise<UserDocument> {
  const { disabled, ...fields } = parseInput(changeSchema, input);
  requireAdmin(actor);
  if (disabled === true && fields.userId === actor.userId) throw new Conflict('accounts.cannotDisableSelf');
  if (disabled === undefined) return updateAccount(actor, fields);
  if (fields.name !== undefined || fields.role !== undefined || fields.unitId !== undefined) await updateAccount(actor, fields);
  return setAccountDisabled(actor, { userId: fields.userId }, disabled);
}

/**
 * Forgotten password or a lost laptop: the password is cleared, every session of the account
 * ends, and a new one-time link lets its owner choose a new password.
 */
export async function resetAccess(actor: Actor, input: unknown): Promise<Invitation> {
  const { userId } = parseInput(userIdSchema, input);
  requireAdmin(actor);
  const invitation = newInvitation();
  const user = await UserModel.findByIdAndUpdate(
    userId,
    { $set: { invitation: invitation.stored }, $unset: { passwordHash: 1 }, $inc: { accessVersion: 1 } },
    { returnDocument: 'after' },
  );
  if (!user) throw new NotFound('accounts.notFound');
  revokeAskers({ kind: 'user', id: userId });
  return { user, token: invitation.token, expiresAt: invitation.stored.expiresAt };
}

/** Who a one-time link belongs to, if it is still valid (for the choose-a-password page). */
export async function findInvitation(token: unknown): Promise<UserDocument | null> {
  if (typeof token !== 'string' || token.length < 10 || token.length > 200) return null;
  const user = await UserModel.findOne({ 'invitation.tokenHash': tokenHash(token) });
  if (!user || user.disabled || !user.invitation || user.invitation.expiresAt.getTime() < Date.now()) return null;
  return user;
}

/** The invited person chooses a password; the link is used up in the same write. */
export async function acceptInvitation(input: unknown): Promise<UserDocument> {
  const { token, password } = parseInput(acceptSchema, input);
  const passwordHash = await hash(password);
  const user = await UserModel.findOneAndUpdate(
    { 'invitation.tokenHash': tokenHash(token), 'invitation.expiresAt': { $gte: new Date() }, disabled: { $ne: true } },
    { $set: { passwordHash }, $unset: { invitation: 1 } },
    { returnDocument: 'after' },
  );
  if (!user) throw new NotFound('accounts.invitationInvalid');
  return user;
}
