// Feeds stay inside the organizing unit: an organizer of one unit cannot list another unit's
// meetings by naming their meeting like the other unit, by a site of the same name, or by
// giving an attendee another unit's invitee's e-mail address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { SiteModel } from '../../server/sites/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { feedMeetingLimit } from '../../server/calendar/queries.js';
import { addUnit } from '../../server/units/actions.js';
import { regenerateFeed, revokeFeed } from '../../server/calendar/actions.js';
import type { Actor } from '../../server/lib/actor.js';
import { parseCalendar } from './fixtures.js';

let app: TestApp;
const organizerOf = (unitId: string, n: number): Actor => ({ kind: 'organizer', userId: `00000000000000000000000${n}`, name: `Cán bộ ${n}`, isAdmin: false, unitId });
const units = { science: '', education: '' };
let science: Actor;
let education: Actor;
const secret = { meetingId: '', publicId: '' };

async function meetingOf(actor: Actor, unitId: string, title: string, organizingUnit: string) {
  const meeting = await createMeeting(actor, { unitId, title, organizingUnit, start: '2027-05-10T08:00', end: '2027-05-10T11:00', status: 'scheduled' });
  const meetingId = String(meeting._id);
  await addSite(actor, { meetingId, name: 'Điểm cầu huyện Lai Vung', address: 'UBND huyện Lai Vung', isMain: true });
  const site = (await SiteModel.findOne({ meetingId }).lean())!;
  return { meetingId, publicId: meeting.publicId, siteId: String(site._id) };
}

beforeAll(async () => {
  app = await startTestApp();
  units.science = String((await addUnit(app.organizer, { name: 'Sở Khoa học và Công nghệ' }))._id);
  units.education = String((await addUnit(app.organizer, { name: 'Sở Giáo dục và Đào tạo' }))._id);
  science = organizerOf(units.science, 1);
  education = organizerOf(units.education, 2);
  const hidden = await meetingOf(education, units.education, 'Họp kín ngành Giáo dục', 'Sở Giáo dục và Đào tạo');
  Object.assign(secret, hidden);
  await createAttendee(education, { meetingId: hidden.meetingId, fullName: 'Hiệu trưởng', email: 'hieu-truong@example.vn', role: 'delegate', siteId: hidden.siteId });
});
afterAll(async () => {
  await app?.stop();
});

const feedUids = async (token: string) => parseCalendar((await app.newClient().get(`/calendar/feeds/${token}.ics`)).text).events.map((event) => event.uid);
const secretUid = () => `${secret.meetingId}.meeting@bridgepoint`;

