/**
 * When a certificate should be renewed, and how it stands right now.
 */
import { CertmanError, UsageError } from '../errors.js';
import type { CertificateMeta } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Certificates living at most this long renew at half their lifetime instead of two thirds. */
export const SHORT_LIVED_MS = 10 * DAY_MS;

export type CertificateStatus = 'valid' | 'due' | 'expired' | 'revoked';

export interface RenewalWindow {
  /** From this instant on the certificate is due for renewal. */
  dueAt: Date;
  /**
   * `days`: `renewDays` before notAfter; `lifetime`: the fraction-of-lifetime rule (spread);
   * `ari`: the time picked inside the CA's ARI window, when that comes first.
   */
  reason: 'lifetime' | 'days' | 'ari';
}

export interface DuePolicy {
  /** Due this many days before notAfter instead of by the lifetime rule. */
  renewDays?: number;
  /**
   * Up to this fraction of the lifetime, the lifetime rule moves earlier by a stable
   * per-certificate amount (a hash of its name), so certificates issued together come due apart.
   */
  spreadFraction?: number;
  /**
   * `renewDays` is the certificate's or the configured one (not `--days` for one run): it asks for at most
   * MAX_DAYS_FRACTION of the lifetime, so a config renewDays of 30 does not make a 6-day certificate due on every run.
   */
  capDays?: boolean;
}

/** A stored or configured renewDays is due no earlier than a third into the lifetime (see DuePolicy.capDays). */
const MAX_DAYS_FRACTION = 2 / 3;

/** The default spread when the CA gives no ARI window: 10% of the lifetime. */
export const DEFAULT_SPREAD_FRACTION = 0.1;

export interface DueOptions {
  /** `--days` for this run: beats every certificate's own window. */
  days?: number;
  /** Config `renewDays`: for certificates that have none of their own. */
  defaultDays?: number;
  /** Config `renewalSpread`. */
  spreadFraction?: number;
}

/**
 * The one place that decides which window applies: `--days` for this run, then the certificate's own
 * renewDays, then the configured default; the spread always.
 */
export function duePolicy(
  meta: Pick<CertificateMeta, 'renewDays'>,
  options: DueOptions,
): DuePolicy {
  const renewDays = options.days ?? meta.renewDays ?? options.defaultDays;
  const capDays = renewDays !== undefined && options.days === undefined;
  return { spreadFraction: options.spreadFraction ?? DEFAULT_SPREAD_FRACTION, ...(renewDays === undefined ? {} : { renewDays }), ...(capDays ? { capDays } : {}) };
}

/**
 * Without `renewDays`: due once less than a third of the lifetime (notAfter − notBefore)
 * remains (a 90-day certificate at 60 days, i.e. 30 days before expiry), or less than half
 * for lifetimes of 10 days or less (a 6-day certificate 3 days before expiry), moved earlier by
 * the certificate's spread. With `renewDays`: due `renewDays` days before notAfter (possibly
 * before notBefore, i.e. always due, when it exceeds the lifetime: `--days`), at most two thirds of the lifetime
 * before it when `capDays` (a stored or configured renewDays). An ARI time that comes
 * earlier wins (RFC 9773: the CA may ask for early renewal, e.g. before a mass revocation).
 *
 * Throws CertmanError for unparsable timestamps and UsageError for a renewDays that is not
 * a positive finite number.
 */
export function renewalWindow(
  meta: Pick<CertificateMeta, 'notBefore' | 'notAfter'> & Partial<Pick<CertificateMeta, 'name' | 'ari'>>,
  policy: DuePolicy = {},
): RenewalWindow {
  const notAfter = parseTime(meta.notAfter, 'notAfter');
  const base = baseWindow(meta, notAfter, policy);
  const ariAt = meta.ari === undefined ? Number.NaN : Date.parse(meta.ari.renewAt);
  return ariAt < base.dueAt.getTime() ? { dueAt: new Date(ariAt), reason: 'ari' } : base;
}

function baseWindow(meta: Pick<CertificateMeta, 'notBefore'> & { name?: string }, notAfter: number, policy: DuePolicy): RenewalWindow {
  const { renewDays } = policy;
  if (renewDays !== undefined) {
    if (!Number.isFinite(renewDays) || renewDays <= 0) {
      throw new UsageError(`renewDays must be a positive number (got ${renewDays})`);
    }
    const most = policy.capDays === true ? MAX_DAYS_FRACTION * (notAfter - parseTime(meta.notBefore, 'notBefore')) : Number.POSITIVE_INFINITY;
    return { dueAt: new Date(notAfter - Math.min(renewDays * DAY_MS, most)), reason: 'days' };
  }
  const notBefore = parseTime(meta.notBefore, 'notBefore');
  const lifetime = notAfter - notBefore;
  const remainingWhenDue = lifetime <= SHORT_LIVED_MS ? lifetime / 2 : lifetime / 3;
  const spread = meta.name === undefined ? 0 : stableFraction(meta.name) * (policy.spreadFraction ?? 0) * lifetime;
  return { dueAt: new Date(notAfter - remainingWhenDue - spread), reason: 'lifetime' };
}

/** A number in [0, 1) that depends only on the name (FNV-1a), the same on every machine and run. */
export function stableFraction(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i += 1) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 2 ** 32;
}

/**
 * First match wins: `revoked` (meta.revoked set), `expired` (now ≥ notAfter),
 * `due` (now ≥ dueAt of renewalWindow(meta, policy)), else `valid`.
 */
export function certificateStatus(meta: CertificateMeta, now: Date, policy: DuePolicy = {}): CertificateStatus {
  if (meta.revoked !== undefined) return 'revoked';
  const t = now.getTime();
  if (t >= parseTime(meta.notAfter, 'notAfter')) return 'expired';
  const { dueAt } = renewalWindow(meta, policy);
  return t >= dueAt.getTime() ? 'due' : 'valid';
}

/**
 * Whole days until notAfter, rounded down (like certbot's "VALID: 89 days"): 0 in the last
 * 24 hours, negative once expired (−1 during the first day after expiry).
 */
export function daysLeft(meta: Pick<CertificateMeta, 'notAfter'>, now: Date): number {
  return Math.floor((parseTime(meta.notAfter, 'notAfter') - now.getTime()) / DAY_MS);
}

function parseTime(value: string, field: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new CertmanError(`certificate metadata has an invalid ${field} timestamp ${JSON.stringify(value)}`);
  return t;
}
