// Importing an attendee list from a spreadsheet (CSV or XLSX): read the file (encodings, BOM,
// Vietnamese headers), keep the rows as a server-side draft, show every row with its problems,
// let the organizer fix rows, then commit all rows or none.
import './messages.js';
import { Schema, Types, model } from 'mongoose';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { z } from 'zod';
import { requireMeetingViewer, requireOrganizer, type Actor } from '../lib/actor.js';
import { BadRequest, Invalid, NotFound, TooLarge, isDuplicateKeyError } from '../lib/errors.js';
import { publish } from '../lib/events.js';
import type { MessageParams } from '../lib/i18n.js';
import { searchKey } from '../lib/text.js';
import { objectId, parseInput } from '../lib/validation.js';
import { bumpRevision } from '../meetings/actions.js';
import { SiteModel } from '../sites/model.js';
import { fieldSchemas, phonePattern } from './actions.js';
import { AttendeeModel, attendeeRoles, type AttendeeRole } from './model.js';
import { findMeeting, isObjectIdString } from './queries.js';
import { requireOpenMeeting } from '../meetings/queries.js';

export const maxImportBytes = 2 * 1024 * 1024;
export const maxImportMb = maxImportBytes / (1024 * 1024);
export const maxImportRows = 5000;
const draftLifetimeMs = 6 * 3600 * 1000;

export const importColumns = ['fullName', 'position', 'organization', 'email', 'phone', 'site', 'role'] as const;
export type ImportColumn = (typeof importColumns)[number];
export type RowValues = Record<ImportColumn, string>;

// ---------------------------------------------------------------------------------------------
// Column names and role names people actually write, in Vietnamese and English. Matched on
// searchKey (no diacritics, lower case, punctuation dropped), so "HỌ VÀ TÊN (*)" works.

const columnAliases: Record<ImportColumn, string[]> = {
  // Not plain "Đại biểu": that is also a role, and a role cell must never pass for the header.
  fullName: ['ho va ten', 'ho ten', 'ten', 'ho va ten dai bieu', 'ten dai bieu', 'full name', 'fullname', 'name'],
  position: ['chuc vu', 'chuc danh', 'position', 'title', 'job title'],
  organization: ['don vi', 'co quan', 'don vi cong tac', 'co quan don vi', 'organization', 'organisation', 'unit', 'agency'],
  email: ['email', 'e mail', 'thu dien tu', 'dia chi email'],
  phone: ['dien thoai', 'so dien thoai', 'sdt', 'dt', 'di dong', 'phone', 'phone number', 'mobile', 'telephone'],
  site: ['diem cau', 'ten diem cau', 'dia diem', 'site', 'bridge point', 'location'],
  role: ['vai tro', 'role'],
};

/** The labels export writes (= the form's labels) are always among the aliases above. */
export const roleAliases: Record<AttendeeRole, string[]> = {
  chair: ['chair', 'chu tri', 'chu toa', 'chairman', 'chairperson'],
  speaker: ['speaker', 'bao cao vien', 'nguoi bao cao', 'nguoi phat bieu', 'phat bieu', 'presenter'],
  delegate: ['delegate', 'dai bieu', 'attendee', 'participant', 'thanh phan'],
  guest: ['guest', 'khach moi', 'khach'],
  press: ['press', 'bao chi', 'phong vien', 'journalist', 'media'],
};

function headerKey(text: string): string {
  return searchKey(text.replace(/[^\p{L}\p{N}]+/gu, ' '));
}

const columnByAlias = new Map<string, ImportColumn>(importColumns.flatMap((column) => columnAliases[column].map((alias) => [alias, column] as const)));
const roleByAlias = new Map<string, AttendeeRole>(attendeeRoles.flatMap((role) => roleAliases[role].map((alias) => [alias, role] as const)));

export function roleFromText(text: string): AttendeeRole | undefined {
  return roleByAlias.get(headerKey(text));
}

// ---------------------------------------------------------------------------------------------
// Reading the file.

export interface UploadedFile {
  originalname: string;
  buffer: Buffer;
  size: number;
}

interface ParsedSheet {
  /** Each record with its row number as the spreadsheet shows it (header = its own row). */
  records: Array<{ row: number; cells: string[] }>;
}

