/**
 * Failed-validation budget, per CA account and name. Let's Encrypt refuses a name to an account for an hour
 * after 5 failed validations of it by that account within an hour; certman stops asking earlier (3 by default,
 * config `failedValidationLimit`, at most 4), so a broken webroot or firewall spends certman's own budget, not
 * the CA's, and a fixed setup is never left rate-limited by the CA.
 *
 * Persisted in the state store under `failed-validations` as
 * { "<account URL>": { "<name>": ["<ISO time>", …] } }. A store shared by several nodes shares the budget:
 * every node counts every node's failures. A top-level "<name>": [times] (the document of certman before
 * accounts were counted apart) counts against every account until it leaves the window.
 * Failures are recorded in memory (several renewals of one run may record concurrently) and
 * written by one save(), a read-modify-write of the store (updateState) that adds only what this
 * instance recorded since: no run's failures are lost, whatever runs at the same time.
 *
 * A damaged document (not JSON) is treated as empty and replaced by the next save: it only caches
 * recent failures, and must not stop every renewal; {@link FailureBudget.problem} says why.
 */
import { CertmanError } from '../errors.js';
import { CorruptFileError } from '../store/index.js';
import { isRecord } from '../store/json.js';
import type { StateStore } from '../store/types.js';
import { addAll, fullUntil, inWindow, parseTimes, pruneAll, toIso } from './window.js';

export const FAILED_VALIDATIONS_KEY = 'failed-validations';
export const DEFAULT_FAILURE_LIMIT = 3;
export const DEFAULT_FAILURE_WINDOW_MS = 60 * 60 * 1000;

export interface FailureBudgetOptions {
  /** Failures of one name by one account within the window that block it. Default 3. */
  limit?: number;
  /** Length of the sliding window in milliseconds. Default 1 hour. */
  windowMs?: number;
  /** Clock used to prune old entries on load and save (tests). Default: the system clock. */
  clock?: () => Date;
}

/** Stored shape: account URL → name → ISO timestamps; a name → timestamps at the top counts for every account. */
export type FailedValidations = Record<string, Record<string, string[]> | string[]>;

/** The account of the entries stored without one (they count against every account). */
const ANY_ACCOUNT = '';

function normalizeName(name: string): string {
  return name.trim().toLowerCase();
}

/** One map key per account and name: an account URL never contains a space. */
const keyOf = (account: string, name: string): string => `${account} ${normalizeName(name)}`;

function splitKey(key: string): { account: string; name: string } {
  const at = key.indexOf(' ');
  return { account: key.slice(0, at), name: key.slice(at + 1) };
}

/**
 * Reads the stored document leniently: anything that is not a list of valid timestamps under a name is
 * dropped (the document is only a cache of recent failures; a damaged entry must not stop renewals).
 */
function parseStored(value: unknown): Map<string, number[]> {
  const result = new Map<string, number[]>();
  const add = (account: string, name: string, times: unknown) => {
    const valid = parseTimes(times);
    if (normalizeName(name) !== '' && valid.length > 0) addAll(result, new Map([[keyOf(account, name), valid]]));
  };
  if (!isRecord(value)) return result;
  for (const [outer, inner] of Object.entries(value)) {
    if (Array.isArray(inner)) add(ANY_ACCOUNT, outer, inner);
    else if (isRecord(inner) && !outer.includes(' ')) for (const [name, times] of Object.entries(inner)) add(outer, name, times);
  }
  return result;
}


/** The stored document of `entries`, accounts and names sorted. */
function serialize(entries: Map<string, number[]>): FailedValidations {
  const doc: FailedValidations = {};
  for (const key of [...entries.keys()].sort()) {
    const { account, name } = splitKey(key);
    const times = (entries.get(key) ?? []).map(toIso);
    if (account === ANY_ACCOUNT) doc[name] = times;
    else ((doc[account] ??= {}) as Record<string, string[]>)[name] = times;
  }
  return doc;
}

export class FailureBudget {
  readonly limit: number;
  readonly windowMs: number;
  private readonly clock: () => Date;
  /** Every known failure (stored and recorded here) by account and name (keyOf), times in ms. */
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
    this.entries = pruneAll(entries, this.windowMs, this.clock().getTime());
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
   * When `limit` or more failures of `name` by `account` (or stored without an account) lie within the window
   * ending at `now`: the time enough of them have left it for the name to be tried again (for exactly `limit`
   * failures, the oldest one's time + window). Undefined when the name may be tried now.
   */
  blockedUntil(account: string, name: string, now: Date): Date | undefined {
    const times = [...(this.entries.get(keyOf(account, name)) ?? []), ...(this.entries.get(keyOf(ANY_ACCOUNT, name)) ?? [])];
    return fullUntil(times, this.limit, this.windowMs, now.getTime());
  }

  /**
   * The failed validations counted against `account` within the window ending at `now`, per name (those stored
   * without an account count too): how much of each name's budget is used, for `certman metrics`.
   */
  usedBy(account: string, now: Date): Map<string, number> {
    const used = new Map<string, number>();
    for (const [key, times] of this.entries) {
      const entry = splitKey(key);
      if (entry.account !== account && entry.account !== ANY_ACCOUNT) continue;
      const count = inWindow(times, this.windowMs, now.getTime()).length;
      if (count > 0) used.set(entry.name, (used.get(entry.name) ?? 0) + count);
    }
    return used;
  }

  /** Records one failed validation by `account` at `now` for each name (a name listed twice counts once). */
  recordFailures(account: string, names: string[], now: Date): void {
    const time = now.getTime();
    if (!Number.isFinite(time)) throw new CertmanError('cannot record a failure at an invalid time');
    if (account === ANY_ACCOUNT || account.includes(' ')) throw new CertmanError(`cannot record failures for the account URL ${JSON.stringify(account)}`);
    for (const name of new Set(names.map(normalizeName))) {
      if (name === '') continue;
      const key = keyOf(account, name);
      this.entries.set(key, [...(this.entries.get(key) ?? []), time]);
      this.pending.set(key, [...(this.pending.get(key) ?? []), time]);
    }
  }

  /** Whether failures were recorded that save() has not written yet. */
  get unsaved(): boolean {
    return this.pending.size > 0;
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
        merged = pruneAll(stored, this.windowMs, this.clock().getTime());
        return serialize(merged);
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
}
