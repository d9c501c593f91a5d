// The attendance report of one meeting: who was expected, came, came late, left early, was absent
// and why, and who walked in, per site, per organization and per role, and the agenda planned
// against its actual times. The counting is done by the database: five counting aggregations
// (invited people per site, per organization, per role; attendance records per site and state,
// per organization, role and state), each answered by the store from one index without reading
// a person (see below); this file only adds their rows up, so neither its work nor the store's
// grows with the number of attendees, only with the number of distinct values.
import './messages.js';
import { Types } from 'mongoose';
import { AttendanceModel } from '../attendance/model.js';
import { AttendeeModel, attendeeRoles, type AttendeeRole } from '../attendees/model.js';
import { RsvpModel } from '../calendar/model.js';
import { SiteModel } from '../sites/model.js';
import { scheduleTimes } from '../agenda/model.js';
import { loadAgendaItems, type AgendaLiveState } from '../agenda/live-view.js';
import { absenceReasons, type AbsenceReason } from '../live/contract.js';
import { loadMeetingFor } from '../meetings/guard.js';
import { capabilitiesFor } from '../meetings/capabilities.js';
import type { MeetingRecord } from '../meetings/revision.js';
import type { Actor } from '../lib/actor.js';
import { Forbidden } from '../lib/errors.js';
import { BoundedMap } from '../lib/bounded-map.js';

/**
 * One line of the report. `expected` counts invited people (walk-ins are not invited) less those
 * who declined the invitation, as the day's counts do (live/counts.ts); `present`, `absent` and
 * `pending` split them: came (including those who left early), reported absent, and never marked.
 * One who declined and came anyway (or was marked absent) counts as present (absent) without
 * lowering `pending`. `late` and `leftEarly` count everyone who came, walk-ins included; `walkIns` counts
 * walk-ins who came. `absentBy` splits `absent` by the reason given.
 */
export interface AttendanceFigures {
  expected: number;
  present: number;
  absent: number;
  absentBy: Record<AbsenceReason, number>;
  pending: number;
  late: number;
  leftEarly: number;
  walkIns: number;
  /** Everyone who came: invited people present plus walk-ins. */
  attended: number;
  /** present / expected, in whole percent (0 when nobody was expected). */
  rate: number;
}

export interface SiteFigures extends AttendanceFigures {
  id: string;
  name: string;
  isMain: boolean;
}

export interface GroupFigures extends AttendanceFigures {
  /** The organization as written on the list ('' when none was given), or the role's code. */
  key: string;
}

export interface AgendaReportItem {
  id: string;
  order: number;
  title: string;
  kind: string;
  plannedMinutes: number;
  extendedMinutes: number;
  plannedStartsAt: Date;
  plannedEndsAt: Date;
  actualStartedAt: Date | null;
  actualEndedAt: Date | null;
  /** Whole minutes actually spent (the timer's time when known, else end minus start). */
  actualMinutes: number | null;
  /** actualMinutes - plannedMinutes. */
  overMinutes: number | null;
  /** How late the item started against the plan, in whole minutes (negative: early). */
  startDelayMinutes: number | null;
}

export interface AttendanceReport {
  meeting: MeetingRecord;
  totals: AttendanceFigures;
  sites: SiteFigures[];
  organizations: GroupFigures[];
  roles: Array<GroupFigures & { key: AttendeeRole }>;
  agenda: {
    items: AgendaReportItem[];
    plannedMinutes: number;
    actualMinutes: number | null;
    /** When the meeting actually started and ended (live state), if it ran. */
    startedAt: Date | null;
    endedAt: Date | null;
  };
  generatedAt: Date;
}

const cameStatuses = new Set(['present', 'leftEarly']);

function emptyFigures(): AttendanceFigures {
  return { expected: 0, present: 0, absent: 0, absentBy: { sick: 0, mission: 0, delegate: 0, other: 0 }, pending: 0, late: 0, leftEarly: 0, walkIns: 0, attended: 0, rate: 0 };
}

/** Invited people with one value of a dimension (a site's id, an organization, a role), counted by the database. */
interface InvitedRow {
  _id: { key: unknown };
  invited: number;
}

/** The state a group of attendance records is in (the report splits on all of it). */
interface StateKey {
  status: string;
  reason: string | null;
  late: boolean;
  walkIn: boolean;
}

/** How many attendance records of a group are in each state the report counts (the database's sums). */
interface StateCounts {
  present: number;
  absent: number;
  sick: number;
  mission: number;
  delegate: number;
  late: number;
  leftEarly: number;
  walkIns: number;
}

/** Attendance records per site, counted by the database. */
type SiteStateRow = StateCounts & { _id: { siteId: Types.ObjectId } };

