// A de-duplicating, rate-limited work queue with client-go's semantics:
// - a key added while waiting is not added twice;
// - a key added while being processed is marked dirty and processed once more afterwards;
// - failures are retried with per-key exponential backoff (forgotten on success), under a global
//   token bucket that holds retries only, as client-go's default controller rate limiter does: new
//   work is never held by it (a burst of 10,000 new servers runs at the workers' pace);
// - `addAfter` schedules a key for later (requeue-after).

export interface QueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Global token bucket for retries: steady rate (per second) and burst. */
  qps?: number;
  burst?: number;
  concurrency?: number;
}

export type Reconcile = (key: string) => Promise<{ requeueAfterMs?: number } | void>;

export class WorkQueue {
  private readonly waiting = new Set<string>();
  private readonly order: string[] = [];
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly opts: Required<QueueOptions>;
  private tokens: number;
  private lastRefill = Date.now();
  private waiters: (() => void)[] = [];
  private stopped = false;
  retries = 0;

  constructor(opts: QueueOptions = {}) {
    this.opts = { baseDelayMs: 5, maxDelayMs: 60_000, qps: 50, burst: 200, concurrency: 4, ...opts };
    this.tokens = this.opts.burst;
  }

  get depth(): number {
    return this.waiting.size;
  }

  add(key: string): void {
    if (this.stopped) return;
    const t = this.timers.get(key);
    if (t) {
      clearTimeout(t);
      this.timers.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    this.order.push(key);
    this.waiters.shift()?.();
  }

  /** Adds `key` after `ms`, unless an earlier add comes first. */
  addAfter(key: string, ms: number): void {
    if (this.stopped || this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.add(key);
      }, ms),
    );
  }

  /** A failed key comes back after the longer of its own backoff and its turn in the retry bucket. */
  private addRateLimited(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    this.retries++;
    this.addAfter(key, Math.max(Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** n), this.reserveToken()));
  }

  /** Takes a token from the bucket (it may go below zero: a reservation); returns how long until it is due (ms). */
  private reserveToken(): number {
    const now = Date.now();
    this.tokens = Math.min(this.opts.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.opts.qps);
    this.lastRefill = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.opts.qps) * 1000;
  }

  private async take(): Promise<string | undefined> {
    for (;;) {
      if (this.stopped) return undefined;
      const key = this.order.shift();
      if (key !== undefined) {
        this.waiting.delete(key);
        return key;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Runs `reconcile` on keys with `concurrency` workers until stop(); errors go to `onError`. */
  run(reconcile: Reconcile, onError: (key: string, err: unknown) => void): Promise<void> {
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await this.take();
        if (key === undefined) return;
        // Another worker may hold this key (it was re-added while waiting for a token).
        if (this.processing.has(key)) {
          this.dirty.add(key);
          continue;
        }
        this.processing.add(key);
        try {
          const res = await reconcile(key);
          this.failures.delete(key);
          if (res?.requeueAfterMs !== undefined) this.addAfter(key, res.requeueAfterMs);
        } catch (err) {
          onError(key, err);
          this.processing.delete(key);
          this.dirty.delete(key);
          this.addRateLimited(key);
          continue;
        }
        this.processing.delete(key);
        if (this.dirty.delete(key)) this.add(key);
      }
    };
    return Promise.all(Array.from({ length: this.opts.concurrency }, worker)).then(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w();
  }
}
