// When an acknowledged write is on disk. By default a write is acknowledged once its journal
// frame is written (it survives the process being killed, not a power loss). writeConcern
// `j: true` or `w: "majority"` waits for an fdatasync of the journal, and concurrent writers
// share one (group commit): while one fdatasync runs, every write that arrives waits for the
// next, which covers them all. `commitIntervalMs` also syncs periodically, like mongod's
// storage.journal.commitIntervalMs.
import type { DatabaseFile } from './storage.js';

export interface JournalStats {
  /** fdatasync calls on journal files. */
  fsyncs: number;
  /** Group commits: rounds of fdatasync, each covering every write journaled before it began. */
  commits: number;
  /** Writes whose reply waited until they were on disk (j:true, w:"majority", fsync, syncEveryWrite). */
  syncedWrites: number;
}

interface Round {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function newRound(): Round {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A round nobody waits on (the periodic commit) must not be an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export class GroupCommit {
  readonly stats: JournalStats = { fsyncs: 0, commits: 0, syncedWrites: 0 };
  private running: Round | undefined;
  private next: Round | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly files: () => Iterable<DatabaseFile>) {}

  /** Resolves once everything journaled so far is on disk; rejects if an fdatasync fails. */
  waitDurable(): Promise<void> {
    this.stats.syncedWrites++;
    if (!this.anythingToSync()) return Promise.resolve();
    if (!this.next) {
      this.next = newRound();
      // setImmediate: the writes that arrived in the same turn of the event loop join this round.
      if (!this.running) setImmediate(() => this.startRound());
    }
    return this.next.promise;
  }

  /** Periodic fdatasync every `ms` (0 or undefined: none). */
  startPeriodic(ms: number | undefined): void {
    if (!ms) return;
    this.timer = setInterval(() => {
      if (this.anythingToSync() && !this.next) {
        this.next = newRound();
        if (!this.running) this.startRound();
      }
    }, ms);
    this.timer.unref();
  }

  /** Waits for the syncs in flight (before the files are closed). */
  async drain(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.running || this.next) await (this.next ?? this.running)!.promise.catch(() => undefined);
  }

  private anythingToSync(): boolean {
    for (const file of this.files()) if (file.needsSync) return true;
    return false;
  }

  private startRound(): void {
    const round = this.next;
    if (!round || this.running) return;
    this.next = undefined;
    this.running = round;
    const dirty = [...this.files()].filter((f) => f.needsSync);
    this.stats.commits++;
    this.stats.fsyncs += dirty.length;
    Promise.all(dirty.map((f) => f.syncJournal())).then(
      () => this.finish(round, undefined),
      (err: unknown) => this.finish(round, err),
    );
  }

  private finish(round: Round, err: unknown): void {
    this.running = undefined;
    if (err === undefined) round.resolve();
    else round.reject(err);
    if (this.next) this.startRound();
  }
}
