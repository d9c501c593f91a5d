// What a screen reads on the day: the whole live state in one snapshot, filtered for the asker,
// and a site's current self check-in code.
import './messages.js';
import { SiteModel } from '../sites/model.js';
import { liveMeetingView } from '../meetings/lifecycle.js';
import { liveAgendaView, loadAgendaItems, type AgendaLiveState } from '../agenda/live-view.js';
import { readSpeakerRequests, speakersView } from '../speakers/queries.js';
import { attendanceRecords, latecomerRecords } from '../attendance/queries.js';
import { codePeriodSeconds, currentCode } from '../attendance/codes.js';
import { checkInCodeInput, snapshotInput, type CheckInCodeView, type LinkStatus, type LiveSnapshot, type SiteLiveView, type YouView } from './contract.js';
import { invitedBySite, liveSitesOf, siteCounts, sumCounts } from './counts.js';
import { quorumOf } from './quorum.js';
import { connectedSitesForSnapshot, settleSitePresence } from './presence.js';
import { canRunMeeting, requireSiteActor } from './permissions.js';
import type { Actor } from '../lib/actor.js';
import { loadMeetingFor, readMeetingFor } from '../meetings/guard.js';
import { meetingGeneration, readMeeting } from '../meetings/cache.js';
import { NotFound } from '../lib/errors.js';
import { parseInput } from '../lib/validation.js';
import { BoundedMap } from '../lib/bounded-map.js';
import type { Types } from 'mongoose';

const iso = (value: Date | null | undefined) => (value ? new Date(value).toISOString() : null);

/** The `live:snapshot` command: `{ revision, snapshot }`. */
export async function liveSnapshotCommand(actor: Actor, input: unknown): Promise<{ revision: number; snapshot: LiveSnapshot }> {
  const { meetingId } = parseInput(snapshotInput, input);
  const snapshot = await getLiveSnapshot(actor, meetingId);
  return { revision: snapshot.revision, snapshot };
}

export interface SnapshotOptions {
  /**
   * 'all' (default): every record the asker may see. 'latecomers': only the meeting's latecomers
   * (attendance/queries.ts latecomerRecords), for pages that show no one else (the organizer's
   * dashboard, the chair's view, the wall): a 2,000-attendee meeting's page would otherwise
   * carry everyone (663 KB) to list its latecomers. Later records arrive as events either way.
   */
  attendance?: 'all' | 'latecomers';
}

