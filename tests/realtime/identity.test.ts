// A live connection is only as good as the credentials it was opened with: a coordinator whose
// site link was rotated, an organizer who signed out, a page on another origin get nothing more —
// joined to a meeting or not, and also when Connection State Recovery would resume them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connect, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addProvinceDistricts, rotateCoordinatorLink } from '../../server/sites/actions.js';
import { createAttendee, removeAttendee } from '../../server/attendees/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { inviteAccount, setAccountDisabled } from '../../server/accounts/actions.js';
import { UserModel } from '../../server/accounts/model.js';
import { HttpClient } from '../helpers/http.js';
import { SiteModel } from '../../server/sites/model.js';

let app: TestApp;
let meetingId: string;
let sites: Array<{ _id: unknown; coordinatorToken: string; name: string }>;
const sockets: Socket[] = [];
/** The organizer's screen, joined to the meeting: it hears every change of its attendee list. */
let witness: Socket;

function open(options: Partial<ManagerOptions & SocketOptions> = {}): Socket {
  const socket = connect(app.baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
  sockets.push(socket);
  return socket;
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

function refused(socket: Socket): Promise<Error & { data?: { error: { code: string; message: string } } }> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected, but should have been refused')));
    socket.once('connect_error', resolve);
  });
}

function join(socket: Socket): Promise<{ ok: boolean; error?: { code: string; message: string } }> {
  return socket.timeout(5000).emitWithAck('meeting:join', { meetingId });
}

