// Pages read a meeting from memory (server/meetings/cache.ts) instead of the store on every
// request. What they show must still never be older than the meeting's last change: the change's
// own action forgets it, and a change made on another app instance forgets it once relayed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { addSite } from '../../server/sites/actions.js';
import { changedElsewhere } from '../../server/lib/events.js';

let app: TestApp;
let organizer: HttpClient;

beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
});
afterAll(async () => {
  await app?.stop();
});

async function newMeeting(title: string, status: 'draft' | 'scheduled' = 'scheduled'): Promise<string> {
  const meeting = await createMeeting(app.organizer, { title, start: '2027-03-02T08:00', end: '2027-03-02T11:00', status });
  const meetingId = String(meeting._id);
  await addSite(app.organizer, { meetingId, name: 'Hội trường chính', isMain: true });
  return meetingId;
}

const attendeesPage = (meetingId: string) => organizer.get(`/meetings/${meetingId}/attendees`);

describe('the meeting as pages read it', () => {
  it('shows a cancellation on the very next page: the table is read-only at once', async () => {
    const meetingId = await newMeeting('Hội nghị sẽ bị hủy');
    const before = await attendeesPage(meetingId);
    expect(before.status).toBe(200);
    expect(before.text).toContain('id="add-attendee"');
    expect(before.text).toContain('data-editable');

    const cancelled = await organizer.postForm(`/meetings/${meetingId}/status`, { action: 'cancel' });
    expect(cancelled.status).toBe(303);
    const after = await attendeesPage(meetingId);
    expect(after.status).toBe(200);
    expect(after.text).not.toContain('id="add-attendee"');
    expect(after.text).not.toContain('data-editable');
  });

  it('shows a new title on the very next page', async () => {
    const meetingId = await newMeeting('Tên cũ của hội nghị');
    expect((await attendeesPage(meetingId)).text).toContain('Tên cũ của hội nghị');
    const edited = await organizer.postForm(`/meetings/${meetingId}/edit`, { title: 'Tên mới của hội nghị', start: '2027-03-02T08:00', end: '2027-03-02T11:00', durationMinutes: '', timeZone: 'Asia/Ho_Chi_Minh', organizingUnit: '', description: '' });
    expect(edited.status).toBe(303);
    const after = await attendeesPage(meetingId);
    expect(after.text).toContain('Tên mới của hội nghị');
    expect(after.text).not.toContain('Tên cũ của hội nghị');
  });

  it('answers 404 for a deleted meeting at once', async () => {
    const meetingId = await newMeeting('Bản nháp sẽ bị xóa', 'draft');
    expect((await attendeesPage(meetingId)).status).toBe(200);
    expect((await organizer.postForm(`/meetings/${meetingId}/delete`, {})).status).toBe(303);
    expect((await attendeesPage(meetingId)).status).toBe(404);
  });

  it('reads the meeting again as soon as another instance says it changed', async () => {
    const meetingId = await newMeeting('Trước khi đổi ở máy chủ khác');
    expect((await attendeesPage(meetingId)).text).toContain('Trước khi đổi ở máy chủ khác');
    // Another instance's change: written to the shared store, announced over Redis (realtime/ relays it).
    await MeetingModel.updateOne({ _id: meetingId }, { $set: { title: 'Đã đổi ở máy chủ khác', status: 'cancelled' }, $inc: { revision: 1 } });
    changedElsewhere(meetingId);
    const after = await attendeesPage(meetingId);
    expect(after.text).toContain('Đã đổi ở máy chủ khác');
    expect(after.text).not.toContain('id="add-attendee"');
  });
});
