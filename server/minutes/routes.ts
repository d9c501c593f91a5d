// HTTP for the minutes: the editor page, a note's history, and the JSON API the editor saves
// through. Every change is one call into ./actions.ts; who may do what is decided there.
import { Router } from 'express';
import { saveMinute } from './actions.js';
import { getMinuteHistory, getMinuteNote, getMinutes } from './queries.js';
import { actorOf, localeOf, notFoundForMalformedIds, pickFields, translate } from '../lib/http.js';
import { t } from '../lib/i18n.js';

export function minutesRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  router.get('/meetings/:meetingId/minutes', async (_req, res) => {
    const { meeting, items } = await getMinutes(actorOf(res), _req.params.meetingId);
    const locale = localeOf(res);
    const meetingId = String(meeting._id);
    res.render('minutes/editor', {
      title: translate(res, 'minutes.title', { meeting: meeting.title }),
      meeting: { ...meeting, id: meetingId },
      items,
      readOnly: meeting.status === 'cancelled',
      pageData: {
        meetingId,
        lang: locale,
        timeZone: meeting.timeZone,
        items: items.map((item) => item.note),
        // The editor's own words, so it needs no second catalogue.
        texts: Object.fromEntries(['saved', 'saving', 'pending', 'offline', 'conflict', 'error'].map((key) => [key, t(locale, `minutes.status.${key}`)])),
        conflictTexts: { theirs: t(locale, 'minutes.conflict.theirs'), useTheirs: t(locale, 'minutes.conflict.useTheirs'), keepMine: t(locale, 'minutes.conflict.keepMine'), lastSaved: t(locale, 'minutes.lastSaved') },
      },
      scripts: ['minutes-editor'],
    });
  });

  router.get('/meetings/:meetingId/minutes/:itemId/history', async (req, res) => {
    const history = await getMinuteHistory(actorOf(res), req.params.meetingId, req.params.itemId);
    res.render('minutes/history', {
      title: translate(res, 'minutes.history.title', { item: history.item.title }),
      meeting: { ...history.meeting, id: String(history.meeting._id) },
      item: history.item,
      versions: history.versions,
    });
  });

  router.get('/api/v1/meetings/:meetingId/minutes', async (req, res) => {
    const { meeting, items } = await getMinutes(actorOf(res), req.params.meetingId);
    res.json({ meetingId: String(meeting._id), revision: meeting.revision, items });
  });

  router.get('/api/v1/meetings/:meetingId/minutes/:itemId', async (req, res) => {
    res.json(await getMinuteNote(actorOf(res), req.params.meetingId, req.params.itemId));
  });

  router.get('/api/v1/meetings/:meetingId/minutes/:itemId/history', async (req, res) => {
    const history = await getMinuteHistory(actorOf(res), req.params.meetingId, req.params.itemId);
    res.json({ item: history.item, versions: history.versions });
  });

  router.put('/api/v1/meetings/:meetingId/minutes/:itemId', async (req, res) => {
    res.json(await saveMinute(actorOf(res), { ...pickFields(req.body, ['text', 'baseVersion', 'saveId']), meetingId: req.params.meetingId, agendaItemId: req.params.itemId }));
  });

  return router;
}