/** Everything a screen of the day shows, as this asker may see it (pages embed it; GET /live sends it). */
export async function getLiveSnapshot(actor: Actor, meetingId: string, options: SnapshotOptions = {}): Promise<LiveSnapshot> {
  parseInput(snapshotInput, { meetingId });
  // The one read rule (meetings/guard.ts): another unit's organizer is told it does not exist.
  // As pages read it (meetings/cache.ts): forgotten by every change of the meeting, on every instance.
  const meeting = await readMeetingFor(actor, meetingId);
  const revision = meeting.revision;
  const scope = actor.kind === 'coordinator' ? { siteId: actor.siteId } : actor.kind === 'attendee' ? { attendeeId: actor.attendeeId } : {};
  const shared = <T>(name: string, read: () => Promise<T>) => sharedRead(meetingId, revision, name, read);
  const [sites, invited, items, speakerRequests, attendance] = await Promise.all([
    shared('sites', () => SiteModel.find({ meetingId }, { name: 1, isMain: 1, order: 1, coordinatorToken: 1 }).sort({ order: 1 }).lean()),
    invitedBySite(meetingId),
    shared('agenda', () => loadAgendaItems(meetingId)),
    shared('speakers', () => readSpeakerRequests(meetingId)),
    // Latecomers alone only for an asker who may see everyone (organizers, the chair); others' scope stays.
    options.attendance === 'latecomers' && actor.kind !== 'coordinator' && actor.kind !== 'attendee' ? latecomerRecords(meetingId) : attendanceRecords(meetingId, scope),
  ]);
  const live = liveSitesOf(meeting.live);
  void checkPresence(meetingId, live, sites.map((site) => String(site._id)));
  const siteViews: SiteLiveView[] = sites.map((site) => {
    const id = String(site._id);
    const state = live[id] ?? {};
    const isConnected = Boolean(state.connected);
    return {
      id,
      name: site.name,
      isMain: site.isMain,
      order: site.order,
      counts: { ...siteCounts(state, invited.get(id)), revision },
      link: { status: (state.linkStatus as LinkStatus | null | undefined) ?? null, note: (state.linkNote as string | undefined) ?? '', at: iso(state.linkAt as Date | null), revision },
      presence: { connected: isConnected, lastSeenAt: isConnected ? new Date().toISOString() : iso(state.lastSeenAt as Date | null), revision },
    };
  });
  const totals = sumCounts(siteViews.map((site) => site.counts));
  const speakersState = meeting.live?.speakers as { queue?: Types.ObjectId[]; floorId?: Types.ObjectId | null } | undefined;
  const coordinatorSite = actor.kind === 'coordinator' ? sites.find((site) => String(site._id) === actor.siteId) : undefined;
  const snapshot: LiveSnapshot = {
    revision,
    serverNow: new Date().toISOString(),
    meeting: liveMeetingView(meeting),
    sites: siteViews,
    totals: { ...totals, revision },
    quorum: quorumOf(totals, meeting.live?.quorumPercent ?? 50),
    agenda: liveAgendaView(items, meeting.startsAt, meeting.live?.agenda as AgendaLiveState, revision),
    speakers: speakersView(speakerRequests, speakersState, revision),
    attendance,
    checkInCode: coordinatorSite ? codeView(coordinatorSite.coordinatorToken, String(coordinatorSite._id)) : null,
    you: youView(actor, meetingId),
  };
  return snapshot;
}

/**
 * What every snapshot of a meeting at one revision reads alike (its sites, agenda items and
 * speaker requests), read once however many screens ask: a reconnect or an instance's restart
 * brings thousands of phones at once, and each reading them again saturated the store, so that
 * snapshots timed out, were asked again, and check-ins waited behind them. Views that depend on
 * "now" (timers, speaking time, lastSeenAt) are still made per snapshot from these. A snapshot
 * read with an older revision than the shared one (a stale copy of the meeting) reads for itself.
 */
const sharedReads = new BoundedMap<string, { revision: number; generation: number; reads: Map<string, Promise<unknown>> }>(500, { ttlMs: 5_000 });

/**
 * A change claims its revision before it writes its other collections (meetings/revision.ts), so a
 * snapshot can see revision R before R's site or speaker request is written. Such a read is not
 * kept for the snapshots that come after: the change's write forgets the meeting (here, and on the
 * other instances when its event is relayed), which moves the meeting's generation, and a shared
 * read is only handed to snapshots of the generation it started in (and dropped if it ended in
 * another). Otherwise every snapshot for 5 s would carry R without R's change, and R's event,
 * no newer than the snapshot, would be dropped: screens stuck without the new site or request.
 */
function sharedRead<T>(meetingId: string, revision: number, name: string, read: () => Promise<T>): Promise<T> {
  const generation = meetingGeneration(meetingId);
  let entry = sharedReads.get(meetingId);
  if (entry && revision < entry.revision) return Promise.resolve(read());
  if (!entry || revision > entry.revision || generation !== entry.generation) {
    entry = { revision, generation, reads: new Map() };
    sharedReads.set(meetingId, entry);
  }
  const known = entry.reads.get(name) as Promise<T> | undefined;
  if (known) return known;
  const reads = entry.reads;
  // Once into a promise: a mongoose query is a thenable that runs again at each await.
  const reading = Promise.resolve(read());
  reads.set(name, reading);
  const forget = () => reads.get(name) === reading && reads.delete(name);
  // A failed read (the store restarting) is not shared: the next snapshot reads again. Nor is one
  // a change's write overtook while it ran.
  reading.then(() => meetingGeneration(meetingId) !== generation && forget(), forget);
  return reading;
}

