// Every change to a meeting's directives and follow-up tasks: add, edit, remove and reorder the
// chair's directives; assign one to units and sites with a due date; change a task's status or
// due date; and the assignee's progress notes. Each commits with the meeting's revision
// (meetings/revision.ts) and publishes `directives.changed` or `task.changed`.
import './messages.js';
import { z } from 'zod';
import { Types } from 'mongoose';
import { DirectiveModel, FollowupTaskModel, taskStatuses, type DirectiveRecord, type FollowupTaskRecord, type TaskStatus } from './model.js';
import { assigneeKey, loadDirectives, parseAssigneeKey, taskView, type DirectiveView, type TaskView } from './queries.js';
import { AttendeeModel } from '../attendees/model.js';
import { MeetingModel } from '../meetings/model.js';
import { SiteModel } from '../sites/model.js';
import { UnitModel } from '../units/model.js';
import { requireOpen, requireOpenMeeting } from '../meetings/guard.js';
import { progressRight } from '../meetings/capabilities.js';
import { commitMeetingChange, type MeetingChangeEvent, type MeetingRecord } from '../meetings/revision.js';
import { organizerCoversUnit, requireOrganizer, type Actor } from '../lib/actor.js';
import { Conflict, Forbidden, Invalid, NotFound, Unauthorized, isDuplicateKeyError } from '../lib/errors.js';
import { isCalendarDate } from '../lib/time.js';
import { objectId, optionalText, parseInput, requiredText } from '../lib/validation.js';

/** Directives and tasks outlive the day: only a cancelled meeting refuses them. */
const closedKey = 'followup.meeting.cancelled';
const noteMax = 2000;

// ---------------------------------------------------------------------------------------------
// Input schemas

const directiveText = requiredText(2000, 'followup.directive.text.required');
const dueDate = z.preprocess((value) => (typeof value === 'string' ? value.trim() : value), z.string({ error: 'followup.dueDate.invalid' }).refine(isCalendarDate, 'followup.dueDate.invalid'));
const status = z.enum(taskStatuses, { error: 'followup.status.invalid' });
/** An assignee as `{ kind, id }` (JSON) or "site:<id>" (a form's checkbox value). */
const assignee = z.preprocess(
  (value) => (typeof value === 'string' ? (parseAssigneeKey(value) ?? value) : value),
  z.object({ kind: z.enum(['unit', 'site'], { error: 'followup.assignee.invalid' }), id: objectId }, { error: 'followup.assignee.invalid' }),
);
const oneOrMany = (value: unknown) => (value === undefined || value === '' ? [] : Array.isArray(value) ? value : [value]);

