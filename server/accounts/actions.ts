// Organizer accounts: creating them, checking passwords, and the one-time first-admin setup.
import { z } from 'zod';
import { hash, verify } from '@node-rs/argon2';
import { timingSafeEqual } from 'node:crypto';
import './messages.js';
import { UserModel, type UserDocument } from './model.js';
import { requireAdmin, type Actor } from '../lib/actor.js';
import { Conflict, Forbidden, Invalid, Unauthorized } from '../lib/errors.js';
import { isDuplicateKeyError } from '../lib/errors.js';
import { parseInput, requiredText } from '../lib/validation.js';
import { revokeAskers } from '../lib/revocations.js';

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

export function organizerActor(user: UserDocument): Actor {
  return { kind: 'organizer', userId: user.id, name: user.name, isAdmin: user.role === 'admin' };
}

export async function createAccount(actor: Actor, input: unknown): Promise<UserDocument> {
  const values = parseInput(newAccountSchema, input);
  requireAdmin(actor);
  return insertAccount(values);
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
  const passwordMatches = await verify(user?.passwordHash ?? (await unknownUserHash), parsed.data.password).catch(() => false);
  if (!user || !passwordMatches) throw new Unauthorized('accounts.badCredentials');
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