function youView(actor: Actor, meetingId: string): YouView {
  const runner = canRunMeeting(actor, meetingId);
  const kind = actor.kind === 'anonymous' ? 'attendee' : actor.kind;
  return {
    kind,
    siteId: actor.kind === 'coordinator' ? actor.siteId : null,
    attendeeId: actor.kind === 'attendee' || actor.kind === 'chair' ? actor.attendeeId : null,
    can: {
      runMeeting: runner,
      controlAgenda: runner,
      manageSpeakers: runner,
      checkInSite: runner ? 'all' : actor.kind === 'coordinator' ? actor.siteId : null,
      setLink: actor.kind === 'organizer' || actor.kind === 'coordinator',
      requestToSpeak: actor.kind !== 'anonymous',
      setQuorum: actor.kind === 'organizer',
    },
  };
}

function codeView(secret: string, siteId: string): CheckInCodeView {
  const { code, rotatesAt } = currentCode(secret, siteId);
  return { siteId, code, rotatesAt: rotatesAt.toISOString(), periodSeconds: codePeriodSeconds };
}

/** The site's current self check-in code, for its wall display (coordinator), organizers and the chair. */
export async function getCheckInCode(actor: Actor, input: unknown): Promise<{ revision: number; code: CheckInCodeView }> {
  const data = parseInput(checkInCodeInput, input);
  const meeting = await loadMeetingFor(actor, data.meetingId);
  requireSiteActor(actor, data.meetingId, data.siteId);
  const site = await SiteModel.findOne({ _id: data.siteId, meetingId: data.meetingId }, { coordinatorToken: 1 }).lean();
  if (!site) throw new NotFound('attendance.site.notFound');
  return { revision: meeting.revision, code: codeView(site.coordinatorToken, String(site._id)) };
}

/**
 * A snapshot is the state as of its revision, presence included: it shows the stored presence. The
 * rooms (on every instance) are asked meanwhile, and where they say otherwise (a stopped instance
 * took a site's screens with it) the correction is written and reaches every screen as a change of
 * its own. (Showing the rooms' answer in the snapshot left screens with a presence no event would
 * set right: a shared answer a moment old, or rooms that changed back before the correction
 * looked.) A question that times out (another instance killed, not yet missed by the adapter) or a
 * shared answer corrects nothing.
 */
function checkPresence(meetingId: string, live: ReturnType<typeof liveSitesOf>, siteIds: string[]): Promise<void> {
  return connectedSitesForSnapshot(meetingId, siteIds).then(
    async ({ connected, fresh }) => {
      if (!fresh) return;
      await Promise.all(siteIds.filter((id) => connected.has(id) !== Boolean(live[id]?.connected)).map((id) => correctPresence(meetingId, id)));
    },
    () => undefined,
  );
}

/**
 * The same check for a meeting nobody is asking snapshots of (realtime/ sweeps the meetings with
 * screens on this instance): a dashboard left open on a quiet meeting hears that a stopped
 * instance took a site's screens with it. Settles once the corrections it set off are written
 * (an instance that stops waits for them before closing its sockets: see realtime/index.ts).
 */
export async function verifyPresence(meetingId: string): Promise<void> {
  const meeting = await readMeeting(meetingId);
  if (!meeting) return;
  const sites = await SiteModel.find({ meetingId }, { _id: 1 }).lean();
  await checkPresence(meetingId, liveSitesOf(meeting.live), sites.map((site) => String(site._id)));
}

/** Presence corrections under way, one per site at a time however many snapshots find it. */
const correcting = new Set<string>();

function correctPresence(meetingId: string, siteId: string): Promise<void> {
  const key = `${meetingId}:${siteId}`;
  if (correcting.has(key)) return Promise.resolve();
  correcting.add(key);
  // A failed correction is tried again by the next snapshot that finds the difference.
  return settleSitePresence(meetingId, siteId)
    .catch(() => undefined)
    .finally(() => correcting.delete(key));
}
