// The demo conference of PRODUCT.md, built from the seed article (Đồng Tháp's 2021 S&T review):
// created once, on every start, idempotently — also when two instances start at the same time.
import { MeetingModel } from '../meetings/model.js';
import { SiteModel } from '../sites/model.js';
import { AttendeeModel, type AttendeeRole } from '../attendees/model.js';
import { AgendaItemModel, type AgendaKind } from '../agenda/model.js';
import { createMeeting, deleteMeeting, setMeetingStatus } from '../meetings/actions.js';
import { addProvinceDistricts, updateSite } from '../sites/actions.js';
import { createAttendee } from '../attendees/actions.js';
import { addAgendaItem } from '../agenda/actions.js';
import { systemActor } from '../lib/actor.js';
import { isDuplicateKeyError } from '../lib/errors.js';
import type { MeetingRecord } from '../meetings/revision.js';
import { playDemoDay, seedRehearsal } from './demo-day.js';
import { seedDemoTasks } from './demo-tasks.js';

/** The demo's well-known public link, /p/demo-2021: also the key that makes seeding idempotent. */
export const demoPublicId = 'demo-2021';
const provinceCode = '87'; // Đồng Tháp

export const demoMeeting = {
  title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021',
  organizingUnit: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp',
  description:
    'Tổng kết hoạt động khoa học và công nghệ năm 2021 và triển khai phương hướng, nhiệm vụ năm 2022. ' +
    'Hội nghị tổ chức trực tuyến tại điểm cầu Văn phòng UBND Tỉnh và các điểm cầu huyện, thành phố.',
  timeZone: 'Asia/Ho_Chi_Minh',
  start: '2021-12-29T14:00',
  end: '2021-12-29T17:00',
};

/** The Vice Chairman's concluding directives (the seed's closing paragraph); seed/demo-tasks.ts makes them follow-up tasks. */
export const demoDirectives = [
  'Sở Khoa học và Công nghệ rà soát lại những hạn chế, xây dựng kế hoạch cụ thể thực hiện.',
  'Sở Khoa học và Công nghệ đẩy mạnh công tác phối hợp với các viện, trường uy tín và đánh giá lại kết quả đã ký kết thực hiện.',
  'Sở Khoa học và Công nghệ hỗ trợ phát triển các doanh nghiệp khoa học công nghệ trên địa bàn Tỉnh.',
  'Sở Khoa học và Công nghệ tăng cường các hoạt động sở hữu trí tuệ.',
  'Sở Khoa học và Công nghệ chủ động hoạt động chuyển giao công nghệ.',
  'Sở Khoa học và Công nghệ phối hợp với các địa phương, Trường CĐCĐ Đồng Tháp, Trường Đại học Đồng Tháp đẩy mạnh các hoạt động nghiên cứu khoa học và công nghệ phục vụ phát triển kinh tế - xã hội.',
  'Các huyện, thành phố cam kết trong năm 2022 mỗi huyện, thành phố có ít nhất một hoạt động chuyển giao hoặc một nhiệm vụ nghiên cứu khoa học và công nghệ phục vụ địa phương.',
];

interface PersonSeed {
  fullName: string;
  position: string;
  organization: string;
  email?: string;
  phone?: string;
  role: AttendeeRole;
  /** Site name; undefined = the main site. */
  site?: string;
}

/** The two people the article names. No invented contact details for real people. */
const namedPeople: PersonSeed[] = [
  {
    fullName: 'Huỳnh Minh Tuấn',
    position: 'Ủy viên Ban Thường vụ Tỉnh ủy, Phó Chủ tịch UBND Tỉnh',
    organization: 'Ủy ban nhân dân tỉnh Đồng Tháp',
    role: 'chair',
  },
  {
    fullName: 'Trần Thanh Liêm',
    position: 'Tỉnh ủy viên, Giám đốc Sở Khoa học và Công nghệ',
    organization: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp',
    role: 'speaker',
  },
];

