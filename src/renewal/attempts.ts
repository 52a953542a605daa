/**
 * The last real renewal (or issuance) attempt of each certificate and how it ended, for `certman metrics`: the
 * backoff document forgets a certificate on success, so nothing else says when it last succeeded.
 *
 * Persisted in the state store under `renewal-attempts` as { "<certificate name>": { at, result } }, shared like
 * the budget documents by every node on the store. Each write drops the entries of lineages no longer stored, so
 * the document holds at most one small entry per certificate. Dry runs record nothing. A damaged document is
 * read as empty and replaced by the next write: it only informs monitoring.
 */
import { messageOf } from '../errors.js';
import type { Reporter } from '../report.js';
import { CorruptFileError } from '../store/index.js';
import { isRecord } from '../store/json.js';
import type { StateStore } from '../store/types.js';

export const RENEWAL_ATTEMPTS_KEY = 'renewal-attempts';

export type AttemptResult = 'success' | 'failure';

export interface RenewalAttempt {
  /** ISO time the attempt ended. */
  at: string;
  result: AttemptResult;
}

/** Reads the stored document leniently: entries that are not well formed are dropped. */
export function parseAttempts(value: unknown): Map<string, RenewalAttempt> {
  const result = new Map<string, RenewalAttempt>();
  if (!isRecord(value)) return result;
  for (const [name, raw] of Object.entries(value)) {
    if (!isRecord(raw) || (raw.result !== 'success' && raw.result !== 'failure')) continue;
    const at = typeof raw.at === 'string' ? Date.parse(raw.at) : NaN;
    if (Number.isFinite(at)) result.set(name, { at: new Date(at).toISOString(), result: raw.result });
  }
  return result;
}

/** The stored attempts; a damaged document reads as none. */
export async function loadAttempts(state: StateStore): Promise<Map<string, RenewalAttempt>> {
  try {
    return parseAttempts(await state.getState<unknown>(RENEWAL_ATTEMPTS_KEY));
  } catch (err) {
    if (err instanceof CorruptFileError) return new Map();
    throw err;
  }
}

/**
 * Records that the attempt on `name` ended at `at` with `result`. When that adds an entry, the entries of lineages
 * no longer stored are dropped (listing the names only then keeps a mass renewal from listing them per certificate).
 * A store that cannot take it is a warning: the attempt's own outcome counts.
 */
export async function recordAttempt(
  store: StateStore & { names(): Promise<string[]> },
  name: string,
  result: AttemptResult,
  at: Date,
  report: Pick<Reporter, 'warn'>,
): Promise<void> {
  try {
    const stored = (await loadAttempts(store)).has(name) ? undefined : new Set(await store.names());
    await store.updateState<unknown>(RENEWAL_ATTEMPTS_KEY, (current) => {
      const attempts = parseAttempts(current);
      attempts.set(name, { at: at.toISOString(), result });
      return Object.fromEntries([...attempts].filter(([n]) => stored?.has(n) !== false).sort(([a], [b]) => a.localeCompare(b)));
    });
  } catch (err) {
    report.warn(`the renewal attempt of ${name} was not recorded: ${messageOf(err)}`);
  }
}
