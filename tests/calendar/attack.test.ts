// A second reader's attacks on the calendar part, over real HTTP: what a polling calendar app, a
// browser saving a file, and someone holding an old or another person's link would do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createMeeting, updateMeeting } from '../../server/meetings/actions.js';
import { createAttendee, removeAttendee, rotateAccessToken, updateAttendee } from '../../server/attendees/actions.js';
import type { Actor } from '../../server/lib/actor.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { addSite } from '../../server/sites/actions.js';
import { cancel, formatProblems, newCalendarConference, parseCalendar, vobjectProblems, vobjectStartsUtc, type CalendarConference } from './fixtures.js';

let app: TestApp;
let conference: CalendarConference;

beforeAll(async () => {
  app = await startTestApp();
  conference = await newCalendarConference(app.organizer);
});

afterAll(async () => {
  await app.stop();
});

async function attendeeClient(token: string): Promise<HttpClient> {
  const client = app.newClient();
  await client.openLink(`/a/${token}`);
  return client;
}

describe('a polling calendar app', () => {
  it('is never told "not modified" after a meeting drops out of a feed (If-Modified-Since alone)', async () => {
    // The delegate (same e-mail address) is also invited to a second meeting of the unit.
    const second = await createMeeting(app.organizer, { title: 'Hội nghị giao ban quý I', organizingUnit: 'Sở Khoa học và Công nghệ tỉnh Đồng Tháp', start: '2022-03-01T08:00', end: '2022-03-01T11:00', status: 'scheduled' });
    const secondId = String(second._id);
    const site = await addSite(app.organizer, { meetingId: secondId, name: 'Huyện Lai Vung', address: 'Lai Vung' });
    const siteId = String((site as { _id?: unknown; id?: unknown })._id ?? (site as { id?: unknown }).id);
    const again = await createAttendee(app.organizer, { meetingId: secondId, fullName: 'Trần Thị Tám', email: 'lai-vung@example.vn', role: 'delegate', siteId });
    const delegate = await attendeeClient(conference.delegate.token);
    const made = await delegate.json('POST', '/api/v1/my/calendar/feed');
    expect(made.status).toBe(201);
    const feedPath = new URL(made.json.https as string).pathname;
    // The second meeting changes after the link was made: it is the feed's latest change.
    await updateMeeting(app.organizer, { meetingId: secondId, title: 'Hội nghị giao ban quý I (đổi phòng)' });
    const subscriber = app.newClient();
    const first = await subscriber.get(feedPath);
    expect(parseCalendar(first.text).events.map((event) => event.uid)).toContain(`${secondId}.meeting@bridgepoint`);

    await removeAttendee(app.organizer, { meetingId: secondId, attendeeId: again.id });
    const validators: Record<string, string> = {};
    const lastModified = first.headers.get('last-modified');
    if (lastModified) validators['if-modified-since'] = lastModified;
    const polled = await subscriber.get(feedPath, validators);
    expect(polled.status).toBe(200);
    expect(parseCalendar(polled.text).events.map((event) => event.uid)).not.toContain(`${secondId}.meeting@bridgepoint`);
    // The ETag still makes an unchanged feed cheap.
    const unchanged = await subscriber.get(feedPath, { 'if-none-match': polled.headers.get('etag')! });
    expect(unchanged.status).toBe(304);
  });
});

