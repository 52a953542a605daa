/**
 * The store's metrics: per certificate (label `name`), per CA account (labels `server`, `account`) and counts by
 * status, computed the way `certificates` lists them (renewal/overview.ts). Only reads: never writes the store,
 * never connects to an endpoint or a CA.
 */
import type { DueOptions } from '../lineage/due.js';
import type { CertificateMeta } from '../lineage/types.js';
import { loadAttempts } from '../renewal/attempts.js';
import { CaBudget, type CaBudgetOptions } from '../renewal/ca-budget.js';
import { certificateOverview } from '../renewal/overview.js';
import type { CertificateStore, StateStore } from '../store/types.js';
import { epochSeconds, type Exposition } from './format.js';
import { declareServed, loadServedChecks, servedSamples } from './served.js';

export interface StoreMetricsOptions {
  due: DueOptions;
  budget: CaBudgetOptions;
  now: Date;
}

/** Every status a certificate is counted under; `damaged`: its metadata cannot be read. */
export const CERTIFICATE_STATUSES = ['valid', 'due', 'expired', 'revoked', 'damaged'] as const;

/** Adds the store's metrics to `out`. */
export async function storeMetrics(out: Exposition, store: CertificateStore & StateStore, options: StoreMetricsOptions): Promise<void> {
  const { now } = options;
  const metas = await store.list();
  const [budget, attempts, served] = await Promise.all([CaBudget.load(store, options.budget, now), loadAttempts(store), loadServedChecks(store)]);
  const damaged = store.problemDetails().map((p) => p.name);
  const damagedNames = new Set(damaged);
  declareCertificates(out);
  declareServed(out);
  const counts = new Map<string, number>(CERTIFICATE_STATUSES.map((s) => [s, 0]));
  let deferred = 0;
  let backingOff = 0;
  for (const meta of metas) {
    if (damagedNames.has(meta.name)) continue;
    const name = meta.name;
    const overview = certificateOverview(meta, options.due, budget, now);
    counts.set(overview.status, (counts.get(overview.status) ?? 0) + 1);
    out.sample('certman_certificate_info', 1, { name, server: meta.server, serial: meta.serial, profile: meta.profile ?? '' });
    out.sample('certman_certificate_expiry_timestamp_seconds', epochSeconds(meta.notAfter), { name });
    out.sample('certman_certificate_not_before_timestamp_seconds', epochSeconds(meta.notBefore), { name });
    out.sample('certman_certificate_due_timestamp_seconds', epochSeconds(overview.dueAt), { name, reason: overview.dueReason });
    for (const status of CERTIFICATE_STATUSES) out.sample('certman_certificate_status', status === overview.status ? 1 : 0, { name, status });
    const attempt = attempts.get(name);
    if (attempt !== undefined) {
      out.sample('certman_certificate_last_attempt_timestamp_seconds', epochSeconds(attempt.at), { name });
      out.sample('certman_certificate_last_attempt_success', attempt.result === 'success' ? 1 : 0, { name });
    }
    out.sample('certman_certificate_renewal_failures', overview.backoff?.failures ?? 0, { name });
    if (overview.backoff !== undefined) {
      out.sample('certman_certificate_next_attempt_timestamp_seconds', epochSeconds(overview.backoff.nextAttempt), { name });
      if (Date.parse(overview.backoff.nextAttempt) > now.getTime()) backingOff += 1;
    }
    if (overview.deferred !== undefined) {
      out.sample('certman_certificate_deferred_until_timestamp_seconds', epochSeconds(overview.deferred.until), { name });
      deferred += 1;
    }
    const check = served.get(name);
    if (check !== undefined) servedSamples(out, name, meta.serial, check);
  }
  for (const name of damaged) {
    counts.set('damaged', (counts.get('damaged') ?? 0) + 1);
    for (const status of CERTIFICATE_STATUSES) out.sample('certman_certificate_status', status === 'damaged' ? 1 : 0, { name, status });
  }
  for (const [status, count] of counts) out.sample('certman_certificates', count, { status });
  out.sample('certman_certificates_deferred', deferred);
  out.sample('certman_certificates_backing_off', backingOff);
  caMetrics(out, metas.filter((m) => !damagedNames.has(m.name)), budget, now);
}

