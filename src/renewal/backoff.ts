/**
 * Failed-renewal backoff, per certificate, as Let's Encrypt's integration guide asks: after a failed renewal the
 * next attempt waits at least 1 minute, after the second 10 minutes, after the third 100 minutes, then a day after
 * each further one. A CA that named a time (rateLimited, Retry-After) pushes the next attempt to that time when it
 * is later. A success clears it; `renew --force`, dry runs and `issue` ignore it. Only failures that reached the
 * CA count (see renew.ts backsOff): a host's own mistake fails every run instead. None lasts more than a week, nor
 * past a tenth of the lifetime (at most a day) before expiry.
 *
 * Persisted in the state store under `renewal-backoff` as
 * { "<certificate name>": { failures, lastFailure, nextAttempt, error } }, next to the CA budget's documents:
 * every node sharing a store (files or Redis) sees one certificate's failures, whoever renewed it. The lineage's
 * metadata is not the place: it is the live version's record, and a failed renewal saves no version.
 * A damaged document is treated as empty and replaced by the next write: it only spaces out retries, and must not
 * stop every renewal; {@link RenewalBackoff.problem} says why.
 */
import { isRateLimited, MAX_RATE_LIMIT_PAUSE_MS, rateLimitedUntil } from '../acme/rate-limited.js';
import { AcmeProblemError, messageOf } from '../errors.js';
import type { CertificateMeta } from '../lineage/types.js';
import type { Reporter } from '../report.js';
import { CorruptFileError } from '../store/index.js';
import type { StateStore } from '../store/types.js';
import { printableLine } from '../text.js';

export const RENEWAL_BACKOFF_KEY = 'renewal-backoff';

const MINUTE = 60_000;
/** The wait after the 1st, 2nd, 3rd and every further failure. */
export const BACKOFF_STEPS_MS: readonly number[] = [MINUTE, 10 * MINUTE, 100 * MINUTE, 24 * 60 * MINUTE];
/** Longer last errors (a CA's detail on many names) are cut: the document stays small, the run's log has it whole. */
const MAX_ERROR_LENGTH = 500;
/**
 * The longest a failure holds a certificate back: a CA's time further out counts as a week (as a rateLimited pause
 * does), and so does a stored time further out (a host with a wrong clock wrote it), so renewals never stop for good.
 */
const MAX_WAIT_MS = MAX_RATE_LIMIT_PAUSE_MS;
/** A failure stored as this much later than now came from a host whose clock is ahead: it is ignored. */
const CLOCK_SLACK_MS = 5 * MINUTE;

export interface BackoffEntry {
  /** Failed renewals in a row. */
  failures: number;
  /** ISO time of the last one. */
  lastFailure: string;
  /** ISO time before which a plain `renew` does not try again. */
  nextAttempt: string;
  /** What the last failure said (its one-line message). */
  error: string;
}

/** The certificate a backoff holds back. */
export type BackedOff = Pick<CertificateMeta, 'name' | 'notBefore' | 'notAfter'>;

/**
 * The latest a backoff may hold `cert` back: before it expires by a tenth of its lifetime (a short-lived
 * certificate's retries must still come before its end), at most a day. From then on every run tries it.
 */
export function backoffDeadline(cert: BackedOff): Date {
  const notAfter = Date.parse(cert.notAfter);
  const lifetime = Math.max(0, notAfter - Date.parse(cert.notBefore));
  return new Date(notAfter - Math.min(BACKOFF_STEPS_MS.at(-1) as number, lifetime / 10));
}

/** The wait after `failures` failed renewals in a row (1 → 1 minute … 4 and more → 1 day). */
export function backoffStepMs(failures: number): number {
  const index = Math.min(Math.max(failures, 1), BACKOFF_STEPS_MS.length) - 1;
  return BACKOFF_STEPS_MS[index] as number;
}

/** The next attempt after the `failures`-th failure at `at`: the step, or the CA's time when later (capped at a week). */
export function nextAttemptAfter(failures: number, at: Date, caTime?: Date): Date {
  const step = at.getTime() + backoffStepMs(failures);
  const latest = at.getTime() + MAX_WAIT_MS;
  // An invalid time (a Retry-After beyond what a Date holds) counts as the longest wait.
  const asked = caTime === undefined ? step : caTime.getTime();
  return new Date(Math.max(step, Number.isFinite(asked) ? Math.min(asked, latest) : latest));
}

