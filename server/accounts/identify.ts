// Who is asking, for HTTP requests and Socket.IO handshakes alike: a bearer token (attendee or
// site link), else the session's organizer account, else the session's link.
import mongoose from 'mongoose';
import type { SessionData } from 'express-session';
import { anonymous, type Actor } from '../lib/actor.js';
import { actorForBearer, actorForLink } from './links.js';
import { UserModel } from './model.js';
import { BoundedMap } from '../lib/bounded-map.js';

export interface Credentials {
  bearerToken?: string;
  session?: Partial<SessionData>;
}

export async function resolveActor({ bearerToken, session }: Credentials): Promise<Actor> {
  if (bearerToken) return (await actorForBearer(bearerToken)) ?? anonymous;
  if (session?.userId && mongoose.isValidObjectId(session.userId)) {
    const actor = await organizerForSession(String(session.userId));
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
const organizerCache = new BoundedMap<string, { actor: Actor | undefined; loadedAt: number }>(1_000);
const organizerLifetimeMs = 2_000;

async function organizerForSession(userId: string): Promise<Actor | undefined> {
  const cached = organizerCache.get(userId);
  if (cached && Date.now() - cached.loadedAt < organizerLifetimeMs) return cached.actor;
  const user = await UserModel.findById(userId, { name: 1, role: 1, disabled: 1 }).lean();
  const actor: Actor | undefined = user && !user.disabled ? { kind: 'organizer', userId, name: user.name, isAdmin: user.role === 'admin' } : undefined;
  organizerCache.set(userId, { actor, loadedAt: Date.now() });
  return actor;
}
