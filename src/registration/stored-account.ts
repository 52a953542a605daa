/**
 * The stored ACME account as every account operation uses it (registration, rollover, deactivation): the account
 * lease that serializes changes to it, and what a stored account may be used for. A module of its own so that
 * rollover.ts needs nothing from account.ts (which settles rollovers): no import cycle.
 */
import type { AcmeConnector } from '../acme/index.js';
import { UsageError } from '../errors.js';
import type { KeySpec } from '../lineage/types.js';
import type { Reporter } from '../report.js';
import type { AccountStore, LeaseStore, StoredAccount } from '../store/types.js';

/** The account key of a new account; a rollover keeps the old key's type unless told otherwise. */
export const ACCOUNT_KEY: KeySpec = { type: 'ecdsa', curve: 'p256' };

export interface AccountDeps {
  accounts: AccountStore & LeaseStore;
  connect: AcmeConnector;
  report: Reporter;
  /** Length of the account lease (see LeaseOptions.leaseMs); the store's default otherwise. */
  leaseMs?: number;
  /** Ends a wait for another run's account lease. */
  signal?: AbortSignal;
}

/** How long a registration waits for another run's at the same CA (a registration takes seconds). */
const ACCOUNT_LEASE_WAIT_MS = 120_000;

/**
 * Runs `work` holding the lease on the account at `server`, so two runs never register (or change) the
 * account at one CA at the same time: the second waits, then finds what the first stored.
 */
export async function withAccountLease<D extends Omit<AccountDeps, 'connect' | 'report'>, T>(server: string, deps: D, work: (leased: D) => Promise<T>): Promise<T> {
  const lease = await deps.accounts.lease(
    { account: server },
    { wait: true, timeoutMs: ACCOUNT_LEASE_WAIT_MS, ...(deps.leaseMs === undefined ? {} : { leaseMs: deps.leaseMs }), ...(deps.signal === undefined ? {} : { signal: deps.signal }) },
  );
  const { accounts } = deps;
  // A run that stalled past its lease must not write over what the run that took over stored.
  const guarded: AccountStore & LeaseStore = {
    getAccount: (s) => accounts.getAccount(s),
    saveAccount: async (account) => {
      await lease.assertHeld();
      await accounts.saveAccount(account);
    },
    lease: (target, options) => accounts.lease(target, options),
  };
  try {
    return await work({ ...deps, accounts: guarded });
  } finally {
    await lease.release();
  }
}

/** The stored account for a server, or a usage error telling how to create one (also for a deactivated one). */
export async function requireAccount(accounts: AccountStore, server: string): Promise<StoredAccount> {
  const account = await accounts.getAccount(server);
  if (account === undefined) {
    throw new UsageError(`no account for ${server}`, 'run certman register --email <you@example.com> --agree-tos, or pass --email and --agree-tos');
  }
  if (account.deactivatedAt !== undefined) throw deactivatedError(account);
  return account;
}

/** The account unless it was deactivated: a deactivated account is kept only to say so. */
export function activeAccount(account: StoredAccount | undefined): StoredAccount | undefined {
  return account?.deactivatedAt === undefined ? account : undefined;
}

/** What any command that would sign with a deactivated account says instead. */
export function deactivatedError(account: StoredAccount): UsageError {
  // The way on is in the message itself: renew shows one line per certificate, without hints.
  return new UsageError(
    `the account ${account.url} at ${account.server} was deactivated (${account.deactivatedAt ?? 'earlier'}); register a new one: certman register --agree-tos (--email <address> or --no-email)`,
    'the CA accepts nothing from a deactivated account; certificates already issued stay valid, and issue and renew use the new account',
  );
}
