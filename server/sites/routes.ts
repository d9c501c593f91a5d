// HTTP for sites: the organizer's sites page (add, edit, one-click districts, main site, order,
// coordinator links), the coordinator's home /my/site, and the JSON API. Changes go through
// ./actions.ts; reads are shaped per asker by ./queries.ts.
import { Router, type Request, type Response } from 'express';
import {
  addProvinceDistricts,
  addSite,
  moveSite,
  removeSite,
  reorderSites,
  rotateCoordinatorLink,
  setMainSite,
  updateSite,
} from './actions.js';
import { getCoordinatorHome, getSite, getSitesPage, listSites, siteView, type SiteView } from './queries.js';
import { provinces } from './provinces.js';
import { getMeeting } from '../meetings/queries.js';
import { setFlash, takeFlash } from '../lib/flash.js';
import { absoluteUrl, actorOf, fieldErrors, localeOf, translate, notFoundForMalformedIds, redirectWithRefusal } from '../lib/http.js';
import { Invalid } from '../lib/errors.js';
import { requireOrganizer } from '../lib/actor.js';

type Body = Record<string, unknown>;

const siteFormFields = ['name', 'address', 'coordinatorName', 'coordinatorPhone', 'expectedHeadcount'] as const;
const contactFormFields = ['coordinatorName', 'coordinatorPhone'] as const;
const videoLinkFields = ['platform', 'url', 'roomId', 'passcode', 'notes'] as const;

/** Form fields as action input: "videoLink.url" inputs become `videoLink: { url }`. */
function siteInput(body: unknown, fields: readonly string[]): Body {
  const source = (body ?? {}) as Body;
  const input: Body = {};
  for (const key of fields) if (key in source) input[key] = source[key];
  const videoLink: Body = {};
  for (const key of videoLinkFields) if (`videoLink.${key}` in source) videoLink[key] = source[`videoLink.${key}`];
  if (Object.keys(videoLink).length > 0) input.videoLink = videoLink;
  return input;
}

/** The same shape back, for re-filling a form after a validation error. */
function formValues(site: Partial<SiteView> | Body): Body {
  const values: Body = { ...site };
  const videoLink = (site as SiteView).videoLink ?? ((site as Body).videoLink as Body | undefined) ?? {};
  for (const key of videoLinkFields) values[`videoLink.${key}`] = (videoLink as Body)[key] ?? '';
  return values;
}

function sitesPath(meetingId: string): string {
  return `/meetings/${meetingId}/sites`;
}

async function renderSitesPage(req: Request, res: Response, meetingId: string, extra: { values?: Body; errors?: Record<string, string>; status?: number; flashError?: string } = {}) {
  const actor = actorOf(res);
  const { meeting, sites, can } = await getSitesPage(actor, meetingId);
  const last = sites.length - 1;
  const flash = takeFlash(req);
  res.status(extra.status ?? 200).render('sites/list', {
    title: translate(res, 'sites.pageTitle', { meeting: meeting.title }),
    meeting: { ...meeting, id: String(meeting._id) },
    sites: sites.map((site, index) => ({
      ...site,
      position: index + 1,
      isFirst: index === 0,
      isLast: index === last,
      coordinatorUrl: site.coordinatorLink ? absoluteUrl(req, site.coordinatorLink) : '',
      others: sites.filter((other) => other.id !== site.id).map((other) => ({ id: other.id, name: other.name })),
    })),
    hasMainSite: sites.some((site) => site.isMain),
    can,
    provinces: provinces.map((province) => ({ code: province.code, name: province.name, count: province.districts.length })),
    values: extra.values ?? {},
    errors: extra.errors ?? {},
    flash: flash.flash,
    flashError: extra.flashError ?? flash.flashError,
    scripts: ['sites-list'],
  });
}

async function renderEditPage(res: Response, meetingId: string, siteId: string, extra: { values?: Body; errors?: Record<string, string>; status?: number } = {}) {
  const actor = actorOf(res);
  requireOrganizer(actor);
  const [meeting, site] = await Promise.all([getMeeting(actor, meetingId), getSite(actor, siteId, meetingId)]);
  res.status(extra.status ?? 200).render('sites/edit', {
    title: translate(res, 'sites.editTitle'),
    meeting: { ...meeting, id: String(meeting._id) },
    site,
    values: extra.values ?? formValues(site),
    errors: extra.errors ?? {},
  });
}

