// The attendance report as a file: CSV (UTF-8 with a BOM, CRLF, one block per table) or XLSX
// (one worksheet per table, figures as numbers). Text cells go through the attendee export's
// safeCell, so a name like "=HYPERLINK(...)" is never run as a formula.
import './messages.js';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { DateTime } from 'luxon';
import { getAttendanceReport } from './queries.js';
import { reportTables, type Cell } from './tables.js';
import { safeCell, type ExportFile } from '../attendees/export.js';
import type { Actor } from '../lib/actor.js';
import { BadRequest } from '../lib/errors.js';
import { t, type Locale } from '../lib/i18n.js';
import { formatDateTime } from '../lib/time.js';

export const reportFormats = ['csv', 'xlsx'] as const;
export type ReportFormat = (typeof reportFormats)[number];

const textCell = (cell: Cell): string | number => (typeof cell === 'number' ? cell : safeCell(cell ?? ''));

export async function exportAttendanceReport(actor: Actor, meetingId: string, format: unknown, locale: Locale): Promise<ExportFile> {
  if (!reportFormats.includes(format as ReportFormat)) throw new BadRequest('reports.export.invalid');
  const report = await getAttendanceReport(actor, meetingId);
  const { meeting } = report;
  const tables = reportTables(report, locale);
  const heading = [t(locale, 'reports.heading'), meeting.title, formatDateTime(meeting.startsAt, meeting.timeZone, locale)];
  const stamp = DateTime.fromJSDate(report.generatedAt, { zone: meeting.timeZone }).toFormat('yyyyLLdd-HHmm');
  const base = `${t(locale, 'reports.file.base')}-${stamp}`;

  if (format === 'csv') {
    const records: Array<Array<string | number>> = [heading.map(textCell)];
    for (const table of tables) {
      records.push([], [textCell(table.title)], table.columns.map((column) => textCell(column.label)));
      for (const row of [...table.rows, ...(table.total ? [table.total] : [])]) records.push(row.map(textCell));
    }
    // The BOM makes Excel read the file as UTF-8; CRLF is what Excel writes itself.
    const text = stringify(records, { record_delimiter: 'windows' });
    return { filename: `${base}.csv`, contentType: 'text/csv; charset=utf-8', body: Buffer.from(`\uFEFF${text}`, 'utf8') };
  }

  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Bridgepoint';
  workbook.title = `${t(locale, 'reports.heading')}: ${meeting.title}`;
  for (const table of tables) {
    const sheet = workbook.addWorksheet(table.sheet, { views: [{ state: 'frozen', ySplit: 1 }], pageSetup: { paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 } });
    sheet.columns = table.columns.map((column) => ({ header: column.label, key: column.key, width: column.numeric ? 12 : 40 }));
    sheet.getRow(1).font = { bold: true };
    sheet.getRow(1).alignment = { wrapText: true, vertical: 'top' };
    for (const row of table.rows) sheet.addRow(row.map(textCell));
    if (table.total) sheet.addRow(table.total.map(textCell)).font = { bold: true };
  }
  const body = Buffer.from(await workbook.xlsx.writeBuffer());
  return { filename: `${base}.xlsx`, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', body };
}
