/**
 * When a certificate should be renewed, and how it stands right now.
 */
import { CertmanError, UsageError } from '../errors.js';
import type { CertificateMeta } from '../store/types.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Certificates living at most this long renew at half their lifetime instead of two thirds. */
const SHORT_LIVED_MS = 10 * DAY_MS;

export type CertificateStatus = 'valid' | 'due' | 'expired' | 'revoked';

export interface RenewalWindow {
  /** From this instant on the certificate is due for renewal. */
  dueAt: Date;
  /** `days`: `renewDays` before notAfter; `lifetime`: the default fraction-of-lifetime rule. */
  reason: 'lifetime' | 'days';
}

/**
 * Without `renewDays`: due once less than a third of the lifetime (notAfter − notBefore)
 * remains (a 90-day certificate at 60 days, i.e. 30 days before expiry), or less than half
 * for lifetimes of 10 days or less (a 6-day certificate 3 days before expiry).
 * With `renewDays`: due `renewDays` days before notAfter (possibly before notBefore, i.e.
 * always due, when it exceeds the lifetime).
 *
 * Throws CertmanError for unparsable timestamps and UsageError for a renewDays that is not
 * a positive finite number.
 */
export function renewalWindow(meta: Pick<CertificateMeta, 'notBefore' | 'notAfter'>, renewDays?: number): RenewalWindow {
  const notAfter = parseTime(meta.notAfter, 'notAfter');
  if (renewDays !== undefined) {
    if (!Number.isFinite(renewDays) || renewDays <= 0) {
      throw new UsageError(`renewDays must be a positive number (got ${renewDays})`);
    }
    return { dueAt: new Date(notAfter - renewDays * DAY_MS), reason: 'days' };
  }
  const notBefore = parseTime(meta.notBefore, 'notBefore');
  const lifetime = notAfter - notBefore;
  const remainingWhenDue = lifetime <= SHORT_LIVED_MS ? lifetime / 2 : lifetime / 3;
  return { dueAt: new Date(notAfter - remainingWhenDue), reason: 'lifetime' };
}

/**
 * First match wins: `revoked` (meta.revoked set), `expired` (now ≥ notAfter),
 * `due` (now ≥ dueAt), else `valid`.
 * The `renewDays` argument is the caller's effective value and wins; `meta.renewDays` (saved
 * with the certificate) is the fallback; with neither, the lifetime rule of renewalWindow
 * applies. So `certificateStatus(m, now, d)` agrees with `renewalWindow(m, d)` whenever `d`
 * is given. To let a per-certificate value beat a global one, pass
 * `meta.renewDays ?? settings.renewDays`.
 */
export function certificateStatus(meta: CertificateMeta, now: Date, renewDays?: number): CertificateStatus {
  if (meta.revoked !== undefined) return 'revoked';
  const t = now.getTime();
  if (t >= parseTime(meta.notAfter, 'notAfter')) return 'expired';
  const { dueAt } = renewalWindow(meta, renewDays ?? meta.renewDays);
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
