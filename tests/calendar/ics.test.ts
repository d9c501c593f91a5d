import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDatabase, testUnit } from '../helpers/database.js';
import type { DatabaseHandle } from '../../server/database.js';
import type { Actor } from '../../server/lib/actor.js';
import { invitationEntries } from '../../server/calendar/queries.js';
import { downloadIcs, feedIcs, invitationIcs, addToCalendarLinks, type IcsEntry } from '../../server/calendar/ics.js';
import { formatProblems, newCalendarConference, unfold, parseCalendar, vobjectProblems, vobjectStartsUtc, type CalendarConference } from './fixtures.js';

const organizer: Actor = { kind: 'organizer', userId: 'u1', name: 'Ban tổ chức', isAdmin: false, unitId: testUnit.id };
const context = { locale: 'vi' as const, baseUrl: 'https://hoinghi.example.vn', organizerEmail: 'hoi-nghi@so-khcn.example.vn' };
let database: DatabaseHandle;
let conference: CalendarConference;
let entries: Array<IcsEntry & { attendee: NonNullable<IcsEntry['attendee']> }>;
const byAttendee = (id: string) => entries.find((entry) => entry.attendee.id === id)!;

beforeAll(async () => {
  database = await connectTestDatabase();
  conference = await newCalendarConference(organizer);
  entries = (await invitationEntries(conference.meetingId)).entries;
});

afterAll(async () => {
  await database.close();
});

