// Organizing units and organizer accounts: an administrator invites organizers of a unit, who
// see and change only their unit's meetings; disabling or resetting an account ends its sessions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { addUnit } from '../../server/units/actions.js';
import { UserModel } from '../../server/accounts/model.js';
import { MeetingModel } from '../../server/meetings/model.js';

let app: TestApp;
let admin: HttpClient;
const units = { science: '', education: '' };
const meetings = { science: '', education: '' };

const meetingInput = (title: string, unitId: string) => ({ title, unitId, start: '2027-01-15T08:00', end: '2027-01-15T11:00', timeZone: 'Asia/Ho_Chi_Minh' });

/** An organizer of `unitId`, invited by the administrator through the page, with their password set through the link. */
async function invitedOrganizer(email: string, unitId: string): Promise<HttpClient> {
  const page = await admin.postForm('/admin/accounts', { name: `Cán bộ ${email}`, email, role: 'organizer', unitId, password: '' });
  expect(page.status).toBe(200);
  const link = /value="(http[^"]+\/invite\/[^"]+)"/.exec(page.text)?.[1];
  expect(link).toBeDefined();
  const path = new URL(link!).pathname;
  const person = app.newClient();
  const form = await person.get(path);
  expect(form.status).toBe(200);
  expect(form.text).toContain(email);
  const accepted = await person.postForm(path, { password: 'a password of the unit' });
  expect(accepted.status).toBe(303);
  expect(accepted.location).toBe('/meetings');
  person.forgetCsrfToken();
  return person;
}

beforeAll(async () => {
  app = await startTestApp();
  admin = await app.signInOrganizer();
  units.science = String((await addUnit(app.organizer, { name: 'Sở Khoa học và Công nghệ' }))._id);
  units.education = String((await addUnit(app.organizer, { name: 'Sở Giáo dục và Đào tạo' }))._id);
  meetings.science = String((await createMeeting(app.organizer, meetingInput('Hội nghị KH&CN', units.science)))._id);
  meetings.education = String((await createMeeting(app.organizer, meetingInput('Hội nghị ngành Giáo dục', units.education)))._id);
});
afterAll(async () => {
  await app?.stop();
});

