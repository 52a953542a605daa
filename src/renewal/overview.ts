/**
 * What one stored certificate looks like now, as `certificates` lists it and `metrics` exports it: its renewal
 * window and why, its status, what the CA budget defers and its backoff after failed renewals. Only reads.
 */
import { certificateStatus, daysLeft, duePolicy, renewalWindow, type CertificateStatus, type DueOptions, type RenewalWindow } from '../lineage/due.js';
import type { CertificateMeta } from '../lineage/types.js';
import type { BackoffEntry } from './backoff.js';
import type { CaBudget, Deferral } from './ca-budget.js';

export interface CertificateOverview {
  daysLeft: number;
  dueAt: Date;
  /** Why renew will act then: `lifetime` (a third left, spread), `days` (renewDays), `ari` (the CA's window). */
  dueReason: RenewalWindow['reason'];
  status: CertificateStatus;
  /** What the CA budget or the backoff holds its renewal back by, if anything. */
  deferred?: Deferral;
  /** Its failed renewals in a row, when there were any. */
  backoff?: BackoffEntry & { beforeExpiry: boolean };
}

/** The overview of `meta` at `now`, from the run's due options and the budget documents as loaded. */
export function certificateOverview(meta: CertificateMeta, due: DueOptions, budget: CaBudget, now: Date): CertificateOverview {
  const policy = duePolicy(meta, due);
  const window = renewalWindow(meta, policy);
  const deferred = budget.certificateDeferral(meta, meta.server, meta.accountUrl, now);
  const backoff = budget.backoff.entry(meta, now);
  return {
    daysLeft: daysLeft(meta, now),
    dueAt: window.dueAt,
    dueReason: window.reason,
    status: certificateStatus(meta, now, policy),
    ...(deferred === undefined ? {} : { deferred }),
    ...(backoff === undefined ? {} : { backoff }),
  };
}
