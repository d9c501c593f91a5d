// The security tests' world: one meeting of unit A with every kind of asker (administrator,
// organizer of unit A, organizer of unit B, chair, coordinators of two sites, attendees), a
// directive with tasks, an import draft, a calendar feed and a pending invitation; the routes the
// Express app registers, read at run time; and a snapshot of every stored document, to prove a
// refused request changed nothing (and to put back what an allowed one changed).
import type { Express } from 'express';
import mongoose from 'mongoose';
import { EJSON } from 'bson';
import { addUnit } from '../../server/units/actions.js';
import { inviteAccount, organizerActor } from '../../server/accounts/actions.js';
import { addDirective, assignDirective } from '../../server/followup/actions.js';
import { regenerateFeed } from '../../server/calendar/actions.js';
import { MeetingModel } from '../../server/meetings/model.js';
import { createMeeting } from '../../server/meetings/actions.js';
import { addSite } from '../../server/sites/actions.js';
import { conferenceDay, type DayFixture } from '../live/fixtures.js';
import { testUnit } from '../helpers/database.js';
import { organizerCredentials, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';

export const password = 'correct horse battery staple';

export interface World {
  day: DayFixture;
  meetingId: string;
  publicId: string;
  /** Site A (index 1) is the coordinator's own; site B (index 2) is the target of every request. */
  siteA: { id: string; token: string };
  siteB: { id: string; token: string };
  /** The attendee asking (at site A), and the someone else every request names (at site B). */
  self: { id: string; token: string };
  other: { id: string; token: string };
  itemId: string;
  directiveId: string;
  /** Every directive and every site of the meeting, in order. */
  directiveIds: string[];
  siteIds: string[];
  taskB: string;
  taskA: string;
  draftId: string;
  feedToken: string;
  inviteToken: string;
  spareUserId: string;
  draftMeetingId: string;
  emptySiteId: string;
  otherUnitId: string;
  accounts: { admin: string; organizer: string; otherOrganizer: string };
}

export async function buildWorld(app: TestApp): Promise<World> {
  const otherUnit = await addUnit(app.organizer, { name: 'Sở Giáo dục và Đào tạo' });
  const organizer = await inviteAccount(app.organizer, { email: 'khcn@example.vn', name: 'Tổ chức KHCN', role: 'organizer', unitId: testUnit.id, password });
  await inviteAccount(app.organizer, { email: 'giaoduc@example.vn', name: 'Tổ chức Giáo dục', role: 'organizer', unitId: String(otherUnit._id), password });
  const spare = await inviteAccount(app.organizer, { email: 'spare@example.vn', name: 'Tài khoản dự phòng', role: 'organizer', unitId: testUnit.id, password });
  const pending = await inviteAccount(app.organizer, { email: 'pending@example.vn', name: 'Chưa nhận lời mời', role: 'organizer', unitId: testUnit.id });
  const unitOrganizer = organizerActor(organizer.user);

  const day = await conferenceDay(unitOrganizer, { peoplePerSite: 2 });
  const meetingId = day.meetingId;
  const meeting = (await MeetingModel.findById(meetingId).lean())!;
  const directive = await addDirective(unitOrganizer, { meetingId, text: 'Mỗi huyện báo cáo kết quả chuyển giao công nghệ.' });
  const secondDirective = await addDirective(unitOrganizer, { meetingId, text: 'Sở Khoa học và Công nghệ tổng hợp báo cáo quý.' });
  // What a delete may remove: a draft meeting of the same unit, a site nobody is invited to.
  const draftMeeting = await createMeeting(unitOrganizer, { title: 'Hội nghị nháp', start: '2027-02-01T08:00', end: '2027-02-01T10:00' });
  const emptySite = await addSite(unitOrganizer, { meetingId, name: 'UBND huyện Hồng Ngự' });
  const tasks = await assignDirective(unitOrganizer, { meetingId, directiveId: directive.id, assignees: [`site:${day.sites[1].id}`, `site:${day.sites[2].id}`], dueDate: '2027-03-31' });
  const feed = await regenerateFeed(unitOrganizer, { meetingId, scope: 'unit' });
  const client = app.newClient();
  await client.signIn('khcn@example.vn', password);
  const draft = await client.upload(`/api/v1/meetings/${meetingId}/attendees/import`, 'file', { name: 'a.csv', type: 'text/csv', content: 'Họ và tên,Chức vụ\nNguyễn Văn Mới,Chuyên viên\n' });
  if (!draft.json?.draftId && !draft.json?.id) throw new Error(`import draft not made: ${draft.status} ${draft.text.slice(0, 300)}`);

  return {
    day,
    meetingId,
    publicId: meeting.publicId,
    siteA: { id: day.sites[1].id, token: day.sites[1].token },
    siteB: { id: day.sites[2].id, token: day.sites[2].token },
    self: day.people[1][0],
    other: day.people[2][0],
    itemId: day.agendaIds[1],
    directiveId: directive.id,
    directiveIds: [directive.id, secondDirective.id],
    siteIds: [...day.sites.map((site) => site.id), String(emptySite._id)],
    taskA: tasks.find((task) => task.assignee.id === day.sites[1].id)!.id,
    taskB: tasks.find((task) => task.assignee.id === day.sites[2].id)!.id,
    draftId: String(draft.json.draftId ?? draft.json.id),
    feedToken: feed.token,
    inviteToken: pending.token!,
    spareUserId: String(spare.user._id),
    draftMeetingId: String(draftMeeting._id),
    emptySiteId: String(emptySite._id),
    otherUnitId: String(otherUnit._id),
    accounts: { admin: organizerCredentials.email, organizer: 'khcn@example.vn', otherOrganizer: 'giaoduc@example.vn' },
  };
}

// ---------------------------------------------------------------------------------------------
// Who asks

export const roles = ['anonymous', 'attendee', 'attendeeOnOther', 'coordinatorOnB', 'otherUnitOrganizer', 'chair', 'organizer', 'administrator'] as const;
export type Role = (typeof roles)[number];

export const roleTitles: Record<Role, string> = {
  anonymous: 'anonymous',
  attendee: 'attendee (own)',
  attendeeOnOther: 'attendee (someone else)',
  coordinatorOnB: 'coordinator A on site B',
  otherUnitOrganizer: "other unit's organizer",
  chair: 'chair',
  organizer: 'organizer',
  administrator: 'administrator',
};

/** A fresh "browser" signed in (or linked in) as the role. */
export async function clientFor(app: TestApp, world: World, role: Role): Promise<HttpClient> {
  const client = app.newClient();
  const signIn = async (email: string) => {
    const response = await client.signIn(email, email === organizerCredentials.email ? organizerCredentials.password : password);
    if (response.status !== 303) throw new Error(`sign-in of ${email} failed: ${response.status}`);
  };
  switch (role) {
    case 'anonymous':
      return client;
    case 'attendee':
    case 'attendeeOnOther':
      await client.openLink(`/a/${world.self.token}`);
      return client;
    case 'coordinatorOnB':
      await client.openLink(`/s/${world.siteA.token}`);
      return client;
    case 'chair':
      await client.openLink(`/a/${world.day.chairToken}`);
      return client;
    case 'otherUnitOrganizer':
      await signIn(world.accounts.otherOrganizer);
      return client;
    case 'organizer':
      await signIn(world.accounts.organizer);
      return client;
    case 'administrator':
      await signIn(world.accounts.admin);
      return client;
  }
}

/** The values of a route's parameters as this role names them (its own, or someone else's). */
export function paramsFor(world: World, role: Role, route = ''): Record<string, string> {
  const own = role === 'attendee';
  const deletes = /^(POST .*\/delete|DELETE .*)$/.test(route);
  return {
    meetingId: deletes && /^(POST \/meetings\/:meetingId\/delete|DELETE \/api\/v1\/meetings\/:meetingId)$/.test(route) ? world.draftMeetingId : world.meetingId,
    siteId: deletes && /sites\/:siteId(\/delete)?$/.test(route) ? world.emptySiteId : own ? world.siteA.id : world.siteB.id,
    attendeeId: own ? world.self.id : world.other.id,
    taskId: own ? world.taskA : world.taskB,
    itemId: world.itemId,
    directiveId: world.directiveId,
    draftId: world.draftId,
    row: '2',
    userId: world.spareUserId,
    unitId: world.otherUnitId,
    publicId: world.publicId,
    name: 'meeting:setQuorum',
    locale: 'vi',
  };
}

/** Fills `:name` parameters; `:token` is the route's own capability (see tokenFor). */
export function fillPath(pattern: string, params: Record<string, string>, token: string): string {
  return pattern.replace(/:(\w+)/g, (_whole, name: string) => {
    if (name === 'token') return token;
    const value = params[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${pattern}`);
    return encodeURIComponent(value);
  });
}

export function tokenFor(world: World, pattern: string): string {
  if (pattern.startsWith('/s/')) return world.siteB.token;
  if (pattern.startsWith('/a/')) return world.other.token;
  if (pattern.startsWith('/invite/')) return world.inviteToken;
  if (pattern.startsWith('/calendar/feeds/')) return world.feedToken;
  return '';
}

/**
 * The secret links an asker must never be shown: another person's or site's link, the unit's
 * feed, an invitation (shown once, to the administrator who made it, never again).
 */
export function secretsHiddenFrom(world: World, role: Role): string[] {
  if (role === 'organizer' || role === 'administrator') return [world.inviteToken];
  const hidden = [world.inviteToken, world.feedToken, world.siteB.token, world.other.token];
  if (role !== 'coordinatorOnB') hidden.push(world.siteA.token);
  if (role !== 'attendee' && role !== 'attendeeOnOther') hidden.push(world.self.token);
  if (role !== 'chair') hidden.push(world.day.chairToken);
  return hidden;
}

// ---------------------------------------------------------------------------------------------
// The routes the app has

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every "METHOD /path" the Express app answers, read from its router (nested routers included). */
export function registeredRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const path of [layer.route.path].flat()) for (const method of Object.keys(layer.route.methods)) found.push(`${method.toUpperCase()} ${path}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...new Set(found)];
}

// ---------------------------------------------------------------------------------------------
// Stored data

export type Snapshot = Map<string, string[]>;

/** Sessions change with every sign-in of a fresh client; everything else must not move. */
const notCompared = new Set(['sessions']);

export async function snapshotStore(): Promise<Snapshot> {
  const db = mongoose.connection.db!;
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((entry) => entry.name).filter((name) => !notCompared.has(name) && !name.startsWith('system.'));
  const entries = await Promise.all(
    names.sort().map(async (name) => [name, (await db.collection(name).find({}).sort({ _id: 1 }).toArray()).map((doc) => EJSON.stringify(doc, { relaxed: false }))] as const),
  );
  return new Map(entries);
}

/** The collections whose documents differ, with a sample of what changed. */
export function differences(before: Snapshot, after: Snapshot): string[] {
  const changed: string[] = [];
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(name) ?? [];
    const b = after.get(name) ?? [];
    if (a.length !== b.length || a.some((doc, index) => doc !== b[index] && !presenceOnly(name, doc, b[index]))) {
      const added = b.filter((doc) => !a.includes(doc)).slice(0, 1);
      // Same count: say which fields of the first changed document moved, not only what it is now.
      const index = a.length === b.length ? a.findIndex((doc, i) => doc !== b[i]) : -1;
      const what = index >= 0 ? `, fields ${changedPaths(JSON.parse(a[index]), JSON.parse(b[index])).slice(0, 6).join(', ')} of ${a[index].slice(0, 60)}` : added.length ? `, e.g. ${added[0].slice(0, 300)}` : '';
      changed.push(`${name}: ${a.length} -> ${b.length} documents${what}`);
    }
  }
  return changed;
}

/**
 * A site's screens coming or going (realtime presence: a socket's join, the sweep, the check a
 * snapshot starts) moves `live.sites.<id>.connected`/`lastSeenAt` and the revision in the
 * background, whatever request is being looked at: such a change is not the request's.
 */
function presenceOnly(collection: string, before: string, after: string | undefined): boolean {
  if (collection !== 'meetings' || after === undefined) return false;
  const paths = changedPaths(JSON.parse(before), JSON.parse(after)).map((change) => change.slice(0, change.indexOf(':')));
  const presence = paths.filter((path) => /^live\.sites\.[0-9a-f]{24}\.(connected|lastSeenAt)$/.test(path));
  return presence.length > 0 && paths.every((path) => presence.includes(path) || path === 'revision' || path === 'updatedAt');
}

/** Dotted paths whose values differ between two documents (as EJSON), each with old -> new. */
function changedPaths(a: unknown, b: unknown, prefix = ''): string[] {
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
  // EJSON's typed values ({ $oid }, { $date }, { $numberInt }...) are leaves.
  const typed = (value: Record<string, unknown>) => Object.keys(value).some((key) => key.startsWith('$'));
  if (isObject(a) && isObject(b) && !typed(a) && !typed(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((key) => changedPaths(a[key], b[key], prefix ? `${prefix}.${key}` : key));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${prefix}: ${JSON.stringify(a)?.slice(0, 40)} -> ${JSON.stringify(b)?.slice(0, 40)}`];
}

const readMethods = new Set(['find', 'findOne', 'countDocuments', 'estimatedDocumentCount', 'aggregate', 'distinct', 'createIndex', 'createIndexes', 'listIndexes', 'watch']);

/**
 * Every write the app makes goes through mongoose (sessions aside, which are not compared): its
 * debug hook names each collection call, so a request that made no write call changed nothing,
 * and only the others need a whole-store comparison.
 */
export function watchWrites(): { take(): string[] } {
  let writes: string[] = [];
  mongoose.set('debug', (collection: string, method: string) => {
    if (!readMethods.has(method)) writes.push(`${collection}.${method}`);
  });
  return {
    take() {
      const taken = writes;
      writes = [];
      return taken;
    },
  };
}

/** Puts every changed collection back as it was in `snapshot`. */
export async function restoreStore(snapshot: Snapshot, current: Snapshot): Promise<void> {
  const db = mongoose.connection.db!;
  for (const name of new Set([...snapshot.keys(), ...current.keys()])) {
    const want = snapshot.get(name) ?? [];
    const have = current.get(name) ?? [];
    if (want.length === have.length && want.every((doc, index) => doc === have[index])) continue;
    const collection = db.collection(name);
    await collection.deleteMany({});
    if (want.length > 0) await collection.insertMany(want.map((doc) => EJSON.parse(doc, { relaxed: false }) as Record<string, unknown>));
  }
}
