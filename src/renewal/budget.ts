/**
 * Failed-validation budget. Let's Encrypt refuses a name for an hour after 5 failed validations
 * of it within an hour; certman stops asking earlier (3 by default), so a broken webroot or
 * firewall spends certman's own budget, not the CA's, and a fixed setup is never left rate-limited.
 *
 * Persisted in the state store under `failed-validations` as { "<name>": ["<ISO time>", …] }.
 * Failures are recorded in memory (several renewals of one run may record concurrently) and
 * written by one save(), a read-modify-write of the store (updateState) that adds only what this
 * instance recorded since: no run's failures are lost, whatever runs at the same time.
 *
 * A damaged document (not JSON) is treated as empty and replaced by the next save: it only caches
 * recent failures, and must not stop every renewal; {@link FailureBudget.problem} says why.
 */
import { CertmanError } from '../errors.js';
import { CorruptFileError } from '../store/index.js';
import type { StateStore } from '../store/types.js';

export const FAILED_VALIDATIONS_KEY = 'failed-validations';
export const DEFAULT_FAILURE_LIMIT = 3;
export const DEFAULT_FAILURE_WINDOW_MS = 60 * 60 * 1000;

export interface FailureBudgetOptions {
  /** Failures of one name within the window that block it. Default 3. */
  limit?: number;
  /** Length of the sliding window in milliseconds. Default 1 hour. */
  windowMs?: number;
  /** Clock used to prune old entries on load and save (tests). Default: the system clock. */
  clock?: () => Date;
}

/** Stored shape: name → ISO timestamps of its failed validations. */
export type FailedValidations = Record<string, string[]>;

function normalizeName(name: string): string {
  return name.trim().toLowerCase();
}

/**
 * Reads the stored document leniently: anything that is not a name → array of valid timestamps is
 * dropped (the document is only a cache of recent failures; a damaged entry must not stop renewals).
 */
function parseStored(value: unknown): Map<string, number[]> {
  const result = new Map<string, number[]>();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return result;
  for (const [rawName, times] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(times)) continue;
    const name = normalizeName(rawName);
    if (name === '') continue;
    const valid = times
      .map((t) => (typeof t === 'string' ? Date.parse(t) : NaN))
      .filter((t) => Number.isFinite(t));
    if (valid.length > 0) result.set(name, [...(result.get(name) ?? []), ...valid]);
  }
  return result;
}

function addAll(target: Map<string, number[]>, source: Map<string, number[]>): void {
  for (const [name, times] of source) target.set(name, [...(target.get(name) ?? []), ...times]);
}

export class FailureBudget {
  readonly limit: number;
  readonly windowMs: number;
  private readonly clock: () => Date;
  /** Every known failure (stored and recorded here), times in ms. */
  private entries: Map<string, number[]>;
  /** Failures recorded by this instance and not saved yet. */
  private pending = new Map<string, number[]>();
  /** Serialises save() calls of this instance. */
  private saving: Promise<void> = Promise.resolve();
  /** Why the stored document was ignored at load (it was damaged), for a warning; else undefined. */
  readonly problem: string | undefined;

  private constructor(
    private readonly state: StateStore,
    entries: Map<string, number[]>,
    options: FailureBudgetOptions,
    problem: string | undefined,
  ) {
    this.problem = problem;
    this.limit = options.limit ?? DEFAULT_FAILURE_LIMIT;
    this.windowMs = options.windowMs ?? DEFAULT_FAILURE_WINDOW_MS;
    this.clock = options.clock ?? (() => new Date());
    if (!Number.isSafeInteger(this.limit) || this.limit < 1) throw new CertmanError(`invalid failure limit ${this.limit}`);
    if (!Number.isFinite(this.windowMs) || this.windowMs <= 0) throw new CertmanError(`invalid failure window ${this.windowMs} ms`);
    this.entries = this.prune(entries, this.clock().getTime());
  }

  /** Reads the stored failures, dropping those older than the window. */
  static async load(state: StateStore, options: FailureBudgetOptions = {}): Promise<FailureBudget> {
    let stored: unknown;
    let problem: string | undefined;
    try {
      stored = await state.getState<unknown>(FAILED_VALIDATIONS_KEY);
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      problem = err.message;
    }
    return new FailureBudget(state, parseStored(stored), options, problem);
  }

  /**
   * When `limit` or more failures of `name` lie within the window ending at `now`: the time enough
   * of them have left it for the name to be tried again (for exactly `limit` failures, the oldest
   * one's time + window). Undefined when the name may be tried now.
   */
  blockedUntil(name: string, now: Date): Date | undefined {
    const times = this.entries.get(normalizeName(name));
    if (times === undefined) return undefined;
    const start = now.getTime() - this.windowMs;
    const recent = times.filter((t) => t > start).sort((a, b) => a - b);
    if (recent.length < this.limit) return undefined;
    // Once this one leaves the window, limit - 1 remain.
    const pivot = recent[recent.length - this.limit] ?? now.getTime();
    return new Date(pivot + this.windowMs);
  }

  /** Records one failed validation at `now` for each name (a name listed twice counts once). */
  recordFailures(names: string[], now: Date): void {
    const time = now.getTime();
    if (!Number.isFinite(time)) throw new CertmanError('cannot record a failure at an invalid time');
    for (const name of new Set(names.map(normalizeName))) {
      if (name === '') continue;
      this.entries.set(name, [...(this.entries.get(name) ?? []), time]);
      this.pending.set(name, [...(this.pending.get(name) ?? []), time]);
    }
  }

  /**
   * Writes the failures: the stored document as it is now (another process may have added to it)
   * plus those recorded here since the last save, all pruned to the window. Concurrent calls run
   * one after the other. A damaged stored document is replaced.
   */
  save(): Promise<void> {
    const run = this.saving.then(() => this.saveNow());
    this.saving = run.catch(() => undefined);
    return run;
  }

  private async saveNow(): Promise<void> {
    const pending = this.pending;
    let merged = new Map<string, number[]>();
    this.pending = new Map();
    try {
      // Read, add and written as one update: a concurrent run's failures are never lost.
      await this.state.updateState<unknown>(FAILED_VALIDATIONS_KEY, (current) => {
        const stored = parseStored(current);
        addAll(stored, pending);
        merged = this.prune(stored, this.clock().getTime());
        const doc: FailedValidations = {};
        for (const name of [...merged.keys()].sort()) {
          doc[name] = (merged.get(name) ?? []).map((t) => new Date(t).toISOString());
        }
        return doc;
      });
    } catch (err) {
      // Keep what was not written for the next save().
      const again = new Map(pending);
      addAll(again, this.pending);
      this.pending = again;
      throw err;
    }
    // Failures recorded while saving are in this.pending (and this.entries) already.
    addAll(merged, this.pending);
    this.entries = merged;
  }

  /** Sorted copies without the entries that left the window ending at `now`. */
  private prune(entries: Map<string, number[]>, now: number): Map<string, number[]> {
    const start = now - this.windowMs;
    const result = new Map<string, number[]>();
    for (const [name, times] of entries) {
      const kept = times.filter((t) => t > start).sort((a, b) => a - b);
      if (kept.length > 0) result.set(name, kept);
    }
    return result;
  }
}
