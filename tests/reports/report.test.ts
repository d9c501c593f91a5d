// The attendance report of an ended meeting with 2,000 people over 13 sites: every figure (per
// site, organization and role, the reasons of absence, late, left early, walk-ins) equals what
// the test derives from the states it gave each person; the page, the CSV and the XLSX show the
// same figures with their diacritics; and only the meeting's organizers and chair see any of it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { testUnit } from '../helpers/database.js';
import { endedMeetingWith, organizations, reasons, type PersonSpec, type ReportMeeting } from './fixtures.js';
import { addUnit } from '../../server/units/actions.js';
import { inviteAccount } from '../../server/accounts/actions.js';
import { AttendeeModel, attendeeRoles } from '../../server/attendees/model.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import { createAttendee, removeAttendee, updateAttendee } from '../../server/attendees/actions.js';
import { checkIn } from '../../server/attendance/actions.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { demoPublicId, seedDemoConference } from '../../server/seed/demo.js';

let app: TestApp;
let organizer: HttpClient;
let day: ReportMeeting;

beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
  day = await endedMeetingWith(app.organizer, 2000, { unitId: testUnit.id });
}, 120_000);
afterAll(async () => {
  await app?.stop();
});

type Figures = { expected: number; present: number; absent: number; absentBy: Record<string, number>; pending: number; late: number; leftEarly: number; walkIns: number; attended: number; rate: number };

/** The figures of a group of people, straight from the states the fixture gave them. */
function expectedFigures(people: PersonSpec[]): Figures {
  const came = (person: PersonSpec) => person.status === 'present' || person.status === 'leftEarly';
  const invited = people.filter((person) => !person.walkIn);
  const present = invited.filter(came).length;
  const absent = invited.filter((person) => person.status === 'absent').length;
  const figures = {
    expected: invited.length,
    present,
    absent,
    absentBy: Object.fromEntries(reasons.map((reason) => [reason, invited.filter((person) => person.status === 'absent' && person.reason === reason).length])),
    pending: invited.length - present - absent,
    late: people.filter((person) => came(person) && person.late).length,
    leftEarly: people.filter((person) => person.status === 'leftEarly').length,
    walkIns: people.filter((person) => person.walkIn && came(person)).length,
    attended: 0,
    rate: invited.length > 0 ? Math.round((present * 100) / invited.length) : 0,
  };
  figures.attended = figures.present + figures.walkIns;
  return figures;
}

const figuresOf = (line: Figures & Record<string, unknown>): Figures => {
  const { expected, present, absent, absentBy, pending, late, leftEarly, walkIns, attended, rate } = line;
  return { expected, present, absent, absentBy, pending, late, leftEarly, walkIns, attended, rate };
};

