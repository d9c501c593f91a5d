// The demo's conference day: the 2021 conference as the day left it (ended, who came when, who
// was absent and why, a walk-in, the agenda's actual times running late), and a rehearsal of the
// same conference dated today (in the meeting's zone), scheduled and ready to start. Idempotent:
// each step is keyed (publicId, unique indexes, a status guard) and skipped when done.
import { DateTime } from 'luxon';

import { MeetingModel } from '../meetings/model.js';
import { commitMeetingChange, type MeetingRecord } from '../meetings/revision.js';
import { duplicateMeeting, setMeetingStatus, updateMeeting } from '../meetings/actions.js';
import { SiteModel } from '../sites/model.js';
import { AttendeeModel } from '../attendees/model.js';
import { AgendaItemModel } from '../agenda/model.js';
import { AttendanceModel } from '../attendance/model.js';
import { systemActor } from '../lib/actor.js';
import { isDuplicateKeyError } from '../lib/errors.js';

export const rehearsalPublicIdPrefix = 'rehearsal-';

type Absence = { reason: 'sick' | 'mission' | 'delegate' | 'other'; delegateName?: string; note?: string };

/** Who did what on 29 December 2021, by the attendee's place in the list (deterministic). */
function dayOf(index: number): { status: 'present' | 'absent' | 'leftEarly'; minutesFromStart: number; absence?: Absence } {
  if (index === 5) return { status: 'absent', minutesFromStart: 0, absence: { reason: 'mission', note: 'Công tác tại Hà Nội' } };
  if (index === 17) return { status: 'absent', minutesFromStart: 0, absence: { reason: 'sick' } };
  if (index === 29) return { status: 'absent', minutesFromStart: 0, absence: { reason: 'delegate', delegateName: 'Lê Văn Thành' } };
  if (index === 41) return { status: 'absent', minutesFromStart: 0, absence: { reason: 'other', note: 'Tiếp đoàn kiểm tra của Tỉnh' } };
  if (index === 9 || index === 33) return { status: 'leftEarly', minutesFromStart: -12 };
  // Most arrive between 13:35 and 14:00; every eleventh comes after the start (a latecomer).
  return { status: 'present', minutesFromStart: index % 11 === 7 ? 8 + (index % 5) * 4 : -25 + ((index * 7) % 24) };
}

