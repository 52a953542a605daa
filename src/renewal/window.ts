/**
 * Sliding-window counting shared by the CA budgets (failed validations, new orders): events are kept as
 * millisecond times, and a key is full while `limit` of them lie within the window.
 */

/** The valid times of a stored list of ISO timestamps (anything else is dropped: the documents are caches). */
export function parseTimes(value: unknown): number[] {
  if (!Array.isArray(value)) return [];
  return value.map((t) => (typeof t === 'string' ? Date.parse(t) : NaN)).filter((t) => Number.isFinite(t));
}

/** The times inside the window ending at `now`, oldest first. */
export function inWindow(times: readonly number[], windowMs: number, now: number): number[] {
  const start = now - windowMs;
  return times.filter((t) => t > start).sort((a, b) => a - b);
}

/**
 * When `limit` or more of `times` lie within the window ending at `now`: the time enough of them have left it
 * for one more (for exactly `limit`, the oldest one's time + window). Undefined while there is room now.
 */
export function fullUntil(times: readonly number[], limit: number, windowMs: number, now: number): Date | undefined {
  const recent = inWindow(times, windowMs, now);
  if (recent.length < limit) return undefined;
  // Once this one leaves the window, limit - 1 remain.
  const pivot = recent[recent.length - limit] ?? now;
  return new Date(pivot + windowMs);
}

/** Sorted copies without the entries that left the window ending at `now`; keys left empty are dropped. */
export function pruneAll<K>(entries: ReadonlyMap<K, number[]>, windowMs: number, now: number): Map<K, number[]> {
  const result = new Map<K, number[]>();
  for (const [key, times] of entries) {
    const kept = inWindow(times, windowMs, now);
    if (kept.length > 0) result.set(key, kept);
  }
  return result;
}

/** Appends `source`'s times to `target`'s, key by key. */
export function addAll<K>(target: Map<K, number[]>, source: ReadonlyMap<K, number[]>): void {
  for (const [key, times] of source) target.set(key, [...(target.get(key) ?? []), ...times]);
}

export const toIso = (t: number): string => new Date(t).toISOString();
