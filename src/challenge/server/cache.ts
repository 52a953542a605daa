import type { PendingToken, TokenStore } from '../../store/types.js';

/**
 * Remembers tokens that were found, for a short time, so a CA fetching a token several times at
 * once (Pebble: 3, Let's Encrypt: from several perspectives) or a benchmark costs one store read.
 * Misses are never remembered: a token published a moment ago must be answered at once.
 * A withdrawn token may still be answered for up to `ttlMs`, which is harmless.
 */
export class TokenCache {
  private readonly hits = new Map<string, { value: PendingToken; until: number }>();

  constructor(
    private readonly store: TokenStore,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached entry if still fresh, without touching the store (no promise on the hot path). */
  peek(token: string): PendingToken | undefined {
    const hit = this.hits.get(token);
    if (hit === undefined) return undefined;
    if (hit.until > this.now()) return hit.value;
    this.hits.delete(token);
    return undefined;
  }

  async get(token: string): Promise<PendingToken | undefined> {
    const cached = this.peek(token);
    if (cached !== undefined) return cached;
    const value = await this.store.get(token);
    if (value !== undefined && this.ttlMs > 0) {
      if (this.hits.size >= this.maxEntries) this.prune();
      this.hits.set(token, { value, until: this.now() + this.ttlMs });
    }
    return value;
  }

  private prune(): void {
    const now = this.now();
    for (const [token, hit] of this.hits) if (hit.until <= now) this.hits.delete(token);
    if (this.hits.size >= this.maxEntries) this.hits.clear();
  }
}
