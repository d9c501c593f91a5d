// What the task board, an assignee's own page and the API read of directives and tasks. Overdue
// is derived here, never stored: not done, and the due date is before today where the meeting is.
import './messages.js';
import { Types } from 'mongoose';
import { DirectiveModel, FollowupTaskModel, taskStatuses, type DirectiveRecord, type FollowupTaskRecord, type TaskStatus } from './model.js';
import { MeetingModel } from '../meetings/model.js';
import { SiteModel } from '../sites/model.js';
import { UnitModel } from '../units/model.js';
import { loadMeetingFor, requireMeetingAccess } from '../meetings/guard.js';
import { capabilitiesFor, type MeetingCapabilities } from '../meetings/capabilities.js';
import type { MeetingRecord } from '../meetings/revision.js';
import { type Actor } from '../lib/actor.js';
import { AppError, Forbidden, Unauthorized } from '../lib/errors.js';
import { dateIn } from '../lib/time.js';
import { isObjectIdString } from '../lib/input.js';

export interface TaskNoteView {
  text: string;
  at: string;
  by: string;
}

export interface TaskView {
  id: string;
  meetingId: string;
  directiveId: string;
  assignee: { kind: 'unit' | 'site'; id: string; name: string };
  /** "YYYY-MM-DD", a date in the meeting's time zone. */
  dueDate: string;
  status: TaskStatus;
  /** Not done and due before today in the meeting's time zone. */
  overdue: boolean;
  notes: TaskNoteView[];
  revision: number;
}

export interface DirectiveView {
  id: string;
  meetingId: string;
  order: number;
  text: string;
  by: string;
  revision: number;
}

export interface DirectiveWithTasks extends DirectiveView {
  tasks: TaskView[];
}

/** Whether a task with `status`, due on `dueDate`, is overdue at `now` in `zone`. */
export function isOverdue(status: string, dueDate: string, zone: string, now: Date = new Date()): boolean {
  return status !== 'done' && dueDate < dateIn(now, zone);
}

export function directiveView(directive: DirectiveRecord): DirectiveView {
  return { id: String(directive._id), meetingId: String(directive.meetingId), order: directive.order, text: directive.text, by: directive.by ?? '', revision: directive.revision };
}

export function taskView(task: FollowupTaskRecord, zone: string, now: Date = new Date()): TaskView {
  return {
    id: String(task._id),
    meetingId: String(task.meetingId),
    directiveId: String(task.directiveId),
    assignee: { kind: task.assignee.kind as 'unit' | 'site', id: String(task.assignee.id), name: task.assignee.name },
    dueDate: task.dueDate,
    status: task.status as TaskStatus,
    overdue: isOverdue(task.status, task.dueDate, zone, now),
    notes: (task.notes ?? []).map((note) => ({ text: note.text, at: note.at.toISOString(), by: note.by })),
    revision: task.revision,
  };
}

/** The meeting's directives in the chair's order. */
export async function loadDirectives(meetingId: string | Types.ObjectId): Promise<DirectiveView[]> {
  const directives = await DirectiveModel.find({ meetingId }).sort({ order: 1, _id: 1 }).lean<DirectiveRecord[]>();
  return directives.map(directiveView);
}

/** Directives with their tasks (due date, then assignee name), for a board or the API. */
async function directivesWithTasks(meeting: Pick<MeetingRecord, '_id' | 'timeZone'>, now: Date, filter: Record<string, unknown> = {}): Promise<DirectiveWithTasks[]> {
  const [directives, tasks] = await Promise.all([
    loadDirectives(meeting._id),
    FollowupTaskModel.find({ meetingId: meeting._id, ...filter }).sort({ dueDate: 1, 'assignee.name': 1 }).lean<FollowupTaskRecord[]>(),
  ]);
  const byDirective = new Map<string, TaskView[]>();
  for (const task of tasks) {
    const list = byDirective.get(String(task.directiveId)) ?? [];
    list.push(taskView(task, meeting.timeZone, now));
    byDirective.set(String(task.directiveId), list);
  }
  return directives.map((directive) => ({ ...directive, tasks: byDirective.get(directive.id) ?? [] }));
}

