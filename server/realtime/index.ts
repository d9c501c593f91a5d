// Socket.IO: who is connecting (same session or bearer token as HTTP), which rooms they may
// join, and fan-out of domain events to those rooms. With REDIS_URL, several app instances share
// rooms through the Redis Streams adapter.
import type { Server as HttpServer } from 'node:http';
import type { RequestHandler } from 'express';
import { Server, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { z } from 'zod';
import type { Logger } from 'pino';
import { bearerFrom, resolveActor, type Credentials } from '../accounts/identify.js';
import { canSeeSite, requireMeetingViewer, type Actor } from '../lib/actor.js';
import { AppError } from '../lib/errors.js';
import { defaultLocale, isLocale } from '../lib/i18n.js';
import { toErrorBody } from '../lib/http.js';
import { subscribe, type DomainEvent } from '../lib/events.js';
import { parseInput, objectId } from '../lib/validation.js';
import { meetingRoom, organizersRoom, siteRoom } from './rooms.js';

interface SocketData {
  actor: Actor;
  /** What the handshake presented, kept to re-check the asker when a link or role changes. */
  credentials: Credentials;
}

export interface Realtime {
  io: Server;
  close(): Promise<void>;
}

export async function attachRealtime(httpServer: HttpServer, options: { sessionMiddleware: RequestHandler; redisUrl?: string; logger: Logger }): Promise<Realtime> {
  const redis = options.redisUrl ? createClient({ url: options.redisUrl }) : undefined;
  if (redis) {
    redis.on('error', (error) => options.logger.error({ err: error }, 'redis error'));
    await redis.connect();
  }
  const io = new Server<Record<string, never>, Record<string, never>, Record<string, never>, SocketData>(httpServer, {
    adapter: redis ? createAdapter(redis) : undefined,
    // A phone on a flaky district connection gets missed events replayed on reconnect.
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000 },
  });

  io.engine.use(options.sessionMiddleware);
  io.use(async (socket, next) => {
    try {
      const request = socket.request as typeof socket.request & { session?: Parameters<typeof resolveActor>[0]['session'] };
      const token = typeof socket.handshake.auth?.token === 'string' ? socket.handshake.auth.token : bearerFrom(socket.handshake.headers.authorization);
      const session = request.session ? { userId: request.session.userId, link: request.session.link } : undefined;
      socket.data.credentials = { bearerToken: token, session };
      socket.data.actor = await resolveActor(socket.data.credentials);
      next();
    } catch (error) {
      next(error as Error);
    }
  });

  io.on('connection', (socket) => {
    socket.on('meeting:join', async (input: unknown, ack?: (reply: unknown) => void) => {
      try {
        const meetingId = joinMeeting(socket, input);
        ack?.({ ok: true, meetingId });
      } catch (error) {
        ack?.(ackError(socket, error));
      }
    });
  });

  const unsubscribe = subscribe((event) => {
    fanOut(io, event);
    void dropRevokedScreens(io, event).catch((error: unknown) => options.logger.error({ err: error }, 'could not re-check sockets'));
  });

  return {
    io,
    async close() {
      unsubscribe();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      if (redis?.isOpen) await redis.quit();
    },
  };
}

const joinSchema = z.object({ meetingId: objectId });

function joinMeeting(socket: Socket, input: unknown): string {
  const { meetingId } = parseInput(joinSchema, input);
  const actor = (socket.data as SocketData).actor;
  requireMeetingViewer(actor, meetingId);
  void socket.join(meetingRoom(meetingId));
  if (actor.kind === 'organizer' || actor.kind === 'chair') void socket.join(organizersRoom(meetingId));
  if (actor.kind === 'coordinator' && canSeeSite(actor, meetingId, actor.siteId)) void socket.join(siteRoom(meetingId, actor.siteId));
  return meetingId;
}

/** Which connected askers an event may have changed: a rotated or removed site link, a changed or removed attendee. */
function askersChangedBy(event: DomainEvent): ((actor: Actor) => boolean) | undefined {
  const payload = (event.payload ?? {}) as { id?: string; attendee?: { id?: string } };
  switch (event.type) {
    case 'site.linkRotated':
    case 'site.removed':
      return (actor) => actor.kind === 'coordinator' && actor.siteId === payload.id;
    case 'attendee.updated':
    case 'attendee.removed':
      return (actor) => (actor.kind === 'attendee' || actor.kind === 'chair') && actor.attendeeId === payload.attendee?.id;
    default:
      return undefined;
  }
}

/**
 * A screen whose link was rotated, or whose attendee was removed or made chair or no longer chair,
 * must not keep receiving what it may no longer see: ask again who it is, and disconnect it if
 * the answer changed (it reconnects as whoever it now is).
 */
async function dropRevokedScreens(io: Server, event: DomainEvent): Promise<void> {
  const changed = askersChangedBy(event);
  if (!changed) return;
  for (const socket of await io.in(meetingRoom(event.meetingId)).fetchSockets()) {
    const data = socket.data as SocketData;
    if (!changed(data.actor)) continue;
    const now = await resolveActor(data.credentials);
    if (!sameAsker(now, data.actor)) socket.disconnect(true);
  }
}

/** Same kind and same ids (a renamed attendee is still the same asker). */
function sameAsker(a: Actor, b: Actor): boolean {
  const key = (actor: Actor) => [actor.kind, 'meetingId' in actor ? actor.meetingId : '', 'siteId' in actor ? actor.siteId : '', 'attendeeId' in actor ? actor.attendeeId : ''].join('|');
  return key(a) === key(b);
}

/** Site-scoped events go to that site and the organizers; the rest to the whole meeting. */
function fanOut(io: Server, event: DomainEvent): void {
  const message = { type: event.type, meetingId: event.meetingId, revision: event.revision, payload: event.payload };
  if (event.siteId) io.to([siteRoom(event.meetingId, event.siteId), organizersRoom(event.meetingId)]).emit('event', message);
  else io.to(meetingRoom(event.meetingId)).emit('event', message);
}

function ackError(socket: Socket, error: unknown) {
  const lang = socket.handshake.auth?.lang;
  const locale = isLocale(lang) ? lang : defaultLocale;
  if (error instanceof AppError) return { ok: false, ...toErrorBody(error, locale) };
  return { ok: false, error: { code: 'internal', message: 'internal error' } };
}
