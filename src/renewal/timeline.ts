/**
 * The renewal load ahead (`certificates --timeline`): when renew will renew each certificate, by the same window
 * (lineage/due.ts) and held back as renew would hold it (ca-budget.ts), counted per day or hour, with what the
 * spread and the CA's ARI windows moved, and the renewals of its successors projected inside the window (a 6-day
 * certificate comes due every 3 days). Pure: the CLI reads the store and draws the result.
 */
import { duePolicy, renewalWindow, SHORT_LIVED_MS, type DueOptions, type DuePolicy, type RenewalWindow } from '../lineage/due.js';
import type { CertificateMeta } from '../lineage/types.js';
import type { Deferral } from './ca-budget.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** The window when none is asked for: a month, or 5 days when every certificate lives 10 days or less (they all come due within half their lifetime). */
export const DEFAULT_WINDOW_DAYS = 30;
export const SHORT_LIVED_WINDOW_DAYS = 5;
/** Windows up to this many days are drawn per hour (at most 168 buckets); longer ones per day. */
export const HOURLY_UP_TO_DAYS = 7;

/**
 * Successors coming due sooner than this after issuance are not projected: renew renews them on every run (a
 * renewalSpread near its maximum on a short-lived certificate), and counting them per step would never end.
 */
export const MIN_PROJECTION_STEP_MS = HOUR_MS;

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
  /**
   * How long after its issuance a successor comes due: same lifetime, same rule (spread by name, renewDays as the
   * policy says), no ARI (a CA's window is for the certificate it was given for). NaN for a lifetime that is not
   * positive.
   */
  successorDueAfterMs: number;
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
    successorDueAfterMs: successorDueAfter(meta, policy),
  };
}

/** A successor issued at 0 with meta's lifetime: when it comes due. */
function successorDueAfter(meta: CertificateMeta, policy: DuePolicy): number {
  const lifetime = Date.parse(meta.notAfter) - Date.parse(meta.notBefore);
  if (!(lifetime > 0)) return Number.NaN;
  return renewalWindow({ name: meta.name, notBefore: new Date(0).toISOString(), notAfter: new Date(lifetime).toISOString() }, policy).dueAt.getTime();
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
  /** Renewals of successors not issued yet, projected (counted in `count`, not named). */
  projected: number;
  /** The certificates whose stored due time (or deferral end) falls here, in the order they come due. */
  names: string[];
}

/** Certificates outside the buckets. */
export interface NamedCount {
  count: number;
  names: string[];
}

export interface Timeline {
  bucket: BucketSize;
  /** The window's length in days. */
  days: number;
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
  /** Successors would come due within MIN_PROJECTION_STEP_MS of issuance: renewed on every run, not projected. */
  notProjected: NamedCount;
  /** The first bucket with the most renewals; undefined when the window holds none. */
  peak?: TimelineBucket;
  /** Renewals inside the window (projected ones included), and how many of them each cause moved or projected. */
  total: number;
  movedBySpread: number;
  movedByAri: number;
  deferred: number;
  projected: number;
}

/**
 * Counts `renewals` into `days` days of `bucket`-sized buckets starting with the one that holds `now` (UTC), and the
 * successors each renewal issues: issued when it is renewed (the next run for an overdue or expired one), coming
 * due successorDueAfterMs later, and so on until past the window.
 */
export function buildTimeline(renewals: readonly PlannedRenewal[], now: Date, days: number, bucket: BucketSize): Timeline {
  const bucketMs = bucket === 'hour' ? HOUR_MS : DAY_MS;
  const fromMs = Math.floor(now.getTime() / bucketMs) * bucketMs;
  const buckets: TimelineBucket[] = Array.from({ length: (days * DAY_MS) / bucketMs }, (_, i) => ({
    start: new Date(fromMs + i * bucketMs),
    count: 0,
    movedBySpread: 0,
    movedByAri: 0,
    deferred: 0,
    projected: 0,
    names: [],
  }));
  const toMs = fromMs + buckets.length * bucketMs;
  const bucketAt = (ms: number) => buckets[Math.floor((ms - fromMs) / bucketMs)];
  const overdue: NamedCount = { count: 0, names: [] };
  const expired: NamedCount = { count: 0, names: [] };
  const later: NamedCount = { count: 0, names: [] };
  const notProjected: NamedCount = { count: 0, names: [] };
  const add = (to: NamedCount | TimelineBucket, name: string) => {
    to.count += 1;
    to.names.push(name);
  };
  const ordered = [...renewals].sort((a, b) => a.at.getTime() - b.at.getTime() || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const renewal of ordered) {
    const atMs = renewal.at.getTime();
    if (renewal.expired) add(expired, renewal.name);
    else if (atMs <= now.getTime()) add(overdue, renewal.name);
    else if (atMs >= toMs) add(later, renewal.name);
    else {
      // fromMs ≤ now < at < toMs: always a bucket.
      const target = bucketAt(atMs) as TimelineBucket;
      add(target, renewal.name);
      if (renewal.deferredUntil !== undefined) target.deferred += 1;
      else if (renewal.reason === 'ari') target.movedByAri += 1;
      else if (renewal.unspreadDueAt !== undefined && bucketAt(renewal.unspreadDueAt.getTime()) !== bucketAt(renewal.dueAt.getTime())) target.movedBySpread += 1;
    }
    // Its successors: issued when it is renewed (the next run when that is overdue), each due a step after the last.
    const renewedAt = Math.max(atMs, now.getTime());
    if (renewedAt >= toMs) continue;
    const step = renewal.successorDueAfterMs;
    if (!(step >= MIN_PROJECTION_STEP_MS)) add(notProjected, renewal.name);
    else {
      for (let dueMs = renewedAt + step; dueMs < toMs; dueMs += step) {
        const target = bucketAt(dueMs) as TimelineBucket; // now < dueMs < toMs
        target.count += 1;
        target.projected += 1;
      }
    }
  }
  const sum = (field: 'count' | 'movedBySpread' | 'movedByAri' | 'deferred' | 'projected') => buckets.reduce((total, b) => total + b[field], 0);
  const peak = buckets.reduce<TimelineBucket | undefined>((best, b) => (b.count > (best?.count ?? 0) ? b : best), undefined);
  return {
    bucket,
    days,
    bucketMs,
    from: new Date(fromMs),
    to: new Date(toMs),
    buckets,
    overdue,
    expired,
    later,
    notProjected,
    ...(peak === undefined ? {} : { peak }),
    total: sum('count'),
    movedBySpread: sum('movedBySpread'),
    movedByAri: sum('movedByAri'),
    deferred: sum('deferred'),
    projected: sum('projected'),
  };
}