type FileKind = 'csv' | 'xlsx';

function detectKind(file: UploadedFile): FileKind {
  const head = file.buffer.subarray(0, 8);
  const extension = /\.([a-z0-9]+)$/i.exec(file.originalname)?.[1]?.toLowerCase() ?? '';
  if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    if (extension === 'xlsx' || extension === '' || extension === 'xlsm') return 'xlsx';
    throw new BadRequest('attendees.import.unsupportedType');
  }
  if (head.equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) || extension === 'xls') throw new BadRequest('attendees.import.oldExcel');
  if (extension === 'xlsx') throw new BadRequest('attendees.import.unreadable', { reason: 'not an XLSX file' });
  if (!['csv', 'txt', 'tsv', ''].includes(extension)) throw new BadRequest('attendees.import.unsupportedType');
  return 'csv';
}

/**
 * Spreadsheet text as a string: UTF-8 with or without BOM, or UTF-16 with BOM (Excel's
 * "Unicode text"). Anything else — Windows-1258, TCVN3, VNI — is refused rather than guessed,
 * because a wrong guess silently garbles every Vietnamese name.
 */
export function decodeText(buffer: Buffer): string {
  let text: string;
  if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) text = decodeStrict('utf-8', buffer.subarray(3));
  else if (buffer[0] === 0xff && buffer[1] === 0xfe) text = decodeStrict('utf-16le', buffer.subarray(2));
  else if (buffer[0] === 0xfe && buffer[1] === 0xff) text = decodeStrict('utf-16be', buffer.subarray(2));
  else {
    // NUL bytes in a text file without BOM: UTF-16 we cannot place; say so instead of garbling.
    if (buffer.includes(0)) throw new BadRequest('attendees.import.badEncoding');
    text = decodeStrict('utf-8', buffer);
  }
  return text.normalize('NFC');
}

function decodeStrict(encoding: string, bytes: Buffer): string {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    throw new BadRequest('attendees.import.badEncoding');
  }
}

/** Excel writes "," or ";" (by regional settings) or tabs; the header line tells which. */
function detectDelimiter(text: string): string {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const counts = [',', ';', '\t'].map((delimiter) => [delimiter, firstLine.split(delimiter).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0][1] > 0 ? counts[0][0] : ',';
}

function parseCsvText(text: string): ParsedSheet {
  let records: string[][];
  try {
    records = parseCsv(text, { delimiter: detectDelimiter(text), relax_column_count: true, relax_quotes: true, skip_empty_lines: false }) as string[][];
  } catch (error) {
    throw new BadRequest('attendees.import.unreadable', { reason: (error as Error).message.slice(0, 200) });
  }
  return { records: records.map((cells, index) => ({ row: index + 1, cells })) };
}

function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    if ('richText' in value) return value.richText.map((part) => part.text).join('');
    if ('hyperlink' in value) return typeof value.text === 'string' ? value.text : cellText(value.text as ExcelJS.CellValue);
    if ('formula' in value || 'sharedFormula' in value) return cellText((value as { result?: ExcelJS.CellValue }).result ?? null);
    if ('error' in value) return '';
  }
  return String(value);
}

async function parseXlsx(buffer: Buffer): Promise<ParsedSheet> {
  const workbook = new ExcelJS.Workbook();
  try {
    // exceljs's typings predate Node's generic Buffer; the bytes are what it wants.
    await workbook.xlsx.load(buffer as unknown as ArrayBuffer);
  } catch (error) {
    throw new BadRequest('attendees.import.unreadable', { reason: (error as Error).message.slice(0, 200) });
  }
  const sheet = workbook.worksheets.find((candidate) => candidate.actualRowCount > 0) ?? workbook.worksheets[0];
  if (!sheet) throw new BadRequest('attendees.import.emptyFile');
  const records: ParsedSheet['records'] = [];
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    if (records.length > maxImportRows + 1) return;
    const cells: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell, column) => {
      cells[column - 1] = cellText(cell.value).normalize('NFC');
    });
    records.push({ row: rowNumber, cells: Array.from(cells, (cell) => cell ?? '') });
  });
  return { records };
}

/** What the organizer sees before anything is saved: the mapped columns and every data row. */
export interface ParsedImport {
  columns: ImportColumn[];
  ignoredColumns: string[];
  rows: Array<{ row: number; values: RowValues }>;
}

