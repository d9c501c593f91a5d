// Capability links: a site's coordinator link (/s/:token) and an attendee's personal link
// (/a/:token). The session keeps the token, not the id, so rotating a token revokes every
// browser that used the old link.
import type { Actor } from '../lib/actor.js';
import { SiteModel } from '../sites/model.js';
import { AttendeeModel } from '../attendees/model.js';

export type LinkGrant = { kind: 'site'; token: string } | { kind: 'attendee'; token: string };

export async function actorForLink(grant: LinkGrant): Promise<Actor | undefined> {
  if (grant.kind === 'site') {
    const site = await SiteModel.findOne({ coordinatorToken: grant.token }, { meetingId: 1, name: 1, coordinatorName: 1 }).lean();
    if (!site) return undefined;
    return { kind: 'coordinator', meetingId: String(site.meetingId), siteId: String(site._id), name: site.coordinatorName || site.name };
  }
  const attendee = await AttendeeModel.findOne({ accessToken: grant.token }, { meetingId: 1, fullName: 1, role: 1 }).lean();
  if (!attendee) return undefined;
  const base = { meetingId: String(attendee.meetingId), attendeeId: String(attendee._id), name: attendee.fullName };
  return attendee.role === 'chair' ? { kind: 'chair', ...base } : { kind: 'attendee', ...base };
}

/** Either kind of token, for `Authorization: Bearer` API calls. */
export async function actorForBearer(token: string): Promise<Actor | undefined> {
  return (await actorForLink({ kind: 'attendee', token })) ?? (await actorForLink({ kind: 'site', token }));
}
