// HTTP for the summary article: the organizers' editor (forms, no script needed), the public
// article under the meeting's public page (/p/:publicId/summary), and the JSON API. Every change
// is one call into ./actions.ts; who may do what is decided there.
import { Router, type Request, type Response } from 'express';
import { publishSummary, regenerateSummary, saveSummary, unpublishSummary } from './actions.js';
import { articleLocale, getPublishedSummary, getSummary } from './queries.js';
import { articleSnippet, renderArticle } from './render.js';
import { setFlash, takeFlash } from '../lib/flash.js';
import { absoluteUrl, actorOf, fieldErrors, localeOf, notFoundForMalformedIds, pickFields, toErrorBody, translate } from '../lib/http.js';
import { AppError, Invalid } from '../lib/errors.js';
import { formatDateTime } from '../lib/time.js';

const editorPath = (meetingId: string) => `/meetings/${meetingId}/summary`;

/** The editor; after a refused save, with the text that was sent and why it was refused. */
async function renderEditor(req: Request, res: Response, refused?: { text: string; message: string }) {
  const locale = localeOf(res);
  const { meeting, summary, versions, publishedText } = await getSummary(actorOf(res), req.params.meetingId as string, locale);
  const meetingId = String(meeting._id);
  const publicPath = `/p/${meeting.publicId}/summary`;
  const at = (iso: string | null) => (iso ? formatDateTime(new Date(iso), meeting.timeZone, locale) : '');
  res.status(refused ? 422 : 200).render('summary/editor', {
    title: translate(res, 'summary.title', { meeting: meeting.title }),
    meeting: { ...meeting, id: meetingId },
    summary,
    text: refused?.text ?? summary.text,
    refusal: refused?.message,
    readOnly: meeting.status === 'cancelled',
    updatedAt: at(summary.updatedAt),
    publishedAt: summary.published ? at(summary.published.at) : '',
    preview: renderArticle(summary.text),
    snippet: publishedText !== null ? articleSnippet(publishedText, { locale, source: absoluteUrl(req, publicPath), sourceLabel: translate(res, 'summary.public.source', { meeting: meeting.title }) }) : '',
    publicPath,
    versions: versions.map((entry) => ({ ...entry, at: at(entry.at) })),
    ...takeFlash(req),
  });
}

/** A form's change: back to the editor with a message, or the editor again with the refused text. */
async function formChange(req: Request, res: Response, change: () => Promise<unknown>, doneKey: string) {
  try {
    await change();
    setFlash(req, translate(res, doneKey));
    res.redirect(303, editorPath(req.params.meetingId as string));
  } catch (error) {
    if (!(error instanceof AppError) || (error.status !== 409 && !(error instanceof Invalid))) throw error;
    const fields = error instanceof Invalid ? Object.values(fieldErrors(error, localeOf(res))) : [];
    const message = fields.length > 0 ? fields.join(' ') : toErrorBody(error, localeOf(res)).error.message;
    await renderEditor(req, res, { text: typeof req.body?.text === 'string' ? req.body.text : '', message });
  }
}

export function summaryRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  router.get('/meetings/:meetingId/summary', async (req, res) => {
    await renderEditor(req, res);
  });

  router.post('/meetings/:meetingId/summary', async (req, res) => {
    await formChange(req, res, () => saveSummary(actorOf(res), { ...pickFields(req.body, ['text', 'baseVersion']), locale: localeOf(res), meetingId: req.params.meetingId }), 'summary.flash.saved');
  });

  router.post('/meetings/:meetingId/summary/regenerate', async (req, res) => {
    await formChange(req, res, () => regenerateSummary(actorOf(res), { ...pickFields(req.body, ['baseVersion']), locale: localeOf(res), meetingId: req.params.meetingId }), 'summary.flash.regenerated');
  });

  router.post('/meetings/:meetingId/summary/publish', async (req, res) => {
    await formChange(req, res, () => publishSummary(actorOf(res), { ...pickFields(req.body, ['version']), locale: localeOf(res), meetingId: req.params.meetingId }), 'summary.flash.published');
  });

  router.post('/meetings/:meetingId/summary/unpublish', async (req, res) => {
    await formChange(req, res, () => unpublishSummary(actorOf(res), { locale: localeOf(res), meetingId: req.params.meetingId }), 'summary.flash.unpublished');
  });

  router.get('/p/:publicId/summary', async (req, res) => {
    const locale = localeOf(res);
    const article = await getPublishedSummary(req.params.publicId, locale);
    res.render('summary/public', {
      title: translate(res, 'summary.public.title', { meeting: article.meeting.title }),
      meeting: article.meeting,
      articleLocale: article.locale,
      article: renderArticle(article.text),
      publishedAt: formatDateTime(article.publishedAt, article.meeting.timeZone, locale),
    });
  });

  // ---- JSON API -----------------------------------------------------------------------------

  router.get('/api/v1/meetings/:meetingId/summary', async (req, res) => {
    const { meeting, summary, versions } = await getSummary(actorOf(res), req.params.meetingId, articleLocale(req.query.locale, localeOf(res)));
    res.json({ meetingId: String(meeting._id), summary, versions, html: renderArticle(summary.text) });
  });

  router.put('/api/v1/meetings/:meetingId/summary/:locale', async (req, res) => {
    res.json(await saveSummary(actorOf(res), { ...pickFields(req.body, ['text', 'baseVersion']), locale: req.params.locale, meetingId: req.params.meetingId }));
  });

  router.post('/api/v1/meetings/:meetingId/summary/:locale/regenerate', async (req, res) => {
    res.json(await regenerateSummary(actorOf(res), { ...pickFields(req.body, ['baseVersion']), locale: req.params.locale, meetingId: req.params.meetingId }));
  });

  router.post('/api/v1/meetings/:meetingId/summary/:locale/publish', async (req, res) => {
    res.json(await publishSummary(actorOf(res), { ...pickFields(req.body, ['version']), locale: req.params.locale, meetingId: req.params.meetingId }));
  });

  router.post('/api/v1/meetings/:meetingId/summary/:locale/unpublish', async (req, res) => {
    res.json(await unpublishSummary(actorOf(res), { locale: req.params.locale, meetingId: req.params.meetingId }));
  });

  return router;
}
