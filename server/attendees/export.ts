// Exporting the attendee table (same filters and scope as the page) to CSV or XLSX, with the
// import's column names and role names, so an exported file can be edited and imported again.
import './messages.js';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { DateTime } from 'luxon';
import type { Actor } from '../lib/actor.js';
import { BadRequest } from '../lib/errors.js';
import { t, type Locale } from '../lib/i18n.js';
import { parseInput } from '../lib/validation.js';
import { AttendeeModel } from './model.js';
import { attendeeFilter, attendeeView, findMeetingFor, listQuerySchema, listSiteOptions } from './queries.js';

export const exportFormats = ['csv', 'xlsx'] as const;
export type ExportFormat = (typeof exportFormats)[number];

const exportColumns = ['fullName', 'position', 'organization', 'email', 'phone', 'site', 'role'] as const;

export interface ExportFile {
  filename: string;
  contentType: string;
  body: Buffer;
}

/**
 * Spreadsheets run a cell starting with = + - @ (or their full-width forms, or after leading
 * blanks), a tab or a line break as a formula (CSV injection): "-1-1-1" computes, "+84 90…" too.
 * Every such cell gets a leading apostrophe, in CSV and XLSX alike (a user re-saving the XLSX as
 * CSV must not arm it); the import strips it again.
 */
export function safeCell(value: string): string {
  return /^(?:[\t\r\n]|\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])/.test(value) ? `'${value}` : value;
}

export async function exportAttendees(actor: Actor, meetingId: string, input: unknown, format: unknown, locale: Locale): Promise<ExportFile> {
  if (!exportFormats.includes(format as ExportFormat)) throw new BadRequest('attendees.import.unsupportedType');
  const meeting = await findMeetingFor(actor, meetingId);
  const query = parseInput(listQuerySchema, input ?? {});
  const filter = attendeeFilter(actor, meetingId, query);
  const sites = new Map((await listSiteOptions(meetingId)).map((site) => [site.id, site.name]));

  const header = exportColumns.map((column) => t(locale, `attendees.${column}`));
  const rows: string[][] = [];
  for await (const doc of AttendeeModel.find(filter, { searchText: 0, searchTokens: 0, __v: 0 }).sort({ searchText: 1, _id: 1 }).lean().cursor()) {
    const view = attendeeView(actor, doc as Parameters<typeof attendeeView>[1]);
    rows.push([view.fullName, view.position, view.organization, view.email ?? '', view.phone ?? '', sites.get(view.siteId) ?? '', t(locale, `attendees.role.${view.role}`)]);
  }

  const stamp = DateTime.fromJSDate(new Date(), { zone: meeting.timeZone }).toFormat('yyyyLLdd-HHmm');
  const base = `${locale === 'vi' ? 'dai-bieu' : 'attendees'}-${stamp}`;
  if (format === 'csv') {
    // The BOM makes Excel read the file as UTF-8; CRLF is what Excel writes itself.
    const text = stringify([header, ...rows.map((row) => row.map(safeCell))], { record_delimiter: 'windows' });
    return { filename: `${base}.csv`, contentType: 'text/csv; charset=utf-8', body: Buffer.from(`\uFEFF${text}`, 'utf8') };
  }
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Bridgepoint';
  const sheet = workbook.addWorksheet(t(locale, 'attendees.title'), { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = header.map((label, index) => ({ header: label, key: exportColumns[index], width: [28, 26, 32, 30, 16, 24, 14][index] }));
  sheet.getRow(1).font = { bold: true };
  // Every cell is a string, never a formula, and phones keep their leading zero.
  for (const row of rows) sheet.addRow(row.map(safeCell));
  sheet.getColumn('phone').numFmt = '@';
  const body = Buffer.from(await workbook.xlsx.writeBuffer());
  return { filename: `${base}.xlsx`, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', body };
}
