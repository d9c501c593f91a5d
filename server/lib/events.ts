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
  /** Only organizers of the meeting's unit may see the payload (minutes, drafts); the rest get a bare revision. */
  audience?: 'organizers';
  payload: unknown;
}

const bus = new EventEmitter();
bus.setMaxListeners(100);

export function publish(event: DomainEvent): void {
  bus.emit('event', event);
}

export function subscribe(handler: (event: DomainEvent) => void): () => void {
  bus.on('event', handler);
  return () => bus.off('event', handler);
}
