// A hostile or oversized spreadsheet is refused and changes nothing: an XLSX "bomb" (about 1 MB
// that unpacks to 400 MB) is refused from its zip directory, before anything is inflated; a real
// 48,000-row workbook is refused for its row count by the streaming reader in a worker thread;
// a workbook whose directory understates its sizes is refused after inflating at most 64 MB with a
// cap (in the worker); a workbook within the limits imports. How long any of this takes, and whether the sign-in page
// keeps answering meanwhile, is measured in bench/uploads.ts (timing is no test's business).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { ImportDraftModel } from '../../server/attendees/import.js';
import { xlsxBomb, xlsxPromising, xlsxUnderstating } from './xlsx-files.js';

const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
let app: TestApp;
let organizer: HttpClient;
let meetingId: string;

beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
  meetingId = String((await createMeeting(app.organizer, { title: 'Hội nghị tổng kết', start: '2026-12-29T14:00', end: '2026-12-29T17:00' }))._id);
}, 120_000);
afterAll(() => app.stop());

async function workbookOf(rows: number): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Danh sách');
  sheet.addRow(['Họ và tên', 'Chức vụ', 'Đơn vị', 'Email', 'Điện thoại', 'Điểm cầu', 'Vai trò']);
  for (let index = 1; index <= rows; index++) sheet.addRow([`Đại biểu số ${index}`, 'Chuyên viên', 'Sở Khoa học và Công nghệ', `daibieu${index}@example.vn`, '0912345678', '', 'Đại biểu']);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const bombMessage = 'Tệp Excel này khi giải nén vượt quá 64 MB, không thể là một danh sách đại biểu. Hãy chỉ giữ lại trang danh sách rồi lưu lại.';
const upload = (content: Buffer, name = 'danh-sach.xlsx', query = '') => organizer.upload(`/api/v1/meetings/${meetingId}/attendees/import${query}`, 'file', { name, type: xlsxType, content });

describe('uploading an attendee list', () => {
  it('an XLSX bomb is refused for what it would unpack to, and nothing is stored', async () => {
    const bomb = xlsxBomb(400);
    expect(bomb.bytes.length).toBeLessThan(2 * 1024 * 1024);
    expect(bomb.unpackedBytes).toBeGreaterThan(400 * 1024 * 1024);
    const response = await upload(bomb.bytes);
    expect(response.status).toBe(413);
    expect(response.json.error.message).toBe(bombMessage);
    expect(await ImportDraftModel.countDocuments({ meetingId })).toBe(0);
  });

  it('the refusal comes from the zip directory: a sheet that is no deflate data at all is refused for its promised size, not as unreadable', async () => {
    // Inflating this sheet fails on its first byte ("unreadable", 400); only a check of the
    // directory, made before inflating anything, can answer 413 with the size message.
    const response = await upload(xlsxPromising(400));
    expect(response.status).toBe(413);
    expect(response.json.error.message).toBe(bombMessage);
    // The same file promising a sheet within the limit is read, and found unreadable.
    const small = await upload(xlsxPromising(1));
    expect(small.status).toBe(400);
    expect(small.json.error.code).not.toBe('too_large');
  });

  it('a workbook whose directory understates what it unpacks to is refused for what it really unpacks to', async () => {
    // 80 MB of blank space declared as a few hundred bytes: the directory check believes it, and
    // a streaming reader would read it all (blank space costs it no memory) and import one row.
    const liar = xlsxUnderstating(80);
    expect(liar.length).toBeLessThan(2 * 1024 * 1024);
    const response = await upload(liar);
    expect(response.status).toBe(413);
    expect(response.json.error.message).toBe(bombMessage);
    expect(await ImportDraftModel.countDocuments({ meetingId })).toBe(0);
    // The same workbook telling the truth about a small sheet still imports.
    expect((await upload(xlsxUnderstating(1))).status).toBe(201);
    await ImportDraftModel.deleteMany({ meetingId });
  });

  it('six bombs at once are all refused, and the server still answers', async () => {
    const bomb = xlsxBomb(400);
    const responses = await Promise.all(Array.from({ length: 6 }, () => upload(bomb.bytes)));
    expect(responses.map((response) => response.status)).toEqual([413, 413, 413, 413, 413, 413]);
    expect((await app.newClient().get('/login')).status).toBe(200);
    expect(await ImportDraftModel.countDocuments({ meetingId })).toBe(0);
  });

  it('a real 48,000-row workbook is refused for its row count, in English when asked', async () => {
    const response = await upload(await workbookOf(48_000), 'ca-tinh.xlsx', '?lang=en');
    expect(response.status).toBe(400);
    expect(response.json.error.message).toBe('Too many rows: at most 5000 attendees per import.');
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(0);
    expect(await ImportDraftModel.countDocuments({ meetingId })).toBe(0);
  }, 120_000);

  it('a workbook within the limits still imports (5,000 rows, read off the event loop)', async () => {
    const response = await upload(await workbookOf(5_000));
    expect(response.status).toBe(201);
    expect(response.json.total).toBe(5000);
    expect(response.json.rows[4999].values.fullName).toBe('Đại biểu số 5000');
  }, 120_000);
});
