// Setting up the bridge points of a provincial review conference, through the actions on a real
// embedded store: one-click districts, the main site, who may see and change what.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDatabase, testUnit } from '../helpers/database.js';
import type { DatabaseHandle } from '../../server/database.js';
import { createMeeting, setMeetingStatus } from '../../server/meetings/actions.js';
import {
  addProvinceDistricts,
  addSite,
  moveSite,
  removeSite,
  reorderSites,
  rotateCoordinatorLink,
  setMainSite,
  updateSite,
} from '../../server/sites/actions.js';
import { getCoordinatorHome, getSite, listSites } from '../../server/sites/queries.js';
import { provinces } from '../../server/sites/provinces.js';
import { SiteModel } from '../../server/sites/model.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { AppError } from '../../server/lib/errors.js';
import { toErrorBody } from '../../server/lib/http.js';
import type { Actor } from '../../server/lib/actor.js';

const organizer: Actor = { kind: 'organizer', userId: 'u1', name: 'Nguyễn Thị Tổ Chức', isAdmin: false, unitId: testUnit.id };

const dongThapDistricts = [
  'Thành phố Cao Lãnh',
  'Thành phố Sa Đéc',
  'Thành phố Hồng Ngự',
  'Huyện Tân Hồng',
  'Huyện Hồng Ngự',
  'Huyện Tam Nông',
  'Huyện Thanh Bình',
  'Huyện Tháp Mười',
  'Huyện Cao Lãnh',
  'Huyện Lấp Vò',
  'Huyện Lai Vung',
  'Huyện Châu Thành',
];

