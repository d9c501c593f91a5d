// Careless input is refused or tamed, each with a message a person can act on: offsets beyond
// ±14:00 and years outside 1900-2200, names of nothing visible, integers written any way but as
// decimal digits; search text is cut to a sane length and a repeated parameter counts once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';
import { cleanName, decimalIntegerInput, searchParam, searchTextMax, singleParam } from '../../server/lib/input.js';
import { fromLocalInput } from '../../server/lib/time.js';
import { toErrorBody } from '../../server/lib/http.js';
import { AppError } from '../../server/lib/errors.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { listAttendees } from '../../server/attendees/queries.js';
import { MeetingModel } from '../../server/meetings/model.js';

const zone = 'Asia/Ho_Chi_Minh';

async function fieldsOf(promise: Promise<unknown>): Promise<Record<string, string>> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AppError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return toErrorBody(error, 'en').error.fields ?? {};
}

describe('cleaning input (lib/input.ts, lib/time.ts)', () => {
  it('reads an explicit offset only within ±14:00, and years only from 1900 to 2200', () => {
    expect(fromLocalInput('2026-12-29T14:00+07:00', zone)?.toISOString()).toBe('2026-12-29T07:00:00.000Z');
    expect(fromLocalInput('2026-12-29T14:00+14:00', zone)).toBeDefined();
    expect(fromLocalInput('2026-12-29T14:00-12:00', zone)).toBeDefined();
    for (const local of ['2026-12-29T14:00+99:00', '2026-12-29T14:00+14:01', '2026-12-29T14:00-23:59', '0000-12-29T14:00', '1899-12-31T23:00', '2201-01-01T00:00', '+275760-09-13T00:00']) {
      expect(fromLocalInput(local, zone), local).toBeUndefined();
    }
    expect(fromLocalInput('1900-01-01T08:00', zone)).toBeDefined();
    expect(fromLocalInput('2200-12-31T08:00', zone)).toBeDefined();
  });

  it('a name of zero-width characters, joiners, BOMs and bidi marks is no name', () => {
    expect(cleanName('\u200b\u200c\u200d\ufeff\u2060\u200e')).toBe('');
    expect(cleanName(' \u200bNguyễn Văn An\u200b ')).toBe('Nguyễn Văn An');
  });

  it('nor is a name of fillers that render as nothing, and bidi overrides are taken out of a name', () => {
    // Hangul fillers, the blank Braille pattern, the combining grapheme joiner, a lone accent.
    for (const blank of ['\u3164', '\u115f\u1160', '\u2800\u2800', '\u034f', '\ufe0f', '\u0301']) expect(cleanName(blank), JSON.stringify(blank)).toBe('');
    expect(cleanName('\u3164Nguyễn Văn An\u2800')).toBe('Nguyễn Văn An');
    // "A\u202Etxt.exe" shows as "Aexe.txt": the override goes, the letters stay.
    expect(cleanName('Trần\u202E Văn\u2066 Bình\u2069')).toBe('Trần Văn Bình');
    // Decomposed Vietnamese is still a name (marks on letters), and an emoji keeps its style.
    expect(cleanName('Nguye\u0302\u0303n')).toBe('Nguyễn');
    expect(cleanName('Hội nghị ❤\ufe0f')).toBe('Hội nghị ❤\ufe0f');
  });

  it('integers only as decimal digits', () => {
    expect(decimalIntegerInput('16')).toBe(16);
    expect(decimalIntegerInput(' 16 ')).toBe(16);
    for (const text of ['0x10', '1e3', '12abc', '0b1', '1.5', '١٢']) expect(decimalIntegerInput(text), text).toBeNaN();
    expect(decimalIntegerInput('')).toBeUndefined();
  });

  it('search text is cut to a sane length, and a repeated parameter counts once', () => {
    expect(Array.from(searchParam('ắ'.repeat(500))!)).toHaveLength(searchTextMax);
    expect(singleParam(['nguyen', 'tran'])).toBe('nguyen');
    expect(searchParam(['  nguyen ', 'tran'])).toBe('nguyen');
    expect(singleParam({ $gt: '' })).toBeUndefined();
  });
});

