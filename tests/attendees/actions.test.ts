// Building the attendee list of a review conference through the actions, on a real embedded
// store: unique emails per meeting, search without diacritics, pagination done by the database,
// and who may see or change whom.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDatabase } from '../helpers/database.js';
import { newConference, organizer, rejection, type Conference } from './fixtures.js';
import type { DatabaseHandle } from '../../server/database.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { createAttendee, moveAttendeeToSite, removeAttendee, rotateAccessToken, updateAttendee } from '../../server/attendees/actions.js';
import { getAttendee, listAttendees, listOrganizations, myHome } from '../../server/attendees/queries.js';
import { AppError } from '../../server/lib/errors.js';
import { toErrorBody } from '../../server/lib/http.js';
import { setMeetingStatus } from '../../server/meetings/actions.js';
import { subscribe, type DomainEvent } from '../../server/lib/events.js';
import type { Actor } from '../../server/lib/actor.js';

let database: DatabaseHandle;
beforeAll(async () => {
  database = await connectTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe('adding people to the list', () => {
  it('adds an attendee to the main site by default, bumps the revision and announces it', async () => {
    const { meetingId, mainSiteId } = await newConference();
    const before = (await MeetingModel.findById(meetingId).lean())!.revision;
    const events: DomainEvent[] = [];
    const stop = subscribe((event) => events.push(event));
    const created = await createAttendee(organizer, {
      meetingId,
      fullName: '  Nguyễn Văn An ',
      position: 'Giám đốc',
      organization: 'Sở Khoa học và Công nghệ',
      email: 'An.Nguyen@Example.vn',
      phone: '0912 345 678',
    });
    stop();
    expect(created).toMatchObject({ fullName: 'Nguyễn Văn An', email: 'an.nguyen@example.vn', siteId: mainSiteId, role: 'delegate' });
    expect(created.accessToken).toMatch(/^[\w-]{20,}$/);
    const after = (await MeetingModel.findById(meetingId).lean())!.revision;
    expect(after).toBe(before + 1);
    expect(events).toEqual([expect.objectContaining({ type: 'attendee.created', meetingId, revision: after, siteId: mainSiteId })]);
    expect(JSON.stringify(events[0].payload)).not.toContain(created.accessToken!);
  });

  it('refuses a second attendee with the same email in the meeting, with a message on the email field', async () => {
    const { meetingId } = await newConference();
    await createAttendee(organizer, { meetingId, fullName: 'Trần Thị Bình', email: 'binh@example.vn' });
    const error = await rejection(createAttendee(organizer, { meetingId, fullName: 'Trần Bình', email: 'BINH@example.vn' }));
    expect(error.status).toBe(422);
    expect(toErrorBody(error, 'vi').error.fields).toEqual({ email: 'Không thể dùng địa chỉ email binh@example.vn cho đại biểu này. Vui lòng nhập địa chỉ khác.' });
    expect(toErrorBody(error, 'en').error.fields?.email).toBe('The email address binh@example.vn cannot be used for this attendee. Please enter another address.');
    // Another meeting may invite the same person.
    const other = await newConference();
    await expect(createAttendee(organizer, { meetingId: other.meetingId, fullName: 'Trần Thị Bình', email: 'binh@example.vn' })).resolves.toBeTruthy();
  });

  it('turns the unique index refusal of two simultaneous adds into a field message, never a server error', async () => {
    const { meetingId } = await newConference();
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, (_, index) => createAttendee(organizer, { meetingId, fullName: `Lê Văn Cường ${index}`, email: 'cuong@example.vn' })),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((result) => result.status === 'rejected')) {
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(AppError);
      expect(reason.status).toBe(422);
      expect(Object.keys(reason.fields)).toEqual(['email']);
    }
    expect(await AttendeeModel.countDocuments({ meetingId, email: 'cuong@example.vn' })).toBe(1);
  });

  it('allows any number of attendees without email', async () => {
    const { meetingId } = await newConference();
    await createAttendee(organizer, { meetingId, fullName: 'Phạm Văn Dũng', email: '' });
    await createAttendee(organizer, { meetingId, fullName: 'Phạm Thị Hoa' });
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(2);
  });

  it('validates every field in the user language and saves nothing', async () => {
    const { meetingId } = await newConference();
    const error = await rejection(createAttendee(organizer, { meetingId, fullName: ' ', email: 'not-an-email', phone: 'gọi tôi', role: 'boss' }));
    const fields = toErrorBody(error, 'vi').error.fields!;
    expect(fields.fullName).toBe('Vui lòng nhập họ và tên.');
    expect(fields.email).toContain('Email không hợp lệ');
    expect(fields.phone).toContain('Số điện thoại không hợp lệ');
    expect(fields.role).toBe('Vai trò không hợp lệ.');
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(0);
  });

  it('refuses a site of another meeting', async () => {
    const first = await newConference();
    const second = await newConference();
    const error = await rejection(createAttendee(organizer, { meetingId: first.meetingId, fullName: 'Võ Văn Em', siteId: second.mainSiteId }));
    expect(error.status).toBe(422);
    expect(toErrorBody(error, 'en').error.fields).toEqual({ siteId: 'This bridge point does not belong to the meeting.' });
  });
});

