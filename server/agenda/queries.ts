// Reads of the agenda: the organizer's editor, the meeting's viewers, and the public page.
import { Types } from 'mongoose';
import './messages.js';
import { AgendaItemModel, scheduleTimes, type AgendaKind } from './model.js';
import { findMeetingSummary, toMeetingSummary, type MeetingSummary } from '../meetings/queries.js';
import { loadMeetingFor } from '../meetings/guard.js';
import { SiteModel } from '../sites/model.js';
import { AttendeeModel, type AttendeeRole } from '../attendees/model.js';
import { requireOrganizer, type Actor } from '../lib/actor.js';
import { NotFound } from '../lib/errors.js';
import { escapeRegex, searchKey } from '../lib/text.js';
import { isObjectIdString } from '../lib/input.js';

export interface AgendaSpeakerView {
  /** Present when the speaker is an attendee of the meeting. */
  attendeeId?: string;
  name: string;
  position: string;
}

export interface AgendaItemView {
  id: string;
  order: number;
  title: string;
  kind: AgendaKind;
  plannedMinutes: number;
  notes: string;
  speakers: AgendaSpeakerView[];
  startsAt: Date;
  endsAt: Date;
}

export type AgendaMeetingView = MeetingSummary;

export interface AgendaView {
  meeting: AgendaMeetingView;
  items: AgendaItemView[];
  totalMinutes: number;
  /** Meeting start plus every planned duration. */
  plannedEndsAt: Date;
  /** Minutes the agenda runs past the meeting's end; 0 when it fits. */
  overrunMinutes: number;
  overruns: boolean;
}

export interface PublicAgendaItem {
  order: number;
  title: string;
  kind: AgendaKind;
  plannedMinutes: number;
  startsAt: Date;
  endsAt: Date;
  speakers: Array<{ name: string; position: string }>;
}

/** What anyone with the public link may see: never notes, attendee ids, phones or video-link secrets. */
export interface PublicMeetingView {
  meeting: Omit<AgendaMeetingView, 'id' | 'revision'>;
  agenda: PublicAgendaItem[];
  totalMinutes: number;
  plannedEndsAt: Date;
  sites: Array<{ name: string; address: string; isMain: boolean }>;
}

export interface SpeakerOption {
  attendeeId: string;
  name: string;
  position: string;
  organization: string;
  role: AttendeeRole;
}

/** A path parameter that is not an ObjectId names nothing: answer 404 rather than 422. */
export function meetingIdOrNotFound(meetingId: string): Types.ObjectId {
  if (!isObjectIdString(meetingId)) throw new NotFound('agenda.meetingNotFound');
  return new Types.ObjectId(meetingId);
}

async function loadItems(meetingId: Types.ObjectId) {
  return AgendaItemModel.find({ meetingId }).sort({ order: 1, _id: 1 }).lean();
}

/** Items with start/end times, total and overrun: the one shape every agenda reader gets. */
export function computeAgenda(meeting: MeetingSummary, rawItems: Awaited<ReturnType<typeof loadItems>>): AgendaView {
  const items = scheduleTimes(
    rawItems.map((item, index) => ({
      id: String(item._id),
      // Positions shown are always 0..n-1 even if stored orders have gaps or ties.
      order: index,
      title: item.title,
      kind: item.kind as AgendaKind,
      plannedMinutes: item.plannedMinutes,
      notes: item.notes ?? '',
      speakers: (item.speakers ?? []).map((speaker) => ({
        ...(speaker.attendeeId ? { attendeeId: String(speaker.attendeeId) } : {}),
        name: speaker.name,
        position: speaker.position ?? '',
      })),
    })),
    meeting.startsAt,
  );
  const totalMinutes = items.reduce((sum, item) => sum + item.plannedMinutes, 0);
  const plannedEndsAt = new Date(meeting.startsAt.getTime() + totalMinutes * 60_000);
  const overrunMinutes = Math.max(0, Math.ceil((plannedEndsAt.getTime() - meeting.endsAt.getTime()) / 60_000));
  return { meeting, items, totalMinutes, plannedEndsAt, overrunMinutes, overruns: overrunMinutes > 0 };
}