describe('a browser saving the file', () => {
  it("names it with a valid RFC 8187 filename* whatever the title holds (quotes, brackets, Vietnamese)", async () => {
    const other = await newCalendarConference(app.organizer, { title: "Họp 'khẩn' (bổ sung) *mới* 100% #1" });
    const file = await app.newClient().get(`/p/${other.publicId}/calendar.ics`);
    const disposition = file.headers.get('content-disposition')!;
    const extended = /filename\*=UTF-8''([^;\s]*)/.exec(disposition)?.[1];
    expect(extended).toBeDefined();
    // attr-char (RFC 8187 §3.2.1) or a %XX escape, nothing else: a ' ends the charset/language parts.
    expect(extended).toMatch(/^(?:[A-Za-z0-9!#$&+.^_`|~-]|%[0-9A-F]{2})+$/);
    expect(decodeURIComponent(extended!)).toBe("Họp 'khẩn' (bổ sung) mới 100% #1.ics");
  });
});

describe('old and other people\'s links', () => {
  it("an attendee's old personal link, once the organizer rotates it, neither downloads nor answers", async () => {
    const other = await newCalendarConference(app.organizer, { title: 'Hội nghị đổi liên kết' });
    const holder = await attendeeClient(other.delegate.token);
    expect((await holder.get('/my/calendar.ics')).status).toBe(200);
    await rotateAccessToken(app.organizer, { meetingId: other.meetingId, attendeeId: other.delegate.id });
    expect((await holder.get('/my/calendar.ics')).status).not.toBe(200);
    expect((await holder.json('POST', '/api/v1/my/rsvp', { response: 'accepted' })).status).toBeGreaterThanOrEqual(400);
    const bearer = HttpClient.withBearer(app.baseUrl, other.delegate.token);
    expect((await bearer.json('POST', '/api/v1/my/rsvp', { response: 'accepted' })).status).toBe(401);
    expect((await bearer.get('/my/calendar.ics')).status).not.toBe(200);
    expect((await bearer.json('POST', '/api/v1/my/rsvp', { response: 'declined', reason: 'x' })).status).toBeGreaterThanOrEqual(400);
  });

  it('an RSVP form posted from another site (no CSRF token) changes nothing', async () => {
    const delegate = await attendeeClient(conference.chair.token);
    const forged = await delegate.postForm('/my/rsvp', { response: 'declined', reason: 'forged' }, { csrf: false });
    expect(forged.status).toBe(403);
    const headcount = (await SiteModel.findById(conference.mainSiteId, { expectedHeadcount: 1 }).lean())!.expectedHeadcount;
    const file = parseCalendar((await delegate.get('/my/calendar.ics')).text);
    expect(file.events[0].attendees[0].partstat).toBe('NEEDS-ACTION');
    expect(headcount).toBeGreaterThanOrEqual(0);
  });
});

describe('every calendar route asks who is asking', () => {
  it('anonymous visitors, attendees and coordinators (of this or another meeting) get none of the organizer routes, nor another site\'s feed', async () => {
    const other = await newCalendarConference(app.organizer, { title: 'Hội nghị khác' });
    const coordinatorOf = async (meetingId: string, siteId: string) => (await SiteModel.findOne({ _id: siteId, meetingId }, { coordinatorToken: 1 }).lean())!.coordinatorToken;
    const askers: Array<[string, HttpClient]> = [
      ['anonymous', app.newClient()],
      ['attendee of this meeting', HttpClient.withBearer(app.baseUrl, conference.delegate.token)],
      ['chair of another meeting', HttpClient.withBearer(app.baseUrl, other.chair.token)],
      ['coordinator of another meeting', HttpClient.withBearer(app.baseUrl, await coordinatorOf(other.meetingId, other.laiVungId))],
      ['coordinator of Lai Vung here', HttpClient.withBearer(app.baseUrl, await coordinatorOf(conference.meetingId, conference.laiVungId))],
    ];
    const id = conference.meetingId;
    const calls: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/meetings/${id}/calendar`],
      ['GET', `/api/v1/meetings/${id}/invitations`],
      ['POST', `/api/v1/meetings/${id}/invitations`, { scope: 'all' }],
      ['POST', `/api/v1/meetings/${id}/calendar/feeds`, { scope: 'unit' }],
      ['POST', `/api/v1/meetings/${id}/calendar/feeds`, { scope: 'site', siteId: conference.mainSiteId }],
      ['DELETE', `/api/v1/meetings/${id}/calendar/feeds`, { scope: 'site', siteId: conference.mainSiteId }],
    ];
    for (const [who, client] of askers) {
      for (const [method, path, body] of calls) {
        const response = await client.json(method, path, body);
        expect([401, 403, 404], `${who}: ${method} ${path} ${JSON.stringify(body ?? '')} -> ${response.status}`).toContain(response.status);
      }
      const page = await client.get(`/meetings/${id}/calendar`);
      expect(page.status === 303 || page.status >= 400, `${who}: organizer calendar page -> ${page.status}`).toBe(true);
    }
    // The RSVP summary: a coordinator sees their own site only, another meeting's people nothing.
    const own = await askers[4][1].json('GET', `/api/v1/meetings/${id}/calendar/rsvps`);
    expect(own.status).toBe(200);
    expect(own.json.sites.map((site: { siteId: string }) => site.siteId)).toEqual([conference.laiVungId]);
    for (const [who, client] of askers.slice(0, 4)) {
      const response = await client.json('GET', `/api/v1/meetings/${id}/calendar/rsvps`);
      expect([401, 403, 404], `${who}: rsvps -> ${response.status}`).toContain(response.status);
    }
  });
});

describe('revoking a personal link', () => {
  it("also stops the calendar feed made through it (anyone who held the link could copy the feed's address from the page)", async () => {
    const other = await newCalendarConference(app.organizer, { title: 'Hội nghị lộ liên kết' });
    const leaked = HttpClient.withBearer(app.baseUrl, other.delegate.token);
    const made = await leaked.json('POST', '/api/v1/my/calendar/feed');
    expect(made.status).toBe(201);
    const feedPath = new URL(made.json.https as string).pathname;
    expect((await app.newClient().get(feedPath)).status).toBe(200);
    const rotated = await rotateAccessToken(app.organizer, { meetingId: other.meetingId, attendeeId: other.delegate.id });
    const gone = await app.newClient().get(feedPath);
    expect(gone.status).toBe(404);
    expect(gone.text).not.toContain('BEGIN:VCALENDAR');
    // The attendee, with the new link, makes a new feed.
    const token = (await AttendeeModel.findById(other.delegate.id, { accessToken: 1 }).lean())!.accessToken;
    expect(rotated.id).toBe(other.delegate.id);
    const again = await HttpClient.withBearer(app.baseUrl, token).json('POST', '/api/v1/my/calendar/feed');
    expect(again.status).toBe(201);
    expect((await app.newClient().get(new URL(again.json.https as string).pathname)).status).toBe(200);
  });

  it("goes with the address: a changed e-mail gives a new link, so whoever held the old one cannot read the new address's meetings through its feed", async () => {
    // Someone invited to a meeting of the unit, whose meetings a coordinator elsewhere would like to see.
    const watched = await newCalendarConference(app.organizer, { title: 'Hội nghị của người bị dò' });
    await createAttendee(app.organizer, { meetingId: watched.meetingId, fullName: 'Người bị dò', email: 'nguoi-bi-do@example.vn' });
    // Another meeting of the unit: its coordinator holds a delegate's link (the invitation went to an
    // address they had set, their own) and made the feed through it.
    const other = await newCalendarConference(app.organizer, { title: 'Hội nghị đổi địa chỉ' });
    const holder = HttpClient.withBearer(app.baseUrl, other.delegate.token);
    const made = await holder.json('POST', '/api/v1/my/calendar/feed');
    expect(made.status).toBe(201);
    const feedPath = new URL(made.json.https as string).pathname;
    const coordinator: Actor = { kind: 'coordinator', meetingId: other.meetingId, siteId: other.laiVungId, name: 'Điều phối Lai Vung' };
    await updateAttendee(coordinator, { meetingId: other.meetingId, attendeeId: other.delegate.id, email: 'nguoi-bi-do@example.vn' });

    const feed = await app.newClient().get(feedPath);
    expect(feed.status).toBe(404);
    expect(feed.text).not.toContain('Hội nghị của người bị dò');
    expect((await holder.get('/my/calendar.ics')).status).not.toBe(200);
    // The address's owner gets the new link with the next invitation; through it, their meetings.
    const token = (await AttendeeModel.findById(other.delegate.id, { accessToken: 1 }).lean())!.accessToken;
    expect(token).not.toBe(other.delegate.token);
    const ownersFeed = await HttpClient.withBearer(app.baseUrl, token).json('POST', '/api/v1/my/calendar/feed');
    expect(ownersFeed.status).toBe(201);
    expect((await app.newClient().get(new URL(ownersFeed.json.https as string).pathname)).text).toContain('Hội nghị của người bị dò');
  });
});

describe('files other programs read', () => {
  it('a night meeting in Europe/Paris across the end of summer time: ical.js and python3-vobject read the same instants', async () => {
    const other = await newCalendarConference(app.organizer, { title: 'Họp trực tuyến với Pháp' });
    await updateMeeting(app.organizer, { meetingId: other.meetingId, timeZone: 'Europe/Paris', start: '2026-10-24T22:30', end: '2026-10-25T04:00' });
    const text = (await HttpClient.withBearer(app.baseUrl, other.speaker.token).get('/my/calendar.ics')).text;
    expect(formatProblems(text)).toEqual([]);
    expect(vobjectProblems(text)).toBeNull();
    const parsed = parseCalendar(text);
    expect(parsed.timezones).toEqual(['Europe/Paris']);
    const [meeting, slot] = parsed.events;
    expect(meeting).toMatchObject({ tzid: 'Europe/Paris', start: '2026-10-24T22:30:00', end: '2026-10-25T04:00:00', startUtc: '2026-10-24T20:30:00.000Z' });
    // 04:00 CET (after the clocks went back) is 03:00 UTC: 5 h 30 of wall clock, 6 h 30 elapsed.
    expect(new Date(`${meeting.end}+01:00`).toISOString()).toBe('2026-10-25T03:00:00.000Z');
    expect(slot.startUtc).toBe('2026-10-24T20:45:00.000Z');
    const starts = vobjectStartsUtc(text);
    expect(starts[meeting.uid]).toBe('2026-10-24T20:30:00Z');
    expect(starts[slot.uid]).toBe('2026-10-24T20:45:00Z');
  });

  it('a delegate named with CR/LF and a forged ATTENDEE line stays one CN; the file still validates', async () => {
    const other = await newCalendarConference(app.organizer, { title: 'Hội nghị cử người dự thay' });
    const delegate = HttpClient.withBearer(app.baseUrl, other.delegate.token);
    const answered = await delegate.json('POST', '/api/v1/my/rsvp', { response: 'delegated', delegateName: 'Phạm Văn\r\nATTENDEE:mailto:evil@example.com\r\n"Chín"', delegateEmail: 'chin@example.vn' });
    expect(answered.status).toBe(200);
    const text = (await delegate.get('/my/calendar.ics')).text;
    expect(formatProblems(text)).toEqual([]);
    expect(vobjectProblems(text)).toBeNull();
    const attendees = parseCalendar(text).events[0].attendees;
    expect(attendees.map((attendee) => attendee.value)).toEqual(['mailto:lai-vung@example.vn', 'mailto:chin@example.vn']);
    expect(attendees[1].cn).not.toMatch(/[\r\n"]/);
    // HEAD: the same headers, no body.
    const head = await delegate.request('HEAD', '/my/calendar.ics');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    expect(head.text).toBe('');
  });
});

describe('a cancelled meeting', () => {
  it('offers no "add to Google/Outlook" link (it would add a live event), only its cancelled .ics', async () => {
    const other = await newCalendarConference(app.organizer, { title: 'Hội nghị đã hủy' });
    await cancel(app.organizer, other.meetingId);
    const speaker = HttpClient.withBearer(app.baseUrl, other.speaker.token);
    const coordinator = HttpClient.withBearer(app.baseUrl, (await SiteModel.findById(other.laiVungId, { coordinatorToken: 1 }).lean())!.coordinatorToken);
    const organizer = await app.signInOrganizer();
    for (const [who, client, path, download] of [
      ['public page', app.newClient(), `/p/${other.publicId}`, `/p/${other.publicId}/calendar.ics`],
      ['attendee page', speaker, '/my', '/my/calendar.ics'],
      ['coordinator page', coordinator, '/my/site/calendar', '/my/site/calendar.ics'],
      ['organizer page', organizer, `/meetings/${other.meetingId}/calendar`, `/p/${other.publicId}/calendar.ics`],
    ] as const) {
      const page = await client.get(path);
      expect(page.status, who).toBe(200);
      expect(page.text, who).toContain(`href="${download}"`);
      expect(page.text, who).not.toContain('calendar.google.com');
      expect(page.text, who).not.toContain('outlook.live.com');
    }
    const panel = await speaker.getJson('/api/v1/my/calendar');
    expect(panel.json.links).toBeUndefined();
    expect(panel.json.slots.every((slot: { links?: unknown }) => slot.links === undefined)).toBe(true);
  });
});
