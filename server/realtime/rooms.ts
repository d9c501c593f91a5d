// Room names: everyone following a meeting, one site's screens, and the organizers' desks; and
// one room per credential a socket was opened with (asker rooms), so every socket of a revoked
// credential can be closed with `io.in(room).disconnectSockets(true)`, across instances.
import type { AskerCredential } from '../lib/revocations.js';

export const meetingRoom = (meetingId: string) => `meeting:${meetingId}`;
/** The meeting whose whole-meeting room this is, else undefined. */
export const meetingOfRoom = (room: string) => /^meeting:([0-9a-f]{24})$/.exec(room)?.[1];
/** The meeting's screens that take its whole-meeting events in batches (`meeting:join` with `batched`). */
export const batchedRoom = (meetingId: string) => `meeting:${meetingId}:batched`;
export const siteRoom = (meetingId: string, siteId: string) => `meeting:${meetingId}:site:${siteId}`;
export const organizersRoom = (meetingId: string) => `meeting:${meetingId}:organizers`;
/** Organizers of the meeting's unit only (not the chair): minutes and summary drafts. */
export const unitOrganizersRoom = (meetingId: string) => `meeting:${meetingId}:unit-organizers`;

/** `asker:session:<sid>`, `asker:user:<userId>`, `asker:site:<siteId>`, `asker:attendee:<attendeeId>`. */
export const askerRoom = (credential: AskerCredential) => `asker:${credential.kind}:${credential.id}`;
