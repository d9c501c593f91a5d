// HTTP adapter of the attendees part: the table pages, import/export pages, the attendee's own
// home (/my) and the JSON API under /api/v1/meetings/:meetingId/attendees.
import './messages.js';
import { Router, type Request, type Response } from 'express';
import multer from 'multer';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { AppError, BadRequest, Invalid, TooLarge } from '../lib/errors.js';
import { setFlash, takeFlash } from '../lib/flash.js';
import { absoluteUrl, actorOf, fieldErrors, localeOf, translate, notFoundForMalformedIds } from '../lib/http.js';
import { multipartError } from '../lib/request-body.js';
import { t, type Locale } from '../lib/i18n.js';
import { capabilitiesFor } from '../meetings/capabilities.js';
import { createAttendee, moveAttendeeToSite, removeAttendee, rotateAccessToken, updateAttendee } from './actions.js';
import { exportAttendees } from './export.js';
import {
  ImportNotReady,
  commitImport,
  discardImport,
  dropImportRow,
  fixImportRow,
  getImportPreview,
  importColumns,
  maxImportBytes,
  maxImportMb,
  previewImport,
  type ImportPreview,
} from './import.js';
import { attendeeRoles } from './model.js';
import { myCalendarPanel } from '../calendar/pages.js';
import { baseUrlFor } from '../calendar/settings.js';
import {
  attendeeEditForm,
  attendeeSorts,
  findMeetingFor,
  getAttendee,
  listAttendees,
  listOrganizations,
  listSiteOptions,
  myHome,
  type AttendeePage,
  type SiteOption,
} from './queries.js';

// ---------------------------------------------------------------------------------------------
// Small helpers.

type Params = Record<string, string>;

function params(req: Request): Params {
  return req.params as Params;
}

const upload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: maxImportBytes, files: 1, fields: 20, parts: 30 },
  // Browsers send file names as raw UTF-8 ("Danh sách đại biểu.xlsx"), not latin1.
  ...({ defParamCharset: 'utf8' } as object),
}).single('file');

function receiveFile(req: Request, res: Response): Promise<Express.Multer.File | undefined> {
  return new Promise((resolve, reject) => {
    upload(req, res, (error: unknown) => {
      if (error instanceof multer.MulterError) {
        // The other limits (two files, a file under another name, extra fields or parts) are
        // the form's shape, not the file's content: one message in the asker's language.
        if (error.code === 'LIMIT_FILE_SIZE') reject(new TooLarge('attendees.import.tooLarge', { maxMb: maxImportMb }));
        else reject(new BadRequest('attendees.import.oneFile'));
      } else if (error) reject(multipartError());
      else resolve(req.file);
    });
  });
}

function roleOptions(locale: Locale, selected?: string) {
  return attendeeRoles.map((role) => ({ value: role, label: t(locale, `attendees.role.${role}`), selected: role === selected }));
}

function queryString(values: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}


// ---------------------------------------------------------------------------------------------
// The table page, for the whole meeting or one site.

interface TablePageOptions {
  meetingId: string;
  /** Set on /meetings/:meetingId/sites/:siteId/attendees. */
  siteId?: string;
  status?: number;
  addValues?: Record<string, unknown>;
  addErrors?: Record<string, string>;
}

