// HTTP for the day: the snapshot, and every live command as POST (the same actions as the
// socket events, for a kiosk or a script in any language). See docs/api/live.md.
import { Router } from 'express';
import { isLiveCommand, liveActions } from './commands.js';
import { getLiveSnapshot } from './queries.js';
import { actorOf, localeOf, notFoundForMalformedIds, toErrorBody } from '../lib/http.js';
import { AppError, NotFound, TooManyRequests } from '../lib/errors.js';
import { BoundedMap } from '../lib/bounded-map.js';
import { TokenBucket } from '../lib/token-bucket.js';
import type { Actor } from '../lib/actor.js';

/** The same budget as a socket's (realtime/live.ts): a script posting commands in a loop cannot slow the others. */
const httpBurst = 60;
const httpPerSecond = 20;
const buckets = new BoundedMap<string, TokenBucket>(10_000, { ttlMs: 10 * 60_000 });

/** One bucket per asker (an account, a site's link, an attendee's link), or per address for nobody. */
function bucketOf(actor: Actor, address: string | undefined): TokenBucket {
  const key =
    actor.kind === 'organizer' ? `user:${actor.userId}` : actor.kind === 'coordinator' ? `site:${actor.siteId}` : actor.kind === 'anonymous' ? `address:${address ?? ''}` : `attendee:${actor.attendeeId}`;
  let bucket = buckets.get(key);
  if (!bucket) {
    bucket = new TokenBucket(httpBurst, httpPerSecond);
    buckets.set(key, bucket);
  }
  return bucket;
}

export function liveRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  router.get('/api/v1/meetings/:meetingId/live', async (req, res) => {
    const snapshot = await getLiveSnapshot(actorOf(res), req.params.meetingId);
    res.set('cache-control', 'no-store').json(snapshot);
  });

  router.post('/api/v1/meetings/:meetingId/live/commands/:name', async (req, res) => {
    const name = req.params.name;
    if (!isLiveCommand(name)) throw new NotFound();
    const allowed = bucketOf(actorOf(res), req.ip).take();
    if (!allowed.ok) {
      const busy = new TooManyRequests('live.rateLimited');
      busy.retryAfterMs = allowed.retryAfterMs;
      res.status(429).set('retry-after', String(Math.ceil(allowed.retryAfterMs / 1000))).json({ ok: false, ...toErrorBody(busy, localeOf(res)) });
      return;
    }
    const body = typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
    try {
      const result = await liveActions[name](actorOf(res), { ...body, meetingId: req.params.meetingId });
      res.json({ ok: true, ...result });
    } catch (error) {
      // The same answer as the socket ack: { ok: false, error }, with the error's status.
      if (!(error instanceof AppError)) throw error;
      res.status(error.status).json({ ok: false, ...toErrorBody(error, localeOf(res)) });
    }
  });

  return router;
}