/** Attendance records per organization and role; role null: records written before they carried it. */
type GroupStateRow = StateCounts & { _id: { organization: string | null; role: string | null } };

/** A legacy record group, keyed by its whole state (legacyStatesPipeline). */
interface LegacyStateRow {
  _id: StateKey & { organization: string; role: string };
  count: number;
}

// Every pipeline below is a $match on the meeting and a $group counting per values of indexed
// fields: the store answers each from one index's entries without reading a document (its
// covered $group, server/embedded-mongo/covered-group.ts; the indexes are in attendees/model.ts
// and attendance/model.ts), so the report's cost grows with the number of distinct values (sites,
// organizations, roles, states), not with the number of people. Each dimension is counted on its
// own (their cross product would grow with the list), and the states are summed in the group
// (one row per site, not one per site and state).

/** Invited people (walk-ins were not invited) per value of `key` (an expression). */
function invitedPipeline(meetingId: Types.ObjectId, key: unknown) {
  return [{ $match: { meetingId, walkIn: { $ne: true } } }, { $group: { _id: { key }, invited: { $sum: 1 } } }];
}

const came = { $in: ['$status', ['present', 'leftEarly']] };
const invited = { $ne: ['$walkIn', true] };
const absentInvited = [{ $eq: ['$status', 'absent'] }, invited];
const countWhen = (condition: unknown) => ({ $sum: { $cond: [condition, 1, 0] } });

/**
 * The figures addState gives, as sums: invited people who came (present or left early), were
 * reported absent (and why: 'other' is the rest), everyone who came late, left early, walk-ins who came.
 */
const stateCounts = {
  present: countWhen({ $and: [came, invited] }),
  absent: countWhen({ $and: absentInvited }),
  sick: countWhen({ $and: [...absentInvited, { $eq: ['$absence.reason', 'sick'] }] }),
  mission: countWhen({ $and: [...absentInvited, { $eq: ['$absence.reason', 'mission'] }] }),
  delegate: countWhen({ $and: [...absentInvited, { $eq: ['$absence.reason', 'delegate'] }] }),
  late: countWhen({ $and: [came, { $eq: ['$late', true] }] }),
  leftEarly: countWhen({ $eq: ['$status', 'leftEarly'] }),
  walkIns: countWhen({ $and: [came, { $eq: ['$walkIn', true] }] }),
};

/** Attendance records (one exists once someone's status was first changed) per site. */
function siteStatesPipeline(meetingId: Types.ObjectId) {
  return [{ $match: { meetingId } }, { $group: { _id: { siteId: '$siteId' }, ...stateCounts } }];
}

/** Attendance records per organization and role, as the records carry them (attendance/model.ts). */
function groupStatesPipeline(meetingId: Types.ObjectId) {
  return [{ $match: { meetingId } }, { $group: { _id: { organization: { $ifNull: ['$organization', null] }, role: { $ifNull: ['$role', null] } }, ...stateCounts } }];
}

/**
 * Records written before they carried their attendee's organization and role, per the attendee's
 * (joined by _id; records of a removed attendee drop out). Read only when such records exist.
 */
function legacyStatesPipeline(meetingId: Types.ObjectId) {
  return [
    { $match: { meetingId, role: null } },
    // No sub-pipeline: the embedded store answers a plain localField/foreignField join through
    // the foreign index, but runs a sub-pipeline once per record over the whole collection.
    { $lookup: { from: AttendeeModel.collection.collectionName, localField: 'attendeeId', foreignField: '_id', as: 'person' } },
    { $unwind: '$person' },
    {
      $group: {
        _id: {
          organization: { $ifNull: ['$person.organization', ''] },
          role: '$person.role',
          status: '$status',
          reason: { $ifNull: ['$absence.reason', null] },
          late: { $eq: ['$late', true] },
          walkIn: { $or: [{ $eq: ['$walkIn', true] }, { $eq: ['$person.walkIn', true] }] },
        },
        count: { $sum: 1 },
      },
    },
  ];
}

/** Adds one group of records in a given state to `figures`. */
function addState(figures: AttendanceFigures, row: StateKey, count: number): void {
  const came = cameStatuses.has(row.status);
  if (row.walkIn) {
    if (came) figures.walkIns += count;
  } else if (came) figures.present += count;
  else if (row.status === 'absent') {
    figures.absent += count;
    const reason = (absenceReasons as readonly string[]).includes(row.reason ?? '') ? (row.reason as AbsenceReason) : 'other';
    figures.absentBy[reason] += count;
  }
  if (came && row.late) figures.late += count;
  if (row.status === 'leftEarly') figures.leftEarly += count;
}

