// HTTP adapter of the calendar part: .ics downloads (public, personal, speaker slot, site), the
// subscription feeds /calendar/feeds/:token.ics, the RSVP and feed forms, the organizer's
// calendar page, and their JSON twins under /api/v1.
import './messages.js';
import { createHash } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { actorOf, fieldErrors, localeOf, notFoundForMalformedIds, translate } from '../lib/http.js';
import { AppError, Conflict, Invalid, NotFound } from '../lib/errors.js';
import { renderMyPage } from '../attendees/routes.js';
import { t } from '../lib/i18n.js';
import { queueInvitations, regenerateFeed, respondToInvitation, revokeFeed } from './actions.js';
import { downloadIcs, entryLinks, feedIcs, slotIcs } from './ics.js';
import { coordinatorEntry, feedByToken, feedLinks, invitationStatus, organizerCalendarPage, personalEntry, publicEntry, rsvpSummaryFor } from './queries.js';
import { liveLinks, myCalendarPanel, siteCalendarPanel } from './pages.js';
import { baseUrlFor, calendarSettings } from './settings.js';
import { setFlash, takeFlash } from '../lib/flash.js';

type Body = Record<string, unknown>;

function origin(req: Request): string {
  return baseUrlFor(`${req.protocol}://${req.get('host')}`);
}

/** "Hội nghị Tổng kết 2021" -> "hoi-nghi-tong-ket-2021.ics" (and the UTF-8 name for browsers that read it). */
function attachmentName(title: string): { ascii: string; utf8: string } {
  const ascii =
    title
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[đĐ]/g, 'd')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'calendar';
  return { ascii: `${ascii}.ics`, utf8: `${title.replace(/[\\/:*?"<>|\r\n]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 120) || 'calendar'}.ics` };
}