describe("feeds list only their organizing unit's meetings", () => {
  it("a unit feed of a meeting named after another unit does not list that unit's meetings", async () => {
    const own = await meetingOf(science, units.science, 'Hội nghị KH&CN', 'Sở Giáo dục và Đào tạo');
    const { token } = await regenerateFeed(science, { scope: 'unit', meetingId: own.meetingId });
    const uids = await feedUids(token);
    expect(uids).toContain(`${own.meetingId}.meeting@bridgepoint`);
    expect(uids).not.toContain(secretUid());
    // The education unit's own feed lists it, named after the unit's record.
    const theirs = await regenerateFeed(education, { scope: 'unit', meetingId: secret.meetingId });
    expect(await feedUids(theirs.token)).toEqual([secretUid()]);
  });

  it("a site feed does not list another unit's meetings at a site of the same name", async () => {
    const own = await meetingOf(science, units.science, 'Hội nghị KH&CN 2', 'Sở KH&CN');
    const { token } = await regenerateFeed(science, { scope: 'site', meetingId: own.meetingId, siteId: own.siteId });
    const uids = await feedUids(token);
    expect(uids).toContain(`${own.meetingId}.meeting@bridgepoint`);
    expect(uids).not.toContain(secretUid());
  });

  it("an attendee given another unit's invitee's e-mail address gets a feed of their own unit's meetings only", async () => {
    const own = await meetingOf(science, units.science, 'Hội nghị KH&CN 3', 'Sở KH&CN');
    const made = await createAttendee(science, { meetingId: own.meetingId, fullName: 'Người giả', email: 'hieu-truong@example.vn', role: 'delegate', siteId: own.siteId });
    const token = (await AttendeeModel.findById(made.id, { accessToken: 1 }).lean())!.accessToken;
    const attendee = app.newClient();
    await attendee.openLink(`/a/${token}`);
    const feed = await attendee.json('POST', '/api/v1/my/calendar/feed');
    expect(feed.status).toBe(201);
    const uids = await feedUids(new URL(feed.json.https).pathname.replace(/^\/calendar\/feeds\/|\.ics$/g, ''));
    expect(uids).toContain(`${own.meetingId}.meeting@bridgepoint`);
    expect(uids).not.toContain(secretUid());
  });

  it("an organizer of another unit can neither make nor revoke this unit's site or unit feed links", async () => {
    const own = await meetingOf(science, units.science, 'Hội nghị KH&CN 4', 'Sở KH&CN');
    const site = await regenerateFeed(science, { scope: 'site', meetingId: own.meetingId, siteId: own.siteId });
    const unit = await regenerateFeed(science, { scope: 'unit', meetingId: own.meetingId });
    for (const input of [
      { scope: 'site', meetingId: own.meetingId, siteId: own.siteId },
      { scope: 'unit', meetingId: own.meetingId },
      // Their own meeting, this unit's site: the site must belong to the meeting named.
      { scope: 'site', meetingId: secret.meetingId, siteId: own.siteId },
    ]) {
      await expect(revokeFeed(education, input)).rejects.toMatchObject({ status: 404 });
      await expect(regenerateFeed(education, input)).rejects.toMatchObject({ status: 404 });
    }
    expect(await feedUids(site.token)).toContain(`${own.meetingId}.meeting@bridgepoint`);
    expect(await feedUids(unit.token)).toContain(`${own.meetingId}.meeting@bridgepoint`);
  });

  it("more than a feed's worth of another unit's sites and invitees of the same name and address do not crowd this unit's meetings out", async () => {
    // The education unit has held more meetings at "Điểm cầu huyện Lai Vung" than a feed lists,
    // each inviting the same e-mail address (written straight through the models: setting up).
    const meetings = await MeetingModel.insertMany(
      Array.from({ length: feedMeetingLimit + 1 }, (_, index) => ({ unitId: units.education, title: `Giao ban ${index}`, organizingUnit: 'Sở Giáo dục và Đào tạo', startsAt: new Date(Date.UTC(2028, 0, 1) + index * 60_000), endsAt: new Date(Date.UTC(2028, 0, 1) + index * 60_000 + 3_600_000), status: 'scheduled' })),
    );
    const sites = await SiteModel.insertMany(meetings.map((meeting) => ({ meetingId: meeting._id, name: 'Điểm cầu huyện Lai Vung', isMain: true })));
    await AttendeeModel.insertMany(meetings.map((meeting, index) => ({ meetingId: meeting._id, siteId: sites[index]._id, fullName: 'Phụ huynh', email: 'pho-bien@example.vn' })));

    const own = await meetingOf(science, units.science, 'Hội nghị KH&CN 5', 'Sở KH&CN');
    const made = await createAttendee(science, { meetingId: own.meetingId, fullName: 'Người được mời', email: 'pho-bien@example.vn', role: 'delegate', siteId: own.siteId });
    const site = await regenerateFeed(science, { scope: 'site', meetingId: own.meetingId, siteId: own.siteId });
    expect(await feedUids(site.token)).toContain(`${own.meetingId}.meeting@bridgepoint`);
    const invitee: Actor = { kind: 'attendee', meetingId: own.meetingId, attendeeId: made.id, name: 'Người được mời' };
    const mine = await regenerateFeed(invitee, { scope: 'attendee', meetingId: own.meetingId });
    expect(await feedUids(mine.token)).toEqual([`${own.meetingId}.meeting@bridgepoint`]);
  }, 120_000);
});
