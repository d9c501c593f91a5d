// iCalendar files from data already read: a meeting (with the asker's own bridge point, the
// agenda and, for a personal file, the attendee), as a download, a feed or a mailed invitation.
// Pure functions, no database: the benchmark compares exactly this against bare ical-generator.
import ical, {
  ICalAlarmType,
  ICalAttendeeRole,
  ICalAttendeeStatus,
  ICalCalendarMethod,
  ICalEventStatus,
  escape,
  type ICalCalendar,
  type ICalEvent,
} from 'ical-generator';
import { DateTime } from 'luxon';
import { tzlib_get_ical_block } from 'timezones-ical-library';
import { t, type Locale } from '../lib/i18n.js';
import { formatTime } from '../lib/time.js';
import type { PartStat } from './model.js';
import '../attendees/messages.js';
import './messages.js';

export type CalendarMethod = 'PUBLISH' | 'REQUEST' | 'CANCEL';

export interface IcsMeeting {
  id: string;
  title: string;
  organizingUnit: string;
  startsAt: Date;
  endsAt: Date;
  timeZone: string;
  status: string;
  calendarSequence: number;
  publicId: string;
  updatedAt?: Date;
}

export interface IcsPlace {
  name: string;
  address: string;
}

export interface IcsAgendaItem {
  id: string;
  title: string;
  startsAt: Date;
  endsAt: Date;
  speakers: Array<{ name: string; position: string; attendeeId?: string }>;
}

export interface IcsAttendee {
  id: string;
  fullName: string;
  email?: string;
  role: string;
  partStat: PartStat;
  delegate?: { name: string; email?: string };
}

/** One meeting as one person (or one place) sees it. */
export interface IcsEntry {
  meeting: IcsMeeting;
  /** LOCATION: the attendee's (or the site's) own bridge point; the main site for everyone else. */
  place?: IcsPlace;
  agenda: IcsAgendaItem[];
  attendee?: IcsAttendee;
}

export interface IcsContext {
  locale: Locale;
  /** Base of links in the file (PUBLIC_URL, else the address the request came to). */
  baseUrl: string;
  /** ORGANIZER's mailto (RFC 5545 requires an address there): the configured sender. */
  organizerEmail: string;
  /**
   * DTSTAMP: the sending time of an invitation. Unset for downloads and feeds, which use each
   * meeting's last change instead, so the same data gives the same bytes (and the same ETag).
   */
  stamp?: Date;
}

const uidDomain = 'bridgepoint';
export const meetingUid = (meetingId: string) => `${meetingId}.meeting@${uidDomain}`;
export const agendaSlotUid = (itemId: string) => `${itemId}.agenda@${uidDomain}`;

/** How often subscribed calendars should come back (REFRESH-INTERVAL and X-PUBLISHED-TTL). */
export const feedRefreshSeconds = 60 * 60;

export function meetingPageUrl(baseUrl: string, meeting: Pick<IcsMeeting, 'publicId'>): string {
  return `${baseUrl.replace(/\/+$/, '')}/p/${meeting.publicId}`;
}

// ---------------------------------------------------------------------------------------------

export interface Vtimezone {
  /** The TZID the block defines: the canonical name for an alias (Asia/Saigon -> Asia/Ho_Chi_Minh). */
  tzid: string;
  block: string;
}

const vtimezones = new Map<string, Vtimezone | null>();

/**
 * The VTIMEZONE of an IANA zone (timezones-ical-library), or null when it has none. Events name
 * the block's own TZID: for an alias the library writes the canonical name, and a DTSTART whose
 * TZID no VTIMEZONE defines is read as floating time (the wrong hour) by ical.js and Outlook.
 */
export function vtimezoneFor(zone: string): Vtimezone | null {
  let found = vtimezones.get(zone);
  if (found === undefined) {
    const result = tzlib_get_ical_block(zone);
    const text = Array.isArray(result) ? result[0] : '';
    const tzid = typeof text === 'string' && text.includes('BEGIN:VTIMEZONE') ? /^TZID:([^\r\n]+)/m.exec(text)?.[1]?.trim() : undefined;
    found = tzid ? { tzid, block: text as string } : null;
    vtimezones.set(zone, found);
  }
  return found;
}