async function renderTable(req: Request, res: Response, options: TablePageOptions): Promise<void> {
  const actor = actorOf(res);
  const locale = localeOf(res);
  if (actor.kind === 'attendee') return res.redirect(303, '/my');
  const meeting = await findMeetingFor(actor, options.meetingId);
  const query = { ...(req.query as Record<string, unknown>), ...(options.siteId ? { siteId: options.siteId } : {}) };
  const [list, sites, organizations] = await Promise.all([
    listAttendees(actor, options.meetingId, query, meeting),
    listSiteOptions(options.meetingId, meeting.revision),
    listOrganizations(actor, options.meetingId, meeting.revision),
  ]);
  const siteNames = new Map(sites.map((site) => [site.id, site.name]));
  const scopedSite = options.siteId ? sites.find((site) => site.id === options.siteId) : undefined;
  const basePath = options.siteId ? `/meetings/${meeting.id}/sites/${options.siteId}/attendees` : `/meetings/${meeting.id}/attendees`;
  const filters = { q: list.query.q, siteId: options.siteId ? undefined : list.query.siteId, organization: list.query.organization, role: list.query.role };
  const sortParam = list.query.sort === 'name' ? undefined : list.query.sort;
  const sizeParam = list.query.pageSize === 50 ? undefined : list.query.pageSize;
  const pageUrl = (page: number) => `${basePath}${queryString({ ...filters, sort: sortParam, pageSize: sizeParam, page: page === 1 ? undefined : page })}`;
  const exportQuery = { ...filters, siteId: list.query.siteId, sort: sortParam };
  const can = capabilitiesFor(actor, meeting);
  const roleLabels = new Map(attendeeRoles.map((role) => [role, t(locale, `attendees.role.${role}`)]));
  // Every row's personal link has the same base: worked out once, not per row.
  const personalLinkBase = absoluteUrl(req, '/a/');
  // On a site's page people are added to that site; a coordinator only ever adds to their own.
  const addSiteId = options.siteId ?? can.ownSiteId;
  const addSites = addSiteId ? sites.filter((site) => site.id === addSiteId) : sites;
  const addValues = options.addValues ?? { siteId: options.siteId ?? can.ownSiteId ?? sites.find((site) => site.isMain)?.id };

  res.status(options.status ?? 200).render('attendees/list', {
    title: scopedSite ? t(locale, 'attendees.siteTitle', { site: scopedSite.name }) : `${t(locale, 'attendees.title')} · ${meeting.title}`,
    scripts: ['attendees-table'],
    ...takeFlash(req),
    meeting,
    scopedSite,
    basePath,
    apiBase: `/api/v1/meetings/${meeting.id}/attendees`,
    // The one site this table shows, if any: live updates drop people who move away from it.
    tableSiteId: options.siteId ?? can.ownSiteId,
    list: {
      ...list,
      // What a row shows, field by field: a literal of fixed shape costs a fraction of spreading each view.
      items: list.items.map((item) => ({
        id: item.id,
        fullName: item.fullName,
        position: item.position,
        organization: item.organization,
        email: item.email,
        phone: item.phone,
        siteId: item.siteId,
        role: item.role,
        siteName: siteNames.get(item.siteId) ?? '',
        roleLabel: roleLabels.get(item.role) ?? item.role,
        link: item.accessToken ? personalLinkBase + item.accessToken : undefined,
      })),
    },
    rowsPath: `/meetings/${meeting.id}/attendees`,
    filters: {
      ...filters,
      sort: list.query.sort,
      sites: sites.map((site) => ({ ...site, selected: site.id === list.query.siteId })),
      organizations: organizations.map((name) => ({ name, selected: name === list.query.organization })),
      roles: roleOptions(locale, list.query.role),
      sorts: attendeeSorts.map((sort) => ({ value: sort, label: t(locale, `attendees.sort.${sort}`), selected: sort === list.query.sort })),
      active: Boolean(filters.q || filters.siteId || filters.organization || filters.role),
    },
    showSiteFilter: !options.siteId && can.filterBySite,
    prevUrl: list.page > 1 ? pageUrl(Math.min(list.page - 1, list.pageCount)) : undefined,
    nextUrl: list.page < list.pageCount ? pageUrl(list.page + 1) : undefined,
    exportCsvUrl: `/meetings/${meeting.id}/attendees/export${queryString({ ...exportQuery, format: 'csv' })}`,
    exportXlsxUrl: `/meetings/${meeting.id}/attendees/export${queryString({ ...exportQuery, format: 'xlsx' })}`,
    can,
    canAdd: can.addAttendees,
    addSites: addSites.map((site) => ({ ...site, selected: site.id === addValues.siteId })),
    addRoles: roleOptions(locale, (addValues.role as string | undefined) ?? 'delegate'),
    values: addValues,
    errors: options.addErrors ?? {},
    // For the inline editor: choices of the select cells, and its messages in the page's language.
    sitesJson: sites.map((site) => ({ value: site.id, label: site.name })),
    rolesJson: roleOptions(locale).map(({ value, label }) => ({ value, label })),
    clientText: {
      saving: t(locale, 'attendees.saving'),
      saved: t(locale, 'attendees.saved'),
      networkError: t(locale, 'attendees.networkError'),
      copied: t(locale, 'attendees.copied'),
      clickToEdit: t(locale, 'attendees.clickToEdit'),
      changed: t(locale, 'attendees.live.changed'),
      reload: t(locale, 'attendees.live.reload'),
    },
  });
}

