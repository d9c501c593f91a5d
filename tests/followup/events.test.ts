// Who hears a task's changes live: the board's readers (the meeting's organizers and the chair)
// and, for a site's task, that site. An attendee's phone or another site's screen learns only
// that the meeting moved on (a bare revision), never a unit's task and its progress notes.
// Real sockets, real HTTP, real store.
import { MeetingModel } from '../../server/meetings/model.js';
import { describe, expect, it } from 'vitest';
import { HttpClient } from '../helpers/http.js';
import { testUnit } from '../helpers/database.js';
import { conferenceDay, nextEvent, record, sharedDayApp } from '../live/fixtures.js';
import { addDirective, assignDirective } from '../../server/followup/actions.js';
import { FollowupTaskModel } from '../../server/followup/model.js';

const shared = sharedDayApp();

describe('task events', () => {
  it('a unit’s task and its progress note reach the organizers and the chair, not the attendees or the sites', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị nhiệm vụ của đơn vị' });
    const directive = await addDirective(shared.app.organizer, { meetingId: day.meetingId, text: 'Rà soát những tồn tại, hạn chế và xây dựng kế hoạch khắc phục' });
    const [unitTask] = await assignDirective(shared.app.organizer, { meetingId: day.meetingId, directiveId: directive.id, assignees: [`unit:${testUnit.id}`], dueDate: '2027-06-30' });

    const desk = await shared.screens.join(day.meetingId, {}, { cookie: shared.organizer.cookieHeader() });
    const chair = await shared.screens.join(day.meetingId, { token: day.chairToken });
    const attendee = await shared.screens.join(day.meetingId, { token: day.people[1][0].token });
    const site = await shared.screens.join(day.meetingId, { token: day.sites[2].token });
    const heardByAttendee = record(attendee);
    const heardBySite = record(site);
    // Events are sent a moment after their change (batches): the assignment above may still reach
    // a screen that joined after it. Wait for the progress note's own events.
    const note = 'Đã họp rà soát nội bộ ngày 10/01/2027, dự thảo kế hoạch chưa công bố';
    const withNote = (event: { payload: { task?: { notes?: Array<{ text: string }> } } }) => event.payload.task?.notes?.[0]?.text === note;
    const onDesk = nextEvent(desk, 'task.changed', withNote);
    const onChair = nextEvent(chair, 'task.changed', withNote);
    const saved = await shared.organizer.json('POST', `/api/v1/meetings/${day.meetingId}/tasks/${unitTask.id}/progress`, { text: note, status: 'inProgress' });
    expect(saved.status).toBe(200);
    const revision = (await MeetingModel.findById(day.meetingId, { revision: 1 }).lean())!.revision;

    expect((await onDesk).payload.task.notes[0].text).toBe(note);
    expect((await onChair).payload.task.id).toBe(unitTask.id);
    // The others learn the revision, not the task.
    for (const heard of [heardByAttendee, heardBySite]) {
      await expect.poll(() => heard.find((event) => event.revision === revision)?.type).toBe('revision');
      expect(heard.find((event) => event.revision === revision)!.payload).toBeNull();
    }
    for (const heard of [heardByAttendee, heardBySite]) {
      expect(heard.map((event) => String(event.type))).not.toContain('task.changed');
      expect(JSON.stringify(heard)).not.toContain(note);
    }
  });
});

describe('status moves by the assignee', () => {
  it('a district moves its task forward, not back: done stays done unless the meeting’s organizers reopen it', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị trạng thái nhiệm vụ' });
    const site = day.sites[1];
    const directive = await addDirective(shared.app.organizer, { meetingId: day.meetingId, text: 'Mỗi huyện có ít nhất một hoạt động chuyển giao công nghệ trong năm 2027' });
    const [task] = await assignDirective(shared.app.organizer, { meetingId: day.meetingId, directiveId: directive.id, assignees: [`site:${site.id}`], dueDate: '2027-12-31' });
    const district = HttpClient.withBearer(shared.app.baseUrl, site.token);
    const progress = (body: Record<string, string>) => district.json('POST', `/api/v1/meetings/${day.meetingId}/tasks/${task.id}/progress`, body);

    expect((await progress({ status: 'inProgress' })).json).toMatchObject({ status: 'inProgress' });
    const back = await progress({ status: 'open' });
    expect(back.status).toBe(409);
    expect(back.json.error.message).toBe('Nhiệm vụ đã chuyển sang trạng thái sau; chỉ cơ quan tổ chức hội nghị mới chuyển lại được. Bạn vẫn có thể gửi ghi chú tiến độ.');
    expect((await progress({ status: 'done', text: 'Đã chuyển giao xong' })).json).toMatchObject({ status: 'done' });
    const before = await FollowupTaskModel.findById(task.id).lean();
    for (const status of ['open', 'inProgress']) expect((await progress({ status, text: 'Mở lại' })).status).toBe(409);
    // The refusals changed nothing: no status, no note.
    expect(await FollowupTaskModel.findById(task.id).lean()).toEqual(before);
    // A note on a done task is still welcome, and the page offers no way back.
    expect((await progress({ text: 'Bổ sung biên bản nghiệm thu' })).json).toMatchObject({ status: 'done', notes: [{ text: 'Đã chuyển giao xong' }, { text: 'Bổ sung biên bản nghiệm thu' }] });
    const page = shared.app.newClient();
    await page.openLink(`/s/${site.token}`);
    const mine = await page.get('/my/tasks');
    const options = [...mine.text.matchAll(/<option value="(\w+)">/g)].map((match) => match[1]);
    expect(options).toEqual(['done']);

    // The meeting's organizers reopen it.
    const reopened = await shared.organizer.json('PATCH', `/api/v1/meetings/${day.meetingId}/tasks/${task.id}`, { status: 'inProgress' });
    expect(reopened.json).toMatchObject({ status: 'inProgress' });
  });
});
