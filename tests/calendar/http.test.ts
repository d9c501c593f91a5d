import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { updateMeeting } from '../../server/meetings/actions.js';
import { updateSite } from '../../server/sites/actions.js';
import { updateAttendee } from '../../server/attendees/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { cancel, newCalendarConference, parseCalendar, vobjectProblems, type CalendarConference } from './fixtures.js';
import { nextEvent } from '../live/fixtures.js';

let app: TestApp;
let conference: CalendarConference;
const sockets: Socket[] = [];

beforeAll(async () => {
  app = await startTestApp();
  conference = await newCalendarConference(app.organizer);
});

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await app.stop();
});

async function attendeeClient(token: string): Promise<HttpClient> {
  const client = app.newClient();
  await client.openLink(`/a/${token}`);
  return client;
}

const sequenceOf = async (meetingId: string) => (await MeetingModel.findById(meetingId, { calendarSequence: 1 }).lean())!.calendarSequence;

describe('downloads and "add to calendar" links', () => {
  it('the public page offers the .ics and Google/Outlook links with the same time, title and place', async () => {
    const visitor = app.newClient();
    const page = await visitor.get(`/p/${conference.publicId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`href="/p/${conference.publicId}/calendar.ics"`);
    const google = /href="(https:\/\/calendar\.google\.com[^"]+)"/.exec(page.text)![1].replace(/&amp;/g, '&').replace(/&#x3D;/g, '=');
    expect(new URL(google).searchParams.get('dates')).toBe('20211229T070000Z/20211229T100000Z');
    expect(new URL(google).searchParams.get('location')).toMatch(/^Văn phòng UBND Tỉnh/);
    expect(page.text).toContain('https://outlook.live.com/calendar/0/deeplink/compose?');

    const file = await visitor.get(`/p/${conference.publicId}/calendar.ics`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="hoi-nghi-tong-ket-hoat-dong-khoa-hoc-va-cong-nghe-nam-2021\.ics"/);
    const parsed = parseCalendar(file.text);
    expect(parsed.method).toBe('PUBLISH');
    expect(parsed.events).toHaveLength(1);
    expect(parsed.events[0]).toMatchObject({ uid: `${conference.meetingId}.meeting@bridgepoint`, start: '2021-12-29T14:00:00', tzid: 'Asia/Ho_Chi_Minh', attendees: [] });
    expect(parsed.events[0].location).toBe(new URL(google).searchParams.get('location'));
    expect(vobjectProblems(file.text)).toBeNull();
  });

  it('a download answers conditional requests with 304 until the meeting changes', async () => {
    const visitor = app.newClient();
    const first = await visitor.get(`/p/${conference.publicId}/calendar.ics`);
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect((await visitor.get(`/p/${conference.publicId}/calendar.ics`, { 'if-none-match': etag })).status).toBe(304);
    expect((await visitor.get(`/p/${conference.publicId}/calendar.ics`, { 'if-modified-since': lastModified })).status).toBe(304);
    expect((await visitor.get(`/p/${conference.publicId}/calendar.ics`, { 'if-none-match': '"something-else"' })).status).toBe(200);
  });

  it("the attendee's own page offers their .ics (their bridge point, their role) and the speaker's slot on its own", async () => {
    const speaker = await attendeeClient(conference.speaker.token);
    const page = await speaker.get('/my');
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="/my/calendar.ics"');
    expect(page.text).toContain(`href="/my/calendar/slots/${conference.slotItemId}.ics"`);
    const file = parseCalendar((await speaker.get('/my/calendar.ics')).text);
    expect(file.events.map((event) => event.uid)).toEqual([`${conference.meetingId}.meeting@bridgepoint`, `${conference.slotItemId}.agenda@bridgepoint`]);
    expect(file.events[0].attendees[0]).toMatchObject({ value: 'mailto:giam-doc@example.vn', role: 'REQ-PARTICIPANT', partstat: 'NEEDS-ACTION' });
    const slot = await speaker.get(`/my/calendar/slots/${conference.slotItemId}.ics`);
    expect(parseCalendar(slot.text).events.map((event) => [event.uid, event.start])).toEqual([[`${conference.slotItemId}.agenda@bridgepoint`, '2021-12-29T14:15:00']]);
    expect(vobjectProblems(slot.text)).toBeNull();
    // Someone who does not speak in that slot has no such file.
    const delegate = await attendeeClient(conference.delegate.token);
    expect((await delegate.get(`/my/calendar/slots/${conference.slotItemId}.ics`)).status).toBe(404);
  });

  it('nobody gets a personal file without their link; a bearer token works for apps', async () => {
    const anonymous = app.newClient();
    expect((await anonymous.get('/my/calendar.ics')).status).toBe(303);
    expect((await anonymous.getJson('/api/v1/my/calendar')).status).toBe(401);
    const organizer = await app.signInOrganizer();
    expect((await organizer.get('/my/calendar.ics')).status).toBe(403);
    const bearer = HttpClient.withBearer(app.baseUrl, conference.chair.token);
    const file = parseCalendar((await bearer.get('/my/calendar.ics')).text);
    expect(file.events[0].attendees[0]).toMatchObject({ cn: 'Huỳnh Minh Tuấn', role: 'CHAIR' });
  });
});

describe("a bridge point's coordinator", () => {
  it('gets the meeting at their own site (.ics, Google/Outlook links) and makes, uses and revokes the site feed from their page', async () => {
    const laiVung = await SiteModel.findById(conference.laiVungId, { coordinatorToken: 1 }).lean();
    const coordinator = app.newClient();
    await coordinator.openLink(`/s/${laiVung!.coordinatorToken}`);
    const page = await coordinator.get('/my/site/calendar');
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="/my/site/calendar.ics"');
    const google = /href="(https:\/\/calendar\.google\.com[^"]+)"/.exec(page.text)![1].replace(/&amp;/g, '&').replace(/&#x3D;/g, '=');
    expect(new URL(google).searchParams.get('location')).toMatch(/Lai Vung/);

    const file = await coordinator.get('/my/site/calendar.ics');
    expect(file.status).toBe(200);
    const parsed = parseCalendar(file.text);
    expect(parsed.method).toBe('PUBLISH');
    expect(parsed.events).toHaveLength(1);
    expect(parsed.events[0]).toMatchObject({ uid: `${conference.meetingId}.meeting@bridgepoint`, start: '2021-12-29T14:00:00', attendees: [] });
    expect(parsed.events[0].location).toBe(new URL(google).searchParams.get('location'));
    expect(vobjectProblems(file.text)).toBeNull();

    expect((await coordinator.postForm('/my/site/calendar/feed', { action: 'regenerate' })).status).toBe(303);
    const withFeed = await coordinator.get('/my/site/calendar');
    const webcal = /href="(webcal:\/\/[^"]+)"/.exec(withFeed.text)![1];
    const path = new URL(webcal.replace(/^webcal:/, 'http:')).pathname;
    const feed = await app.newClient().get(path);
    expect(feed.status).toBe(200);
    expect(parseCalendar(feed.text).events.find((event) => event.uid === `${conference.meetingId}.meeting@bridgepoint`)!.location).toMatch(/Lai Vung/);
    expect(vobjectProblems(feed.text)).toBeNull();
    expect((await coordinator.postForm('/my/site/calendar/feed', { action: 'revoke' })).status).toBe(303);
    expect((await app.newClient().get(path)).status).toBe(404);
    // Another site's page is not theirs: an attendee has no coordinator page.
    expect((await (await attendeeClient(conference.delegate.token)).get('/my/site/calendar.ics')).status).toBe(403);
  });
});

describe('updates: one UID, a higher SEQUENCE', () => {
  it('moving the meeting, changing a bridge point, moving someone to another site and cancelling each raise SEQUENCE; the cancelled event stays with STATUS:CANCELLED', async () => {
    const other = await newCalendarConference(app.organizer, { title: 'Hội nghị giao ban quý IV', organizingUnit: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp' });
    const delegate = await attendeeClient(other.delegate.token);
    const read = async () => parseCalendar((await delegate.get('/my/calendar.ics')).text).events[0];
    const before = await read();
    expect(before.sequence).toBe(await sequenceOf(other.meetingId));

    await updateMeeting(app.organizer, { meetingId: other.meetingId, start: '2021-12-30T08:00' });
    const moved = await read();
    expect(moved).toMatchObject({ uid: before.uid, start: '2021-12-30T08:00:00', end: '2021-12-30T11:00:00', sequence: before.sequence + 1 });

    await updateSite(app.organizer, { meetingId: other.meetingId, siteId: other.laiVungId, address: 'Hội trường UBND huyện Lai Vung' });
    const replaced = await read();
    expect(replaced.sequence).toBe(moved.sequence + 1);
    expect(replaced.location).toMatch(/Lai Vung, Hội trường UBND huyện Lai Vung$/);

    await updateAttendee(app.organizer, { meetingId: other.meetingId, attendeeId: other.delegate.id, siteId: other.mainSiteId });
    const atMain = await read();
    expect(atMain.sequence).toBe(replaced.sequence + 1);
    expect(atMain.location).toMatch(/^Văn phòng UBND Tỉnh/);

    await cancel(app.organizer, other.meetingId);
    const cancelled = await read();
    expect(cancelled).toMatchObject({ uid: before.uid, status: 'CANCELLED', sequence: atMain.sequence + 1 });
  });
});

describe('subscription feeds', () => {
  it("an attendee's feed lists all their meetings; a wrong or revoked link is a 404 that says nothing more than any unknown page", async () => {
    // The same person (same e-mail) is invited to a second meeting.
    const second = await newCalendarConference(app.organizer, { title: 'Hội nghị chuyển giao công nghệ 2022' });
    const chair = await attendeeClient(conference.chair.token);
    const made = await chair.json('POST', '/api/v1/my/calendar/feed');
    expect(made.status).toBe(201);
    expect(made.json.webcal).toMatch(/^webcal:\/\/127\.0\.0\.1:\d+\/calendar\/feeds\/[\w-]{32}\.ics$/);
    const path = new URL(made.json.https).pathname;
    const calendarApp = app.newClient();
    const feed = await calendarApp.get(path);
    expect(feed.status).toBe(200);
    const parsed = parseCalendar(feed.text);
    expect(parsed.events.map((event) => event.uid)).toEqual(expect.arrayContaining([`${conference.meetingId}.meeting@bridgepoint`, `${second.meetingId}.meeting@bridgepoint`]));
    expect(parsed.events.every((event) => event.attendees[0]?.value === 'mailto:chu-tich@example.vn')).toBe(true);
    expect(feed.text).toContain('REFRESH-INTERVAL;VALUE=DURATION:PT1H');
    expect(vobjectProblems(feed.text)).toBeNull();
    expect((await calendarApp.get(path, { 'if-none-match': feed.headers.get('etag')! })).status).toBe(304);

    // The same page as any unknown address (which names itself in the language switch).
    const unknownPage = (await calendarApp.get('/no/such/page')).text.replaceAll('/no/such/page', '<path>');
    const wrongPath = path.replace(/[\w-]{5}\.ics$/, 'AAAAA.ics');
    const wrong = await calendarApp.get(wrongPath);
    expect(wrong.status).toBe(404);
    expect(wrong.text.replaceAll(wrongPath, '<path>')).toBe(unknownPage);

    // Regenerating gives a new link; the old one is dead at once.
    const again = await chair.json('POST', '/api/v1/my/calendar/feed');
    expect(again.json.https).not.toBe(made.json.https);
    const old = await calendarApp.get(path);
    expect(old.status).toBe(404);
    expect(old.text.replaceAll(path, '<path>')).toBe(unknownPage);
    expect((await chair.json('DELETE', '/api/v1/my/calendar/feed')).status).toBe(204);
    expect((await calendarApp.get(new URL(again.json.https).pathname)).status).toBe(404);
  });

  it('odd feed links are all the same plain 404; the feed answers nothing but GET/HEAD', async () => {
    const chair = await attendeeClient(conference.chair.token);
    const made = await chair.json('POST', '/api/v1/my/calendar/feed');
    const token = new URL(made.json.https).pathname.replace(/^\/calendar\/feeds\/|\.ics$/g, '');
    const visitor = app.newClient();
    const unknownPage = (await visitor.get('/no/such/page')).text.replaceAll('/no/such/page', '<path>');
    const odd = [
      `/calendar/feeds/${token.toUpperCase()}.ics`,
      `/calendar/feeds/${token}x.ics`,
      `/calendar/feeds/${token.slice(0, -1)}.ics`,
      `/calendar/feeds/${token}.ics.ics`,
      `/calendar/feeds/${token}%00.ics`,
      `/calendar/feeds/%2e%2e%2f${token}.ics`,
      `/calendar/feeds/${'A'.repeat(64)}.ics`,
      `/calendar/feeds/${'A'.repeat(5000)}.ics`,
      `/calendar/feeds/${encodeURIComponent('{"$ne":null}')}.ics`,
      `/calendar/feeds/${encodeURIComponent('Ồ'.repeat(30))}.ics`,
      '/calendar/feeds/.ics',
    ];
    for (const path of odd) {
      const response = await visitor.get(path);
      expect(response.status, path).toBe(404);
      expect(response.text.replaceAll(path, '<path>'), path).toBe(unknownPage);
      expect(response.headers.get('content-type'), path).not.toMatch(/calendar/);
    }
    // The right link still works, also with a query string a calendar app may add.
    expect((await visitor.get(`/calendar/feeds/${token}.ics?refresh=1`)).status).toBe(200);
    expect((await visitor.json('POST', `/calendar/feeds/${token}.ics`)).status).toBeGreaterThanOrEqual(400);
  });

  it('site and organizing-unit feeds: only the organizer (and that site\'s coordinator) may make them', async () => {
    const organizer = await app.signInOrganizer();
    const unit = await organizer.json('POST', `/api/v1/meetings/${conference.meetingId}/calendar/feeds`, { scope: 'unit' });
    expect(unit.status).toBe(201);
    const unitFile = (await app.newClient().get(new URL(unit.json.https).pathname)).text;
    expect(vobjectProblems(unitFile)).toBeNull();
    const unitFeed = parseCalendar(unitFile);
    expect(unitFeed.events.map((event) => event.uid)).toContain(`${conference.meetingId}.meeting@bridgepoint`);

    const laiVung = await SiteModel.findById(conference.laiVungId, { coordinatorToken: 1 }).lean();
    const coordinator = app.newClient();
    await coordinator.openLink(`/s/${laiVung!.coordinatorToken}`);
    expect((await coordinator.json('POST', `/api/v1/meetings/${conference.meetingId}/calendar/feeds`, { scope: 'site', siteId: conference.mainSiteId })).status).toBe(403);
    expect((await coordinator.json('POST', `/api/v1/meetings/${conference.meetingId}/calendar/feeds`, { scope: 'unit' })).status).toBe(403);
    const site = await coordinator.json('POST', `/api/v1/meetings/${conference.meetingId}/calendar/feeds`, { scope: 'site', siteId: conference.laiVungId });
    expect(site.status).toBe(201);
    const siteFeed = parseCalendar((await app.newClient().get(new URL(site.json.https).pathname)).text);
    expect(siteFeed.events.find((event) => event.uid === `${conference.meetingId}.meeting@bridgepoint`)!.location).toMatch(/Lai Vung/);

    const attendee = await attendeeClient(conference.delegate.token);
    expect((await attendee.json('POST', `/api/v1/meetings/${conference.meetingId}/calendar/feeds`, { scope: 'site', siteId: conference.laiVungId })).status).toBe(403);
    expect((await attendee.json('POST', `/api/v1/meetings/${conference.meetingId}/calendar/feeds`, { scope: 'elsewhere' })).json.error.fields.scope).toBe('Loại lịch không hợp lệ.');
  });
});

describe('RSVP', () => {
  function organizerSocket(cookie: string): Socket {
    const socket = connect(app.baseUrl, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false });
    sockets.push(socket);
    return socket;
  }
   

  it("a delegate declines with a reason: PARTSTAT=DECLINED in their next file, Lai Vung's expected headcount drops, and the organizer's dashboard hears it live", async () => {
    const organizer = await app.signInOrganizer();
    const socket = organizerSocket(organizer.cookieHeader());
    expect(await socket.timeout(5000).emitWithAck('meeting:join', { meetingId: conference.meetingId })).toMatchObject({ ok: true });
    const headcount = async () => (await SiteModel.findById(conference.laiVungId, { expectedHeadcount: 1 }).lean())!.expectedHeadcount;
    expect(await headcount()).toBe(12);

    const delegate = await attendeeClient(conference.delegate.token);
    // Declining without a reason: a message in Vietnamese, a 4xx, and nothing changed.
    const refused = await delegate.postForm('/my/rsvp', { response: 'declined', reason: '  ' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('Vui lòng cho biết lý do vắng.');
    expect(await headcount()).toBe(12);

    const heard = nextEvent(socket, 'attendee.rsvp', (event) => event.payload.attendeeId === conference.delegate.id && event.payload.response === 'declined');
    const saved = await delegate.postForm('/my/rsvp', { response: 'declined', reason: 'Trùng lịch tiếp đoàn công tác; xin phép vắng' });
    expect(saved.status).toBe(303);
    const event = await heard;
    expect(event.payload).toMatchObject({ attendeeId: conference.delegate.id, siteId: conference.laiVungId, response: 'declined', reason: 'Trùng lịch tiếp đoàn công tác; xin phép vắng', site: { expectedHeadcount: 11 }, counts: { declined: 1 } });
    expect(event.revision).toBe((await MeetingModel.findById(conference.meetingId, { revision: 1 }).lean())!.revision);
    expect(await headcount()).toBe(11);
    const file = parseCalendar((await delegate.get('/my/calendar.ics')).text);
    expect(file.events[0].attendees[0].partstat).toBe('DECLINED');
    // Declining twice takes nobody else off.
    await delegate.postForm('/my/rsvp', { response: 'declined', reason: 'Vẫn bận' });
    expect(await headcount()).toBe(11);

    // Changing one's mind to send a delegate puts the place back (the delegate comes instead).
    const changed = await delegate.json('POST', '/api/v1/my/rsvp', { response: 'delegated', delegateName: 'Phạm Văn Chín', delegateEmail: 'chin@example.vn' });
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ response: 'delegated', delegateName: 'Phạm Văn Chín', site: { expectedHeadcount: 12 } });
    const delegated = parseCalendar((await delegate.get('/my/calendar.ics')).text).events[0].attendees;
    expect(delegated[0]).toMatchObject({ partstat: 'DELEGATED', delegatedTo: 'mailto:chin@example.vn' });
    const page = await delegate.get('/my');
    expect(page.text).toContain('Bạn đã cử người dự thay: Phạm Văn Chín.');
    // The form's confirmation shows once, on the page the form returns to.
    await delegate.postForm('/my/rsvp', { response: 'accepted' });
    expect((await delegate.get('/my')).text).toContain('Đã ghi nhận xác nhận của bạn.');
    expect((await delegate.get('/my')).text).not.toContain('Đã ghi nhận xác nhận của bạn.');
  });

  it('only the attendee answers for themselves; answers close when the meeting is cancelled', async () => {
    const organizer = await app.signInOrganizer();
    expect((await organizer.json('POST', '/api/v1/my/rsvp', { response: 'accepted' })).status).toBe(403);
    expect((await app.newClient().json('POST', '/api/v1/my/rsvp', { response: 'accepted' })).status).toBe(401);
    const other = await newCalendarConference(app.organizer, { title: 'Hội nghị sẽ hủy' });
    await cancel(app.organizer, other.meetingId);
    const delegate = await attendeeClient(other.delegate.token);
    const closed = await delegate.json('POST', '/api/v1/my/rsvp', { response: 'accepted' });
    expect(closed.status).toBe(409);
    expect(closed.json.error.message).toBe('Hội nghị đã kết thúc hoặc đã hủy: không thể xác nhận tham dự nữa.');
  });
});

describe('without a mail server', () => {
  it('the invite button explains what to set, and the API refuses in the asker\'s language', async () => {
    const organizer = await app.signInOrganizer();
    const page = await organizer.get(`/meetings/${conference.meetingId}/calendar`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('SMTP_URL');
    expect(page.text).toContain('MAIL_FROM');
    const refused = await organizer.json('POST', `/api/v1/meetings/${conference.meetingId}/invitations?lang=en`, { scope: 'all' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toMatch(/^No mail server is configured.*SMTP_URL/);
    // The page is the organizer's alone.
    const delegate = await attendeeClient(conference.delegate.token);
    expect((await delegate.get(`/meetings/${conference.meetingId}/calendar`)).status).toBe(403);
  });
});
