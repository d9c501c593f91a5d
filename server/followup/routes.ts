// HTTP for directives and follow-up tasks: the meeting's task board (/meetings/:id/tasks), the
// assignee's own tasks (/my/tasks: a site coordinator's link, an organizer's unit) and the JSON
// API. Every change is one call into ./actions.ts; who may do what is decided there.
import { Router, type Request, type Response } from 'express';
import { addDirective, assigneeMayMove, assignDirective, editDirective, moveDirective, removeDirective, removeTask, reorderDirectives, reportProgress, updateTask } from './actions.js';
import { getMyTasks, getTaskBoard } from './queries.js';
import { taskStatuses } from './model.js';
import { setFlash, takeFlash } from '../lib/flash.js';
import { actorOf, pickFields, translate, notFoundForMalformedIds, redirectWithRefusal } from '../lib/http.js';

function boardPath(meetingId: string): string {
  return `/meetings/${meetingId}/tasks`;
}

const statusOptions = (current?: string) => taskStatuses.map((status) => ({ value: status, labelKey: `followup.status.${status}`, selected: status === current }));

async function renderBoard(req: Request, res: Response, meetingId: string) {
  const board = await getTaskBoard(actorOf(res), meetingId, { assignee: req.query.assignee });
  const meeting = board.meeting;
  const withOptions = <T extends { status: string }>(task: T) => ({ ...task, statusOptions: statusOptions(task.status) });
  res.render('followup/board', {
    title: translate(res, 'followup.board.title', { meeting: meeting.title }),
    meeting: { ...meeting, id: String(meeting._id) },
    can: board.can,
    directives: board.directives.map((directive, index) => ({ ...directive, position: index + 1, isFirst: index === 0, isLast: index === board.directives.length - 1, tasks: directive.tasks.map(withOptions) })),
    columns: board.columns.map((column) => ({ ...column, labelKey: `followup.status.${column.status}`, tasks: column.tasks.map(withOptions) })),
    total: board.total,
    overdue: board.overdue,
    assignees: board.assignees,
    filtered: board.assignees.some((entry) => entry.selected),
    assignable: board.assignable,
    lastYear: board.lastYear,
    ...takeFlash(req),
  });
}

async function renderMyTasks(req: Request, res: Response) {
  const tasks = await getMyTasks(actorOf(res));
  res.render('followup/mine', {
    title: translate(res, 'followup.mine.title'),
    // The assignee's page offers the moves an assignee may make (forward); the board offers every one.
    tasks: tasks.map((task) => ({ ...task, statusOptions: statusOptions(task.status).filter((option) => assigneeMayMove(task.status, option.value)) })),
    ...takeFlash(req),
  });
}

