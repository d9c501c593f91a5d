// The report as labelled tables (per site, organization, role; the agenda): one shape that the
// page, the CSV and the XLSX all print, so the three always show the same figures and headers.
import './messages.js';
import '../attendees/messages.js';
import type { AttendanceFigures, AttendanceReport } from './queries.js';
import { t, type Locale } from '../lib/i18n.js';
import { formatTime } from '../lib/time.js';

export type Cell = string | number | null;

export interface ReportTable {
  /** Stable name: "sites", "organizations", "roles", "agenda". */
  name: 'sites' | 'organizations' | 'roles' | 'agenda';
  title: string;
  /** Short name for a worksheet tab. */
  sheet: string;
  columns: Array<{ key: string; label: string; numeric: boolean }>;
  rows: Cell[][];
  /** The totals line, when the table has one. */
  total?: Cell[];
}

const siteColumns = ['expected', 'present', 'rate', 'absent', 'sick', 'mission', 'delegate', 'other', 'pending', 'late', 'leftEarly', 'walkIns', 'attended'] as const;
const groupColumns = ['expected', 'present', 'rate', 'absent', 'pending', 'late', 'leftEarly', 'walkIns', 'attended'] as const;
type FigureColumn = (typeof siteColumns)[number];

function figure(figures: AttendanceFigures, column: FigureColumn): number {
  switch (column) {
    case 'sick':
    case 'mission':
    case 'delegate':
    case 'other':
      return figures.absentBy[column];
    default:
      return figures[column];
  }
}

function figureTable(
  name: 'sites' | 'organizations' | 'roles',
  locale: Locale,
  firstColumn: string,
  columns: readonly FigureColumn[],
  lines: Array<{ label: string; figures: AttendanceFigures }>,
  totals: AttendanceFigures | undefined,
): ReportTable {
  return {
    name,
    title: t(locale, name === 'sites' ? 'reports.bySite' : name === 'organizations' ? 'reports.byOrganization' : 'reports.byRole'),
    sheet: t(locale, `reports.sheet.${name}`),
    columns: [{ key: 'name', label: t(locale, `reports.col.${firstColumn}`), numeric: false }, ...columns.map((key) => ({ key, label: t(locale, `reports.col.${key}`), numeric: true }))],
    rows: lines.map((line) => [line.label, ...columns.map((column) => figure(line.figures, column))]),
    ...(totals ? { total: [t(locale, 'reports.total'), ...columns.map((column) => figure(totals, column))] } : {}),
  };
}

function agendaTable(report: AttendanceReport, locale: Locale): ReportTable {
  const zone = report.meeting.timeZone;
  const span = (from: Date | null, to: Date | null) => (from ? `${formatTime(from, zone)}–${to ? formatTime(to, zone) : ''}` : t(locale, 'reports.agenda.notRun'));
  const keys = ['order', 'item', 'plannedTime', 'actualTime', 'plannedMinutes', 'actualMinutes', 'overMinutes'] as const;
  const numeric = new Set<string>(['order', 'plannedMinutes', 'actualMinutes', 'overMinutes']);
  const { agenda } = report;
  return {
    name: 'agenda',
    title: t(locale, 'reports.agenda'),
    sheet: t(locale, 'reports.sheet.agenda'),
    columns: keys.map((key) => ({ key, label: t(locale, `reports.col.${key}`), numeric: numeric.has(key) })),
    rows: agenda.items.map((item) => [item.order + 1, item.title, span(item.plannedStartsAt, item.plannedEndsAt), span(item.actualStartedAt, item.actualEndedAt), item.plannedMinutes, item.actualMinutes, item.overMinutes]),
    ...(agenda.items.length > 0
      ? { total: [null, t(locale, 'reports.total'), null, agenda.startedAt ? span(agenda.startedAt, agenda.endedAt) : null, agenda.plannedMinutes, agenda.actualMinutes, agenda.actualMinutes === null ? null : agenda.actualMinutes - agenda.plannedMinutes] }
      : {}),
  };
}

export function reportTables(report: AttendanceReport, locale: Locale): ReportTable[] {
  return [
    figureTable('sites', locale, 'site', siteColumns, report.sites.map((site) => ({ label: site.name, figures: site })), report.totals),
    figureTable('organizations', locale, 'organization', groupColumns, report.organizations.map((line) => ({ label: line.key || t(locale, 'reports.noOrganization'), figures: line })), undefined),
    figureTable('roles', locale, 'role', groupColumns, report.roles.map((line) => ({ label: t(locale, `attendees.role.${line.key}`), figures: line })), undefined),
    agendaTable(report, locale),
  ];
}