const addDirectiveSchema = z.object({ meetingId: objectId, text: directiveText, by: optionalText(200), key: optionalText(100) });
const editDirectiveSchema = z.object({ meetingId: objectId, directiveId: objectId, text: directiveText.optional(), by: optionalText(200) });
const directiveRefSchema = z.object({ meetingId: objectId, directiveId: objectId });
const reorderSchema = z.object({ meetingId: objectId, directiveIds: z.array(objectId, { error: 'followup.directives.reorder.stale' }).max(500) });
const moveSchema = directiveRefSchema.extend({ direction: z.enum(['up', 'down'], { error: 'followup.direction.invalid' }) });
const assignSchema = directiveRefSchema.extend({
  assignees: z.preprocess(oneOrMany, z.array(assignee, { error: 'followup.assignees.none' }).min(1, 'followup.assignees.none').max(200)),
  dueDate,
});
const taskRefSchema = z.object({ meetingId: objectId, taskId: objectId });
const updateTaskSchema = taskRefSchema.extend({ status: status.optional(), dueDate: dueDate.optional() });
const progressSchema = taskRefSchema.extend({
  text: optionalText(noteMax),
  status: z.preprocess((value) => (value === '' ? undefined : value), status.optional()),
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function organizerOpen(actor: Actor, meetingId: string) {
  requireOrganizer(actor);
  return requireOpenMeeting(actor, meetingId, closedKey);
}

async function loadDirective(meetingId: string, directiveId: string): Promise<DirectiveRecord> {
  const directive = await DirectiveModel.findOne({ _id: directiveId, meetingId }).lean<DirectiveRecord>();
  if (!directive) throw new NotFound('followup.directive.notFound');
  return directive;
}

async function loadTask(meetingId: string, taskId: string): Promise<FollowupTaskRecord> {
  const task = await FollowupTaskModel.findOne({ _id: taskId, meetingId }).lean<FollowupTaskRecord>();
  if (!task) throw new NotFound('followup.task.notFound');
  return task;
}

function directivesEvent(action: string) {
  return (directives: DirectiveView[]): MeetingChangeEvent[] => [{ type: 'directives.changed', payload: { action, directives } }];
}

/**
 * A site's task goes to that site's room and the organizers (and chair); a unit's to the
 * organizers and the chair only: attendees and other sites read no board, they get a bare revision.
 */
function taskEvent(action: string, task: TaskView): MeetingChangeEvent {
  return { type: 'task.changed', ...(task.assignee.kind === 'site' ? { siteId: task.assignee.id } : { audience: 'desk' as const }), payload: { action, task } };
}

/** A directive stamped with `revision`, refused if a newer change got there first. */
async function updateDirectiveStamped(directiveId: Types.ObjectId, revision: number, set: Record<string, unknown>): Promise<void> {
  const updated = await DirectiveModel.updateOne({ _id: directiveId, revision: { $lt: revision } }, { $set: { ...set, revision } }, { runValidators: true });
  if (updated.matchedCount === 1) return;
  if (await DirectiveModel.exists({ _id: directiveId })) throw new Conflict('error.changedMeanwhile');
  throw new NotFound('followup.directive.notFound');
}

async function updateTaskStamped(taskId: Types.ObjectId, revision: number, update: { $set?: Record<string, unknown>; $push?: Record<string, unknown> }, zone: string): Promise<TaskView> {
  const updated = await FollowupTaskModel.findOneAndUpdate({ _id: taskId, revision: { $lt: revision } }, { ...update, $set: { ...(update.$set ?? {}), revision } }, { returnDocument: 'after', runValidators: true }).lean<FollowupTaskRecord>();
  if (updated) return taskView(updated, zone);
  if (await FollowupTaskModel.exists({ _id: taskId })) throw new Conflict('error.changedMeanwhile');
  throw new NotFound('followup.task.notFound');
}

/** Renumber the meeting's directives 0, 1, ... in `ids` order, stamped with `revision`. */
async function writeOrder(ids: Types.ObjectId[], revision: number): Promise<void> {
  await Promise.all(ids.map((id, order) => DirectiveModel.updateOne({ _id: id }, { $set: { order, revision } })));
}

/** Who gave the directives: the meeting's chair, when the list of attendees names one. */
async function chairName(meetingId: string): Promise<string> {
  const chair = await AttendeeModel.findOne({ meetingId, role: 'chair' }, { fullName: 1 }).lean();
  return chair?.fullName ?? '';
}

// ---------------------------------------------------------------------------------------------
// Directives

export async function addDirective(actor: Actor, input: unknown): Promise<DirectiveView> {
  const data = parseInput(addDirectiveSchema, input);
  const { stillOpen } = await organizerOpen(actor, data.meetingId);
  const by = data.by ?? (await chairName(data.meetingId));
  if (data.key !== undefined && (await DirectiveModel.exists({ meetingId: data.meetingId, key: data.key }))) throw new Conflict('followup.directive.keyTaken');
  const id = new Types.ObjectId();
  const { result } = await commitMeetingChange({
    meetingId: data.meetingId,
    ...stillOpen,
    audit: { actor },
    write: async (revision) => {
      const last = await DirectiveModel.findOne({ meetingId: data.meetingId }, { order: 1 }).sort({ order: -1 }).lean();
      try {
        await DirectiveModel.create({ _id: id, meetingId: data.meetingId, order: last ? last.order + 1 : 0, text: data.text, by, revision, ...(data.key !== undefined ? { key: data.key } : {}) });
      } catch (error) {
        // The same key added at the same moment elsewhere: that one stands (the revision stays a gap).
        if (isDuplicateKeyError(error)) throw new Conflict('followup.directive.keyTaken');
        throw error;
      }
      return loadDirectives(data.meetingId);
    },
    events: directivesEvent('add'),
  });
  return result.find((directive) => directive.id === String(id))!;
}

export async function editDirective(actor: Actor, input: unknown): Promise<DirectiveView> {
  const data = parseInput(editDirectiveSchema, input);
  const { stillOpen } = await organizerOpen(actor, data.meetingId);
  const directive = await loadDirective(data.meetingId, data.directiveId);
  const set: Record<string, unknown> = {};
  if (data.text !== undefined) set.text = data.text;
  if (data.by !== undefined) set.by = data.by;
  const { result } = await commitMeetingChange({
    meetingId: data.meetingId,
    ...stillOpen,
    audit: { actor },
    write: async (revision) => {
      await updateDirectiveStamped(directive._id, revision, set);
      return loadDirectives(data.meetingId);
    },
    events: directivesEvent('edit'),
  });
  return result.find((entry) => entry.id === data.directiveId)!;
}

/** Removes a directive and every task assigned from it. */
export async function removeDirective(actor: Actor, input: unknown): Promise<DirectiveView[]> {
  const data = parseInput(directiveRefSchema, input);
  const { stillOpen } = await organizerOpen(actor, data.meetingId);
  const directive = await loadDirective(data.meetingId, data.directiveId);
  const { result } = await commitMeetingChange({
    meetingId: data.meetingId,
    ...stillOpen,
    audit: { actor },
    write: async (revision) => {
      await FollowupTaskModel.deleteMany({ directiveId: directive._id });
      await DirectiveModel.deleteOne({ _id: directive._id });
      const rest = await DirectiveModel.find({ meetingId: data.meetingId }, { _id: 1 }).sort({ order: 1, _id: 1 }).lean();
      await writeOrder(rest.map((entry) => entry._id), revision);
      return loadDirectives(data.meetingId);
    },
    events: directivesEvent('remove'),
  });
  return result;
}

/** The whole list in a new order; a list that is not exactly the meeting's directives is stale. */
export async function reorderDirectives(actor: Actor, input: unknown): Promise<DirectiveView[]> {
  const data = parseInput(reorderSchema, input);
  const { stillOpen } = await organizerOpen(actor, data.meetingId);
  const current = (await loadDirectives(data.meetingId)).map((directive) => directive.id);
  const asked = data.directiveIds.map((id) => id.toLowerCase());
  if (asked.length !== current.length || new Set(asked).size !== asked.length || !asked.every((id) => current.includes(id))) throw new Conflict('followup.directives.reorder.stale');
  return commitOrder(actor, data.meetingId, stillOpen, asked);
}

/** One place up or down (the page's buttons without JavaScript). */
export async function moveDirective(actor: Actor, input: unknown): Promise<DirectiveView[]> {
  const data = parseInput(moveSchema, input);
  const { stillOpen } = await organizerOpen(actor, data.meetingId);
  const current = (await loadDirectives(data.meetingId)).map((directive) => directive.id);
  const index = current.indexOf(data.directiveId.toLowerCase());
  if (index < 0) throw new NotFound('followup.directive.notFound');
  const target = data.direction === 'up' ? index - 1 : index + 1;
  if (target < 0 || target >= current.length) return loadDirectives(data.meetingId);
  [current[index], current[target]] = [current[target], current[index]];
  return commitOrder(actor, data.meetingId, stillOpen, current);
}

async function commitOrder(actor: Actor, meetingId: string, stillOpen: Awaited<ReturnType<typeof organizerOpen>>['stillOpen'], ids: string[]): Promise<DirectiveView[]> {
  const { result } = await commitMeetingChange({
    meetingId,
    ...stillOpen,
    audit: { actor },
    write: async (revision) => {
      await writeOrder(ids.map((id) => new Types.ObjectId(id)), revision);
      return loadDirectives(meetingId);
    },
    events: directivesEvent('reorder'),
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// Tasks

/**
 * Assigns a directive to units and sites, due on `dueDate` (a date in the meeting's time zone):
 * one task per assignee. An assignee who already has this directive's task keeps it (its notes
 * and status) and gets the new due date.
 */
export async function assignDirective(actor: Actor, input: unknown): Promise<TaskView[]> {
  const data = parseInput(assignSchema, input);
  const { stillOpen, meeting } = await organizerOpen(actor, data.meetingId);
  const directive = await loadDirective(data.meetingId, data.directiveId);
  const unique = [...new Map(data.assignees.map((entry) => [assigneeKey(entry), { kind: entry.kind, id: entry.id.toLowerCase() }])).values()];
  const siteIds = unique.filter((entry) => entry.kind === 'site').map((entry) => entry.id);
  const unitIds = unique.filter((entry) => entry.kind === 'unit').map((entry) => entry.id);
  const [sites, units] = await Promise.all([
    siteIds.length > 0 ? SiteModel.find({ _id: { $in: siteIds }, meetingId: data.meetingId }, { name: 1 }).lean() : Promise.resolve([]),
    unitIds.length > 0 ? UnitModel.find({ _id: { $in: unitIds } }, { name: 1 }).lean() : Promise.resolve([]),
  ]);
  const names = new Map([...sites.map((site) => [assigneeKey({ kind: 'site', id: site._id }), site.name] as const), ...units.map((unit) => [assigneeKey({ kind: 'unit', id: unit._id }), unit.name] as const)]);
  const unknown = unique.find((entry) => !names.has(assigneeKey(entry)));
  if (unknown) throw new Invalid({ assignees: { key: 'followup.assignee.unknown', params: { id: assigneeKey(unknown) } } });

  const { result } = await commitMeetingChange({
    meetingId: data.meetingId,
    ...stillOpen,
    audit: { actor },
    write: async (revision) => {
      const existing = await FollowupTaskModel.find({ directiveId: directive._id }, { assignee: 1 }).lean<FollowupTaskRecord[]>();
      const have = new Map(existing.map((task) => [assigneeKey(task.assignee), task._id]));
      const fresh = unique.filter((entry) => !have.has(assigneeKey(entry)));
      try {
        if (fresh.length > 0) {
          await FollowupTaskModel.insertMany(
            fresh.map((entry) => ({ meetingId: meeting._id, directiveId: directive._id, assignee: { kind: entry.kind, id: new Types.ObjectId(entry.id), name: names.get(assigneeKey(entry))! }, dueDate: data.dueDate, status: 'open', notes: [], revision })),
          );
        }
      } catch (error) {
        if (isDuplicateKeyError(error)) throw new Conflict('error.changedMeanwhile');
        throw error;
      }
      const again = unique.map((entry) => have.get(assigneeKey(entry))).filter((id): id is Types.ObjectId => id !== undefined);
      if (again.length > 0) await FollowupTaskModel.updateMany({ _id: { $in: again } }, { $set: { dueDate: data.dueDate, revision } });
      const tasks = await FollowupTaskModel.find({ directiveId: directive._id, revision }).sort({ 'assignee.name': 1 }).lean<FollowupTaskRecord[]>();
      return tasks.map((task) => taskView(task, meeting.timeZone));
    },
    events: (tasks) => tasks.map((task) => taskEvent('assign', task)),
  });
  return result;
}

/** An organizer moves a task's status or due date. */
export async function updateTask(actor: Actor, input: unknown): Promise<TaskView> {
  const data = parseInput(updateTaskSchema, input);
  const { stillOpen, meeting } = await organizerOpen(actor, data.meetingId);
  const task = await loadTask(data.meetingId, data.taskId);
  const set: Record<string, unknown> = {};
  if (data.status !== undefined) set.status = data.status;
  if (data.dueDate !== undefined) set.dueDate = data.dueDate;
  if (Object.keys(set).length === 0) return taskView(task, meeting.timeZone);
  const { result } = await commitMeetingChange({
    meetingId: data.meetingId,
    ...stillOpen,
    audit: { actor },
    write: (revision) => updateTaskStamped(task._id, revision, { $set: set }, meeting.timeZone),
    events: (view) => [taskEvent('update', view)],
  });
  return result;
}

export async function removeTask(actor: Actor, input: unknown): Promise<{ id: string }> {
  const data = parseInput(taskRefSchema, input);
  const { stillOpen, meeting } = await organizerOpen(actor, data.meetingId);
  const task = await loadTask(data.meetingId, data.taskId);
  const view = taskView(task, meeting.timeZone);
  await commitMeetingChange({
    meetingId: data.meetingId,
    ...stillOpen,
    audit: { actor },
    write: async () => {
      await FollowupTaskModel.deleteOne({ _id: task._id });
    },
    events: () => [taskEvent('remove', view)],
  });
  return { id: data.taskId };
}

/** Whether an assignee (not the meeting's organizers) may move a task from `from` to `to`: forward or staying. */
export function assigneeMayMove(from: TaskStatus, to: TaskStatus): boolean {
  return taskStatuses.indexOf(to) >= taskStatuses.indexOf(from);
}

function organizesMeeting(actor: Actor, meeting: Pick<MeetingRecord, 'unitId'>): boolean {
  return actor.kind === 'organizer' && organizerCoversUnit(actor, meeting.unitId);
}

/**
 * The assignee reports on its own task: a progress note, a new status, or both. A site's
 * coordinator link reaches only that site's tasks; an organizer of the assigned unit reaches the
 * unit's tasks in any unit's meeting; the meeting's own organizers reach every task. An assignee
 * moves its status forward only (open, in progress, done); the meeting's organizers any way. `now` is
 * the note's time (a seed replays notes of the past).
 */
export async function reportProgress(actor: Actor, input: unknown, now: Date = new Date()): Promise<TaskView> {
  const data = parseInput(progressSchema, input);
  if (actor.kind === 'anonymous') throw new Unauthorized();
  const meeting = await MeetingModel.findById(data.meetingId).lean<MeetingRecord>();
  if (!meeting) throw new NotFound('followup.task.notFound');
  const task = await FollowupTaskModel.findOne({ _id: data.taskId, meetingId: meeting._id }).lean<FollowupTaskRecord>();
  // Who may not see the meeting learns nothing about its tasks, not even whether one exists.
  const right = progressRight(actor, meeting, task?.assignee ?? { kind: 'site', id: '' });
  if (right === 'hidden' || !task) throw new NotFound('followup.task.notFound');
  if (right === 'otherAssignee') throw new Forbidden('followup.task.notYours');
  if (data.text === undefined && data.status === undefined) throw new Invalid({ text: { key: 'followup.task.nothingToSave' } });
  // An assignee moves its task forward only: reopening a done task (or one under way) is the meeting's organizers' call.
  if (data.status !== undefined && !organizesMeeting(actor, meeting) && !assigneeMayMove(task.status as TaskStatus, data.status)) throw new Conflict('followup.task.backwards', { status: task.status });
  const { stillOpen } = requireOpen(meeting, closedKey);
  const update: { $set?: Record<string, unknown>; $push?: Record<string, unknown> } = {};
  if (data.status !== undefined) update.$set = { status: data.status };
  if (data.text !== undefined) update.$push = { notes: { text: data.text, at: now, by: actor.name } };
  const { result } = await commitMeetingChange({
    meetingId: meeting._id,
    ...stillOpen,
    audit: { actor },
    write: (revision) => updateTaskStamped(task._id, revision, update, meeting.timeZone),
    events: (view) => [taskEvent('progress', view)],
  });
  return result;
}
