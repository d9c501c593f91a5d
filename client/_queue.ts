// The outbox of a check-in phone: every attendance command is written to IndexedDB before it is
// sent and removed only when the server acknowledged it, so a check-in made without a connection
// (or while the page reloads) is sent when the connection returns. Each command carries its own
// operation id: sending it again after a lost acknowledgement counts once on the server.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Ack, LiveCommandName } from '../server/live/contract.js';

export interface QueuedCommand {
  opId: string;
  meetingId: string;
  command: LiveCommandName;
  input: Record<string, unknown>;
  /** For the list of waiting commands ("Nguyễn Văn A — check-in"). */
  label: string;
  queuedAt: string;
}

interface OutboxSchema extends DBSchema {
  outbox: { key: string; value: QueuedCommand; indexes: { byMeeting: string } };
}

export type Sender = (command: LiveCommandName, input: Record<string, unknown>) => Promise<Ack<unknown>>;

export interface DrainResult {
  sent: number;
  /** Refused by the server (not allowed, meeting ended...): removed, shown to the user. */
  refused: Array<{ command: QueuedCommand; message: string }>;
}

export class Outbox {
  private db: Promise<IDBPDatabase<OutboxSchema>>;
  private draining: Promise<DrainResult> | undefined;
  private readonly listeners = new Set<(waiting: QueuedCommand[]) => void>();

  constructor(private readonly meetingId: string) {
    this.db = openDB<OutboxSchema>('bridgepoint-outbox', 1, {
      upgrade(db) {
        const store = db.createObjectStore('outbox', { keyPath: 'opId' });
        store.createIndex('byMeeting', 'meetingId');
      },
    });
  }

  /** Called with the waiting commands whenever they change. */
  subscribe(listener: (waiting: QueuedCommand[]) => void): void {
    this.listeners.add(listener);
    void this.waiting().then(listener);
  }

  async waiting(): Promise<QueuedCommand[]> {
    const all = await (await this.db).getAllFromIndex('outbox', 'byMeeting', this.meetingId);
    return all.sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
  }

  async add(command: Omit<QueuedCommand, 'meetingId' | 'queuedAt'>): Promise<void> {
    await (await this.db).put('outbox', { ...command, meetingId: this.meetingId, queuedAt: new Date().toISOString() });
    await this.changed();
  }

  /**
   * Takes back the newest waiting command about this attendee (a tap made offline by mistake),
   * unless a drain is sending right now. Returns whether one was taken back. A command that was
   * sent but got no answer may still have reached the server: the page then shows it when the
   * connection returns, and it can be undone there.
   */
  async takeBack(attendeeId: string): Promise<boolean> {
    if (this.draining) return false;
    const mine = (await this.waiting()).filter((command) => command.input.attendeeId === attendeeId);
    const newest = mine.at(-1);
    if (!newest) return false;
    await this.remove(newest.opId);
    return true;
  }

  private async remove(opId: string): Promise<void> {
    await (await this.db).delete('outbox', opId);
    await this.changed();
  }

  private async changed(): Promise<void> {
    const waiting = await this.waiting();
    for (const listener of this.listeners) listener(waiting);
  }

  /**
   * Send the waiting commands one at a time, oldest first, each waiting for its acknowledgement.
   * Stops at the first command that got no answer (offline again); a drain already running is
   * joined, not doubled.
   */
  drain(send: Sender, isNoAnswer: (ack: Ack<unknown>) => boolean): Promise<DrainResult> {
    this.draining ??= (async () => {
      const result: DrainResult = { sent: 0, refused: [] };
      try {
        for (const command of await this.waiting()) {
          const ack = await send(command.command, command.input);
          if (isNoAnswer(ack)) break;
          // Not refused, only not now (too many at once, the database restarting): kept, sent later.
          if (!ack.ok && (ack.error.code === 'too_many_requests' || ack.error.code === 'unavailable')) {
            await new Promise((resolve) => setTimeout(resolve, ack.error.retryAfterMs ?? 1000));
            break;
          }
          if (!ack.ok) result.refused.push({ command, message: ack.error.message });
          else result.sent += 1;
          await this.remove(command.opId);
        }
      } finally {
        this.draining = undefined;
      }
      return result;
    })();
    return this.draining;
  }
}
