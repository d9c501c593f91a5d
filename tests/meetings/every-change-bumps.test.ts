// Every action that changes a meeting's state moves its revision by exactly one, in the stored
// meeting, and announces that same stored revision (ARCHITECTURE rule 4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDatabase, testUnit } from '../helpers/database.js';
import type { DatabaseHandle } from '../../server/database.js';
import { createMeeting, deleteMeeting, setMeetingStatus, updateMeeting } from '../../server/meetings/actions.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { addProvinceDistricts, addSite, moveSite, removeSite, reorderSites, rotateCoordinatorLink, setMainSite, updateSite } from '../../server/sites/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { createAttendee, moveAttendeeToSite, removeAttendee, rotateAccessToken, updateAttendee } from '../../server/attendees/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { addAgendaItem, moveAgendaItem, removeAgendaItem, reorderAgenda, updateAgendaItem } from '../../server/agenda/actions.js';
import { addDirective, assignDirective, editDirective, moveDirective, removeDirective, removeTask, reorderDirectives, reportProgress, updateTask } from '../../server/followup/actions.js';
import { subscribe, type DomainEvent } from '../../server/lib/events.js';
import type { Actor } from '../../server/lib/actor.js';

const organizer: Actor = { kind: 'organizer', userId: 'u1', name: 'Nguyễn Thị Tổ Chức', isAdmin: false, unitId: testUnit.id };