export function followupRoutes(): Router {
  const router = notFoundForMalformedIds(Router());

  // ---- The meeting's board ------------------------------------------------------------------

  router.get('/meetings/:meetingId/tasks', async (req, res) => {
    await renderBoard(req, res, req.params.meetingId);
  });

  router.post('/meetings/:meetingId/directives', async (req, res) => {
    const { meetingId } = req.params;
    try {
      await addDirective(actorOf(res), { ...pickFields(req.body, ['text', 'by']), meetingId });
      setFlash(req, translate(res, 'followup.flash.directiveAdded'));
      res.redirect(303, boardPath(meetingId));
    } catch (error) {
      redirectWithRefusal(req, res, error, boardPath(meetingId));
    }
  });

  router.post('/meetings/:meetingId/directives/:directiveId/edit', async (req, res) => {
    const { meetingId, directiveId } = req.params;
    try {
      await editDirective(actorOf(res), { ...pickFields(req.body, ['text', 'by']), meetingId, directiveId });
      setFlash(req, translate(res, 'followup.flash.directiveSaved'));
      res.redirect(303, `${boardPath(meetingId)}#directive-${directiveId}`);
    } catch (error) {
      redirectWithRefusal(req, res, error, boardPath(meetingId));
    }
  });

  router.post('/meetings/:meetingId/directives/:directiveId/move', async (req, res) => {
    const { meetingId, directiveId } = req.params;
    try {
      await moveDirective(actorOf(res), { meetingId, directiveId, direction: req.body?.direction });
      res.redirect(303, `${boardPath(meetingId)}#directive-${directiveId}`);
    } catch (error) {
      redirectWithRefusal(req, res, error, boardPath(meetingId));
    }
  });

  router.post('/meetings/:meetingId/directives/:directiveId/delete', async (req, res) => {
    const { meetingId, directiveId } = req.params;
    try {
      await removeDirective(actorOf(res), { meetingId, directiveId });
      setFlash(req, translate(res, 'followup.flash.directiveRemoved'));
      res.redirect(303, boardPath(meetingId));
    } catch (error) {
      redirectWithRefusal(req, res, error, boardPath(meetingId));
    }
  });

  router.post('/meetings/:meetingId/directives/:directiveId/assign', async (req, res) => {
    const { meetingId, directiveId } = req.params;
    try {
      const tasks = await assignDirective(actorOf(res), { ...pickFields(req.body, ['assignees', 'dueDate']), meetingId, directiveId });
      setFlash(req, translate(res, 'followup.flash.assigned', { count: tasks.length }));
      res.redirect(303, `${boardPath(meetingId)}#directive-${directiveId}`);
    } catch (error) {
      redirectWithRefusal(req, res, error, `${boardPath(meetingId)}#directive-${directiveId}`);
    }
  });

  router.post('/meetings/:meetingId/tasks/:taskId/status', async (req, res) => {
    const { meetingId, taskId } = req.params;
    try {
      await updateTask(actorOf(res), { ...pickFields(req.body, ['status', 'dueDate']), meetingId, taskId });
      setFlash(req, translate(res, 'followup.flash.taskSaved'));
      res.redirect(303, boardPath(meetingId));
    } catch (error) {
      redirectWithRefusal(req, res, error, boardPath(meetingId));
    }
  });

  router.post('/meetings/:meetingId/tasks/:taskId/delete', async (req, res) => {
    const { meetingId, taskId } = req.params;
    try {
      await removeTask(actorOf(res), { meetingId, taskId });
      setFlash(req, translate(res, 'followup.flash.taskRemoved'));
      res.redirect(303, boardPath(meetingId));
    } catch (error) {
      redirectWithRefusal(req, res, error, boardPath(meetingId));
    }
  });

  // ---- The assignee's own tasks -------------------------------------------------------------

  router.get('/my/tasks', async (req, res) => {
    await renderMyTasks(req, res);
  });

  router.post('/my/tasks/:meetingId/:taskId/progress', async (req, res) => {
    const { meetingId, taskId } = req.params;
    try {
      await reportProgress(actorOf(res), { ...pickFields(req.body, ['text', 'status']), meetingId, taskId });
      setFlash(req, translate(res, 'followup.flash.progressSaved'));
      res.redirect(303, `/my/tasks#task-${taskId}`);
    } catch (error) {
      redirectWithRefusal(req, res, error, `/my/tasks#task-${taskId}`);
    }
  });

  // ---- JSON API -----------------------------------------------------------------------------

  router.get('/api/v1/meetings/:meetingId/tasks', async (req, res) => {
    const board = await getTaskBoard(actorOf(res), req.params.meetingId, { assignee: req.query.assignee });
    res.json({
      meetingId: String(board.meeting._id),
      revision: board.meeting.revision,
      directives: board.directives,
      total: board.total,
      overdue: board.overdue,
      lastYear: board.lastYear ? { ...board.lastYear, meeting: { ...board.lastYear.meeting, startsAt: board.lastYear.meeting.startsAt.toISOString() } } : null,
    });
  });

  router.post('/api/v1/meetings/:meetingId/directives', async (req, res) => {
    const directive = await addDirective(actorOf(res), { ...pickFields(req.body, ['text', 'by']), meetingId: req.params.meetingId });
    res.status(201).json(directive);
  });

  router.put('/api/v1/meetings/:meetingId/directives/order', async (req, res) => {
    res.json(await reorderDirectives(actorOf(res), { ...pickFields(req.body, ['directiveIds']), meetingId: req.params.meetingId }));
  });

  router.patch('/api/v1/meetings/:meetingId/directives/:directiveId', async (req, res) => {
    res.json(await editDirective(actorOf(res), { ...pickFields(req.body, ['text', 'by']), meetingId: req.params.meetingId, directiveId: req.params.directiveId }));
  });

  router.delete('/api/v1/meetings/:meetingId/directives/:directiveId', async (req, res) => {
    res.json(await removeDirective(actorOf(res), { meetingId: req.params.meetingId, directiveId: req.params.directiveId }));
  });

  router.post('/api/v1/meetings/:meetingId/directives/:directiveId/assign', async (req, res) => {
    const tasks = await assignDirective(actorOf(res), { ...pickFields(req.body, ['assignees', 'dueDate']), meetingId: req.params.meetingId, directiveId: req.params.directiveId });
    res.status(201).json(tasks);
  });

  router.patch('/api/v1/meetings/:meetingId/tasks/:taskId', async (req, res) => {
    res.json(await updateTask(actorOf(res), { ...pickFields(req.body, ['status', 'dueDate']), meetingId: req.params.meetingId, taskId: req.params.taskId }));
  });

  router.delete('/api/v1/meetings/:meetingId/tasks/:taskId', async (req, res) => {
    res.json(await removeTask(actorOf(res), { meetingId: req.params.meetingId, taskId: req.params.taskId }));
  });

  router.post('/api/v1/meetings/:meetingId/tasks/:taskId/progress', async (req, res) => {
    res.json(await reportProgress(actorOf(res), { ...pickFields(req.body, ['text', 'status']), meetingId: req.params.meetingId, taskId: req.params.taskId }));
  });

  router.get('/api/v1/my/tasks', async (_req, res) => {
    const tasks = await getMyTasks(actorOf(res));
    res.json(tasks.map((task) => ({ ...task, meeting: { ...task.meeting, startsAt: task.meeting.startsAt.toISOString() } })));
  });

  return router;
}