describe('the attendance report’s figures', () => {
  it('per site, organization and role equal the states given to 2,000 people over 13 sites', async () => {
    const response = await organizer.getJson(`/api/v1/meetings/${day.meetingId}/report`);
    expect(response.status).toBe(200);
    const report = response.json;

    const totals = expectedFigures(day.people);
    // The mix is real: every kind of state occurs.
    for (const value of [totals.present, totals.absent, totals.pending, totals.late, totals.leftEarly, totals.walkIns, ...Object.values(totals.absentBy)]) expect(value).toBeGreaterThan(0);
    expect(totals.expected + day.people.filter((person) => person.walkIn).length).toBe(2000);
    expect(figuresOf(report.totals)).toEqual(totals);

    expect(day.sites).toHaveLength(13);
    expect(report.sites.map((site: { name: string }) => site.name)).toEqual(day.sites.map((site) => site.name));
    for (const [index, site] of day.sites.entries()) {
      expect({ site: site.name, ...figuresOf(report.sites[index]) }).toEqual({ site: site.name, ...expectedFigures(day.people.filter((person) => person.siteIndex === index)) });
    }

    const byOrganization = new Map(report.organizations.map((line: Figures & { key: string }) => [line.key, figuresOf(line)]));
    expect(byOrganization.size).toBe(organizations.length);
    for (const name of organizations) expect({ name, ...(byOrganization.get(name) as Figures) }).toEqual({ name, ...expectedFigures(day.people.filter((person) => person.organization === name)) });

    expect(report.roles.map((line: { key: string }) => line.key)).toEqual([...attendeeRoles]);
    for (const line of report.roles) expect({ role: line.key, ...figuresOf(line) }).toEqual({ role: line.key, ...expectedFigures(day.people.filter((person) => person.role === line.key)) });
  });

  it('follows a change made afterwards: an attendee removed from the list no longer counts', async () => {
    const small = await endedMeetingWith(app.organizer, 60, { unitId: testUnit.id, title: 'Hội nghị nhỏ' });
    const gone = small.people.find((person) => person.status === 'absent' && !person.walkIn)!;
    await removeAttendee(app.organizer, { meetingId: small.meetingId, attendeeId: String(gone.id) });
    const report = (await organizer.getJson(`/api/v1/meetings/${small.meetingId}/report`)).json;
    expect(figuresOf(report.totals)).toEqual(expectedFigures(small.people.filter((person) => person !== gone)));
  });

  it('follows an attendee whose organization and role change afterwards: their attendance moves to the new lines', async () => {
    const small = await endedMeetingWith(app.organizer, 60, { unitId: testUnit.id, title: 'Hội nghị đổi đơn vị' });
    const moved = small.people.find((person) => person.status === 'present' && !person.walkIn && person.late && person.role !== 'chair')!;
    const organization = 'Sở Tài chính tỉnh Đồng Tháp';
    await updateAttendee(app.organizer, { meetingId: small.meetingId, attendeeId: String(moved.id), organization, role: 'press' });
    const people = small.people.map((person) => (person === moved ? { ...person, organization, role: 'press' as const } : person));
    const report = (await organizer.getJson(`/api/v1/meetings/${small.meetingId}/report`)).json;
    const line = (lines: Array<Figures & { key: string }>, key: string) => figuresOf(lines.find((candidate) => candidate.key === key)!);
    expect(line(report.organizations, organization)).toEqual(expectedFigures([{ ...moved, organization }]));
    expect(line(report.organizations, moved.organization)).toEqual(expectedFigures(people.filter((person) => person.organization === moved.organization)));
    expect(line(report.roles, 'press')).toEqual(expectedFigures(people.filter((person) => person.role === 'press')));
    expect(line(report.roles, moved.role)).toEqual(expectedFigures(people.filter((person) => person.role === moved.role)));
    expect(figuresOf(report.totals)).toEqual(expectedFigures(people));
  });

  it('a check-in writes the attendee’s organization and role on the record, as the report counts it', async () => {
    const meeting = await createMeeting(app.organizer, { title: 'Hội nghị điểm danh', start: '2026-12-29T07:30', end: '2026-12-29T11:30', status: 'scheduled', unitId: testUnit.id });
    const meetingId = String(meeting._id);
    const site = await addSite(app.organizer, { meetingId, name: 'Văn phòng UBND Tỉnh', isMain: true });
    const person = await createAttendee(app.organizer, { meetingId, fullName: 'Nguyễn Văn Ánh', organization: 'Sở Y tế', role: 'speaker', siteId: String(site._id) });
    await checkIn(app.organizer, { meetingId, attendeeId: person.id, opId: randomUUID() });
    const stored = await AttendanceModel.findOne({ meetingId, attendeeId: person.id }).lean();
    expect({ organization: stored?.organization, role: stored?.role }).toEqual({ organization: 'Sở Y tế', role: 'speaker' });
    const report = (await organizer.getJson(`/api/v1/meetings/${meetingId}/report`)).json;
    expect(report.organizations.map((line: Figures & { key: string }) => ({ key: line.key, present: line.present }))).toEqual([{ key: 'Sở Y tế', present: 1 }]);
    expect(report.roles.map((line: Figures & { key: string }) => ({ key: line.key, present: line.present }))).toEqual([{ key: 'speaker', present: 1 }]);
  });

  it('a first check-in that read the attendee just before their organization and role changed counts them under the new ones', async () => {
    const meeting = await createMeeting(app.organizer, { title: 'Hội nghị đổi vai trò', start: '2026-12-29T07:30', end: '2026-12-29T11:30', status: 'scheduled', unitId: testUnit.id });
    const meetingId = String(meeting._id);
    const site = await addSite(app.organizer, { meetingId, name: 'Văn phòng UBND Tỉnh', isMain: true });
    const person = await createAttendee(app.organizer, { meetingId, fullName: 'Trần Thị Bình', organization: 'Sở Y tế', role: 'delegate', siteId: String(site._id) });
    // The change lands between the check-in's read of the attendee and its creation of the
    // record (the record's creation is held until the change is written).
    const original = AttendanceModel.findOneAndUpdate;
    let changed = false;
    const hold = function (this: unknown, ...args: unknown[]) {
      const query = (original as (...a: unknown[]) => { lean: () => unknown }).apply(this, args);
      if (changed || !(args[1] as { $setOnInsert?: unknown } | undefined)?.$setOnInsert) return query;
      changed = true;
      return {
        lean: async () => {
          await updateAttendee(app.organizer, { meetingId, attendeeId: person.id, organization: 'Sở Tài chính', role: 'speaker' });
          return query.lean();
        },
      };
    };
    (AttendanceModel as unknown as { findOneAndUpdate: unknown }).findOneAndUpdate = hold;
    try {
      await checkIn(app.organizer, { meetingId, attendeeId: person.id, opId: randomUUID() });
    } finally {
      AttendanceModel.findOneAndUpdate = original;
    }
    expect(changed).toBe(true);
    const stored = await AttendanceModel.findOne({ meetingId, attendeeId: person.id }).lean();
    expect({ organization: stored?.organization, role: stored?.role }).toEqual({ organization: 'Sở Tài chính', role: 'speaker' });
    const report = (await organizer.getJson(`/api/v1/meetings/${meetingId}/report`)).json;
    expect(report.organizations.map((line: Figures & { key: string }) => ({ key: line.key, expected: line.expected, present: line.present }))).toEqual([{ key: 'Sở Tài chính', expected: 1, present: 1 }]);
    expect(report.roles.map((line: Figures & { key: string }) => ({ key: line.key, expected: line.expected, present: line.present }))).toEqual([{ key: 'speaker', expected: 1, present: 1 }]);
  });

  it('follows an attendee who moves site after check-in, and a walk-in who does', async () => {
    const small = await endedMeetingWith(app.organizer, 60, { unitId: testUnit.id, title: 'Hội nghị đổi điểm cầu' });
    const movers = [small.people.find((person) => person.status === 'present' && !person.walkIn && person.late)!, small.people.find((person) => person.walkIn && person.status === 'present')!];
    expect(movers.every(Boolean)).toBe(true);
    const people = [...small.people];
    for (const mover of movers) {
      const target = (mover.siteIndex + 1) % small.sites.length;
      await updateAttendee(app.organizer, { meetingId: small.meetingId, attendeeId: String(mover.id), siteId: small.sites[target].id });
      people[people.indexOf(mover)] = { ...mover, siteIndex: target };
    }
    const report = (await organizer.getJson(`/api/v1/meetings/${small.meetingId}/report`)).json;
    expect(figuresOf(report.totals)).toEqual(expectedFigures(people));
    for (const [index, site] of small.sites.entries()) {
      expect({ site: site.name, ...figuresOf(report.sites[index]) }).toEqual({ site: site.name, ...expectedFigures(people.filter((person) => person.siteIndex === index)) });
    }
  });

  it('counts records written before they carried the organization and role by their attendee', async () => {
    const small = await endedMeetingWith(app.organizer, 80, { unitId: testUnit.id, title: 'Hội nghị dữ liệu cũ' });
    const older = small.people.filter((_, index) => index % 3 === 0).map((person) => person.id);
    await AttendanceModel.collection.updateMany({ attendeeId: { $in: older } }, { $unset: { organization: '', role: '' } });
    const report = (await organizer.getJson(`/api/v1/meetings/${small.meetingId}/report`)).json;
    expect(figuresOf(report.totals)).toEqual(expectedFigures(small.people));
    for (const line of report.organizations) expect({ key: line.key, ...figuresOf(line) }).toEqual({ key: line.key, ...expectedFigures(small.people.filter((person) => person.organization === line.key)) });
    for (const line of report.roles) expect({ key: line.key, ...figuresOf(line) }).toEqual({ key: line.key, ...expectedFigures(small.people.filter((person) => person.role === line.key)) });
  });

  it('sets the agenda as planned against the actual times of the day', async () => {
    const report = (await organizer.getJson(`/api/v1/meetings/${day.meetingId}/report`)).json;
    const meeting = (await MeetingModel.findById(day.meetingId).lean())!;
    let planned = meeting.startsAt.getTime();
    let actual = planned + 4 * 60_000;
    expect(report.agenda.items).toHaveLength(day.agenda.length);
    for (const [index, item] of day.agenda.entries()) {
      const line = report.agenda.items[index];
      expect(line).toMatchObject({ title: item.title, plannedMinutes: item.plannedMinutes, actualMinutes: item.actualMinutes, overMinutes: item.actualMinutes - item.plannedMinutes });
      expect(new Date(line.plannedStartsAt).getTime()).toBe(planned);
      expect(new Date(line.actualStartedAt).getTime()).toBe(actual);
      expect(line.startDelayMinutes).toBe(Math.round((actual - planned) / 60_000));
      planned += item.plannedMinutes * 60_000;
      actual += item.actualMinutes * 60_000;
    }
    expect(report.agenda.plannedMinutes).toBe(day.agenda.reduce((sum, item) => sum + item.plannedMinutes, 0));
    expect(report.agenda.actualMinutes).toBe(day.agenda.reduce((sum, item) => sum + item.actualMinutes, 0));
  });
});

