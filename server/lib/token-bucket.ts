// A token bucket: a burst of `capacity`, refilled `perSecond`. Each socket has one for the day's
// commands (realtime/live.ts), and each asker one for the same commands over HTTP (live/routes.ts).
export class TokenBucket {
  private tokens: number;
  private refilledAt = Date.now();
  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
  ) {
    this.tokens = capacity;
  }

  /** Takes one token, or says in how many ms the next one comes. */
  take(): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = Date.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - this.tokens) / this.perSecond) * 1000) };
  }
}
