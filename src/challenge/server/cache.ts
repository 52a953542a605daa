import type { PendingToken, TokenStore } from '../../store/types.js';

export interface TokenCacheOptions {
  /** How long a token found in the store is answered without asking again. 0 disables. */
  ttlMs: number;
  maxEntries?: number;
  /** A store read slower than this is not waited for when the token was seen before: its last known entry answers. */
  fallbackAfterMs?: number;
  /**
   * A store read slower than this fails (503), so a request never waits for ever on an unreachable network store.
   * None by default: a folder store that is only slow (a loaded host) is waited for.
   */
  storeTimeoutMs?: number;
  now?: () => number;
}

/** Redis answers in well under a millisecond; a second means it is down or cut off. */
const FALLBACK_AFTER_MS = 1000;

/**
 * Remembers tokens that were found, for a short time, so a CA fetching a token several times at
 * once (Pebble: 3, Let's Encrypt: from several perspectives) or a benchmark costs one store read.
 * Misses are never remembered: a token published a moment ago must be answered at once.
 * A withdrawn token may still be answered for up to `ttlMs`, which is harmless.
 *
 * Apart from that, every token found with an expiry (a network store) is kept until it expires, and used only
 * when the store fails or does not answer in time: with Redis down, serve-challenge keeps answering what it
 * already had. A read that finds the token gone (its order ended) forgets it.
 */
export class TokenCache {
  private readonly hits = new Map<string, { value: PendingToken; until: number }>();
  private readonly known = new Map<string, PendingToken & { expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly fallbackAfterMs: number;
  private readonly storeTimeoutMs: number | undefined;
  private readonly now: () => number;

  constructor(
    private readonly store: TokenStore,
    options: TokenCacheOptions,
  ) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.fallbackAfterMs = options.fallbackAfterMs ?? FALLBACK_AFTER_MS;
    this.storeTimeoutMs = options.storeTimeoutMs;
    this.now = options.now ?? Date.now;
  }

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
    const known = this.lastKnown(token);
    let value: PendingToken | undefined;
    try {
      value = await withDeadline(this.store.get(token), known === undefined ? this.storeTimeoutMs : this.fallbackAfterMs);
    } catch (err) {
      if (known !== undefined) return known;
      throw err;
    }
    if (value === undefined) {
      this.known.delete(token);
      return undefined;
    }
    if (this.ttlMs > 0) {
      if (this.hits.size >= this.maxEntries) this.prune();
      this.hits.set(token, { value, until: this.now() + this.ttlMs });
    }
    if (value.expiresAt !== undefined) this.remember(token, { ...value, expiresAt: value.expiresAt });
    return value;
  }

  /** Distinct tokens remembered now (fresh hits and those kept for when the store fails). */
  get size(): number {
    return new Set([...this.hits.keys(), ...this.known.keys()]).size;
  }

  private lastKnown(token: string): PendingToken | undefined {
    const entry = this.known.get(token);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.now()) return entry;
    this.known.delete(token);
    return undefined;
  }

  private remember(token: string, entry: PendingToken & { expiresAt: number }): void {
    this.known.delete(token);
    if (this.known.size >= this.maxEntries) {
      const now = this.now();
      for (const [t, e] of this.known) if (e.expiresAt <= now) this.known.delete(t);
      // Still full of live tokens: the oldest remembered goes (Map keeps insertion order).
      const oldest = this.known.keys().next();
      if (this.known.size >= this.maxEntries && oldest.done !== true) this.known.delete(oldest.value);
    }
    this.known.set(token, entry);
  }

  private prune(): void {
    const now = this.now();
    for (const [token, hit] of this.hits) if (hit.until <= now) this.hits.delete(token);
    if (this.hits.size >= this.maxEntries) this.hits.clear();
  }
}

/** `work`, or a rejection once `ms` have passed (its late outcome is ignored); no deadline without `ms`. */
function withDeadline<T>(work: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the token store did not answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
