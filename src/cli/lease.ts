import type { LeaseOptions } from '../store/types.js';
import type { CliContext } from './context.js';

/** The lease length the settings ask for (config `leaseSeconds`, CERTMAN_LEASE_SECONDS), if any. */
export function leaseLength(ctx: Pick<CliContext, 'settings'>): Pick<LeaseOptions, 'leaseMs'> {
  const seconds = ctx.settings.leaseSeconds;
  return seconds === undefined ? {} : { leaseMs: seconds * 1000 };
}
