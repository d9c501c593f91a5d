// HTTP for the attendance report: the page (also its printable form), its CSV/XLSX download and
// the JSON API. Who may see it is decided in ./queries.ts.
import { Router } from 'express';
import { getAttendanceReport, type AttendanceReport } from './queries.js';
import { reportTables, type Cell, type ReportTable } from './tables.js';
import { siteChart } from './chart.js';
import { exportAttendanceReport } from './export.js';
import { actorOf, localeOf, notFoundForMalformedIds, translate } from '../lib/http.js';
import { formatDateTime, formatTime } from '../lib/time.js';

function reportJson(report: AttendanceReport) {
  const { meeting, ...figures } = report;
  return { meetingId: String(meeting._id), title: meeting.title, status: meeting.status, revision: meeting.revision, ...figures };
}

/** A table's cells as the template prints them: each knows whether it is a figure (right-aligned). */
function tableView(table: ReportTable) {
  const cells = (row: Cell[]) => row.map((value, index) => ({ value: value ?? '', numeric: table.columns[index]?.numeric ?? false }));
  return { ...table, rows: table.rows.map(cells), total: table.total ? cells(table.total) : undefined };
}

export function reportsRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  router.get('/meetings/:meetingId/report', async (req, res) => {
    const report = await getAttendanceReport(actorOf(res), req.params.meetingId);
    const locale = localeOf(res);
    const { meeting, agenda } = report;
    const id = String(meeting._id);
    res.render('reports/attendance', {
      title: translate(res, 'reports.title', { meeting: meeting.title }),
      meeting: { ...meeting, id },
      totals: report.totals,
      chart: siteChart(report.sites, locale),
      tables: reportTables(report, locale).map(tableView),
      ended: meeting.status === 'ended',
      generatedAt: formatDateTime(report.generatedAt, meeting.timeZone, locale),
      actualTime: agenda.startedAt ? translate(res, 'reports.actualTime', { from: formatTime(agenda.startedAt, meeting.timeZone), to: agenda.endedAt ? formatTime(agenda.endedAt, meeting.timeZone) : '' }) : '',
      agendaTotals:
        agenda.items.length === 0
          ? ''
          : agenda.actualMinutes === null
            ? translate(res, 'reports.agenda.totalsPlanned', { planned: agenda.plannedMinutes })
            : translate(res, 'reports.agenda.totals', { planned: agenda.plannedMinutes, actual: agenda.actualMinutes }),
      csvUrl: `/meetings/${id}/report/export?format=csv`,
      xlsxUrl: `/meetings/${id}/report/export?format=xlsx`,
    });
  });

  router.get('/meetings/:meetingId/report/export', async (req, res) => {
    const file = await exportAttendanceReport(actorOf(res), req.params.meetingId, req.query.format ?? 'csv', localeOf(res));
    res.attachment(file.filename).type(file.contentType).send(file.body);
  });

  router.get('/api/v1/meetings/:meetingId/report', async (req, res) => {
    res.json(reportJson(await getAttendanceReport(actorOf(res), req.params.meetingId)));
  });

  router.get('/api/v1/meetings/:meetingId/report/export', async (req, res) => {
    const file = await exportAttendanceReport(actorOf(res), req.params.meetingId, req.query.format ?? 'csv', localeOf(res));
    res.attachment(file.filename).type(file.contentType).send(file.body);
  });

  return router;
}
