// Shared setup of the conference-day browser tests: today's review conference, scheduled, with
// Đồng Tháp's sites, three people at Thành phố Sa Đéc, one at the main site, and a short agenda.
import type { BrowserContext } from 'playwright-core';
import { DateTime } from 'luxon';
import { createMeeting, setMeetingStatus } from '../../server/meetings/actions.js';
import { addProvinceDistricts } from '../../server/sites/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { addAgendaItem } from '../../server/agenda/actions.js';
import { organizerCredentials, type TestApp } from '../helpers/app.js';

export interface ConferenceDay {
  meetingId: string;
  siteId: string;
  siteName: string;
  mainSiteId: string;
  coordinatorToken: string;
  people: Array<{ id: string; fullName: string; accessToken: string }>;
  agenda: string[];
}

export const agendaTitles = ['Khai mạc, giới thiệu đại biểu', 'Báo cáo tổng kết năm 2021', 'Tham luận của các điểm cầu'];

export async function conferenceDay(app: TestApp): Promise<ConferenceDay> {
  const start = DateTime.now().setZone('Asia/Ho_Chi_Minh').plus({ minutes: 30 }).startOf('minute');
  const meeting = await createMeeting(app.organizer, {
    title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021 (tổng duyệt)',
    start: start.toFormat("yyyy-MM-dd'T'HH:mm"),
    end: start.plus({ hours: 3 }).toFormat("yyyy-MM-dd'T'HH:mm"),
  });
  const meetingId = String(meeting._id);
  await addProvinceDistricts(app.organizer, { meetingId, provinceCode: '87' });
  const sites = await SiteModel.find({ meetingId }).lean();
  const site = sites.find((candidate) => candidate.name === 'Thành phố Sa Đéc')!;
  const main = sites.find((candidate) => candidate.isMain)!;
  const siteId = String(site._id);
  for (const [fullName, position] of [
    ['Nguyễn Văn Hùng', 'Phó Chủ tịch UBND thành phố'],
    ['Trần Thị Lan', 'Trưởng phòng Kinh tế'],
    ['Lê Đức Minh', 'Chuyên viên'],
  ]) await createAttendee(app.organizer, { meetingId, fullName, position, siteId });
  await createAttendee(app.organizer, { meetingId, fullName: 'Huỳnh Minh Tuấn', position: 'Phó Chủ tịch UBND tỉnh', siteId: String(main._id) });
  for (const title of agendaTitles) await addAgendaItem(app.organizer, { meetingId, title, plannedMinutes: 20 });
  await setMeetingStatus(app.organizer, { meetingId, action: 'schedule' });
  const people = await AttendeeModel.find({ meetingId, siteId }).sort({ fullName: 1 }).lean();
  return {
    meetingId,
    siteId,
    siteName: site.name,
    mainSiteId: String(main._id),
    coordinatorToken: site.coordinatorToken,
    people: people.map((person) => ({ id: String(person._id), fullName: person.fullName, accessToken: person.accessToken })),
    agenda: agendaTitles,
  };
}

/** The organizer signed in, in this browser context. */
export async function signInOrganizer(context: BrowserContext, app: TestApp): Promise<void> {
  const page = await context.newPage();
  await page.goto(`${app.baseUrl}/login`);
  await page.fill('#field-email', organizerCredentials.email);
  await page.fill('#field-password', organizerCredentials.password);
  await Promise.all([page.waitForURL(/\/meetings/), page.click('button[type="submit"]')]);
  await page.close();
}

/** A capability link (/s/<token> or /a/<token>) opened once, so the context's session is that person. */
export async function openLink(context: BrowserContext, app: TestApp, path: string): Promise<void> {
  const page = await context.newPage();
  await page.goto(`${app.baseUrl}${path}`);
  await page.close();
}
