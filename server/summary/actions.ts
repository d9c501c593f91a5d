// Changes to a meeting's summary article, by organizers of its unit: save the text (on the version
// it was edited from, else a conflict), replace it with a fresh draft from the meeting's data,
// publish the current version on the public page, and take it down again. Each is one meeting
// revision (commitMeetingChange) with an audit entry and a `summary.changed` event for organizers.
import './messages.js';
import { z } from 'zod';
import { SummaryArticleModel, SummaryVersionModel, type SummaryArticleRecord } from './model.js';
import { generateArticle } from './generate.js';
import { loadSummaryMeeting, summaryView, type SummaryView } from './queries.js';
import { requireOpen } from '../meetings/guard.js';
import { commitMeetingChange, type MeetingRecord } from '../meetings/revision.js';
import type { Actor } from '../lib/actor.js';
import { Conflict, Invalid, isDuplicateKeyError } from '../lib/errors.js';
import { locales, type Locale } from '../lib/i18n.js';
import { objectId, parseInput } from '../lib/validation.js';

export const summaryTextMax = 30_000;
const closedKey = 'summary.meeting.cancelled';

const locale = z.enum(locales, { error: 'summary.locale.invalid' });
const version = z.preprocess((value) => (typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value), z.number({ error: 'summary.version.invalid' }).int('summary.version.invalid').min(0, 'summary.version.invalid'));
const saveSchema = z.object({
  meetingId: objectId,
  locale,
  text: z.string({ error: 'summary.text.required' }).refine((text) => text.trim().length > 0, 'summary.text.required').refine((text) => text.length <= summaryTextMax, 'summary.text.tooLong'),
  baseVersion: version,
});
const regenerateSchema = z.object({ meetingId: objectId, locale, baseVersion: version });
const publishSchema = z.object({ meetingId: objectId, locale, version });
const unpublishSchema = z.object({ meetingId: objectId, locale });

type Organizer = Extract<Actor, { kind: 'organizer' }>;

async function organizerMeeting(actor: Actor, meetingId: string): Promise<{ meeting: MeetingRecord; organizer: Organizer; stillOpen: ReturnType<typeof requireOpen>['stillOpen'] }> {
  const meeting = await loadSummaryMeeting(actor, meetingId);
  const { stillOpen } = requireOpen(meeting, closedKey);
  return { meeting, organizer: actor as Organizer, stillOpen };
}

function load(meeting: MeetingRecord, at: Locale) {
  return SummaryArticleModel.findOne({ meetingId: meeting._id, locale: at }).lean<SummaryArticleRecord>();
}

function changedEvent(action: string) {
  return (summary: SummaryView) => [{ type: 'summary.changed', audience: 'organizers' as const, payload: { action, summary: { locale: summary.locale, version: summary.version, published: summary.published } } }];
}

/** A new version of the text, written on `baseVersion` only (0: the first save). */
async function writeVersion(meeting: MeetingRecord, organizer: Organizer, at: Locale, text: string, baseVersion: number, stillOpen: ReturnType<typeof requireOpen>['stillOpen'], action: string): Promise<SummaryView> {
  const current = await load(meeting, at);
  if ((current?.version ?? 0) !== baseVersion) throw new Conflict('summary.conflict');
  if (current && current.text === text) return summaryView(at, current);
  const by = { id: organizer.userId, name: organizer.name };
  const { result } = await commitMeetingChange({
    meetingId: meeting._id,
    ...stillOpen,
    audit: { actor: organizer, detail: at },
    write: async (revision) => {
      const now = new Date();
      const fields = { text, version: baseVersion + 1, updatedAt: now, updatedBy: by, revision };
      try {
        if (!current) await SummaryArticleModel.create({ meetingId: meeting._id, locale: at, published: null, ...fields });
        else if ((await SummaryArticleModel.updateOne({ _id: current._id, version: baseVersion }, { $set: fields })).matchedCount !== 1) throw new Conflict('summary.conflict');
        await SummaryVersionModel.create({ meetingId: meeting._id, locale: at, version: baseVersion + 1, text, at: now, by, revision });
      } catch (error) {
        if (isDuplicateKeyError(error)) throw new Conflict('summary.conflict');
        throw error;
      }
      return summaryView(at, (await load(meeting, at))!);
    },
    events: changedEvent(action),
  });
  return result;
}

export async function saveSummary(actor: Actor, input: unknown): Promise<SummaryView> {
  const data = parseInput(saveSchema, input);
  const { meeting, organizer, stillOpen } = await organizerMeeting(actor, data.meetingId);
  return writeVersion(meeting, organizer, data.locale, data.text.replace(/\r\n?/g, '\n'), data.baseVersion, stillOpen, 'save');
}

/** The text replaced by a fresh draft from the meeting's data as it is now (a new version). */
export async function regenerateSummary(actor: Actor, input: unknown): Promise<SummaryView> {
  const data = parseInput(regenerateSchema, input);
  const { meeting, organizer, stillOpen } = await organizerMeeting(actor, data.meetingId);
  return writeVersion(meeting, organizer, data.locale, await generateArticle(meeting, data.locale), data.baseVersion, stillOpen, 'regenerate');
}

/** Publishes `version` (the one the organizer is looking at) of the article on the public page. */
export async function publishSummary(actor: Actor, input: unknown): Promise<SummaryView> {
  const data = parseInput(publishSchema, input);
  const { meeting, organizer, stillOpen } = await organizerMeeting(actor, data.meetingId);
  const current = await load(meeting, data.locale);
  if (!current) throw new Invalid({ version: { key: 'summary.publish.unsaved' } }, 'summary.publish.unsaved');
  if (current.version !== data.version) throw new Conflict('summary.conflict');
  const by = { id: organizer.userId, name: organizer.name };
  const { result } = await commitMeetingChange({
    meetingId: meeting._id,
    ...stillOpen,
    audit: { actor: organizer, detail: data.locale },
    write: async () => {
      const published = { text: current.text, version: current.version, at: new Date(), by };
      if ((await SummaryArticleModel.updateOne({ _id: current._id, version: data.version }, { $set: { published } })).matchedCount !== 1) throw new Conflict('summary.conflict');
      return summaryView(data.locale, (await load(meeting, data.locale))!);
    },
    events: changedEvent('publish'),
  });
  return result;
}

/** Takes the article down; allowed whatever the meeting's status (a cancelled meeting's article too). */
export async function unpublishSummary(actor: Actor, input: unknown): Promise<SummaryView> {
  const data = parseInput(unpublishSchema, input);
  const meeting = await loadSummaryMeeting(actor, data.meetingId);
  const organizer = actor as Organizer;
  const { stillOpen } = requireOpen(meeting, {});
  const current = await load(meeting, data.locale);
  if (!current?.published) return summaryView(data.locale, current);
  const { result } = await commitMeetingChange({
    meetingId: meeting._id,
    ...stillOpen,
    audit: { actor: organizer, detail: data.locale },
    write: async () => {
      await SummaryArticleModel.updateOne({ _id: current._id }, { $set: { published: null } });
      return summaryView(data.locale, (await load(meeting, data.locale))!);
    },
    events: changedEvent('unpublish'),
  });
  return result;
}