/** "site:<id>" or "unit:<id>": how a board filter and the assign form name an assignee. */
export function assigneeKey(assignee: { kind: string; id: unknown }): string {
  return `${assignee.kind}:${String(assignee.id).toLowerCase()}`;
}

/** The assignee an `assigneeKey` names, or undefined for anything else. */
export function parseAssigneeKey(value: unknown): { kind: 'unit' | 'site'; id: string } | undefined {
  const match = typeof value === 'string' ? /^(unit|site):(.*)$/i.exec(value.trim()) : null;
  return match && isObjectIdString(match[2]) ? { kind: match[1]!.toLowerCase() as 'unit' | 'site', id: match[2]!.toLowerCase() } : undefined;
}

export interface TaskBoard {
  meeting: MeetingRecord;
  can: MeetingCapabilities;
  directives: DirectiveWithTasks[];
  /** The filtered tasks by status, each with its directive's text. */
  columns: Array<{ status: TaskStatus; tasks: Array<TaskView & { directiveText: string; directiveOrder: number }> }>;
  total: number;
  overdue: number;
  /** Everyone who has a task in this meeting, for the filter. */
  assignees: Array<{ key: string; kind: 'unit' | 'site'; name: string; selected: boolean }>;
  /** Who a directive may be assigned to: the meeting's sites and every organizing unit. */
  assignable: { sites: Array<{ key: string; name: string }>; units: Array<{ key: string; name: string }> };
  /** The meeting this one was duplicated from, with its tasks as they stand now. */
  lastYear?: { meeting: { id: string; title: string; startsAt: Date; timeZone: string }; directives: DirectiveWithTasks[]; total: number; done: number; overdue: number };
}

/**
 * The board of one meeting: organizers of its unit and the chair. `assignee` ("site:<id>") keeps
 * only that assignee's tasks in the columns and under each directive.
 */
export async function getTaskBoard(actor: Actor, meetingId: string, options: { assignee?: unknown; now?: Date } = {}): Promise<TaskBoard> {
  const meeting = await loadMeetingFor(actor, meetingId);
  const can = capabilitiesFor(actor, meeting);
  if (!can.viewTasks) throw new Forbidden();
  const now = options.now ?? new Date();
  const chosen = parseAssigneeKey(options.assignee);
  const filter = chosen ? { 'assignee.kind': chosen.kind, 'assignee.id': new Types.ObjectId(chosen.id) } : {};
  const [directives, everyone, sites, units] = await Promise.all([
    directivesWithTasks(meeting, now, filter),
    FollowupTaskModel.find({ meetingId: meeting._id }, { assignee: 1 }).lean<Array<Pick<FollowupTaskRecord, 'assignee'>>>(),
    can.manageTasks ? SiteModel.find({ meetingId: meeting._id }, { name: 1 }).sort({ order: 1, _id: 1 }).lean() : Promise.resolve([]),
    can.manageTasks ? UnitModel.find({}, { name: 1 }).sort({ nameKey: 1 }).lean() : Promise.resolve([]),
  ]);
  const columns = taskStatuses.map((status) => ({
    status,
    tasks: directives.flatMap((directive) => directive.tasks.filter((task) => task.status === status).map((task) => ({ ...task, directiveText: directive.text, directiveOrder: directive.order + 1 }))),
  }));
  const all = columns.flatMap((column) => column.tasks);
  const assignees = new Map<string, { key: string; kind: 'unit' | 'site'; name: string; selected: boolean }>();
  for (const { assignee } of everyone) {
    const key = assigneeKey(assignee);
    if (!assignees.has(key)) assignees.set(key, { key, kind: assignee.kind as 'unit' | 'site', name: assignee.name, selected: chosen !== undefined && key === assigneeKey(chosen) });
  }
  const lastYear = await lastYearsTasks(actor, meeting, now);
  return {
    meeting,
    can,
    directives,
    columns,
    total: all.length,
    overdue: all.filter((task) => task.overdue).length,
    assignees: [...assignees.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name, 'vi')),
    assignable: { sites: sites.map((site) => ({ key: assigneeKey({ kind: 'site', id: site._id }), name: site.name })), units: units.map((unit) => ({ key: assigneeKey({ kind: 'unit', id: unit._id }), name: unit.name })) },
    ...(lastYear ? { lastYear } : {}),
  };
}

