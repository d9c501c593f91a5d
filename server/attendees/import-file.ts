// Reading an attendee spreadsheet (CSV or XLSX) into rows: encodings, BOM, Vietnamese headers,
// and the limits that keep a hostile file cheap. Pure (no database): it runs in a worker thread
// (import-worker.ts), and its quick checks (size, type, the zip's own directory) run before that.
import { Readable } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { BadRequest, TooLarge } from '../lib/errors.js';
import { searchKey } from '../lib/text.js';

export const maxImportBytes = 2 * 1024 * 1024;
export const maxImportMb = maxImportBytes / (1024 * 1024);
export const maxImportRows = 5000;
/**
 * What an XLSX may unpack to. A real 5,000-row list is a few MB of XML; a "zip bomb" of 2 MB that
 * unpacks to hundreds of MB is refused from its central directory before anything is inflated.
 */
export const maxUnpackedBytes = 64 * 1024 * 1024;
const maxZipEntries = 2000;
/** Rows above the header a sheet may have (title, conference name) before the table starts. */
const maxRowsBeforeHeader = 20;

export const importColumns = ['fullName', 'position', 'organization', 'email', 'phone', 'site', 'role'] as const;
export type ImportColumn = (typeof importColumns)[number];
export type RowValues = Record<ImportColumn, string>;

// ---------------------------------------------------------------------------------------------
// Column names people actually write, in Vietnamese and English. Matched on searchKey (no
// diacritics, lower case, punctuation dropped), so "HỌ VÀ TÊN (*)" works.

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

export function headerKey(text: string): string {
  return searchKey(text.replace(/[^\p{L}\p{N}]+/gu, ' '));
}

const columnByAlias = new Map<string, ImportColumn>(importColumns.flatMap((column) => columnAliases[column].map((alias) => [alias, column] as const)));

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

export type FileKind = 'csv' | 'xlsx';

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

/**
 * What the zip's central directory says about an XLSX, read without inflating anything: how many
 * entries and how many bytes they unpack to. Refuses archives that are not zips, ZIP64 (an
 * attendee list never needs it) and directories promising more than maxUnpackedBytes.
 */
export function inspectZip(buffer: Buffer): { entries: number; unpackedBytes: number } {
  const entries = zipDirectory(buffer);
  const unpackedBytes = entries.reduce((sum, entry) => sum + entry.size, 0);
  if (unpackedBytes > maxUnpackedBytes) throw unpackedTooLarge();
  return { entries: entries.length, unpackedBytes };
}

interface ZipEntry {
  method: number;
  compressedSize: number;
  /** What the directory says the entry unpacks to (a hostile file may understate it). */
  size: number;
  localOffset: number;
}

const unreadableZip = (reason: string) => new BadRequest('attendees.import.unreadable', { reason });
const unpackedTooLarge = () => new TooLarge('attendees.import.unpackedTooLarge', { maxMb: maxUnpackedBytes / 2 ** 20 });

