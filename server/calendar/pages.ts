// What the calendar sections of pages show: download and "add to calendar" links, feed links and
// the RSVP form state, for the attendee's page, the coordinator's page and the public page.
import type { Actor } from '../lib/actor.js';
import type { Locale } from '../lib/i18n.js';
import { formatTime } from '../lib/time.js';
import { addToCalendarLinks, entryLinks, locationText, meetingPageUrl, type AddToCalendarLinks, type IcsEntry } from './ics.js';
import { coordinatorEntry, feedLinks, feedTokenFor, personalEntry, type FeedLink } from './queries.js';

export interface SlotLinks {
  itemId: string;
  title: string;
  time: string;
  download: string;
  /** Absent for a cancelled meeting (see `liveLinks`). */
  links?: AddToCalendarLinks;
}

export interface MyCalendarPanel {
  download: string;
  links?: AddToCalendarLinks;
  slots: SlotLinks[];
  feed?: FeedLink;
  rsvp: { response: string; reason: string; delegateName: string; delegateEmail: string; open: boolean };
}

/**
 * "Add to calendar" links only while the meeting is on: a Google or Outlook template link makes a
 * plain event, so for a cancelled meeting it would add one that nothing ever takes back. Its .ics
 * (STATUS:CANCELLED) is still offered.
 */
export function liveLinks<T>(status: string | undefined, links: T): T | undefined {
  return status === 'cancelled' ? undefined : links;
}

function slotLinks(entry: IcsEntry, baseUrl: string, locale: Locale): SlotLinks[] {
  return entryLinks(entry, { baseUrl, locale }).slots.map(({ item, links }) => ({
    itemId: item.id,
    title: item.title,
    time: `${formatTime(item.startsAt, entry.meeting.timeZone)}–${formatTime(item.endsAt, entry.meeting.timeZone)}`,
    download: `/my/calendar/slots/${item.id}.ics`,
    links: liveLinks(entry.meeting.status, links),
  }));
}

/** The attendee's (or chair's) own page: their .ics, links, speaker slots, feed and answer. */
export async function myCalendarPanel(actor: Actor, baseUrl: string, locale: Locale): Promise<MyCalendarPanel> {
  const personal = await personalEntry(actor);
  const token = await feedTokenFor('attendee', String(personal.attendee._id));
  return {
    download: '/my/calendar.ics',
    links: liveLinks(personal.meeting.status, entryLinks(personal.entry, { baseUrl, locale }).meeting),
    slots: slotLinks(personal.entry, baseUrl, locale),
    ...(token ? { feed: feedLinks(baseUrl, token) } : {}),
    rsvp: {
      response: personal.rsvp?.response ?? '',
      reason: personal.rsvp?.reason ?? '',
      delegateName: personal.rsvp?.delegateName ?? '',
      delegateEmail: personal.rsvp?.delegateEmail ?? '',
      open: ['draft', 'scheduled', 'live'].includes(personal.meeting.status),
    },
  };
}

/** The public page: the meeting's .ics and links (at the main site), from the page's own data. */
export function publicCalendarLinks(
  view: { meeting: { title: string; startsAt: Date; endsAt: Date; timeZone: string; publicId: string; status?: string }; sites: Array<{ name: string; address: string; isMain: boolean }> },
  baseUrl: string,
): { download: string; links?: AddToCalendarLinks } {
  const main = view.sites.find((site) => site.isMain);
  return {
    download: `/p/${view.meeting.publicId}/calendar.ics`,
    links: liveLinks(view.meeting.status, addToCalendarLinks({ ...view.meeting, location: locationText(main), details: meetingPageUrl(baseUrl, view.meeting) })),
  };
}

export interface SiteCalendarPanel {
  meeting: { id: string; title: string; publicId: string; startsAt: Date; endsAt: Date; timeZone: string; status: string };
  site: { id: string; name: string };
  download: string;
  links?: AddToCalendarLinks;
  feed?: FeedLink;
}

/** A coordinator's calendar page: their site's view of the meeting and the site's feed. */
export async function siteCalendarPanel(actor: Actor, baseUrl: string, locale: Locale): Promise<SiteCalendarPanel> {
  const { entry, site, meeting } = await coordinatorEntry(actor);
  const token = await feedTokenFor('site', String(site._id));
  return {
    meeting: { id: String(meeting._id), title: meeting.title, publicId: meeting.publicId, startsAt: meeting.startsAt, endsAt: meeting.endsAt, timeZone: meeting.timeZone, status: meeting.status },
    site: { id: String(site._id), name: site.name },
    download: '/my/site/calendar.ics',
    links: liveLinks(meeting.status, entryLinks(entry, { baseUrl, locale }).meeting),
    ...(token ? { feed: feedLinks(baseUrl, token) } : {}),
  };
}
