// Capability links: a site's coordinator link (/s/:token) and an attendee's personal link
// (/a/:token). The session keeps the token, not the id, so rotating a token revokes every
// browser that used the old link.
import { sameActor, type Actor } from '../lib/actor.js';
import { NotFound } from '../lib/errors.js';
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

/**
 * Either kind of token, for `Authorization: Bearer` API calls. `first`: the kind to look up first
 * (a socket asked again at each command knows what its token was): one read instead of two.
 */
export async function actorForBearer(token: string, first: LinkGrant['kind'] = 'attendee'): Promise<Actor | undefined> {
  const second = first === 'site' ? 'attendee' : 'site';
  return (await actorForLink({ kind: first, token })) ?? (await actorForLink({ kind: second, token }));
}

/** The kind of link an actor came by (the `first` of actorForBearer). */
export function linkKindOf(actor: Actor): LinkGrant['kind'] {
  return actor.kind === 'coordinator' ? 'site' : 'attendee';
}

/**
 * Opening a link: whom it names, and whether following it would replace someone else who is
 * signed in in this browser (then the page asks first instead of swapping silently; a page on
 * another site could otherwise sign the organizer out and in as someone else).
 */
export async function openLink(current: Actor, grant: LinkGrant): Promise<{ target: Actor; replaces?: Actor }> {
  const target = await actorForLink(grant);
  if (!target) throw new NotFound('accounts.linkInvalid');
  return current.kind === 'anonymous' || sameActor(current, target) ? { target } : { target, replaces: current };
}

/** Where each kind of asker starts. */
export function homeOf(actor: Actor): string {
  if (actor.kind === 'organizer') return '/meetings';
  if (actor.kind === 'coordinator') return '/my/site';
  return actor.kind === 'anonymous' ? '/login' : '/my';
}
