// Minutes: an organizer of the meeting's unit writes notes per agenda item, each save one meeting
// revision with its version kept (who wrote what and when); two organizers saving on the same
// version do not overwrite each other (the second gets a conflict); a resend of a save whose
// answer was lost is stored once; other organizers' screens hear the new text and nobody else
// does; other units, link holders and bad input change nothing. Real HTTP, sockets and store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { testUnit } from '../helpers/database.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { addUnit } from '../../server/units/actions.js';
import { inviteAccount } from '../../server/accounts/actions.js';
import { addAgendaItem } from '../../server/agenda/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { MinuteNoteModel, MinuteVersionModel } from '../../server/minutes/model.js';
import { AuditEntryModel } from '../../server/audit/model.js';
import { MeetingModel } from '../../server/meetings/model.js';

let app: TestApp;
let organizer: HttpClient;
let colleague: HttpClient;
let otherUnit: HttpClient;

beforeAll(async () => {
  app = await startTestApp();
  organizer = await app.signInOrganizer();
  await inviteAccount(app.organizer, { name: 'Lê Thị Thư Ký', email: 'thuky@example.vn', role: 'organizer', unitId: testUnit.id, password: 'a password of the secretary' });
  colleague = app.newClient();
  expect((await colleague.signIn('thuky@example.vn', 'a password of the secretary')).status).toBe(303);
  const unit = await addUnit(app.organizer, { name: 'Sở Giáo dục và Đào tạo' });
  await inviteAccount(app.organizer, { name: 'Cán bộ Sở GD&ĐT', email: 'gddt-minutes@example.vn', role: 'organizer', unitId: String(unit._id), password: 'a password of the unit' });
  otherUnit = app.newClient();
  expect((await otherUnit.signIn('gddt-minutes@example.vn', 'a password of the unit')).status).toBe(303);
});
afterAll(async () => {
  await app?.stop();
});

async function conference() {
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00', status: 'scheduled', unitId: testUnit.id });
  const meetingId = String(meeting._id);
  const site = await addSite(app.organizer, { meetingId, name: 'Văn phòng UBND Tỉnh', isMain: true });
  const { item } = await addAgendaItem(app.organizer, { meetingId, title: 'Báo cáo tổng kết hoạt động KH&CN năm 2021', kind: 'report', plannedMinutes: 30 });
  return { meetingId, itemId: item!.id as string, site };
}

async function snapshot(meetingId: string) {
  const [meeting, notes, versions, audit] = await Promise.all([
    MeetingModel.findById(meetingId, { revision: 1 }).lean(),
    MinuteNoteModel.find({ meetingId }).sort({ _id: 1 }).lean(),
    MinuteVersionModel.find({ meetingId }).sort({ _id: 1 }).lean(),
    AuditEntryModel.find({ meetingId }).sort({ _id: 1 }).lean(),
  ]);
  return JSON.stringify({ revision: meeting?.revision, notes, versions, audit });
}

function socketOf(client: HttpClient | null, auth: Record<string, string> = {}): Socket {
  return connect(app.baseUrl, { transports: ['websocket'], extraHeaders: client ? { cookie: client.cookieHeader() } : {}, auth, forceNew: true });
}

async function joined(socket: Socket, meetingId: string): Promise<void> {
  const ack = await socket.timeout(10_000).emitWithAck('meeting:join', { meetingId });
  expect(ack.ok).toBe(true);
}