function declareCertificates(out: Exposition): void {
  out.declare('gauge', [
    ['certman_certificate_info', 'A stored certificate (always 1), with the ACME directory it renews at, its live serial and its CA profile.'],
    ['certman_certificate_expiry_timestamp_seconds', 'Expiry (notAfter) of the live certificate, in seconds since the epoch.'],
    ['certman_certificate_not_before_timestamp_seconds', 'Start of validity (notBefore) of the live certificate, in seconds since the epoch.'],
    ['certman_certificate_due_timestamp_seconds', 'When renew will renew the certificate, in seconds since the epoch; reason: lifetime (a third of its lifetime left, spread), days (renewDays), ari (the CA\'s window).'],
    ['certman_certificate_status', 'The certificate\'s status as a state set: 1 for the one it has (valid, due, expired, revoked, damaged), 0 for the others.'],
    ['certman_certificate_last_attempt_timestamp_seconds', 'When the last real renewal or issuance attempt of the certificate ended, in seconds since the epoch.'],
    ['certman_certificate_last_attempt_success', '1 when the last real renewal or issuance attempt succeeded, 0 when it failed.'],
    ['certman_certificate_renewal_failures', 'Failed renewals in a row (0 after a success): the backoff count.'],
    ['certman_certificate_next_attempt_timestamp_seconds', 'After failed renewals: before this time a plain renew does not try again, in seconds since the epoch.'],
    ['certman_certificate_deferred_until_timestamp_seconds', 'While the CA budget or the backoff holds the renewal back: until when, in seconds since the epoch.'],
    ['certman_certificates', 'Stored certificates by status (valid, due, expired, revoked, damaged).'],
    ['certman_certificates_deferred', 'Certificates whose renewal the CA budget or the backoff holds back now.'],
    ['certman_certificates_backing_off', 'Certificates whose last renewals failed and whose next attempt is still to come.'],
  ]);
}

/** Per CA account the certificates renew with: the failed-validation and new-order budgets in use, a rateLimited pause. */
function caMetrics(out: Exposition, metas: readonly CertificateMeta[], budget: CaBudget, now: Date): void {
  out.declare('gauge', [
    ['certman_ca_failed_validations', 'Failed validations counted in the last hour for the name of this account closest to the limit: at certman_ca_failed_validation_limit that name is not ordered.'],
    ['certman_ca_failed_validation_limit', 'Failed validations of one name by one account per hour after which certman stops ordering it (config failedValidationLimit).'],
    ['certman_ca_names_blocked', 'Names of this account that reached the failed-validation limit and are not ordered now.'],
    ['certman_ca_new_orders', 'New orders this account sent in the last 3 hours.'],
    ['certman_ca_new_order_limit', 'New orders per account per 3 hours certman sends at most (config newOrderLimit).'],
    ['certman_ca_rate_limited_until_timestamp_seconds', 'While the CA rate-limited this account (a rateLimited answer): until when, in seconds since the epoch.'],
  ]);
  out.sample('certman_ca_failed_validation_limit', budget.failures.limit);
  out.sample('certman_ca_new_order_limit', budget.orders.limit);
  const accounts = new Map<string, { server: string; account: string }>();
  for (const meta of metas) if (meta.accountUrl !== undefined) accounts.set(`${meta.server} ${meta.accountUrl}`, { server: meta.server, account: meta.accountUrl });
  for (const labels of [...accounts.values()].sort((a, b) => (a.server + a.account).localeCompare(b.server + b.account))) {
    const used = [...budget.failures.usedBy(labels.account, now).values()];
    out.sample('certman_ca_failed_validations', Math.max(0, ...used), labels);
    out.sample('certman_ca_names_blocked', used.filter((n) => n >= budget.failures.limit).length, labels);
    out.sample('certman_ca_new_orders', budget.orders.usedBy(labels.account, now), labels);
    const paused = budget.rateLimits.pausedUntil(labels.server, labels.account, now);
    if (paused !== undefined) out.sample('certman_ca_rate_limited_until_timestamp_seconds', epochSeconds(paused.until), labels);
  }
}