/** When the CA said to ask again, if `err` is its answer and says: rateLimited (an hour when it names no time), Retry-After. */
export function caTimeOf(err: unknown, now: Date): Date | undefined {
  if (isRateLimited(err)) return rateLimitedUntil(err, now);
  return err instanceof AcmeProblemError ? err.retryAfter : undefined;
}

/**
 * Reads the stored document leniently: entries that are not well formed are dropped. Whoever can write the store
 * (any fleet member) writes this text, and it is printed: times are rewritten from the instant they name (V8 parses
 * "2026-01-01 (<escape sequence>)" too) and the error loses its control characters.
 */
export function parseBackoff(value: unknown): Map<string, BackoffEntry> {
  const result = new Map<string, BackoffEntry>();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return result;
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    const e = raw as Partial<Record<keyof BackoffEntry, unknown>> | null;
    if (e === null || typeof e !== 'object') continue;
    if (typeof e.failures !== 'number' || !Number.isSafeInteger(e.failures) || e.failures < 1) continue;
    const lastFailure = isoTime(e.lastFailure);
    const nextAttempt = isoTime(e.nextAttempt);
    if (lastFailure === undefined || nextAttempt === undefined) continue;
    result.set(name, { failures: e.failures, lastFailure, nextAttempt, error: typeof e.error === 'string' ? oneLineError(e.error) : '' });
  }
  return result;
}

