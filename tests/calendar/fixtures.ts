// Shared setup of the calendar tests: the 2021 review conference in Đồng Tháp with a chair, a
// speaker with an agenda slot, delegates whose names carry ; , \ and newlines, and helpers that
// read generated files back with ical.js and python3-vobject.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import ICAL from 'ical.js';
import { createMeeting, setMeetingStatus } from '../../server/meetings/actions.js';
import { addProvinceDistricts } from '../../server/sites/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { addAgendaItem } from '../../server/agenda/actions.js';
import type { Actor } from '../../server/lib/actor.js';

export interface CalendarConference {
  meetingId: string;
  publicId: string;
  mainSiteId: string;
  laiVungId: string;
  chair: { id: string; token: string };
  speaker: { id: string; token: string };
  delegate: { id: string; token: string };
  slotItemId: string;
}

export async function newCalendarConference(organizer: Actor, options: { organizingUnit?: string; title?: string } = {}): Promise<CalendarConference> {
  const meeting = await createMeeting(organizer, {
    title: options.title ?? 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021',
    organizingUnit: options.organizingUnit ?? 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp',
    start: '2021-12-29T14:00',
    end: '2021-12-29T17:00',
    status: 'scheduled',
  });
  const meetingId = String(meeting._id);
  await addProvinceDistricts(organizer, { meetingId, provinceCode: '87' });
  const sites = await SiteModel.find({ meetingId }).lean();
  const main = sites.find((site) => site.isMain)!;
  const laiVung = sites.find((site) => /Lai Vung/.test(site.name))!;
  await SiteModel.updateOne({ _id: laiVung._id }, { $set: { address: 'Số 1, đường 3/2; thị trấn Lai Vung\\Đồng Tháp', expectedHeadcount: 12 } });
  const person = async (fields: Record<string, unknown>) => {
    const created = await createAttendee(organizer, { meetingId, ...fields });
    const doc = await AttendeeModel.findById(created.id, { accessToken: 1 }).lean();
    return { id: created.id, token: doc!.accessToken };
  };
  const chair = await person({ fullName: 'Huỳnh Minh Tuấn', position: 'Phó Chủ tịch UBND Tỉnh', email: 'chu-tich@example.vn', role: 'chair', siteId: String(main._id) });
  const speaker = await person({ fullName: 'Nguyễn Văn Bảy', position: 'Giám đốc Sở KH&CN', email: 'giam-doc@example.vn', role: 'speaker', siteId: String(main._id) });
  const delegate = await person({ fullName: 'Trần Thị "Út"; Lê, Văn\\Tám', position: 'Phó Chủ tịch UBND huyện', email: 'lai-vung@example.vn', role: 'delegate', siteId: String(laiVung._id) });
  await addAgendaItem(organizer, { meetingId, title: 'Khai mạc, giới thiệu đại biểu', kind: 'opening', plannedMinutes: 15 });
  const report = await addAgendaItem(organizer, {
    meetingId,
    title: 'Báo cáo kết quả năm 2021; phương hướng, nhiệm vụ năm 2022',
    kind: 'report',
    plannedMinutes: 30,
    speakers: [{ attendeeId: speaker.id, name: 'Nguyễn Văn Bảy', position: 'Giám đốc Sở KH&CN' }],
  });
  return { meetingId, publicId: meeting.publicId, mainSiteId: String(main._id), laiVungId: String(laiVung._id), chair, speaker, delegate, slotItemId: report.item!.id };
}

export async function cancel(organizer: Actor, meetingId: string): Promise<void> {
  await setMeetingStatus(organizer, { meetingId, action: 'cancel' });
}

// ---------------------------------------------------------------------------------------------

export interface ParsedCalendar {
  method: string | null;
  name: string | null;
  refreshInterval: string | null;
  publishedTtl: string | null;
  timezones: string[];
  events: ParsedEvent[];
}

export interface ParsedEvent {
  uid: string;
  sequence: number;
  status: string | null;
  summary: string;
  location: string | null;
  description: string | null;
  tzid: string | null;
  /** DTSTART/DTEND as written: wall-clock time in `tzid`. */
  start: string;
  end: string;
  /** The instant, resolved through the file's own VTIMEZONE. */
  startUtc: string;
  dtstamp: string;
  organizer: { value: string; cn: string | null } | null;
  attendees: Array<{ value: string; cn: string | null; role: string | null; partstat: string | null; rsvp: string | null; delegatedTo: string | null }>;
  alarms: Array<{ action: string; trigger: string; description: string | null }>;
}