async function handleAdd(req: Request, res: Response, meetingId: string, siteId?: string): Promise<void> {
  const actor = actorOf(res);
  const input = { ...(req.body as Record<string, unknown>), meetingId, ...(siteId ? { siteId } : {}) };
  try {
    const created = await createAttendee(actor, input);
    setFlash(req, translate(res, 'attendees.added', { name: created.fullName }));
    const back = siteId ? `/meetings/${meetingId}/sites/${siteId}/attendees` : `/meetings/${meetingId}/attendees`;
    res.redirect(303, back);
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    await renderTable(req, res, { meetingId, siteId, status: 422, addValues: req.body as Record<string, unknown>, addErrors: fieldErrors(error, localeOf(res)) });
  }
}

// ---------------------------------------------------------------------------------------------
// The import pages.

function previewForView(preview: ImportPreview, locale: Locale, sites: SiteOption[]) {
  return {
    ...preview,
    columnLabels: importColumns.map((column) => t(locale, `attendees.${column}`)),
    rows: preview.rows.map((row) => ({
      ...row,
      cells: importColumns.map((column) => ({
        column,
        value: row.values[column],
        shown: column === 'site' ? row.values.site || row.resolved.siteName || '' : column === 'role' ? row.values.role || (row.resolved.role ? t(locale, `attendees.role.${row.resolved.role}`) : '') : row.values[column],
        bad: row.problems.some((problem) => problem.field === column),
      })),
      messages: row.problems.map((problem) => t(locale, problem.key, { ...problem.params, ...(problem.params?.column ? { column: t(locale, `attendees.${problem.params.column}`) } : {}) })),
      siteChoices: sites.map((site) => ({ name: site.name })),
    })),
  };
}

async function renderPreview(req: Request, res: Response, meetingId: string, preview: ImportPreview, status = 200, message?: string): Promise<void> {
  const locale = localeOf(res);
  const [meeting, sites] = await Promise.all([findMeetingFor(actorOf(res), meetingId), listSiteOptions(meetingId)]);
  res.status(status).render('attendees/import-preview', {
    title: t(locale, 'attendees.import.previewTitle', { filename: preview.filename }),
    ...(message ? { flashError: message } : takeFlash(req)),
    meeting,
    preview: previewForView(preview, locale, sites),
    siteNames: sites.map((site) => site.name),
    roleNames: attendeeRoles.map((role) => t(locale, `attendees.role.${role}`)),
    ignoredColumns: preview.ignoredColumns.join(', '),
    // A few bad rows are fixed right here, so their forms start open; many mean fixing the file.
    openFixes: preview.bad <= 10,
    basePath: `/meetings/${meetingId}/attendees/import/${preview.draftId}`,
  });
}

async function renderUpload(req: Request, res: Response, meetingId: string, status = 200, uploadError?: string): Promise<void> {
  const meeting = await findMeetingFor(actorOf(res), meetingId);
  res.status(status).render('attendees/import', {
    title: translate(res, 'attendees.import.title'),
    meeting,
    maxMb: maxImportMb,
    maxBytes: maxImportBytes,
    uploadError,
    ...takeFlash(req),
  });
}

// ---------------------------------------------------------------------------------------------