/** The instant a stored time names, as certman writes it; undefined when it names none. */
function isoTime(value: unknown): string | undefined {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** An error as stored and shown: one printable line, cut when long (the run's log has it whole). */
function oneLineError(error: string): string {
  const line = printableLine(error);
  return line.length > MAX_ERROR_LENGTH ? `${line.slice(0, MAX_ERROR_LENGTH)}…` : line;
}

function serialize(entries: Map<string, BackoffEntry>): Record<string, BackoffEntry> {
  return Object.fromEntries([...entries.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

export class RenewalBackoff {
  private constructor(
    private readonly state: StateStore,
    private entries: Map<string, BackoffEntry>,
    /** Why the stored document was ignored (it was damaged), for a warning; else undefined. */
    readonly problem: string | undefined,
  ) {}

  /** Reads the stored document (only reads: `certificates` uses it on a read-only store). */
  static async load(state: StateStore): Promise<RenewalBackoff> {
    try {
      return new RenewalBackoff(state, parseBackoff(await state.getState<unknown>(RENEWAL_BACKOFF_KEY)), undefined);
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      return new RenewalBackoff(state, new Map(), err.message);
    }
  }

  /**
   * Reads the stored document again (one read): a run decides under a certificate's lease from what is stored
   * then, so the failures of an overlapping run or another host since load() count. Damaged counts as empty.
   */
  async reload(): Promise<void> {
    this.entries = await this.state.getState<unknown>(RENEWAL_BACKOFF_KEY).then(parseBackoff, (err: unknown) => {
      if (!(err instanceof CorruptFileError)) throw err;
      return new Map<string, BackoffEntry>();
    });
  }

  /**
   * The failures of `cert` as last read or written, if it has any, as they count at `now`: a failure dated in
   * the future (a clock ahead) counts not at all, none holds it back more than a week after it happened, nor past
   * its backoffDeadline (then `beforeExpiry`).
   */
  entry(cert: BackedOff, now: Date): (BackoffEntry & { beforeExpiry: boolean }) | undefined {
    const entry = this.entries.get(cert.name);
    if (entry === undefined) return undefined;
    const failedAt = Date.parse(entry.lastFailure);
    if (failedAt > now.getTime() + CLOCK_SLACK_MS) return undefined;
    const deadline = backoffDeadline(cert).getTime();
    const wanted = Math.min(Date.parse(entry.nextAttempt), failedAt + MAX_WAIT_MS);
    return { ...entry, nextAttempt: new Date(Math.min(wanted, deadline)).toISOString(), beforeExpiry: wanted > deadline };
  }

  /** The entry while it still holds `cert` back at `now`. */
  waiting(cert: BackedOff, now: Date): (BackoffEntry & { beforeExpiry: boolean }) | undefined {
    const entry = this.entry(cert, now);
    return entry !== undefined && Date.parse(entry.nextAttempt) > now.getTime() ? entry : undefined;
  }

  /**
   * Counts one more failed renewal of `name` at `now` on top of what is stored now (another node's failures
   * count too), in one update of the store; `caTime` is when the CA asked to be asked again, if it did.
   */
  async recordFailure(name: string, error: string, now: Date, caTime?: Date): Promise<BackoffEntry> {
    let recorded: BackoffEntry | undefined;
    await this.state.updateState<unknown>(RENEWAL_BACKOFF_KEY, (current) => {
      const stored = parseBackoff(current);
      const failures = (stored.get(name)?.failures ?? 0) + 1;
      recorded = { failures, lastFailure: now.toISOString(), nextAttempt: nextAttemptAfter(failures, now, caTime).toISOString(), error: oneLineError(error) };
      stored.set(name, recorded);
      this.entries = stored;
      return serialize(stored);
    });
    return recorded as BackoffEntry;
  }

  /** Forgets the failures of `name` (it was just issued or renewed); writes nothing when the store holds none. */
  async clear(name: string): Promise<void> {
    this.entries.delete(name);
    const left = await clearStored(this.state, name);
    if (left !== undefined) this.entries = left;
  }
}

/** Removes `name` from the stored document; the entries left, or undefined when there was nothing to remove (no write). */
async function clearStored(state: StateStore, name: string): Promise<Map<string, BackoffEntry> | undefined> {
  let damaged = false;
  const stored = await state.getState<unknown>(RENEWAL_BACKOFF_KEY).catch((err: unknown) => {
    if (!(err instanceof CorruptFileError)) throw err;
    damaged = true;
  });
  if (!damaged && !parseBackoff(stored).has(name)) return undefined;
  let left = new Map<string, BackoffEntry>();
  await state.updateState<unknown>(RENEWAL_BACKOFF_KEY, (current) => {
    left = parseBackoff(current);
    left.delete(name);
    return serialize(left);
  });
  return left;
}

/**
 * Forgets the failed renewals of `name` (issued, renewed or deleted), in `backoff` as read and in the store, or only
 * in `state`; a store that cannot read or write the document is a warning: what happened to the certificate
 * itself is the outcome that counts.
 */
export async function clearBackoff(from: RenewalBackoff | StateStore, name: string, report: Pick<Reporter, 'warn'>): Promise<void> {
  try {
    await (from instanceof RenewalBackoff ? from.clear(name) : clearStored(from, name));
  } catch (err) {
    report.warn(`the failed renewals of ${name} were not cleared: ${messageOf(err)}`);
  }
}

/** The `deferred` reason of a certificate `entry` holds back: how often it failed, until when, and the last error. */
export function backoffReason(entry: BackoffEntry & { beforeExpiry: boolean }): string {
  const times = failedTimes(entry.failures);
  const expiry = entry.beforeExpiry ? ', brought forward before the certificate expires' : '';
  return `renewal failed ${times} (last: ${entry.error}); backing off: next attempt after ${entry.nextAttempt}${expiry} (renew --force tries now)`;
}

/** `once`, `3 times in a row`: how often a renewal failed, as renew and `certificates` say it. */
export function failedTimes(failures: number): string {
  return failures === 1 ? 'once' : `${failures} times in a row`;
}

/** Said when a failure's backoff would pass `cert`'s deadline: from then on every run tries it. */
export function expiryWarning(cert: BackedOff, entry: BackoffEntry): string | undefined {
  const deadline = backoffDeadline(cert);
  if (Date.parse(entry.nextAttempt) <= deadline.getTime()) return undefined;
  return `${cert.name} expires at ${cert.notAfter}: its renewal is tried again by ${deadline.toISOString()} (every run from then on), not held back until ${entry.nextAttempt}`;
}
