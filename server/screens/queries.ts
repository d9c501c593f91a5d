// What each screen of the conference day shows, read for the asker: the live snapshot
// (server/live) plus the few things a page needs on top, and who may open which screen.
import './messages.js';
import type { LiveSnapshot, AttendanceRecordView, SiteLiveView } from '../live/contract.js';
import { getLiveSnapshot } from '../live/queries.js';
import { Forbidden, NotFound, Unauthorized } from '../lib/errors.js';
import { requireSiteAccess, type Actor } from '../lib/actor.js';
import { checkInQrSvg } from './qr.js';

const byName = new Intl.Collator('vi', { sensitivity: 'base' });

/** Everything a page needs: the snapshot (also embedded for the script) and shortcuts into it. */
export interface Screen {
  snapshot: LiveSnapshot;
  meetingId: string;
}

export interface SiteScreen extends Screen {
  site: SiteLiveView;
  /** The site's people, by name (walk-ins too). */
  people: AttendanceRecordView[];
}

function siteOf(snapshot: LiveSnapshot, siteId: string): SiteLiveView {
  const site = snapshot.sites.find((candidate) => candidate.id === siteId);
  if (!site) throw new NotFound('error.notFound');
  return site;
}

/** A site's check-in page: its coordinator, an organizer or the chair. */
export async function coordinatorScreen(actor: Actor, meetingId: string, siteId: string): Promise<SiteScreen & { canCheckIn: boolean }> {
  requireSiteAccess(actor, meetingId, siteId);
  const snapshot = await getLiveSnapshot(actor, meetingId);
  const site = siteOf(snapshot, siteId);
  const people = snapshot.attendance.filter((record) => record.siteId === siteId).sort((a, b) => byName.compare(a.fullName, b.fullName));
  const allowed = snapshot.you.can.checkInSite;
  // An ended meeting's check-in page is a record: nobody checks in any more.
  return { snapshot, meetingId, site, people, canCheckIn: (allowed === 'all' || allowed === siteId) && snapshot.meeting.status !== 'ended' };
}

/** The organizer's live dashboard and the chair's tablet view. */
export async function controlScreen(actor: Actor, meetingId: string): Promise<Screen> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  if (actor.kind !== 'organizer' && actor.kind !== 'chair') throw new Forbidden();
  // These pages list only the latecomers (client/live-dashboard.ts), not everyone's attendance.
  const snapshot = await getLiveSnapshot(actor, meetingId, { attendance: 'latecomers' });
  return { snapshot, meetingId };
}

/**
 * A wall display: the whole meeting's (organizer, chair) or one site's (also that site's
 * coordinator, whose laptop drives the projector there).
 */
export async function wallScreen(actor: Actor, meetingId: string, siteId?: string): Promise<Screen & { site: SiteLiveView | null }> {
  if (siteId) requireSiteAccess(actor, meetingId, siteId);
  else if (actor.kind !== 'organizer' && actor.kind !== 'chair') throw actor.kind === 'anonymous' ? new Unauthorized() : new Forbidden();
  // A wall shows counts, never a list of people (client/live-wall.ts).
  const snapshot = await getLiveSnapshot(actor, meetingId, { attendance: 'latecomers' });
  return { snapshot, meetingId, site: siteId ? siteOf(snapshot, siteId) : null };
}

/** The attendee's day page (their personal link): their record, their site and their QR code. */
export async function attendeeScreen(actor: Actor): Promise<Screen & { record: AttendanceRecordView | null; site: SiteLiveView | null; qrSvg: string }> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  if (actor.kind !== 'attendee' && actor.kind !== 'chair') throw new Forbidden();
  const snapshot = await getLiveSnapshot(actor, actor.meetingId);
  const record = snapshot.attendance.find((candidate) => candidate.attendeeId === actor.attendeeId) ?? null;
  const site = record ? (snapshot.sites.find((candidate) => candidate.id === record.siteId) ?? null) : null;
  return { snapshot, meetingId: actor.meetingId, record, site, qrSvg: await checkInQrSvg(actor.meetingId, actor.attendeeId) };
}
