import { LockedError } from '../errors.js';
import type { LeaseOptions } from '../store/types.js';
import type { CliContext } from './context.js';

/** The lease length the settings ask for (config `leaseSeconds`, CERTMAN_LEASE_SECONDS), if any. */
export function leaseLength(ctx: Pick<CliContext, 'settings'>): Pick<LeaseOptions, 'leaseMs'> {
  const seconds = ctx.settings.leaseSeconds;
  return seconds === undefined ? {} : { leaseMs: seconds * 1000 };
}

/** How long a standalone server waits for another certman run on this host to free its port. */
const PORT_WAIT_MS = 10 * 60_000;

/**
 * Port locks in the config dir (node-local, whatever the store): concurrent runs on this host take turns on a
 * standalone port. The wait ends on the run's signal.
 */
export function portLocks(ctx: Pick<CliContext, 'settings' | 'report'>, signal: AbortSignal): (port: number) => Promise<{ release(): Promise<void> }> {
  return async (port) => {
    const { lockOnThisHost } = await import('../store/index.js');
    try {
      return await lockOnThisHost(ctx.settings.configDir, `port-${port}`, { wait: true, timeoutMs: PORT_WAIT_MS, signal });
    } catch (err) {
      if (err instanceof LockedError || signal.aborted) throw err;
      // Only a courtesy between runs (binding a busy port fails anyway): a full or read-only disk must not stop the order.
      ctx.report.warn(`going on without the lock on port ${port}: ${(err as Error).message}`);
      return { release: () => Promise.resolve() };
    }
  };
}
