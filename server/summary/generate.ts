// The first draft of the summary article, in the seed's style (a provincial department's news
// item): when and where, who chaired, the bridge points, the attendance figures, who reported
// what, and the chair's directives. Built from the meeting's data; every sentence comes from the
// catalogue, so the draft is Vietnamese or English by the page's language.
import { DateTime } from 'luxon';
import { AgendaItemModel } from '../agenda/model.js';
import { AttendeeModel } from '../attendees/model.js';
import { SiteModel } from '../sites/model.js';
import { loadDirectives } from '../followup/queries.js';
import { invitedBySite, sumCounts, siteCounts, liveSitesOf } from '../live/counts.js';
import type { MeetingRecord } from '../meetings/revision.js';
import { t, type Locale } from '../lib/i18n.js';

function partOfDay(hour: number): string {
  if (hour < 11) return 'morning';
  if (hour < 13) return 'noon';
  if (hour < 18) return 'afternoon';
  return 'evening';
}

/** "A, B và C" / "A, B and C". */
function listOf(names: string[], locale: Locale): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} ${t(locale, 'summary.article.and')} ${names[names.length - 1]}`;
}

const withPosition = (name: string, position: string | null | undefined) => (position ? `${name}, ${position}` : name);

export async function generateArticle(meeting: MeetingRecord, locale: Locale): Promise<string> {
  const meetingId = meeting._id;
  const [sites, chair, items, directives, invited] = await Promise.all([
    SiteModel.find({ meetingId, removingUntil: { $exists: false } }, { name: 1, isMain: 1 }).sort({ order: 1, _id: 1 }).lean(),
    AttendeeModel.findOne({ meetingId, role: 'chair' }, { fullName: 1, position: 1 }).lean(),
    AgendaItemModel.find({ meetingId, kind: 'report' }, { title: 1, speakers: 1 }).sort({ order: 1 }).lean(),
    loadDirectives(meetingId),
    invitedBySite(String(meetingId)),
  ]);
  const live = liveSitesOf(meeting.live as { sites?: unknown } | undefined);
  const totals = sumCounts([...new Set([...invited.keys(), ...Object.keys(live)])].map((id) => siteCounts(live[id], invited.get(id))));
  const start = DateTime.fromJSDate(meeting.startsAt).setZone(meeting.timeZone);
  const main = sites.find((site) => site.isMain) ?? sites[0];
  const others = sites.filter((site) => site !== main).map((site) => site.name);
  const organizer = meeting.organizingUnit || t(locale, 'summary.article.organizerFallback');

  const paragraphs: string[] = [`# ${meeting.title}`];
  let opening = t(locale, `summary.article.opening.${partOfDay(start.hour)}`, {
    date: start.toFormat(locale === 'vi' ? 'dd/MM/yyyy' : 'd LLLL yyyy', { locale: locale === 'vi' ? 'vi' : 'en-GB' }),
    place: main ? main.name : t(locale, 'summary.article.placeFallback'),
    organizer,
    title: meeting.title,
  });
  if (chair) opening += ` ${t(locale, 'summary.article.chair', { chair: withPosition(chair.fullName, chair.position) })}`;
  if (others.length > 0) opening += ` ${t(locale, 'summary.article.sites', { count: others.length, sites: listOf(others, locale) })}`;
  paragraphs.push(opening);

  // Everyone invited who came, those who left early included (the report's "present").
  const came = totals.present + totals.leftEarly;
  if (totals.expected > 0 || came > 0) {
    let figures = came > 0 ? t(locale, 'summary.article.attendance', { present: came, expected: totals.expected, sites: Math.max(sites.length, 1) }) : t(locale, 'summary.article.invited', { expected: totals.expected, sites: Math.max(sites.length, 1) });
    if (totals.walkIns > 0) figures += ` ${t(locale, 'summary.article.walkIns', { count: totals.walkIns })}`;
    paragraphs.push(figures);
  }

  const reports = items.flatMap((item) => {
    const speakers = (item.speakers ?? []).map((speaker) => withPosition(speaker.name, speaker.position));
    return speakers.length > 0 ? [t(locale, 'summary.article.report', { speakers: listOf(speakers, locale), title: item.title })] : [];
  });
  if (reports.length > 0) paragraphs.push(reports.join(' '));

  if (directives.length > 0) {
    const by = directives.find((directive) => directive.by)?.by || chair?.fullName || '';
    const lead = by ? t(locale, 'summary.article.directives', { by }) : t(locale, 'summary.article.directivesNoChair');
    paragraphs.push([lead, ...directives.map((directive) => `- ${directive.text.replace(/\s*\n\s*/g, ' ')}`)].join('\n'));
  }
  return paragraphs.join('\n\n');
}