/** Reads a file back with ical.js (which throws on anything it cannot parse). */
export function parseCalendar(text: string): ParsedCalendar {
  const root = new ICAL.Component(ICAL.parse(text));
  const timezones = root.getAllSubcomponents('vtimezone');
  for (const zone of timezones) ICAL.TimezoneService.register(zone);
  const events = root.getAllSubcomponents('vevent').map((vevent): ParsedEvent => {
    const event = new ICAL.Event(vevent);
    const startProp = vevent.getFirstProperty('dtstart')!;
    const organizer = vevent.getFirstProperty('organizer');
    return {
      uid: event.uid,
      sequence: event.sequence,
      status: (vevent.getFirstPropertyValue('status') as string | null) ?? null,
      summary: event.summary,
      location: event.location ?? null,
      description: event.description ?? null,
      tzid: (startProp.getParameter('tzid') as string | undefined) ?? null,
      start: event.startDate.toString(),
      end: event.endDate.toString(),
      startUtc: event.startDate.toJSDate().toISOString(),
      dtstamp: String(vevent.getFirstProperty('dtstamp')!.toICALString()).replace(/^DTSTAMP:/i, ''),
      organizer: organizer ? { value: String(organizer.getFirstValue()), cn: (organizer.getParameter('cn') as string | undefined) ?? null } : null,
      attendees: vevent.getAllProperties('attendee').map((property) => ({
        // The scheme is case-insensitive (ical-generator writes MAILTO:).
        value: String(property.getFirstValue()).replace(/^mailto:/i, 'mailto:'),
        cn: (property.getParameter('cn') as string | undefined) ?? null,
        role: (property.getParameter('role') as string | undefined) ?? null,
        partstat: (property.getParameter('partstat') as string | undefined) ?? null,
        rsvp: (property.getParameter('rsvp') as string | undefined) ?? null,
        delegatedTo: (property.getParameter('delegated-to') as string | undefined) ?? null,
      })),
      alarms: vevent.getAllSubcomponents('valarm').map((alarm) => ({
        action: String(alarm.getFirstPropertyValue('action')),
        trigger: String(alarm.getFirstPropertyValue('trigger')),
        description: (alarm.getFirstPropertyValue('description') as string | null) ?? null,
      })),
    };
  });
  return {
    method: (root.getFirstPropertyValue('method') as string | null) ?? null,
    name: (root.getFirstPropertyValue('name') as string | null) ?? (root.getFirstPropertyValue('x-wr-calname') as string | null) ?? null,
    refreshInterval: root.getFirstProperty('refresh-interval')?.toICALString() ?? null,
    publishedTtl: (root.getFirstPropertyValue('x-published-ttl') as string | null)?.toString() ?? null,
    timezones: timezones.map((zone) => String(zone.getFirstPropertyValue('tzid'))),
    events,
  };
}

/** The file with folded lines joined again (RFC 5545 §3.1), for looking at whole escaped values. */
export function unfold(text: string): string {
  return text.replace(/\r\n[ \t]/g, '');
}

/**
 * The raw format rules calendar programs depend on: CRLF line ends only, no line over 75
 * octets, folding never inside a UTF-8 character. Returns the problems found (none = valid).
 */
export function formatProblems(text: string): string[] {
  const problems: string[] = [];
  if (!text.endsWith('\r\n')) problems.push('does not end with CRLF');
  if (/[^\r]\n/.test(text) || /\r(?!\n)/.test(text)) problems.push('a line break that is not CRLF');
  const bytes = Buffer.from(text, 'utf8');
  let start = 0;
  for (let index = 0; index < bytes.length; index += 1) {
    if (bytes[index] === 0x0d && bytes[index + 1] === 0x0a) {
      const line = bytes.subarray(start, index);
      if (line.length > 75) problems.push(`line of ${line.length} octets: ${line.toString('utf8').slice(0, 40)}…`);
      // A continuation line must start a character, not the middle of one (10xxxxxx).
      const next = bytes[index + 2];
      if (next === 0x20 && bytes[index + 3] !== undefined && (bytes[index + 3] & 0xc0) === 0x80) problems.push(`fold inside a UTF-8 character after: ${line.toString('utf8').slice(-20)}`);
      start = index + 2;
      index += 1;
    }
  }
  if (Buffer.from(bytes.toString('utf8'), 'utf8').compare(bytes) !== 0) problems.push('not valid UTF-8');
  return problems;
}

/** Python's vobject (Debian python3-vobject), a validator nobody here wrote: null when valid, else its complaint. */
export function vobjectProblems(text: string): string | null {
  const script = [
    'import sys',
    'try:',
    '    import vobject',
    'except ImportError:',
    '    print("python3-vobject is not installed: apt-get install python3-vobject (.ci/run installs it)"); sys.exit(3)',
    'data = sys.stdin.buffer.read().decode("utf-8")',
    'count = 0',
    'for component in vobject.readComponents(data, validate=True):',
    '    component.validate(raiseException=True)',
    '    for event in component.contents.get("vevent", []):',
    '        for required in ("uid", "dtstamp", "dtstart"):',
    '            if required not in event.contents: raise Exception("VEVENT without " + required)',
    '    count += 1',
    'if count != 1: raise Exception("expected one VCALENDAR, found %d" % count)',
    'print("ok")',
  ].join('\n');
  // Debian's interpreter, where apt installs python3-vobject (a pyenv python3 may come first on PATH).
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const result = spawnSync(python, ['-c', script], { input: Buffer.from(text, 'utf8'), encoding: 'utf8', timeout: 30_000 });
  if (result.status === 3) throw new Error(result.stdout.trim());
  if (result.status === 0 && result.stdout.trim() === 'ok') return null;
  return (result.stderr || result.stdout || `exit ${result.status}`).trim().split('\n').slice(-3).join('\n');
}

/**
 * The instants python3-vobject reads for each event's DTSTART, through the file's own VTIMEZONE
 * (a second reader, in another language, agreeing with ical.js on the hour): uid -> UTC ISO time.
 */
export function vobjectStartsUtc(text: string): Record<string, string> {
  const script = [
    'import sys, json, datetime',
    'import vobject',
    'data = sys.stdin.buffer.read().decode("utf-8")',
    'out = {}',
    'for component in vobject.readComponents(data):',
    '    for event in component.contents.get("vevent", []):',
    '        start = event.dtstart.value',
    '        if start.tzinfo is None: raise Exception("floating DTSTART in " + event.uid.value)',
    '        out[event.uid.value] = start.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")',
    'print(json.dumps(out))',
  ].join('\n');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const result = spawnSync(python, ['-c', script], { input: Buffer.from(text, 'utf8'), encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(result.stderr.trim().split('\n').slice(-3).join('\n'));
  return JSON.parse(result.stdout) as Record<string, string>;
}
