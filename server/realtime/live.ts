// Socket handlers of the day's commands (docs/api/live.md): each event calls the same action as
// the HTTP command route, always answers an ack when asked for one, and is rate-limited per socket
// (token bucket) so one flooding client cannot slow the others. Also the site presence seen
// through the adapter (all instances) and the "revision" events that keep every screen gap-free.
import '../live/messages.js';
import type { Server, Socket } from 'socket.io';
import type { Logger } from 'pino';
import { liveActions } from '../live/commands.js';
import { recordSitePresence, setConnectedSitesSource } from '../live/presence.js';
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
export function commandHandler(socket: Socket, bucket: TokenBucket, run: (actor: Actor, input: unknown) => Promise<object>) {
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
      ack?.(ackError(socket, error));
    }
  };
}

export function attachLiveCommands(socket: Socket, bucket: TokenBucket): void {
  for (const [name, action] of Object.entries(liveActions)) socket.on(name, commandHandler(socket, bucket, action));
}

// ---------------------------------------------------------------------------------------------
// Presence

/** A site's screens are the coordinator sockets in its room, on every instance (the adapter asks them). */
export function watchSitePresence(io: Server): void {
  setConnectedSitesSource(async (meetingId, siteIds) => {
    const counts = await Promise.all(siteIds.map(async (siteId) => [siteId, (await io.in(siteRoom(meetingId, siteId)).fetchSockets()).length] as const));
    return new Set(counts.filter(([, count]) => count > 0).map(([siteId]) => siteId));
  });
}

/** Called once a coordinator's screen is in its site room. */
export function siteScreenOpened(io: Server, meetingId: string, siteId: string, logger: Logger): void {
  settleSitePresence(io, meetingId, siteId).catch((error: unknown) => logger.error({ err: error }, 'could not record site presence'));
}

/** After a coordinator's screen left: the site is gone once no screen of it is left anywhere. */
export function siteScreenClosed(io: Server, meetingId: string, siteId: string, logger: Logger): void {
  settleSitePresence(io, meetingId, siteId).catch((error: unknown) => logger.error({ err: error }, 'could not record site presence'));
}

/**
 * Records what the site's room holds now, and looks again after every write that changed it: a
 * screen opening while another closes (a phone on a flapping link) may have its write land before
 * or after the other's, and whichever changed the state last then corrects it to what the room is.
 */
async function settleSitePresence(io: Server, meetingId: string, siteId: string): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    const open = (await io.in(siteRoom(meetingId, siteId)).fetchSockets()).length > 0;
    if ((await recordSitePresence(meetingId, siteId, open)) === undefined) return;
  }
}
