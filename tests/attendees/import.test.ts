// Importing the attendee spreadsheet the department already has: Vietnamese headers and
// diacritics, BOM or not, XLSX, every bad row flagged with its row number and reason, nothing
// saved until every row is right, and an export that imports back unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { connectTestDatabase } from '../helpers/database.js';
import { newConference, organizer, rejection } from './fixtures.js';
import type { DatabaseHandle } from '../../server/database.js';
import { SiteModel } from '../../server/sites/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { listAttendees } from '../../server/attendees/queries.js';
import { commitImport, fixImportRow, ImportDraftModel, previewImport, type ImportPreview } from '../../server/attendees/import.js';
import { exportAttendees, safeCell } from '../../server/attendees/export.js';
import { parse as parseCsv } from 'csv-parse/sync';
import { t } from '../../server/lib/i18n.js';
import type { Actor } from '../../server/lib/actor.js';

let database: DatabaseHandle;
beforeAll(async () => {
  database = await connectTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

const csvHeader = 'Họ và tên,Chức vụ,Đơn vị,Email,Điện thoại,Điểm cầu,Vai trò';
const goodCsv = [
  csvHeader,
  'Nguyễn Văn Hùng,Giám đốc,Sở Khoa học và Công nghệ,hung@example.vn,0913 111 222,Văn phòng UBND Tỉnh,Báo cáo viên',
  'Lê Thị Thu Hà,Phó Chủ tịch,UBND huyện Tân Hồng,ha.le@example.vn,0277 3830 123,Tân Hồng,Đại biểu',
  '"Trần Văn Đức","Trưởng phòng, Phòng Kinh tế",UBND TP Sa Đéc,,,TP. Sa Đéc,',
  'Phạm Minh Châu,Phóng viên,Báo Đồng Tháp,chau@example.vn,,,Báo chí',
].join('\r\n');

function file(name: string, content: string | Buffer) {
  const buffer = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return { originalname: name, buffer, size: buffer.length };
}

function problemsOf(preview: ImportPreview): Array<{ row: number; messages: string[] }> {
  return preview.rows.filter((row) => !row.ok).map((row) => ({ row: row.row, messages: row.problems.map((problem) => t('vi', problem.key, problem.params)) }));
}

describe('reading the file', () => {
  it('reads UTF-8 CSV with and without BOM, keeping the diacritics, and matches sites by name', async () => {
    const { meetingId, siteIds } = await newConference();
    for (const content of [goodCsv, `\uFEFF${goodCsv}`]) {
      const preview = await previewImport(organizer, meetingId, file('dai-bieu.csv', content));
      expect(preview).toMatchObject({ total: 4, ok: 4, bad: 0 });
      expect(preview.rows.map((row) => row.values.fullName)).toEqual(['Nguyễn Văn Hùng', 'Lê Thị Thu Hà', 'Trần Văn Đức', 'Phạm Minh Châu']);
      expect(preview.rows.map((row) => row.resolved.siteName)).toEqual(['Văn phòng UBND Tỉnh', 'Huyện Tân Hồng', 'Thành phố Sa Đéc', 'Văn phòng UBND Tỉnh']);
      expect(preview.rows.map((row) => row.resolved.role)).toEqual(['speaker', 'delegate', 'delegate', 'press']);
      expect(preview.rows[2].values.position).toBe('Trưởng phòng, Phòng Kinh tế');
      expect(preview.rows[0].resolved.siteId).toBe(siteIds['Văn phòng UBND Tỉnh']);
    }
  });

  it('normalizes decomposed Vietnamese (as macOS writes it) to the composed form', async () => {
    const { meetingId } = await newConference();
    const decomposed = `${csvHeader}\n${'Nguyễn Văn Hùng'.normalize('NFD')},,,,,,\n`;
    const preview = await previewImport(organizer, meetingId, file('mac.csv', decomposed));
    expect(preview.rows[0].values.fullName).toBe('Nguyễn Văn Hùng'.normalize('NFC'));
  });

  it('accepts English headers, semicolons and UTF-16 from Excel "Unicode text"', async () => {
    const { meetingId } = await newConference();
    const english = 'Full name;Position;Organization;Email;Phone;Site;Role\nNguyễn Văn Hùng;Director;Department of Science;hung@example.vn;;Huyện Lấp Vò;Chair\n';
    const preview = await previewImport(organizer, meetingId, file('attendees.csv', english));
    expect(preview.rows[0]).toMatchObject({ ok: true, resolved: { siteName: 'Huyện Lấp Vò', role: 'chair' } });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(english.replace(/;/g, '\t'), 'utf16le')]);
    const fromUtf16 = await previewImport(organizer, meetingId, file('unicode.txt', utf16));
    expect(fromUtf16.rows[0].values.fullName).toBe('Nguyễn Văn Hùng');
  });

  it('refuses a Windows-1258 file with a message that says to save as CSV UTF-8', async () => {
    const { meetingId } = await newConference();
    const legacy = iconv.encode('Họ và tên,Đơn vị\nTrần Văn Đức,Sở Tài chính\n', 'windows-1258');
    const error = await rejection(previewImport(organizer, meetingId, file('cu.csv', legacy)));
    expect(error.status).toBe(400);
    expect(t('vi', error.messageKey, error.params)).toContain('CSV UTF-8');
    expect(t('en', error.messageKey, error.params)).toContain('not UTF-8');
    expect(await ImportDraftModel.countDocuments({ meetingId })).toBe(0);
  });

  it('refuses files that are too large, old .xls, or have no name column', async () => {
    const { meetingId } = await newConference();
    const big = `${csvHeader}\n${'Nguyễn Văn A,,,,,,\n'.repeat(120_000)}`;
    expect((await rejection(previewImport(organizer, meetingId, file('big.csv', big)))).status).toBe(413);
    const xls = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0]);
    expect((await rejection(previewImport(organizer, meetingId, file('old.xls', xls)))).messageKey).toBe('attendees.import.oldExcel');
    expect((await rejection(previewImport(organizer, meetingId, file('x.csv', 'Đơn vị,Email\nSở Y tế,a@example.vn\n')))).messageKey).toBe('attendees.import.noNameColumn');
  });

  it('reads an XLSX workbook: rich text, hyperlinked emails and phone numbers typed as numbers', async () => {
    const { meetingId } = await newConference();
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Danh sách');
    sheet.addRow(['DANH SÁCH ĐẠI BIỂU']); // a title row above the table is common
    sheet.addRow([]);
    sheet.addRow(['STT', 'HỌ VÀ TÊN (*)', 'Chức vụ', 'Đơn vị', 'Email', 'Số điện thoại', 'Điểm cầu', 'Vai trò']);
    sheet.addRow([1, { richText: [{ text: 'Nguyễn ' }, { text: 'Thị Lan', font: { bold: true } }] }, 'Chuyên viên', 'Sở Nội vụ', { text: 'lan@example.vn', hyperlink: 'mailto:lan@example.vn' }, 912345678, 'huyện Cao Lãnh', 'Khách mời']);
    const buffer = Buffer.from(await workbook.xlsx.writeBuffer());
    const preview = await previewImport(organizer, meetingId, file('danh-sach.xlsx', buffer));
    // The title row above the table is skipped: the header is the row naming the columns.
    expect(preview).toMatchObject({ total: 1, ok: 1 });
    expect(preview.ignoredColumns).toEqual([]);
    expect(preview.rows[0]).toMatchObject({
      row: 4,
      ok: true,
      values: { fullName: 'Nguyễn Thị Lan', email: 'lan@example.vn', phone: '0912345678', site: 'huyện Cao Lãnh' },
      resolved: { siteName: 'Huyện Cao Lãnh', role: 'guest' },
    });
  });
});