let database: DatabaseHandle;
beforeAll(async () => {
  database = await connectTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

async function storedRevision(meetingId: string): Promise<number> {
  return (await MeetingModel.findById(meetingId, { revision: 1 }).lean().orFail()).revision;
}

/** Runs one change; the meeting must be at `expected` afterwards and every event must carry it. */
async function expectRevision<T>(meetingId: string, expected: number, change: () => Promise<T>): Promise<T> {
  const events: DomainEvent[] = [];
  const stop = subscribe((event) => events.push(event));
  let result: T;
  try {
    result = await change();
  } finally {
    stop();
  }
  expect(await storedRevision(meetingId)).toBe(expected);
  expect(events.length).toBeGreaterThan(0);
  expect(events.map((event) => [event.meetingId, event.revision])).toEqual(events.map(() => [meetingId, expected]));
  return result;
}

describe('every change bumps the meeting revision, by exactly one, announced as stored', () => {
  it('walks through every site, attendee, agenda and meeting action', async () => {
    const meeting = await createMeeting(organizer, { title: 'Hội nghị giao ban quý I năm 2026', start: '2026-03-02T08:00', end: '2026-03-02T11:00' });
    const meetingId = String(meeting._id);
    expect(meeting.revision).toBe(0);
    let revision = 0;
    const next = () => (revision += 1);

    // Sites: all eight actions.
    const laiVung = await expectRevision(meetingId, next(), () => addSite(organizer, { meetingId, name: 'Huyện Lai Vung' }));
    const siteId = String(laiVung._id);
    await expectRevision(meetingId, next(), () => updateSite(organizer, { meetingId, siteId, address: 'Thị trấn Lai Vung' }));
    const districts = await expectRevision(meetingId, next(), () => addProvinceDistricts(organizer, { meetingId, provinceCode: '87' }));
    expect(districts.created.length).toBeGreaterThan(0);
    await expectRevision(meetingId, next(), () => setMainSite(organizer, { meetingId, siteId }));
    const ids = (await SiteModel.find({ meetingId }).sort({ order: 1 }).lean()).map((site) => String(site._id));
    await expectRevision(meetingId, next(), () => reorderSites(organizer, { meetingId, siteIds: [...ids].reverse() }));
    const other = [...ids].reverse().find((id) => id !== siteId)!;
    await expectRevision(meetingId, next(), () => moveSite(organizer, { meetingId, siteId: other, direction: 'down' }));
    await expectRevision(meetingId, next(), () => rotateCoordinatorLink(organizer, { meetingId, siteId }));
    const spare = await addSite(organizer, { meetingId, name: 'Điểm cầu dự phòng' });
    next();
    await expectRevision(meetingId, next(), () => removeSite(organizer, { meetingId, siteId: String(spare._id) }));

    // Attendees: all five actions.
    const lan = await expectRevision(meetingId, next(), () => createAttendee(organizer, { meetingId, fullName: 'Trần Thị Lan', siteId }));
    await expectRevision(meetingId, next(), () => updateAttendee(organizer, { meetingId, attendeeId: lan.id, position: 'Phó Giám đốc' }));
    await expectRevision(meetingId, next(), () => moveAttendeeToSite(organizer, { meetingId, attendeeId: lan.id, siteId: other }));
    await expectRevision(meetingId, next(), () => rotateAccessToken(organizer, { meetingId, attendeeId: lan.id }));
    await expectRevision(meetingId, next(), () => removeAttendee(organizer, { meetingId, attendeeId: lan.id }));

    // Agenda: all five actions.
    const opening = await expectRevision(meetingId, next(), () => addAgendaItem(organizer, { meetingId, title: 'Khai mạc', kind: 'opening', plannedMinutes: 10 }));
    const report = await expectRevision(meetingId, next(), () => addAgendaItem(organizer, { meetingId, title: 'Báo cáo tổng kết', plannedMinutes: 30 }));
    await expectRevision(meetingId, next(), () => updateAgendaItem(organizer, { meetingId, itemId: opening.item!.id, plannedMinutes: 15 }));
    await expectRevision(meetingId, next(), () => moveAgendaItem(organizer, { meetingId, itemId: report.item!.id, direction: 'up' }));
    await expectRevision(meetingId, next(), () => reorderAgenda(organizer, { meetingId, orderedIds: [opening.item!.id, report.item!.id] }));
    await expectRevision(meetingId, next(), () => removeAgendaItem(organizer, { meetingId, itemId: report.item!.id }));

    // The meeting itself.
    await expectRevision(meetingId, next(), () => updateMeeting(organizer, { meetingId, description: 'Đánh giá quý I.' }));
    await expectRevision(meetingId, next(), () => setMeetingStatus(organizer, { meetingId, action: 'schedule' }));
    await expectRevision(meetingId, next(), () => setMeetingStatus(organizer, { meetingId, action: 'cancel' }));
    await expectRevision(meetingId, next(), () => setMeetingStatus(organizer, { meetingId, action: 'reinstate' }));
    expect(revision).toBe(24);
  });

  it('walks through every directive and follow-up task action, the assignee’s progress included', async () => {
    const meeting = await createMeeting(organizer, { title: 'Hội nghị tổng kết năm 2026', start: '2026-12-28T08:00', end: '2026-12-28T11:00' });
    const meetingId = String(meeting._id);
    const site = await addSite(organizer, { meetingId, name: 'Huyện Lai Vung' });
    let revision = 1;
    const next = () => (revision += 1);
    const first = await expectRevision(meetingId, next(), () => addDirective(organizer, { meetingId, text: 'Rà soát lại những hạn chế.' }));
    const second = await expectRevision(meetingId, next(), () => addDirective(organizer, { meetingId, text: 'Tăng cường các hoạt động sở hữu trí tuệ.' }));
    await expectRevision(meetingId, next(), () => editDirective(organizer, { meetingId, directiveId: first.id, text: 'Rà soát lại những hạn chế, xây dựng kế hoạch.' }));
    await expectRevision(meetingId, next(), () => moveDirective(organizer, { meetingId, directiveId: second.id, direction: 'up' }));
    await expectRevision(meetingId, next(), () => reorderDirectives(organizer, { meetingId, directiveIds: [first.id, second.id] }));
    const [task] = await expectRevision(meetingId, next(), () => assignDirective(organizer, { meetingId, directiveId: first.id, assignees: [`site:${String(site._id)}`, `unit:${testUnit.id}`], dueDate: '2027-03-31' }));
    await expectRevision(meetingId, next(), () => updateTask(organizer, { meetingId, taskId: task.id, dueDate: '2027-04-30' }));
    const coordinator: Actor = { kind: 'coordinator', meetingId, siteId: String(site._id), name: 'Điều phối Lai Vung' };
    const siteTask = (await assignDirective(organizer, { meetingId, directiveId: second.id, assignees: [`site:${String(site._id)}`], dueDate: '2027-06-30' }))[0];
    next();
    await expectRevision(meetingId, next(), () => reportProgress(coordinator, { meetingId, taskId: siteTask.id, text: 'Đã xây dựng kế hoạch.', status: 'inProgress' }));
    await expectRevision(meetingId, next(), () => removeTask(organizer, { meetingId, taskId: task.id }));
    await expectRevision(meetingId, next(), () => removeDirective(organizer, { meetingId, directiveId: second.id }));
    expect(revision).toBe(12);
  });

  it('changes that change nothing claim no revision', async () => {
    const meeting = await createMeeting(organizer, { title: 'Giao ban', start: '2026-04-02T08:00', end: '2026-04-02T09:00' });
    const meetingId = String(meeting._id);
    const site = await addSite(organizer, { meetingId, name: 'Huyện Tháp Mười' });
    await moveSite(organizer, { meetingId, siteId: String(site._id), direction: 'up' });
    await setMainSite(organizer, { meetingId, siteId: String(site._id) });
    await setMainSite(organizer, { meetingId, siteId: String(site._id) });
    expect(await storedRevision(meetingId)).toBe(2);
  });

  it('deleting a draft claims one last revision like any change, announces it once and removes its parts', async () => {
    const meeting = await createMeeting(organizer, { title: 'Bản nháp', start: '2026-05-02T08:00', end: '2026-05-02T09:00' });
    const meetingId = String(meeting._id);
    await addSite(organizer, { meetingId, name: 'Huyện Cao Lãnh' });
    const events: DomainEvent[] = [];
    const stop = subscribe((event) => events.push(event));
    try {
      await deleteMeeting(organizer, { meetingId });
    } finally {
      stop();
    }
    expect(events).toEqual([{ type: 'meeting.deleted', meetingId, revision: 2, payload: { id: meetingId } }]);
    expect(await MeetingModel.exists({ _id: meetingId })).toBeNull();
    expect(await SiteModel.countDocuments({ meetingId })).toBe(0);
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(0);
  });
});