export function attendeesRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  // ----- Pages -----

  router.get('/meetings/:meetingId/attendees', async (req, res) => {
    await renderTable(req, res, { meetingId: params(req).meetingId });
  });

  router.post('/meetings/:meetingId/attendees', async (req, res) => {
    await handleAdd(req, res, params(req).meetingId);
  });

  router.get('/meetings/:meetingId/sites/:siteId/attendees', async (req, res) => {
    await renderTable(req, res, { meetingId: params(req).meetingId, siteId: params(req).siteId });
  });

  router.post('/meetings/:meetingId/sites/:siteId/attendees', async (req, res) => {
    await handleAdd(req, res, params(req).meetingId, params(req).siteId);
  });

  router.get('/meetings/:meetingId/attendees/export', async (req, res) => {
    const file = await exportAttendees(actorOf(res), params(req).meetingId, req.query, req.query.format ?? 'csv', localeOf(res));
    res.attachment(file.filename).type(file.contentType).send(file.body);
  });

  router.get('/meetings/:meetingId/attendees/import', async (req, res) => {
    const meetingId = params(req).meetingId;
    requireOrganizer(actorOf(res));
    await renderUpload(req, res, meetingId);
  });

  router.post('/meetings/:meetingId/attendees/import', async (req, res) => {
    const meetingId = params(req).meetingId;
    try {
      const file = await receiveFile(req, res);
      const preview = await previewImport(actorOf(res), meetingId, file);
      res.redirect(303, `/meetings/${meetingId}/attendees/import/${preview.draftId}`);
    } catch (error) {
      // File problems are shown on the upload form, with the status they deserve (413, 400, 422).
      if (!(error instanceof AppError) || error.status === 401 || error.status === 403 || error.status === 404) throw error;
      await renderUpload(req, res, meetingId, error.status, translate(res, error.messageKey, error.params));
    }
  });

  router.get('/meetings/:meetingId/attendees/import/:draftId', async (req, res) => {
    const { meetingId, draftId } = params(req);
    await renderPreview(req, res, meetingId, await getImportPreview(actorOf(res), meetingId, draftId));
  });

  router.post('/meetings/:meetingId/attendees/import/:draftId/rows/:row', async (req, res) => {
    const { meetingId, draftId, row } = params(req);
    await fixImportRow(actorOf(res), meetingId, draftId, Number(row), req.body);
    res.redirect(303, `/meetings/${meetingId}/attendees/import/${draftId}#row-${row}`);
  });

  router.post('/meetings/:meetingId/attendees/import/:draftId/rows/:row/drop', async (req, res) => {
    const { meetingId, draftId } = params(req);
    await dropImportRow(actorOf(res), meetingId, draftId, Number(params(req).row));
    res.redirect(303, `/meetings/${meetingId}/attendees/import/${draftId}`);
  });

  router.post('/meetings/:meetingId/attendees/import/:draftId/commit', async (req, res) => {
    const { meetingId, draftId } = params(req);
    try {
      const result = await commitImport(actorOf(res), { meetingId, draftId });
      setFlash(req, translate(res, 'attendees.import.committed', { count: result.inserted }));
      res.redirect(303, `/meetings/${meetingId}/attendees`);
    } catch (error) {
      if (!(error instanceof ImportNotReady)) throw error;
      await renderPreview(req, res, meetingId, error.preview, 422, translate(res, error.messageKey, error.params));
    }
  });

  router.post('/meetings/:meetingId/attendees/import/:draftId/discard', async (req, res) => {
    const { meetingId, draftId } = params(req);
    await discardImport(actorOf(res), meetingId, draftId);
    setFlash(req, translate(res, 'attendees.import.discarded'));
    res.redirect(303, `/meetings/${meetingId}/attendees`);
  });

  router.get('/meetings/:meetingId/attendees/:attendeeId/edit', async (req, res) => {
    await renderEdit(req, res);
  });

  router.post('/meetings/:meetingId/attendees/:attendeeId', async (req, res) => {
    const { meetingId, attendeeId } = params(req);
    try {
      const updated = await updateAttendee(actorOf(res), { ...(req.body as object), meetingId, attendeeId });
      setFlash(req, translate(res, 'attendees.saved'));
      res.redirect(303, backToTable(actorOf(res), meetingId, updated.siteId));
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      await renderEdit(req, res, 422, req.body as Record<string, unknown>, fieldErrors(error, localeOf(res)));
    }
  });

  router.post('/meetings/:meetingId/attendees/:attendeeId/delete', async (req, res) => {
    const { meetingId, attendeeId } = params(req);
    const removed = await removeAttendee(actorOf(res), { meetingId, attendeeId });
    setFlash(req, translate(res, 'attendees.deleted', { name: removed.fullName }));
    const back = typeof req.body?.back === 'string' && req.body.back.startsWith(`/meetings/${meetingId}/`) ? req.body.back : backToTable(actorOf(res), meetingId);
    res.redirect(303, back);
  });

  router.post('/meetings/:meetingId/attendees/:attendeeId/rotate-token', async (req, res) => {
    const { meetingId, attendeeId } = params(req);
    const updated = await rotateAccessToken(actorOf(res), { meetingId, attendeeId });
    setFlash(req, translate(res, 'attendees.rotated', { name: updated.fullName }));
    res.redirect(303, `/meetings/${meetingId}/attendees/${attendeeId}/edit`);
  });

  router.get('/my', async (req, res) => {
    const actor = actorOf(res);
    if (actor.kind === 'organizer') return res.redirect(303, '/meetings');
    if (actor.kind === 'coordinator') return res.redirect(303, '/my/site');
    await renderMy(req, res);
  });

  router.post('/my/phone', async (req, res) => {
    const actor = actorOf(res);
    if (actor.kind !== 'attendee' && actor.kind !== 'chair') return res.redirect(303, '/my');
    try {
      await updateAttendee(actor, { meetingId: actor.meetingId, attendeeId: actor.attendeeId, phone: (req.body as Record<string, unknown>)?.phone ?? '' });
      setFlash(req, translate(res, 'attendees.saved'));
      res.redirect(303, '/my');
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      await renderMy(req, res, 422, req.body as Record<string, unknown>, fieldErrors(error, localeOf(res)));
    }
  });

  // ----- JSON API -----
  const api = '/api/v1/meetings/:meetingId/attendees';

  router.get('/api/v1/my', async (_req, res) => {
    res.json(await myHome(actorOf(res)));
  });

  router.get(api, async (req, res) => {
    const { meetingId } = params(req);
    const actor = actorOf(res);
    const page: AttendeePage = await listAttendees(actor, meetingId, req.query);
    const { query: _query, ...body } = page;
    res.json(body);
  });

  router.get(`${api}/organizations`, async (req, res) => {
    res.json({ items: await listOrganizations(actorOf(res), params(req).meetingId) });
  });

  router.get(`${api}/export`, async (req, res) => {
    const file = await exportAttendees(actorOf(res), params(req).meetingId, req.query, req.query.format ?? 'csv', localeOf(res));
    res.attachment(file.filename).type(file.contentType).send(file.body);
  });

  router.post(`${api}/import`, async (req, res) => {
    const { meetingId } = params(req);
    const file = await receiveFile(req, res);
    res.status(201).json(await previewImport(actorOf(res), meetingId, file));
  });

  router.get(`${api}/import/:draftId`, async (req, res) => {
    const { meetingId, draftId } = params(req);
    res.json(await getImportPreview(actorOf(res), meetingId, draftId));
  });

  router.patch(`${api}/import/:draftId/rows/:row`, async (req, res) => {
    const { meetingId, draftId, row } = params(req);
    res.json(await fixImportRow(actorOf(res), meetingId, draftId, Number(row), req.body));
  });

  router.delete(`${api}/import/:draftId/rows/:row`, async (req, res) => {
    const { meetingId, draftId, row } = params(req);
    res.json(await dropImportRow(actorOf(res), meetingId, draftId, Number(row)));
  });

  router.post(`${api}/import/:draftId/commit`, async (req, res) => {
    const { meetingId, draftId } = params(req);
    try {
      res.json(await commitImport(actorOf(res), { meetingId, draftId }));
    } catch (error) {
      if (!(error instanceof ImportNotReady)) throw error;
      const locale = localeOf(res);
      res.status(422).json({
        error: { code: error.code, message: t(locale, error.messageKey, error.params) },
        preview: { ...error.preview, rows: error.preview.rows.map((row) => ({ ...row, messages: row.problems.map((problem) => t(locale, problem.key, problem.params)) })) },
      });
    }
  });

  router.delete(`${api}/import/:draftId`, async (req, res) => {
    const { meetingId, draftId } = params(req);
    await discardImport(actorOf(res), meetingId, draftId);
    res.status(204).end();
  });

  router.post(api, async (req, res) => {
    const { meetingId } = params(req);
    res.status(201).json(await createAttendee(actorOf(res), { ...(req.body as object), meetingId }));
  });

  router.get(`${api}/:attendeeId`, async (req, res) => {
    const { meetingId, attendeeId } = params(req);
    res.json(await getAttendee(actorOf(res), meetingId, attendeeId));
  });

  router.patch(`${api}/:attendeeId`, async (req, res) => {
    const { meetingId, attendeeId } = params(req);
    res.json(await updateAttendee(actorOf(res), { ...(req.body as object), meetingId, attendeeId }));
  });

  router.delete(`${api}/:attendeeId`, async (req, res) => {
    const { meetingId, attendeeId } = params(req);
    res.json(await removeAttendee(actorOf(res), { meetingId, attendeeId }));
  });

  router.post(`${api}/:attendeeId/move`, async (req, res) => {
    const { meetingId, attendeeId } = params(req);
    res.json(await moveAttendeeToSite(actorOf(res), { siteId: (req.body as Record<string, unknown>)?.siteId, meetingId, attendeeId }));
  });

  router.post(`${api}/:attendeeId/rotate-token`, async (req, res) => {
    const { meetingId, attendeeId } = params(req);
    res.json(await rotateAccessToken(actorOf(res), { meetingId, attendeeId }));
  });

  return router;
}