describe('flagging bad rows', () => {
  it('flags each bad row with its row number and reason, and saves nothing until it is fixed', async () => {
    const { meetingId } = await newConference();
    await createAttendee(organizer, { meetingId, fullName: 'Võ Thị Sáu', email: 'sau@example.vn' });
    const csv = [
      csvHeader,
      'Nguyễn Văn Hùng,Giám đốc,Sở KH&CN,hung@example.vn,,,', // row 2: fine
      ',Phó Giám đốc,Sở KH&CN,pgd@example.vn,,,', // row 3: no name
      'Lê Văn Tám,,Sở Tài chính,tam@example,,,', // row 4: bad email
      'Trần Thị Mười,,Sở Y tế,,,Huyện Không Có,', // row 5: unknown site
      'Hồ Văn Một,,Sở Xây dựng,HUNG@example.vn,,,', // row 6: duplicate of row 2
      'Đinh Văn Hai,,Sở Nội vụ,sau@example.vn,,,', // row 7: already on the list
      'Mai Thị Ba,,Sở Công Thương,,,,Trưởng đoàn', // row 8: unknown role
      'Lý Văn Bốn,,UBND huyện Hồng Ngự,,,Hồng Ngự,', // row 9: two sites named Hồng Ngự
    ].join('\n');
    const preview = await previewImport(organizer, meetingId, file('co-loi.csv', csv));
    expect(preview).toMatchObject({ total: 8, ok: 1, bad: 7 });
    expect(problemsOf(preview)).toEqual([
      { row: 3, messages: ['Thiếu họ và tên.'] },
      { row: 4, messages: ['Email "tam@example" không hợp lệ.'] },
      { row: 5, messages: ['Không có điểm cầu "Huyện Không Có" trong hội nghị này.'] },
      { row: 6, messages: ['Email hung@example.vn trùng với dòng 2 trong tệp.'] },
      { row: 7, messages: ['Email sau@example.vn đã có trong danh sách đại biểu (Võ Thị Sáu).'] },
      { row: 8, messages: ['Vai trò "Trưởng đoàn" không hợp lệ (Chủ trì, Báo cáo viên, Đại biểu, Khách mời, Báo chí).'] },
      { row: 9, messages: ['Tên điểm cầu "Hồng Ngự" trùng với nhiều điểm cầu; hãy ghi đầy đủ tên.'] },
    ]);

    const revisionBefore = (await MeetingModel.findById(meetingId).lean())!.revision;
    const refused = await rejection(commitImport(organizer, { meetingId, draftId: preview.draftId }));
    expect(refused.status).toBe(422);
    expect(t('vi', refused.messageKey, refused.params)).toBe('Chưa lưu: còn 7 dòng có lỗi. Không có đại biểu nào được thêm.');
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(1);
    expect((await MeetingModel.findById(meetingId).lean())!.revision).toBe(revisionBefore);

    // The organizer fixes each bad row in the preview, then commits.
    const fixes: Record<number, Record<string, string>> = {
      3: { fullName: 'Phan Thanh Giản' },
      4: { email: 'tam@example.vn' },
      5: { site: 'Tháp Mười' },
      6: { email: 'mot@example.vn' },
      7: { email: '' },
      8: { role: 'Khách mời' },
      9: { site: 'Huyện Hồng Ngự' },
    };
    let fixed = preview;
    for (const [row, values] of Object.entries(fixes)) fixed = await fixImportRow(organizer, meetingId, preview.draftId, Number(row), values);
    expect(fixed).toMatchObject({ total: 8, ok: 8, bad: 0 });
    const result = await commitImport(organizer, { meetingId, draftId: preview.draftId });
    expect(result.inserted).toBe(8);
    expect(result.revision).toBe(revisionBefore + 1);
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(9);
    const found = await listAttendees(organizer, meetingId, { q: 'phan thanh gian' });
    expect(found.items).toHaveLength(1);
    expect(found.items[0].accessToken).toMatch(/^[\w-]{20,}$/);
    expect(await ImportDraftModel.countDocuments({ _id: preview.draftId })).toBe(0);
  });

  it('saves nothing when someone takes an email between preview and commit', async () => {
    const { meetingId } = await newConference();
    const preview = await previewImport(organizer, meetingId, file('a.csv', goodCsv));
    expect(preview.bad).toBe(0);
    await createAttendee(organizer, { meetingId, fullName: 'Người nhanh tay', email: 'chau@example.vn' });
    const refused = await rejection(commitImport(organizer, { meetingId, draftId: preview.draftId }));
    expect(refused.status).toBe(422);
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(1);
  });

  it('adds everyone once when the commit button is pressed twice at the same moment', async () => {
    const { meetingId } = await newConference();
    const preview = await previewImport(organizer, meetingId, file('a.csv', goodCsv));
    const before = await AttendeeModel.countDocuments({ meetingId });
    const results = await Promise.allSettled([commitImport(organizer, { meetingId, draftId: preview.draftId }), commitImport(organizer, { meetingId, draftId: preview.draftId })]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')!.reason;
    expect(refused.status).toBe(404);
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(before + preview.total);
  });

  it('imports the 2,000 people of a whole province in one file', async () => {
    const { meetingId } = await newConference();
    const districts = ['Thành phố Cao Lãnh', 'TP. Sa Đéc', 'Tân Hồng', 'huyện tháp mười', ''];
    const lines = Array.from({ length: 2000 }, (_, index) => `Nguyễn Văn Thứ ${index},Chuyên viên,Đơn vị ${index % 40},nguoi${index}@example.vn,09${String(index).padStart(8, '0')},${districts[index % 5]},`);
    const preview = await previewImport(organizer, meetingId, file('tinh.csv', [csvHeader, ...lines].join('\n')));
    expect(preview).toMatchObject({ total: 2000, ok: 2000, bad: 0 });
    expect((await commitImport(organizer, { meetingId, draftId: preview.draftId })).inserted).toBe(2000);
    const page = await listAttendees(organizer, meetingId, { q: 'nguyen van thu 1999' });
    expect(page.items.map((item) => item.email)).toEqual(['nguoi1999@example.vn']);
    expect((await listAttendees(organizer, meetingId, {})).total).toBe(2000);
  });

  it('only organizers import', async () => {
    const { meetingId, siteIds } = await newConference();
    const coordinator: Actor = { kind: 'coordinator', meetingId, siteId: siteIds['Huyện Lấp Vò'], name: 'x' };
    expect((await rejection(previewImport(coordinator, meetingId, file('a.csv', goodCsv)))).status).toBe(403);
  });
});

describe('export', () => {
  it('writes every cell a spreadsheet would evaluate with a leading apostrophe, in CSV and XLSX alike', async () => {
    const conference = await newConference();
    // Each as a person's position: what an organizer (or an imported file) may type.
    const armed = ['-1-1-1', '=1+1', '+1', '@SUM(A1)', '＝1', '－1', '＋1', '＠A1'];
    const harmless = ['Chuyên viên', '1-1', 'a=b', 'x@example.vn'];
    for (const [index, position] of [...armed, ...harmless].entries()) {
      await createAttendee(organizer, { meetingId: conference.meetingId, fullName: `Đại biểu ${String(index).padStart(2, '0')}`, position });
    }
    const expected = [...armed.map((value) => `'${value}`), ...harmless];

    const csv = await exportAttendees(organizer, conference.meetingId, {}, 'csv', 'vi');
    const records = parseCsv(csv.body.toString('utf8').replace(/^\uFEFF/, ''), { from_line: 2 }) as string[][];
    expect(records.map((record) => record[1])).toEqual(expected);

    const xlsx = await exportAttendees(organizer, conference.meetingId, {}, 'xlsx', 'vi');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.body as unknown as ArrayBuffer);
    const cells: unknown[] = [];
    workbook.worksheets[0]!.eachRow((row, number) => number > 1 && cells.push(row.getCell(2).value));
    expect(cells).toEqual(expected);
  });

  it('a cell that starts with a tab, a line break or blanks before a formula is escaped too', () => {
    for (const value of ['\t=1', '\r=1', '\n=1', '  =1', '\t-1']) expect(safeCell(value)).toBe(`'${value}`);
    for (const value of ['', 'Nguyễn Văn An', '0912 345 678', '1+1']) expect(safeCell(value)).toBe(value);
  });

  it('exports CSV with BOM and XLSX that import back into another meeting unchanged', async () => {
    const source = await newConference();
    const preview = await previewImport(organizer, source.meetingId, file('a.csv', goodCsv));
    await commitImport(organizer, { meetingId: source.meetingId, draftId: preview.draftId });
    await createAttendee(organizer, { meetingId: source.meetingId, fullName: 'Hà Văn Công', organization: '=HYPERLINK("http://evil")', phone: '+84 913 000 111' });

    const csv = await exportAttendees(organizer, source.meetingId, {}, 'csv', 'vi');
    expect(csv.contentType).toBe('text/csv; charset=utf-8');
    expect([...csv.body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = csv.body.toString('utf8');
    expect(text.split('\r\n')[0]).toBe('\uFEFFHọ và tên,Chức vụ,Đơn vị,Email,Điện thoại,Điểm cầu,Vai trò');
    expect(text).toContain(`'=HYPERLINK`);
    expect(text).toContain('+84 913 000 111');

    const xlsx = await exportAttendees(organizer, source.meetingId, {}, 'xlsx', 'en');
    const original = await listAttendees(organizer, source.meetingId, { pageSize: 200 });
    const shape = (items: typeof original.items, siteNames: Map<string, string>) =>
      items.map((item) => ({ ...item, id: undefined, meetingId: undefined, accessToken: undefined, createdAt: undefined, updatedAt: undefined, siteId: siteNames.get(item.siteId) }));
    const names = async (meetingId: string) => new Map((await SiteModel.find({ meetingId }).lean()).map((site) => [String(site._id), site.name]));

    for (const exported of [file(csv.filename, csv.body), file(xlsx.filename, xlsx.body)]) {
      const target = await newConference();
      const again = await previewImport(organizer, target.meetingId, exported);
      expect(problemsOf(again)).toEqual([]);
      await commitImport(organizer, { meetingId: target.meetingId, draftId: again.draftId });
      const copied = await listAttendees(organizer, target.meetingId, { pageSize: 200 });
      expect(shape(copied.items, await names(target.meetingId))).toEqual(shape(original.items, await names(source.meetingId)));
    }
  });

  it('exports with the same filters and scope as the table', async () => {
    const { meetingId, siteIds } = await newConference();
    const preview = await previewImport(organizer, meetingId, file('a.csv', goodCsv));
    await commitImport(organizer, { meetingId, draftId: preview.draftId });
    const filtered = await exportAttendees(organizer, meetingId, { q: 'le thi' }, 'csv', 'vi');
    expect(filtered.body.toString('utf8').trim().split('\r\n')).toHaveLength(2);
    const coordinator: Actor = { kind: 'coordinator', meetingId, siteId: siteIds['Thành phố Sa Đéc'], name: 'x' };
    const own = await exportAttendees(coordinator, meetingId, {}, 'csv', 'vi');
    expect(own.body.toString('utf8').trim().split('\r\n').slice(1)).toEqual(['Trần Văn Đức,"Trưởng phòng, Phòng Kinh tế",UBND TP Sa Đéc,,,Thành phố Sa Đéc,Đại biểu']);
    expect((await rejection(exportAttendees(coordinator, meetingId, { siteId: siteIds['Huyện Tân Hồng'] }, 'csv', 'vi'))).status).toBe(403);
  });
});
