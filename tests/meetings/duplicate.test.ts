// Duplicating a large meeting: every attendee copied exactly once onto the copy's sites, in
// batches that leave the server answering other requests meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createMeeting, duplicateMeeting } from '../../server/meetings/actions.js';
import { addProvinceDistricts } from '../../server/sites/actions.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendeeModel, attendeeRoles } from '../../server/attendees/model.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import { AgendaItemModel } from '../../server/agenda/model.js';
import { searchFields } from '../../server/attendees/model.js';
import { newToken } from '../../server/lib/text.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

/** A scheduled meeting with the province's district sites and `count` attendees spread over them. */
async function meetingWithAttendees(count: number) {
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị tổng kết năm 2025', start: '2025-12-20T08:00', end: '2025-12-20T11:00', status: 'scheduled' });
  await addProvinceDistricts(app.organizer, { meetingId: String(meeting._id), provinceCode: '87' });
  const sites = await SiteModel.find({ meetingId: meeting._id }).sort({ order: 1 }).lean();
  const attendees = Array.from({ length: count }, (_, index) => {
    const person = {
      fullName: `Nguyễn Văn ${index}`,
      position: index % 3 === 0 ? 'Phó Giám đốc' : 'Chuyên viên',
      organization: `Phòng ${index % 17}`,
      ...(index % 4 === 0 ? {} : { email: `nguoi${index}@example.vn` }),
    };
    return {
      _id: new Types.ObjectId(),
      meetingId: meeting._id,
      ...person,
      phone: `09${String(index).padStart(8, '0')}`,
      siteId: sites[index % sites.length]._id,
      role: attendeeRoles[index % attendeeRoles.length],
      accessToken: newToken(),
      walkIn: index % 50 === 0,
      revision: 7,
      ...searchFields(person),
    };
  });
  for (let from = 0; from < attendees.length; from += 1000) await AttendeeModel.insertMany(attendees.slice(from, from + 1000), { lean: true });
  return { meeting, sites, attendees };
}

describe('duplicating a meeting of more than one batch of attendees', () => {
  it('copies each of 1,234 attendees exactly once onto the new sites, with fresh links, and no attendance', async () => {
    const { meeting, sites, attendees } = await meetingWithAttendees(1234);
    expect(sites.length).toBeGreaterThan(5);
    // The day happened: people checked in at their sites.
    await AttendanceModel.insertMany(attendees.slice(0, 300).map((attendee) => ({ meetingId: meeting._id, attendeeId: attendee._id, siteId: attendee.siteId, status: 'present', presentAt: new Date() })));
    await AgendaItemModel.create({ meetingId: meeting._id, order: 0, title: 'Báo cáo', kind: 'report', plannedMinutes: 20, speakers: [{ attendeeId: attendees[1111]._id, name: attendees[1111].fullName, position: attendees[1111].position }] });

    const copy = await duplicateMeeting(app.organizer, { meetingId: String(meeting._id), copyAttendees: 'on' });

    const copiedSites = await SiteModel.find({ meetingId: copy._id }).lean();
    const newSiteByName = new Map(copiedSites.map((site) => [site.name, String(site._id)]));
    const oldSiteName = new Map(sites.map((site) => [String(site._id), site.name]));
    const copies = await AttendeeModel.find({ meetingId: copy._id }).lean();
    expect(copies).toHaveLength(1234);
    // Exactly once each: the phone numbers are unique in the source.
    expect(new Set(copies.map((attendee) => attendee.phone)).size).toBe(1234);
    const sourceByPhone = new Map(attendees.map((attendee) => [attendee.phone, attendee]));
    const oldTokens = new Set(attendees.map((attendee) => attendee.accessToken));
    const oldIds = new Set(attendees.map((attendee) => String(attendee._id)));
    for (const attendee of copies) {
      const source = sourceByPhone.get(attendee.phone)!;
      expect(String(attendee.siteId)).toBe(newSiteByName.get(oldSiteName.get(String(source.siteId))!));
      expect({ fullName: attendee.fullName, position: attendee.position, organization: attendee.organization, email: attendee.email, role: attendee.role, searchText: attendee.searchText }).toEqual({
        fullName: source.fullName,
        position: source.position,
        organization: source.organization,
        email: source.email,
        role: source.role,
        searchText: source.searchText,
      });
      expect(attendee.searchTokens).toEqual(source.searchTokens);
      expect(oldTokens.has(attendee.accessToken)).toBe(false);
      expect(oldIds.has(String(attendee._id))).toBe(false);
      // The day's state stays behind: no walk-in flag, no revision of last year's changes.
      expect(attendee.walkIn).toBe(false);
      expect(attendee.revision).toBe(0);
    }
    expect(new Set(copies.map((attendee) => attendee.accessToken)).size).toBe(1234);
    expect(newSiteByName.size).toBe(sites.length);
    expect(await AttendanceModel.countDocuments({ meetingId: copy._id })).toBe(0);
    const [item] = await AgendaItemModel.find({ meetingId: copy._id }).lean();
    expect(String(item.speakers[0].attendeeId)).toBe(String(copies.find((attendee) => attendee.phone === attendees[1111].phone)!._id));
    // The source is untouched.
    expect(await AttendeeModel.countDocuments({ meetingId: meeting._id })).toBe(1234);
    expect(await AttendanceModel.countDocuments({ meetingId: meeting._id })).toBe(300);
  }, 60_000);

  it('a copy that fails halfway leaves nothing behind and reports the error', async () => {
    const { meeting, attendees } = await meetingWithAttendees(1200);
    // Written past the app's validation: the 1,201st attendee (the third batch) cannot be copied,
    // after two batches of 500 were.
    await AttendeeModel.collection.insertOne({ meetingId: meeting._id, fullName: 'Sai vai trò', siteId: attendees[0].siteId, role: 'ghost', accessToken: newToken(), searchText: 'sai vai tro', phone: '', position: '', organization: '' });
    const counts = async () => ({
      meetings: await MeetingModel.countDocuments(),
      sites: await SiteModel.countDocuments(),
      attendees: await AttendeeModel.countDocuments(),
      agenda: await AgendaItemModel.countDocuments(),
    });
    const before = await counts();
    const failure = await duplicateMeeting(app.organizer, { meetingId: String(meeting._id), copyAttendees: 'on' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(await counts()).toEqual(before);
    expect(await MeetingModel.countDocuments({ duplicatedFrom: meeting._id })).toBe(0);
  }, 60_000);
});

describe('the server while a large meeting is duplicated', () => {
  // How long the copy holds the event loop at most is measured in bench/duplicate.ts; here, that
  // others are served while it runs (the one-shot copy held every request until it was done).
  it('answers GET /login throughout the copy of 5,000 attendees', async () => {
    const { meeting } = await meetingWithAttendees(5000);
    const client = app.newClient();
    let copying = true;
    let answeredDuringCopy = 0;
    const probe = (async () => {
      while (copying) {
        const response = await client.get('/login');
        expect(response.status).toBe(200);
        if (copying) answeredDuringCopy++;
      }
    })();
    const copy = await duplicateMeeting(app.organizer, { meetingId: String(meeting._id), copyAttendees: 'on' }).finally(() => {
      copying = false;
    });
    await probe;
    expect(await AttendeeModel.countDocuments({ meetingId: copy._id })).toBe(5000);
    // Requests were served during the copy, not queued behind it.
    expect(answeredDuringCopy).toBeGreaterThan(3);
  }, 120_000);
});