/** The generator in a child process whose TZ is `zone`. */
function generateIn(zone: string, stamp: Date): { zone: string; download: string; invitation: string; feed: string } {
  const script = path.join(import.meta.dirname, 'generate-in-zone.ts');
  const result = spawnSync(process.execPath, ['--import', 'tsx', script], {
    input: JSON.stringify({ entries: [byAttendee(conference.speaker.id), byAttendee(conference.delegate.id), byAttendee(conference.chair.id)], stamp }),
    env: { ...process.env, TZ: zone },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout);
}

describe('calendar files read back by other programs', () => {
  it('show 14:00 in Asia/Ho_Chi_Minh whether the server runs in UTC or New York', () => {
    const stamp = new Date('2021-12-20T03:04:05Z');
    const outputs = ['UTC', 'America/New_York'].map((zone) => generateIn(zone, stamp));
    expect(outputs.map((output) => output.zone)).toEqual(['UTC', 'America/New_York']);
    for (const output of outputs) {
      for (const text of [output.download, output.invitation, output.feed]) {
        const parsed = parseCalendar(text);
        expect(parsed.timezones).toEqual(['Asia/Ho_Chi_Minh']);
        const meeting = parsed.events.find((event) => event.uid === `${conference.meetingId}.meeting@bridgepoint`)!;
        expect(meeting.tzid).toBe('Asia/Ho_Chi_Minh');
        expect(meeting.start).toBe('2021-12-29T14:00:00');
        expect(meeting.end).toBe('2021-12-29T17:00:00');
        expect(meeting.startUtc).toBe('2021-12-29T07:00:00.000Z');
        // DTSTAMP is UTC with Z, never the process's local time.
        expect(meeting.dtstamp).toMatch(/^\d{8}T\d{6}Z$/);
        // Python's vobject reads the same instant through the file's VTIMEZONE.
        expect(vobjectStartsUtc(text)[meeting.uid]).toBe('2021-12-29T07:00:00Z');
      }
      expect(parseCalendar(output.invitation).events[0].dtstamp).toBe('20211220T030405Z');
    }
    // Byte for byte the same in both zones.
    expect(outputs[0].download).toBe(outputs[1].download);
    expect(outputs[0].feed).toBe(outputs[1].feed);
  });

  it("a speaker's download has the meeting and their own agenda slot, each with a stable UID, alarms a day and 30 minutes before", () => {
    const text = downloadIcs(byAttendee(conference.speaker.id), context);
    const parsed = parseCalendar(text);
    expect(parsed.method).toBe('PUBLISH');
    expect(parsed.events.map((event) => event.uid)).toEqual([`${conference.meetingId}.meeting@bridgepoint`, `${conference.slotItemId}.agenda@bridgepoint`]);
    const [meeting, slot] = parsed.events;
    // The slot starts after the 15-minute opening.
    expect(slot.start).toBe('2021-12-29T14:15:00');
    expect(slot.end).toBe('2021-12-29T14:45:00');
    expect(slot.summary).toContain('Báo cáo kết quả năm 2021; phương hướng, nhiệm vụ năm 2022');
    for (const event of parsed.events) {
      expect(event.sequence).toBe(byAttendee(conference.speaker.id).meeting.calendarSequence);
      expect(event.status).toBe('CONFIRMED');
      expect(event.alarms.map((alarm) => [alarm.action, alarm.trigger])).toEqual([
        ['DISPLAY', '-P1D'],
        ['DISPLAY', '-PT30M'],
      ]);
      expect(event.organizer).toEqual({ value: 'mailto:hoi-nghi@so-khcn.example.vn', cn: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp' });
    }
    expect(meeting.attendees).toEqual([{ value: 'mailto:giam-doc@example.vn', cn: 'Nguyễn Văn Bảy', role: 'REQ-PARTICIPANT', partstat: 'NEEDS-ACTION', rsvp: 'FALSE', delegatedTo: null }]);
    // The speaker's own bridge point (the main site): its name, then its address.
    expect(meeting.location).toMatch(/^Văn phòng UBND Tỉnh, .*Đồng Tháp/);
    expect(meeting.description).toContain('Vai trò của bạn: Báo cáo viên');
    expect(meeting.description).toContain('14:15 Báo cáo kết quả năm 2021; phương hướng, nhiệm vụ năm 2022 — Nguyễn Văn Bảy (Giám đốc Sở KH&CN)');
    expect(meeting.description).toContain(`Trang hội nghị: https://hoinghi.example.vn/p/${conference.publicId}`);
    expect(formatProblems(text)).toEqual([]);
    expect(vobjectProblems(text)).toBeNull();
  });

  it('the chair is ATTENDEE with ROLE=CHAIR; an invitation is METHOD:REQUEST and asks for a reply', () => {
    const { method, ics } = invitationIcs(byAttendee(conference.chair.id), { ...context, stamp: new Date() });
    expect(method).toBe('REQUEST');
    const parsed = parseCalendar(ics);
    expect(parsed.method).toBe('REQUEST');
    // iTIP: one UID per message, so the invitation is the meeting alone.
    expect(parsed.events).toHaveLength(1);
    expect(parsed.events[0].attendees).toEqual([{ value: 'mailto:chu-tich@example.vn', cn: 'Huỳnh Minh Tuấn', role: 'CHAIR', partstat: 'NEEDS-ACTION', rsvp: 'TRUE', delegatedTo: null }]);
    expect(vobjectProblems(ics)).toBeNull();
  });

  it("a delegate at Lai Vung gets their own bridge point's name and address as LOCATION, with ; , \\ and quotes escaped, and nothing breaks", () => {
    const text = downloadIcs(byAttendee(conference.delegate.id), context);
    const parsed = parseCalendar(text);
    const meeting = parsed.events[0];
    expect(meeting.location).toMatch(/Lai Vung, Số 1, đường 3\/2; thị trấn Lai Vung\\Đồng Tháp$/);
    expect(unfold(text)).toContain('đường 3/2\\; thị trấn Lai Vung\\\\Đồng Tháp');
    // CN is a quoted parameter: a double quote cannot appear in it, so it becomes an apostrophe.
    expect(meeting.attendees[0].cn).toBe("Trần Thị 'Út'; Lê, Văn\\Tám");
    expect(parsed.events).toHaveLength(1);
    expect(formatProblems(text)).toEqual([]);
    expect(vobjectProblems(text)).toBeNull();
  });

  it('long Vietnamese texts and newlines are folded at 75 octets with CRLF, never inside a character, and read back intact', () => {
    const entry = byAttendee(conference.delegate.id);
    const title = 'Hội nghị sơ kết; đánh giá, rút kinh nghiệm\\ công tác chuyển giao công nghệ ở các huyện Hồng Ngự, Tân Hồng, Tam Nông, Thanh Bình và Tháp Mười 🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳🇻🇳 ệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệệ';
    const place = { name: 'Điểm cầu huyện Tháp Mười\nHội trường UBND huyện', address: 'Số 2 đường Nguyễn Văn Trỗi, khóm 1, thị trấn Mỹ An; huyện Tháp Mười, tỉnh Đồng Tháp' };
    const text = feedIcs('Lịch của Sở; KH,CN\\ Đồng Tháp', [{ ...entry, meeting: { ...entry.meeting, title }, place }], context);
    expect(formatProblems(text)).toEqual([]);
    expect(text.split('\r\n').some((line) => line.startsWith(' '))).toBe(true);
    const parsed = parseCalendar(text);
    // NAME and X-WR-CALNAME are TEXT: escaped like any other (ical.js leaves these two as written).
    expect(unfold(text)).toContain('\r\nNAME:Lịch của Sở\\; KH\\,CN\\\\ Đồng Tháp\r\n');
    expect(unfold(text)).toContain('\r\nX-WR-CALNAME:Lịch của Sở\\; KH\\,CN\\\\ Đồng Tháp\r\n');
    expect(parsed.events[0].summary).toBe(title);
    expect(parsed.events[0].location).toBe(`${place.name}, ${place.address}`);
    expect(vobjectProblems(text)).toBeNull();
  });

  it('a feed says how often to refresh (REFRESH-INTERVAL and X-PUBLISHED-TTL)', () => {
    const text = feedIcs('Lịch', entries, context);
    const parsed = parseCalendar(text);
    expect(parsed.method).toBe('PUBLISH');
    expect(text).toContain('REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n');
    expect(text).toContain('X-PUBLISHED-TTL:PT1H\r\n');
    expect(vobjectProblems(text)).toBeNull();
  });

  it('a cancelled meeting is METHOD:CANCEL with STATUS:CANCELLED in an invitation, and STATUS:CANCELLED without alarms in a download', () => {
    const entry = byAttendee(conference.delegate.id);
    const cancelled = { ...entry, meeting: { ...entry.meeting, status: 'cancelled', calendarSequence: 1 } };
    const invitation = invitationIcs(cancelled, { ...context, stamp: new Date() });
    expect(invitation.method).toBe('CANCEL');
    const parsed = parseCalendar(invitation.ics);
    expect(parsed.method).toBe('CANCEL');
    expect(parsed.events[0]).toMatchObject({ uid: `${conference.meetingId}.meeting@bridgepoint`, sequence: 1, status: 'CANCELLED' });
    const download = parseCalendar(downloadIcs(cancelled, context));
    expect(download.events[0]).toMatchObject({ status: 'CANCELLED', alarms: [] });
    // Readers that ignore STATUS (list views, some subscription readers) still show it in the title.
    expect(download.events[0].summary).toBe(`[ĐÃ HỦY] ${entry.meeting.title}`);
    expect(parseCalendar(feedIcs('Lịch', [cancelled], { ...context, locale: 'en' })).events[0].summary).toBe(`[CANCELLED] ${entry.meeting.title}`);
    expect(vobjectProblems(invitation.ics)).toBeNull();
  });

  it('a meeting kept under a zone alias (Asia/Saigon) names the VTIMEZONE the file defines, so 14:00 stays 14:00', () => {
    const entry = byAttendee(conference.delegate.id);
    const text = downloadIcs({ ...entry, meeting: { ...entry.meeting, timeZone: 'Asia/Saigon' } }, context);
    const parsed = parseCalendar(text);
    expect(parsed.timezones).toEqual(['Asia/Ho_Chi_Minh']);
    expect(parsed.events[0]).toMatchObject({ tzid: 'Asia/Ho_Chi_Minh', start: '2021-12-29T14:00:00', startUtc: '2021-12-29T07:00:00.000Z' });
    expect(Object.values(vobjectStartsUtc(text))).toEqual(['2021-12-29T07:00:00Z']);
    expect(vobjectProblems(text)).toBeNull();
  });

  it('control characters typed or pasted into names never reach the file; CR/LF in names stay escaped text', () => {
    const entry = byAttendee(conference.delegate.id);
    const hostile = {
      ...entry,
      meeting: { ...entry.meeting, title: 'Hội nghị\u0000\u001b[31m\r\nBEGIN:VEVENT\r\nUID:evil', organizingUnit: 'Sở\r\nX-EVIL:1' },
      place: { name: 'Điểm cầu\rLai Vung\u0007', address: 'Số 1\nEND:VCALENDAR' },
      attendee: { ...entry.attendee, fullName: 'Tên\r\nATTENDEE:mailto:evil@example.com' },
    };
    for (const text of [downloadIcs(hostile, context), invitationIcs(hostile, { ...context, stamp: new Date() }).ics, feedIcs('Lịch\r\nX-EVIL:1\u0000', [hostile], context)]) {
      // eslint-disable-next-line no-control-regex -- looking for control characters
      expect(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)).toBe(false);
      expect(text).not.toMatch(/\r\n(UID:evil|X-EVIL|END:VCALENDAR\r\n.)/);
      expect(formatProblems(text)).toEqual([]);
      const parsed = parseCalendar(text);
      expect(parsed.events).toHaveLength(1);
      expect(parsed.events[0].summary).toBe('Hội nghị[31m\nBEGIN:VEVENT\nUID:evil');
      expect(parsed.events[0].location).toBe('Điểm cầu\nLai Vung, Số 1\nEND:VCALENDAR');
      expect(parsed.events[0].attendees.map((attendee) => attendee.value)).toEqual(['mailto:lai-vung@example.vn']);
      expect(vobjectProblems(text)).toBeNull();
    }
  });

  it('"add to calendar" links carry the same instant, title and place', () => {
    const links = addToCalendarLinks({ title: 'Hội nghị; 2021', startsAt: new Date('2021-12-29T07:00:00Z'), endsAt: new Date('2021-12-29T10:00:00Z'), timeZone: 'Asia/Ho_Chi_Minh', location: 'Văn phòng UBND Tỉnh', details: 'https://x/p/1' });
    const google = new URL(links.google);
    expect(google.searchParams.get('dates')).toBe('20211229T070000Z/20211229T100000Z');
    expect(google.searchParams.get('text')).toBe('Hội nghị; 2021');
    expect(google.searchParams.get('location')).toBe('Văn phòng UBND Tỉnh');
    const outlook = new URL(links.outlook);
    expect(outlook.searchParams.get('startdt')).toBe('2021-12-29T14:00:00+07:00');
    expect(outlook.searchParams.get('enddt')).toBe('2021-12-29T17:00:00+07:00');
    expect(outlook.searchParams.get('subject')).toBe('Hội nghị; 2021');
    expect(new URL(links.office365).hostname).toBe('outlook.office.com');
  });
});
