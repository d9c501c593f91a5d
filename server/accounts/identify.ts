// Who is asking, for HTTP requests and Socket.IO handshakes alike: a bearer token (attendee or
// site link), else the session's organizer account, else the session's link.
import type { SessionData } from 'express-session';
import { anonymous, type Actor } from '../lib/actor.js';
import { actorForBearer, actorForLink, type LinkGrant } from './links.js';
import { UserModel } from './model.js';
import { organizerActor } from './actions.js';
import { BoundedMap } from '../lib/bounded-map.js';
import { onAskersRevoked } from '../lib/revocations.js';
import { isObjectIdString } from '../lib/input.js';

export interface Credentials {
  bearerToken?: string;
  /** What the bearer token was last time (looked up first). */
  bearerKind?: LinkGrant['kind'];
  session?: Partial<SessionData>;
}

export async function resolveActor({ bearerToken, bearerKind, session }: Credentials): Promise<Actor> {
  if (bearerToken) return (await actorForBearer(bearerToken, bearerKind)) ?? anonymous;
  if (session?.userId && isObjectIdString(String(session.userId))) {
    const actor = await organizerForSession(String(session.userId), session.accessVersion ?? 0);
    if (actor) return actor;
  }
  if (session?.link) return (await actorForLink(session.link)) ?? anonymous;
  return anonymous;
}

export function bearerFrom(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
}

/**
 * Every signed-in page asks who the organizer is. The answer (name, role, disabled) is kept for
 * a couple of seconds per user, so a busy organizer costs one lookup per few seconds instead of
 * one per request; disabling an account still takes effect within that lifetime.
 */
const organizerCache = new BoundedMap<string, { actor: Actor | undefined; accessVersion: number; loadedAt: number }>(1_000);
const organizerLifetimeMs = 2_000;

/** The session's organizer, unless the account was disabled or its access reset since it signed in. */
async function organizerForSession(userId: string, sessionAccessVersion: number): Promise<Actor | undefined> {
  let cached = organizerCache.get(userId);
  if (!cached || Date.now() - cached.loadedAt >= organizerLifetimeMs) {
    const user = await UserModel.findById(userId, { name: 1, role: 1, disabled: 1, unitId: 1, accessVersion: 1 }).lean();
    cached = { actor: user && !user.disabled ? organizerActor(user) : undefined, accessVersion: user?.accessVersion ?? 0, loadedAt: Date.now() };
    organizerCache.set(userId, cached);
  }
  return cached.accessVersion === sessionAccessVersion ? cached.actor : undefined;
}

// An account disabled, reset or given another unit or role: this instance stops answering from
// its cached copy at once (others within the cache's lifetime, and the access version ends the sessions).
onAskersRevoked((credentials) => {
  for (const credential of credentials) if (credential.kind === 'user') organizerCache.delete(credential.id);
});
