// Socket.IO: who is connecting (same session or bearer token as HTTP, from the app's own origin
// only), which rooms they may join, and fan-out of domain events to those rooms. With REDIS_URL,
// several app instances share rooms through the Redis Streams adapter.
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { RequestHandler } from 'express';
import type { SessionData, Store } from 'express-session';
import { Server, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import type { Logger } from 'pino';
import { bearerFrom, resolveActor } from '../accounts/identify.js';
import { linkKindOf } from '../accounts/links.js';
import { canSeeSite, type Actor } from '../lib/actor.js';
import { loadMeetingFor } from '../meetings/guard.js';
import { Unauthorized } from '../lib/errors.js';
import { defaultLocale, isLocale, t } from '../lib/i18n.js';
import { toErrorBody } from '../lib/http.js';
import { changedElsewhere, subscribe, type DomainEvent } from '../lib/events.js';
import { onAskersRevoked } from '../lib/revocations.js';
import { parseInput } from '../lib/validation.js';
import { askerRoom, batchedRoom, meetingOfRoom, meetingRoom, organizersRoom, siteRoom, unitOrganizersRoom } from './rooms.js';
import { MeetingFanOut } from './fanout.js';
import { attachLiveCommands, commandBurst, commandHandler, commandsPerSecond, siteScreenClosed, siteScreenOpened, stopPresence, TokenBucket, watchSitePresence } from './live.js';
import { joinInput } from '../live/contract.js';
import { verifyPresence } from '../live/queries.js';
import { MeetingModel } from '../meetings/model.js';
import { askerResolver, askerRoomsOf, registerLogger, registerResolver, sameAsker, socketLocale, type AskerResolver, type SocketCredentials, type SocketData } from './askers.js';

/** The server-side event that relays a changed meeting's id to the other instances (meetings/cache.ts). */
const meetingChangedRelay = 'meeting:changed';

export { onAskerEvent, recheckAsker } from './askers.js';

export interface Realtime {
  io: Server;
  close(): Promise<void>;
}

export interface RealtimeOptions {
  sessionMiddleware: RequestHandler;
  /** The session store, to read a socket's session again when its asker is re-checked. */
  sessionStore?: Store;
  redisUrl?: string;
  /** How often the presence of the meetings followed here is checked against the rooms (default 15 s). */
  presenceSweepMs?: number;
  /** Under load, a meeting's events go out together at most this often (default 100 ms; realtime/fanout.ts). */
  eventBatchMs?: number;
  /** An event this long after the meeting's last send goes out at once (default 25 ms). */
  eventQuietMs?: number;
  /** PUBLIC_URL: browsers may open sockets from this origin (and from the request's own host). */
  publicUrl?: string;
  logger: Logger;
}

export async function attachRealtime(httpServer: HttpServer, options: RealtimeOptions): Promise<Realtime> {
  // The adapter reads its stream with XREAD BLOCK 5000: a command timeout above that, so a read
  // never times out by itself, and a loaded event loop (seconds late) does not fail every command.
  const redis = options.redisUrl ? createClient({ url: options.redisUrl, commandOptions: { timeout: 30_000 } }) : undefined;
  if (redis) {
    redis.on('error', (error) => options.logger.error({ err: error }, 'redis error'));
    await redis.connect();
  }
  const io = new Server(httpServer, {
    adapter: redis ? createAdapter(redis) : undefined,
    // A phone on a flaky district connection gets missed events replayed on reconnect.
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000 },
    allowRequest: (req, callback) => (fromOwnOrigin(req, options.publicUrl) ? callback(null, true) : callback(t(localeOfRequest(req), 'realtime.origin'), false)),
  });
  const resolve = askerResolver(options.sessionStore);
  registerResolver(io, resolve);
  registerLogger(io, options.logger);
  refuseRecoveryOfRevokedAskers(io, resolve);

  io.engine.use(options.sessionMiddleware);
  io.use(async (socket, next) => {
    try {
      const request = socket.request as typeof socket.request & { session?: Partial<SessionData>; sessionID?: string };
      const token = typeof socket.handshake.auth?.token === 'string' ? socket.handshake.auth.token : bearerFrom(socket.handshake.headers.authorization);
      const signedIn = Boolean(request.session?.userId || request.session?.link);
      const credentials: SocketCredentials = { bearerToken: token, sessionId: !token && signedIn ? request.sessionID : undefined };
      const actor = await resolveActor(token ? { bearerToken: token } : { session: request.session });
      if (token) credentials.bearerKind = linkKindOf(actor);
      // A link that names nobody (rotated, removed) is refused outright, so a kiosk or script
      // learns it must be given a new one instead of sitting connected and seeing nothing.
      if (token && actor.kind === 'anonymous') throw new Unauthorized('accounts.linkInvalid');
      const restored = socket.recovered ? (socket.data as Partial<SocketData>).actor : undefined;
      Object.assign(socket.data as SocketData, { credentials, actor });
      // Recovered with other credentials than the connection it resumes: start afresh instead.
      if (restored && !sameAsker(restored, actor)) throw new Unauthorized('realtime.askerChanged');
      next();
    } catch (error) {
      next(handshakeError(socket, error));
    }
  });

  io.on('connection', (socket) => {
    const data = socket.data as SocketData;
    void socket.join(askerRoomsOf(data.actor, data.credentials));
    // A recovered socket is back in its rooms without a new meeting:join: its site screens are
    // open again, and the dashboards that were told the site went offline must hear it is back.
    if (socket.recovered) {
      for (const { meetingId, siteId } of (data as SocketData & { siteScreens?: SiteScreen[] }).siteScreens ?? []) siteScreenOpened(io, meetingId, siteId, options.logger);
    }
    // One bucket for every event the socket sends, joins included (each join reads the meeting
    // and may write the site's presence).
    const bucket = new TokenBucket(commandBurst, commandsPerSecond);
    socket.on(
      'meeting:join',
      commandHandler(socket, bucket, async (actor, input) => {
        const meetingId = await joinMeeting(socket, actor, input, options.logger);
        return { meetingId, revision: await currentRevision(meetingId) };
      }, 'meeting:join'),
    );
    attachLiveCommands(socket, bucket);
    socket.on('disconnect', () => {
      for (const { meetingId, siteId } of (socket.data as SocketData & { siteScreens?: SiteScreen[] }).siteScreens ?? []) siteScreenClosed(io, meetingId, siteId, options.logger);
    });
  });
  watchSitePresence(io);
  // Presence of the meetings followed here is checked now and then, not only when a screen asks
  // for a snapshot: a quiet meeting's dashboard learns that a stopped instance took a site's screens.
  // One sweep at a time: a tick that finds the last one still running (questions to an instance
  // killed and not yet missed time out) is skipped rather than piling questions up. A store that
  // is down is logged once per sweep, not once per meeting.
  let sweeping: Promise<void> | undefined;
  const presenceSweep = setInterval(() => {
    if (sweeping) return;
    const meetings = meetingsFollowedHere(io);
    if (meetings.length === 0) return;
    sweeping = Promise.allSettled(meetings.map((meetingId) => verifyPresence(meetingId))).then((results) => {
      const failed = results.flatMap((result, index) => (result.status === 'rejected' ? [{ meetingId: meetings[index], err: result.reason as unknown }] : []));
      if (failed.length > 0) options.logger.warn({ err: failed[0].err, meetings: failed.length, meetingId: failed[0].meetingId }, 'could not check site presence');
      sweeping = undefined;
    });
  }, options.presenceSweepMs ?? 15_000);
  presenceSweep.unref();

  // Other instances keep meetings in memory for their pages (meetings/cache.ts): each change made
  // here is relayed so that they forget it at once. Their own changes arrive the same way.
  if (redis) io.on(meetingChangedRelay, (meetingId: unknown) => typeof meetingId === 'string' && changedElsewhere(meetingId));
  const fanOut = new MeetingFanOut(io, options.eventBatchMs ?? 100, options.eventQuietMs);
  const unsubscribe = subscribe((event) => {
    if (redis) io.serverSideEmit(meetingChangedRelay, event.meetingId);
    fanOut.publish(event);
    const changed = askersChangedBy(event);
    // The screens about to be cut off get what was gathered for them first (the rotation's notice).
    if (changed.revoked.length > 0 || changed.recheck.length > 0) fanOut.flush(event.meetingId);
    void dropRevokedScreens(io, resolve, changed).catch((error: unknown) => options.logger.error({ err: error }, 'could not re-check sockets'));
  });
  const stopRevocations = onAskersRevoked((credentials) => io.in(credentials.map(askerRoom)).disconnectSockets(true));

  return {
    io: io,
    async close() {
      // A sweep under way finishes before the sockets close: once they are closing its rooms are
      // empty here, and it would write this instance's sites gone (which stopPresence avoids).
      clearInterval(presenceSweep);
      await sweeping;
      unsubscribe();
      fanOut.flushAll();
      stopRevocations();
      await stopPresence(io, () => new Promise<void>((done) => io.close(() => done())));
      if (redis?.isOpen) await redis.quit();
    },
  };
}