async function renderMySite(req: Request, res: Response, extra: { values?: Body; errors?: Record<string, string>; status?: number } = {}) {
  const { site, meeting } = await getCoordinatorHome(actorOf(res));
  res.status(extra.status ?? 200).render('sites/my-site', {
    title: translate(res, 'mySite.title'),
    site,
    meeting: { ...meeting, id: String(meeting._id) },
    values: extra.values ?? formValues(site),
    errors: extra.errors ?? {},
    ...takeFlash(req),
  });
}

export function sitesRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  // ---- Organizer pages ----------------------------------------------------------------------

  router.get('/meetings/:meetingId/sites', async (req, res) => {
    await renderSitesPage(req, res, req.params.meetingId);
  });

  router.post('/meetings/:meetingId/sites', async (req, res) => {
    const { meetingId } = req.params;
    const input = { ...siteInput(req.body, siteFormFields), isMain: req.body?.isMain };
    try {
      const site = await addSite(actorOf(res), { ...input, meetingId });
      setFlash(req, translate(res, 'sites.flash.added', { name: site.name }));
      res.redirect(303, `${sitesPath(meetingId)}#site-${String(site._id)}`);
    } catch (error) {
      if (!(error instanceof Invalid)) return redirectWithRefusal(req, res, error, sitesPath(meetingId));
      await renderSitesPage(req, res, meetingId, { values: formValues(input), errors: fieldErrors(error, localeOf(res)), status: 422 });
    }
  });

  router.post('/meetings/:meetingId/sites/add-districts', async (req, res) => {
    const { meetingId } = req.params;
    try {
      const result = await addProvinceDistricts(actorOf(res), { meetingId, provinceCode: req.body?.provinceCode });
      setFlash(req, result.created.length > 0 ? translate(res, 'sites.flash.districtsAdded', { count: result.created.length }) : translate(res, 'sites.flash.districtsNone'));
      res.redirect(303, sitesPath(meetingId));
    } catch (error) {
      redirectWithRefusal(req, res, error, sitesPath(meetingId));
    }
  });

  router.get('/meetings/:meetingId/sites/:siteId/edit', async (req, res) => {
    await renderEditPage(res, req.params.meetingId, req.params.siteId);
  });

  router.post('/meetings/:meetingId/sites/:siteId/edit', async (req, res) => {
    const { meetingId, siteId } = req.params;
    const input = siteInput(req.body, siteFormFields);
    try {
      await updateSite(actorOf(res), { ...input, meetingId, siteId });
      setFlash(req, translate(res, 'sites.flash.updated'));
      res.redirect(303, `${sitesPath(meetingId)}#site-${siteId}`);
    } catch (error) {
      if (!(error instanceof Invalid)) return redirectWithRefusal(req, res, error, sitesPath(meetingId));
      await renderEditPage(res, meetingId, siteId, { values: formValues(input), errors: fieldErrors(error, localeOf(res)), status: 422 });
    }
  });

  router.post('/meetings/:meetingId/sites/:siteId/main', async (req, res) => {
    const { meetingId, siteId } = req.params;
    try {
      const site = await setMainSite(actorOf(res), { meetingId, siteId });
      setFlash(req, translate(res, 'sites.flash.mainSet', { name: site.name }));
      res.redirect(303, sitesPath(meetingId));
    } catch (error) {
      redirectWithRefusal(req, res, error, sitesPath(meetingId));
    }
  });

  router.post('/meetings/:meetingId/sites/:siteId/move', async (req, res) => {
    const { meetingId, siteId } = req.params;
    try {
      await moveSite(actorOf(res), { meetingId, siteId, direction: req.body?.direction });
      res.redirect(303, `${sitesPath(meetingId)}#site-${siteId}`);
    } catch (error) {
      redirectWithRefusal(req, res, error, sitesPath(meetingId));
    }
  });

  router.post('/meetings/:meetingId/sites/:siteId/rotate-link', async (req, res) => {
    const { meetingId, siteId } = req.params;
    const site = await rotateCoordinatorLink(actorOf(res), { meetingId, siteId });
    setFlash(req, translate(res, 'sites.flash.linkRotated', { name: site.name }));
    res.redirect(303, `${sitesPath(meetingId)}#site-${siteId}`);
  });

  router.post('/meetings/:meetingId/sites/:siteId/delete', async (req, res) => {
    const { meetingId, siteId } = req.params;
    try {
      await removeSite(actorOf(res), { meetingId, siteId, reassignTo: req.body?.reassignTo });
      setFlash(req, translate(res, 'sites.flash.removed'));
      res.redirect(303, sitesPath(meetingId));
    } catch (error) {
      redirectWithRefusal(req, res, error, `${sitesPath(meetingId)}#site-${siteId}`);
    }
  });

  // ---- Coordinator home ---------------------------------------------------------------------

  router.get('/my/site', async (req, res) => {
    await renderMySite(req, res);
  });

  router.post('/my/site', async (req, res) => {
    const actor = actorOf(res);
    const input = siteInput(req.body, contactFormFields);
    try {
      const { site } = await getCoordinatorHome(actor);
      await updateSite(actor, { ...input, meetingId: site.meetingId, siteId: site.id });
      setFlash(req, translate(res, 'mySite.saved'));
      res.redirect(303, '/my/site');
    } catch (error) {
      if (!(error instanceof Invalid)) return redirectWithRefusal(req, res, error, '/my/site');
      await renderMySite(req, res, { values: formValues(input), errors: fieldErrors(error, localeOf(res)), status: 422 });
    }
  });

  // ---- JSON API -----------------------------------------------------------------------------

  router.get('/api/v1/provinces', (_req, res) => {
    res.json(provinces.map((province) => ({ code: province.code, name: province.name, mainSite: province.mainSite, districts: province.districts })));
  });

  router.get('/api/v1/meetings/:meetingId/sites', async (req, res) => {
    res.json(await listSites(actorOf(res), req.params.meetingId));
  });

  router.post('/api/v1/meetings/:meetingId/sites', async (req, res) => {
    const actor = actorOf(res);
    const site = await addSite(actor, { ...(req.body ?? {}), meetingId: req.params.meetingId });
    res.status(201).location(`/api/v1/meetings/${req.params.meetingId}/sites/${String(site._id)}`).json(siteView(actor, site));
  });

  router.post('/api/v1/meetings/:meetingId/sites/add-districts', async (req, res) => {
    const actor = actorOf(res);
    const result = await addProvinceDistricts(actor, { ...(req.body ?? {}), meetingId: req.params.meetingId });
    res.status(result.created.length > 0 ? 201 : 200).json({
      created: result.created.map((site) => siteView(actor, site)),
      skipped: result.skipped,
      mainSiteId: result.mainSite ? String(result.mainSite._id) : null,
    });
  });

  router.put('/api/v1/meetings/:meetingId/sites/order', async (req, res) => {
    const actor = actorOf(res);
    const sites = await reorderSites(actor, { ...(req.body ?? {}), meetingId: req.params.meetingId });
    res.json(sites.map((site) => siteView(actor, site)));
  });

  router.get('/api/v1/meetings/:meetingId/sites/:siteId', async (req, res) => {
    res.json(await getSite(actorOf(res), req.params.siteId, req.params.meetingId));
  });

  router.patch('/api/v1/meetings/:meetingId/sites/:siteId', async (req, res) => {
    const actor = actorOf(res);
    const site = await updateSite(actor, { ...(req.body ?? {}), meetingId: req.params.meetingId, siteId: req.params.siteId });
    res.json(siteView(actor, site));
  });

  router.delete('/api/v1/meetings/:meetingId/sites/:siteId', async (req, res) => {
    const reassignTo = (req.body as Body | undefined)?.reassignTo ?? req.query.reassignTo;
    const result = await removeSite(actorOf(res), { meetingId: req.params.meetingId, siteId: req.params.siteId, reassignTo });
    res.json({ id: String(result.removed._id), reassigned: result.reassigned });
  });

  router.post('/api/v1/meetings/:meetingId/sites/:siteId/main', async (req, res) => {
    const actor = actorOf(res);
    const site = await setMainSite(actor, { meetingId: req.params.meetingId, siteId: req.params.siteId });
    res.json(siteView(actor, site));
  });

  router.post('/api/v1/meetings/:meetingId/sites/:siteId/rotate-link', async (req, res) => {
    const actor = actorOf(res);
    const site = await rotateCoordinatorLink(actor, { meetingId: req.params.meetingId, siteId: req.params.siteId });
    res.json(siteView(actor, site));
  });

  router.get('/api/v1/my/site', async (req, res) => {
    const { site, meeting } = await getCoordinatorHome(actorOf(res));
    res.json({ site, meeting: { id: String(meeting._id), title: meeting.title, startsAt: meeting.startsAt.toISOString(), endsAt: meeting.endsAt.toISOString(), timeZone: meeting.timeZone, status: meeting.status, publicId: meeting.publicId } });
  });

  router.patch('/api/v1/my/site', async (req, res) => {
    const actor = actorOf(res);
    const { site } = await getCoordinatorHome(actor);
    const updated = await updateSite(actor, { ...(req.body ?? {}), meetingId: site.meetingId, siteId: site.id });
    res.json(siteView(actor, updated));
  });

  return router;
}
