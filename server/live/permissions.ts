// Who may do what on the day, in one place: run the meeting (organizer, the chair), act for a
// site (organizer, the chair, that site's coordinator), act for oneself (the attendee).
import { Forbidden, Unauthorized } from '../lib/errors.js';
import type { Actor } from '../lib/actor.js';

export function requireSignedIn(actor: Actor): asserts actor is Exclude<Actor, { kind: 'anonymous' }> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
}

export function canRunMeeting(actor: Actor, meetingId: string): boolean {
  return actor.kind === 'organizer' || (actor.kind === 'chair' && actor.meetingId === meetingId);
}

/** Starting, ending, the agenda and the floor: organizers and the meeting's chair. */
export function requireMeetingRunner(actor: Actor, meetingId: string): void {
  requireSignedIn(actor);
  if (!canRunMeeting(actor, meetingId)) throw new Forbidden('live.forbidden.runMeeting');
}

export function canActForSite(actor: Actor, meetingId: string, siteId: string): boolean {
  if (canRunMeeting(actor, meetingId)) return true;
  return actor.kind === 'coordinator' && actor.meetingId === meetingId && actor.siteId === siteId;
}

/** Check-ins and the link status of a site: organizers, the chair, and that site's coordinator only. */
export function requireSiteActor(actor: Actor, meetingId: string, siteId: string): void {
  requireSignedIn(actor);
  if (!canActForSite(actor, meetingId, siteId)) throw new Forbidden('live.forbidden.otherSite');
}

/** "coordinator", "organizer", ...: who made a change, as records show it. */
export function actorLabel(actor: Actor): string {
  return actor.kind;
}