/** A cell Excel would run as a formula is written with a leading quote on export; undo it here. */
function cleanCell(text: string | undefined): string {
  const value = (text ?? '').replace(/\u00a0/g, ' ').trim();
  return /^'[=+\-@]/.test(value) ? value.slice(1) : value;
}

/** Excel drops the leading 0 of phone numbers typed as numbers (0912… -> 912…); put it back. */
function repairPhone(phone: string): string {
  return /^[1-9]\d{8,9}$/.test(phone) ? `0${phone}` : phone;
}

export async function parseImportFile(file: UploadedFile): Promise<ParsedImport> {
  if (file.size > maxImportBytes || file.buffer.length > maxImportBytes) throw new TooLarge('attendees.import.tooLarge', { maxMb: maxImportMb });
  if (file.buffer.length === 0) throw new BadRequest('attendees.import.emptyFile');
  const kind = detectKind(file);
  const sheet = kind === 'xlsx' ? await parseXlsx(file.buffer) : parseCsvText(decodeText(file.buffer));
  const nonEmpty = sheet.records.filter((record) => record.cells.some((cell) => cleanCell(cell) !== ''));
  if (nonEmpty.length === 0) throw new BadRequest('attendees.import.emptyFile');

  // The header is the first row naming a name column: sheets often start with a title row
  // ("DANH SÁCH ĐẠI BIỂU") or the conference name above the table.
  const headerIndex = nonEmpty.slice(0, 20).findIndex((record) => record.cells.some((cell) => columnByAlias.get(headerKey(cleanCell(cell))) === 'fullName'));
  const header = nonEmpty[Math.max(headerIndex, 0)];
  const data = nonEmpty.slice(Math.max(headerIndex, 0) + 1);
  const columnIndex = new Map<ImportColumn, number>();
  const ignoredColumns: string[] = [];
  header.cells.forEach((cell, index) => {
    const label = cleanCell(cell);
    if (!label) return;
    const column = columnByAlias.get(headerKey(label));
    if (column && !columnIndex.has(column)) columnIndex.set(column, index);
    else if (!['stt', 'tt', 'no', 'so tt', 'number'].includes(headerKey(label))) ignoredColumns.push(label);
  });
  if (!columnIndex.has('fullName')) throw new BadRequest('attendees.import.noNameColumn');
  if (data.length === 0) throw new BadRequest('attendees.import.noRows');
  if (data.length > maxImportRows) throw new BadRequest('attendees.import.tooManyRows', { max: maxImportRows });

  const rows = data.map((record) => {
    const values = Object.fromEntries(
      importColumns.map((column) => {
        const index = columnIndex.get(column);
        return [column, index === undefined ? '' : cleanCell(record.cells[index])];
      }),
    ) as RowValues;
    values.phone = repairPhone(values.phone);
    return { row: record.row, values };
  });
  return { columns: [...columnIndex.keys()], ignoredColumns, rows };
}

// ---------------------------------------------------------------------------------------------
// The draft: the parsed rows kept server-side between preview, fixes and commit.

const draftRowSchema = new Schema(
  {
    row: { type: Number, required: true },
    fullName: { type: String, default: '' },
    position: { type: String, default: '' },
    organization: { type: String, default: '' },
    email: { type: String, default: '' },
    phone: { type: String, default: '' },
    site: { type: String, default: '' },
    role: { type: String, default: '' },
  },
  { _id: false },
);

const importDraftSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    createdBy: { type: String, default: '' },
    filename: { type: String, default: '' },
    columns: { type: [String], default: [] },
    ignoredColumns: { type: [String], default: [] },
    rows: { type: [draftRowSchema], default: [] },
    /** Drafts are scratch data: MongoDB's TTL monitor removes them; loads also refuse expired ones. */
    expiresAt: { type: Date, required: true },
  },
  { timestamps: true },
);
importDraftSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
importDraftSchema.index({ meetingId: 1, createdAt: -1 });

export const ImportDraftModel = model('AttendeeImportDraft', importDraftSchema);

function rowValuesOf(row: { [K in ImportColumn]?: string | null }): RowValues {
  return Object.fromEntries(importColumns.map((column) => [column, row[column] ?? ''])) as RowValues;
}