/** The 2021 conference, still "scheduled" after seeding, becomes "ended" as a real day leaves it. */
export async function playDemoDay(meetingId: string): Promise<void> {
  const meeting = await MeetingModel.findById(meetingId).lean<MeetingRecord>();
  if (!meeting || meeting.status !== 'scheduled') return;
  const start = meeting.startsAt.getTime();
  const minute = 60_000;
  const startedAt = new Date(start + 4 * minute);
  const attendees = await AttendeeModel.find({ meetingId }, { siteId: 1, fullName: 1, organization: 1, role: 1, walkIn: 1 }).sort({ _id: 1 }).lean();
  const sites = await SiteModel.find({ meetingId }).sort({ order: 1 }).lean();

  // Each record, and the site counters they add up to (the same rule as the attendance actions).
  const counters = new Map<string, { present: number; absent: number; leftEarly: number; late: number; walkIns: number; resolved: number }>();
  const counterOf = (siteId: string) => counters.get(siteId) ?? counters.set(siteId, { present: 0, absent: 0, leftEarly: 0, late: 0, walkIns: 0, resolved: 0 }).get(siteId)!;
  const records = attendees.map((attendee, index) => {
    const day = dayOf(index);
    const siteId = String(attendee.siteId);
    const presentAt = day.status === 'absent' ? null : new Date(start + day.minutesFromStart * minute);
    const late = Boolean(presentAt && presentAt.getTime() > startedAt.getTime());
    const counter = counterOf(siteId);
    counter[day.status] += 1;
    counter.resolved += attendee.walkIn ? 0 : 1;
    if (late) counter.late += 1;
    if (attendee.walkIn) counter.walkIns += 1;
    return {
      meetingId: meeting._id,
      attendeeId: attendee._id,
      siteId: attendee.siteId,
      walkIn: Boolean(attendee.walkIn),
      organization: attendee.organization ?? '',
      role: attendee.role,
      status: day.status,
      presentAt,
      leftAt: day.status === 'leftEarly' ? new Date(meeting.endsAt.getTime() + day.minutesFromStart * minute) : null,
      late,
      absence: day.absence ?? null,
      changedBy: 'coordinator',
      changedAt: presentAt ?? new Date(start - 30 * minute),
      history: [{ status: 'expected', presentAt: null, leftAt: null, late: false, absence: null, changedBy: null }],
      version: 1,
    };
  });
  for (const record of records) {
    try {
      await AttendanceModel.updateOne({ meetingId: record.meetingId, attendeeId: record.attendeeId }, { $setOnInsert: record }, { upsert: true });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  // The agenda ran late: a slow start, the report overran by 8 minutes, the directives by 5.
  const items = await AgendaItemModel.find({ meetingId }).sort({ order: 1 }).lean();
  let cursor = startedAt.getTime();
  const runs = items.map((item, index) => {
    const overrun = index === 1 ? 8 : item.kind === 'directives' ? 5 : index % 3 === 0 ? -1 : 1;
    const spentMs = Math.max(1, item.plannedMinutes + overrun) * minute;
    const run = { itemId: item._id, startedAt: new Date(cursor), endedAt: new Date(cursor + spentMs), spentMs, extendedMinutes: index === 1 ? 5 : 0 };
    cursor += spentMs;
    return run;
  });
  const endedAt = new Date(cursor);
  const liveSites: Record<string, unknown> = {};
  for (const [index, site] of sites.entries()) {
    liveSites[String(site._id)] = {
      ...(counters.get(String(site._id)) ?? {}),
      linkStatus: index % 6 === 4 ? 'audioProblem' : 'ready',
      linkNote: index % 6 === 4 ? 'Tiếng bị rè, đã khắc phục lúc 14:20' : '',
      linkAt: new Date(start - 20 * minute),
      connected: false,
      lastSeenAt: new Date(endedAt.getTime() + 3 * minute),
    };
  }
  await commitMeetingChange({
    meetingId,
    when: { status: 'scheduled' },
    rejected: () => new Error('demo day: already played'),
    update: {
      $set: {
        status: 'ended',
        live: { startedAt, endedAt, quorumPercent: 50, sites: liveSites, agenda: { currentItemId: null, runs, timer: null, version: 1 }, speakers: { queue: [], floorId: null, version: 0 } },
      },
    },
    events: () => [],
  }).catch((error: unknown) => {
    if (!(error instanceof Error && error.message === 'demo day: already played')) throw error;
  });
}

/**
 * Today's rehearsal of the demo conference (same sites, people and agenda), at the conference's
 * own time of day, today in its zone: one per day, keyed by its publicId.
 */
export async function seedRehearsal(demoMeetingId: string, now = new Date()): Promise<MeetingRecord | undefined> {
  const demo = await MeetingModel.findById(demoMeetingId).lean<MeetingRecord>();
  if (!demo) return undefined;
  const today = DateTime.fromJSDate(now, { zone: demo.timeZone });
  const publicId = `${rehearsalPublicIdPrefix}${today.toFormat('yyyy-LL-dd')}`;
  const existing = await MeetingModel.findOne({ publicId }).lean<MeetingRecord>();
  if (existing) return existing;
  const original = DateTime.fromJSDate(demo.startsAt, { zone: demo.timeZone });
  const start = today.set({ hour: original.hour, minute: original.minute, second: 0, millisecond: 0 });
  const copy = await duplicateMeeting(systemActor, {
    meetingId: demoMeetingId,
    title: `[Tổng duyệt ${today.toFormat('dd/LL/yyyy')}] ${demo.title}`,
    start: start.toFormat("yyyy-LL-dd'T'HH:mm"),
    copyAttendees: true,
  });
  try {
    await MeetingModel.updateOne({ _id: copy._id }, { $set: { publicId } });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    // Another instance made today's rehearsal first.
    await Promise.all([
      AgendaItemModel.deleteMany({ meetingId: copy._id }),
      AttendeeModel.deleteMany({ meetingId: copy._id }),
      SiteModel.deleteMany({ meetingId: copy._id }),
      MeetingModel.deleteOne({ _id: copy._id }),
    ]);
    return (await MeetingModel.findOne({ publicId }).lean<MeetingRecord>()) ?? undefined;
  }
  await updateMeeting(systemActor, { meetingId: String(copy._id), description: `Buổi tổng duyệt của hội nghị: mở trang điều hành để bắt đầu. ${demo.description}` });
  return setMeetingStatus(systemActor, { meetingId: String(copy._id), action: 'schedule' });
}

