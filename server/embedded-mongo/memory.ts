// The store's memory budget: the working set (documents' bytes and index entries) may grow up to
// a limit; a write that would pass it is refused with ExceededMemoryLimit (code 146), so the
// store keeps serving reads and deletes instead of running its thread out of heap.
import v8 from 'node:v8';
import { MongoServerError } from './errors.js';

/** Refuse writes once the V8 heap itself is this full, whatever the budget says. */
const HEAP_GUARD = 0.9;
const HEAP_CHECK_INTERVAL_MS = 200;

/**
 * The default budget: 60% of the thread's heap limit (index entries and decoded documents live
 * on the heap; document bytes are outside it), so the heap keeps room for queries and replies.
 */
export function defaultMemoryBudgetBytes(): number {
  return Math.floor(v8.getHeapStatistics().heap_size_limit * 0.6);
}

/** The budget in MiB from EMBEDDED_MONGO_MEMORY_MB, undefined when unset; a bad value stops the start. */
export function memoryBudgetFromEnv(): number | undefined {
  const raw = process.env.EMBEDDED_MONGO_MEMORY_MB;
  if (raw === undefined || raw.trim() === '') return undefined;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb <= 0) throw new Error(`EMBEDDED_MONGO_MEMORY_MB must be a positive number of MiB, got '${raw}'`);
  return mb;
}

/** A budget from an option or the environment (MiB), else the default. */
export function memoryBudgetBytes(megabytes?: number): number {
  if (megabytes !== undefined && !(Number.isFinite(megabytes) && megabytes > 0)) throw new Error(`memoryBudgetMb must be a positive number of MiB, got ${megabytes}`);
  const mb = megabytes ?? memoryBudgetFromEnv();
  return mb === undefined ? defaultMemoryBudgetBytes() : Math.floor(mb * 1024 * 1024);
}

export class MemoryBudget {
  private heapCheckedAt = 0;
  private heapFull = false;

  constructor(
    readonly limitBytes: number,
    /** The working set's current size in bytes. */
    private readonly used: () => number,
  ) {}

  /** Whether a limit was set at all (tests and tools may run without one). */
  get limited(): boolean {
    return Number.isFinite(this.limitBytes);
  }

  get usedBytes(): number {
    return this.used();
  }

  /** Throws ExceededMemoryLimit when adding `incoming` bytes would pass the budget (or the heap is nearly full). */
  check(incoming: number, namespace: string): void {
    const used = this.used();
    if (used + incoming > this.limitBytes) {
      throw new MongoServerError(
        'ExceededMemoryLimit',
        `Write to ${namespace} refused: the embedded store's working set would exceed its memory budget (${mib(used)} MiB used of ${mib(this.limitBytes)} MiB). Delete documents or drop collections to free space, or start the store with a larger --memory-budget-mb / EMBEDDED_MONGO_MEMORY_MB.`,
      );
    }
    if (this.heapIsFull()) {
      const heap = v8.getHeapStatistics();
      throw new MongoServerError(
        'ExceededMemoryLimit',
        `Write to ${namespace} refused: the embedded store's heap is ${mib(heap.used_heap_size)} MiB of its ${mib(heap.heap_size_limit)} MiB limit. Delete documents or close cursors to free memory, or give the store more heap (--max-old-space-size).`,
      );
    }
  }

  private heapIsFull(): boolean {
    const now = Date.now();
    if (now - this.heapCheckedAt >= HEAP_CHECK_INTERVAL_MS || this.heapFull) {
      this.heapCheckedAt = now;
      const heap = v8.getHeapStatistics();
      this.heapFull = heap.used_heap_size > heap.heap_size_limit * HEAP_GUARD;
    }
    return this.heapFull;
  }
}

function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
