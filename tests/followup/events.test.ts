// Who hears a task's changes live: the board's readers (the meeting's organizers and the chair)
// and, for a site's task, that site. An attendee's phone or another site's screen learns only
// that the meeting moved on (a bare revision), never a unit's task and its progress notes.
// Real sockets, real HTTP, real store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { testUnit } from '../helpers/database.js';
import { conferenceDay, nextEvent, record, Screens } from '../live/fixtures.js';
import { addDirective, assignDirective } from '../../server/followup/actions.js';

let app: TestApp;
let screens: Screens;
let organizer: HttpClient;

beforeAll(async () => {
  app = await startTestApp();
  screens = new Screens(app.baseUrl);
  organizer = await app.signInOrganizer();
});

afterAll(async () => {
  screens.closeAll();
  await app.stop();
});

describe('task events', () => {
  it('a unit’s task and its progress note reach the organizers and the chair, not the attendees or the sites', async () => {
    const day = await conferenceDay(app.organizer, { title: 'Hội nghị nhiệm vụ của đơn vị' });
    const directive = await addDirective(app.organizer, { meetingId: day.meetingId, text: 'Rà soát những tồn tại, hạn chế và xây dựng kế hoạch khắc phục' });
    const [unitTask] = await assignDirective(app.organizer, { meetingId: day.meetingId, directiveId: directive.id, assignees: [`unit:${testUnit.id}`], dueDate: '2027-06-30' });

    const desk = await screens.join(day.meetingId, {}, { cookie: organizer.cookieHeader() });
    const chair = await screens.join(day.meetingId, { token: day.chairToken });
    const attendee = await screens.join(day.meetingId, { token: day.people[1][0].token });
    const site = await screens.join(day.meetingId, { token: day.sites[2].token });
    const heardByAttendee = record(attendee);
    const heardBySite = record(site);
    const onDesk = nextEvent(desk, 'task.changed');
    const onChair = nextEvent(chair, 'task.changed');
    const attendeeRevision = nextEvent(attendee, 'revision');
    const siteRevision = nextEvent(site, 'revision');

    const note = 'Đã họp rà soát nội bộ ngày 10/01/2027, dự thảo kế hoạch chưa công bố';
    const saved = await organizer.json('POST', `/api/v1/meetings/${day.meetingId}/tasks/${unitTask.id}/progress`, { text: note, status: 'inProgress' });
    expect(saved.status).toBe(200);

    expect((await onDesk).payload.task.notes[0].text).toBe(note);
    expect((await onChair).payload.task.id).toBe(unitTask.id);
    // The others learn the revision, not the task.
    expect((await attendeeRevision).payload).toBeNull();
    expect((await siteRevision).payload).toBeNull();
    for (const heard of [heardByAttendee, heardBySite]) {
      expect(heard.filter((event) => event.type === 'task.changed')).toEqual([]);
      expect(JSON.stringify(heard)).not.toContain(note);
    }
  });
});
