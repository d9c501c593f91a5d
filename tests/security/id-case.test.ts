// Ids written in capitals: the store finds `6B16…` as the record `6b16…`, so every check an action
// makes by comparing ids (oneself, the site being removed) and every room a revocation names must
// read them the same way. Found by sending a hand-typed API call with an id in capitals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { inviteAccount } from '../../server/accounts/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { UserModel } from '../../server/accounts/model.js';
import { testUnit } from '../helpers/database.js';

const password = 'correct horse battery staple';
let app: TestApp;
let meetingId: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  app = await startTestApp();
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị giao ban quý I', start: '2027-03-30T08:00', end: '2027-03-30T11:00' });
  meetingId = String(meeting._id);
  await addSite(app.organizer, { meetingId, name: 'Văn phòng UBND Tỉnh', isMain: true });
});

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await app?.stop();
});

describe('an id written in capitals', () => {
  it("cannot remove a site by handing its people over to that same site: they would be left at a site that no longer exists", async () => {
    const site = await addSite(app.organizer, { meetingId, name: 'Huyện Lai Vung' });
    const siteId = String(site._id);
    const person = await createAttendee(app.organizer, { meetingId, fullName: 'Phạm Văn Lộc', siteId });
    const organizer = await app.signInOrganizer();

    const response = await organizer.json('DELETE', `/api/v1/meetings/${meetingId}/sites/${siteId}?reassignTo=${siteId.toUpperCase()}`);

    expect(response.status).toBe(422);
    expect(response.json.error.fields.reassignTo).toBe('Điểm cầu nhận đại biểu không hợp lệ.');
    expect(await SiteModel.exists({ _id: siteId })).not.toBeNull();
    const stored = await AttendeeModel.findById(person.id).lean();
    expect(String(stored!.siteId)).toBe(siteId);
  });

  it('cannot make an administrator disable their own account', async () => {
    await inviteAccount(app.organizer, { email: 'quantri2@example.vn', name: 'Quản trị thứ hai', role: 'admin', password });
    const second = app.newClient();
    expect((await second.signIn('quantri2@example.vn', password)).status).toBe(303);
    const userId = String((await UserModel.findOne({ email: 'quantri2@example.vn' }).lean())!._id);

    const response = await second.json('PATCH', `/api/v1/accounts/${userId.toUpperCase()}`, { disabled: true });

    expect(response.status).toBe(409);
    expect(response.json.error.message).toBe('Bạn không thể tự khóa tài khoản của mình.');
    expect((await UserModel.findById(userId).lean())!.disabled).not.toBe(true);
  });

  it("disabling an organizer by it cuts the organizer's open live screen off at once", async () => {
    await inviteAccount(app.organizer, { email: 'to-chuc@example.vn', name: 'Tổ chức KHCN', role: 'organizer', unitId: testUnit.id, password });
    const userId = String((await UserModel.findOne({ email: 'to-chuc@example.vn' }).lean())!._id);
    const browser = app.newClient();
    expect((await browser.signIn('to-chuc@example.vn', password)).status).toBe(303);
    const socket = connect(app.baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie: browser.cookieHeader() } });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    expect(await socket.timeout(5000).emitWithAck('meeting:join', { meetingId })).toMatchObject({ ok: true });
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    const administrator = await app.signInOrganizer();

    const response = await administrator.json('PATCH', `/api/v1/accounts/${userId.toUpperCase()}`, { disabled: true });

    expect(response.status).toBe(200);
    expect(response.json.account.status).toBe('disabled');
    const outcome = await Promise.race([gone, new Promise<string>((resolve) => setTimeout(() => resolve('still connected after 3 s'), 3000))]);
    expect(outcome).toBe('io server disconnect');
    // Its page is signed out at once too, not after the account cache's lifetime.
    expect((await browser.getJson('/api/v1/session')).json.actor.kind).toBe('anonymous');
  });
});