describe('editing', () => {
  it('edits one field inline, clears an email, and moves an attendee to another site', async () => {
    const { meetingId, siteIds } = await newConference();
    const created = await createAttendee(organizer, { meetingId, fullName: 'Đặng Văn Phúc', email: 'phuc@example.vn', organization: 'UBND huyện Lấp Vò' });
    const renamed = await updateAttendee(organizer, { meetingId, attendeeId: created.id, position: 'Phó Chủ tịch' });
    expect(renamed).toMatchObject({ position: 'Phó Chủ tịch', fullName: 'Đặng Văn Phúc', email: 'phuc@example.vn' });
    const cleared = await updateAttendee(organizer, { meetingId, attendeeId: created.id, email: '' });
    expect(cleared.email).toBe('');
    expect((await AttendeeModel.findById(created.id).lean())!.email).toBeUndefined();
    const moved = await moveAttendeeToSite(organizer, { meetingId, attendeeId: created.id, siteId: siteIds['Huyện Lấp Vò'] });
    expect(moved.siteId).toBe(siteIds['Huyện Lấp Vò']);
    // Search text follows the edits.
    const found = await listAttendees(organizer, meetingId, { q: 'pho chu tich' });
    expect(found.items.map((item) => item.fullName)).toEqual(['Đặng Văn Phúc']);
  });

  it('tells the site a person left that they left, without their contacts, and the new site everything', async () => {
    const { meetingId, siteIds } = await newConference();
    const created = await createAttendee(organizer, { meetingId, fullName: 'Châu Văn Liêm', email: 'liem@example.vn', phone: '0912000111', siteId: siteIds['Huyện Lai Vung'] });
    const events: DomainEvent[] = [];
    const stop = subscribe((event) => events.push(event));
    await moveAttendeeToSite(organizer, { meetingId, attendeeId: created.id, siteId: siteIds['Huyện Châu Thành'] });
    stop();
    expect(events.map((event) => [event.type, event.siteId])).toEqual([
      ['attendee.updated', siteIds['Huyện Châu Thành']],
      ['attendee.moved', siteIds['Huyện Lai Vung']],
    ]);
    expect(events[0].revision).toBe(events[1].revision);
    expect(JSON.stringify(events[1].payload)).not.toContain('0912000111');
  });

  it('refuses to take an email already used by someone else', async () => {
    const { meetingId } = await newConference();
    await createAttendee(organizer, { meetingId, fullName: 'Huỳnh Văn Giang', email: 'giang@example.vn' });
    const other = await createAttendee(organizer, { meetingId, fullName: 'Huỳnh Thị Hạnh', email: 'hanh@example.vn' });
    const error = await rejection(updateAttendee(organizer, { meetingId, attendeeId: other.id, email: 'giang@example.vn' }));
    expect(Object.keys(error.fields)).toEqual(['email']);
  });

  it('removes an attendee and rotates a personal link', async () => {
    const { meetingId } = await newConference();
    const created = await createAttendee(organizer, { meetingId, fullName: 'Bùi Văn Khoa' });
    const rotated = await rotateAccessToken(organizer, { meetingId, attendeeId: created.id });
    expect(rotated.accessToken).not.toBe(created.accessToken);
    await removeAttendee(organizer, { meetingId, attendeeId: created.id });
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(0);
    expect((await rejection(getAttendee(organizer, meetingId, created.id))).status).toBe(404);
  });
});

