// One client process of bench/live-fanout.ts: holds many socket.io-client connections
// (websocket transport) to the app ("app": attendees with their personal link token, each joined
// to the meeting) or to the bare Socket.IO server ("bare"), driven by the parent over IPC.
//
// Every "event" of type attendance.counts is noted on arrival with the machine's monotonic clock
// (process.hrtime, the same clock in every process), keyed by its revision: the parent asks when
// the last of this process's sockets had a revision. While recording (the sustained phase), each
// socket also keeps the list of revisions it saw, in arrival order, for the exactly-once check.
import { io as connect, type Socket } from 'socket.io-client';

export type Store = 'app' | 'bare';

export type ClientsCommand =
  | { type: 'connect'; id: number; store: Store; url: string; tokens: string[]; meetingId?: string; batch: number; timeoutMs: number; unbatched?: boolean }
  | { type: 'await'; id: number; store: Store; key: number; timeoutMs: number }
  | { type: 'record'; id: number; store: Store }
  | { type: 'verify'; id: number; store: Store; expected: number[]; timeoutMs: number }
  | { type: 'close'; id: number; store: Store; timeoutMs: number }
  | { type: 'stop' };

export type ClientsReply =
  | { type: 'connected'; id: number; connected: number; failed: number; firstError?: string }
  | { type: 'arrived'; id: number; key: number; count: number; sockets: number; lastAt: number }
  | { type: 'recording'; id: number }
  | { type: 'verified'; id: number; sockets: number; exact: number; lost: number; duplicated: number; outOfOrder: number; unexpected: number; disconnected: number; lastAt: Array<[number, number]> }
  | { type: 'closed'; id: number }
  | { type: 'progress'; text: string };

/** Milliseconds on the monotonic clock every process on the machine shares. */
export const now = () => Number(process.hrtime.bigint()) / 1e6;

interface Watcher {
  socket: Socket;
  seen: number[] | undefined;
  disconnected: boolean;
}

class Group {
  readonly watchers: Watcher[] = [];
  /** Per revision: how many sockets had it, and when the last one did. */
  readonly arrivals = new Map<number, { count: number; lastAt: number }>();
  private waiters = new Set<() => void>();

  arrived(revision: number, at: number): void {
    const seen = this.arrivals.get(revision);
    if (seen) {
      seen.count++;
      seen.lastAt = at;
    } else this.arrivals.set(revision, { count: 1, lastAt: at });
    if (this.waiters.size > 0) for (const waiter of [...this.waiters]) waiter();
  }

  live(): number {
    return this.watchers.filter((watcher) => !watcher.disconnected).length;
  }

  /** Resolves when `done()` holds, re-checked on every arrival, or when the time is up. */
  until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        finish(true);
      };
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(done()), timeoutMs);
      this.waiters.add(check);
    });
  }
}

const groups: Record<Store, Group> = { app: new Group(), bare: new Group() };
const reply = (message: ClientsReply) => process.send?.(message);

