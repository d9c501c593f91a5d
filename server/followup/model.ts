// The chair's directives of a meeting and the follow-up tasks they become: one task per
// assignee (a unit or a site), with a due date, a status and the assignee's progress notes.
import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

const directiveSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    /** Position in the chair's list (0, 1, ...). */
    order: { type: Number, required: true, default: 0 },
    text: { type: String, required: true, trim: true },
    /** Who gave the directive (the chair, by name). */
    by: { type: String, default: '' },
    /** A caller's own key for the directive (an import, the demo seed): adding it twice adds it once. */
    key: { type: String },
    /** The meeting revision of this document's last change. */
    revision: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);

directiveSchema.index({ meetingId: 1, order: 1 });
directiveSchema.index({ meetingId: 1, key: 1 }, { unique: true, partialFilterExpression: { key: { $type: 'string' } } });

export const taskStatuses = ['open', 'inProgress', 'done'] as const;
export type TaskStatus = (typeof taskStatuses)[number];
export const assigneeKinds = ['unit', 'site'] as const;
export type AssigneeKind = (typeof assigneeKinds)[number];

const assigneeSchema = new Schema(
  {
    kind: { type: String, enum: assigneeKinds, required: true },
    /** A Unit's id (kind "unit") or one of the meeting's Sites (kind "site"). */
    id: { type: Schema.Types.ObjectId, required: true },
    /** The name when assigned, so the board reads without joining (and survives a renamed site). */
    name: { type: String, required: true },
  },
  { _id: false },
);

const progressNoteSchema = new Schema(
  {
    text: { type: String, required: true },
    at: { type: Date, required: true },
    /** Who wrote it: the coordinator's or organizer's name. */
    by: { type: String, required: true },
  },
  { _id: false },
);

const followupTaskSchema = new Schema(
  {
    meetingId: { type: Schema.Types.ObjectId, ref: 'Meeting', required: true },
    directiveId: { type: Schema.Types.ObjectId, ref: 'Directive', required: true },
    assignee: { type: assigneeSchema, required: true },
    /**
     * A calendar date in the meeting's time zone ("2022-06-30"), not an instant: the task is due
     * by the end of that day where the meeting is. "YYYY-MM-DD" strings sort as dates do.
     */
    dueDate: { type: String, required: true, match: /^\d{4}-\d{2}-\d{2}$/ },
    status: { type: String, enum: taskStatuses, required: true, default: 'open' },
    notes: { type: [progressNoteSchema], default: [] },
    revision: { type: Number, required: true, default: 0 },
  },
  { timestamps: true },
);

// One task per assignee of a directive: assigning again changes that task, never adds a second.
followupTaskSchema.index({ directiveId: 1, 'assignee.kind': 1, 'assignee.id': 1 }, { unique: true });
// The meeting's board, by status and due date (overdue = not done with dueDate before today).
followupTaskSchema.index({ meetingId: 1, status: 1, dueDate: 1 });
// One assignee's tasks (a site coordinator's page, a unit's board across meetings).
followupTaskSchema.index({ 'assignee.kind': 1, 'assignee.id': 1, dueDate: 1 });

export type Directive = InferSchemaType<typeof directiveSchema>;
export type DirectiveRecord = Directive & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };
export type FollowupTask = InferSchemaType<typeof followupTaskSchema>;
export type FollowupTaskRecord = FollowupTask & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };
export const DirectiveModel = model('Directive', directiveSchema);
export const FollowupTaskModel = model('FollowupTask', followupTaskSchema);