function newCalendar(method: CalendarMethod, context: IcsContext, name?: string): ICalCalendar {
  // No calendar-level zone name: with one, ical-generator prints DTSTAMP in the process's local
  // time without Z. Each event names its own zone; finish() adds the VTIMEZONE blocks.
  const calendar = ical({
    prodId: { company: 'Bridgepoint', product: 'Bridgepoint', language: context.locale.toUpperCase() },
    method: ICalCalendarMethod[method],
  });
  // ical-generator writes NAME/X-WR-CALNAME unescaped.
  if (name) calendar.name(escape(clean(name), false));
  return calendar;
}

/**
 * The file: calendar properties, then one VTIMEZONE per zone the events use, then the events, each
 * serialized by ical-generator, folded once at the end. ical-generator's own folding encodes every
 * character separately (most of its run time on a 500-meeting feed), and it puts VTIMEZONE before
 * REFRESH-INTERVAL, where RFC 5545 wants every calendar property before the first component.
 */
function finish(calendar: ICalCalendar): string {
  const events = calendar.events();
  const zones = [...new Set(events.map((event) => event.timezone()).filter((zone): zone is string => Boolean(zone)))];
  const body = events.map((event) => event.toString()).join('');
  calendar.clear();
  const header = calendar.toString();
  const blocks = zones
    .map((zone) => vtimezoneFor(zone)?.block)
    .filter((block): block is string => Boolean(block))
    .map((block) => `${block.replace(/\r?\n/g, '\r\n').trim()}\r\n`)
    .join('');
  // Every content line ends with CRLF, the last one too (RFC 5545 §3.1).
  return foldLines(`${header.slice(0, header.lastIndexOf('END:VCALENDAR'))}${blocks}${body}END:VCALENDAR\r\n`);
}

const maxOctets = 75;