function backToTable(actor: Actor, meetingId: string, siteId?: string): string {
  if (actor.kind === 'coordinator') return `/meetings/${meetingId}/sites/${actor.siteId}/attendees`;
  return siteId && actor.kind !== 'organizer' ? `/meetings/${meetingId}/sites/${siteId}/attendees` : `/meetings/${meetingId}/attendees`;
}

async function renderEdit(req: Request, res: Response, status = 200, values?: Record<string, unknown>, errors: Record<string, string> = {}): Promise<void> {
  const { meetingId, attendeeId } = params(req);
  const actor = actorOf(res);
  const locale = localeOf(res);
  const [meeting, { attendee, siteChoices }] = await Promise.all([findMeetingFor(actor, meetingId), attendeeEditForm(actor, meetingId, attendeeId)]);
  const shown = values ?? { ...attendee };
  res.status(status).render('attendees/edit', {
    title: t(locale, 'attendees.editTitle'),
    scripts: ['attendees-table'],
    ...takeFlash(req),
    meeting,
    attendee,
    values: shown,
    errors,
    sites: siteChoices.map((site) => ({ ...site, selected: site.id === shown.siteId })),
    roles: roleOptions(locale, String(shown.role ?? attendee.role)),
    can: capabilitiesFor(actor, meeting),
    link: attendee.accessToken ? absoluteUrl(req, `/a/${attendee.accessToken}`) : undefined,
    backUrl: backToTable(actor, meetingId, attendee.siteId),
  });
}

/** The attendee's own page; calendar/routes.ts renders it too, when an RSVP needs correcting. */
export async function renderMyPage(req: Request, res: Response, status = 200): Promise<void> {
  await renderMy(req, res, status);
}

async function renderMy(req: Request, res: Response, status = 200, values?: Record<string, unknown>, errors: Record<string, string> = {}): Promise<void> {
  const actor = actorOf(res);
  const [home, calendar] = await Promise.all([myHome(actor), myCalendarPanel(actor, baseUrlFor(`${req.protocol}://${req.get('host')}`), localeOf(res))]);
  const rsvpForm = res.locals.rsvpForm as { values: Record<string, unknown>; errors: Record<string, string>; message?: string } | undefined;
  res.status(status).render('attendees/my', {
    calendar,
    rsvpValues: rsvpForm?.values ?? calendar.rsvp,
    rsvpErrors: rsvpForm?.errors ?? {},
    rsvpMessage: rsvpForm?.message,
    title: translate(res, 'attendees.my.title'),
    ...takeFlash(req),
    ...home,
    roleLabel: translate(res, `attendees.role.${home.attendee.role}`),
    cancelled: home.meeting.status === 'cancelled',
    values: values ?? { phone: home.attendee.phone },
    errors,
  });
}