// ---------------------------------------------------------------------------------------------
// Checking rows against the meeting: sites by name, roles, emails unique in the file and the list.

export interface RowProblem {
  field: ImportColumn;
  key: string;
  params?: MessageParams;
}

export interface CheckedRow {
  row: number;
  values: RowValues;
  ok: boolean;
  problems: RowProblem[];
  /** What the row becomes when committed. */
  resolved: { siteId?: string; siteName?: string; role?: AttendeeRole };
}

export interface ImportPreview {
  draftId: string;
  meetingId: string;
  filename: string;
  columns: ImportColumn[];
  ignoredColumns: string[];
  total: number;
  ok: number;
  bad: number;
  rows: CheckedRow[];
}

/**
 * Site names as people write them: "TP. Sa Đéc" for "Thành phố Sa Đéc", "Điểm cầu huyện Tân Hồng"
 * or just "Tân Hồng" for "Huyện Tân Hồng". Returns the canonical key, then the key without the
 * kind of unit (used only when it is unambiguous).
 */
function siteNameKeys(name: string): string[] {
  const canonical = headerKey(name)
    .replace(/^diem cau\s+/, '')
    .replace(/^tp\s+/, 'thanh pho ')
    .replace(/^tx\s+/, 'thi xa ')
    .replace(/^tt\s+/, 'thi tran ');
  const bare = canonical.replace(/^(huyen|thanh pho|thi xa|quan|thi tran)\s+/, '').trim();
  return bare && bare !== canonical ? [canonical, bare] : [canonical];
}

async function siteMatcher(meetingId: string) {
  const sites = await SiteModel.find({ meetingId }, { name: 1, isMain: 1 }).lean();
  const exact = new Map<string, Array<{ id: string; name: string }>>();
  const loose = new Map<string, Array<{ id: string; name: string }>>();
  for (const site of sites) {
    const entry = { id: String(site._id), name: site.name };
    const [exactKey, ...others] = siteNameKeys(site.name);
    exact.set(exactKey, [...(exact.get(exactKey) ?? []), entry]);
    for (const key of [exactKey, ...others]) loose.set(key, [...(loose.get(key) ?? []), entry]);
  }
  const main = sites.find((site) => site.isMain);
  return (name: string): { site?: { id: string; name: string }; problem?: string } => {
    if (!name) return main ? { site: { id: String(main._id), name: main.name } } : { problem: 'attendees.import.noMainSite' };
    const keys = siteNameKeys(name);
    const exactHits = exact.get(keys[0]);
    if (exactHits?.length === 1) return { site: exactHits[0] };
    // Only a unique loose match counts: Đồng Tháp has both "TP Hồng Ngự" and "huyện Hồng Ngự".
    const candidates = new Map<string, { id: string; name: string }>();
    for (const key of keys) for (const hit of loose.get(key) ?? []) candidates.set(hit.id, hit);
    if (candidates.size === 1) return { site: [...candidates.values()][0] };
    return { problem: candidates.size > 1 ? 'attendees.import.ambiguousSite' : 'attendees.import.unknownSite' };
  };
}

const lengthLimits: Partial<Record<ImportColumn, number>> = { fullName: 200, position: 300, organization: 300, site: 200, role: 100, phone: 40, email: 254 };

