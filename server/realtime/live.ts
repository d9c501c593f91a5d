// Socket handlers of the day's commands (docs/api/live.md): each event calls the same action as
// the HTTP command route, always answers an ack when asked for one, and is rate-limited per socket
// (token bucket) so one flooding client cannot slow the others. Also the site presence seen
// through the adapter (all instances) and the "revision" events that keep every screen gap-free.
import '../live/messages.js';
import type { Server, Socket } from 'socket.io';
import type { Logger } from 'pino';
import { liveActions } from '../live/commands.js';
import { setConnectedSitesSource, settleSitePresence } from '../live/presence.js';
import { TooManyRequests } from '../lib/errors.js';
import { TokenBucket } from '../lib/token-bucket.js';
import type { Actor } from '../lib/actor.js';
import { siteRoom } from './rooms.js';
import { ackError, recheckAsker } from './askers.js';

/** Burst and refill of each socket's bucket (an offline queue of 60 drains without waiting). */
export const commandBurst = 60;
export const commandsPerSecond = 20;

export { TokenBucket };

type Ack = (reply: unknown) => void;

/**
 * A handler that survives anything a client sends: no payload, an ack in the payload's place, a
 * payload that is not an object. The answer always goes back when an ack was asked for.
 */
export function commandHandler(socket: Socket, bucket: TokenBucket, run: (actor: Actor, input: unknown) => Promise<object>, name?: string) {
  return async (...args: unknown[]) => {
    const ack = typeof args.at(-1) === 'function' ? (args.at(-1) as Ack) : undefined;
    const input = typeof args[0] === 'function' ? undefined : args[0];
    const allowed = bucket.take();
    if (!allowed.ok) {
      const refused = ackError(socket, new TooManyRequests('live.rateLimited'));
      ack?.({ ...refused, error: { ...refused.error, retryAfterMs: allowed.retryAfterMs } });
      return;
    }
    try {
      // The asker is asked again at each command (realtime/askers.ts): a rotated link or a
      // changed role is refused here too, and the socket is cut off.
      const actor = await recheckAsker(socket);
      const result = await run(actor, input);
      ack?.({ ok: true, ...result });
    } catch (error) {
      ack?.(ackError(socket, error, name));
    }
  };
}

export function attachLiveCommands(socket: Socket, bucket: TokenBucket): void {
  for (const [name, action] of Object.entries(liveActions)) socket.on(name, commandHandler(socket, bucket, action, name));
}

// ---------------------------------------------------------------------------------------------
// Presence

/**
 * A site's screens are the coordinator sockets in its room, on every instance (the adapter asks
 * them): one question for all the sites asked about, each socket answering with its rooms (with
 * several instances a question is a round trip to each of them over Redis).
 */
export function watchSitePresence(io: Server): void {
  setConnectedSitesSource(async (meetingId, siteIds) => {
    const rooms = new Map(siteIds.map((siteId) => [siteRoom(meetingId, siteId), siteId]));
    if (rooms.size === 0) return new Set();
    const connected = new Set<string>();
    for (const socket of await io.in([...rooms.keys()]).fetchSockets()) {
      for (const room of socket.rooms) {
        const siteId = rooms.get(room);
        if (siteId) connected.add(siteId);
      }
    }
    return connected;
  });
}

/** Per instance: the presence writes still running, and whether it is stopping. */
const presenceOf = new WeakMap<Server, { writes: Set<Promise<void>>; stopping: boolean }>();

function presence(io: Server): { writes: Set<Promise<void>>; stopping: boolean } {
  let state = presenceOf.get(io);
  if (!state) presenceOf.set(io, (state = { writes: new Set(), stopping: false }));
  return state;
}

/** Called once a coordinator's screen is in its site room. */
export function siteScreenOpened(io: Server, meetingId: string, siteId: string, logger: Logger): void {
  trackPresence(io, meetingId, siteId, logger);
}

/** After a coordinator's screen left: the site is gone once no screen of it is left anywhere. */
export function siteScreenClosed(io: Server, meetingId: string, siteId: string, logger: Logger): void {
  // An instance that is stopping does not mark its sites gone: their screens reconnect (to another
  // instance, or to this one restarted), and the next snapshot corrects what the store says.
  if (presence(io).stopping) return;
  trackPresence(io, meetingId, siteId, logger);
}

function trackPresence(io: Server, meetingId: string, siteId: string, logger: Logger): void {
  const { writes } = presence(io);
  const write = settleSitePresence(meetingId, siteId).catch((error: unknown) => logger.error({ err: error }, 'could not record site presence'));
  writes.add(write);
  void write.finally(() => writes.delete(write));
}

/** The instance stops (`closeSockets`): no new presence writes, and the running ones finish. */
export async function stopPresence(io: Server, closeSockets: () => Promise<void>): Promise<void> {
  const state = presence(io);
  state.stopping = true;
  await closeSockets();
  await Promise.all([...state.writes]);
}
