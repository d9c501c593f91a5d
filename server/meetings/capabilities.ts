// What one asker may do with one meeting, decided here once: actions check the same rules, and
// pages read this object instead of deciding in routes or templates (ARCHITECTURE rule 4).
import { organizerCoversUnit, type Actor } from '../lib/actor.js';
import type { MeetingStatus } from './model.js';
import type { MeetingRecord } from './revision.js';

export const statusActions = ['schedule', 'cancel', 'reinstate'] as const;
export type StatusAction = (typeof statusActions)[number];

/** Which statuses each action may start from, what it leads to, and whether the invite changes. */
export const transitions: Record<StatusAction, { from: MeetingStatus[]; to: MeetingStatus; bumpsCalendar: boolean }> = {
  // STATUS goes from TENTATIVE (a draft's download) to CONFIRMED.
  schedule: { from: ['draft'], to: 'scheduled', bumpsCalendar: true },
  // A cancelled invite must carry a higher SEQUENCE so calendars drop the event.
  cancel: { from: ['draft', 'scheduled', 'live'], to: 'cancelled', bumpsCalendar: true },
  // Reinstating re-sends the invite, again with a higher SEQUENCE.
  reinstate: { from: ['cancelled'], to: 'scheduled', bumpsCalendar: true },
};

/** Organizers add or change people anywhere; a coordinator only at their own site. */
export function canEditAttendeesAt(actor: Actor, siteId: string): boolean {
  return actor.kind === 'organizer' || (actor.kind === 'coordinator' && actor.siteId === siteId);
}

/** Who a follow-up task is assigned to (followup/model.ts). */
export interface TaskAssigneeRef {
  kind: 'unit' | 'site';
  id: unknown;
}

/**
 * Whether the asker may report progress on (add notes to, move the status of) a task: the
 * assignee itself through its own link or account (a site's coordinator link for that site only;
 * an organizer of the assigned unit), and organizers of the meeting's unit. A coordinator of
 * another site of the same meeting is told no (403); callers treat everyone else as not seeing it.
 */
export function progressRight(actor: Actor, meeting: Pick<MeetingRecord, '_id' | 'unitId'>, assignee: TaskAssigneeRef): 'allowed' | 'otherAssignee' | 'hidden' {
  if (actor.kind === 'organizer') {
    if (organizerCoversUnit(actor, meeting.unitId)) return 'allowed';
    return assignee.kind === 'unit' && organizerCoversUnit(actor, assignee.id) ? 'allowed' : 'hidden';
  }
  if (actor.kind === 'coordinator') {
    if (actor.meetingId !== String(meeting._id)) return 'hidden';
    return assignee.kind === 'site' && String(assignee.id) === actor.siteId ? 'allowed' : 'otherAssignee';
  }
  return actor.kind === 'anonymous' || !('meetingId' in actor) || actor.meetingId !== String(meeting._id) ? 'hidden' : 'otherAssignee';
}

export interface MeetingCapabilities {
  /** The meeting's own actions (edit, status, duplicate, delete) are offered at all. */
  manageMeeting: boolean;
  /** The organizer's overview (dashboard): organizers and the chair. */
  viewDashboard: boolean;
  /** The attendance report (figures, chart, exports): organizers of the meeting's unit and the chair. */
  viewReport: boolean;
  /** Title, times, description: organizers, while not cancelled or ended. */
  edit: boolean;
  schedule: boolean;
  cancel: boolean;
  reinstate: boolean;
  /** Only a draft is deleted (a scheduled meeting is cancelled, so invites are withdrawn). */
  remove: boolean;
  duplicate: boolean;
  /** A cancelled meeting's parts are read-only until it is reinstated. */
  partsReadOnly: boolean;
  /** The sites page: organizers manage, the chair looks. */
  viewSites: boolean;
  manageSites: boolean;
  /** Coordinator links and attendees' personal links are organizer-only secrets. */
  seeLinks: boolean;
  editAgenda: boolean;
  /** The attendee table (an attendee has their own page instead). */
  viewAttendees: boolean;
  addAttendees: boolean;
  /**
   * Changing and removing the people the table shows, every row alike: organizers anywhere, a
   * coordinator the people of their own site (the only ones their table shows), while not cancelled.
   */
  editAttendees: boolean;
  importAttendees: boolean;
  exportAttendees: boolean;
  /** Moving someone to another bridge point. */
  moveAttendees: boolean;
  /** The site filter: a coordinator sees only their site. */
  filterBySite: boolean;
  /** The follow-up task board (directives and their tasks): organizers and the chair. */
  viewTasks: boolean;
  /** Directives and their tasks are written, assigned and re-dated by organizers, while not cancelled. */
  manageTasks: boolean;
  /** The one site a coordinator works in. */
  ownSiteId?: string;
}

export function capabilitiesFor(actor: Actor, meeting: Pick<MeetingRecord, 'status'>): MeetingCapabilities {
  const organizer = actor.kind === 'organizer';
  const status = meeting.status as MeetingStatus;
  const open = status !== 'cancelled';
  const can = (action: StatusAction) => organizer && transitions[action].from.includes(status);
  return {
    manageMeeting: organizer,
    viewDashboard: organizer || actor.kind === 'chair',
    viewReport: organizer || actor.kind === 'chair',
    edit: organizer && status !== 'cancelled' && status !== 'ended',
    schedule: can('schedule'),
    cancel: can('cancel'),
    reinstate: can('reinstate'),
    remove: organizer && status === 'draft',
    duplicate: organizer,
    partsReadOnly: !open,
    viewSites: organizer || actor.kind === 'chair',
    manageSites: organizer && open,
    seeLinks: organizer,
    editAgenda: organizer && open,
    viewAttendees: organizer || actor.kind === 'chair' || actor.kind === 'coordinator',
    addAttendees: open && (organizer || actor.kind === 'coordinator'),
    editAttendees: open && (organizer || actor.kind === 'coordinator'),
    importAttendees: organizer && open,
    exportAttendees: organizer || actor.kind === 'chair' || actor.kind === 'coordinator',
    moveAttendees: organizer && open,
    filterBySite: actor.kind !== 'coordinator',
    viewTasks: organizer || actor.kind === 'chair',
    manageTasks: organizer && open,
    ...(actor.kind === 'coordinator' ? { ownSiteId: actor.siteId } : {}),
  };
}
