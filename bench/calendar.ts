// Calendar benchmark (issue 9): personalised invitations for 2,000 attendees of one meeting, and a
// feed of 500 meetings, as the app makes them (batched reads from the embedded store over TCP +
// server/calendar/ics.ts), against plain ical-generator building the same events from data already
// in memory, in the same run. Target: at most 1.5x, with a fixed number of queries (none per attendee).
//
//   npx tsx bench/calendar.ts [--rounds 3] [--attendees 2000] [--meetings 500]
import { parseArgs } from 'node:util';
import mongoose, { Types } from 'mongoose';
import ical, { ICalAlarmType, ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import { DateTime } from 'luxon';
import { tzlib_get_ical_block } from 'timezones-ical-library';
import { connectDatabase } from '../server/database.js';
import { MeetingModel } from '../server/meetings/model.js';
import { SiteModel } from '../server/sites/model.js';
import { AttendeeModel } from '../server/attendees/model.js';
import { AgendaItemModel } from '../server/agenda/model.js';
import { CalendarFeedModel } from '../server/calendar/model.js';
import { UnitModel } from '../server/units/model.js';
import { feedByToken, invitationEntries, unitKeyOf } from '../server/calendar/queries.js';
import { feedIcs, invitationIcs, type IcsEntry } from '../server/calendar/ics.js';
import { newToken, searchKey } from '../server/lib/text.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, attendees: { type: 'string', default: '2000' }, meetings: { type: 'string', default: '500' } } });
const rounds = Number(args.rounds);
const attendeeCount = Number(args.attendees);
const meetingCount = Number(args.meetings);
const zone = 'Asia/Ho_Chi_Minh';
const unit = 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp';
const context = { locale: 'vi' as const, baseUrl: 'https://hoinghi.example.vn', organizerEmail: 'hoi-nghi@so-khcn.example.vn' };

const database = await connectDatabase({ embedded: { inMemory: true } }, `bench_calendar_${newToken(4).replace(/\W/g, '')}`);

// ---- data: written straight through the models (setting up is not what is measured) ----------

function agendaFor(meetingId: Types.ObjectId, speakerIds: Types.ObjectId[]) {
  const titles = ['Khai mạc, giới thiệu đại biểu', 'Báo cáo kết quả năm 2021; phương hướng năm 2022', 'Tham luận: phát triển nhãn hiệu', 'Tham luận: chuyển giao công nghệ', 'Thảo luận', 'Nghỉ giải lao', 'Kết luận, chỉ đạo', 'Bế mạc'];
  return titles.map((title, order) => ({ meetingId, order, title, kind: 'report', plannedMinutes: 20, speakers: speakerIds[order] ? [{ attendeeId: speakerIds[order], name: `Báo cáo viên ${order}`, position: 'Giám đốc Sở' }] : [] }));
}

// The organizing unit's record: a unit feed lists the meetings whose unitId is it.
const unitRecord = await UnitModel.create({ name: unit, nameKey: searchKey(unit) });

async function seedMeeting(title: string, startsAt: Date) {
  const meeting = await MeetingModel.create({ title, organizingUnit: unit, unitId: unitRecord._id, startsAt, endsAt: new Date(startsAt.getTime() + 3 * 3600_000), timeZone: zone, status: 'scheduled', calendarSequence: 2 });
  const sites = await SiteModel.insertMany(
    Array.from({ length: 13 }, (_, index) => ({ meetingId: meeting._id, name: index === 0 ? 'Văn phòng UBND Tỉnh' : `Huyện số ${index}`, address: `Số ${index} đường 30/4, Đồng Tháp`, isMain: index === 0, order: index, coordinatorToken: newToken() })),
  );
  return { meeting, sites };
}

const { meeting: big, sites: bigSites } = await seedMeeting('Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', new Date('2021-12-29T07:00:00Z'));
const people = Array.from({ length: attendeeCount }, (_, index) => {
  const fullName = `Nguyễn Văn Đại Biểu ${index}`;
  return { _id: new Types.ObjectId(), meetingId: big._id, fullName, position: 'Chuyên viên', organization: `Đơn vị ${index % 25}`, email: `dai-bieu-${index}@example.vn`, siteId: bigSites[index % 13]._id, role: index === 0 ? 'chair' : index < 6 ? 'speaker' : 'delegate', accessToken: newToken(), searchText: searchKey(fullName) };
});
await AttendeeModel.insertMany(people);
await AgendaItemModel.insertMany(agendaFor(big._id, people.slice(1, 6).map((person) => person._id)));

for (let index = 0; index < meetingCount; index++) {
  const { meeting } = await seedMeeting(`Hội nghị giao ban số ${index}; đánh giá, rút kinh nghiệm`, new Date(Date.UTC(2020, 0, 1) + index * 86400_000));
  await AgendaItemModel.insertMany(agendaFor(meeting._id, []));
}
const feedToken = newToken();
await CalendarFeedModel.create({ scope: 'unit', key: unitKeyOf(big)!, meetingId: big._id, token: feedToken });

// ---- counting the queries the app makes --------------------------------------------------------

let queries = 0;
mongoose.set('debug', () => {
  queries += 1;
});

// ---- the app's way --------------------------------------------------------------------------

async function appInvites(): Promise<number> {
  const { entries } = await invitationEntries(String(big._id));
  const stamp = new Date();
  let bytes = 0;
  for (const entry of entries) bytes += invitationIcs(entry, { ...context, stamp }).ics.length;
  return bytes;
}

async function appFeed(): Promise<number> {
  const content = await feedByToken(feedToken);
  return feedIcs(content.name, content.entries, context).length;
}

// ---- plain ical-generator, same events, data already in memory --------------------------------

mongoose.set('debug', false);
const memoryInvites = (await invitationEntries(String(big._id))).entries;
const memoryFeed = (await feedByToken(feedToken)).entries;
mongoose.set('debug', () => {
  queries += 1;
});
const vtimezone = tzlib_get_ical_block(zone)[0] as string;

function plainEvent(calendar: ReturnType<typeof ical>, entry: IcsEntry, stamp: Date, withAttendee: boolean) {
  const { meeting } = entry;
  const location = entry.place ? `${entry.place.name}, ${entry.place.address}` : undefined;
  // The same text the app writes: unit, role, bridge point, the agenda with times and speakers, the page.
  const description = [
    `Đơn vị tổ chức: ${meeting.organizingUnit}`,
    ...(withAttendee && entry.attendee ? [`Vai trò của bạn: ${entry.attendee.role}`] : []),
    ...(location ? [`Điểm cầu: ${location}`] : []),
    '',
    'Chương trình:',
    ...entry.agenda.map((item) => `${DateTime.fromJSDate(item.startsAt, { zone }).toFormat('HH:mm')} ${item.title}${item.speakers.length ? ` — ${item.speakers.map((speaker) => `${speaker.name} (${speaker.position})`).join('; ')}` : ''}`),
    '',
    `Trang hội nghị: https://hoinghi.example.vn/p/${meeting.publicId}`,
  ].join('\n');
  const event = calendar.createEvent({
    id: `${meeting.id}.meeting@bridgepoint`,
    sequence: meeting.calendarSequence,
    stamp,
    start: DateTime.fromJSDate(meeting.startsAt, { zone }),
    end: DateTime.fromJSDate(meeting.endsAt, { zone }),
    timezone: zone,
    summary: meeting.title,
    description,
    location,
    url: `https://hoinghi.example.vn/p/${meeting.publicId}`,
    status: ICalEventStatus.CONFIRMED,
    organizer: { name: meeting.organizingUnit, email: 'hoi-nghi@so-khcn.example.vn' },
  });
  if (withAttendee && entry.attendee?.email) event.createAttendee({ name: entry.attendee.fullName, email: entry.attendee.email, role: entry.attendee.role === 'chair' ? ICalAttendeeRole.CHAIR : ICalAttendeeRole.REQ, status: ICalAttendeeStatus.NEEDSACTION, rsvp: true });
  event.createAlarm({ type: ICalAlarmType.display, trigger: 86400, description: `Ngày mai: ${meeting.title}` });
  event.createAlarm({ type: ICalAlarmType.display, trigger: 1800, description: `Sau 30 phút: ${meeting.title}` });
}

function plainInvites(): number {
  const stamp = new Date();
  let bytes = 0;
  for (const entry of memoryInvites) {
    const calendar = ical({ method: ICalCalendarMethod.REQUEST });
    calendar.timezone({ name: null, generator: () => vtimezone });
    plainEvent(calendar, entry, stamp, true);
    bytes += calendar.toString().length;
  }
  return bytes;
}

function plainFeed(): number {
  const calendar = ical({ method: ICalCalendarMethod.PUBLISH, name: 'Lịch' });
  calendar.timezone({ name: null, generator: () => vtimezone });
  calendar.ttl(3600);
  for (const entry of memoryFeed) plainEvent(calendar, entry, entry.meeting.updatedAt ?? new Date(), false);
  return calendar.toString().length;
}

// ---- measuring ------------------------------------------------------------------------------

async function timed(run: () => number | Promise<number>): Promise<{ ms: number; bytes: number; queries: number }> {
  const before = queries;
  const started = performance.now();
  const bytes = await run();
  return { ms: performance.now() - started, bytes, queries: queries - before };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// One warm-up each (JIT, connection pool), then alternating rounds so machine load hits both alike.
await appInvites();
plainInvites();
await appFeed();
plainFeed();
const samples = { appInvites: [] as number[], plainInvites: [] as number[], appFeed: [] as number[], plainFeed: [] as number[] };
let inviteQueries = 0;
let feedQueries = 0;
let inviteBytes = 0;
let feedBytes = 0;
for (let round = 0; round < rounds; round++) {
  const a = await timed(appInvites);
  samples.appInvites.push(a.ms);
  inviteQueries = a.queries;
  inviteBytes = a.bytes;
  samples.plainInvites.push((await timed(plainInvites)).ms);
  const f = await timed(appFeed);
  samples.appFeed.push(f.ms);
  feedQueries = f.queries;
  feedBytes = f.bytes;
  samples.plainFeed.push((await timed(plainFeed)).ms);
}

const result = {
  attendees: memoryInvites.length,
  feedMeetings: memoryFeed.length,
  invitesMs: Math.round(median(samples.appInvites)),
  invitesBaselineMs: Math.round(median(samples.plainInvites)),
  invitesRatio: Number((median(samples.appInvites) / median(samples.plainInvites)).toFixed(2)),
  invitesQueries: inviteQueries,
  invitesBytes: inviteBytes,
  feedMs: Math.round(median(samples.appFeed)),
  feedBaselineMs: Math.round(median(samples.plainFeed)),
  feedRatio: Number((median(samples.appFeed) / median(samples.plainFeed)).toFixed(2)),
  feedQueries,
  feedBytes,
  target: 1.5,
};

console.log(`\nCalendar benchmark, median of ${rounds} rounds (app: embedded store over TCP + server/calendar; baseline: plain ical-generator, data in memory)\n`);
console.table([
  { case: `${result.attendees} personalised invitations`, 'app ms': result.invitesMs, 'baseline ms': result.invitesBaselineMs, ratio: result.invitesRatio, queries: result.invitesQueries, 'app KB': Math.round(result.invitesBytes / 1024) },
  { case: `feed of ${result.feedMeetings} meetings`, 'app ms': result.feedMs, 'baseline ms': result.feedBaselineMs, ratio: result.feedRatio, queries: result.feedQueries, 'app KB': Math.round(result.feedBytes / 1024) },
]);
console.log(JSON.stringify(result));
await database.close();
process.exit(0);