/** A filename* value (RFC 8187): encodeURIComponent leaves ' ( ) * as they are, which are not attr-chars (a ' ends the language part). */
function rfc8187(text: string): string {
  return encodeURIComponent(text).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Sends an iCalendar body with validators: a strong ETag of the bytes and Last-Modified of the
 * data, answering If-None-Match (preferred) or If-Modified-Since with 304.
 */
function sendCalendar(req: Request, res: Response, body: string, options: { lastModified?: Date; filename?: string; feed?: boolean }): void {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
  res.setHeader('Content-Type', 'text/calendar; charset=utf-8');
  res.setHeader('ETag', etag);
  // Personal data and capability URLs: never in a shared cache; always revalidated.
  res.setHeader('Cache-Control', 'private, no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  const lastModified = options.lastModified && options.lastModified.getTime() > 0 ? new Date(Math.floor(options.lastModified.getTime() / 1000) * 1000) : undefined;
  if (lastModified) res.setHeader('Last-Modified', lastModified.toUTCString());
  if (options.filename) {
    const { ascii, utf8 } = attachmentName(options.filename);
    res.setHeader('Content-Disposition', `${options.feed ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${rfc8187(utf8)}`);
  }
  const ifNoneMatch = req.get('if-none-match');
  const ifModifiedSince = req.get('if-modified-since');
  const notModified = ifNoneMatch
    ? ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*')
    : Boolean(ifModifiedSince && lastModified && !Number.isNaN(Date.parse(ifModifiedSince)) && lastModified.getTime() <= Date.parse(ifModifiedSince));
  if (notModified) {
    res.status(304).end();
    return;
  }
  res.status(200).send(body);
}

function icsContext(req: Request, res: Response) {
  return { locale: localeOf(res), baseUrl: origin(req), organizerEmail: calendarSettings().mailFrom };
}

export function calendarRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  // ---- downloads ---------------------------------------------------------------------------

  router.get('/p/:publicId/calendar.ics', async (req, res) => {
    const entry = await publicEntry(String(req.params.publicId));
    sendCalendar(req, res, downloadIcs(entry, icsContext(req, res)), { lastModified: entry.meeting.updatedAt, filename: entry.meeting.title });
  });

  router.get('/my/calendar.ics', async (req, res) => {
    const { entry } = await personalEntry(actorOf(res));
    sendCalendar(req, res, downloadIcs(entry, icsContext(req, res)), { lastModified: entry.meeting.updatedAt, filename: entry.meeting.title });
  });

  router.get('/my/calendar/slots/:itemId.ics', async (req, res) => {
    const { entry } = await personalEntry(actorOf(res));
    const body = slotIcs(entry, String(req.params.itemId), icsContext(req, res));
    if (!body) throw new NotFound('error.notFound');
    sendCalendar(req, res, body, { lastModified: entry.meeting.updatedAt, filename: entry.meeting.title });
  });

  router.get('/my/site/calendar.ics', async (req, res) => {
    const { entry } = await coordinatorEntry(actorOf(res));
    sendCalendar(req, res, downloadIcs(entry, icsContext(req, res)), { lastModified: entry.meeting.updatedAt, filename: entry.meeting.title });
  });

  // ---- feeds (the token is the only credential; a wrong or revoked one is an ordinary 404) ---

  router.get('/calendar/feeds/:token.ics', async (req, res) => {
    let content;
    try {
      content = await feedByToken(String(req.params.token));
    } catch (error) {
      if (error instanceof NotFound) throw new NotFound();
      throw error;
    }
    const locale = localeOf(res);
    const name = t(locale, `calendar.feed.${content.scope}`, { name: content.name });
    // No Last-Modified: a feed also changes when a meeting or someone's record leaves it, which no
    // date it still lists shows (the latest of them can even go back), so If-Modified-Since would
    // answer 304 and the subscriber keep the meeting. The ETag of the bytes is exact.
    sendCalendar(req, res, feedIcs(name, content.entries, icsContext(req, res)), { filename: name, feed: true });
  });

  // ---- the attendee's page: RSVP and their feed --------------------------------------------

  router.post('/my/rsvp', async (req, res) => {
    const body = (req.body ?? {}) as Body;
    try {
      await respondToInvitation(actorOf(res), { ...body, locale: localeOf(res) });
    } catch (error) {
      if (error instanceof Invalid) {
        // The attendee's page again, with the answer they typed and the message next to each field.
        res.locals.rsvpForm = { values: body, errors: fieldErrors(error, localeOf(res)) };
        return renderMyPage(req, res, 422);
      }
      if (error instanceof Conflict) {
        res.locals.rsvpForm = { values: body, errors: {}, message: translate(res, error.messageKey, error.params) };
        return renderMyPage(req, res, 409);
      }
      throw error;
    }
    setFlash(req, translate(res, 'calendar.rsvp.saved'));
    res.redirect(303, '/my#rsvp');
  });

  router.post('/my/calendar/feed', async (req, res) => {
    const actor = actorOf(res);
    const meetingId = 'meetingId' in actor ? actor.meetingId : '';
    if ((req.body as Body | undefined)?.action === 'revoke') {
      await revokeFeed(actor, { scope: 'attendee', meetingId });
      setFlash(req, translate(res, 'calendar.feed.revoked'));
    } else {
      await regenerateFeed(actor, { scope: 'attendee', meetingId });
      setFlash(req, translate(res, 'calendar.feed.created'));
    }
    res.redirect(303, '/my#calendar');
  });

  // ---- the coordinator's calendar page -----------------------------------------------------

  router.get('/my/site/calendar', async (req, res) => {
    const panel = await siteCalendarPanel(actorOf(res), origin(req), localeOf(res));
    res.render('calendar/my-site', { title: `${translate(res, 'calendar.title')} · ${panel.site.name}`, ...takeFlash(req), ...panel });
  });

  router.post('/my/site/calendar/feed', async (req, res) => {
    const actor = actorOf(res);
    const ids = actor.kind === 'coordinator' ? { meetingId: actor.meetingId, siteId: actor.siteId } : { meetingId: '' };
    if ((req.body as Body | undefined)?.action === 'revoke') {
      await revokeFeed(actor, { scope: 'site', ...ids });
      setFlash(req, translate(res, 'calendar.feed.revoked'));
    } else {
      await regenerateFeed(actor, { scope: 'site', ...ids });
      setFlash(req, translate(res, 'calendar.feed.created'));
    }
    res.redirect(303, '/my/site/calendar');
  });

  // ---- the organizer's calendar page -------------------------------------------------------

  router.get('/meetings/:meetingId/calendar', async (req, res) => {
    const meetingId = String(req.params.meetingId);
    const page = await organizerCalendarPage(actorOf(res), meetingId);
    const base = origin(req);
    const entry = await publicEntry(page.meeting.publicId);
    res.render('calendar/organizer', {
      title: `${translate(res, 'calendar.title')} · ${page.meeting.title}`,
      scripts: ['calendar-rsvp'],
      ...takeFlash(req),
      meeting: { ...page.meeting, id: meetingId },
      download: `/p/${page.meeting.publicId}/calendar.ics`,
      feedAction: `/meetings/${meetingId}/calendar/feeds`,
      links: liveLinks(page.meeting.status, entryLinks(entry, { baseUrl: base, locale: localeOf(res) }).meeting),
      smtpConfigured: page.smtpConfigured,
      isCancelled: page.meeting.status === 'cancelled',
      isDraft: page.meeting.status === 'draft',
      unitName: page.meeting.organizingUnit,
      hasUnit: Boolean(page.unitKey),
      unitFeed: page.unitFeedToken ? feedLinks(base, page.unitFeedToken) : undefined,
      sites: page.sites.map((site) => ({ ...site, feed: site.feedToken ? feedLinks(base, site.feedToken) : undefined })),
      invitations: page.invitations,
    });
  });

  router.post('/meetings/:meetingId/calendar/feeds', async (req, res) => {
    const meetingId = String(req.params.meetingId);
    const body = (req.body ?? {}) as Body;
    const input = { scope: body.scope, siteId: body.siteId || undefined, meetingId };
    if (body.action === 'revoke') {
      await revokeFeed(actorOf(res), input);
      setFlash(req, translate(res, 'calendar.feed.revoked'));
    } else {
      await regenerateFeed(actorOf(res), input);
      setFlash(req, translate(res, 'calendar.feed.created'));
    }
    res.redirect(303, `/meetings/${meetingId}/calendar#feeds`);
  });

  router.post('/meetings/:meetingId/calendar/invitations', async (req, res) => {
    const meetingId = String(req.params.meetingId);
    try {
      const { queued } = await queueInvitations(actorOf(res), { ...((req.body ?? {}) as Body), meetingId }, { baseUrl: origin(req) });
      setFlash(req, queued > 0 ? translate(res, 'calendar.invite.queued', { count: queued }) : translate(res, 'calendar.invite.nothing'));
    } catch (error) {
      if (!(error instanceof AppError) || error.status === 401 || error.status === 403 || error.status === 404) throw error;
      const fields = error instanceof Invalid ? Object.values(fieldErrors(error, localeOf(res))) : [];
      setFlash(req, fields.length > 0 ? fields.join(' ') : translate(res, error.messageKey, error.params), true);
    }
    res.redirect(303, `/meetings/${meetingId}/calendar#invitations`);
  });

  // ---- JSON API ----------------------------------------------------------------------------

  router.get('/api/v1/my/calendar', async (req, res) => {
    res.json(await myCalendarPanel(actorOf(res), origin(req), localeOf(res)));
  });

  router.post('/api/v1/my/rsvp', async (req, res) => {
    res.json(await respondToInvitation(actorOf(res), req.body ?? {}));
  });

  const myFeed = async (req: Request, res: Response, revoke: boolean) => {
    const actor = actorOf(res);
    const input = { scope: 'attendee', meetingId: 'meetingId' in actor ? actor.meetingId : '' };
    if (revoke) {
      await revokeFeed(actor, input);
      return res.status(204).end();
    }
    const { token } = await regenerateFeed(actor, input);
    res.status(201).json(feedLinks(origin(req), token));
  };
  router.post('/api/v1/my/calendar/feed', (req, res) => myFeed(req, res, false));
  router.delete('/api/v1/my/calendar/feed', (req, res) => myFeed(req, res, true));

  router.get('/api/v1/meetings/:meetingId/calendar', async (req, res) => {
    const page = await organizerCalendarPage(actorOf(res), String(req.params.meetingId));
    const base = origin(req);
    res.json({
      meetingId: String(page.meeting._id),
      calendarSequence: page.meeting.calendarSequence,
      download: `${base}/p/${page.meeting.publicId}/calendar.ics`,
      smtpConfigured: page.smtpConfigured,
      unitFeed: page.unitFeedToken ? feedLinks(base, page.unitFeedToken) : null,
      sites: page.sites.map(({ feedToken, ...site }) => ({ ...site, feed: feedToken ? feedLinks(base, feedToken) : null })),
      invitations: page.invitations,
    });
  });

  router.get('/api/v1/meetings/:meetingId/calendar/rsvps', async (req, res) => {
    res.json({ sites: await rsvpSummaryFor(actorOf(res), String(req.params.meetingId)) });
  });

  router.post('/api/v1/meetings/:meetingId/calendar/feeds', async (req, res) => {
    const { token, scope } = await regenerateFeed(actorOf(res), { ...((req.body ?? {}) as Body), meetingId: String(req.params.meetingId) });
    res.status(201).json({ scope, ...feedLinks(origin(req), token) });
  });

  router.delete('/api/v1/meetings/:meetingId/calendar/feeds', async (req, res) => {
    await revokeFeed(actorOf(res), { ...((req.body ?? {}) as Body), ...(req.query as Body), meetingId: String(req.params.meetingId) });
    res.status(204).end();
  });

  router.post('/api/v1/meetings/:meetingId/invitations', async (req, res) => {
    const meetingId = String(req.params.meetingId);
    const result = await queueInvitations(actorOf(res), { ...((req.body ?? {}) as Body), meetingId }, { baseUrl: origin(req) });
    res.status(202).json(result);
  });

  router.get('/api/v1/meetings/:meetingId/invitations', async (req, res) => {
    const page = await organizerCalendarPage(actorOf(res), String(req.params.meetingId));
    res.json(await invitationStatus(page.meeting));
  });

  return router;
}