describe('minutes', () => {
  it('an organizer saves notes as they type: each save a new version with who and when, one revision, an audit entry, and the other organizer’s screen hears it', async () => {
    const { meetingId, itemId } = await conference();
    const listener = socketOf(colleague);
    const received: Array<{ type: string; revision: number; payload: { note: { text: string; version: number; updatedBy: string } } }> = [];
    listener.on('event', (event) => {
      if (event.type === 'minutes.changed') received.push(event);
    });
    try {
      await joined(listener, meetingId);
      const before = (await MeetingModel.findById(meetingId).lean())!.revision;
      const first = await organizer.json('PUT', `/api/v1/meetings/${meetingId}/minutes/${itemId}`, { text: 'Ông Trần Thanh Liêm báo cáo', baseVersion: 0, saveId: 'editor-1:0' });
      expect(first.status).toBe(200);
      expect(first.json).toMatchObject({ agendaItemId: itemId, text: 'Ông Trần Thanh Liêm báo cáo', version: 1, updatedBy: 'Nguyễn Thị Tổ Chức' });
      const second = await organizer.json('PUT', `/api/v1/meetings/${meetingId}/minutes/${itemId}`, { text: 'Ông Trần Thanh Liêm báo cáo kết quả năm 2021: 27 nhiệm vụ cấp Tỉnh.', baseVersion: 1, saveId: 'editor-1:1' });
      expect(second.json.version).toBe(2);

      const meeting = (await MeetingModel.findById(meetingId).lean())!;
      expect(meeting.revision).toBe(before + 2);
      const versions = await MinuteVersionModel.find({ meetingId }).sort({ version: 1 }).lean();
      expect(versions.map((entry) => [entry.version, entry.text, entry.by.name, entry.revision])).toEqual([
        [1, 'Ông Trần Thanh Liêm báo cáo', 'Nguyễn Thị Tổ Chức', before + 1],
        [2, 'Ông Trần Thanh Liêm báo cáo kết quả năm 2021: 27 nhiệm vụ cấp Tỉnh.', 'Nguyễn Thị Tổ Chức', before + 2],
      ]);
      const audit = await AuditEntryModel.find({ meetingId, events: 'minutes.changed' }).sort({ revision: 1 }).lean();
      expect(audit.map((entry) => [entry.revision, entry.actor!.name, entry.detail])).toEqual([
        [before + 1, 'Nguyễn Thị Tổ Chức', 'Báo cáo tổng kết hoạt động KH&CN năm 2021'],
        [before + 2, 'Nguyễn Thị Tổ Chức', 'Báo cáo tổng kết hoạt động KH&CN năm 2021'],
      ]);

      await expect.poll(() => received.length, { timeout: 10_000 }).toBe(2);
      expect(received.map((event) => [event.revision, event.payload.note.version, event.payload.note.text])).toEqual([
        [before + 1, 1, 'Ông Trần Thanh Liêm báo cáo'],
        [before + 2, 2, 'Ông Trần Thanh Liêm báo cáo kết quả năm 2021: 27 nhiệm vụ cấp Tỉnh.'],
      ]);

      const history = await colleague.get(`/meetings/${meetingId}/minutes/${itemId}/history`);
      expect(history.status).toBe(200);
      expect(history.text).toContain('Phiên bản 2: Nguyễn Thị Tổ Chức');
      expect(history.text).toContain('Phiên bản 1: Nguyễn Thị Tổ Chức');
      const page = await colleague.get(`/meetings/${meetingId}/minutes`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('27 nhiệm vụ cấp Tỉnh.');
    } finally {
      listener.disconnect();
    }
  });

  it('two organizers saving on the same version: the second gets a conflict in their language and the first one’s text stands', async () => {
    const { meetingId, itemId } = await conference();
    const url = `/api/v1/meetings/${meetingId}/minutes/${itemId}`;
    expect((await organizer.json('PUT', url, { text: 'Bản đầu', baseVersion: 0, saveId: 'editor-a:0' })).status).toBe(200);
    const [mine, theirs] = await Promise.all([
      organizer.json('PUT', url, { text: 'Bản của người tổ chức', baseVersion: 1, saveId: 'editor-a:1' }),
      colleague.json('PUT', url, { text: 'Bản của thư ký', baseVersion: 1, saveId: 'editor-b:1' }),
    ]);
    const statuses = [mine.status, theirs.status].sort();
    expect(statuses).toEqual([200, 409]);
    const winner = mine.status === 200 ? 'Bản của người tổ chức' : 'Bản của thư ký';
    const loser = mine.status === 409 ? mine : theirs;
    expect(loser.json.error).toMatchObject({ code: 'conflict', message: 'Ghi chép này vừa được một người tổ chức khác sửa. Hãy xem bản mới nhất và chọn giữ bản nào.' });
    const stored = (await MinuteNoteModel.findOne({ meetingId }).lean())!;
    expect([stored.text, stored.version]).toEqual([winner, 2]);
    expect(await MinuteVersionModel.countDocuments({ meetingId })).toBe(2);

    // In English the conflict says so in English; the loser reads the current note and saves on it.
    const inEnglish = app.newClient();
    expect((await inEnglish.signIn('thuky@example.vn', 'a password of the secretary')).status).toBe(303);
    const english = await inEnglish.json('PUT', `${url}?lang=en`, { text: 'Stale', baseVersion: 1, saveId: 'editor-b:1x' });
    expect(english.status).toBe(409);
    expect(english.json.error.message).toBe('Another organizer just changed these notes. Look at the latest version and choose which to keep.');
    const current = await colleague.getJson(url);
    expect(current.json).toMatchObject({ text: winner, version: 2 });
    expect((await colleague.json('PUT', url, { text: `${winner} (đã bổ sung)`, baseVersion: 2, saveId: 'editor-b:2' })).json.version).toBe(3);
  });

  it('a save whose answer was lost is sent again: stored once, and more text typed meanwhile goes on top of it', async () => {
    const { meetingId, itemId } = await conference();
    const url = `/api/v1/meetings/${meetingId}/minutes/${itemId}`;
    const sent = { text: 'Ý kiến của các huyện', baseVersion: 0, saveId: 'editor-c:0' };
    expect((await organizer.json('PUT', url, sent)).json.version).toBe(1);
    const again = await organizer.json('PUT', url, sent);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ version: 1, replayed: true });
    const more = await organizer.json('PUT', url, { ...sent, text: 'Ý kiến của các huyện về phát triển nhãn hiệu.' });
    expect(more.json).toMatchObject({ version: 2, text: 'Ý kiến của các huyện về phát triển nhãn hiệu.' });
    expect((await MinuteVersionModel.find({ meetingId }).sort({ version: 1 }).lean()).map((entry) => entry.text)).toEqual(['Ý kiến của các huyện', 'Ý kiến của các huyện về phát triển nhãn hiệu.']);
    // The same save id on a version someone else moved past is a conflict, not an overwrite.
    expect((await colleague.json('PUT', url, { text: 'Thư ký sửa', baseVersion: 2, saveId: 'editor-d:2' })).status).toBe(200);
    expect((await organizer.json('PUT', url, { ...sent, text: 'Ghi đè?' })).status).toBe(409);
    expect((await MinuteNoteModel.findOne({ meetingId }).lean())!.text).toBe('Thư ký sửa');
  });

  it('bad input is refused in the asker’s language and changes nothing', async () => {
    const { meetingId, itemId } = await conference();
    const url = `/api/v1/meetings/${meetingId}/minutes/${itemId}`;
    const before = await snapshot(meetingId);
    const noVersion = await organizer.json('PUT', url, { text: 'x', saveId: 'editor-e:0' });
    expect(noVersion.status).toBe(422);
    expect(noVersion.json.error.fields.baseVersion).toBe('Phiên bản ghi chép không hợp lệ.');
    const inEnglish = await app.signInOrganizer();
    const tooLong = await inEnglish.json('PUT', `${url}?lang=en`, { text: 'a'.repeat(50_001), baseVersion: 0, saveId: 'editor-e:0' });
    expect(tooLong.status).toBe(422);
    expect(tooLong.json.error.fields.text).toBe('The notes are too long (at most 50,000 characters).');
    const notText = await organizer.json('PUT', url, { text: { $set: 'x' }, baseVersion: 0, saveId: 'editor-e:0' });
    expect(notText.status).toBe(422);
    expect(notText.json.error.fields.text).toBe('Nội dung ghi chép không hợp lệ.');
    const badSaveId = await organizer.json('PUT', url, { text: 'x', baseVersion: 0, saveId: '<script>' });
    expect(badSaveId.status).toBe(422);
    // An agenda item of another meeting is not this meeting's.
    const other = await conference();
    expect((await organizer.json('PUT', `/api/v1/meetings/${meetingId}/minutes/${other.itemId}`, { text: 'x', baseVersion: 0, saveId: 'editor-e:0' })).status).toBe(404);
    expect((await organizer.json('PUT', `/api/v1/meetings/${meetingId}/minutes/not-an-id`, { text: 'x', baseVersion: 0, saveId: 'editor-e:0' })).status).toBe(404);
    expect(await snapshot(meetingId)).toBe(before);
  });

  it('another unit’s organizer gets 404, the chair, coordinator and attendee links 403, anonymous 401; none of them changes anything or hears the text (the chair neither)', async () => {
    const { meetingId, itemId, site } = await conference();
    const chair = await createAttendee(app.organizer, { meetingId, siteId: String(site._id), fullName: 'Huỳnh Minh Tuấn', role: 'chair' });
    const delegate = await createAttendee(app.organizer, { meetingId, siteId: String(site._id), fullName: 'Đại biểu Huyện', role: 'delegate' });
    const url = `/api/v1/meetings/${meetingId}/minutes/${itemId}`;
    const body = { text: 'Chen ngang', baseVersion: 0, saveId: 'intruder:0' };
    const coordinatorSocket = socketOf(null, { token: site.coordinatorToken });
    const chairSocket = socketOf(null, { token: chair.accessToken! });
    const heard: string[] = [];
    const chairHeard: string[] = [];
    coordinatorSocket.on('event', (event) => heard.push(event.type));
    chairSocket.on('event', (event) => chairHeard.push(event.type));
    try {
      await joined(coordinatorSocket, meetingId);
      await joined(chairSocket, meetingId);
      const before = await snapshot(meetingId);

      expect((await otherUnit.get(`/meetings/${meetingId}/minutes`)).status).toBe(404);
      expect((await otherUnit.getJson(`/api/v1/meetings/${meetingId}/minutes`)).status).toBe(404);
      expect((await otherUnit.json('PUT', url, body)).status).toBe(404);
      expect((await otherUnit.get(`/meetings/${meetingId}/minutes/${itemId}/history`)).status).toBe(404);
      for (const token of [site.coordinatorToken, chair.accessToken!, delegate.accessToken!]) {
        const link = HttpClient.withBearer(app.baseUrl, token);
        expect((await link.json('PUT', url, body)).status).toBe(403);
        expect((await link.getJson(`/api/v1/meetings/${meetingId}/minutes`)).status).toBe(403);
      }
      expect((await app.newClient().json('PUT', url, body)).status).toBe(401);
      expect((await app.newClient().getJson(`/api/v1/meetings/${meetingId}/minutes`)).status).toBe(401);
      expect(await snapshot(meetingId)).toBe(before);

      // The organizer's save reaches the coordinator's screen only as a bare revision.
      expect((await organizer.json('PUT', url, { text: 'Nội dung nội bộ', baseVersion: 0, saveId: 'editor-f:0' })).status).toBe(200);
      await expect.poll(() => heard.includes('revision') && chairHeard.includes('revision'), { timeout: 10_000 }).toBe(true);
      expect(heard).not.toContain('minutes.changed');
      expect(chairHeard).not.toContain('minutes.changed');
    } finally {
      coordinatorSocket.disconnect();
      chairSocket.disconnect();
    }
  });
});
