// HTTP for the day: the snapshot, and every live command as POST (the same actions as the
// socket events, for a kiosk or a script in any language). See docs/api/live.md.
import { Router } from 'express';
import { isLiveCommand, liveActions } from './commands.js';
import { getLiveSnapshot } from './queries.js';
import { actorOf, localeOf, notFoundForMalformedIds, toErrorBody } from '../lib/http.js';
import { AppError, NotFound } from '../lib/errors.js';

export function liveRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  router.get('/api/v1/meetings/:meetingId/live', async (req, res) => {
    const snapshot = await getLiveSnapshot(actorOf(res), req.params.meetingId);
    res.set('cache-control', 'no-store').json(snapshot);
  });

  router.post('/api/v1/meetings/:meetingId/live/commands/:name', async (req, res) => {
    const name = req.params.name;
    if (!isLiveCommand(name)) throw new NotFound();
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
