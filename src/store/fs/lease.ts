/**
 * Leases of the filesystem store on top of its lock files (lock.ts): one lock file per lineage, per CA
 * account registration, and short-lived ones that make metadata and state read-modify-writes atomic.
 *
 *   <configDir>/.locks/cert.<name>.lock        a run working on lineage <name> (issue, renew, delete, …)
 *   <configDir>/.locks/account.<hash>.lock     a run registering (or changing) the account at one CA
 *   <configDir>/.locks/meta.<name>.lock        held for one read-modify-write of renewal/<name>.json
 *   <configDir>/.locks/state.<key>.lock        held for one read-modify-write of state/<key>.json
 */
import { createHash } from 'node:crypto';

import { LeaseLostError } from '../../errors.js';
import type { Lease, LeaseOptions, LeaseTarget } from '../types.js';
import { acquireFileLock, type FileLock } from './lock.js';
import { serverKey } from './names.js';
import { describeLeaseTarget } from '../lease-wait.js';

/** Longer names are hashed, so `<id>.lock.break` and its temp names fit in NAME_MAX (255 bytes). */
const MAX_PLAIN_ID = 180;

/**
 * How long a read-modify-write may wait for another run's (each takes milliseconds): longer than any lease, so a
 * holder that died (its update lock expires with the lease) never makes a save past its commit point fail.
 */
const UPDATE_WAIT_MS = 5 * 60_000;

function hashed(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 40);
}

/** Lock name of a lease kind and a (valid) lineage name or state key. */
export function lockId(kind: 'cert' | 'meta' | 'state', name: string): string {
  return `${kind}.${name.length <= MAX_PLAIN_ID ? name : hashed(name)}`;
}

function targetLockId(target: LeaseTarget): string {
  return 'certificate' in target ? lockId('cert', target.certificate) : `account.${hashed(serverKey(target.account))}`;
}

class FileLease implements Lease {
  constructor(
    private readonly lock: FileLock,
    private readonly what: string,
  ) {}

  get owner(): string {
    return this.lock.owner;
  }

  get signal(): AbortSignal {
    return this.lock.lostSignal;
  }

  async assertHeld(): Promise<void> {
    if (!(await this.lock.confirm())) throw new LeaseLostError(this.what);
  }

  release(): Promise<void> {
    return this.lock.release();
  }
}

/** Takes the lease on `target` (see lock.ts for how held, dead and expired holders are told apart). */
export async function takeFileLease(configDir: string, target: LeaseTarget, options: LeaseOptions): Promise<Lease> {
  const what = describeLeaseTarget(target);
  return new FileLease(await acquireFileLock(configDir, targetLockId(target), options, what), what);
}

/** Runs `work` holding the short lock `id` (waiting for another run's), so a read-modify-write loses nothing. */
export async function withUpdateLock<T>(configDir: string, id: string, work: () => Promise<T>): Promise<T> {
  const lock = await acquireFileLock(configDir, id, { wait: true, timeoutMs: UPDATE_WAIT_MS }, `the update lock ${id}`);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
