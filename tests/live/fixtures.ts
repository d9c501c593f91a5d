// A scheduled meeting with a main site, three districts, people at each, and an agenda; sockets
// for every role (real socket.io-client over the test app's HTTP server).
import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { afterAll, beforeAll } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';
import { io as connect, type Socket } from 'socket.io-client';
import { createMeeting, setMeetingStatus } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { createAttendee } from '../../server/attendees/actions.js';
import { addAgendaItem } from '../../server/agenda/actions.js';
import { AttendeeModel } from '../../server/attendees/model.js';
import { SiteModel } from '../../server/sites/model.js';
import { AttendanceModel } from '../../server/attendance/model.js';
import type { Actor } from '../../server/lib/actor.js';
import type { LiveEvent } from '../../server/live/contract.js';

export interface DayFixture {
  meetingId: string;
  sites: Array<{ id: string; name: string; token: string }>;
  /** People per site index, with their personal link token. */
  people: Array<Array<{ id: string; fullName: string; token: string }>>;
  chairToken: string;
  agendaIds: string[];
}

export async function conferenceDay(organizer: Actor, options: { peoplePerSite?: number; title?: string } = {}): Promise<DayFixture> {
  const perSite = options.peoplePerSite ?? 4;
  const meeting = await createMeeting(organizer, { title: options.title ?? 'Hội nghị tổng kết năm 2026', start: '2026-12-29T07:30', end: '2026-12-29T11:30', status: 'scheduled' });
  const meetingId = String(meeting._id);
  const names = ['Văn phòng UBND Tỉnh', 'UBND huyện Cao Lãnh', 'UBND huyện Tháp Mười', 'UBND thành phố Sa Đéc'];
  const sites = [];
  for (const [index, name] of names.entries()) {
    const site = await addSite(organizer, { meetingId, name, isMain: index === 0 });
    sites.push({ id: String(site._id), name, token: (await SiteModel.findById(site._id).lean())!.coordinatorToken });
  }
  const people: DayFixture['people'] = [];
  for (const [index, site] of sites.entries()) {
    const row = [];
    for (let n = 0; n < perSite; n++) {
      const fullName = `Đại biểu ${index + 1}.${n + 1}`;
      const created = await createAttendee(organizer, { meetingId, fullName, siteId: site.id });
      row.push({ id: created.id, fullName, token: (await AttendeeModel.findById(created.id).lean())!.accessToken });
    }
    people.push(row);
  }
  const chair = await createAttendee(organizer, { meetingId, fullName: 'Huỳnh Minh Tuấn', position: 'Phó Chủ tịch UBND Tỉnh', role: 'chair', siteId: sites[0].id });
  const chairToken = (await AttendeeModel.findById(chair.id).lean())!.accessToken;
  const agendaIds: string[] = [];
  for (const [title, minutes] of [['Khai mạc', 10], ['Báo cáo tổng kết', 30], ['Thảo luận', 45], ['Kết luận', 15]] as const) {
    const change = await addAgendaItem(organizer, { meetingId, title, plannedMinutes: minutes });
    agendaIds.push(change.item!.id);
  }
  return { meetingId, sites, people, chairToken, agendaIds };
}

export async function scheduleOnly(organizer: Actor, meetingId: string): Promise<void> {
  await setMeetingStatus(organizer, { meetingId, action: 'schedule' }).catch(() => undefined);
}

export const opId = () => randomUUID();

export class Screens {
  private readonly sockets: Socket[] = [];
  constructor(private readonly baseUrl: string) {}

  open(auth: Record<string, string> = {}, headers: Record<string, string> = {}, options: { reconnection?: boolean } = {}): Socket {
    const socket = connect(this.baseUrl, { transports: ['websocket'], auth, extraHeaders: headers, reconnection: options.reconnection ?? false, reconnectionDelay: 100, reconnectionDelayMax: 200 });
    this.sockets.push(socket);
    remember(socket);
    return socket;
  }

  /** Opens and joins the meeting (the ack of the join says it is in). */
  async join(meetingId: string, auth: Record<string, string> = {}, headers: Record<string, string> = {}, options: { reconnection?: boolean; screen?: string } = {}): Promise<Socket> {
    const socket = this.open(auth, headers, options);
    const reply = await send(socket, 'meeting:join', { meetingId, ...(options.screen ? { screen: options.screen } : {}) });
    if (!reply.ok) throw new Error(`join refused: ${JSON.stringify(reply)}`);
    return socket;
  }