export async function checkRows(meetingId: string, rows: Array<{ row: number; values: RowValues }>): Promise<CheckedRow[]> {
  const matchSite = await siteMatcher(meetingId);
  const emails = [...new Set(rows.map((row) => row.values.email.trim().toLowerCase()).filter(Boolean))];
  const existing = new Map<string, string>();
  // In slices, so a 5,000-row file does not become one huge $in.
  for (let start = 0; start < emails.length; start += 500) {
    const found = await AttendeeModel.find({ meetingId, email: { $in: emails.slice(start, start + 500) } }, { email: 1, fullName: 1 }).lean();
    for (const attendee of found) if (attendee.email) existing.set(attendee.email, attendee.fullName);
  }
  const firstRowOfEmail = new Map<string, number>();

  return rows.map(({ row, values }) => {
    const problems: RowProblem[] = [];
    const resolved: CheckedRow['resolved'] = {};
    for (const [column, limit] of Object.entries(lengthLimits) as Array<[ImportColumn, number]>) {
      if (values[column].length > limit) problems.push({ field: column, key: 'attendees.import.tooLong', params: { column } });
    }
    if (!values.fullName.trim()) problems.push({ field: 'fullName', key: 'attendees.import.missingName' });

    const email = values.email.trim().toLowerCase();
    if (email) {
      if (!fieldSchemas.email.safeParse(email).success) problems.push({ field: 'email', key: 'attendees.import.badEmail', params: { email: values.email } });
      else if (firstRowOfEmail.has(email)) problems.push({ field: 'email', key: 'attendees.import.duplicateInFile', params: { email, row: firstRowOfEmail.get(email)! } });
      else if (existing.has(email)) problems.push({ field: 'email', key: 'attendees.import.duplicateExisting', params: { email, name: existing.get(email)! } });
      if (!firstRowOfEmail.has(email)) firstRowOfEmail.set(email, row);
    }
    if (values.phone && !phonePattern.test(values.phone)) problems.push({ field: 'phone', key: 'attendees.import.badPhone', params: { phone: values.phone } });

    const site = matchSite(values.site.trim());
    if (site.site) {
      resolved.siteId = site.site.id;
      resolved.siteName = site.site.name;
    } else problems.push({ field: 'site', key: site.problem!, params: { site: values.site } });

    if (!values.role.trim()) resolved.role = 'delegate';
    else {
      const role = roleFromText(values.role);
      if (role) resolved.role = role;
      else problems.push({ field: 'role', key: 'attendees.import.unknownRole', params: { role: values.role } });
    }
    return { row, values, ok: problems.length === 0, problems, resolved };
  });
}

type DraftDocument = InstanceType<typeof ImportDraftModel>;

async function previewOf(draft: DraftDocument): Promise<ImportPreview> {
  const meetingId = String(draft.meetingId);
  const rows = await checkRows(
    meetingId,
    draft.rows.map((row) => ({ row: row.row, values: rowValuesOf(row) })),
  );
  const bad = rows.filter((row) => !row.ok).length;
  return {
    draftId: String(draft._id),
    meetingId,
    filename: draft.filename ?? '',
    columns: draft.columns as ImportColumn[],
    ignoredColumns: draft.ignoredColumns,
    total: rows.length,
    ok: rows.length - bad,
    bad,
    rows,
  };
}

async function loadDraft(meetingId: string, draftId: string): Promise<DraftDocument> {
  if (!isObjectIdString(draftId)) throw new NotFound('attendees.import.draftNotFound');
  const draft = await ImportDraftModel.findOne({ _id: draftId, meetingId });
  if (!draft || draft.expiresAt.getTime() < Date.now()) throw new NotFound('attendees.import.draftNotFound');
  return draft;
}

function requireImporter(actor: Actor, meetingId: string): asserts actor is Extract<Actor, { kind: 'organizer' }> {
  requireOrganizer(actor);
  requireMeetingViewer(actor, meetingId);
}

// ---------------------------------------------------------------------------------------------
// Actions.

/** Read the uploaded file and keep its rows as a draft; nothing is added to the list yet. */
export async function previewImport(actor: Actor, meetingId: string, file: UploadedFile | undefined): Promise<ImportPreview> {
  requireImporter(actor, meetingId);
  await findMeeting(meetingId);
  if (!file) throw new Invalid({ file: { key: 'attendees.import.fileRequired' } }, 'attendees.import.fileRequired');
  const parsed = await parseImportFile(file);
  const draft = await ImportDraftModel.create({
    meetingId,
    createdBy: actor.userId,
    filename: file.originalname.normalize('NFC').slice(0, 200),
    columns: parsed.columns,
    ignoredColumns: parsed.ignoredColumns,
    rows: parsed.rows.map(({ row, values }) => ({ row, ...values })),
    expiresAt: new Date(Date.now() + draftLifetimeMs),
  });
  return previewOf(draft);
}

export async function getImportPreview(actor: Actor, meetingId: string, draftId: string): Promise<ImportPreview> {
  requireImporter(actor, meetingId);
  return previewOf(await loadDraft(meetingId, draftId));
}

