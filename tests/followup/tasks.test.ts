// Directives become follow-up tasks: the organizer writes and assigns them, each assigned site's
// coordinator reports on its own task through its own link and cannot touch another's, overdue
// follows the meeting's time zone, and next year's copy shows last year's tasks. Real HTTP, real store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { testUnit } from '../helpers/database.js';
import { createMeeting, duplicateMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { addUnit } from '../../server/units/actions.js';
import { inviteAccount } from '../../server/accounts/actions.js';
import { addDirective, assignDirective } from '../../server/followup/actions.js';
import { getTaskBoard, isOverdue } from '../../server/followup/queries.js';
import { DirectiveModel, FollowupTaskModel } from '../../server/followup/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { subscribe, type DomainEvent } from '../../server/lib/events.js';

let app: TestApp;
let organizer: HttpClient;

beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
});
afterAll(async () => {
  await app?.stop();
});

async function conference(timeZone = 'Asia/Ho_Chi_Minh') {
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00', timeZone, status: 'scheduled', unitId: testUnit.id });
  const meetingId = String(meeting._id);
  const laiVung = await addSite(app.organizer, { meetingId, name: 'Huyện Lai Vung' });
  const lapVo = await addSite(app.organizer, { meetingId, name: 'Huyện Lấp Vò' });
  return { meetingId, laiVung, lapVo };
}

async function snapshot(meetingId: string) {
  const [meeting, directives, tasks] = await Promise.all([
    MeetingModel.findById(meetingId, { revision: 1 }).lean(),
    DirectiveModel.find({ meetingId }).sort({ _id: 1 }).lean(),
    FollowupTaskModel.find({ meetingId }).sort({ _id: 1 }).lean(),
  ]);
  return JSON.stringify({ revision: meeting?.revision, directives, tasks });
}

