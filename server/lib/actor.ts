// Who is asking. Every action takes an Actor first and checks it before doing anything.
import { Forbidden, Unauthorized } from './errors.js';

export type Actor =
  | { kind: 'anonymous' }
  /** Department staff with an account; admins also manage accounts. */
  | { kind: 'organizer'; userId: string; name: string; isAdmin: boolean; /** Their organizing unit; administrators see every unit's meetings. */ unitId?: string }
  /** The chair (an attendee with role "chair") through their personal link: sees all of the meeting. */
  | { kind: 'chair'; meetingId: string; attendeeId: string; name: string }
  /** A district coordinator through the site's signed link: their own site only. */
  | { kind: 'coordinator'; meetingId: string; siteId: string; name: string }
  /** An attendee through their personal link: themselves only. */
  | { kind: 'attendee'; meetingId: string; attendeeId: string; name: string };

export const anonymous: Actor = { kind: 'anonymous' };

/** A system actor for seeding and maintenance scripts, never reachable from a request. */
export const systemActor: Actor = { kind: 'organizer', userId: 'system', name: 'system', isAdmin: true };
/** The attendance recount (attendance/recount.ts) in the audit trail, never reachable from a request. */
export const recountActor = { kind: 'organizer', userId: 'recount', name: 'recount', isAdmin: true } as const satisfies Actor;

export function requireOrganizer(actor: Actor): asserts actor is Extract<Actor, { kind: 'organizer' }> {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  if (actor.kind !== 'organizer') throw new Forbidden();
}

export function requireAdmin(actor: Actor): asserts actor is Extract<Actor, { kind: 'organizer' }> {
  requireOrganizer(actor);
  if (!actor.isAdmin) throw new Forbidden();
}

/**
 * Whether an organizer may see and change meetings of `unitId`: administrators every unit, an
 * organizer only their own (a meeting with no unit is an administrator's).
 */
export function organizerCoversUnit(actor: Extract<Actor, { kind: 'organizer' }>, unitId: unknown): boolean {
  if (actor.isAdmin) return true;
  return actor.unitId !== undefined && unitId !== undefined && unitId !== null && String(unitId) === actor.unitId;
}

/** Organizers see every meeting (of their unit: checked where the meeting is loaded); chairs, coordinators and attendees only their own. */
export function canSeeMeeting(actor: Actor, meetingId: string): boolean {
  if (actor.kind === 'organizer') return true;
  if (actor.kind === 'anonymous') return false;
  return actor.meetingId === meetingId;
}

export function requireMeetingViewer(actor: Actor, meetingId: string): void {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  if (!canSeeMeeting(actor, meetingId)) throw new Forbidden();
}

/** Organizers and the meeting's chair see every site's private data; a coordinator only theirs. */
export function canSeeSite(actor: Actor, meetingId: string, siteId: string): boolean {
  if (actor.kind === 'organizer') return true;
  if (actor.kind === 'chair') return actor.meetingId === meetingId;
  if (actor.kind === 'coordinator') return actor.meetingId === meetingId && actor.siteId === siteId;
  return false;
}

export function requireSiteAccess(actor: Actor, meetingId: string, siteId: string): void {
  if (actor.kind === 'anonymous') throw new Unauthorized();
  if (!canSeeSite(actor, meetingId, siteId)) throw new Forbidden();
}

/** The same asker: same kind and same ids (a renamed attendee is still the same asker). */
export function sameActor(a: Actor, b: Actor): boolean {
  const key = (actor: Actor) =>
    [actor.kind, 'meetingId' in actor ? actor.meetingId : '', 'siteId' in actor ? actor.siteId : '', 'attendeeId' in actor ? actor.attendeeId : '', 'userId' in actor ? actor.userId : ''].join('|');
  return key(a) === key(b);
}
