// A bridge point's link status on the day (ready, audio problem, video problem, offline), set by
// its coordinator (or an organizer) and seen by the main site.
import '../live/messages.js';
import './messages.js';
import { SiteModel } from './model.js';
import { commitMeetingChange } from '../meetings/revision.js';
import { requireOpenMeeting } from '../meetings/guard.js';
import { setSiteLinkInput, type SiteLiveView } from '../live/contract.js';
import { Conflict, Forbidden, NotFound } from '../lib/errors.js';
import { requireSiteActor } from '../live/permissions.js';
import type { Actor } from '../lib/actor.js';
import { parseInput } from '../lib/validation.js';

export async function setSiteLink(actor: Actor, input: unknown): Promise<{ revision: number; siteId: string; link: SiteLiveView['link'] }> {
  const data = parseInput(setSiteLinkInput, input);
  requireSiteActor(actor, data.meetingId, data.siteId);
  // The chair follows the sites; reporting a site's link is its coordinator's (or an organizer's) job.
  if (actor.kind === 'chair') throw new Forbidden('live.forbidden.otherSite');
  await requireOpenMeeting(actor, data.meetingId, {});
  if (!(await SiteModel.exists({ _id: data.siteId, meetingId: data.meetingId }))) throw new NotFound('attendance.site.notFound');
  const path = `live.sites.${data.siteId}`;
  const now = new Date();
  const { revision } = await commitMeetingChange({
    meetingId: data.meetingId,
    when: { status: { $nin: ['ended', 'cancelled'] } },
    rejected: () => new Conflict('meeting.ended.readonly'),
    update: { $set: { [`${path}.linkStatus`]: data.status, [`${path}.linkNote`]: data.note ?? '', [`${path}.linkAt`]: now } },
    events: (_result, revision) => [{ type: 'site.link', payload: { siteId: data.siteId, link: { status: data.status, note: data.note ?? '', at: now.toISOString(), revision } } }],
  });
  return { revision, siteId: data.siteId, link: { status: data.status, note: data.note ?? '', at: now.toISOString(), revision } };
}
