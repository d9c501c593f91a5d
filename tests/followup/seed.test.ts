// The demo conference carries the seed's directives as the 2022 tasks they became, once, and the
// rehearsal duplicated from it shows them as last year's tasks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDatabase } from '../helpers/database.js';
import type { DatabaseHandle } from '../../server/database.js';
import { demoDirectives, demoPublicId, seedDemoConference } from '../../server/seed/demo.js';
import { DirectiveModel, FollowupTaskModel } from '../../server/followup/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { SiteModel } from '../../server/sites/model.js';
import { getTaskBoard } from '../../server/followup/queries.js';
import { systemActor } from '../../server/lib/actor.js';

let database: DatabaseHandle;
beforeAll(async () => {
  database = await connectTestDatabase();
});
afterAll(() => database.close());

describe('the demo conference’s follow-up tasks', () => {
  it('are the seed’s directives, assigned once to the Department and every district, due in 2022 with the year’s statuses', async () => {
    await Promise.all([seedDemoConference(), seedDemoConference()]);
    await seedDemoConference();
    const demo = (await MeetingModel.findOne({ publicId: demoPublicId }).lean())!;

    const directives = await DirectiveModel.find({ meetingId: demo._id }).sort({ order: 1 }).lean();
    expect(directives.map((directive) => directive.text)).toEqual(demoDirectives);
    expect(new Set(directives.map((directive) => directive.by))).toEqual(new Set(['Huỳnh Minh Tuấn']));

    const tasks = await FollowupTaskModel.find({ meetingId: demo._id }).lean();
    const districts = await SiteModel.find({ meetingId: demo._id, isMain: false }).lean();
    expect(districts).toHaveLength(12);
    expect(tasks).toHaveLength(6 + districts.length);
    const lastDirective = directives.at(-1)!;
    const districtTasks = tasks.filter((task) => String(task.directiveId) === String(lastDirective._id));
    expect(districtTasks.map((task) => task.assignee.name).sort()).toEqual(districts.map((site) => site.name).sort());
    expect(districtTasks.every((task) => task.assignee.kind === 'site')).toBe(true);
    const departmentTasks = tasks.filter((task) => String(task.directiveId) !== String(lastDirective._id));
    expect(departmentTasks.every((task) => task.assignee.kind === 'unit' && String(task.assignee.id) === String(demo.unitId))).toBe(true);
    expect(tasks.every((task) => task.dueDate.startsWith('2022-'))).toBe(true);

    const count = (status: string) => tasks.filter((task) => task.status === status).length;
    expect([count('done'), count('inProgress'), count('open')]).toEqual([4 + 8, 2 + 2, 2]);
    // Notes were written in 2022, by the district's coordinator for a district's task.
    const notes = tasks.flatMap((task) => task.notes);
    expect(notes.length).toBe(16);
    expect(notes.every((note) => note.at.getUTCFullYear() === 2022)).toBe(true);
    const laiVung = districts.find((site) => site.name === 'Huyện Lai Vung')!;
    const laiVungTask = districtTasks.find((task) => String(task.assignee.id) === String(laiVung._id))!;
    expect(laiVungTask.notes.map((note) => note.by)).toEqual(laiVungTask.status === 'open' ? [] : [laiVung.coordinatorName]);

    // Today (after 2022) every unfinished task is overdue; the board says so.
    const board = await getTaskBoard(systemActor, String(demo._id));
    expect(board.total).toBe(18);
    expect(board.overdue).toBe(6);
  });

  it('shows on the rehearsal (duplicated from the demo) as last year’s tasks', async () => {
    await seedDemoConference();
    const demo = (await MeetingModel.findOne({ publicId: demoPublicId }).lean())!;
    const rehearsal = (await MeetingModel.findOne({ duplicatedFrom: demo._id }).lean())!;
    const board = await getTaskBoard(systemActor, String(rehearsal._id));
    expect(board.lastYear).toMatchObject({ meeting: { id: String(demo._id) }, total: 18, done: 12, overdue: 6 });
    expect(board.lastYear!.directives.map((directive) => directive.text)).toEqual(demoDirectives);
  });
});