/**
 * Browsers send Origin on every cross-site socket request: only the app's own pages (PUBLIC_URL,
 * or the same host the request came to) may ride on the organizer's cookie. A page on another
 * port of the same host is another origin. Clients without Origin (scripts, kiosks, other
 * languages' Socket.IO clients) carry no ambient cookie and are let through to the handshake.
 */
export function fromOwnOrigin(req: IncomingMessage, publicUrl: string | undefined): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage
  }
  if (publicUrl && parsed.origin === new URL(publicUrl).origin) return true;
  return parsed.host === req.headers.host;
}

function localeOfRequest(req: IncomingMessage) {
  const lang = /(?:^|;\s*)lang=(\w+)/.exec(req.headers.cookie ?? '')?.[1];
  return isLocale(lang) ? lang : defaultLocale;
}

/** A refused handshake as Socket.IO's connect_error, with our error body as its data. */
function handshakeError(socket: Socket | { handshake: Socket['handshake'] }, error: unknown): Error {
  if (!(error instanceof Unauthorized)) return error as Error;
  const lang = socket.handshake.auth?.lang;
  const body = toErrorBody(error, isLocale(lang) ? lang : defaultLocale);
  return Object.assign(new Error(body.error.message), { data: body });
}

/**
 * Connection State Recovery restores a socket's rooms and replays what it missed before any
 * middleware runs. A socket whose credentials were revoked while it was away (the link rotated,
 * the organizer signed out) must not get that replay: check its stored asker first, and let it
 * start a fresh connection (through the handshake) if that asker is gone.
 */
