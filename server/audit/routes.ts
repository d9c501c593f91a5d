// HTTP for the audit trail: the page (newest first, paginated) and the same as JSON.
import { Router } from 'express';
import { getAuditTrail } from './queries.js';
import { actorOf, notFoundForMalformedIds, translate } from '../lib/http.js';

/** Which part of the meeting an event type belongs to, for the page's "what" column. */
export function areaOf(type: string): string {
  const prefix = type.split('.')[0];
  if (prefix === 'agenda' || prefix === 'speakers') return 'agenda';
  if (prefix === 'meeting') return 'meeting';
  if (prefix === 'site' || prefix === 'sites') return 'sites';
  if (prefix === 'attendee') return 'attendees';
  if (prefix === 'attendance') return 'attendance';
  if (prefix === 'directives' || prefix === 'task') return 'tasks';
  if (prefix === 'minutes') return 'minutes';
  if (prefix === 'summary') return 'summary';
  return 'other';
}

export function auditRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  router.get('/meetings/:meetingId/audit', async (req, res) => {
    const trail = await getAuditTrail(actorOf(res), req.params.meetingId, { page: req.query.page });
    const meetingId = String(trail.meeting._id);
    const pageUrl = (page: number) => `/meetings/${meetingId}/audit?page=${page}`;
    res.render('audit/trail', {
      title: translate(res, 'audit.title', { meeting: trail.meeting.title }),
      meeting: { ...trail.meeting, id: meetingId },
      entries: trail.entries.map((entry) => ({ ...entry, kindKey: `audit.kind.${entry.actor.kind}`, areaKeys: [...new Set(entry.events.map((type) => `audit.event.${areaOf(type)}`))] })),
      total: trail.total,
      page: trail.page,
      pageCount: trail.pageCount,
      prevUrl: trail.page > 1 ? pageUrl(trail.page - 1) : undefined,
      nextUrl: trail.page < trail.pageCount ? pageUrl(trail.page + 1) : undefined,
    });
  });

  router.get('/api/v1/meetings/:meetingId/audit', async (req, res) => {
    const trail = await getAuditTrail(actorOf(res), req.params.meetingId, { page: req.query.page });
    res.json({ meetingId: String(trail.meeting._id), page: trail.page, pageCount: trail.pageCount, total: trail.total, entries: trail.entries.map((entry) => ({ ...entry, at: entry.at.toISOString() })) });
  });

  return router;
}
