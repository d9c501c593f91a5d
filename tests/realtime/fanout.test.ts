import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type Socket } from 'socket.io-client';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addProvinceDistricts, rotateCoordinatorLink } from '../../server/sites/actions.js';
import { createAttendee, updateAttendee } from '../../server/attendees/actions.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { nextEvent } from '../live/fixtures.js';

let app: TestApp;
let meetingId: string;
let otherMeetingId: string;
let sites: Array<{ _id: unknown; coordinatorToken: string; name: string }>;
const sockets: Socket[] = [];

function open(auth: Record<string, string> = {}, headers: Record<string, string> = {}): Socket {
  const socket = connect(app.baseUrl, { transports: ['websocket'], auth, extraHeaders: headers, reconnection: false });
  sockets.push(socket);
  return socket;
}

function join(socket: Socket, id: string): Promise<{ ok: boolean; error?: { code: string; message: string } }> {
  return socket.timeout(5000).emitWithAck('meeting:join', { meetingId: id });
}

 

beforeAll(async () => {
  app = await startTestApp();
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị tổng kết', start: '2026-12-29T14:00', end: '2026-12-29T17:00' });
  meetingId = String(meeting._id);
  otherMeetingId = String((await createMeeting(app.organizer, { title: 'Hội nghị khác', start: '2026-12-30T08:00', end: '2026-12-30T11:00' }))._id);
  await addProvinceDistricts(app.organizer, { meetingId, provinceCode: '87' });
  sites = await SiteModel.find({ meetingId, isMain: false }).sort({ order: 1 }).lean();
});

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await app.stop();
});

describe('live updates over Socket.IO', () => {
  it("an organizer's screen sees a new attendee with the meeting's new revision", async () => {
    const client = await app.signInOrganizer();
    // The session cookie travels in the handshake, as in a browser.
    const socket = open({}, { cookie: client.cookieHeader() });
    expect(await join(socket, meetingId)).toMatchObject({ ok: true });
    const before = (await MeetingModel.findById(meetingId).lean())!.revision;
    const event = nextEvent(socket, 'attendee.created', (heard) => heard.payload.attendee?.fullName === 'Lê Thị Hồng');
    const created = await createAttendee(app.organizer, { meetingId, fullName: 'Lê Thị Hồng', email: 'hong.le@dongthap.gov.vn', phone: '0912345678', siteId: String(sites[0]._id) });
    const received = await event;
    const stored = (await MeetingModel.findById(meetingId).lean())!.revision;
    // The event carries the revision the change stored: one more than before, nothing skipped.
    expect(stored).toBe(before + 1);
    expect(received).toMatchObject({ type: 'attendee.created', meetingId, revision: stored });
    // The organizers see the whole record (contacts included) but never the personal link's secret.
    expect(received.payload.attendee).toEqual({
      id: created.id,
      meetingId,
      fullName: 'Lê Thị Hồng',
      position: '',
      organization: '',
      email: 'hong.le@dongthap.gov.vn',
      phone: '0912345678',
      siteId: String(sites[0]._id),
      role: 'delegate',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(received.payload.attendee).not.toHaveProperty('accessToken');
  });

  it("a district coordinator gets their own site's changes but not another site's", async () => {
    const [mine, theirs] = sites;
    const socket = open({ token: mine.coordinatorToken });
    expect(await join(socket, meetingId)).toMatchObject({ ok: true });
    const received: string[] = [];
    // Other sites' changes reach this screen only as bare revision numbers ("revision", no payload).
    const names = ['Người ở huyện khác', 'Người của huyện mình'];
    // (Only this test's people: a change made just before the join may still be sent after it.)
    socket.on('event', (event: { type: string; payload: { attendee?: { fullName?: string } } }) => event.type.startsWith('attendee.') && names.includes(event.payload?.attendee?.fullName ?? '') && received.push(event.payload!.attendee!.fullName!));
    await createAttendee(app.organizer, { meetingId, fullName: 'Người ở huyện khác', siteId: String(theirs._id) });
    const ownEvent = nextEvent(socket, 'attendee.created', (heard) => heard.payload.attendee?.fullName === 'Người của huyện mình');
    await createAttendee(app.organizer, { meetingId, fullName: 'Người của huyện mình', siteId: String(mine._id) });
    await ownEvent;
    expect(received).toEqual(['Người của huyện mình']);
  });

  it('an attendee cannot follow another meeting, and is told why in Vietnamese', async () => {
    const attendee = await AttendeeModel.findOne({ meetingId }).lean();
    const socket = open({ token: attendee!.accessToken });
    const reply = await join(socket, otherMeetingId);
    expect(reply).toMatchObject({ ok: false, error: { code: 'forbidden', message: 'Bạn không có quyền thực hiện thao tác này.' } });
  });

  it('an anonymous socket cannot join any meeting', async () => {
    const socket = open();
    expect(await join(socket, meetingId)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });

  it('a malformed join is refused with a field message', async () => {
    const socket = open({ token: sites[0].coordinatorToken });
    const reply = (await socket.timeout(5000).emitWithAck('meeting:join', { meetingId: 'not-an-id' })) as { ok: boolean; error: { code: string; fields: Record<string, string> } };
    expect(reply.ok).toBe(false);
    expect(reply.error.code).toBe('invalid');
    expect(reply.error.fields.meetingId).toBe('Mã định danh không hợp lệ.');
  });

  it("a coordinator's screen is cut off the moment the organizer rotates the site's link", async () => {
    const site = sites[5];
    const socket = open({ token: site.coordinatorToken });
    expect(await join(socket, meetingId)).toMatchObject({ ok: true });
    const disconnected = new Promise<string>((resolve) => socket.on('disconnect', resolve));
    await rotateCoordinatorLink(app.organizer, { meetingId, siteId: String(site._id) });
    expect(await disconnected).toBe('io server disconnect');
  });

  it('a chair who is no longer chair stops receiving what only organizers and the chair see', async () => {
    const chair = await createAttendee(app.organizer, { meetingId, fullName: 'Huỳnh Minh Tuấn', role: 'chair', siteId: String(sites[0]._id) });
    const token = (await AttendeeModel.findById(chair.id).lean())!.accessToken;
    const socket = open({ token });
    expect(await join(socket, meetingId)).toMatchObject({ ok: true });
    const disconnected = new Promise<string>((resolve) => socket.on('disconnect', resolve));
    await updateAttendee(app.organizer, { meetingId, attendeeId: chair.id, role: 'delegate' });
    expect(await disconnected).toBe('io server disconnect');

    // Renaming someone does not cut their screen off.
    const delegate = open({ token });
    expect(await join(delegate, meetingId)).toMatchObject({ ok: true });
    let dropped = false;
    delegate.on('disconnect', () => (dropped = true));
    await updateAttendee(app.organizer, { meetingId, attendeeId: chair.id, fullName: 'Huỳnh Minh Tuấn (đại biểu)' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(dropped).toBe(false);
    expect(delegate.connected).toBe(true);
  });
});
