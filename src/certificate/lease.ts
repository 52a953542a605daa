import { LockedError } from '../errors.js';
import type { Reporter } from '../report.js';
import type { Lease, LeaseOptions, LeaseStore } from '../store/types.js';

/**
 * The lease on lineage `name`. When another run holds it: LockedError (exit 75) without `wait`; with it, says
 * whom it waits for, then waits (until `timeoutMs`, or the signal).
 */
export async function leaseLineage(store: LeaseStore, name: string, options: LeaseOptions, report: Reporter): Promise<Lease> {
  try {
    return await store.lease({ certificate: name }, { ...options, wait: false });
  } catch (err) {
    if (!(err instanceof LockedError) || !options.wait) throw err;
    report.step(`waiting for ${name}: ${err.message}`);
  }
  return store.lease({ certificate: name }, options);
}