/** The computed agenda without a permission check: for actions (event payloads) and the seed. */
export async function loadAgenda(meetingId: string | Types.ObjectId): Promise<AgendaView> {
  const id = typeof meetingId === 'string' ? meetingIdOrNotFound(meetingId) : meetingId;
  const [meeting, items] = await Promise.all([findMeetingSummary({ id }, 'agenda.meetingNotFound'), loadItems(id)]);
  return computeAgenda(meeting, items);
}

/** Organizers, and the meeting's chair, coordinators and attendees, read the whole agenda. */
export async function getAgenda(actor: Actor, meetingId: string): Promise<AgendaView> {
  const meeting = await loadMeetingFor(actor, meetingId, 'agenda.meetingNotFound');
  return computeAgenda(toMeetingSummary(meeting), await loadItems(meeting._id));
}

/** The public page's data, found by the meeting's unguessable publicId; no sign-in needed. */
export async function getPublicMeeting(publicId: string): Promise<PublicMeetingView> {
  if (typeof publicId !== 'string' || publicId.length === 0 || publicId.length > 100) throw new NotFound('public.notFound.title');
  const meeting = await findMeetingSummary({ publicId }, 'public.notFound.title');
  const meetingId = new Types.ObjectId(meeting.id);
  const [items, sites] = await Promise.all([
    loadItems(meetingId),
    // Projection, not filtering after the fact: coordinator phones and passcodes never leave the database.
    SiteModel.find({ meetingId }).select({ name: 1, address: 1, isMain: 1, order: 1 }).sort({ isMain: -1, order: 1, name: 1 }).lean(),
  ]);
  const agenda = computeAgenda(meeting, items);
  const { id: _id, revision: _revision, ...publicMeeting } = agenda.meeting;
  return {
    meeting: publicMeeting,
    agenda: agenda.items.map((item) => ({
      order: item.order,
      title: item.title,
      kind: item.kind,
      plannedMinutes: item.plannedMinutes,
      startsAt: item.startsAt,
      endsAt: item.endsAt,
      speakers: item.speakers.map((speaker) => ({ name: speaker.name, position: speaker.position })),
    })),
    totalMinutes: agenda.totalMinutes,
    plannedEndsAt: agenda.plannedEndsAt,
    sites: sites.map((site) => ({ name: site.name, address: site.address ?? '', isMain: Boolean(site.isMain) })),
  };
}

/** The speaker picker: up to 20 of the meeting's attendees matching `q` (diacritics optional). */
export async function searchSpeakerOptions(actor: Actor, meetingId: string, q: unknown): Promise<SpeakerOption[]> {
  requireOrganizer(actor);
  const id = (await loadMeetingFor(actor, meetingId, 'agenda.meetingNotFound'))._id;
  const query = typeof q === 'string' ? searchKey(q).slice(0, 100) : '';
  const filter: Record<string, unknown> = { meetingId: id };
  if (query) filter.searchText = { $regex: escapeRegex(query) };
  const attendees = await AttendeeModel.find(filter)
    .select({ fullName: 1, position: 1, organization: 1, role: 1 })
    .sort({ fullName: 1 })
    .limit(20)
    .lean();
  return attendees.map((attendee) => ({
    attendeeId: String(attendee._id),
    name: attendee.fullName,
    position: attendee.position ?? '',
    organization: attendee.organization ?? '',
    role: attendee.role as AttendeeRole,
  }));
}

/** Names of the attendees a form re-render must show as chosen speakers (only the meeting's own). */
export async function speakerOptionsByIds(actor: Actor, meetingId: string, ids: string[]): Promise<SpeakerOption[]> {
  requireOrganizer(actor);
  const id = (await loadMeetingFor(actor, meetingId, 'agenda.meetingNotFound'))._id;
  const valid = ids.filter(isObjectIdString).slice(0, 50);
  if (valid.length === 0) return [];
  const attendees = await AttendeeModel.find({ meetingId: id, _id: { $in: valid } }).select({ fullName: 1, position: 1, organization: 1, role: 1 }).lean();
  const byId = new Map(attendees.map((attendee) => [String(attendee._id), attendee]));
  return valid.flatMap((entry) => {
    const attendee = byId.get(entry.toLowerCase());
    return attendee
      ? [{ attendeeId: entry.toLowerCase(), name: attendee.fullName, position: attendee.position ?? '', organization: attendee.organization ?? '', role: attendee.role as AttendeeRole }]
      : [];
  });
}
