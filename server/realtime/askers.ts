// Who a socket is: resolved at the handshake from the same credentials as HTTP (bearer token or
// session), and asked again at every meeting:join, every recovered reconnect and every command
// handled through `onAskerEvent`, so a rotated link, a sign-out or a disabled account never keeps
// a live connection. Each socket sits in one room per credential (see askerRoom) so a revoked one
// can be cut off on every instance.
import type { Server, Socket } from 'socket.io';
import type { SessionData, Store } from 'express-session';
import { resolveActor } from '../accounts/identify.js';
import type { LinkGrant } from '../accounts/links.js';
import { anonymous, sameActor, type Actor } from '../lib/actor.js';
import { AppError, isDatabaseUnreachable, Unauthorized, Unavailable } from '../lib/errors.js';
import type { Logger } from 'pino';
import { defaultLocale, isLocale, registerMessages, type Locale } from '../lib/i18n.js';
import { toErrorBody } from '../lib/http.js';
import { askerRoom } from './rooms.js';

/**
 * What the handshake presented. A session is kept by id (not a copy), so asking again reads the
 * session as it is now: destroyed at sign-out means anonymous.
 */
export interface SocketCredentials {
  bearerToken?: string;
  /** The kind of link the token was at the handshake: asked first at each command's re-check. */
  bearerKind?: LinkGrant['kind'];
  sessionId?: string;
}

export interface SocketData {
  actor: Actor;
  credentials: SocketCredentials;
}

export type AskerResolver = (credentials: SocketCredentials) => Promise<Actor>;

/** The resolver of each Socket.IO server (one per app), for handlers that only have a socket. */
const resolvers = new WeakMap<Server, AskerResolver>();

export function askerResolver(store: Store | undefined): AskerResolver {
  return async ({ bearerToken, bearerKind, sessionId }) => {
    if (bearerToken) return resolveActor({ bearerToken, bearerKind });
    if (sessionId && store) return resolveActor({ session: await loadSession(store, sessionId) });
    return anonymous;
  };
}

export function registerResolver(io: Server, resolve: AskerResolver): void {
  resolvers.set(io, resolve);
}

function loadSession(store: Store, sessionId: string): Promise<Partial<SessionData> | undefined> {
  return new Promise((resolve, reject) => store.get(sessionId, (error, session) => (error ? reject(error) : resolve(session ?? undefined))));
}

/** The rooms naming every credential behind this asker. */
export function askerRoomsOf(actor: Actor, credentials: SocketCredentials): string[] {
  const rooms: string[] = [];
  if (credentials.sessionId) rooms.push(askerRoom({ kind: 'session', id: credentials.sessionId }));
  if (actor.kind === 'organizer') rooms.push(askerRoom({ kind: 'user', id: actor.userId }));
  if (actor.kind === 'coordinator') rooms.push(askerRoom({ kind: 'site', id: actor.siteId }));
  if (actor.kind === 'attendee' || actor.kind === 'chair') rooms.push(askerRoom({ kind: 'attendee', id: actor.attendeeId }));
  return rooms;
}

/** Same kind and same ids (a renamed attendee is still the same asker). */
export const sameAsker = sameActor;

/**
 * Ask again who this socket is. The same asker (perhaps renamed): its fresh actor. Anyone else
 * (signed out, link rotated, role changed, account disabled): the socket is disconnected (it
 * reconnects as whoever it now is) and Unauthorized is thrown for the pending ack.
 */
export async function recheckAsker(socket: Socket): Promise<Actor> {
  const resolve = resolvers.get(socket.nsp.server);
  const data = socket.data as SocketData;
  if (!resolve) throw new Error('realtime: no asker resolver for this server');
  const now = await resolve(data.credentials);
  if (sameAsker(now, data.actor)) {
    data.actor = now;
    return now;
  }
  // After the ack of the command that noticed it, so the client learns why.
  setImmediate(() => socket.disconnect(true));
  throw new Unauthorized('realtime.askerChanged');
}

export type AskerHandler = (actor: Actor, input: unknown, socket: Socket) => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;

/**
 * Register a command on a socket with the asker checked again first, and one ack shape:
 * `{ ok: true, ...result }` or `{ ok: false, error: { code, message, fields? } }` in the
 * socket's language. Every socket event that reads or changes anything should go through this.
 */
export function onAskerEvent(socket: Socket, event: string, handler: AskerHandler): void {
  socket.on(event, async (...args: unknown[]) => {
    const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (reply: unknown) => void) : undefined;
    try {
      const actor = await recheckAsker(socket);
      const result = await handler(actor, args[0], socket);
      ack?.({ ok: true, ...(result ?? {}) });
    } catch (error) {
      ack?.(ackError(socket, error, event));
    }
  });
}

export function socketLocale(socket: Socket): Locale {
  const lang = socket.handshake.auth?.lang;
  return isLocale(lang) ? lang : defaultLocale;
}

export function ackError(socket: Socket, error: unknown, command?: string) {
  if (error instanceof AppError) return { ok: false, ...toErrorBody(error, socketLocale(socket)) };
  const logger = loggers.get(socket.nsp.server);
  // The database out of reach (restarting, a network cut): the sender keeps the command and
  // sends it again; worth a warning, not an error.
  if (isDatabaseUnreachable(error)) {
    logger?.warn({ err: error, command }, 'live command: database unreachable');
    return { ok: false, ...toErrorBody(new Unavailable('error.unavailable'), socketLocale(socket)) };
  }
  logger?.error({ err: error, command }, 'live command failed');
  return { ok: false, error: { code: 'internal', message: toErrorBody(new InternalAck('error.internal'), socketLocale(socket)).error.message } };
}

/** The logger of each Socket.IO server (one per app), for errors answered to a command. */
const loggers = new WeakMap<Server, Logger>();

export function registerLogger(io: Server, logger: Logger): void {
  loggers.set(io, logger);
}

class InternalAck extends AppError {
  readonly status = 500;
  readonly code = 'internal';
}

registerMessages({
  vi: {
    'realtime.askerChanged': 'Quyền truy cập của bạn đã thay đổi (đăng xuất, đường dẫn mới hoặc vai trò mới). Vui lòng tải lại trang.',
    'realtime.origin': 'Kết nối trực tiếp chỉ được mở từ chính trang của ứng dụng.',
  },
  en: {
    'realtime.askerChanged': 'Your access changed (signed out, a new link or a new role). Please reload the page.',
    'realtime.origin': 'Live connections can only be opened from the app’s own pages.',
  },
});