const cellInput = z.preprocess((v) => (typeof v === 'string' ? v.normalize('NFC') : (v ?? '')), z.string().max(400)).optional();
const rowFixSchema = z.object({
  fullName: cellInput,
  position: cellInput,
  organization: cellInput,
  email: cellInput,
  phone: cellInput,
  site: cellInput,
  role: cellInput,
});

/** Correct one row of the preview in place (instead of fixing the file and uploading again). */
export async function fixImportRow(actor: Actor, meetingId: string, draftId: string, rowNumber: number, input: unknown): Promise<ImportPreview> {
  requireImporter(actor, meetingId);
  const values = parseInput(rowFixSchema, input);
  const draft = await loadDraft(meetingId, draftId);
  const row = draft.rows.find((candidate) => candidate.row === Number(rowNumber));
  if (!row) throw new NotFound('attendees.import.draftNotFound');
  for (const column of importColumns) {
    const value = values[column];
    if (value !== undefined) row.set(column, cleanCell(value));
  }
  await draft.save();
  return previewOf(draft);
}

/** Leave one row out of the import. */
export async function dropImportRow(actor: Actor, meetingId: string, draftId: string, rowNumber: number): Promise<ImportPreview> {
  requireImporter(actor, meetingId);
  const draft = await loadDraft(meetingId, draftId);
  const index = draft.rows.findIndex((candidate) => candidate.row === Number(rowNumber));
  if (index < 0) throw new NotFound('attendees.import.draftNotFound');
  draft.rows.splice(index, 1);
  await draft.save();
  return previewOf(draft);
}

export async function discardImport(actor: Actor, meetingId: string, draftId: string): Promise<void> {
  requireImporter(actor, meetingId);
  if (!isObjectIdString(draftId)) return;
  await ImportDraftModel.deleteOne({ _id: draftId, meetingId });
}

export class ImportNotReady extends Invalid {
  constructor(
    readonly preview: ImportPreview,
    messageKey = 'attendees.import.notCommitted',
  ) {
    super({}, messageKey, { bad: preview.bad });
  }
}

const commitSchema = z.object({ meetingId: objectId, draftId: objectId });

/**
 * Add every row of the draft to the list, or none: all rows are checked first, then inserted in
 * one ordered insertMany with ids chosen here; if anything fails midway (a concurrent edit took
 * an email), the rows this import inserted are deleted again.
 */
export async function commitImport(actor: Actor, input: unknown): Promise<{ inserted: number; revision: number }> {
  const { meetingId, draftId } = parseInput(commitSchema, input);
  requireImporter(actor, meetingId);
  await requireOpenMeeting(meetingId, 'attendees.meeting.closed');
  const draft = await loadDraft(meetingId, draftId);
  const preview = await previewOf(draft);
  if (preview.bad > 0 || preview.total === 0) throw new ImportNotReady(preview);

  const docs = preview.rows.map((row) => {
    const email = row.values.email.trim().toLowerCase();
    return {
      _id: new Types.ObjectId(),
      meetingId: new Types.ObjectId(meetingId),
      fullName: row.values.fullName.trim(),
      position: row.values.position.trim(),
      organization: row.values.organization.trim(),
      ...(email ? { email } : {}),
      phone: row.values.phone.trim(),
      siteId: new Types.ObjectId(row.resolved.siteId),
      role: row.resolved.role ?? 'delegate',
    };
  });
  const ids = docs.map((doc) => doc._id);
  // Claim the draft before inserting, so a double-clicked commit cannot add everyone twice.
  const claimed = await ImportDraftModel.findOneAndDelete({ _id: draft._id, meetingId }).lean();
  if (!claimed) throw new NotFound('attendees.import.draftNotFound');
  try {
    await AttendeeModel.insertMany(docs, { ordered: true });
  } catch (error) {
    await AttendeeModel.deleteMany({ _id: { $in: ids }, meetingId });
    await ImportDraftModel.collection.insertOne(claimed);
    if (isDuplicateKeyError(error)) throw new ImportNotReady(await previewOf(draft), 'attendees.import.changed');
    throw error;
  }
  const revision = await bumpRevision(meetingId);
  publish({ type: 'attendee.imported', meetingId, revision, payload: { count: docs.length, filename: preview.filename } });
  return { inserted: docs.length, revision };
}