describe('the table: search, filters and pagination by the database', () => {
  let conference: Conference;
  beforeAll(async () => {
    conference = await newConference();
    const { meetingId, siteIds, mainSiteId } = conference;
    await createAttendee(organizer, { meetingId, fullName: 'Nguyễn Văn Ánh', organization: 'Sở Khoa học và Công nghệ', role: 'speaker' });
    await createAttendee(organizer, { meetingId, fullName: 'Đỗ Thị Nguyên', organization: 'UBND TP Sa Đéc', siteId: siteIds['Thành phố Sa Đéc'] });
    await createAttendee(organizer, { meetingId, fullName: 'Trương Văn Nguyễn', organization: 'UBND huyện Tháp Mười', siteId: siteIds['Huyện Tháp Mười'] });
    // Bulk of the list, written directly: this describes the table, not the add action.
    await AttendeeModel.insertMany(
      Array.from({ length: 57 }, (_, index) => ({
        meetingId,
        fullName: `Lê Thị Mục ${String(index).padStart(2, '0')}`,
        organization: index % 2 ? 'Sở Tài chính' : 'Sở Y tế',
        siteId: index % 3 ? mainSiteId : siteIds['Huyện Tháp Mười'],
      })),
    );
  });

  it('finds "Nguyễn Văn" when typed "nguyen van" without diacritics', async () => {
    const page = await listAttendees(organizer, conference.meetingId, { q: 'nguyen van' });
    expect(page.items.map((item) => item.fullName)).toEqual(['Nguyễn Văn Ánh', 'Trương Văn Nguyễn']);
    expect(page.total).toBe(2);
    const typed = await listAttendees(organizer, conference.meetingId, { q: 'NGUYỄN văn ánh' });
    expect(typed.items.map((item) => item.fullName)).toEqual(['Nguyễn Văn Ánh']);
    const dotted = await listAttendees(organizer, conference.meetingId, { q: 'do thi (' });
    expect(dotted.total).toBe(0);
  });

  it('sorts by name ignoring diacritics, so "Đỗ" comes with the D names', async () => {
    const page = await listAttendees(organizer, conference.meetingId, { pageSize: 3 });
    expect(page.items.map((item) => item.fullName)).toEqual(['Đỗ Thị Nguyên', 'Lê Thị Mục 00', 'Lê Thị Mục 01']);
  });

  it('pages through 60 attendees 25 at a time with the total counted', async () => {
    const first = await listAttendees(organizer, conference.meetingId, { pageSize: '25' });
    expect(first).toMatchObject({ total: 60, page: 1, pageCount: 3 });
    expect(first.items).toHaveLength(25);
    const last = await listAttendees(organizer, conference.meetingId, { pageSize: '25', page: '3' });
    expect(last.items).toHaveLength(10);
    const names = new Set([...first.items, ...last.items].map((item) => item.id));
    expect(names.size).toBe(35);
    const nonsense = await listAttendees(organizer, conference.meetingId, { page: 'abc', pageSize: '-4' });
    expect(nonsense).toMatchObject({ page: 1, pageSize: 50 });
  });

  it('counts again after every change, even when the page looks the same', async () => {
    const { meetingId } = await newConference();
    for (const name of ['Âu Văn Một', 'Âu Văn Hai', 'Âu Văn Ba']) await createAttendee(organizer, { meetingId, fullName: name });
    expect((await listAttendees(organizer, meetingId, { pageSize: 2 })).total).toBe(3);
    const added = await createAttendee(organizer, { meetingId, fullName: 'Âu Văn Bốn' });
    expect((await listAttendees(organizer, meetingId, { pageSize: 2 })).total).toBe(4);
    await removeAttendee(organizer, { meetingId, attendeeId: added.id });
    expect((await listAttendees(organizer, meetingId, { pageSize: 2 })).total).toBe(3);
  });

  it('filters by site, organization and role, and lists the organizations', async () => {
    const { meetingId, siteIds } = conference;
    const bySite = await listAttendees(organizer, meetingId, { siteId: siteIds['Huyện Tháp Mười'] });
    expect(bySite.total).toBe(1 + 19);
    const byOrganization = await listAttendees(organizer, meetingId, { organization: 'Sở Y tế' });
    expect(byOrganization.total).toBe(29);
    const byRole = await listAttendees(organizer, meetingId, { role: 'speaker' });
    expect(byRole.items.map((item) => item.fullName)).toEqual(['Nguyễn Văn Ánh']);
    expect(await listOrganizations(organizer, meetingId)).toEqual(['Sở Khoa học và Công nghệ', 'Sở Tài chính', 'Sở Y tế', 'UBND huyện Tháp Mười', 'UBND TP Sa Đéc']);
  });
});