const familyNames = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Huỳnh', 'Võ', 'Phan', 'Trương', 'Đặng', 'Bùi', 'Đỗ', 'Hồ', 'Ngô', 'Dương', 'Lý'];
// Middle and given names go together by gender, so no "Thị Hùng" appears.
const names = {
  male: { middle: ['Văn', 'Minh', 'Quốc', 'Hữu', 'Thanh', 'Tấn', 'Hoàng', 'Phước'], given: ['An', 'Bình', 'Cường', 'Dũng', 'Hải', 'Hòa', 'Hùng', 'Khoa', 'Long', 'Nam', 'Phúc', 'Quang', 'Sơn', 'Thắng', 'Trí', 'Trung', 'Vinh', 'Nhân', 'Khánh', 'Tú'] },
  female: { middle: ['Thị', 'Ngọc', 'Thu', 'Kim', 'Thanh', 'Mỹ'], given: ['Giang', 'Hà', 'Hạnh', 'Lan', 'Linh', 'Mai', 'Nga', 'Phương', 'Tâm', 'Thảo', 'Trang', 'Yến', 'Hương', 'Nhung', 'Vy'] },
};

/** Main-site delegates: the Department's own staff, other departments, the universities, the press. */
const mainSiteSeats: Array<{ position: string; organization: string; role: AttendeeRole }> = [
  { position: 'Phó Giám đốc Sở', organization: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp', role: 'delegate' },
  { position: 'Phó Giám đốc Sở', organization: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp', role: 'delegate' },
  { position: 'Chánh Văn phòng Sở', organization: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp', role: 'delegate' },
  { position: 'Trưởng phòng Quản lý công nghệ và Thị trường công nghệ', organization: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp', role: 'speaker' },
  { position: 'Phó Giám đốc Sở', organization: 'Sở Công Thương tỉnh Đồng Tháp', role: 'speaker' },
  { position: 'Phó Giám đốc Sở', organization: 'Sở Tài nguyên và Môi trường tỉnh Đồng Tháp', role: 'speaker' },
  { position: 'Phó Giám đốc Sở', organization: 'Sở Nông nghiệp và Phát triển nông thôn tỉnh Đồng Tháp', role: 'delegate' },
  { position: 'Phó Giám đốc Sở', organization: 'Sở Kế hoạch và Đầu tư tỉnh Đồng Tháp', role: 'delegate' },
  { position: 'Trưởng phòng Hành chính sự nghiệp', organization: 'Sở Tài chính tỉnh Đồng Tháp', role: 'delegate' },
  { position: 'Phó Hiệu trưởng', organization: 'Trường Đại học Đồng Tháp', role: 'speaker' },
  { position: 'Phó Hiệu trưởng', organization: 'Trường Cao đẳng Cộng đồng Đồng Tháp', role: 'delegate' },
  { position: 'Phóng viên', organization: 'Báo Đồng Tháp', role: 'press' },
];

/** Four delegates per district bridge point. */
const districtSeats: Array<{ position: string; organization: (district: string) => string; role: AttendeeRole }> = [
  { position: 'Phó Chủ tịch UBND', organization: (district) => `Ủy ban nhân dân ${district}`, role: 'delegate' },
  { position: 'Trưởng phòng Kinh tế', organization: (district) => `Phòng Kinh tế ${district}`, role: 'delegate' },
  { position: 'Phó Trưởng phòng Nông nghiệp và Phát triển nông thôn', organization: (district) => `Phòng Nông nghiệp và PTNT ${district}`, role: 'delegate' },
  { position: 'Chuyên viên', organization: (district) => `Phòng Kinh tế ${district}`, role: 'guest' },
];

function asciiSlug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}

/** Deterministic fictional name number `index` (same input, same person, on every machine). */
function fictionalName(index: number, attempt = 0): { fullName: string; email: string } {
  const family = familyNames[(index * 7 + 3 + attempt) % familyNames.length];
  const pool = index % 5 === 1 || index % 5 === 3 ? names.female : names.male;
  const middle = pool.middle[(index * 5 + 1 + attempt * 3) % pool.middle.length];
  const given = pool.given[(index * 11 + 5) % pool.given.length];
  const fullName = `${family} ${middle} ${given}`;
  const email = `${asciiSlug(given)}.${asciiSlug(family)}${String(index + 1).padStart(2, '0')}@example.vn`;
  return { fullName, email };
}

function fictionalPhone(index: number): string {
  return `0277 38${String(1000 + ((index * 389) % 9000)).padStart(4, '0')}`;
}

/** About 60 fictional delegates: 12 at the main site, 4 at each of the 12 district bridge points. */
export function generatedDelegates(districtNames: string[]): PersonSeed[] {
  const people: PersonSeed[] = [];
  const taken = new Set(namedPeople.map((person) => person.fullName));
  /** Deterministic and unique: a name already given is varied until it is new. */
  const uniqueName = (index: number) => {
    for (let attempt = 0; ; attempt += 1) {
      const candidate = fictionalName(index, attempt);
      if (!taken.has(candidate.fullName)) {
        taken.add(candidate.fullName);
        return candidate;
      }
    }
  };
  let index = 0;
  for (const seat of mainSiteSeats) {
    const { fullName, email } = uniqueName(index);
    people.push({ fullName, email, phone: fictionalPhone(index), position: seat.position, organization: seat.organization, role: seat.role });
    index += 1;
  }
  for (const district of districtNames) {
    const shortName = district.charAt(0).toLowerCase() + district.slice(1);
    for (const seat of districtSeats) {
      const { fullName, email } = uniqueName(index);
      people.push({ fullName, email, phone: fictionalPhone(index), position: seat.position, organization: seat.organization(shortName), role: seat.role, site: district });
      index += 1;
    }
  }
  return people;
}

interface AgendaSeed {
  title: string;
  kind: AgendaKind;
  plannedMinutes: number;
  /** Attendee speakers by full name (looked up in the meeting), or free-text speakers. */
  speakers: Array<{ attendee: string } | { name: string; position: string }>;
  notes?: string;
}

/** 14:00–17:00: 180 minutes, as the article's order of business. */
function demoAgenda(people: PersonSeed[]): AgendaSeed[] {
  const find = (position: string, organization: string) =>
    people.find((person) => person.position === position && person.organization.startsWith(organization))?.fullName ?? '';
  const officeChief = find('Chánh Văn phòng Sở', 'Sở Khoa học');
  const technologyHead = find('Trưởng phòng Quản lý công nghệ và Thị trường công nghệ', 'Sở Khoa học');
  const industry = find('Phó Giám đốc Sở', 'Sở Công Thương');
  const environment = find('Phó Giám đốc Sở', 'Sở Tài nguyên');
  const university = find('Phó Hiệu trưởng', 'Trường Đại học Đồng Tháp');
  const districtHead = (district: string) => find('Phó Chủ tịch UBND', `Ủy ban nhân dân ${district}`);
  return [
    {
      title: 'Khai mạc, tuyên bố lý do và giới thiệu đại biểu',
      kind: 'opening',
      plannedMinutes: 10,
      speakers: [{ attendee: officeChief }],
    },
    {
      title: 'Báo cáo kết quả hoạt động khoa học và công nghệ năm 2021 và phương hướng, nhiệm vụ năm 2022',
      kind: 'report',
      plannedMinutes: 30,
      speakers: [{ attendee: 'Trần Thanh Liêm' }],
      notes:
        'Năm 2021: tham mưu UBND Tỉnh đặt hàng 04 nhiệm vụ KH&CN cấp quốc gia; theo dõi 01 dự án thuộc chương trình nông thôn miền núi; ' +
        'ký hợp đồng thực hiện 27 nhiệm vụ cấp Tỉnh; theo dõi 19 nhiệm vụ cấp cơ sở; hỗ trợ 49 lượt tổ chức, cá nhân đầu tư vào hoạt động KH&CN.',
    },
    { title: 'Giải lao', kind: 'break', plannedMinutes: 10, speakers: [] },
    {
      title: 'Thảo luận: phát triển nhãn hiệu và sở hữu trí tuệ',
      kind: 'discussion',
      plannedMinutes: 15,
      speakers: [{ attendee: districtHead('thành phố Sa Đéc') }],
    },
    {
      title: 'Thảo luận: kết nối, chuyển giao công nghệ',
      kind: 'discussion',
      plannedMinutes: 20,
      speakers: [{ attendee: technologyHead }, { attendee: university }],
    },
    {
      title: 'Thảo luận: đề xuất nghiên cứu khoa học về kinh tế tuần hoàn',
      kind: 'discussion',
      plannedMinutes: 15,
      speakers: [{ attendee: industry }],
    },
    {
      title: 'Thảo luận: xử lý ô nhiễm môi trường',
      kind: 'discussion',
      plannedMinutes: 15,
      speakers: [{ attendee: environment }, { attendee: districtHead('huyện Tháp Mười') }],
    },
    {
      title: 'Thảo luận: cơ chế, chính sách về khoa học và công nghệ',
      kind: 'discussion',
      plannedMinutes: 20,
      speakers: [{ attendee: districtHead('huyện Lai Vung') }],
    },
    {
      title: 'Phát biểu kết luận, chỉ đạo của Phó Chủ tịch UBND Tỉnh',
      kind: 'directives',
      plannedMinutes: 35,
      speakers: [{ attendee: 'Huỳnh Minh Tuấn' }],
      notes: demoDirectives.map((directive) => `- ${directive}`).join('\n'),
    },
    { title: 'Bế mạc hội nghị', kind: 'closing', plannedMinutes: 10, speakers: [{ attendee: officeChief }] },
  ];
}

/** A half-seeded demo untouched this long was abandoned by a crashed start; the next start completes it. */
const abandonedAfterMs = 2 * 60_000;

/**
 * Creates the demo conference unless it exists. The fixed publicId, under its unique index, is
 * the lock: of two instances starting together exactly one claims it and fills the meeting in;
 * the other removes its own unclaimed draft and leaves. Every seeding step bumps the meeting's
 * revision (and so its updatedAt), so a start that finds the demo without an agenda can tell a
 * seed in progress elsewhere (recent) from one abandoned by a crash (stale), and only completes
 * the latter, after winning a compare-and-set on updatedAt. Every step skips what exists.
 */
export async function seedDemoConference(): Promise<{ demoId?: string; rehearsal?: MeetingRecord }> {
  await seedDemoMeeting();
  // Then the day: 2021 as it ended, and today's rehearsal (each skipped once done).
  const demo = await MeetingModel.findOne({ publicId: demoPublicId }, { _id: 1, status: 1 }).lean();
  if (!demo || demo.status === 'draft' || !(await AgendaItemModel.exists({ meetingId: demo._id }))) return {};
  const rehearsal = await seedRehearsal(String(demo._id));
  await playDemoDay(String(demo._id));
  // Then the year after: the chair's directives as the 2022 tasks they became.
  await seedDemoTasks(String(demo._id));
  return { demoId: String(demo._id), rehearsal };
}

async function seedDemoMeeting(): Promise<void> {
  let meeting = await MeetingModel.findOne({ publicId: demoPublicId }, { _id: 1, status: 1, updatedAt: 1 }).lean();
  if (meeting) {
    if (await AgendaItemModel.exists({ meetingId: meeting._id })) return;
    const seenAt = meeting.updatedAt;
    if (seenAt && Date.now() - seenAt.getTime() < abandonedAfterMs) return;
    const takenOver = await MeetingModel.updateOne({ _id: meeting._id, updatedAt: seenAt }, { $set: { updatedAt: new Date() } }, { timestamps: false });
    if (takenOver.modifiedCount === 0) return;
  } else {
    const created = await createMeeting(systemActor, { ...demoMeeting, status: 'draft' });
    try {
      await MeetingModel.updateOne({ _id: created._id }, { $set: { publicId: demoPublicId } });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Another instance claimed the demo first; it fills it in.
      await deleteMeeting(systemActor, { meetingId: String(created._id) });
      return;
    }
    meeting = { _id: created._id, status: 'draft', updatedAt: new Date() };
  }
  const meetingId = String(meeting._id);

  await seedSites(meetingId);
  const people = await seedAttendees(meetingId);
  await seedAgenda(meetingId, people);
  if (meeting.status === 'draft') await setMeetingStatus(systemActor, { meetingId, action: 'schedule' });
}

async function seedSites(meetingId: string): Promise<void> {
  await addProvinceDistricts(systemActor, { meetingId, provinceCode });
  // Fictional coordinators and video-link details, so the organizer's pages look lived-in (and the
  // public page has secrets to keep).
  const sites = await SiteModel.find({ meetingId }).sort({ order: 1 }).lean();
  for (const [index, site] of sites.entries()) {
    if (site.coordinatorName) continue;
    const { fullName } = fictionalName(100 + index);
    await updateSite(systemActor, {
      meetingId,
      siteId: String(site._id),
      coordinatorName: fullName,
      coordinatorPhone: `0913 ${String(200000 + index * 7919).slice(0, 3)} ${String(100 + index * 37).padStart(3, '0')}`,
      expectedHeadcount: site.isMain ? 40 : 8,
      videoLink: {
        platform: 'Zoom',
        url: 'https://zoom.example.vn/j/2021122914',
        roomId: '202 112 2914',
        passcode: `KHCN${String(2021 + index * 13).slice(-4)}`,
      },
    });
  }
}

async function seedAttendees(meetingId: string): Promise<PersonSeed[]> {
  const sites = await SiteModel.find({ meetingId }).sort({ order: 1 }).lean();
  const main = sites.find((site) => site.isMain);
  if (!main) throw new Error('demo seed: the main site is missing');
  const districtNames = sites.filter((site) => !site.isMain).map((site) => site.name);
  const people = [...namedPeople, ...generatedDelegates(districtNames)];
  const siteIdByName = new Map(sites.map((site) => [site.name, String(site._id)]));
  const existing = await AttendeeModel.find({ meetingId }).select({ fullName: 1, email: 1 }).lean();
  const have = new Set(existing.map((attendee) => attendee.email ?? `name:${attendee.fullName}`));
  for (const person of people) {
    if (have.has(person.email ?? `name:${person.fullName}`)) continue;
    await createAttendee(systemActor, {
      meetingId,
      fullName: person.fullName,
      position: person.position,
      organization: person.organization,
      email: person.email ?? '',
      phone: person.phone ?? '',
      role: person.role,
      siteId: person.site ? siteIdByName.get(person.site) : String(main._id),
    });
  }
  return people;
}

async function seedAgenda(meetingId: string, people: PersonSeed[]): Promise<void> {
  if (await AgendaItemModel.exists({ meetingId })) return;
  const attendees = await AttendeeModel.find({ meetingId }).select({ fullName: 1 }).lean();
  const idByName = new Map(attendees.map((attendee) => [attendee.fullName, String(attendee._id)]));
  for (const item of demoAgenda(people)) {
    const speakers = item.speakers.flatMap((speaker): Array<{ attendeeId: string } | { name: string; position: string }> => {
      if (!('attendee' in speaker)) return [speaker];
      const attendeeId = idByName.get(speaker.attendee);
      return attendeeId ? [{ attendeeId }] : [];
    });
    await addAgendaItem(systemActor, { meetingId, title: item.title, kind: item.kind, plannedMinutes: item.plannedMinutes, notes: item.notes ?? '', speakers });
  }
}
