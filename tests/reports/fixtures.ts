// An ended meeting over the province's 13 sites (main office + 12 districts) with `count` people
// in a known, deterministic mix of attendance states, and an agenda that ran with actual times.
// Returned with what each person was given, so tests can derive every figure on their own.
import { Types } from 'mongoose';
import { createMeeting } from '../../server/meetings/actions.js';
import { commitMeetingChange } from '../../server/meetings/revision.js';
import { addProvinceDistricts } from '../../server/sites/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendeeModel, attendeeRoles, searchFields, type AttendeeRole } from '../../server/attendees/model.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import { AgendaItemModel } from '../../server/agenda/model.js';
import type { Actor } from '../../server/lib/actor.js';
import { newToken } from '../../server/lib/text.js';

export const organizations = ['Sở Khoa học và Công nghệ', 'Trường Đại học Đồng Tháp', 'Ủy ban nhân dân huyện Lấp Vò', 'Công ty Cổ phần Dược phẩm Imexpharm', '=HYPERLINK("http://x.example","bấm")', '', 'Viện Lúa Đồng bằng sông Cửu Long'] as const;
export const reasons = ['sick', 'mission', 'delegate', 'other'] as const;

export interface PersonSpec {
  id: Types.ObjectId;
  siteIndex: number;
  organization: string;
  role: AttendeeRole;
  walkIn: boolean;
  /** null: no attendance record at all (never marked). */
  status: 'present' | 'absent' | 'leftEarly' | 'expected' | null;
  reason?: (typeof reasons)[number];
  late: boolean;
}

/** Who did what, by place in the list: every state, reason, lateness and walk-in occurs. */
export function personSpec(index: number): Omit<PersonSpec, 'id' | 'siteIndex'> {
  const organization = organizations[index % organizations.length];
  const role = attendeeRoles[index % attendeeRoles.length];
  if (index % 40 === 3) return { organization, role, walkIn: true, status: index % 80 === 3 ? 'leftEarly' : 'present', late: index % 120 === 3 };
  switch (index % 10) {
    case 6:
      return { organization, role, walkIn: false, status: 'absent', reason: reasons[Math.floor(index / 10) % reasons.length], late: false };
    case 7:
      return { organization, role, walkIn: false, status: 'leftEarly', late: index % 3 === 0 };
    case 8:
      return { organization, role, walkIn: false, status: null, late: false };
    case 9:
      // Marked, then undone: a record that is back to expected.
      return { organization, role, walkIn: false, status: 'expected', late: false };
    default:
      return { organization, role, walkIn: false, status: 'present', late: index % 7 === 0 };
  }
}

export interface ReportMeeting {
  meetingId: string;
  sites: Array<{ id: string; name: string }>;
  people: PersonSpec[];
  agenda: Array<{ title: string; plannedMinutes: number; actualMinutes: number }>;
}

const agendaPlan = [
  { title: 'Khai mạc, giới thiệu đại biểu', kind: 'opening', plannedMinutes: 10, actualMinutes: 12 },
  { title: 'Báo cáo tổng kết hoạt động KH&CN năm 2021', kind: 'report', plannedMinutes: 30, actualMinutes: 38 },
  { title: 'Thảo luận, tham luận của các đơn vị', kind: 'discussion', plannedMinutes: 60, actualMinutes: 55 },
  { title: 'Kết luận của đồng chí chủ trì', kind: 'directives', plannedMinutes: 15, actualMinutes: 20 },
] as const;

export async function endedMeetingWith(organizer: Actor, count: number, options: { unitId?: string; title?: string } = {}): Promise<ReportMeeting> {
  const meeting = await createMeeting(organizer, {
    title: options.title ?? 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021',
    start: '2021-12-29T14:00',
    end: '2021-12-29T17:00',
    status: 'scheduled',
    ...(options.unitId ? { unitId: options.unitId } : {}),
  });
  const meetingId = String(meeting._id);
  await addProvinceDistricts(organizer, { meetingId, provinceCode: '87' });
  const sites = await SiteModel.find({ meetingId: meeting._id }, { name: 1 }).sort({ order: 1, _id: 1 }).lean();
  const start = meeting.startsAt.getTime();
  const minute = 60_000;

  const people: PersonSpec[] = Array.from({ length: count }, (_, index) => ({ id: new Types.ObjectId(), siteIndex: index % sites.length, ...personSpec(index) }));
  const attendees = people.map((person, index) => {
    const fields = { fullName: `Nguyễn Thị Ánh Tuyết ${index}`, position: index % 3 === 0 ? 'Phó Giám đốc' : 'Chuyên viên', organization: person.organization };
    return {
      _id: person.id,
      meetingId: meeting._id,
      ...fields,
      phone: `09${String(index).padStart(8, '0')}`,
      siteId: sites[person.siteIndex]._id,
      role: person.role,
      accessToken: newToken(),
      walkIn: person.walkIn,
      revision: 0,
      ...searchFields(fields),
    };
  });
  for (let from = 0; from < attendees.length; from += 1000) await AttendeeModel.insertMany(attendees.slice(from, from + 1000), { lean: true });

  const records = people
    .filter((person) => person.status !== null)
    .map((person) => {
      const came = person.status === 'present' || person.status === 'leftEarly';
      return {
        meetingId: meeting._id,
        attendeeId: person.id,
        siteId: sites[person.siteIndex]._id,
        walkIn: person.walkIn,
        organization: person.organization,
        role: person.role,
        status: person.status,
        presentAt: came ? new Date(start + (person.late ? 10 : -15) * minute) : null,
        leftAt: person.status === 'leftEarly' ? new Date(start + 120 * minute) : null,
        late: person.late,
        absence: person.reason ? { reason: person.reason, ...(person.reason === 'delegate' ? { delegateName: 'Lê Văn Thành' } : {}), ...(person.reason === 'other' ? { note: 'Tiếp đoàn kiểm tra' } : {}) } : null,
        changedBy: 'coordinator',
        version: 1,
      };
    });
  for (let from = 0; from < records.length; from += 1000) await AttendanceModel.insertMany(records.slice(from, from + 1000), { lean: true });

  const items = await AgendaItemModel.insertMany(agendaPlan.map((item, order) => ({ meetingId: meeting._id, order, title: item.title, kind: item.kind, plannedMinutes: item.plannedMinutes })));
  let cursor = start + 4 * minute;
  const runs = items.map((item, index) => {
    const spentMs = agendaPlan[index].actualMinutes * minute;
    const run = { itemId: item._id, startedAt: new Date(cursor), endedAt: new Date(cursor + spentMs), spentMs, extendedMinutes: 0 };
    cursor += spentMs;
    return run;
  });
  await commitMeetingChange({
    meetingId,
    when: { status: 'scheduled' },
    rejected: () => new Error('fixture: meeting not scheduled'),
    update: { $set: { status: 'ended', live: { startedAt: new Date(start + 4 * minute), endedAt: new Date(cursor), agenda: { currentItemId: null, runs, timer: null, version: 1 } } } },
    events: () => [],
  });
  return {
    meetingId,
    sites: sites.map((site) => ({ id: String(site._id), name: site.name })),
    people,
    agenda: agendaPlan.map(({ title, plannedMinutes, actualMinutes }) => ({ title, plannedMinutes, actualMinutes })),
  };
}