describe('who may see and change whom', () => {
  let conference: Conference;
  let coordinatorSaDec: Actor;
  let atSaDec: string;
  let atThapMuoi: string;
  let attendee: Actor;
  beforeAll(async () => {
    conference = await newConference();
    const { meetingId, siteIds } = conference;
    coordinatorSaDec = { kind: 'coordinator', meetingId, siteId: siteIds['Thành phố Sa Đéc'], name: 'Điều phối Sa Đéc' };
    atSaDec = (await createAttendee(organizer, { meetingId, fullName: 'Ngô Văn Lâm', email: 'lam@example.vn', phone: '0911111111', siteId: siteIds['Thành phố Sa Đéc'] })).id;
    atThapMuoi = (await createAttendee(organizer, { meetingId, fullName: 'Ngô Thị Mai', email: 'mai@example.vn', phone: '0922222222', siteId: siteIds['Huyện Tháp Mười'] })).id;
    attendee = { kind: 'attendee', meetingId, attendeeId: atSaDec, name: 'Ngô Văn Lâm' };
  });

  it('a district coordinator cannot make anyone chair, nor demote the chair', async () => {
    const { meetingId, siteIds } = conference;
    const promote = await rejection(updateAttendee(coordinatorSaDec, { meetingId, attendeeId: atSaDec, role: 'chair' }));
    expect(promote.status).toBe(403);
    expect(toErrorBody(promote, 'vi').error.message).toBe('Chỉ ban tổ chức mới được giao hoặc bỏ vai trò chủ trì.');
    expect((await rejection(createAttendee(coordinatorSaDec, { meetingId, fullName: 'Chủ trì giả', role: 'chair' }))).status).toBe(403);

    const chair = await createAttendee(organizer, { meetingId, fullName: 'Huỳnh Minh Tuấn', role: 'chair', siteId: siteIds['Thành phố Sa Đéc'] });
    expect((await rejection(updateAttendee(coordinatorSaDec, { meetingId, attendeeId: chair.id, role: 'delegate' }))).status).toBe(403);
    expect((await AttendeeModel.findById(atSaDec).lean())!.role).toBe('delegate');
    expect((await AttendeeModel.findById(chair.id).lean())!.role).toBe('chair');
    // Other roles stay theirs to set.
    expect((await updateAttendee(coordinatorSaDec, { meetingId, attendeeId: atSaDec, role: 'speaker' })).role).toBe('speaker');
    // Leave the shared list as the other stories expect it.
    await updateAttendee(organizer, { meetingId, attendeeId: atSaDec, role: 'delegate' });
    await removeAttendee(organizer, { meetingId, attendeeId: chair.id });
  });

  it("a district coordinator cannot change the chair's e-mail: the next invitation would bring them the chair's personal link", async () => {
    const { meetingId, siteIds } = conference;
    const chair = await createAttendee(organizer, { meetingId, fullName: 'Huỳnh Minh Tuấn', role: 'chair', email: 'tuan@example.vn', siteId: siteIds['Thành phố Sa Đéc'] });

    const redirected = await rejection(updateAttendee(coordinatorSaDec, { meetingId, attendeeId: chair.id, email: 'dieu-phoi-sa-dec@example.vn' }));
    expect(redirected.status).toBe(403);
    expect(toErrorBody(redirected, 'vi').error.message).toBe('Chỉ ban tổ chức mới được đổi email của người chủ trì: liên kết cá nhân của họ được gửi tới địa chỉ này.');
    expect((await rejection(updateAttendee(coordinatorSaDec, { meetingId, attendeeId: chair.id, email: '' }))).status).toBe(403);
    expect((await AttendeeModel.findById(chair.id).lean())!.email).toBe('tuan@example.vn');
    // The rest of the chair's details, and everyone else's e-mail, stay the coordinator's to keep up.
    expect((await updateAttendee(coordinatorSaDec, { meetingId, attendeeId: chair.id, phone: '0913 200 100' })).phone).toBe('0913 200 100');
    // The edit form sends every field: the chair's address as it is, with a new phone, is no change of address.
    const whole = await updateAttendee(coordinatorSaDec, { meetingId, attendeeId: chair.id, fullName: 'Huỳnh Minh Tuấn', email: 'tuan@example.vn', phone: '0913 200 101' });
    expect({ email: whole.email, phone: whole.phone }).toEqual({ email: 'tuan@example.vn', phone: '0913 200 101' });
    expect((await updateAttendee(coordinatorSaDec, { meetingId, attendeeId: atSaDec, email: 'lam.ngo@example.vn' })).email).toBe('lam.ngo@example.vn');
    // The organizers can.
    expect((await updateAttendee(organizer, { meetingId, attendeeId: chair.id, email: 'tuan.huynh@example.vn' })).email).toBe('tuan.huynh@example.vn');
    // Leave the shared list as the other stories expect it.
    await updateAttendee(organizer, { meetingId, attendeeId: atSaDec, email: 'lam@example.vn' });
    await removeAttendee(organizer, { meetingId, attendeeId: chair.id });
  });

  it("a district coordinator lists only their own site's attendees, and cannot ask for another site", async () => {
    const own = await listAttendees(coordinatorSaDec, conference.meetingId, {});
    expect(own.items.map((item) => item.fullName)).toEqual(['Ngô Văn Lâm']);
    expect(own.items[0].phone).toBe('0911111111');
    expect(own.items[0].accessToken).toBeUndefined();
    const other = await rejection(listAttendees(coordinatorSaDec, conference.meetingId, { siteId: conference.siteIds['Huyện Tháp Mười'] }));
    expect(other.status).toBe(403);
    expect((await rejection(getAttendee(coordinatorSaDec, conference.meetingId, atThapMuoi))).status).toBe(403);
  });

  it('a coordinator adds people to their own site only and edits only their own people', async () => {
    const { meetingId, siteIds } = conference;
    const added = await createAttendee(coordinatorSaDec, { meetingId, fullName: 'Phan Văn Nam' });
    expect(added.siteId).toBe(siteIds['Thành phố Sa Đéc']);
    const elsewhere = await rejection(createAttendee(coordinatorSaDec, { meetingId, fullName: 'Phan Thị Oanh', siteId: siteIds['Huyện Tháp Mười'] }));
    expect(toErrorBody(elsewhere, 'vi').error.fields?.siteId).toBe('Bạn chỉ được thêm hoặc chuyển đại biểu vào điểm cầu của mình.');
    await expect(updateAttendee(coordinatorSaDec, { meetingId, attendeeId: added.id, position: 'Chuyên viên' })).resolves.toMatchObject({ position: 'Chuyên viên' });
    expect((await rejection(updateAttendee(coordinatorSaDec, { meetingId, attendeeId: atThapMuoi, phone: '0900000000' }))).status).toBe(403);
    expect((await rejection(removeAttendee(coordinatorSaDec, { meetingId, attendeeId: atThapMuoi }))).status).toBe(403);
    expect((await rejection(updateAttendee(coordinatorSaDec, { meetingId, attendeeId: added.id, siteId: siteIds['Huyện Tháp Mười'] }))).status).toBe(422);
    expect((await AttendeeModel.findById(atThapMuoi).lean())!.phone).toBe('0922222222');
  });

  it('an attendee sees only themselves and may correct only their own phone number', async () => {
    const { meetingId } = conference;
    const list = await listAttendees(attendee, meetingId, {});
    expect(list.items.map((item) => item.fullName)).toEqual(['Ngô Văn Lâm']);
    expect((await rejection(getAttendee(attendee, meetingId, atThapMuoi))).status).toBe(403);
    expect((await rejection(updateAttendee(attendee, { meetingId, attendeeId: atThapMuoi, phone: '0933333333' }))).status).toBe(403);
    expect((await rejection(updateAttendee(attendee, { meetingId, attendeeId: atSaDec, fullName: 'Tên khác' }))).status).toBe(403);
    await expect(updateAttendee(attendee, { meetingId, attendeeId: atSaDec, phone: '0987 654 321' })).resolves.toMatchObject({ phone: '0987 654 321' });
    expect((await rejection(createAttendee(attendee, { meetingId, fullName: 'Người lạ' }))).status).toBe(403);
  });

  it('the chair reads everyone with contacts but changes nobody else', async () => {
    const { meetingId } = conference;
    const chair: Actor = { kind: 'chair', meetingId, attendeeId: atSaDec, name: 'Chủ trì' };
    const list = await listAttendees(chair, meetingId, {});
    expect(list.items.find((item) => item.id === atThapMuoi)?.email).toBe('mai@example.vn');
    expect((await rejection(updateAttendee(chair, { meetingId, attendeeId: atThapMuoi, position: 'x' }))).status).toBe(403);
  });

  it("someone from another meeting sees nothing of this one", async () => {
    const outsider: Actor = { kind: 'coordinator', meetingId: (await newConference()).meetingId, siteId: conference.mainSiteId, name: 'x' };
    expect((await rejection(listAttendees(outsider, conference.meetingId, {}))).status).toBe(403);
    expect((await rejection(listAttendees({ kind: 'anonymous' }, conference.meetingId, {}))).status).toBe(401);
  });

  it("the attendee's home shows their site and the meeting in its time zone", async () => {
    const home = await myHome(attendee);
    expect(home.attendee.fullName).toBe('Ngô Văn Lâm');
    expect(home.site?.name).toBe('Thành phố Sa Đéc');
    expect(home.meeting).toMatchObject({ timeZone: 'Asia/Ho_Chi_Minh', startsAt: new Date('2021-12-29T07:00:00Z') });
  });
});

describe('a cancelled meeting', () => {
  it('keeps its list of attendees read-only until it is reinstated', async () => {
    const { meetingId } = await newConference();
    const person = await createAttendee(organizer, { meetingId, fullName: 'Lê Văn Giữ Nguyên' });
    await setMeetingStatus(organizer, { meetingId, action: 'cancel' });
    const refusals = [
      createAttendee(organizer, { meetingId, fullName: 'Người đến muộn' }),
      updateAttendee(organizer, { meetingId, attendeeId: person.id, position: 'Đã đổi' }),
      removeAttendee(organizer, { meetingId, attendeeId: person.id }),
    ];
    for (const refusal of refusals) {
      const error = await rejection(refusal);
      expect(error.status).toBe(409);
      expect(toErrorBody(error, 'vi').error.message).toBe('Hội nghị đã bị hủy nên không thể thay đổi danh sách đại biểu. Hãy khôi phục hội nghị trước.');
    }
    expect(await AttendeeModel.countDocuments({ meetingId })).toBe(1);
    expect((await AttendeeModel.findById(person.id).lean())!.position).toBe('');
  });
});