function open(group: Group, url: string, token: string | undefined, meetingId: string | undefined, timeoutMs: number, batched: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: timeoutMs, ...(token ? { auth: { token } } : {}) });
    const watcher: Watcher = { socket, seen: undefined, disconnected: false };
    const timer = setTimeout(() => {
      socket.disconnect();
      reject(new Error(`no connect${meetingId ? ' and meeting:join ack' : ''} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('event', (event: { type: string; revision: number }) => {
      if (event.type !== 'attendance.counts') return;
      group.arrived(event.revision, now());
      watcher.seen?.push(event.revision);
    });
    // As the app's screens do (meeting:join with `batched`): a batch says each revision once,
    // a site's counts made obsolete by a later one of the same batch as a bare revision.
    socket.on('events', (events: Array<{ type: string; revision: number }>) => {
      const at = now();
      for (const event of events) {
        if (event.type !== 'attendance.counts' && event.type !== 'revision') continue;
        group.arrived(event.revision, at);
        watcher.seen?.push(event.revision);
      }
    });
    socket.once('connect_error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('connect', () => {
      if (!meetingId) {
        clearTimeout(timer);
        group.watchers.push(watcher);
        resolve();
        return;
      }
      socket.emit('meeting:join', { meetingId, batched }, (ack: { ok: boolean; error?: { message: string } }) => {
        clearTimeout(timer);
        if (!ack.ok) {
          socket.disconnect();
          reject(new Error(`meeting:join refused: ${ack.error?.message}`));
          return;
        }
        group.watchers.push(watcher);
        resolve();
      });
    });
    socket.on('disconnect', () => {
      watcher.disconnected = true;
    });
  });
}

async function connectAll(command: Extract<ClientsCommand, { type: 'connect' }>): Promise<ClientsReply> {
  const group = groups[command.store];
  let failed = 0;
  let firstError: string | undefined;
  for (let start = 0; start < command.tokens.length; start += command.batch) {
    const slice = command.tokens.slice(start, start + command.batch);
    const results = await Promise.allSettled(slice.map((token) => open(group, command.url, command.store === 'app' ? token : undefined, command.meetingId, command.timeoutMs, !command.unbatched)));
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      failed++;
      firstError ??= String((result.reason as Error)?.message ?? result.reason);
    }
  }
  return { type: 'connected', id: command.id, connected: group.watchers.length, failed, firstError };
}

async function awaitKey(command: Extract<ClientsCommand, { type: 'await' }>): Promise<ClientsReply> {
  const group = groups[command.store];
  const sockets = group.live();
  await group.until(() => (group.arrivals.get(command.key)?.count ?? 0) >= sockets, command.timeoutMs);
  const seen = group.arrivals.get(command.key);
  group.arrivals.delete(command.key);
  return { type: 'arrived', id: command.id, key: command.key, count: seen?.count ?? 0, sockets, lastAt: seen?.lastAt ?? Number.NaN };
}

async function verify(command: Extract<ClientsCommand, { type: 'verify' }>): Promise<ClientsReply> {
  const group = groups[command.store];
  const last = command.expected.at(-1);
  const sockets = group.live();
  if (last !== undefined) await group.until(() => (group.arrivals.get(last)?.count ?? 0) >= sockets, command.timeoutMs);
  const expected = new Set(command.expected);
  let exact = 0;
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  let unexpected = 0;
  for (const watcher of group.watchers) {
    const seen = watcher.seen ?? [];
    const distinct = new Set(seen);
    const missing = command.expected.filter((revision) => !distinct.has(revision)).length;
    const twice = seen.length - distinct.size;
    const strange = [...distinct].filter((revision) => !expected.has(revision)).length;
    let disordered = 0;
    for (let index = 1; index < seen.length; index++) if (seen[index] <= seen[index - 1]) disordered++;
    lost += missing;
    duplicated += twice;
    unexpected += strange;
    outOfOrder += disordered;
    if (missing + twice + strange + disordered === 0 && seen.length === command.expected.length) exact++;
    watcher.seen = undefined;
  }
  const lastAt: Array<[number, number]> = command.expected.map((revision) => [revision, group.arrivals.get(revision)?.lastAt ?? Number.NaN]);
  group.arrivals.clear();
  return { type: 'verified', id: command.id, sockets: group.watchers.length, exact, lost, duplicated, outOfOrder, unexpected, disconnected: group.watchers.length - group.live(), lastAt };
}

async function closeAll(command: Extract<ClientsCommand, { type: 'close' }>): Promise<ClientsReply> {
  const group = groups[command.store];
  for (const watcher of group.watchers) watcher.socket.disconnect();
  group.watchers.length = 0;
  group.arrivals.clear();
  return { type: 'closed', id: command.id };
}

process.on('message', (command: ClientsCommand) => {
  const run = (): Promise<ClientsReply> | undefined => {
    switch (command.type) {
      case 'connect':
        return connectAll(command);
      case 'await':
        return awaitKey(command);
      case 'record':
        for (const watcher of groups[command.store].watchers) watcher.seen = [];
        groups[command.store].arrivals.clear();
        return Promise.resolve({ type: 'recording', id: command.id });
      case 'verify':
        return verify(command);
      case 'close':
        return closeAll(command);
      case 'stop':
        for (const group of Object.values(groups)) for (const watcher of group.watchers) watcher.socket.disconnect();
        setImmediate(() => process.exit(0));
        return undefined;
    }
  };
  run()
    ?.then(reply)
    .catch((error: unknown) => reply({ type: 'progress', text: `client process failed on ${command.type}: ${String(error)}` }));
});
if (process.send) process.on('disconnect', () => process.exit(0));
