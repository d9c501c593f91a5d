// Site presence: a bridge point is connected while its coordinator page or wall display is open
// on ANY app instance. realtime/ registers where that is known (the adapter's view of the site
// rooms); the change from "no screen" to "a screen" and back is one revisioned write here, with
// the last time the site was seen.
import { commitMeetingChange } from '../meetings/revision.js';
import { Conflict } from '../lib/errors.js';
import { onChangedElsewhere, subscribe } from '../lib/events.js';
import { BoundedMap } from '../lib/bounded-map.js';

type ConnectedSites = (meetingId: string, siteIds: string[]) => Promise<Set<string>>;
let connectedSitesSource: ConnectedSites = async () => new Set();

/** realtime/ tells where to look (transport-free on purpose: actions never import socket.io). */
export function setConnectedSitesSource(source: ConnectedSites): void {
  connectedSitesSource = source;
}

export function connectedSites(meetingId: string, siteIds: string[]): Promise<Set<string>> {
  return connectedSitesSource(meetingId, siteIds);
}

/**
 * The same answer shared by every snapshot of the meeting for a moment: with several instances
 * each question goes to all of them over Redis, and thousands of phones asking for snapshots
 * after a reconnect must not ask it thousands of times. `fresh` is false for a shared
 * answer (a correction of the stored presence is made from fresh answers only).
 */
export async function connectedSitesForSnapshot(meetingId: string, siteIds: string[]): Promise<{ connected: Set<string>; fresh: boolean }> {
  const key = `${meetingId}:${siteIds.join(',')}`;
  const shared = snapshotAnswers.get(key);
  if (shared) return { connected: await shared, fresh: false };
  const answer = connectedSites(meetingId, siteIds);
  snapshotAnswers.set(key, answer);
  try {
    return { connected: await answer, fresh: true };
  } catch (error) {
    snapshotAnswers.delete(key);
    throw error;
  }
}

const snapshotAnswers = new BoundedMap<string, Promise<Set<string>>>(1_000, { ttlMs: 1_000 });

/** A presence change of the meeting (here or on another instance) makes the next snapshot ask again. */
function forgetAnswers(meetingId: string): void {
  for (const key of snapshotAnswers.keys()) if (key.startsWith(`${meetingId}:`)) snapshotAnswers.delete(key);
}
subscribe((event) => {
  if (event.type.startsWith('site.')) forgetAnswers(event.meetingId);
});
onChangedElsewhere(forgetAnswers);

/**
 * Records that a site's screens came or went. Only a real change (connected <-> not) is written
 * and announced; `lastSeenAt` is the time of that change (and "now" while connected).
 */
export async function recordSitePresence(meetingId: string, siteId: string, connected: boolean): Promise<number | undefined> {
  const path = `live.sites.${siteId}`;
  const now = new Date();
  try {
    const { revision } = await commitMeetingChange({
      meetingId,
      when: connected ? { [`${path}.connected`]: { $ne: true } } : { [`${path}.connected`]: true },
      rejected: () => new Conflict('live.presence.same'),
      update: { $set: { [`${path}.connected`]: connected, [`${path}.lastSeenAt`]: now } },
      events: (_result, revision) => [{ type: 'site.presence', payload: { siteId, presence: { connected, lastSeenAt: now.toISOString(), revision } } }],
    });
    return revision;
  } catch (error) {
    if (error instanceof Conflict) return undefined;
    throw error;
  }
}

/**
 * Records what the site's rooms hold now (on every instance), and looks again after every write
 * that changed it: a screen opening while another closes (a phone on a flapping link) may have its
 * write land before or after the other's, and whichever changed the state last then corrects it
 * to what the rooms are.
 */
export async function settleSitePresence(meetingId: string, siteId: string): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    const open = (await connectedSites(meetingId, [siteId])).has(siteId);
    if ((await recordSitePresence(meetingId, siteId, open)) === undefined) return;
  }
}