  closeAll(): void {
    for (const socket of this.sockets) socket.disconnect();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- acks are read as the user sees them
export type AnyAck = any;

const ackWaitMs = 10_000;

/**
 * An event and its ack, within 10 s (a join includes the connection's handshake, on a loaded
 * machine). A timeout names the event and whether the socket was still connected, so a failure
 * says which step never came back and why.
 */
export async function send(socket: Socket, name: string, input: unknown): Promise<AnyAck> {
  try {
    return await socket.timeout(ackWaitMs).emitWithAck(name, input);
  } catch (error) {
    const seen = history.get(socket)?.join('; ') || 'nothing else';
    throw new Error(`${name}: no ack within ${ackWaitMs} ms (socket ${socket.connected ? 'connected' : 'not connected'}, ${socket.id ?? 'never connected'}; it saw ${seen})`, { cause: error });
  }
}

/**
 * What happened to each screen's connection, with the time since it was opened: a socket opened
 * without reconnection that is refused (connect_error) or dropped never sends what waits in its
 * buffer, and its ack times out. The message of that timeout says which it was.
 */
const history = new WeakMap<Socket, string[]>();

function remember(socket: Socket): void {
  const opened = Date.now();
  const events: string[] = [];
  history.set(socket, events);
  const note = (what: string) => events.push(`${what} after ${Date.now() - opened} ms`);
  socket.on('connect', () => note('connect'));
  socket.on('connect_error', (error) => note(`connect_error "${error.message}"`));
  socket.on('disconnect', (reason) => note(`disconnect "${reason}"`));
}

/** What a screen heard, in order: batches (`events`, from a batched join) and single events. */
export type Heard = { kind: 'batch'; events: LiveEvent[] } | { kind: 'event'; event: LiveEvent };

/** Every batch and single event a screen receives, to look at after the fact. */
export function listen(socket: Socket): Heard[] {
  const heard: Heard[] = [];
  socket.on('events', (events: LiveEvent[]) => heard.push({ kind: 'batch', events }));
  socket.on('event', (event: LiveEvent) => heard.push({ kind: 'event', event }));
  return heard;
}

/** The events heard, batches unpacked, in the order they came. */
export const flat = (heard: Heard[]): LiveEvent[] => heard.flatMap((entry) => (entry.kind === 'batch' ? entry.events : [entry.event]));
export const revisionsOf = (heard: Heard[]): number[] => flat(heard).map((event) => event.revision);

/** Every event a screen receives, to look at after the fact. */
export function record(socket: Socket): LiveEvent[] {
  const events: LiveEvent[] = [];
  socket.on('event', (event: LiveEvent) => events.push(event));
  return events;
}

export function nextEvent(socket: Socket, type: string, match: (event: AnyAck) => boolean = () => true, timeoutMs = 5000): Promise<AnyAck> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} event within ${timeoutMs} ms`)), timeoutMs);
    const listener = (event: AnyAck) => {
      if (event.type !== type || !match(event)) return;
      clearTimeout(timer);
      socket.off('event', listener);
      resolve(event);
    };
    socket.on('event', listener);
  });
}

export async function eventually<T>(read: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The app, its screens and a signed-in organizer that a test file shares: started before the
 * file's tests, screens closed and the app stopped after them.
 */
export function sharedDayApp(): { readonly app: TestApp; readonly screens: Screens; readonly organizer: HttpClient } {
  const shared = {} as { app: TestApp; screens: Screens; organizer: HttpClient };
  beforeAll(async () => {
    shared.app = await startTestApp();
    shared.screens = new Screens(shared.app.baseUrl);
    shared.organizer = await shared.app.signInOrganizer();
  });
  afterAll(async () => {
    shared.screens?.closeAll();
    await shared.app?.stop();
  });
  return shared;
}

/**
 * A first check-in's attendance record (present, "expected" before it, version 1), written straight
 * to the store: what a process stopped between the record and its count leaves (`pendingSince` set),
 * or a record counted elsewhere (`pendingSince` null).
 */
export async function writeCheckInRecord(record: { meetingId: string; attendeeId: string | Types.ObjectId; siteId: string; at: Date; pendingSince: Date | null; walkIn?: boolean }): Promise<Types.ObjectId> {
  const { insertedId } = await AttendanceModel.collection.insertOne({
    meetingId: new Types.ObjectId(record.meetingId),
    attendeeId: new Types.ObjectId(record.attendeeId),
    siteId: new Types.ObjectId(record.siteId),
    walkIn: record.walkIn ?? false,
    status: 'present',
    presentAt: record.at,
    leftAt: null,
    late: false,
    absence: null,
    changedBy: 'Điểm cầu',
    changedAt: record.at,
    history: [{ status: 'expected', presentAt: null, leftAt: null, late: false, absence: null, changedBy: null }],
    version: 1,
    revision: 0,
    pendingSince: record.pendingSince,
    codeFailures: 0,
    codeFailuresSince: null,
    createdAt: record.at,
    updatedAt: record.at,
  });
  return insertedId;
}
