/**
 * Rate limits a CA told `renew` about (rateLimited, RFC 8555 §6.7), per CA account: until the time it
 * gave, renewals for that account are deferred and nothing is sent to it, in this run and later ones.
 *
 * Persisted in the state store under `rate-limits` as { records: [{ server, account, until, detail }] }.
 * record() saves at once (a run killed right after the answer keeps it), re-reading the stored document
 * and keeping, per account, the later time, so runs sharing the store keep each other's records.
 * A damaged document is treated as empty and replaced by the next save: like the failure budget it
 * only caches what the CA said, and must not stop every renewal; {@link RateLimitRecords.problem} says why.
 */
import { CorruptFileError } from '../store/index.js';
import type { StateStore } from '../store/types.js';

export const RATE_LIMITS_KEY = 'rate-limits';

export interface RateLimitRecord {
  /** ACME directory URL. */
  server: string;
  /** Account URL the CA rate-limited. */
  account: string;
  /** ISO time before which nothing is sent to that account. */
  until: string;
  /** The CA's own words (with any link it gave, such as an unpause page). */
  detail: string;
}

const keyOf = (server: string, account: string): string => `${server} ${account}`;

/** Keeps the valid records that have not run out at `now`; per account, the one that runs longest. */
export function parseRecords(value: unknown, now: Date): Map<string, RateLimitRecord> {
  const result = new Map<string, RateLimitRecord>();
  const list: unknown = (value as { records?: unknown } | null | undefined)?.records;
  if (!Array.isArray(list)) return result;
  for (const item of list as unknown[]) {
    const r = item as Partial<Record<keyof RateLimitRecord, unknown>> | null;
    if (r === null || typeof r !== 'object') continue;
    if (typeof r.server !== 'string' || typeof r.account !== 'string' || typeof r.until !== 'string' || typeof r.detail !== 'string') continue;
    const record: RateLimitRecord = { server: r.server, account: r.account, until: r.until, detail: r.detail };
    addRecord(result, record, now);
  }
  return result;
}

function addRecord(records: Map<string, RateLimitRecord>, record: RateLimitRecord, now: Date): void {
  const until = Date.parse(record.until);
  if (!Number.isFinite(until) || until <= now.getTime()) return;
  const key = keyOf(record.server, record.account);
  const known = records.get(key);
  if (known === undefined || Date.parse(known.until) < until) records.set(key, { ...record, until: new Date(until).toISOString() });
}

export class RateLimitRecords {
  private constructor(
    private readonly state: StateStore,
    private records: Map<string, RateLimitRecord>,
    /** Why the stored document was ignored (it was damaged), for a warning; else undefined. */
    readonly problem: string | undefined,
  ) {}

  static async load(state: StateStore, now: Date): Promise<RateLimitRecords> {
    try {
      return new RateLimitRecords(state, parseRecords(await state.getState<unknown>(RATE_LIMITS_KEY), now), undefined);
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      return new RateLimitRecords(state, new Map(), err.message);
    }
  }

  /** The record that still holds `account` of `server` back at `now`, if any. */
  pausedUntil(server: string, account: string, now: Date): RateLimitRecord | undefined {
    const record = this.records.get(keyOf(server, account));
    return record !== undefined && Date.parse(record.until) > now.getTime() ? record : undefined;
  }

  /** Remembers that the CA rate-limited `account` until `until`, and saves it with what is stored now. */
  async record(server: string, account: string, until: Date, detail: string, now: Date): Promise<void> {
    addRecord(this.records, { server, account, until: until.toISOString(), detail }, now);
    await this.state.updateState<unknown>(RATE_LIMITS_KEY, (current) => {
      const stored = parseRecords(current, now);
      for (const record of this.records.values()) addRecord(stored, record, now);
      this.records = stored;
      return { records: [...stored.values()].sort((a, b) => keyOf(a.server, a.account).localeCompare(keyOf(b.server, b.account))) };
    });
  }
}

/** The `deferred` reason of a certificate held back by `record`: names the time and the CA's words. */
export function pausedReason(record: RateLimitRecord): string {
  return `the CA rate-limited account ${record.account} until ${record.until}; nothing is sent to it before then (${record.detail})`;
}
