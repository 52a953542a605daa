import { sleep } from './http-policy.js';

/**
 * A token bucket: `ratePerSecond` requests per second on average, bursts up to `burst`.
 * Shared by every renewal of a run that talks to the same CA, so `--concurrency` never
 * multiplies the load a CA sees.
 */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number = Math.max(1, ratePerSecond),
  ) {
    this.tokens = this.burst;
  }

  /** Resolves when a request may be sent; callers are served in order. */
  take(): Promise<void> {
    const turn = this.queue.then(async () => {
      this.refill();
      if (this.tokens < 1) {
        await sleep(Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
        this.refill();
      }
      this.tokens -= 1;
    });
    this.queue = turn;
    return turn;
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }
}

/** One bucket per CA origin (scheme, host and port). */
export class PerOriginLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly ratePerSecond: number) {}

  take(url: string): Promise<void> {
    const origin = new URL(url).origin;
    let bucket = this.buckets.get(origin);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.ratePerSecond);
      this.buckets.set(origin, bucket);
    }
    return bucket.take();
  }
}