/** Adds the sums of one group of records to `figures`. */
function addCounts(figures: AttendanceFigures, row: StateCounts): void {
  figures.present += row.present;
  figures.absent += row.absent;
  figures.absentBy.sick += row.sick;
  figures.absentBy.mission += row.mission;
  figures.absentBy.delegate += row.delegate;
  figures.absentBy.other += row.absent - row.sick - row.mission - row.delegate;
  figures.late += row.late;
  figures.leftEarly += row.leftEarly;
  figures.walkIns += row.walkIns;
}

/** Per line: people who declined but have a state (present, left early, absent) all the same. */
const declinedResolved = new WeakMap<AttendanceFigures, number>();

function finish<T extends AttendanceFigures>(figures: T): T {
  figures.pending = Math.max(0, figures.expected - (figures.present + figures.absent - (declinedResolved.get(figures) ?? 0)));
  figures.attended = figures.present + figures.walkIns;
  figures.rate = figures.expected > 0 ? Math.round((figures.present * 100) / figures.expected) : 0;
  return figures;
}

function minutesBetween(from: Date, to: Date): number {
  return Math.round((to.getTime() - from.getTime()) / 60_000);
}

/** The agenda as planned (the meeting's start plus planned durations) against the runs of the day. */
async function agendaReport(meeting: MeetingRecord): Promise<AttendanceReport['agenda']> {
  const items = await loadAgendaItems(String(meeting._id));
  const live = meeting.live as { startedAt?: Date | null; endedAt?: Date | null; agenda?: AgendaLiveState } | undefined;
  const runs = new Map((live?.agenda?.runs ?? []).map((run) => [String(run.itemId), run]));
  const planned = scheduleTimes(items, meeting.startsAt);
  const views = planned.map((item): AgendaReportItem => {
    const run = runs.get(String(item._id));
    const startedAt = run ? new Date(run.startedAt) : null;
    const endedAt = run?.endedAt ? new Date(run.endedAt) : null;
    const actualMinutes = run && endedAt ? (run.spentMs ? Math.round(run.spentMs / 60_000) : minutesBetween(startedAt!, endedAt)) : null;
    return {
      id: String(item._id),
      order: item.order,
      title: item.title,
      kind: item.kind,
      plannedMinutes: item.plannedMinutes,
      extendedMinutes: run?.extendedMinutes ?? 0,
      plannedStartsAt: item.startsAt,
      plannedEndsAt: item.endsAt,
      actualStartedAt: startedAt,
      actualEndedAt: endedAt,
      actualMinutes,
      overMinutes: actualMinutes === null ? null : actualMinutes - item.plannedMinutes,
      startDelayMinutes: startedAt ? minutesBetween(item.startsAt, startedAt) : null,
    };
  });
  const ran = views.filter((item) => item.actualMinutes !== null);
  return {
    items: views,
    plannedMinutes: views.reduce((sum, item) => sum + item.plannedMinutes, 0),
    actualMinutes: ran.length > 0 ? ran.reduce((sum, item) => sum + (item.actualMinutes ?? 0), 0) : null,
    startedAt: live?.startedAt ? new Date(live.startedAt) : null,
    endedAt: live?.endedAt ? new Date(live.endedAt) : null,
  };
}

/**
 * The attendance report, for the organizers of the meeting's unit and its chair. An organizer of
 * another unit is told the meeting does not exist (404); a coordinator or attendee of the meeting
 * is refused (403).
 */
export async function getAttendanceReport(actor: Actor, meetingId: string, options: { fresh?: boolean } = {}): Promise<AttendanceReport> {
  const meeting = await loadMeetingFor(actor, meetingId);
  if (!capabilitiesFor(actor, meeting).viewReport) throw new Forbidden();
  // Every change to attendance, attendees, sites or the agenda bumps the meeting's revision in
  // the same write (ARCHITECTURE rule 4), so figures computed at one revision stay exact until
  // the next; the TTL bounds the damage of a write that bypassed the revision.
  const key = `${String(meeting._id)}:${meeting.revision}`;
  let figures = options.fresh ? undefined : reportCache.get(key);
  if (!figures) {
    figures = computeReport(meeting);
    reportCache.set(key, figures);
    figures.catch(() => reportCache.delete(key));
  }
  return { meeting, ...(await figures) };
}

/** Reports by meeting and revision; concurrent viewers of one revision share one computation. */
const reportCache = new BoundedMap<string, Promise<Omit<AttendanceReport, 'meeting'>>>(50, { ttlMs: 60_000 });

/**
 * Invited people who declined the invitation (RSVP), with where they would have counted and
 * whether they have a state anyway. Read by index (declines are few; the roster's own rule).
 */
