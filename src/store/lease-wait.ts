/**
 * What every backend's leases share: the default length, how a lease target is named in messages, and the
 * pause between two tries at a held lease.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { withAbortReason } from '../abort.js';
import { LockedError } from '../errors.js';
import type { LeaseOptions, LeaseTarget } from './types.js';

/** Lease length unless LeaseOptions.leaseMs says otherwise: how long a dead node can block the others. */
export const DEFAULT_LEASE_MS = 60_000;
/** Pause bounds between tries at a held lease (randomised so waiters do not march in step). */
const POLL_MIN_MS = 100;
const POLL_MAX_MS = 250;

/** `certificate "x"` or `the account at <CA>`, for messages. */
export function describeLeaseTarget(target: LeaseTarget): string {
  return 'certificate' in target ? `certificate "${target.certificate}"` : `the account at ${target.account}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return s < 60 ? `${Number(s.toFixed(1))} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/**
 * After a try found `what` held (`reason` says by whom): LockedError at once without `wait`, or once `timeoutMs`
 * has passed since `begin`; otherwise a short random pause, which the signal ends with its own reason (so callers
 * recognize their run's cancellation).
 */
export async function waitForNextTry(options: LeaseOptions, begin: number, what: string, reason: string): Promise<void> {
  if (!options.wait) throw new LockedError(reason);
  const timeoutMs = options.timeoutMs ?? Infinity;
  const waited = Date.now() - begin;
  if (waited >= timeoutMs) throw new LockedError(`gave up after waiting ${formatDuration(waited)} for ${what}: ${reason}`, 'try again later');
  const interval = POLL_MIN_MS + Math.random() * (POLL_MAX_MS - POLL_MIN_MS);
  await sleep(Math.min(interval, timeoutMs - waited), undefined, options.signal === undefined ? {} : { signal: options.signal }).catch(withAbortReason(options.signal));
}