describe('organizing units', () => {
  it('an organizer sees only their unit’s meetings in the list', async () => {
    const science = await invitedOrganizer('khcn@example.vn', units.science);
    const list = await science.getJson('/api/v1/meetings?tab=upcoming');
    expect(list.status).toBe(200);
    expect(list.json.items.map((m: { id: string }) => m.id)).toEqual([meetings.science]);
    const page = await science.get('/meetings');
    expect(page.text).toContain('Hội nghị KH&amp;CN');
    expect(page.text).not.toContain('Hội nghị ngành Giáo dục');
    // The administrator sees both.
    const all = await admin.getJson('/api/v1/meetings?tab=upcoming');
    expect(all.json.items.map((m: { id: string }) => m.id).sort()).toEqual([meetings.science, meetings.education].sort());
  });

  it('an organizer of one unit gets 404 on another unit’s meeting, page and API, and changes nothing', async () => {
    const science = await invitedOrganizer('khcn2@example.vn', units.science);
    const other = meetings.education;
    expect((await science.get(`/meetings/${other}`)).status).toBe(404);
    expect((await science.get(`/meetings/${other}/edit`)).status).toBe(404);
    expect((await science.get(`/meetings/${other}/attendees`)).status).toBe(404);
    expect((await science.get(`/meetings/${other}/sites`)).status).toBe(404);
    expect((await science.get(`/meetings/${other}/agenda`)).status).toBe(404);
    expect((await science.getJson(`/api/v1/meetings/${other}`)).status).toBe(404);
    expect((await science.getJson(`/api/v1/meetings/${other}/dashboard`)).status).toBe(404);
    expect((await science.getJson(`/api/v1/meetings/${other}/attendees`)).status).toBe(404);
    const before = await MeetingModel.findById(other).lean();
    expect((await science.json('PATCH', `/api/v1/meetings/${other}`, { title: 'Đổi tên' })).status).toBe(404);
    expect((await science.json('POST', `/api/v1/meetings/${other}/sites`, { name: 'Điểm cầu lạ' })).status).toBe(404);
    expect((await science.json('POST', `/api/v1/meetings/${other}/attendees`, { fullName: 'Người lạ' })).status).toBe(404);
    expect((await science.json('POST', `/api/v1/meetings/${other}/status`, { action: 'schedule' })).status).toBe(404);
    const after = await MeetingModel.findById(other).lean();
    expect(after?.title).toBe(before?.title);
    expect(after?.revision).toBe(before?.revision);
    // Their own unit's meeting works.
    expect((await science.getJson(`/api/v1/meetings/${meetings.science}`)).status).toBe(200);
    expect((await science.json('POST', `/api/v1/meetings/${meetings.science}/sites`, { name: 'Văn phòng Sở' })).status).toBe(201);
  });

  it('another unit’s meeting is 404 on the day’s screens, the live snapshot, one attendee’s API, imports and duplicate', async () => {
    const science = await invitedOrganizer('khcn-review@example.vn', units.science);
    const other = meetings.education;
    const site = String((await addSite(app.organizer, { meetingId: other, name: 'Điểm cầu Giáo dục (rà soát)' }))._id);
    const attendee = await createAttendee(app.organizer, { meetingId: other, siteId: site, fullName: 'Trần Văn Bí Mật', email: 'bimat@example.vn', phone: '0901234567' });
    for (const path of [`/meetings/${other}/live`, `/meetings/${other}/chair`, `/meetings/${other}/wall`, `/meetings/${other}/sites/${site}/wall`, `/meetings/${other}/sites/${site}/checkin`, `/meetings/${other}/attendees/import`]) {
      expect((await science.get(path)).status, path).toBe(404);
    }
    for (const path of [`/api/v1/meetings/${other}/live`, `/api/v1/meetings/${other}/attendees/${attendee.id}`]) {
      const response = await science.getJson(path);
      expect(response.status, path).toBe(404);
      expect(response.text).not.toContain('bimat@example.vn');
    }
    const count = await MeetingModel.countDocuments({});
    const duplicated = await science.json('POST', `/api/v1/meetings/${other}/duplicate`, { copyAttendees: true });
    expect(duplicated.status).toBe(404);
    expect(await MeetingModel.countDocuments({})).toBe(count);
  });

  it('an organizer’s live screen cannot join another unit’s meeting (the socket is told it does not exist)', async () => {
    const science = await invitedOrganizer('khcn-live@example.vn', units.science);
    const socket = connect(app.baseUrl, { transports: ['websocket'], extraHeaders: { cookie: science.cookieHeader() }, reconnection: false });
    try {
      const other = await socket.timeout(5000).emitWithAck('meeting:join', { meetingId: meetings.education });
      expect(other).toMatchObject({ ok: false, error: { code: 'not_found' } });
      const own = await socket.timeout(5000).emitWithAck('meeting:join', { meetingId: meetings.science });
      expect(own).toMatchObject({ ok: true, meetingId: meetings.science });
    } finally {
      socket.disconnect();
    }
  });

  it('an organizer of another unit gets 404 on the day’s screens, the live snapshot and its commands', async () => {
    const science = await invitedOrganizer('khcn-day@example.vn', units.science);
    const other = meetings.education;
    const site = await addSite(app.organizer, { meetingId: other, name: 'Điểm cầu Giáo dục', isMain: true });
    const siteId = String(site._id);
    for (const path of [`/meetings/${other}/live`, `/meetings/${other}/chair`, `/meetings/${other}/wall`, `/meetings/${other}/sites/${siteId}/wall`, `/meetings/${other}/sites/${siteId}/checkin`]) {
      expect((await science.get(path)).status, path).toBe(404);
    }
    expect((await science.getJson(`/api/v1/meetings/${other}/live`)).status).toBe(404);
    const code = await science.json('POST', `/api/v1/meetings/${other}/live/commands/site:checkInCode`, { siteId });
    expect(code.status).toBe(404);
    expect(JSON.stringify(code.json)).not.toMatch(/"code":"\d{6}"/);
    const socket = connect(app.baseUrl, { transports: ['websocket'], extraHeaders: { cookie: science.cookieHeader() }, reconnection: false });
    try {
      expect(await socket.timeout(5000).emitWithAck('live:snapshot', { meetingId: other })).toMatchObject({ ok: false, error: { code: 'not_found' } });
      expect(await socket.timeout(5000).emitWithAck('site:checkInCode', { meetingId: other, siteId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    } finally {
      socket.disconnect();
    }
    // Their own unit's snapshot works.
    expect((await science.getJson(`/api/v1/meetings/${meetings.science}/live`)).status).toBe(200);
  });

  it('a meeting an organizer creates belongs to their unit; they cannot place it in another', async () => {
    const education = await invitedOrganizer('gd@example.vn', units.education);
    const created = await education.json('POST', '/api/v1/meetings', { ...meetingInput('Họp giao ban ngành Giáo dục', units.science) });
    expect(created.status).toBe(201);
    const stored = await MeetingModel.findById(created.json.id).lean();
    expect(String(stored?.unitId)).toBe(units.education);
    expect(stored?.organizingUnit).toBe('Sở Giáo dục và Đào tạo');
  });

  it('an administrator adds and renames units; others may not', async () => {
    const added = await admin.json('POST', '/api/v1/units', { name: 'Sở Y tế' });
    expect(added.status).toBe(201);
    const duplicate = await admin.json('POST', '/api/v1/units', { name: 'sở y tế' });
    expect(duplicate.status).toBe(422);
    expect(duplicate.json.error.fields.name).toContain('Sở Y tế');
    const organizer = await invitedOrganizer('yte@example.vn', added.json.unit.id);
    expect((await organizer.json('POST', '/api/v1/units', { name: 'Sở Tài chính' })).status).toBe(403);
    expect((await organizer.get('/admin/accounts')).status).toBe(403);
    expect((await organizer.getJson('/api/v1/accounts')).status).toBe(403);
  });
});

describe('organizer accounts', () => {
  it('an invitation link works once, and an organizer must belong to a unit', async () => {
    const noUnit = await admin.json('POST', '/api/v1/accounts', { name: 'Không đơn vị', email: 'nounit@example.vn', role: 'organizer' });
    expect(noUnit.status).toBe(422);
    expect(noUnit.json.error.fields.unitId).toBe('Hãy chọn đơn vị tổ chức.');
    const invited = await admin.json('POST', '/api/v1/accounts', { name: 'Một lần', email: 'once@example.vn', role: 'organizer', unitId: units.science });
    expect(invited.status).toBe(201);
    expect(invited.json.account.status).toBe('invited');
    const path = new URL(invited.json.invitationUrl).pathname;
    // Before choosing a password, signing in is refused like any wrong password.
    expect((await app.newClient().signIn('once@example.vn', '')).status).toBe(401);
    const first = app.newClient();
    expect((await first.postForm(path, { password: 'short' })).status).toBe(422);
    expect((await first.postForm(path, { password: 'the chosen password' })).status).toBe(303);
    const second = app.newClient();
    expect((await second.get(path)).status).toBe(404);
    expect((await second.postForm(path, { password: 'someone else tries' })).status).toBe(404);
    expect((await app.newClient().signIn('once@example.vn', 'the chosen password')).status).toBe(303);
    expect((await app.newClient().signIn('once@example.vn', 'someone else tries')).status).toBe(401);
  });

  it('disabling an account ends its sessions at once and refuses sign-in; enabling lets it back', async () => {
    const person = await invitedOrganizer('disable-me@example.vn', units.science);
    expect((await person.getJson('/api/v1/meetings')).status).toBe(200);
    const user = await UserModel.findOne({ email: 'disable-me@example.vn' }).lean();
    const disabled = await admin.postForm(`/admin/accounts/${user!._id}/disable`, {});
    expect(disabled.status).toBe(303);
    expect((await person.getJson('/api/v1/meetings')).status).toBe(401);
    const refused = await app.newClient().signIn('disable-me@example.vn', 'a password of the unit');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Tài khoản này đã bị khóa.');
    expect((await admin.postForm(`/admin/accounts/${user!._id}/enable`, {})).status).toBe(303);
    // Enabling does not revive the old session: the person signs in again.
    expect((await person.getJson('/api/v1/meetings')).status).toBe(401);
    expect((await app.newClient().signIn('disable-me@example.vn', 'a password of the unit')).status).toBe(303);
  });

  it('resetting access ends the sessions, voids the password and gives a new one-time link', async () => {
    const person = await invitedOrganizer('reset-me@example.vn', units.science);
    const user = await UserModel.findOne({ email: 'reset-me@example.vn' }).lean();
    const reset = await admin.json('POST', `/api/v1/accounts/${user!._id}/reset`);
    expect(reset.status).toBe(200);
    expect((await person.getJson('/api/v1/meetings')).status).toBe(401);
    expect((await app.newClient().signIn('reset-me@example.vn', 'a password of the unit')).status).toBe(401);
    const path = new URL(reset.json.invitationUrl).pathname;
    expect((await app.newClient().postForm(path, { password: 'a brand new password' })).status).toBe(303);
    expect((await app.newClient().signIn('reset-me@example.vn', 'a brand new password')).status).toBe(303);
  });

  it('the last administrator cannot be disabled or demoted, nor can one disable oneself', async () => {
    const self = await UserModel.findOne({ role: 'admin' }).lean();
    const own = await admin.json('PATCH', `/api/v1/accounts/${self!._id}`, { disabled: true });
    expect(own.status).toBe(409);
    expect(own.json.error.message).toBe('Bạn không thể tự khóa tài khoản của mình.');
    const demote = await admin.json('PATCH', `/api/v1/accounts/${self!._id}`, { role: 'organizer', unitId: units.science });
    expect(demote.status).toBe(409);
    expect(demote.json.error.message).toBe('Phải còn ít nhất một quản trị viên đang hoạt động.');
    expect((await UserModel.findById(self!._id).lean())?.role).toBe('admin');
  });

  it('a PATCH whose disabled is not true or false is refused whole: "true" as a string does not enable the account it meant to disable', async () => {
    await invitedOrganizer('careless@example.vn', units.science);
    const user = await UserModel.findOne({ email: 'careless@example.vn' }).lean();
    expect((await admin.json('PATCH', `/api/v1/accounts/${user!._id}`, { disabled: true })).status).toBe(200);

    const asText = await admin.json('PATCH', `/api/v1/accounts/${user!._id}`, { disabled: 'true' });
    expect(asText.status).toBe(422);
    expect(asText.json.error.fields.disabled).toBe('Trạng thái khóa phải là true hoặc false.');
    // Refused together with a bad role: nothing of the request is applied.
    const withBadRole = await admin.json('PATCH', `/api/v1/accounts/${user!._id}`, { disabled: 0, role: 'superuser' });
    expect(withBadRole.status).toBe(422);
    expect((await UserModel.findById(user!._id).lean())?.disabled).toBe(true);
    expect((await app.newClient().signIn('careless@example.vn', 'a password of the unit')).status).toBe(403);

    const enabled = await admin.json('PATCH', `/api/v1/accounts/${user!._id}`, { disabled: false, name: 'Cán bộ cẩn thận' });
    expect(enabled.status).toBe(200);
    expect(enabled.json.account).toMatchObject({ status: 'active', name: 'Cán bộ cẩn thận' });
  });

  it('moving an organizer to another unit changes what they see at once', async () => {
    const person = await invitedOrganizer('mover@example.vn', units.science);
    const user = await UserModel.findOne({ email: 'mover@example.vn' }).lean();
    expect((await person.getJson(`/api/v1/meetings/${meetings.science}`)).status).toBe(200);
    expect((await admin.json('PATCH', `/api/v1/accounts/${user!._id}`, { unitId: units.education })).status).toBe(200);
    // The session signed in for the old unit ended; signing in again shows the new unit.
    expect((await person.getJson(`/api/v1/meetings/${meetings.science}`)).status).toBe(401);
    const again = app.newClient();
    expect((await again.signIn('mover@example.vn', 'a password of the unit')).status).toBe(303);
    expect((await again.getJson(`/api/v1/meetings/${meetings.science}`)).status).toBe(404);
    expect((await again.getJson(`/api/v1/meetings/${meetings.education}`)).status).toBe(200);
  });
});

describe('the administrators’ pages', () => {
  it('lists accounts with role, unit and status, in English too', async () => {
    await addSite(app.organizer, { meetingId: meetings.science, name: 'Văn phòng UBND Tỉnh', isMain: true });
    const page = await admin.get('/admin/accounts?lang=en');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Organizer accounts');
    expect(page.text).toContain('khcn@example.vn');
    expect(page.text).toContain('Sở Khoa học và Công nghệ');
    const units = await admin.get('/admin/units');
    expect(units.text).toContain('Sở Giáo dục và Đào tạo');
  });
});