describe('careless input through actions and pages', () => {
  let app: TestApp;
  let organizer: HttpClient;
  let meetingId: string;
  let siteId: string;

  beforeAll(async () => {
    app = await startTestApp();
    organizer = await app.signInOrganizer();
    meetingId = String((await createMeeting(app.organizer, { title: 'Hội nghị tổng kết', start: '2026-12-29T14:00', end: '2026-12-29T17:00' }))._id);
    siteId = String((await addSite(app.organizer, { meetingId, name: 'UBND huyện Cao Lãnh', isMain: true }))._id);
    for (let index = 0; index < 3; index++) await createAttendee(app.organizer, { meetingId, fullName: `Nguyễn Văn ${index}`, siteId });
  });
  afterAll(() => app?.stop());

  it('a meeting at +99:00 or in the year 275760 is refused on its start field, and nothing is created', async () => {
    const before = await MeetingModel.countDocuments();
    expect(Object.keys(await fieldsOf(createMeeting(app.organizer, { title: 'X', start: '2026-12-29T14:00+99:00', end: '2026-12-29T17:00' })))).toContain('start');
    expect(Object.keys(await fieldsOf(createMeeting(app.organizer, { title: 'X', start: '+275760-09-13T00:00', durationMinutes: 60 })))).toContain('start');
    expect(await MeetingModel.countDocuments()).toBe(before);
  });

  it('an attendee named with zero-width spaces, and a headcount of "0x10", are refused', async () => {
    expect(await fieldsOf(createAttendee(app.organizer, { meetingId, fullName: '\u200b\u200b', siteId }))).toHaveProperty('fullName');
    expect(await fieldsOf(addSite(app.organizer, { meetingId, name: 'UBND huyện Tháp Mười', expectedHeadcount: '0x10' }))).toHaveProperty('expectedHeadcount');
    expect((await listAttendees(app.organizer, meetingId)).total).toBe(3);
  });

  it('an imported row named with zero-width spaces or fillers is a row without a name: the import is refused, nobody is added', async () => {
    const csv = 'Họ và tên,Email\n\u200b\u200b,zw@example.vn\n\u3164,filler@example.vn\nTrần\u202E Văn Bình,binh@example.vn\n';
    const upload = await organizer.upload(`/api/v1/meetings/${meetingId}/attendees/import`, 'file', { name: 'danh-sach\u202Evsc.csv', type: 'text/csv', content: csv });
    expect(upload.status).toBe(201);
    // The file's name is shown in a heading and sent to every screen of the meeting: no override in it.
    expect(upload.json.filename).toBe('danh-sachvsc.csv');
    const problems = upload.json.rows.map((row: { ok: boolean; problems: Array<{ field: string }> }) => [row.ok, row.problems.map((problem) => problem.field)]);
    expect(problems).toEqual([
      [false, ['fullName']],
      [false, ['fullName']],
      [true, []],
    ]);
    const refused = await organizer.json('POST', `/api/v1/meetings/${meetingId}/attendees/import/${upload.json.draftId}/commit`, {});
    expect(refused.status).toBe(422);
    expect((await listAttendees(app.organizer, meetingId)).total).toBe(3);
    // Drop the two nameless rows: the third goes in with its override taken out.
    for (const row of [2, 3]) expect((await organizer.json('DELETE', `/api/v1/meetings/${meetingId}/attendees/import/${upload.json.draftId}/rows/${row}`)).status).toBe(200);
    const committed = await organizer.json('POST', `/api/v1/meetings/${meetingId}/attendees/import/${upload.json.draftId}/commit`, {});
    expect(committed.status).toBe(200);
    const added = await organizer.getJson(`/api/v1/meetings/${meetingId}/attendees?q=binh`);
    expect(added.json.items.map((item: { fullName: string }) => item.fullName)).toEqual(['Trần Văn Bình']);
    const api = await organizer.json('POST', `/api/v1/meetings/${meetingId}/attendees`, { fullName: '\u3164\u2800', siteId });
    expect(api.status).toBe(422);
    expect(Object.keys(api.json.error.fields)).toEqual(['fullName']);
  });

  it('a search pasted with a zero-width space, a soft hyphen or a word joiner still finds the people it names', async () => {
    for (const q of ['nguyen\u200b', '\u200bNguyễn', 'Nguy\u00adễn', 'nguyễn\u2060 văn']) {
      const page = await organizer.getJson(`/api/v1/meetings/${meetingId}/attendees?q=${encodeURIComponent(q)}`);
      expect(page.json.total, JSON.stringify(q)).toBe(3);
    }
    // Nothing visible typed is no search: the whole list, not an empty one.
    expect((await organizer.getJson(`/api/v1/meetings/${meetingId}/attendees?q=${encodeURIComponent('\u200b')}`)).json.total).toBe(4);
  });

  it('a 300-character search, or q= given twice, shows results instead of an error page', async () => {
    const long = await organizer.get(`/meetings/${meetingId}/attendees?q=${encodeURIComponent(`nguyen ${'x'.repeat(300)}`)}`);
    expect(long.status).toBe(200);
    const twice = await organizer.get(`/meetings/${meetingId}/attendees?q=nguyen&q=tran`);
    expect(twice.status).toBe(200);
    expect(twice.text.split('<tr data-id=').length - 1).toBe(3);
    const api = await organizer.getJson(`/api/v1/meetings/${meetingId}/attendees?q=nguyen&q=tran&siteId=${siteId}&siteId=x`);
    expect(api.status).toBe(200);
    expect(api.json.total).toBe(3);
  });
});
