/**
 * Account deactivation (RFC 8555 §7.3.6). The stored account is kept, marked deactivated, so every later command
 * that would sign with it says so and how to register a new one (src/registration/account.ts deactivatedError);
 * `register` replaces it with a new account.
 */
import type { StoredAccount } from '../store/types.js';
import { requireAccount, withAccountLease, type AccountDeps } from './account.js';
import { settleRollover } from './rollover.js';

export async function deactivateAccount(server: string, deps: AccountDeps): Promise<StoredAccount> {
  return withAccountLease(server, deps, async (leased) => {
    const account = await settleRollover(await requireAccount(leased.accounts, server), leased);
    const client = await deps.connect({ server, accountKeyPem: account.keyPem, accountUrl: account.url });
    deps.report.step(`deactivating ${account.url}`);
    await client.deactivateAccount();
    const deactivated = { ...account, deactivatedAt: new Date().toISOString() };
    await leased.accounts.saveAccount(deactivated);
    return deactivated;
  });
}