describe('the report page', () => {
  it('shows the totals, a bar per site in the chart and every table, in Vietnamese, and in English on request', async () => {
    const totals = expectedFigures(day.people);
    const page = await organizer.get(`/meetings/${day.meetingId}/report`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Báo cáo điểm danh');
    expect(page.text).toContain(`data-total="present">${totals.present}<`);
    expect(page.text).toContain(`data-total="walkIns">${totals.walkIns}<`);
    expect(page.text.match(/<g data-chart-row>/g)).toHaveLength(13);
    expect(page.text).toContain('Biểu đồ điểm danh theo điểm cầu');
    for (const table of ['sites', 'organizations', 'roles', 'agenda']) expect(page.text).toContain(`data-table="${table}"`);
    expect(page.text).toContain('Cử người dự thay');
    // Names are escaped, in the table and the chart alike.
    expect(page.text).toContain('&#x3D;HYPERLINK(&quot;http://x.example&quot;,&quot;bấm&quot;)');
    expect(page.text).not.toContain('"http://x.example"');
    // The meeting's dashboard leads to it.
    expect((await organizer.get(`/meetings/${day.meetingId}`)).text.match(new RegExp(`href="/meetings/${day.meetingId}/report"`, 'g'))).toHaveLength(2);
    expect((await organizer.get(`/meetings/${day.meetingId}`)).text).toContain(`href="/meetings/${day.meetingId}/report"`);

    const english = await organizer.get(`/meetings/${day.meetingId}/report?lang=en`);
    expect(english.text).toContain('Attendance by site');
    expect(english.text).toContain('Sent a delegate');
  });
});

describe('the report’s exports', () => {
  it('CSV: UTF-8 with a BOM, Vietnamese headers, the same figures, formula-like names defused', async () => {
    const response = await organizer.get(`/meetings/${day.meetingId}/report/export?format=csv&lang=vi`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/csv');
    expect(response.headers.get('content-disposition')).toMatch(/attachment; filename="?bao-cao-diem-danh-\d{8}-\d{4}\.csv"?/);
    const bytes = Buffer.from(await (await fetch(new URL(`/meetings/${day.meetingId}/report/export?format=csv&lang=vi`, app.baseUrl), { headers: { cookie: organizer.cookieHeader() } })).arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows: string[][] = parse(bytes.toString('utf8'), { bom: true, relax_column_count: true, skip_empty_lines: true });
    expect(rows[0]).toEqual(['Báo cáo điểm danh', 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', expect.stringContaining('29/12/2021')]);
    const siteHeader = rows.findIndex((row) => row[0] === 'Điểm cầu');
    expect(rows[siteHeader]).toEqual(['Điểm cầu', 'Dự kiến', 'Có mặt', 'Tỷ lệ (%)', 'Vắng', 'Ốm', 'Đi công tác', 'Cử người dự thay', 'Lý do khác', 'Chưa điểm danh', 'Đến muộn', 'Về sớm', 'Vãng lai', 'Tổng số dự']);
    for (const [index, site] of day.sites.entries()) {
      const figures = expectedFigures(day.people.filter((person) => person.siteIndex === index));
      expect(rows[siteHeader + 1 + index]).toEqual([site.name, ...[figures.expected, figures.present, figures.rate, figures.absent, figures.absentBy.sick, figures.absentBy.mission, figures.absentBy.delegate, figures.absentBy.other, figures.pending, figures.late, figures.leftEarly, figures.walkIns, figures.attended].map(String)]);
    }
    const totals = expectedFigures(day.people);
    expect(rows[siteHeader + 14].slice(0, 3)).toEqual(['Tổng cộng', String(totals.expected), String(totals.present)]);
    const names = rows.map((row) => row[0]);
    expect(names).toContain('Trường Đại học Đồng Tháp');
    expect(names).toContain('Ủy ban nhân dân huyện Lấp Vò');
    expect(names).toContain(`'=HYPERLINK("http://x.example","bấm")`);
    expect(names).toContain('(không ghi đơn vị)');
    expect(rows).toContainEqual(['4', 'Kết luận của đồng chí chủ trì', '15:40–15:55', '15:49–16:09', '15', '20', '5']);
  });

  it('XLSX: one sheet per table, figures as numbers, diacritics intact, no formulas', async () => {
    const response = await fetch(new URL(`/meetings/${day.meetingId}/report/export?format=xlsx&lang=vi`, app.baseUrl), { headers: { cookie: organizer.cookieHeader() } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await response.arrayBuffer());
    expect(workbook.worksheets.map((sheet) => sheet.name)).toEqual(['Điểm cầu', 'Đơn vị', 'Vai trò', 'Chương trình']);
    const sites = workbook.getWorksheet('Điểm cầu')!;
    expect(sites.getRow(1).getCell(8).value).toBe('Cử người dự thay');
    for (const [index, site] of day.sites.entries()) {
      const figures = expectedFigures(day.people.filter((person) => person.siteIndex === index));
      const row = sites.getRow(index + 2);
      expect(row.getCell(1).value).toBe(site.name);
      expect(row.getCell(2).value).toBe(figures.expected);
      expect(row.getCell(3).value).toBe(figures.present);
      expect(row.getCell(13).value).toBe(figures.walkIns);
    }
    expect(sites.getRow(15).getCell(1).value).toBe('Tổng cộng');
    expect(sites.getRow(15).getCell(2).value).toBe(expectedFigures(day.people).expected);
    const organizationsSheet = workbook.getWorksheet('Đơn vị')!;
    const names: unknown[] = [];
    organizationsSheet.eachRow((row) => {
      names.push(row.getCell(1).value);
      row.eachCell((cell) => expect(cell.type).not.toBe(ExcelJS.ValueType.Formula));
    });
    expect(names).toEqual(expect.arrayContaining(['Công ty Cổ phần Dược phẩm Imexpharm', 'Viện Lúa Đồng bằng sông Cửu Long', `'=HYPERLINK("http://x.example","bấm")`]));
    const agenda = workbook.getWorksheet('Chương trình')!;
    expect(agenda.getRow(3).getCell(2).value).toBe('Báo cáo tổng kết hoạt động KH&CN năm 2021');
    expect(agenda.getRow(3).getCell(6).value).toBe(38);
    expect(agenda.getRow(3).getCell(7).value).toBe(8);
  });

  it('an unknown format is refused in the asker’s language', async () => {
    const vi = await organizer.getJson(`/api/v1/meetings/${day.meetingId}/report/export?format=pdf&lang=vi`);
    expect(vi.status).toBe(400);
    expect(vi.json.error.message).toBe('Định dạng tải về không hợp lệ: chọn CSV hoặc XLSX.');
    const en = await organizer.getJson(`/api/v1/meetings/${day.meetingId}/report/export?format=pdf&lang=en`);
    expect(en.json.error.message).toBe('Unknown download format: choose CSV or XLSX.');
  });
});

describe('who sees the report', () => {
  it('the chair does; a coordinator and an attendee of the meeting are refused; another unit’s organizer is told it does not exist; a stranger is sent to sign in', async () => {
    const chair = await AttendeeModel.findOne({ meetingId: day.meetingId, role: 'chair' }).lean();
    const attendee = await AttendeeModel.findOne({ meetingId: day.meetingId, role: 'delegate' }).lean();
    const site = await SiteModel.findOne({ meetingId: day.meetingId }).lean();
    const paths = [`/meetings/${day.meetingId}/report`, `/meetings/${day.meetingId}/report/export?format=csv&lang=vi`, `/api/v1/meetings/${day.meetingId}/report`, `/api/v1/meetings/${day.meetingId}/report/export?format=xlsx`];

    const chairClient = HttpClient.withBearer(app.baseUrl, chair!.accessToken);
    for (const path of paths) expect({ path, status: (await chairClient.get(path)).status }).toEqual({ path, status: 200 });

    for (const token of [site!.coordinatorToken, attendee!.accessToken]) {
      const client = HttpClient.withBearer(app.baseUrl, token);
      for (const path of paths) expect({ path, status: (await client.get(path)).status }).toEqual({ path, status: 403 });
    }

    const unit = await addUnit(app.organizer, { name: 'Sở Giáo dục và Đào tạo' });
    await inviteAccount(app.organizer, { name: 'Cán bộ Sở GD&ĐT', email: 'gddt-report@example.vn', role: 'organizer', unitId: String(unit._id), password: 'a password of the unit' });
    const other = app.newClient();
    expect((await other.signIn('gddt-report@example.vn', 'a password of the unit')).status).toBe(303);
    for (const path of paths) expect({ path, status: (await other.get(path)).status }).toEqual({ path, status: 404 });
    expect((await other.get(`/meetings/${day.meetingId}`)).text).not.toContain('/report');

    const stranger = app.newClient();
    const page = await stranger.get(paths[0]);
    expect(page.status).toBe(303);
    expect(page.location).toMatch(/^\/login/);
    expect((await stranger.getJson(paths[2])).status).toBe(401);
    expect((await organizer.get('/meetings/not-an-id/report')).status).toBe(404);
  });
});

describe('the demo conference', () => {
  it('ended with real attendance: its report shows it', async () => {
    await seedDemoConference();
    const demo = (await MeetingModel.findOne({ publicId: demoPublicId }).lean())!;
    expect(demo.status).toBe('ended');
    const report = (await organizer.getJson(`/api/v1/meetings/${String(demo._id)}/report`)).json;
    expect(report.sites).toHaveLength(13);
    expect(report.totals.present).toBeGreaterThan(0);
    expect(report.totals.absentBy).toEqual({ sick: 1, mission: 1, delegate: 1, other: 1 });
    expect(report.totals.late).toBeGreaterThan(0);
    expect(report.totals.leftEarly).toBe(2);
    expect(report.agenda.items.every((item: { actualMinutes: number | null }) => item.actualMinutes !== null)).toBe(true);
  });
});
