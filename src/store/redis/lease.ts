/**
 * Leases in Redis: `SET <lease key> <owner> NX PX <ms>` takes one, a Lua script that checks the owner extends it
 * every quarter of its length and another releases it, so a run can never extend or remove another run's lease.
 * A holder that dies blocks the others for at most one lease (Redis expires the key); one that finds its lease
 * gone (it stalled longer than a lease, or Redis lost it) aborts its signal, and its writes refuse.
 */
import { randomBytes } from 'node:crypto';

import { LeaseLostError } from '../../errors.js';
import { DEFAULT_LEASE_MS, describeLeaseTarget, waitForNextTry } from '../lease-wait.js';
import type { Lease, LeaseOptions, LeaseTarget } from '../types.js';
import { runScript, type RedisClient } from './connection.js';
import { EXTEND_LEASE, RELEASE_LEASE } from './scripts.js';

class RedisLease implements Lease {
  readonly owner = randomBytes(16).toString('hex');
  private readonly lost = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    private readonly client: RedisClient,
    readonly key: string,
    private readonly what: string,
    private readonly leaseMs: number,
    /** The store's leases not released yet, which its close() releases. */
    private readonly held: Set<Lease>,
  ) {}

  get signal(): AbortSignal {
    return this.lost.signal;
  }

  /** SET NX PX; false when another run holds it. */
  async take(): Promise<boolean> {
    let reply: unknown;
    try {
      reply = await this.client.set(this.key, this.owner, { condition: 'NX', expiration: { type: 'PX', value: this.leaseMs } });
    } catch (err) {
      // Unanswered, the SET may still reach Redis later and leave a lease nobody holds: a release sent after it on
      // the same connection reaches Redis after it, and undoes it.
      void this.release();
      throw err;
    }
    if (reply !== 'OK') return false;
    this.held.add(this);
    this.timer = setInterval(() => void this.extend(), Math.max(1, this.leaseMs / 4));
    this.timer.unref();
    return true;
  }

  async assertHeld(): Promise<void> {
    if (!this.signal.aborted && (await this.client.get(this.key)) !== this.owner) this.markLost();
    if (this.signal.aborted) throw new LeaseLostError(this.what);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.held.delete(this);
    clearInterval(this.timer);
    await runScript(this.client, RELEASE_LEASE, [this.key], [this.owner]).catch(() => undefined);
  }

  /** One extension; Redis unreachable is tried again next time (the lease may still be there). */
  private async extend(): Promise<void> {
    if (this.released || this.signal.aborted) return;
    const extended = await runScript(this.client, EXTEND_LEASE, [this.key], [this.owner, String(this.leaseMs)]).catch(() => undefined);
    if (extended === 0 && !this.released) this.markLost();
  }

  private markLost(): void {
    clearInterval(this.timer);
    this.lost.abort(new LeaseLostError(this.what));
  }
}

/** Until when (ISO time) the lease `key` holds for others, for LockedError messages. */
async function heldUntil(client: RedisClient, key: string): Promise<string> {
  const ms = await client.pTTL(key);
  return ms > 0 ? ` until ${new Date(Date.now() + ms).toISOString()}, unless that run extends its lease` : '';
}

/** Takes the lease `key` on `target`: LockedError at once when held, or with `wait` polls until free (see LeaseOptions). */
export async function takeRedisLease(client: RedisClient, key: string, target: LeaseTarget, options: LeaseOptions, held: Set<Lease>): Promise<Lease> {
  const what = describeLeaseTarget(target);
  const begin = Date.now();
  for (;;) {
    options.signal?.throwIfAborted();
    const lease = new RedisLease(client, key, what, options.leaseMs ?? DEFAULT_LEASE_MS, held);
    if (await lease.take()) return lease;
    await waitForNextTry(options, begin, what, `another certman run holds ${what}${await heldUntil(client, key)}`);
  }
}
