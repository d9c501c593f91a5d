// Credentials that stop being valid (a sign-out, a disabled account, a rotated or removed link),
// announced so every live connection made with them is closed at once, on every app instance.
// Transport-free like the event bus: actions and routes call revokeAskers; realtime/ listens.
import { EventEmitter } from 'node:events';

/**
 * What a connection was opened with: a session (by its id), an organizer account, a site's
 * coordinator link, an attendee's personal link.
 */
export type AskerCredential = { kind: 'session'; id: string } | { kind: 'user'; id: string } | { kind: 'site'; id: string } | { kind: 'attendee'; id: string };

const bus = new EventEmitter();
bus.setMaxListeners(100);

export function revokeAskers(...credentials: AskerCredential[]): void {
  if (credentials.length > 0) bus.emit('revoked', credentials);
}

export function onAskersRevoked(handler: (credentials: AskerCredential[]) => void): () => void {
  bus.on('revoked', handler);
  return () => bus.off('revoked', handler);
}