describe('directives as follow-up tasks', () => {
  it('a directive assigned to two sites: site A’s coordinator adds a note and moves its task to in progress, and cannot touch site B’s', async () => {
    const { meetingId, laiVung, lapVo } = await conference();
    const events: DomainEvent[] = [];
    const stop = subscribe((event) => {
      if (event.meetingId === meetingId) events.push(event);
    });
    try {
      const created = await organizer.json('POST', `/api/v1/meetings/${meetingId}/directives`, { text: 'Mỗi huyện có ít nhất một hoạt động chuyển giao công nghệ trong năm 2022.', by: 'Huỳnh Minh Tuấn' });
      expect(created.status).toBe(201);
      const directiveId = created.json.id as string;
      expect(created.json).toMatchObject({ text: 'Mỗi huyện có ít nhất một hoạt động chuyển giao công nghệ trong năm 2022.', by: 'Huỳnh Minh Tuấn', order: 0 });

      const assigned = await organizer.json('POST', `/api/v1/meetings/${meetingId}/directives/${directiveId}/assign`, {
        assignees: [`site:${String(laiVung._id)}`, { kind: 'site', id: String(lapVo._id) }],
        dueDate: '2022-12-31',
      });
      expect(assigned.status).toBe(201);
      expect(assigned.json.map((task: { assignee: { name: string }; status: string; dueDate: string }) => [task.assignee.name, task.status, task.dueDate])).toEqual([
        ['Huyện Lai Vung', 'open', '2022-12-31'],
        ['Huyện Lấp Vò', 'open', '2022-12-31'],
      ]);
      const taskA = assigned.json.find((task: { assignee: { id: string } }) => task.assignee.id === String(laiVung._id));
      const taskB = assigned.json.find((task: { assignee: { id: string } }) => task.assignee.id === String(lapVo._id));

      // Every change carried the meeting's revision: the directive, then one revision for both tasks.
      const revisionAfterAssign = (await MeetingModel.findById(meetingId).lean())!.revision;
      const types = events.map((event) => [event.type, event.revision, event.siteId ?? null]);
      expect(types).toEqual([
        ['directives.changed', revisionAfterAssign - 1, null],
        ['task.changed', revisionAfterAssign, String(laiVung._id)],
        ['task.changed', revisionAfterAssign, String(lapVo._id)],
      ]);

      const coordinatorA = app.newClient();
      expect((await coordinatorA.openLink(`/s/${laiVung.coordinatorToken}`)).location).toBe('/my/site');
      const mine = await coordinatorA.get('/my/tasks');
      expect(mine.status).toBe(200);
      expect(mine.text).toContain('Mỗi huyện có ít nhất một hoạt động chuyển giao công nghệ trong năm 2022.');
      expect(mine.text).toContain(`id="task-${taskA.id}"`);
      expect(mine.text).not.toContain(`id="task-${taskB.id}"`);

      const noted = await coordinatorA.postForm(`/my/tasks/${meetingId}/${taskA.id}/progress`, { text: 'Đã ký hợp đồng chuyển giao quy trình nhân giống xoài với Trường Đại học Đồng Tháp.', status: 'inProgress' });
      expect(noted.status).toBe(303);
      const after = await coordinatorA.get('/my/tasks');
      expect(after.text).toContain('Đã gửi cập nhật tiến độ.');
      expect(after.text).toContain('Đã ký hợp đồng chuyển giao quy trình nhân giống xoài với Trường Đại học Đồng Tháp.');
      const storedA = (await FollowupTaskModel.findById(taskA.id).lean())!;
      expect(storedA.status).toBe('inProgress');
      expect(storedA.notes.map((note) => note.text)).toEqual(['Đã ký hợp đồng chuyển giao quy trình nhân giống xoài với Trường Đại học Đồng Tháp.']);
      expect(storedA.revision).toBe((await MeetingModel.findById(meetingId).lean())!.revision);
      expect(events.at(-1)).toMatchObject({ type: 'task.changed', siteId: String(laiVung._id), revision: storedA.revision, payload: { action: 'progress', task: { id: taskA.id, status: 'inProgress' } } });

      // Site B's task, through the same link: by form, by API with the session and with a bearer token.
      const before = await snapshot(meetingId);
      const form = await coordinatorA.postForm(`/my/tasks/${meetingId}/${taskB.id}/progress`, { text: 'Lai Vung viết hộ', status: 'done' });
      expect(form.status).toBe(403);
      const api = await coordinatorA.json('POST', `/api/v1/meetings/${meetingId}/tasks/${taskB.id}/progress`, { text: 'Lai Vung viết hộ', status: 'done' });
      expect(api.status).toBe(403);
      expect(api.json.error.message).toBe('Bạn chỉ cập nhật được nhiệm vụ giao cho đơn vị mình.');
      const bearer = HttpClient.withBearer(app.baseUrl, laiVung.coordinatorToken);
      expect((await bearer.json('POST', `/api/v1/meetings/${meetingId}/tasks/${taskB.id}/progress`, { status: 'done' })).status).toBe(403);
      // Nor the organizer's own changes to any task.
      expect((await bearer.json('PATCH', `/api/v1/meetings/${meetingId}/tasks/${taskA.id}`, { status: 'done' })).status).toBe(403);
      expect((await bearer.json('POST', `/api/v1/meetings/${meetingId}/directives/${directiveId}/assign`, { assignees: [`site:${String(laiVung._id)}`], dueDate: '2023-01-01' })).status).toBe(403);
      expect(await snapshot(meetingId)).toBe(before);
      const storedB = (await FollowupTaskModel.findById(taskB.id).lean())!;
      expect(storedB.status).toBe('open');
      expect(storedB.notes).toEqual([]);

      // Site B's own coordinator may.
      const coordinatorB = HttpClient.withBearer(app.baseUrl, lapVo.coordinatorToken);
      const own = await coordinatorB.json('POST', `/api/v1/meetings/${meetingId}/tasks/${taskB.id}/progress`, { status: 'done', text: 'Đã hoàn thành mô hình trình diễn.' });
      expect(own.status).toBe(200);
      expect(own.json).toMatchObject({ status: 'done', notes: [{ text: 'Đã hoàn thành mô hình trình diễn.' }] });
    } finally {
      stop();
    }
  });

  it('the board shows tasks by status, marks overdue ones and filters by assignee', async () => {
    const { meetingId, laiVung, lapVo } = await conference();
    const directive = await addDirective(app.organizer, { meetingId, text: 'Rà soát lại những hạn chế, xây dựng kế hoạch cụ thể thực hiện.' });
    const tasks = await assignDirective(app.organizer, { meetingId, directiveId: directive.id, assignees: [`site:${String(laiVung._id)}`], dueDate: '2022-03-31' });
    await assignDirective(app.organizer, { meetingId, directiveId: directive.id, assignees: [`site:${String(lapVo._id)}`], dueDate: '2099-12-31' });
    const page = await organizer.get(`/meetings/${meetingId}/tasks`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('2 nhiệm vụ · 1 quá hạn');
    expect(page.text).toMatch(new RegExp(`class="task-card task-overdue" id="task-${tasks[0].id}"`));
    expect(page.text).toContain('Quá hạn');
    const filtered = await organizer.get(`/meetings/${meetingId}/tasks?assignee=site:${String(lapVo._id)}`);
    expect(filtered.text).toContain('1 nhiệm vụ · 0 quá hạn');
    expect(filtered.text).not.toContain(`id="task-${tasks[0].id}"`);
    // ?lang=en is remembered in a cookie: another browser of the organizer's reads in English.
    const english = await (await app.signInOrganizer()).get(`/meetings/${meetingId}/tasks?lang=en`);
    expect(english.text).toContain('2 tasks · 1 overdue');
    expect(english.text).toContain('Directives and follow-up tasks');

    const moved = await organizer.postForm(`/meetings/${meetingId}/tasks/${tasks[0].id}/status`, { status: 'done', dueDate: '2022-03-31' });
    expect(moved.status).toBe(303);
    expect((await FollowupTaskModel.findById(tasks[0].id).lean())!.status).toBe('done');
    expect((await organizer.get(`/meetings/${meetingId}/tasks`)).text).toContain('2 nhiệm vụ · 0 quá hạn');
  });

  it('overdue starts at midnight where the meeting is, not in UTC', async () => {
    expect(isOverdue('open', '2022-03-31', 'Asia/Ho_Chi_Minh', new Date('2022-03-31T16:59:59Z'))).toBe(false);
    expect(isOverdue('open', '2022-03-31', 'Asia/Ho_Chi_Minh', new Date('2022-03-31T17:00:00Z'))).toBe(true);

    const vietnam = await conference('Asia/Ho_Chi_Minh');
    const newYork = await conference('America/New_York');
    for (const { meetingId, laiVung } of [vietnam, newYork]) {
      const directive = await addDirective(app.organizer, { meetingId, text: 'Tăng cường các hoạt động sở hữu trí tuệ.' });
      await assignDirective(app.organizer, { meetingId, directiveId: directive.id, assignees: [`site:${String(laiVung._id)}`], dueDate: '2022-03-31' });
    }
    const overdueAt = async (meetingId: string, now: string) => (await getTaskBoard(app.organizer, meetingId, { now: new Date(now) })).directives[0].tasks[0].overdue;
    // 23:59 on 31 March in Hồ Chí Minh City: still due today.
    expect(await overdueAt(vietnam.meetingId, '2022-03-31T16:59:00Z')).toBe(false);
    // 00:00 on 1 April there (still 31 March in UTC): overdue.
    expect(await overdueAt(vietnam.meetingId, '2022-03-31T17:00:00Z')).toBe(true);
    // The same instants are 31 March in New York: not yet, until its own midnight (04:00 UTC, EDT).
    expect(await overdueAt(newYork.meetingId, '2022-03-31T17:00:00Z')).toBe(false);
    expect(await overdueAt(newYork.meetingId, '2022-04-01T03:59:00Z')).toBe(false);
    expect(await overdueAt(newYork.meetingId, '2022-04-01T04:00:00Z')).toBe(true);
    // A done task is never overdue.
    expect(isOverdue('done', '2022-03-31', 'Asia/Ho_Chi_Minh', new Date('2030-01-01T00:00:00Z'))).toBe(false);
  });

  it('bad input gives 422 with a Vietnamese message (English with lang=en) and changes nothing', async () => {
    const { meetingId, laiVung } = await conference();
    const directive = await addDirective(app.organizer, { meetingId, text: 'Hỗ trợ phát triển các doanh nghiệp khoa học công nghệ.' });
    const [task] = await assignDirective(app.organizer, { meetingId, directiveId: directive.id, assignees: [`site:${String(laiVung._id)}`], dueDate: '2022-06-30' });
    const before = await snapshot(meetingId);

    const empty = await organizer.json('POST', `/api/v1/meetings/${meetingId}/directives`, { text: '   ' });
    expect(empty.status).toBe(422);
    expect(empty.json.error.fields.text).toBe('Vui lòng nhập nội dung kết luận.');
    const inEnglish = await app.signInOrganizer();
    const emptyEn = await inEnglish.json('POST', `/api/v1/meetings/${meetingId}/directives?lang=en`, { text: '' });
    expect(emptyEn.status).toBe(422);
    expect(emptyEn.json.error.fields.text).toBe('Please enter the directive.');

    const badDate = await organizer.json('POST', `/api/v1/meetings/${meetingId}/directives/${directive.id}/assign`, { assignees: [`site:${String(laiVung._id)}`], dueDate: '2022-02-30' });
    expect(badDate.status).toBe(422);
    expect(badDate.json.error.fields.dueDate).toBe('Vui lòng nhập hạn hoàn thành hợp lệ (ngày/tháng/năm).');
    const badDateEn = await inEnglish.json('POST', `/api/v1/meetings/${meetingId}/directives/${directive.id}/assign?lang=en`, { assignees: [`site:${String(laiVung._id)}`], dueDate: '31/12/2022' });
    expect(badDateEn.json.error.fields.dueDate).toBe('Please enter a valid due date.');
    const nobody = await organizer.json('POST', `/api/v1/meetings/${meetingId}/directives/${directive.id}/assign`, { assignees: [], dueDate: '2022-12-31' });
    expect(nobody.status).toBe(422);
    expect(nobody.json.error.fields.assignees).toBe('Vui lòng chọn ít nhất một đơn vị hoặc điểm cầu thực hiện.');
    const stranger = await organizer.json('POST', `/api/v1/meetings/${meetingId}/directives/${directive.id}/assign`, { assignees: ['site:0123456789abcdef01234567'], dueDate: '2022-12-31' });
    expect(stranger.status).toBe(422);
    expect(stranger.json.error.fields.assignees).toBe('Không tìm thấy đơn vị hoặc điểm cầu “site:0123456789abcdef01234567”.');

    const badStatus = await organizer.json('PATCH', `/api/v1/meetings/${meetingId}/tasks/${task.id}`, { status: 'finished' });
    expect(badStatus.status).toBe(422);
    expect(badStatus.json.error.fields.status).toBe('Trạng thái không hợp lệ.');
    const coordinator = HttpClient.withBearer(app.baseUrl, laiVung.coordinatorToken);
    const nothing = await HttpClient.withBearer(app.baseUrl, laiVung.coordinatorToken).json('POST', `/api/v1/meetings/${meetingId}/tasks/${task.id}/progress?lang=en`, { text: '' });
    expect(nothing.status).toBe(422);
    expect(nothing.json.error.fields.text).toBe('Please write a progress note or choose a new status.');
    const tooLong = await coordinator.json('POST', `/api/v1/meetings/${meetingId}/tasks/${task.id}/progress`, { text: 'x'.repeat(2001) });
    expect(tooLong.status).toBe(422);

    // A form gets the message back on the board.
    const form = await organizer.postForm(`/meetings/${meetingId}/directives`, { text: '' });
    expect(form.status).toBe(303);
    expect((await organizer.get(`/meetings/${meetingId}/tasks`)).text).toContain('Vui lòng nhập nội dung kết luận.');

    expect(await snapshot(meetingId)).toBe(before);
  });

  it('an organizer of another unit gets 404 on the board and every change, and changes nothing', async () => {
    const { meetingId, laiVung } = await conference();
    const directive = await addDirective(app.organizer, { meetingId, text: 'Phối hợp với các viện, trường uy tín.' });
    const [task] = await assignDirective(app.organizer, { meetingId, directiveId: directive.id, assignees: [`site:${String(laiVung._id)}`], dueDate: '2022-09-30' });
    const unit = await addUnit(app.organizer, { name: 'Sở Giáo dục và Đào tạo' });
    await inviteAccount(app.organizer, { name: 'Cán bộ Sở GD&ĐT', email: 'gddt@example.vn', role: 'organizer', unitId: String(unit._id), password: 'a password of the unit' });
    const other = app.newClient();
    expect((await other.signIn('gddt@example.vn', 'a password of the unit')).status).toBe(303);
    const before = await snapshot(meetingId);

    expect((await other.get(`/meetings/${meetingId}/tasks`)).status).toBe(404);
    expect((await other.getJson(`/api/v1/meetings/${meetingId}/tasks`)).status).toBe(404);
    expect((await other.json('POST', `/api/v1/meetings/${meetingId}/directives`, { text: 'Kết luận lạ' })).status).toBe(404);
    expect((await other.json('PATCH', `/api/v1/meetings/${meetingId}/directives/${directive.id}`, { text: 'Sửa' })).status).toBe(404);
    expect((await other.json('DELETE', `/api/v1/meetings/${meetingId}/directives/${directive.id}`)).status).toBe(404);
    expect((await other.json('POST', `/api/v1/meetings/${meetingId}/directives/${directive.id}/assign`, { assignees: [`unit:${String(unit._id)}`], dueDate: '2022-12-31' })).status).toBe(404);
    expect((await other.json('PATCH', `/api/v1/meetings/${meetingId}/tasks/${task.id}`, { status: 'done' })).status).toBe(404);
    expect((await other.json('POST', `/api/v1/meetings/${meetingId}/tasks/${task.id}/progress`, { status: 'done' })).status).toBe(404);
    expect((await other.postForm(`/meetings/${meetingId}/directives`, { text: 'Kết luận lạ' })).status).toBe(404);
    expect(await snapshot(meetingId)).toBe(before);

    // Once a task is assigned to their unit, they report on that one (it is theirs), and only that one.
    const [ours] = await assignDirective(app.organizer, { meetingId, directiveId: directive.id, assignees: [`unit:${String(unit._id)}`], dueDate: '2022-12-31' });
    const reported = await other.json('POST', `/api/v1/meetings/${meetingId}/tasks/${ours.id}/progress`, { text: 'Đã họp với các trường.', status: 'inProgress' });
    expect(reported.status).toBe(200);
    expect((await other.get('/my/tasks')).text).toContain('Đã họp với các trường.');
    expect((await other.json('POST', `/api/v1/meetings/${meetingId}/tasks/${task.id}/progress`, { status: 'done' })).status).toBe(404);
    expect((await FollowupTaskModel.findById(task.id).lean())!.status).toBe('open');
  });

  it('the conference duplicated for next year shows last year’s tasks and their status', async () => {
    const { meetingId, laiVung, lapVo } = await conference();
    const directive = await addDirective(app.organizer, { meetingId, text: 'Các huyện cam kết ít nhất một hoạt động chuyển giao công nghệ trong năm 2022.' });
    const tasks = await assignDirective(app.organizer, { meetingId, directiveId: directive.id, assignees: [`site:${String(laiVung._id)}`, `site:${String(lapVo._id)}`], dueDate: '2022-12-31' });
    const coordinator = HttpClient.withBearer(app.baseUrl, laiVung.coordinatorToken);
    expect((await coordinator.json('POST', `/api/v1/meetings/${meetingId}/tasks/${tasks[0].id}/progress`, { status: 'done', text: 'Chuyển giao mô hình trồng sen.' })).status).toBe(200);

    const copy = await duplicateMeeting(app.organizer, { meetingId, start: '2022-12-28T14:00' });
    expect(String(copy.duplicatedFrom)).toBe(meetingId);
    const page = await organizer.get(`/meetings/${String(copy._id)}/tasks`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Nhiệm vụ năm trước: Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021');
    const lastYear = page.text.slice(page.text.indexOf('class="card last-year"'));
    expect(lastYear).toContain('Các huyện cam kết ít nhất một hoạt động chuyển giao công nghệ trong năm 2022.');
    expect(lastYear).toMatch(/<strong>Huyện Lai Vung<\/strong> · 2022-12-31 · Hoàn thành/);
    expect(lastYear).toMatch(/<strong>Huyện Lấp Vò<\/strong> · 2022-12-31 · Chưa thực hiện <span class="badge badge-overdue">Quá hạn<\/span>/);

    const api = await organizer.getJson(`/api/v1/meetings/${String(copy._id)}/tasks`);
    expect(api.json.directives).toEqual([]);
    expect(api.json.lastYear).toMatchObject({ meeting: { id: meetingId }, total: 2, done: 1, overdue: 1 });
    // The copy's own board starts empty: last year's tasks are not copied, only shown.
    expect(await FollowupTaskModel.countDocuments({ meetingId: copy._id })).toBe(0);
  });
});
