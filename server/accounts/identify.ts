// Who is asking, for HTTP requests and Socket.IO handshakes alike: a bearer token (attendee or
// site link), else the session's organizer account, else the session's link.
import mongoose from 'mongoose';
import type { SessionData } from 'express-session';
import { anonymous, type Actor } from '../lib/actor.js';
import { organizerActor } from './actions.js';
import { actorForBearer, actorForLink } from './links.js';
import { UserModel } from './model.js';

export interface Credentials {
  bearerToken?: string;
  session?: Partial<SessionData>;
}

export async function resolveActor({ bearerToken, session }: Credentials): Promise<Actor> {
  if (bearerToken) return (await actorForBearer(bearerToken)) ?? anonymous;
  if (session?.userId && mongoose.isValidObjectId(session.userId)) {
    const user = await UserModel.findById(session.userId);
    if (user && !user.disabled) return organizerActor(user);
  }
  if (session?.link) return (await actorForLink(session.link)) ?? anonymous;
  return anonymous;
}

export function bearerFrom(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
}
