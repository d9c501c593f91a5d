// What the summary editor, the public article page and the API read.
import './messages.js';
import { SummaryArticleModel, SummaryVersionModel, type SummaryArticleRecord, type SummaryVersionRecord } from './model.js';
import { generateArticle } from './generate.js';
import { loadMeetingFor } from '../meetings/guard.js';
import { MeetingModel } from '../meetings/model.js';
import type { MeetingRecord } from '../meetings/revision.js';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { NotFound } from '../lib/errors.js';
import { isLocale, type Locale } from '../lib/i18n.js';

export interface SummaryView {
  locale: Locale;
  text: string;
  /** 0: nothing saved yet (the text is a fresh draft from the meeting's data). */
  version: number;
  updatedAt: string | null;
  updatedBy: string;
  published: { version: number; at: string; by: string } | null;
  /** The draft has changes the public page does not show yet. */
  unpublishedChanges: boolean;
}

export function summaryView(locale: Locale, article: SummaryArticleRecord | null, draft = ''): SummaryView {
  if (!article) return { locale, text: draft, version: 0, updatedAt: null, updatedBy: '', published: null, unpublishedChanges: false };
  const published = article.published ? { version: article.published.version, at: article.published.at.toISOString(), by: article.published.by?.name ?? '' } : null;
  return { locale, text: article.text ?? '', version: article.version, updatedAt: article.updatedAt.toISOString(), updatedBy: article.updatedBy?.name ?? '', published, unpublishedChanges: published !== null && published.version !== article.version };
}

export function articleLocale(value: unknown, fallback: Locale): Locale {
  return isLocale(value) ? value : fallback;
}

export async function loadSummaryMeeting(actor: Actor, meetingId: string): Promise<MeetingRecord> {
  requireOrganizer(actor);
  return loadMeetingFor(actor, meetingId);
}

/** The article in `locale` as the editor shows it: the saved draft, or one generated now. */
export async function getSummary(
  actor: Actor,
  meetingId: string,
  locale: Locale,
): Promise<{ meeting: MeetingRecord; summary: SummaryView; versions: Array<{ version: number; text: string; at: string; by: string }>; publishedText: string | null }> {
  const meeting = await loadSummaryMeeting(actor, meetingId);
  const article = await SummaryArticleModel.findOne({ meetingId: meeting._id, locale }).lean<SummaryArticleRecord>();
  const versions = article ? await SummaryVersionModel.find({ meetingId: meeting._id, locale }).sort({ version: -1 }).limit(100).lean<SummaryVersionRecord[]>() : [];
  return {
    meeting,
    summary: summaryView(locale, article, article ? '' : await generateArticle(meeting, locale)),
    versions: versions.map((entry) => ({ version: entry.version, text: entry.text ?? '', at: entry.at.toISOString(), by: entry.by?.name ?? '' })),
    /** The text the public page shows (kept with the publication: the versions listed are the latest only). */
    publishedText: article?.published ? (article.published.text ?? '') : null,
  };
}

/**
 * The published article of a meeting's public page, in `locale` if published in it, else in the
 * other language; NotFound while none is published (nobody learns a draft exists).
 */
export async function getPublishedSummary(publicId: string, locale: Locale): Promise<{ meeting: MeetingRecord; locale: Locale; text: string; publishedAt: Date }> {
  const meeting = typeof publicId === 'string' ? await MeetingModel.findOne({ publicId }).lean<MeetingRecord>() : null;
  if (!meeting) throw new NotFound('summary.notPublished');
  const articles = await SummaryArticleModel.find({ meetingId: meeting._id, published: { $ne: null } }).lean<SummaryArticleRecord[]>();
  const article = articles.find((entry) => entry.locale === locale) ?? articles.find((entry) => entry.locale === 'vi') ?? articles[0];
  if (!article?.published) throw new NotFound('summary.notPublished');
  return { meeting, locale: article.locale as Locale, text: article.published.text ?? '', publishedAt: article.published.at };
}

/** Whether the meeting with this public page has a published article (the public page links to it). */
export async function hasPublishedSummary(publicId: string): Promise<boolean> {
  const meeting = await MeetingModel.findOne({ publicId }, { _id: 1 }).lean();
  return meeting !== null && (await SummaryArticleModel.exists({ meetingId: meeting._id, published: { $ne: null } })) !== null;
}
