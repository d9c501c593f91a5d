// Fan-out of a meeting's domain events to its screens (docs/api/live.md "Pushed events").
//
// A busy day sends hundreds of changes a second to thousands of phones, and each message to each
// socket costs the server about as much as the change itself. So under load a meeting's events
// are gathered and sent together: an event that comes more than `quietMs` after the meeting's last
// send goes out at once (on the next turn of the event loop: a change's events go together), one
// that comes sooner waits until `windowMs` after that send, with whatever else came meanwhile. So
// up to about 1000 / quietMs events a second each go alone, as before; beyond that a meeting gets
// at most 1000 / windowMs sends a second, however many changes they carry. Screens that asked for it at
// `meeting:join` (`batched: true`) get the whole-meeting part as ONE `events` message per flush,
// where an event a later one of the same flush makes obsolete (a site's counts, its presence) is
// only its revision. Every other screen gets each event on its own, as before.
import type { Server } from 'socket.io';
import type { DomainEvent } from '../lib/events.js';
import { askerRoom, batchedRoom, meetingRoom, organizersRoom, siteRoom, unitOrganizersRoom } from './rooms.js';

/** `{ type, meetingId, revision, payload }`: a LiveEvent, or a table edit's event (same shape). */
type Message = Pick<DomainEvent, 'type' | 'meetingId' | 'revision' | 'payload'>;

export class MeetingFanOut {
  private readonly pending = new Map<string, { events: DomainEvent[]; timer: ReturnType<typeof setTimeout> }>();
  /** When each meeting was last flushed (entries older than the window do not matter). */
  private readonly lastFlush = new Map<string, number>();

  constructor(
    private readonly io: Server,
    private readonly windowMs: number,
    private readonly quietMs = Math.min(25, windowMs),
  ) {}

  publish(event: DomainEvent): void {
    const meetingId = event.meetingId;
    const gathering = this.pending.get(meetingId);
    if (gathering) {
      gathering.events.push(event);
      return;
    }
    // The monotonic clock: a wall clock set back (NTP stepping it an hour) would make `since`
    // negative and hold the meeting's events for as long as it was set back.
    const last = this.lastFlush.get(meetingId);
    const since = last === undefined ? Infinity : performance.now() - last;
    const wait = since >= this.quietMs ? 0 : this.windowMs - since;
    this.pending.set(meetingId, { events: [event], timer: setTimeout(() => this.flush(meetingId), wait) });
  }

  /** Sends what is gathered now (an instance stopping sends everything before its sockets close). */
  flushAll(): void {
    for (const meetingId of [...this.pending.keys()]) this.flush(meetingId);
  }

  /** Sends what is gathered for the meeting now. */
  flush(meetingId: string): void {
    const gathering = this.pending.get(meetingId);
    if (!gathering) return;
    clearTimeout(gathering.timer);
    this.pending.delete(meetingId);
    const now = performance.now();
    this.lastFlush.set(meetingId, now);
    // Forget meetings quiet for longer than the window: their next event goes out at once anyway.
    if (this.lastFlush.size > 1_000) for (const [id, at] of this.lastFlush) if (now - at >= this.windowMs) this.lastFlush.delete(id);
    sendEvents(this.io, meetingId, gathering.events);
  }
}

const messageOf = (event: DomainEvent): Message => ({ type: event.type, meetingId: event.meetingId, revision: event.revision, payload: event.payload });
const revisionMarker = (meetingId: string, revision: number): Message => ({ type: 'revision', meetingId, revision, payload: null });

/** The rooms that may see a scoped event's payload, or undefined for the whole meeting. */
function scopedRooms(event: DomainEvent): string[] | undefined {
  if (!event.siteId && !event.audience) return undefined;
  if (event.audience === 'organizers') return [unitOrganizersRoom(event.meetingId)];
  if (event.audience === 'desk') return [organizersRoom(event.meetingId)];
  const rooms = [siteRoom(event.meetingId, event.siteId!), organizersRoom(event.meetingId)];
  const aboutAttendee = (event.payload as { record?: { attendeeId?: string } } | null)?.record?.attendeeId;
  if (event.type === 'attendance.changed' && aboutAttendee) rooms.push(askerRoom({ kind: 'attendee', id: aboutAttendee }));
  return rooms;
}

/** What a later event of the same kind makes obsolete: it carries the whole entity, newer. */
function supersededBy(message: Message): string | undefined {
  const siteId = (message.payload as { siteId?: string } | null)?.siteId;
  if (message.type === 'attendance.counts' || message.type === 'site.presence') return `${message.type}:${siteId}`;
  return undefined;
}

/**
 * One flush: the batch in revision order, single events in the order they were published. Every revision reaches every
 * screen: one that may not see a scoped event's payload gets a bare `revision` for it.
 */
export function sendEvents(io: Server, meetingId: string, events: DomainEvent[]): void {
  const whole = meetingRoom(meetingId);
  const batched = batchedRoom(meetingId);
  const routed = events.map((event) => ({ event, rooms: scopedRooms(event) }));
  const toWhole = new Set(routed.filter(({ rooms }) => !rooms).map(({ event }) => event.revision));

  // Batched screens first, so that a scoped event they also get on its own (their site's record)
  // never comes before the revisions of the batch.
  // In revision order: events are published in it, except a change that waited 5 s for an
  // unfinished earlier one (meetings/revision.ts), which goes first. Sorted, "a later one of the
  // same kind" is a newer one, and the batch says what the documentation promises (stable: a
  // change's own events keep their order).
  const batch: Message[] = [];
  for (const { event, rooms } of [...routed].sort((a, b) => a.event.revision - b.event.revision)) batch.push(rooms ? revisionMarker(meetingId, event.revision) : messageOf(event));
  const latest = new Set<string>();
  for (let index = batch.length - 1; index >= 0; index--) {
    const key = supersededBy(batch[index]);
    if (!key) continue;
    if (latest.has(key)) batch[index] = revisionMarker(meetingId, batch[index].revision);
    else latest.add(key);
  }
  // A bare revision is left out where the batch says that revision already.
  const said = new Set(batch.filter((message) => message.type !== 'revision').map((message) => message.revision));
  const compact = batch.filter((message) => message.type !== 'revision' || (!said.has(message.revision) && said.add(message.revision)));
  io.to(batched).emit('events', compact);

  for (const { event, rooms } of routed) {
    if (!rooms) {
      io.to(whole).except(batched).emit('event', messageOf(event));
      continue;
    }
    io.to(rooms).emit('event', messageOf(event));
    if (toWhole.has(event.revision)) continue;
    io.to(whole).except([...rooms, batched]).emit('event', revisionMarker(meetingId, event.revision));
    toWhole.add(event.revision);
  }
}
