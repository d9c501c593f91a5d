// The summary's headline figure agrees with the attendance report: everyone invited who came is
// counted as attending, those who left early included; the editor's snippet is the published text. Real sockets, HTTP and store.
import { describe, expect, it } from 'vitest';
import { testUnit } from '../helpers/database.js';
import { conferenceDay, opId, send, sharedDayApp } from '../live/fixtures.js';
import { createMeeting, setMeetingStatus } from '../../server/meetings/actions.js';
import { publishSummary, saveSummary } from '../../server/summary/actions.js';

const shared = sharedDayApp();

describe('the summary’s attendance figure', () => {
  it('counts those who left early as having attended, as the report does', async () => {
    const day = await conferenceDay(shared.app.organizer, { title: 'Hội nghị số liệu bản tin' });
    const coordinator = await shared.screens.join(day.meetingId, { token: day.sites[1].token });
    const [stayed, leaver, away] = day.people[1];
    for (const person of [stayed, leaver]) expect(await send(coordinator, 'attendance:checkIn', { meetingId: day.meetingId, attendeeId: person.id, opId: opId() })).toMatchObject({ ok: true });
    expect(await send(coordinator, 'attendance:leftEarly', { meetingId: day.meetingId, attendeeId: leaver.id, opId: opId() })).toMatchObject({ ok: true });
    expect(await send(coordinator, 'attendance:markAbsent', { meetingId: day.meetingId, attendeeId: away.id, opId: opId(), reason: 'sick' })).toMatchObject({ ok: true });

    const report = await shared.organizer.getJson(`/api/v1/meetings/${day.meetingId}/report`);
    expect(report.json.totals).toMatchObject({ expected: 17, present: 2, leftEarly: 1, absent: 1 });
    const summary = await shared.organizer.getJson(`/api/v1/meetings/${day.meetingId}/summary?locale=vi`);
    expect(summary.status).toBe(200);
    expect(summary.json.summary.text).toContain('Tham dự Hội nghị có 2 đại biểu trên tổng số 17 đại biểu được mời tại 4 điểm cầu.');
    const english = await shared.organizer.getJson(`/api/v1/meetings/${day.meetingId}/summary?locale=en`);
    expect(english.json.summary.text).toContain('2 of the 17 invited delegates attended, at 4 bridge points.');
  });
});

describe('the snippet to paste into the department’s website', () => {
  it('is the published text however many drafts were saved after it, never the unpublished draft', async () => {
    const meeting = await createMeeting(shared.app.organizer, { title: 'Hội nghị bản tin nhiều phiên bản', start: '2021-12-29T14:00', end: '2021-12-29T17:00', status: 'scheduled', unitId: testUnit.id });
    const meetingId = String(meeting._id);
    let view = await saveSummary(shared.app.organizer, { meetingId, locale: 'vi', text: 'Bản tin đã duyệt để đăng.', baseVersion: 0 });
    await publishSummary(shared.app.organizer, { meetingId, locale: 'vi', version: view.version });
    for (let n = 1; n <= 101; n++) view = await saveSummary(shared.app.organizer, { meetingId, locale: 'vi', text: `Bản nháp nội bộ số ${n}, chưa được duyệt.`, baseVersion: view.version });

    const editor = await shared.organizer.get(`/meetings/${meetingId}/summary`);
    expect(editor.status).toBe(200);
    const snippet = /<textarea id="summary-snippet"[^>]*>([\s\S]*?)<\/textarea>/.exec(editor.text)![1];
    expect(snippet).toContain('Bản tin đã duyệt để đăng.');
    expect(snippet).not.toContain('Bản nháp nội bộ');
    const page = await shared.app.newClient().get(`/p/${meeting.publicId}/summary`);
    expect(page.text).toContain('Bản tin đã duyệt để đăng.');
    expect(page.text).not.toContain('Bản nháp nội bộ');
  });
});

describe('taking the article down', () => {
  it('works after the meeting was cancelled: the public page then answers 404', async () => {
    const meeting = await createMeeting(shared.app.organizer, { title: 'Hội nghị bị hủy sau khi đăng tin', start: '2027-12-29T14:00', end: '2027-12-29T17:00', status: 'scheduled', unitId: testUnit.id });
    const meetingId = String(meeting._id);
    const view = await saveSummary(shared.app.organizer, { meetingId, locale: 'vi', text: 'Hội nghị đã diễn ra thành công tốt đẹp.', baseVersion: 0 });
    await publishSummary(shared.app.organizer, { meetingId, locale: 'vi', version: view.version });
    await setMeetingStatus(shared.app.organizer, { meetingId, action: 'cancel' });
    expect((await shared.app.newClient().get(`/p/${meeting.publicId}/summary`)).status).toBe(200);
    // The editor offers taking it down, and nothing else.
    const editor = await shared.organizer.get(`/meetings/${meetingId}/summary`);
    expect(editor.text).toContain('summary-unpublish');
    expect(editor.text).not.toContain('summary-publish"');

    const down = await shared.organizer.json('POST', `/api/v1/meetings/${meetingId}/summary/vi/unpublish`, {});
    expect(down.status).toBe(200);
    expect(down.json.published).toBeNull();
    expect((await shared.app.newClient().get(`/p/${meeting.publicId}/summary`)).status).toBe(404);
    // Editing and publishing stay refused while cancelled.
    expect((await shared.organizer.json('POST', `/api/v1/meetings/${meetingId}/summary/vi/publish`, { version: view.version })).status).toBe(409);
  });
});