let database: DatabaseHandle;
beforeAll(async () => {
  database = await connectTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

async function newMeeting(): Promise<string> {
  const meeting = await createMeeting(organizer, { title: 'Hội nghị Tổng kết hoạt động Khoa học và Công nghệ năm 2021', start: '2021-12-29T14:00', end: '2021-12-29T17:00' });
  return String(meeting._id);
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the action to be refused');
}

async function mainSites(meetingId: string) {
  return SiteModel.find({ meetingId, isMain: true }).lean();
}

describe("one click adds the province's districts", () => {
  it('ships the 12 district-level units of Đồng Tháp as data', () => {
    const dongThap = provinces.find((province) => province.name === 'Đồng Tháp')!;
    expect(dongThap.districts.map((district) => district.name)).toEqual(dongThapDistricts);
  });

  it('creates the main site and the 12 districts, and is idempotent', async () => {
    const meetingId = await newMeeting();
    const first = await addProvinceDistricts(organizer, { meetingId, provinceCode: '87' });
    expect(first.created).toHaveLength(13);
    expect(first.mainSite?.name).toBe('Văn phòng UBND Tỉnh');

    const sites = await listSites(organizer, meetingId);
    expect(sites.map((site) => site.name)).toEqual(['Văn phòng UBND Tỉnh', ...dongThapDistricts]);
    expect(sites.filter((site) => site.isMain).map((site) => site.name)).toEqual(['Văn phòng UBND Tỉnh']);
    expect(new Set(sites.map((site) => site.coordinatorToken)).size).toBe(13);

    const again = await addProvinceDistricts(organizer, { meetingId, provinceCode: '87' });
    expect(again.created).toHaveLength(0);
    expect(again.skipped).toBe(12);
    expect(await SiteModel.countDocuments({ meetingId })).toBe(13);
  });

  it('adds only the missing districts, recognising names typed without diacritics, and keeps an existing main site', async () => {
    const meetingId = await newMeeting();
    await addSite(organizer, { meetingId, name: 'Hội trường Sở KH&CN', isMain: 'on' });
    await addSite(organizer, { meetingId, name: 'huyen lap vo' });
    const result = await addProvinceDistricts(organizer, { meetingId, provinceCode: '87' });
    expect(result.created).toHaveLength(11);
    expect(result.mainSite).toBeUndefined();
    expect((await mainSites(meetingId)).map((site) => site.name)).toEqual(['Hội trường Sở KH&CN']);
  });

  it('two clicks at once still give 13 sites and one main site', async () => {
    const meetingId = await newMeeting();
    await Promise.all([addProvinceDistricts(organizer, { meetingId, provinceCode: '87' }), addProvinceDistricts(organizer, { meetingId, provinceCode: '87' })]);
    expect(await SiteModel.countDocuments({ meetingId })).toBe(13);
    expect(await mainSites(meetingId)).toHaveLength(1);
  });

  it('refuses an unknown province in the user’s language', async () => {
    const meetingId = await newMeeting();
    const error = await rejection(addProvinceDistricts(organizer, { meetingId, provinceCode: '99' }));
    expect(toErrorBody(error, 'vi').error.fields).toEqual({ provinceCode: 'Không có dữ liệu của tỉnh này.' });
    expect(toErrorBody(error, 'en').error.fields).toEqual({ provinceCode: 'There is no data for this province.' });
  });
});

describe('exactly one main site', () => {
  it('switching the main site never leaves two, even when many organizers click at once', async () => {
    const meetingId = await newMeeting();
    await addProvinceDistricts(organizer, { meetingId, provinceCode: '87' });
    const sites = await SiteModel.find({ meetingId }).lean();
    const candidates = sites.filter((site) => !site.isMain).slice(0, 6);
    const results = await Promise.all(candidates.map((site) => setMainSite(organizer, { meetingId, siteId: String(site._id) })));
    expect(results.every((site) => site.isMain)).toBe(true);
    const mains = await mainSites(meetingId);
    expect(mains).toHaveLength(1);
    expect(candidates.map((site) => String(site._id))).toContain(String(mains[0]._id));
  });

  it('the database itself refuses a second main site', async () => {
    const meetingId = await newMeeting();
    await addProvinceDistricts(organizer, { meetingId, provinceCode: '87' });
    const remote = await SiteModel.findOne({ meetingId, isMain: false });
    await expect(SiteModel.updateOne({ _id: remote!._id }, { $set: { isMain: true } })).rejects.toMatchObject({ code: 11000 });
  });

  it('the main site cannot be removed while other sites remain', async () => {
    const meetingId = await newMeeting();
    await addProvinceDistricts(organizer, { meetingId, provinceCode: '87' });
    const [main] = await mainSites(meetingId);
    const error = await rejection(removeSite(organizer, { meetingId, siteId: String(main._id) }));
    expect(error.status).toBe(409);
    expect(toErrorBody(error, 'vi').error.message).toMatch(/Không thể xóa điểm cầu chính/);
  });
});

describe('adding, editing, removing and ordering sites', () => {
  it('refuses a second site with the same name, with the message next to the name', async () => {
    const meetingId = await newMeeting();
    await addSite(organizer, { meetingId, name: 'Huyện Tân Hồng' });
    const error = await rejection(addSite(organizer, { meetingId, name: ' Huyện Tân Hồng ' }));
    expect(toErrorBody(error, 'vi').error.fields).toEqual({ name: 'Hội nghị đã có điểm cầu tên “Huyện Tân Hồng”.' });
    expect(toErrorBody(error, 'en').error.fields).toEqual({ name: 'This meeting already has a bridge point named “Huyện Tân Hồng”.' });
  });

  it('treats a name typed in other case or without diacritics as the same site', async () => {
    const meetingId = await newMeeting();
    const lapVo = await addSite(organizer, { meetingId, name: 'Huyện Lấp Vò' });
    await expect(addSite(organizer, { meetingId, name: 'huyện lấp vò' })).rejects.toMatchObject({ fields: { name: { key: 'site.name.taken' } } });
    await expect(addSite(organizer, { meetingId, name: 'HUYEN LAP VO' })).rejects.toMatchObject({ fields: { name: { key: 'site.name.taken' } } });
    const other = await addSite(organizer, { meetingId, name: 'Huyện Lai Vung' });
    await expect(updateSite(organizer, { meetingId, siteId: String(other._id), name: 'huyen lap vo' })).rejects.toMatchObject({ fields: { name: { key: 'site.name.taken' } } });
    // Fixing the case of a site's own name is not a clash with itself.
    expect((await updateSite(organizer, { meetingId, siteId: String(lapVo._id), name: 'Huyện Lấp Vò (điểm cầu huyện)' })).name).toBe('Huyện Lấp Vò (điểm cầu huyện)');
  });

  it('validates every field of a site', async () => {
    const meetingId = await newMeeting();
    const error = await rejection(addSite(organizer, { meetingId, name: '', expectedHeadcount: '-3', coordinatorPhone: 'gọi tôi', videoLink: { url: 'zoom.us/j/1' } }));
    expect(toErrorBody(error, 'vi').error.fields).toEqual({
      name: 'Vui lòng nhập tên điểm cầu.',
      expectedHeadcount: 'Số người dự kiến phải là số nguyên từ 0 đến 100000.',
      coordinatorPhone: 'Số điện thoại không hợp lệ.',
      'videoLink.url': 'Đường dẫn phải bắt đầu bằng http:// hoặc https://.',
    });
  });

  it('refuses to remove a site that still has attendees, unless they are moved to another site', async () => {
    const meetingId = await newMeeting();
    const tanHong = await addSite(organizer, { meetingId, name: 'Huyện Tân Hồng' });
    const hongNgu = await addSite(organizer, { meetingId, name: 'Huyện Hồng Ngự' });
    await AttendeeModel.create({ meetingId, fullName: 'Lê Văn Bình', siteId: tanHong._id });
    const error = await rejection(removeSite(organizer, { meetingId, siteId: String(tanHong._id) }));
    expect(error.status).toBe(409);
    expect(toErrorBody(error, 'vi').error.message).toBe('Điểm cầu “Huyện Tân Hồng” còn 1 đại biểu. Hãy chọn điểm cầu để chuyển đại biểu sang trước khi xóa.');
    expect(await SiteModel.countDocuments({ _id: tanHong._id })).toBe(1);

    const result = await removeSite(organizer, { meetingId, siteId: String(tanHong._id), reassignTo: String(hongNgu._id) });
    expect(result.reassigned).toBe(1);
    expect(await SiteModel.countDocuments({ _id: tanHong._id })).toBe(0);
    expect(String((await AttendeeModel.findOne({ meetingId }).lean())!.siteId)).toBe(String(hongNgu._id));
  });

  it('removing a site while attendees are being added to it never leaves one on a removed site', async () => {
    // removeSite marks the site before it counts; an attendee write checks the mark after writing
    // and undoes itself. Whichever order the store runs them in, one of the two sees the other.
    for (let round = 0; round < 8; round++) {
      const meetingId = await newMeeting();
      const site = await addSite(organizer, { meetingId, name: `Huyện ${round}` });
      const outcomes = await Promise.allSettled([
        ...Array.from({ length: 3 }, (_, index) => createAttendee(organizer, { meetingId, fullName: `Đại biểu ${round}.${index}`, siteId: String(site._id) })),
        removeSite(organizer, { meetingId, siteId: String(site._id) }),
      ]);
      const removed = outcomes[3]!.status === 'fulfilled';
      const left = await AttendeeModel.countDocuments({ meetingId, siteId: site._id });
      if (removed) expect(left).toBe(0);
      else expect(await SiteModel.countDocuments({ _id: site._id })).toBe(1);
      // Every attendee the store kept was reported as added, and no more.
      expect(left).toBe(removed ? 0 : outcomes.slice(0, 3).filter((outcome) => outcome.status === 'fulfilled').length);
    }
  });

  it('reorders sites; the new order must list every site once', async () => {
    const meetingId = await newMeeting();
    const a = await addSite(organizer, { meetingId, name: 'A' });
    const b = await addSite(organizer, { meetingId, name: 'B' });
    const c = await addSite(organizer, { meetingId, name: 'C' });
    await reorderSites(organizer, { meetingId, siteIds: [String(c._id), String(a._id), String(b._id)] });
    expect((await listSites(organizer, meetingId)).map((site) => site.name)).toEqual(['C', 'A', 'B']);
    await moveSite(organizer, { meetingId, siteId: String(b._id), direction: 'up' });
    expect((await listSites(organizer, meetingId)).map((site) => site.name)).toEqual(['C', 'B', 'A']);
    const error = await rejection(reorderSites(organizer, { meetingId, siteIds: [String(a._id), String(a._id), String(b._id)] }));
    expect(toErrorBody(error, 'en').error.fields?.siteIds).toBe('The new order must list every bridge point of the meeting exactly once.');
  });

  it('a cancelled meeting’s sites cannot be changed', async () => {
    const meetingId = await newMeeting();
    await setMeetingStatus(organizer, { meetingId, action: 'cancel' });
    const error = await rejection(addSite(organizer, { meetingId, name: 'Huyện Tam Nông' }));
    expect(error.status).toBe(409);
  });

  it('every change bumps the meeting revision', async () => {
    const meetingId = await newMeeting();
    const site = await addSite(organizer, { meetingId, name: 'Huyện Tam Nông' });
    await updateSite(organizer, { siteId: String(site._id), address: 'UBND huyện Tam Nông' });
    expect((await MeetingModel.findById(meetingId).lean())!.revision).toBe(2);
  });

  it('changes that calendar invites show (a site’s name or address, the main site) move the calendar sequence', async () => {
    const meetingId = await newMeeting();
    const site = await addSite(organizer, { meetingId, name: 'Huyện Tam Nông' });
    const sequence = async () => (await MeetingModel.findById(meetingId).lean())!.calendarSequence;
    expect(await sequence()).toBe(0);
    await updateSite(organizer, { siteId: String(site._id), coordinatorPhone: '0277 3827 000' });
    expect(await sequence()).toBe(0);
    await updateSite(organizer, { siteId: String(site._id), address: 'Thị trấn Tràm Chim, huyện Tam Nông' });
    expect(await sequence()).toBe(1);
    await setMainSite(organizer, { meetingId, siteId: String(site._id) });
    expect(await sequence()).toBe(2);
  });
});

describe('who sees and changes what', () => {
  async function conference() {
    const meetingId = await newMeeting();
    await addProvinceDistricts(organizer, { meetingId, provinceCode: '87' });
    const sites = await SiteModel.find({ meetingId }).sort({ order: 1 }).lean();
    const [main, caoLanh, saDec] = sites;
    await SiteModel.updateOne({ _id: saDec._id }, { $set: { coordinatorPhone: '0277 3861 234', 'videoLink.passcode': 'sadec-2021' } });
    const coordinator: Actor = { kind: 'coordinator', meetingId, siteId: String(caoLanh._id), name: 'Điều phối Cao Lãnh' };
    const attendee: Actor = { kind: 'attendee', meetingId, attendeeId: '000000000000000000000007', name: 'Đại biểu' };
    const chair: Actor = { kind: 'chair', meetingId, attendeeId: '000000000000000000000008', name: 'Huỳnh Minh Tuấn' };
    return { meetingId, main, caoLanh, saDec, coordinator, attendee, chair };
  }

  it("a coordinator cannot see another site's passcode or phone, nor anyone's coordinator link", async () => {
    const { meetingId, saDec, coordinator } = await conference();
    const other = await getSite(coordinator, String(saDec._id));
    expect(other.name).toBe('Thành phố Sa Đéc');
    expect(other.videoLink).toBeUndefined();
    expect(other.coordinatorPhone).toBeUndefined();
    expect(JSON.stringify(await listSites(coordinator, meetingId))).not.toContain('sadec-2021');
    expect(JSON.stringify(await listSites(coordinator, meetingId))).not.toContain('0277 3861 234');
    expect((await listSites(coordinator, meetingId)).every((site) => site.coordinatorToken === undefined)).toBe(true);
  });

  it('a coordinator sees and updates the contact and video link of their own site only', async () => {
    const { caoLanh, saDec, coordinator } = await conference();
    const home = await getCoordinatorHome(coordinator);
    expect(home.site.name).toBe('Thành phố Cao Lãnh');
    expect(home.site.videoLink).toBeDefined();

    const updated = await updateSite(coordinator, { siteId: String(caoLanh._id), coordinatorName: 'Phạm Thị Hoa', coordinatorPhone: '0907 123 456', videoLink: { url: 'https://meet.example.vn/caolanh', passcode: '2468' } });
    expect(updated.coordinatorName).toBe('Phạm Thị Hoa');
    expect(updated.videoLink?.passcode).toBe('2468');

    const rename = await rejection(updateSite(coordinator, { siteId: String(caoLanh._id), name: 'Cao Lãnh mới' }));
    expect(rename.status).toBe(403);
    expect(toErrorBody(rename, 'vi').error.message).toMatch(/chỉ được sửa thông tin liên hệ/);
    expect((await rejection(updateSite(coordinator, { siteId: String(saDec._id), coordinatorPhone: '0900000000' }))).status).toBe(403);
    expect((await rejection(setMainSite(coordinator, { siteId: String(caoLanh._id) }))).status).toBe(403);
  });

  it('an attendee link sees only public site information and cannot edit', async () => {
    const { meetingId, saDec, attendee } = await conference();
    const sites = await listSites(attendee, meetingId);
    expect(Object.keys(sites[2]).sort()).toEqual(['address', 'id', 'isMain', 'meetingId', 'name', 'order']);
    expect((await rejection(updateSite(attendee, { siteId: String(saDec._id), coordinatorPhone: '0900000000' }))).status).toBe(403);
    expect((await rejection(addSite(attendee, { meetingId, name: 'Điểm cầu lạ' }))).status).toBe(403);
    expect((await rejection(addProvinceDistricts(attendee, { meetingId, provinceCode: '87' }))).status).toBe(403);
  });

  it('the chair reads every site’s details but not the coordinator links', async () => {
    const { meetingId, chair } = await conference();
    const sites = await listSites(chair, meetingId);
    expect(sites[2].videoLink?.passcode).toBe('sadec-2021');
    expect(sites.every((site) => site.coordinatorToken === undefined)).toBe(true);
  });

  it('someone from another meeting sees nothing', async () => {
    const { meetingId } = await conference();
    const stranger: Actor = { kind: 'coordinator', meetingId: await newMeeting(), siteId: '000000000000000000000001', name: 'Khác' };
    expect((await rejection(listSites(stranger, meetingId))).status).toBe(403);
  });

  it('rotating the coordinator link replaces the secret', async () => {
    const { caoLanh } = await conference();
    const rotated = await rotateCoordinatorLink(organizer, { siteId: String(caoLanh._id) });
    expect(rotated.coordinatorToken).not.toBe(caoLanh.coordinatorToken);
    expect(await SiteModel.countDocuments({ coordinatorToken: caoLanh.coordinatorToken })).toBe(0);
  });
});
