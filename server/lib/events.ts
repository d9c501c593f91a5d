// In-process domain event bus. Actions publish after their write succeeds; realtime/ subscribes
// and fans events out to Socket.IO rooms. Transport-free on purpose (ARCHITECTURE rule 3).
import { EventEmitter } from 'node:events';

export interface DomainEvent {
  /** e.g. "meeting.updated", "attendee.created", "agenda.reordered" */
  type: string;
  meetingId: string;
  /** The meeting's live-state revision after this change (ARCHITECTURE rule 4). */
  revision: number;
  /** Present when only one site's room may see the payload. */
  siteId?: string;
  /**
   * Who else may see the payload; the rest get a bare revision. `organizers`: organizers of the
   * meeting's unit only (minutes, drafts). `desk`: the organizers and the chair (a unit's task).
   */
  audience?: EventAudience;
  payload: unknown;
}

export type EventAudience = 'organizers' | 'desk';

const bus = new EventEmitter();
bus.setMaxListeners(100);

export function publish(event: DomainEvent): void {
  bus.emit('event', event);
}

export function subscribe(handler: (event: DomainEvent) => void): () => void {
  bus.on('event', handler);
  return () => bus.off('event', handler);
}

const elsewhere = new EventEmitter();
elsewhere.setMaxListeners(100);

/**
 * A meeting changed on another app instance (realtime/ relays every domain event's meeting over
 * Redis): this instance's caches of that meeting forget it. Not a domain event: nothing is fanned out.
 */
export function changedElsewhere(meetingId: string): void {
  elsewhere.emit('changed', meetingId);
}

export function onChangedElsewhere(handler: (meetingId: string) => void): () => void {
  elsewhere.on('changed', handler);
  return () => elsewhere.off('changed', handler);
}
