// Pages of the conference day: a site's check-in (phone), the organizer's live dashboard, the
// chair's tablet view, wall displays (whole meeting or one site) and the attendee's day page.
// Each page carries the live snapshot it was rendered from, so its script starts without another
// round trip, and inlines its stylesheet: on a slow district link the page shows after one request.
import { Router, type Response } from 'express';
import { attendeeScreen, controlScreen, coordinatorScreen, wallScreen, type Screen } from './queries.js';
import { screenTexts } from './messages.js';
import { assetPath, assetUrl } from '../assets.js';
import { actorOf, localeOf, translate, notFoundForMalformedIds } from '../lib/http.js';

function render(res: Response, view: string, screen: Screen, context: Record<string, unknown>): void {
  const { snapshot } = screen;
  res.render(view, {
    inlineStyles: true,
    meeting: snapshot.meeting,
    live: snapshot,
    text: screenTexts(localeOf(res)),
    isLive: snapshot.meeting.status === 'live',
    isEnded: snapshot.meeting.status === 'ended',
    ...context,
  });
}

export function screensRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  router.get('/meetings/:meetingId/sites/:siteId/checkin', async (req, res) => {
    const screen = await coordinatorScreen(actorOf(res), req.params.meetingId, req.params.siteId);
    render(res, 'screens/checkin', screen, {
      title: translate(res, 'screens.checkin.title', { site: screen.site.name }),
      site: screen.site,
      people: screen.people,
      canCheckIn: screen.canCheckIn,
      // Inlined: on a slow link the page acts and connects one round trip sooner.
      inlineScripts: ['live-checkin'],
      // jsQR is loaded only when someone scans without the browser's own BarcodeDetector.
      decoderUrl: assetUrl('qr-decoder.js'),
    });
  });

  router.get('/meetings/:meetingId/live', async (req, res) => {
    const screen = await controlScreen(actorOf(res), req.params.meetingId);
    render(res, 'screens/dashboard', screen, {
      title: translate(res, 'screens.dashboard.title', { meeting: screen.snapshot.meeting.title }),
      mode: 'dashboard',
      scripts: ['live-dashboard'],
    });
  });

  router.get('/meetings/:meetingId/chair', async (req, res) => {
    const screen = await controlScreen(actorOf(res), req.params.meetingId);
    render(res, 'screens/dashboard', screen, {
      title: translate(res, 'screens.dashboard.chairView'),
      mode: 'chair',
      scripts: ['live-dashboard'],
    });
  });

  router.get('/meetings/:meetingId/wall', async (req, res) => {
    const screen = await wallScreen(actorOf(res), req.params.meetingId);
    render(res, 'screens/wall', screen, wallContext(req.query.theme, screen.snapshot.meeting.title, res));
  });

  router.get('/meetings/:meetingId/sites/:siteId/wall', async (req, res) => {
    const screen = await wallScreen(actorOf(res), req.params.meetingId, req.params.siteId);
    render(res, 'screens/wall', screen, { ...wallContext(req.query.theme, screen.site?.name ?? '', res), site: screen.site });
  });

  // The check-in page's service worker: a fixed URL (browsers update a worker in place), always revalidated.
  router.get('/checkin-sw.js', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('text/javascript').sendFile(assetPath('checkin-sw.js'));
  });

  router.get('/my/live', async (_req, res) => {
    const screen = await attendeeScreen(actorOf(res));
    render(res, 'screens/attendee', screen, {
      title: translate(res, 'screens.attendee.title', { meeting: screen.snapshot.meeting.title }),
      record: screen.record,
      site: screen.site,
      qrSvg: screen.qrSvg,
      inlineScripts: ['live-attendee'],
    });
  });

  return router;
}

/** Projectors: dark by default (readable in a lit hall too), `?theme=light` for bright rooms. */
function wallContext(theme: unknown, name: string, res: Response): Record<string, unknown> {
  return {
    title: translate(res, 'screens.wall.title', { name }),
    layout: 'screen',
    theme: theme === 'light' ? 'light' : 'dark',
    scripts: ['live-wall'],
  };
}
