// Reads of sites, shaped for who is asking: everyone in the meeting sees name and address; the
// organizers, the chair and the site's own coordinator see contacts and the video link; only
// organizers see the coordinator's link.
import './messages.js';
import { SiteModel } from './model.js';
import { loadMeetingFor } from '../meetings/guard.js';
import { capabilitiesFor, type MeetingCapabilities } from '../meetings/capabilities.js';
import { canSeeSite, type Actor } from '../lib/actor.js';
import { Forbidden, NotFound, Unauthorized } from '../lib/errors.js';
import { publicSite, type SiteRecord } from './actions.js';
import type { MeetingRecord } from '../meetings/actions.js';
import { isObjectIdString } from '../lib/input.js';

export interface SiteView {
  id: string;
  meetingId: string;
  name: string;
  address: string;
  isMain: boolean;
  order: number;
  /** Present only for those who may see this site's private data. */
  coordinatorName?: string;
  coordinatorPhone?: string;
  expectedHeadcount?: number;
  videoLink?: { platform: string; url: string; roomId: string; passcode: string; notes: string };
  /** Organizers only. */
  coordinatorToken?: string;
  coordinatorLink?: string;
}

export function siteView(actor: Actor, site: SiteRecord): SiteView {
  const view: SiteView = publicSite(site);
  if (canSeeSite(actor, String(site.meetingId), String(site._id))) {
    view.coordinatorName = site.coordinatorName ?? '';
    view.coordinatorPhone = site.coordinatorPhone ?? '';
    view.expectedHeadcount = site.expectedHeadcount ?? 0;
    view.videoLink = {
      platform: site.videoLink?.platform ?? '',
      url: site.videoLink?.url ?? '',
      roomId: site.videoLink?.roomId ?? '',
      passcode: site.videoLink?.passcode ?? '',
      notes: site.videoLink?.notes ?? '',
    };
  }
  if (actor.kind === 'organizer') {
    view.coordinatorToken = site.coordinatorToken;
    view.coordinatorLink = `/s/${site.coordinatorToken}`;
  }
  return view;
}

export async function listSites(actor: Actor, meetingId: string): Promise<SiteView[]> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  await loadMeetingFor(actor, meetingId);
  const sites = await SiteModel.find({ meetingId }).sort({ order: 1, _id: 1 }).lean<SiteRecord[]>();
  return sites.map((site) => siteView(actor, site));
}

export async function getSite(actor: Actor, siteId: string, meetingId?: string): Promise<SiteView> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  if (!isObjectIdString(siteId)) throw new NotFound('site.notFound');
  const site = await SiteModel.findById(siteId).lean<SiteRecord>();
  if (!site || (meetingId !== undefined && String(site.meetingId) !== meetingId)) throw new NotFound('site.notFound');
  await loadMeetingFor(actor, site.meetingId);
  return siteView(actor, site);
}

/**
 * The sites page: organizers manage the sites; the chair may look (read-only, without
 * coordinator links); anyone else is refused. `can` is what the page offers.
 */
export async function getSitesPage(actor: Actor, meetingId: string): Promise<{ meeting: MeetingRecord; sites: SiteView[]; can: MeetingCapabilities }> {
  const meeting = await loadMeetingFor(actor, meetingId);
  const can = capabilitiesFor(actor, meeting);
  if (!can.viewSites) throw new Forbidden();
  const sites = await SiteModel.find({ meetingId: meeting._id }).sort({ order: 1, _id: 1 }).lean<SiteRecord[]>();
  return { meeting, sites: sites.map((site) => siteView(actor, site)), can };
}

/** The coordinator's home: their site with its private details, and the meeting. */
export async function getCoordinatorHome(actor: Actor): Promise<{ site: SiteView; meeting: MeetingRecord }> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  if (actor.kind !== 'coordinator') throw new Forbidden('mySite.notCoordinator');
  const [site, meeting] = await Promise.all([getSite(actor, actor.siteId, actor.meetingId), loadMeetingFor(actor, actor.meetingId)]);
  return { site, meeting };
}