function refuseRecoveryOfRevokedAskers(io: Server, resolve: AskerResolver): void {
  const adapter = io.of('/').adapter;
  const restore = adapter.restoreSession.bind(adapter);
  adapter.restoreSession = async (pid, offset) => {
    const session = await restore(pid, offset);
    const data = session?.data as Partial<SocketData> | undefined;
    if (!session || !data?.actor || !data.credentials) return session;
    // The adapters answer null for "nothing to recover"; their typings say otherwise.
    return sameAsker(await resolve(data.credentials), data.actor) ? session : (null as unknown as typeof session);
  };
}

interface SiteScreen {
  meetingId: string;
  siteId: string;
}

/** The one meeting guard decides, as for HTTP reads: an organizer of another unit is told it does not exist. */
async function joinMeeting(socket: Socket, actor: Actor, input: unknown, logger: Logger): Promise<string> {
  const { meetingId, batched } = parseInput(joinInput, input);
  await loadMeetingFor(actor, meetingId);
  // Dropped while the meeting was read (a flaky phone): its disconnect has run already, so joining
  // now would mark its site connected with nobody left to mark it gone.
  if (!socket.connected) return meetingId;
  // The last join decides how the whole-meeting events come: a join without `batched: true`
  // (again, say, by a script that listens only to `event`) gets them one by one.
  void socket.join(batched ? [meetingRoom(meetingId), batchedRoom(meetingId)] : meetingRoom(meetingId));
  if (!batched) void socket.leave(batchedRoom(meetingId));
  if (actor.kind === 'organizer' || actor.kind === 'chair') void socket.join(organizersRoom(meetingId));
  if (actor.kind === 'organizer') void socket.join(unitOrganizersRoom(meetingId));
  if (actor.kind === 'coordinator' && canSeeSite(actor, meetingId, actor.siteId)) {
    void socket.join(siteRoom(meetingId, actor.siteId));
    // The site's coordinator page or wall display: the site counts as connected while it stays.
    const data = socket.data as SocketData & { siteScreens?: SiteScreen[] };
    data.siteScreens ??= [];
    if (!data.siteScreens.some((screen) => screen.meetingId === meetingId)) data.siteScreens.push({ meetingId, siteId: actor.siteId });
    siteScreenOpened(socket.nsp.server, meetingId, actor.siteId, logger);
  }
  return meetingId;
}

async function currentRevision(meetingId: string): Promise<number> {
  return (await MeetingModel.findById(meetingId, { revision: 1 }).lean())?.revision ?? 0;
}

/**
 * Credentials an event revoked outright (every socket in these rooms goes), and those it may
 * have changed (each socket there is asked again: a renamed attendee stays, one whose link was
 * rotated or who is no longer chair goes).
 */
function askersChangedBy(event: DomainEvent): { revoked: string[]; recheck: string[] } {
  const payload = (event.payload ?? {}) as { id?: string; attendee?: { id?: string } };
  switch (event.type) {
    case 'site.linkRotated':
    case 'site.removed':
      return { revoked: payload.id ? [askerRoom({ kind: 'site', id: payload.id })] : [], recheck: [] };
    case 'attendee.removed':
      return { revoked: payload.attendee?.id ? [askerRoom({ kind: 'attendee', id: payload.attendee.id })] : [], recheck: [] };
    case 'attendee.updated':
      return { revoked: [], recheck: payload.attendee?.id ? [askerRoom({ kind: 'attendee', id: payload.attendee.id })] : [] };
    case 'meeting.deleted':
      return { revoked: [], recheck: [meetingRoom(event.meetingId)] };
    default:
      return { revoked: [], recheck: [] };
  }
}

/** The meetings with a screen on this instance (their whole-meeting rooms here). */
function meetingsFollowedHere(io: Server): string[] {
  return [...io.of('/').adapter.rooms.keys()].flatMap((room) => meetingOfRoom(room) ?? []);
}

/**
 * A screen whose link was rotated, or whose attendee was removed or made chair or no longer chair,
 * must not keep receiving what it may no longer see, joined to a meeting or not, on any instance:
 * disconnect it (it reconnects as whoever it now is).
 */
async function dropRevokedScreens(io: Server, resolve: AskerResolver, { revoked, recheck }: { revoked: string[]; recheck: string[] }): Promise<void> {
  if (revoked.length > 0) io.in(revoked).disconnectSockets(true);
  if (recheck.length === 0) return;
  for (const socket of await io.in(recheck).fetchSockets()) {
    const data = socket.data as SocketData;
    if (data.actor.kind === 'organizer') continue;
    if (!sameAsker(await resolve(data.credentials), data.actor)) socket.disconnect(true);
  }
}

export { socketLocale };