function utf8Length(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

/** Lines of at most 75 octets (continuations start with a space), never splitting a UTF-8 character. */
export function foldLines(text: string): string {
  const lines = text.split('\r\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    if (line.length * 3 <= maxOctets || Buffer.byteLength(line, 'utf8') <= maxOctets) continue;
    let folded = '';
    let start = 0;
    let octets = 0;
    let limit = maxOctets;
    for (let position = 0; position < line.length; ) {
      const codePoint = line.codePointAt(position)!;
      const width = codePoint > 0xffff ? 2 : 1;
      const size = utf8Length(codePoint);
      if (octets + size > limit) {
        folded += `${line.slice(start, position)}\r\n `;
        start = position;
        octets = 0;
        // The leading space of a continuation line counts.
        limit = maxOctets - 1;
      }
      octets += size;
      position += width;
    }
    lines[index] = folded + line.slice(start);
  }
  return lines.join('\r\n');
}

const partStats: Record<PartStat, ICalAttendeeStatus> = {
  'NEEDS-ACTION': ICalAttendeeStatus.NEEDSACTION,
  ACCEPTED: ICalAttendeeStatus.ACCEPTED,
  DECLINED: ICalAttendeeStatus.DECLINED,
  DELEGATED: ICalAttendeeStatus.DELEGATED,
};

function attendeeRole(role: string): ICalAttendeeRole {
  if (role === 'chair') return ICalAttendeeRole.CHAIR;
  if (role === 'guest' || role === 'press') return ICalAttendeeRole.OPT;
  return ICalAttendeeRole.REQ;
}

function eventStatus(status: string): ICalEventStatus {
  if (status === 'cancelled') return ICalEventStatus.CANCELLED;
  if (status === 'draft') return ICalEventStatus.TENTATIVE;
  return ICalEventStatus.CONFIRMED;
}

export function locationText(place: IcsPlace | undefined): string {
  if (!place) return '';
  return [place.name, place.address].map((part) => part.trim()).filter(Boolean).join(', ');
}

/**
 * NFC, without the control characters RFC 5545 forbids in a value (all but tab and line breaks,
 * which escaping turns into \\n): a NUL or ESC in a name is dropped rather than reaching the file.
 */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  return text.normalize('NFC').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

/** A CN parameter: quoted by ical-generator, so no DQUOTE (RFC 5545 has no escape there) and no line breaks. */
function paramText(text: string): string {
  return clean(text).replace(/"/g, "'").replace(/[\r\n\t]+/g, ' ').trim();
}

/** DESCRIPTION: status, the attendee's role and bridge point, the agenda, and the meeting page. */
export function descriptionText(entry: IcsEntry, context: IcsContext): string {
  const { meeting, attendee, agenda } = entry;
  const locale = context.locale;
  const lines: string[] = [];
  if (meeting.status === 'cancelled') lines.push(t(locale, 'calendar.ics.cancelled'), '');
  if (meeting.organizingUnit) lines.push(`${t(locale, 'calendar.ics.organizingUnit')}: ${meeting.organizingUnit}`);
  if (attendee) lines.push(`${t(locale, 'calendar.ics.role')}: ${t(locale, `attendees.role.${attendee.role}`)}`);
  if (entry.place) lines.push(`${t(locale, 'calendar.ics.site')}: ${locationText(entry.place)}`);
  if (agenda.length > 0) {
    lines.push('', `${t(locale, 'calendar.ics.agenda')}:`);
    for (const item of agenda) {
      const speakers = item.speakers.map((speaker) => (speaker.position ? `${speaker.name} (${speaker.position})` : speaker.name)).join('; ');
      lines.push(`${formatTime(item.startsAt, meeting.timeZone)} ${item.title}${speakers ? ` — ${speakers}` : ''}`);
    }
  }
  lines.push('', `${t(locale, 'calendar.ics.page')}: ${meetingPageUrl(context.baseUrl, meeting)}`);
  return clean(lines.join('\n'));
}

function zoned(instant: Date, tzid: string | undefined): DateTime {
  return DateTime.fromJSDate(instant, { zone: tzid ?? 'utc' });
}

interface EventParts {
  uid: string;
  summary: string;
  startsAt: Date;
  endsAt: Date;
  description: string;
}

function addEvent(calendar: ICalCalendar, entry: IcsEntry, parts: EventParts, context: IcsContext, method: CalendarMethod): ICalEvent {
  const { meeting } = entry;
  // A zone without a VTIMEZONE block is written in UTC rather than as a TZID nothing defines.
  const tzid = vtimezoneFor(meeting.timeZone)?.tzid;
  const cancelled = method === 'CANCEL' || meeting.status === 'cancelled';
  const event = calendar.createEvent({
    id: parts.uid,
    sequence: meeting.calendarSequence,
    stamp: context.stamp ?? meeting.updatedAt ?? new Date(0),
    start: zoned(parts.startsAt, tzid),
    end: zoned(parts.endsAt, tzid),
    timezone: tzid ?? null,
    // Calendars that ignore STATUS (some subscription readers, list views) still say it.
    summary: clean(cancelled ? t(context.locale, 'calendar.ics.cancelledSummary', { title: parts.summary }) : parts.summary),
    description: clean(parts.description),
    location: clean(locationText(entry.place)) || null,
    url: meetingPageUrl(context.baseUrl, meeting),
    status: cancelled ? ICalEventStatus.CANCELLED : eventStatus(meeting.status),
    organizer: { name: paramText(meeting.organizingUnit || t(context.locale, 'calendar.ics.organizerFallback')), email: context.organizerEmail },
    ...(meeting.updatedAt ? { lastModified: meeting.updatedAt } : {}),
  });
  const attendee = entry.attendee;
  // ATTENDEE's value is a calendar address: someone without an e-mail address is named in DESCRIPTION only.
  if (attendee?.email) {
    const delegate = attendee.partStat === 'DELEGATED' && attendee.delegate?.email ? { name: paramText(attendee.delegate.name), email: attendee.delegate.email } : undefined;
    const created = event.createAttendee({
      name: paramText(attendee.fullName),
      email: attendee.email,
      role: attendeeRole(attendee.role),
      status: partStats[attendee.partStat],
      // Only an invitation asks for a reply; a download or feed is informational.
      rsvp: method === 'REQUEST' && attendee.partStat === 'NEEDS-ACTION',
    });
    // ical-generator writes DELEGATED-TO without mailto: for an object, so the URI is given as is;
    // the delegate is an ATTENDEE too, DELEGATED-FROM the invitee (RFC 5545 §3.2.4-5).
    if (delegate) {
      created.delegatedTo(`mailto:${delegate.email}`);
      event.createAttendee({ name: delegate.name, email: delegate.email, role: attendeeRole(attendee.role), status: ICalAttendeeStatus.NEEDSACTION, delegatedFrom: `mailto:${attendee.email}` });
    }
  }
  if (!cancelled) {
    for (const [seconds, key] of [
      [24 * 3600, 'calendar.ics.alarmDay'],
      [30 * 60, 'calendar.ics.alarm30'],
    ] as const) {
      event.createAlarm({ type: ICalAlarmType.display, trigger: seconds, description: clean(`${t(context.locale, key)}: ${parts.summary}`) });
    }
  }
  return event;
}

/** The agenda slots where this attendee speaks, as their own events. */
function speakerSlots(entry: IcsEntry): IcsAgendaItem[] {
  const attendeeId = entry.attendee?.id;
  if (!attendeeId) return [];
  return entry.agenda.filter((item) => item.speakers.some((speaker) => speaker.attendeeId === attendeeId));
}

function addEntry(calendar: ICalCalendar, entry: IcsEntry, context: IcsContext, method: CalendarMethod, options: { slots: boolean }): void {
  const description = descriptionText(entry, context);
  addEvent(calendar, entry, { uid: meetingUid(entry.meeting.id), summary: entry.meeting.title, startsAt: entry.meeting.startsAt, endsAt: entry.meeting.endsAt, description }, context, method);
  if (!options.slots) return;
  for (const item of speakerSlots(entry)) {
    const summary = t(context.locale, 'calendar.ics.slotSummary', { item: item.title, meeting: entry.meeting.title });
    const slotDescription = `${t(context.locale, 'calendar.ics.slotIntro', { item: item.title })}\n\n${description}`;
    addEvent(calendar, entry, { uid: agendaSlotUid(item.id), summary, startsAt: item.startsAt, endsAt: item.endsAt, description: slotDescription }, context, method);
  }
}

/** A download: the meeting (and a speaker's own slots), METHOD:PUBLISH. */
export function downloadIcs(entry: IcsEntry, context: IcsContext): string {
  const calendar = newCalendar('PUBLISH', context);
  addEntry(calendar, entry, context, 'PUBLISH', { slots: true });
  return finish(calendar);
}

/** One speaker slot on its own, METHOD:PUBLISH. */
export function slotIcs(entry: IcsEntry, itemId: string, context: IcsContext): string | undefined {
  const item = speakerSlots(entry).find((slot) => slot.id === itemId);
  if (!item) return undefined;
  const calendar = newCalendar('PUBLISH', context);
  const summary = t(context.locale, 'calendar.ics.slotSummary', { item: item.title, meeting: entry.meeting.title });
  const description = `${t(context.locale, 'calendar.ics.slotIntro', { item: item.title })}\n\n${descriptionText(entry, context)}`;
  addEvent(calendar, entry, { uid: agendaSlotUid(item.id), summary, startsAt: item.startsAt, endsAt: item.endsAt, description }, context, 'PUBLISH');
  return finish(calendar);
}

/**
 * A mailed invitation: METHOD:REQUEST, or METHOD:CANCEL with STATUS:CANCELLED once the meeting is
 * cancelled. iTIP allows one UID per message, so speaker slots are not in it (they are in the
 * speaker's download and feed).
 */
export function invitationIcs(entry: IcsEntry, context: IcsContext, options: { cancel?: boolean } = {}): { method: 'REQUEST' | 'CANCEL'; ics: string } {
  // `cancel`: the meeting goes on, but not for this attendee (removed from it).
  const method = options.cancel || entry.meeting.status === 'cancelled' ? 'CANCEL' : 'REQUEST';
  const calendar = newCalendar(method, context);
  addEntry(calendar, entry, context, method, { slots: false });
  return { method, ics: finish(calendar) };
}

/** A subscription feed: every meeting of the attendee, site or unit, METHOD:PUBLISH. */
export function feedIcs(name: string, entries: IcsEntry[], context: IcsContext): string {
  const calendar = newCalendar('PUBLISH', context, name);
  calendar.ttl(feedRefreshSeconds);
  for (const entry of entries) addEntry(calendar, entry, context, 'PUBLISH', { slots: true });
  return finish(calendar);
}

// ---------------------------------------------------------------------------------------------
// "Add to calendar" links for people who never open .ics files: the same time, title and place.

export interface AddToCalendarLinks {
  google: string;
  outlook: string;
  office365: string;
}

function utcBasic(instant: Date): string {
  return DateTime.fromJSDate(instant, { zone: 'utc' }).toFormat("yyyyLLdd'T'HHmmss'Z'");
}

export function addToCalendarLinks(parts: { title: string; startsAt: Date; endsAt: Date; timeZone: string; location: string; details: string }): AddToCalendarLinks {
  const google = new URL('https://calendar.google.com/calendar/render');
  google.search = new URLSearchParams({
    action: 'TEMPLATE',
    text: parts.title,
    dates: `${utcBasic(parts.startsAt)}/${utcBasic(parts.endsAt)}`,
    ctz: parts.timeZone,
    location: parts.location,
    details: parts.details,
  }).toString();
  const outlookQuery = new URLSearchParams({
    path: '/calendar/action/compose',
    rru: 'addevent',
    subject: parts.title,
    // With the meeting zone's offset, so the hour is right whatever the viewer's zone is.
    startdt: DateTime.fromJSDate(parts.startsAt, { zone: parts.timeZone }).toISO({ suppressMilliseconds: true }) ?? parts.startsAt.toISOString(),
    enddt: DateTime.fromJSDate(parts.endsAt, { zone: parts.timeZone }).toISO({ suppressMilliseconds: true }) ?? parts.endsAt.toISOString(),
    location: parts.location,
    body: parts.details,
  }).toString();
  return {
    google: google.toString(),
    outlook: `https://outlook.live.com/calendar/0/deeplink/compose?${outlookQuery}`,
    office365: `https://outlook.office.com/calendar/0/deeplink/compose?${outlookQuery}`,
  };
}

/** Links for a meeting entry (and each speaker slot), with the same fields as its .ics. */
export function entryLinks(entry: IcsEntry, context: Pick<IcsContext, 'baseUrl' | 'locale'>): { meeting: AddToCalendarLinks; slots: Array<{ item: IcsAgendaItem; links: AddToCalendarLinks }> } {
  const page = meetingPageUrl(context.baseUrl, entry.meeting);
  const location = locationText(entry.place);
  const meeting = addToCalendarLinks({ title: entry.meeting.title, startsAt: entry.meeting.startsAt, endsAt: entry.meeting.endsAt, timeZone: entry.meeting.timeZone, location, details: page });
  const slots = speakerSlots(entry).map((item) => ({
    item,
    links: addToCalendarLinks({
      title: t(context.locale, 'calendar.ics.slotSummary', { item: item.title, meeting: entry.meeting.title }),
      startsAt: item.startsAt,
      endsAt: item.endsAt,
      timeZone: entry.meeting.timeZone,
      location,
      details: page,
    }),
  }));
  return { meeting, slots };
}
