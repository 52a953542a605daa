/**
 * The renewal load ahead (`certificates --timeline`): when renew will renew each certificate, by the same window
 * (lineage/due.ts) and held back as renew would hold it (ca-budget.ts), counted per day or hour, with what the
 * spread and the CA's ARI windows moved. Pure: the CLI reads the store and draws the result.
 */
import { duePolicy, renewalWindow, SHORT_LIVED_MS, type DueOptions, type RenewalWindow } from '../lineage/due.js';
import type { CertificateMeta } from '../lineage/types.js';
import type { Deferral } from './ca-budget.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** The window when none is asked for: a month, or 5 days when every certificate lives 10 days or less (they all come due within half their lifetime). */
export const DEFAULT_WINDOW_DAYS = 30;
export const SHORT_LIVED_WINDOW_DAYS = 5;
/** Windows up to this many days are drawn per hour (at most 168 buckets); longer ones per day. */
export const HOURLY_UP_TO_DAYS = 7;

export type BucketSize = 'hour' | 'day';

/** When renew will renew one certificate, and what put it then. */
export interface PlannedRenewal {
  name: string;
  /** Its due time, or the end of its deferral when that is later. */
  at: Date;
  dueAt: Date;
  reason: RenewalWindow['reason'];
  /** For the lifetime rule: the due time without the spread (spreadFraction 0). */
  unspreadDueAt?: Date;
  /** The CA budget or the failed-renewal backoff holds it past its due time: until then. */
  deferredUntil?: Date;
  /** It expired before now: renew renews it on its next run unless deferred, but it is late already. */
  expired: boolean;
}

/**
 * One certificate's renewal as renew would see it at `now`: the window of duePolicy/renewalWindow with the same
 * options, moved later by a deferral that lasts past the due time (a deferral ending before it changes nothing).
 */
export function plannedRenewal(meta: CertificateMeta, options: DueOptions, deferral: Deferral | undefined, now: Date): PlannedRenewal {
  const policy = duePolicy(meta, options);
  const window = renewalWindow(meta, policy);
  const unspread = window.reason === 'lifetime' ? renewalWindow({ notBefore: meta.notBefore, notAfter: meta.notAfter }, { ...policy, spreadFraction: 0 }) : undefined;
  const laterThanDue = deferral !== undefined && deferral.until > window.dueAt && deferral.until > now;
  return {
    name: meta.name,
    at: laterThanDue ? deferral.until : window.dueAt,
    dueAt: window.dueAt,
    reason: window.reason,
    ...(unspread === undefined ? {} : { unspreadDueAt: unspread.dueAt }),
    ...(laterThanDue ? { deferredUntil: deferral.until } : {}),
    expired: Date.parse(meta.notAfter) <= now.getTime(),
  };
}

/** The window shown: `days` asked for, or the default for these lifetimes; per hour up to HOURLY_UP_TO_DAYS. */
export function timelineWindow(lifetimesMs: readonly number[], days?: number): { days: number; bucket: BucketSize } {
  const allShortLived = lifetimesMs.length > 0 && lifetimesMs.every((lifetime) => lifetime <= SHORT_LIVED_MS);
  const chosen = days ?? (allShortLived ? SHORT_LIVED_WINDOW_DAYS : DEFAULT_WINDOW_DAYS);
  return { days: chosen, bucket: chosen <= HOURLY_UP_TO_DAYS ? 'hour' : 'day' };
}

export interface TimelineBucket {
  /** Start of the bucket (a UTC day or hour); it lasts Timeline.bucketMs. */
  start: Date;
  count: number;
  /** Without the spread the lifetime rule would have put these in another bucket. */
  movedBySpread: number;
  /** Due at the time picked in the CA's ARI window, earlier than the lifetime rule. */
  movedByAri: number;
  /** Held back past their due time by the CA budget or the backoff after failed renewals. */
  deferred: number;
  /** In the order they come due. */
  names: string[];
}

/** Certificates outside the buckets. */
export interface NamedCount {
  count: number;
  names: string[];
}

export interface Timeline {
  bucket: BucketSize;
  bucketMs: number;
  /** Start of the first bucket (the current UTC day or hour) and end of the last. */
  from: Date;
  to: Date;
  buckets: TimelineBucket[];
  /** Due before now and not deferred: the next renew run renews them. */
  overdue: NamedCount;
  /** Already past notAfter. */
  expired: NamedCount;
  /** Due at or after `to`. */
  later: NamedCount;
  /** The first bucket with the most renewals; undefined when the window holds none. */
  peak?: TimelineBucket;
  /** Renewals inside the window, and how many of them each cause moved. */
  total: number;
  movedBySpread: number;
  movedByAri: number;
  deferred: number;
}

/** Counts `renewals` into `days` days of `bucket`-sized buckets starting with the one that holds `now` (UTC). */
export function buildTimeline(renewals: readonly PlannedRenewal[], now: Date, days: number, bucket: BucketSize): Timeline {
  const bucketMs = bucket === 'hour' ? HOUR_MS : DAY_MS;
  const fromMs = Math.floor(now.getTime() / bucketMs) * bucketMs;
  const buckets: TimelineBucket[] = Array.from({ length: (days * DAY_MS) / bucketMs }, (_, i) => ({
    start: new Date(fromMs + i * bucketMs),
    count: 0,
    movedBySpread: 0,
    movedByAri: 0,
    deferred: 0,
    names: [],
  }));
  const toMs = fromMs + buckets.length * bucketMs;
  const indexOf = (t: Date) => Math.floor((t.getTime() - fromMs) / bucketMs);
  const overdue: NamedCount = { count: 0, names: [] };
  const expired: NamedCount = { count: 0, names: [] };
  const later: NamedCount = { count: 0, names: [] };
  const add = (to: NamedCount | TimelineBucket, name: string) => {
    to.count += 1;
    to.names.push(name);
  };
  const ordered = [...renewals].sort((a, b) => a.at.getTime() - b.at.getTime() || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const renewal of ordered) {
    if (renewal.expired) add(expired, renewal.name);
    else if (renewal.at.getTime() <= now.getTime()) add(overdue, renewal.name);
    else if (renewal.at.getTime() >= toMs) add(later, renewal.name);
    else {
      const target = buckets[indexOf(renewal.at)];
      if (target === undefined) continue; // unreachable: fromMs ≤ now < at < toMs
      add(target, renewal.name);
      if (renewal.deferredUntil !== undefined) target.deferred += 1;
      else if (renewal.reason === 'ari') target.movedByAri += 1;
      else if (renewal.unspreadDueAt !== undefined && indexOf(renewal.unspreadDueAt) !== indexOf(renewal.dueAt)) target.movedBySpread += 1;
    }
  }
  const sum = (field: 'count' | 'movedBySpread' | 'movedByAri' | 'deferred') => buckets.reduce((total, b) => total + b[field], 0);
  const peak = buckets.reduce<TimelineBucket | undefined>((best, b) => (b.count > (best?.count ?? 0) ? b : best), undefined);
  return {
    bucket,
    bucketMs,
    from: new Date(fromMs),
    to: new Date(toMs),
    buckets,
    overdue,
    expired,
    later,
    ...(peak === undefined ? {} : { peak }),
    total: sum('count'),
    movedBySpread: sum('movedBySpread'),
    movedByAri: sum('movedByAri'),
    deferred: sum('deferred'),
  };
}