/** The zip's central directory, read without inflating anything. */
function zipDirectory(buffer: Buffer): ZipEntry[] {
  const floor = Math.max(0, buffer.length - 22 - 0xffff);
  let end = -1;
  for (let at = buffer.length - 22; at >= floor; at--) {
    if (buffer.readUInt32LE(at) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) throw unreadableZip('not a complete XLSX (zip) file');
  const count = buffer.readUInt16LE(end + 10);
  const directorySize = buffer.readUInt32LE(end + 12);
  const directoryOffset = buffer.readUInt32LE(end + 16);
  if (count === 0xffff || directoryOffset === 0xffffffff || count > maxZipEntries) throw unpackedTooLarge();
  if (directoryOffset + directorySize > end) throw unreadableZip('damaged zip directory');
  const entries: ZipEntry[] = [];
  let at = directoryOffset;
  for (let index = 0; index < count; index++) {
    if (at + 46 > end || buffer.readUInt32LE(at) !== 0x02014b50) throw unreadableZip('damaged zip directory');
    const size = buffer.readUInt32LE(at + 24);
    if (size === 0xffffffff) throw unpackedTooLarge();
    entries.push({ method: buffer.readUInt16LE(at + 10), compressedSize: buffer.readUInt32LE(at + 20), size, localOffset: buffer.readUInt32LE(at + 42) });
    at += 46 + buffer.readUInt16LE(at + 28) + buffer.readUInt16LE(at + 30) + buffer.readUInt16LE(at + 32);
  }
  return entries;
}

/**
 * What the entries really unpack to, inflated with a cap before the reader sees the file (in the
 * worker): a directory that understates its sizes passes inspectZip, and a streaming reader
 * would inflate all of it, so the real total must stay within maxUnpackedBytes too.
 */
export function checkInflatedSize(buffer: Buffer): void {
  let left = maxUnpackedBytes;
  for (const entry of zipDirectory(buffer)) {
    const local = entry.localOffset;
    if (local + 30 > buffer.length || buffer.readUInt32LE(local) !== 0x04034b50) throw unreadableZip('damaged zip entry');
    const start = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
    const data = buffer.subarray(start, start + entry.compressedSize);
    let size = data.length;
    if (entry.method === 8) {
      try {
        size = inflateRawSync(data, { maxOutputLength: Math.max(1, left) }).length;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw unpackedTooLarge();
        throw unreadableZip((error as Error).message.slice(0, 200));
      }
    }
    left -= size;
    if (left < 0) throw unpackedTooLarge();
  }
}

/**
 * The first sheet with data, read row by row (exceljs's streaming reader): never the whole
 * workbook in memory, and stopped as soon as it has more rows than an import may hold.
 */
async function parseXlsx(buffer: Buffer): Promise<ParsedSheet> {
  const records: ParsedSheet['records'] = [];
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([buffer]), { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit', entries: 'emit' });
  let nonEmpty = 0;
  try {
    for await (const worksheet of reader) {
      for await (const row of worksheet as AsyncIterable<ExcelJS.Row>) {
        const cells: string[] = [];
        row.eachCell({ includeEmpty: true }, (cell, column) => {
          cells[column - 1] = cellText(cell.value).normalize('NFC');
        });
        const record = { row: row.number, cells: Array.from(cells, (cell) => cell ?? '') };
        if (record.cells.every((cell) => cleanCell(cell) === '')) continue;
        records.push(record);
        if (++nonEmpty > maxImportRows + maxRowsBeforeHeader + 1) throw new BadRequest('attendees.import.tooManyRows', { max: maxImportRows });
      }
      // The first sheet that has rows is the list.
      if (records.length > 0) break;
    }
  } catch (error) {
    if (error instanceof BadRequest || error instanceof TooLarge) throw error;
    throw new BadRequest('attendees.import.unreadable', { reason: (error as Error).message.slice(0, 200) });
  }
  return { records };
}

/** What the organizer sees before anything is saved: the mapped columns and every data row. */
export interface ParsedImport {
  columns: ImportColumn[];
  ignoredColumns: string[];
  rows: Array<{ row: number; values: RowValues }>;
}

/** A cell Excel would run as a formula is written with a leading quote on export; undo it here. */
export function cleanCell(text: string | undefined): string {
  const value = (text ?? '').replace(/\u00a0/g, ' ').trim();
  return /^'[=+\-@]/.test(value) ? value.slice(1) : value;
}

/** Excel drops the leading 0 of phone numbers typed as numbers (0912… -> 912…); put it back. */
function repairPhone(phone: string): string {
  return /^[1-9]\d{8,9}$/.test(phone) ? `0${phone}` : phone;
}

/**
 * The checks that cost nothing, before any parsing (run on the request's own thread): size,
 * emptiness, type, and for XLSX what the zip's directory says it unpacks to.
 */
export function precheckImportFile(file: UploadedFile): FileKind {
  if (file.size > maxImportBytes || file.buffer.length > maxImportBytes) throw new TooLarge('attendees.import.tooLarge', { maxMb: maxImportMb });
  if (file.buffer.length === 0) throw new BadRequest('attendees.import.emptyFile');
  const kind = detectKind(file);
  if (kind === 'xlsx') inspectZip(file.buffer);
  return kind;
}

/** Every row of the file under its column, ready for the draft (the expensive part: run it in a worker). */
export async function parseImportFile(file: UploadedFile): Promise<ParsedImport> {
  const kind = precheckImportFile(file);
  if (kind === 'xlsx') checkInflatedSize(file.buffer);
  const sheet = kind === 'xlsx' ? await parseXlsx(file.buffer) : parseCsvText(decodeText(file.buffer));
  const nonEmpty = sheet.records.filter((record) => record.cells.some((cell) => cleanCell(cell) !== ''));
  if (nonEmpty.length === 0) throw new BadRequest('attendees.import.emptyFile');

  // The header is the first row naming a name column: sheets often start with a title row
  // ("DANH SÁCH ĐẠI BIỂU") or the conference name above the table.
  const headerIndex = nonEmpty.slice(0, maxRowsBeforeHeader).findIndex((record) => record.cells.some((cell) => columnByAlias.get(headerKey(cleanCell(cell))) === 'fullName'));
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