/** The tasks of the meeting `meeting` was duplicated from, if the asker may see that meeting. */
async function lastYearsTasks(actor: Actor, meeting: MeetingRecord, now: Date): Promise<TaskBoard['lastYear']> {
  if (!meeting.duplicatedFrom) return undefined;
  const source = await MeetingModel.findById(meeting.duplicatedFrom, { title: 1, startsAt: 1, timeZone: 1, unitId: 1 }).lean<MeetingRecord>();
  if (!source) return undefined;
  try {
    requireMeetingAccess(actor, source);
  } catch (error) {
    // The chair of this year's meeting is not an asker of last year's: they see this year's board only.
    if (error instanceof AppError) return undefined;
    throw error;
  }
  const directives = await directivesWithTasks(source, now);
  const tasks = directives.flatMap((directive) => directive.tasks);
  if (directives.length === 0) return undefined;
  return {
    meeting: { id: String(source._id), title: source.title, startsAt: source.startsAt, timeZone: source.timeZone },
    directives,
    total: tasks.length,
    done: tasks.filter((task) => task.status === 'done').length,
    overdue: tasks.filter((task) => task.overdue).length,
  };
}

export interface AssignedTask extends TaskView {
  directiveText: string;
  meeting: { id: string; title: string; startsAt: Date; timeZone: string };
}

/**
 * The asker's own tasks: a site coordinator's (that site's tasks only), an organizer's unit's
 * (across meetings). Overdue first, then by due date.
 */
export async function getMyTasks(actor: Actor, now: Date = new Date()): Promise<AssignedTask[]> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  let filter: Record<string, unknown>;
  if (actor.kind === 'coordinator') filter = { 'assignee.kind': 'site', 'assignee.id': new Types.ObjectId(actor.siteId), meetingId: new Types.ObjectId(actor.meetingId) };
  else if (actor.kind === 'organizer' && actor.unitId) filter = { 'assignee.kind': 'unit', 'assignee.id': new Types.ObjectId(actor.unitId) };
  else if (actor.kind === 'organizer') return [];
  else throw new Forbidden();
  const tasks = await FollowupTaskModel.find(filter).sort({ dueDate: 1 }).limit(500).lean<FollowupTaskRecord[]>();
  const meetingIds = [...new Set(tasks.map((task) => String(task.meetingId)))];
  const directiveIds = [...new Set(tasks.map((task) => String(task.directiveId)))];
  const [meetings, directives] = await Promise.all([
    MeetingModel.find({ _id: { $in: meetingIds } }, { title: 1, startsAt: 1, timeZone: 1 }).lean<MeetingRecord[]>(),
    DirectiveModel.find({ _id: { $in: directiveIds } }, { text: 1 }).lean(),
  ]);
  const meetingById = new Map(meetings.map((meeting) => [String(meeting._id), meeting]));
  const textById = new Map(directives.map((directive) => [String(directive._id), directive.text]));
  const mine = tasks.flatMap((task) => {
    const meeting = meetingById.get(String(task.meetingId));
    if (!meeting) return [];
    return [{ ...taskView(task, meeting.timeZone, now), directiveText: textById.get(String(task.directiveId)) ?? '', meeting: { id: String(meeting._id), title: meeting.title, startsAt: meeting.startsAt, timeZone: meeting.timeZone } }];
  });
  return mine.sort((a, b) => Number(b.overdue) - Number(a.overdue) || Number(a.status === 'done') - Number(b.status === 'done') || a.dueDate.localeCompare(b.dueDate));
}