const dayBookkeeping = new Set(['site.presence', 'revision']);
const disconnection = (socket: Socket) => new Promise<string>((resolve) => socket.once('disconnect', resolve));
const received = (socket: Socket) => {
  const events: string[] = [];
  // The site's own presence and bare revision numbers carry no one's data: not what this checks.
  socket.on('event', (event: { type: string }) => !dayBookkeeping.has(event.type) && events.push(event.type));
  return events;
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Add someone to a site and wait until the organizer's own screen (the witness) has heard it: the
 * server sent that event to every socket in the same turn, so a moment later any socket that
 * would get it has it. What a revoked screen must not see.
 */
async function addSomeoneTo(site: { _id: unknown }, fullName: string) {
  const heard = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the witness did not hear ${fullName} within 10 s`)), 10_000);
    const listener = (event: { type: string; payload: { attendee?: { fullName: string } } }) => {
      if (event.type !== 'attendee.created' || event.payload.attendee?.fullName !== fullName) return;
      clearTimeout(timer);
      witness.off('event', listener);
      resolve();
    };
    witness.on('event', listener);
  });
  await createAttendee(app.organizer, { meetingId, fullName, email: `${fullName.replace(/\W/g, '').toLowerCase()}@example.vn`, phone: '0912345678', siteId: String(site._id) });
  await heard;
  await pause(100);
}

beforeAll(async () => {
  app = await startTestApp({ publicUrl: 'https://hoinghi.dongthap.gov.vn' });
  const meeting = await createMeeting(app.organizer, { title: 'Hội nghị tổng kết', start: '2026-12-29T14:00', end: '2026-12-29T17:00' });
  meetingId = String(meeting._id);
  await addProvinceDistricts(app.organizer, { meetingId, provinceCode: '87' });
  sites = await SiteModel.find({ meetingId, isMain: false }).sort({ order: 1 }).lean();
  witness = open({ extraHeaders: { cookie: (await app.signInOrganizer()).cookieHeader() } });
  await connected(witness);
  expect(await join(witness)).toMatchObject({ ok: true });
});

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await app.stop();
});

describe("a coordinator's screen when the organizer rotates the site's link", () => {
  it('is cut off even before it joined a meeting', async () => {
    const site = sites[0];
    const socket = open({ auth: { token: site.coordinatorToken } });
    await connected(socket);
    const gone = disconnection(socket);
    await rotateCoordinatorLink(app.organizer, { meetingId, siteId: String(site._id) });
    expect(await gone).toBe('io server disconnect');
  });

  it('once joined, receives nothing more about its site', async () => {
    const site = sites[1];
    const socket = open({ auth: { token: site.coordinatorToken } });
    await connected(socket);
    expect(await join(socket)).toMatchObject({ ok: true });
    const events = received(socket);
    const gone = disconnection(socket);
    await rotateCoordinatorLink(app.organizer, { meetingId, siteId: String(site._id) });
    expect(await gone).toBe('io server disconnect');
    await addSomeoneTo(site, 'Trần Thị Bích');
    // The notice of the rotation itself is the last thing it gets.
    expect(events).toEqual(['site.linkRotated']);
  });

  it('cannot come back with the old link: the handshake is refused and says why', async () => {
    const site = sites[1];
    const socket = open({ auth: { token: site.coordinatorToken } });
    const error = await refused(socket);
    expect(error.message).toBe('Đường dẫn này không còn hiệu lực. Vui lòng liên hệ ban tổ chức để nhận đường dẫn mới.');
    expect(error.data?.error.code).toBe('unauthorized');
  });

  it('is not resumed by connection state recovery after a transport drop, and gets no replay of what it missed', async () => {
    const site = sites[2];
    const socket = open({ auth: { token: site.coordinatorToken } });
    await connected(socket);
    expect(await join(socket)).toMatchObject({ ok: true });
    // Something arrives first: recovery resumes from the last event a client saw.
    await addSomeoneTo(site, 'Đặng Văn Lâm');
    const events = received(socket);
    const serverId = socket.id;
    // The phone's network drops; the server keeps its session for recovery.
    socket.io.engine.close();
    while ((await app.realtime.io.fetchSockets()).some((candidate) => candidate.id === serverId)) await pause(20);
    await rotateCoordinatorLink(app.organizer, { meetingId, siteId: String(site._id) });
    await addSomeoneTo(site, 'Lê Văn Phúc');
    // It comes back (asking to recover, as Socket.IO's own reconnection does) only now: the link
    // was rotated while it was away, whatever the machine's speed.
    const outcome = new Promise<string>((resolve) => {
      socket.once('connect', () => resolve(socket.recovered ? 'recovered' : 'connected'));
      socket.once('connect_error', (error) => resolve(`refused: ${error.message}`));
    });
    socket.connect();
    expect(await outcome).toBe('refused: Đường dẫn này không còn hiệu lực. Vui lòng liên hệ ban tổ chức để nhận đường dẫn mới.');
    await pause(300);
    expect(events).toEqual([]);
    expect(socket.connected).toBe(false);
  });

  it('while its link is still valid, a dropped phone is resumed and gets what it missed', async () => {
    const site = sites[3];
    const socket = open({ auth: { token: site.coordinatorToken } });
    await connected(socket);
    expect(await join(socket)).toMatchObject({ ok: true });
    await addSomeoneTo(site, 'Võ Thị Sáu');
    const names: string[] = [];
    socket.on('event', (event: { type: string; payload: { attendee?: { fullName: string } } }) => !dayBookkeeping.has(event.type) && names.push(event.payload.attendee?.fullName ?? event.type));
    const serverId = socket.id;
    socket.io.engine.close();
    while ((await app.realtime.io.fetchSockets()).some((candidate) => candidate.id === serverId)) await pause(20);
    await createAttendee(app.organizer, { meetingId, fullName: 'Nguyễn Thị Mai', siteId: String(site._id) });
    // Back only once the change was made without it (asking to recover, as Socket.IO's own
    // reconnection does): what it gets is the replay of what it missed.
    const back = connected(socket);
    socket.connect();
    await back;
    await pause(200);
    expect(socket.recovered).toBe(true);
    expect(names).toEqual(['Nguyễn Thị Mai']);
  });
});

describe("an organizer's screen", () => {
  it('is disconnected the moment the organizer signs out, joined or not', async () => {
    const client = await app.signInOrganizer();
    const joined = open({ extraHeaders: { cookie: client.cookieHeader() } });
    const idle = open({ extraHeaders: { cookie: client.cookieHeader() } });
    await Promise.all([connected(joined), connected(idle)]);
    expect(await join(joined)).toMatchObject({ ok: true });
    const events = received(joined);
    const gone = [disconnection(joined), disconnection(idle)];
    const cookie = client.cookieHeader();
    expect((await client.postForm('/logout', {})).status).toBe(303);
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
    await addSomeoneTo(sites[4], 'Phạm Quốc Bảo');
    expect(events).toEqual([]);

    // The old cookie opens an anonymous socket at most, which may join nothing.
    const again = open({ extraHeaders: { cookie } });
    await connected(again);
    expect(await join(again)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });

  it('whose session vanished without notice (signed out on another instance) is refused at its next join', async () => {
    const client = await app.signInOrganizer();
    const socket = open({ extraHeaders: { cookie: client.cookieHeader() } });
    await connected(socket);
    await mongoose.connection.db!.collection('sessions').deleteMany({});
    await pause(2100); // the session store's read cache lives 2 s
    const gone = disconnection(socket);
    expect(await join(socket)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(await gone).toBe('io server disconnect');
  });
});

describe('screens whose credentials stop being valid', () => {
  it("an attendee's screens are cut off the moment the attendee is removed, joined or not", async () => {
    const created = await createAttendee(app.organizer, { meetingId, fullName: 'Võ Thị Hạnh', siteId: String(sites[5]._id) });
    const token = (await AttendeeModel.findById(created.id).lean())!.accessToken;
    const joined = open({ auth: { token } });
    const idle = open({ auth: { token } });
    await Promise.all([connected(joined), connected(idle)]);
    expect(await join(joined)).toMatchObject({ ok: true });
    const gone = [disconnection(joined), disconnection(idle)];
    await removeAttendee(app.organizer, { meetingId, attendeeId: created.id });
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
    // The link opens nothing any more.
    expect((await refused(open({ auth: { token } }))).data?.error.code).toBe('unauthorized');
  });

  it("an account an administrator disables loses its screens at once, joined or not", async () => {
    await inviteAccount(app.organizer, { name: 'Trần Văn Tạm', email: 'tam@example.vn', role: 'admin', password: 'a first password long enough' });
    const client = new HttpClient(app.baseUrl);
    expect((await client.signIn('tam@example.vn', 'a first password long enough')).status).toBe(303);
    const joined = open({ extraHeaders: { cookie: client.cookieHeader() } });
    const idle = open({ extraHeaders: { cookie: client.cookieHeader() } });
    await Promise.all([connected(joined), connected(idle)]);
    expect(await join(joined)).toMatchObject({ ok: true });
    const events = received(joined);
    const gone = [disconnection(joined), disconnection(idle)];
    const user = await UserModel.findOne({ email: 'tam@example.vn' }).lean();
    await setAccountDisabled(app.organizer, { userId: String(user!._id) }, true);
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
    await addSomeoneTo(sites[6], 'Đặng Văn Lộc');
    expect(events).toEqual([]);
  });
});

describe('a browser that accepts an organizer invitation while signed in', () => {
  it("closes the screens of the session it leaves, as signing in does", async () => {
    const client = await app.signInOrganizer();
    const joined = open({ extraHeaders: { cookie: client.cookieHeader() } });
    const idle = open({ extraHeaders: { cookie: client.cookieHeader() } });
    await Promise.all([connected(joined), connected(idle)]);
    expect(await join(joined)).toMatchObject({ ok: true });
    const gone = [disconnection(joined), disconnection(idle)];
    const invitation = await inviteAccount(app.organizer, { name: 'Lê Văn Mới', email: 'moi@example.vn', role: 'admin' });
    expect((await client.postForm(`/invite/${invitation.token}`, { password: 'a new password long enough' })).status).toBe(303);
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
  });
});

describe('sockets from another origin', () => {
  it("a page on another port of the same host cannot ride on the organizer's cookie", async () => {
    const client = await app.signInOrganizer();
    const port = new URL(app.baseUrl).port;
    const socket = open({ extraHeaders: { cookie: client.cookieHeader(), origin: `http://127.0.0.1:${Number(port) + 1}` } });
    const error = await refused(socket);
    expect(error.message).toMatch(/websocket error|xhr poll error/);
    const polling = open({ transports: ['polling'], extraHeaders: { cookie: client.cookieHeader(), origin: 'https://evil.example' } });
    await refused(polling);
  });

  it("the app's own pages (same host, or PUBLIC_URL) and clients without an Origin are let in", async () => {
    const client = await app.signInOrganizer();
    for (const origin of [app.baseUrl, 'https://hoinghi.dongthap.gov.vn']) {
      const socket = open({ extraHeaders: { cookie: client.cookieHeader(), origin } });
      await connected(socket);
      expect(await join(socket)).toMatchObject({ ok: true });
    }
    const kiosk = open({ auth: { token: sites[5].coordinatorToken } });
    await connected(kiosk);
    expect(await join(kiosk)).toMatchObject({ ok: true });
  });
});