async function declinedPeople(meetingId: Types.ObjectId): Promise<Array<{ siteId: Types.ObjectId; organization: string; role: string; resolved: boolean }>> {
  const declines = await RsvpModel.find({ meetingId, response: 'declined' }, { attendeeId: 1 }).lean();
  if (declines.length === 0) return [];
  const people = await AttendeeModel.find({ _id: { $in: declines.map((rsvp) => rsvp.attendeeId) }, meetingId, walkIn: { $ne: true } }, { siteId: 1, organization: 1, role: 1 }).lean();
  const resolved = await AttendanceModel.find({ meetingId, attendeeId: { $in: people.map((person) => person._id) }, status: { $in: ['present', 'leftEarly', 'absent'] } }, { attendeeId: 1 }).lean();
  const resolvedIds = new Set(resolved.map((record) => String(record.attendeeId)));
  return people.map((person) => ({ siteId: person.siteId, organization: person.organization ?? '', role: person.role, resolved: resolvedIds.has(String(person._id)) }));
}

async function computeReport(meeting: MeetingRecord): Promise<Omit<AttendanceReport, 'meeting'>> {
  const id = new Types.ObjectId(String(meeting._id));
  const [sites, invitedBySite, invitedByOrganization, invitedByRole, siteStates, groupStates, declined, agenda] = await Promise.all([
    SiteModel.find({ meetingId: id }, { name: 1, isMain: 1, order: 1 }).sort({ order: 1, _id: 1 }).lean(),
    AttendeeModel.aggregate<InvitedRow>(invitedPipeline(id, '$siteId')),
    AttendeeModel.aggregate<InvitedRow>(invitedPipeline(id, { $ifNull: ['$organization', ''] })),
    AttendeeModel.aggregate<InvitedRow>(invitedPipeline(id, '$role')),
    AttendanceModel.aggregate<SiteStateRow>(siteStatesPipeline(id)),
    AttendanceModel.aggregate<GroupStateRow>(groupStatesPipeline(id)),
    declinedPeople(id),
    agendaReport(meeting),
  ]);
  const legacy = groupStates.some((row) => row._id.role === null) ? await AttendanceModel.aggregate<LegacyStateRow>(legacyStatesPipeline(id)) : [];

  const totals = emptyFigures();
  const bySite = new Map<string, SiteFigures>(sites.map((site) => [String(site._id), { ...emptyFigures(), id: String(site._id), name: site.name, isMain: Boolean(site.isMain) }]));
  const byOrganization = new Map<string, GroupFigures>();
  const byRole = new Map<AttendeeRole, GroupFigures & { key: AttendeeRole }>(attendeeRoles.map((role) => [role, { ...emptyFigures(), key: role }]));
  const organization = (name: unknown) => {
    const key = String(name ?? '').trim();
    return byOrganization.get(key) ?? byOrganization.set(key, { ...emptyFigures(), key }).get(key)!;
  };
  const role = (key: unknown) => byRole.get(key as AttendeeRole) ?? byRole.get('delegate')!;
  // A site removed after the day still has records: they count in the totals, not in a site row.
  const site = (siteId: unknown) => bySite.get(String(siteId));

  for (const row of invitedBySite) {
    totals.expected += row.invited;
    const line = site(row._id.key);
    if (line) line.expected += row.invited;
  }
  for (const row of invitedByOrganization) organization(row._id.key).expected += row.invited;
  for (const row of invitedByRole) role(row._id.key).expected += row.invited;
  for (const row of siteStates) {
    addCounts(totals, row);
    const line = site(row._id.siteId);
    if (line) addCounts(line, row);
  }
  for (const row of groupStates) {
    if (row._id.role === null) continue;
    addCounts(organization(row._id.organization), row);
    addCounts(role(row._id.role), row);
  }
  for (const row of legacy) {
    addState(organization(row._id.organization), row._id, row.count);
    addState(role(row._id.role), row._id, row.count);
  }
  for (const person of declined) {
    const lines = [totals, site(person.siteId), organization(person.organization), role(person.role)];
    for (const line of lines) {
      if (!line) continue;
      line.expected -= 1;
      if (person.resolved) declinedResolved.set(line, (declinedResolved.get(line) ?? 0) + 1);
    }
  }

  return {
    totals: finish(totals),
    sites: [...bySite.values()].map(finish),
    organizations: [...byOrganization.values()].map(finish).sort((a, b) => b.expected + b.walkIns - (a.expected + a.walkIns) || a.key.localeCompare(b.key, 'vi')),
    roles: [...byRole.values()].map(finish).filter((line) => line.expected + line.walkIns > 0),
    agenda,
    generatedAt: new Date(),
  };
}
