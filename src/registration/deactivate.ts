/**
 * Account deactivation (RFC 8555 §7.3.6). The stored account is kept, marked deactivated, so every later command
 * that would sign with it says so and how to register a new one (src/registration/account.ts deactivatedError);
 * `register` replaces it with a new account.
 */
import { AcmeProblemError } from '../errors.js';
import type { StoredAccount } from '../store/types.js';
import { requireAccount, withAccountLease, type AccountDeps } from './stored-account.js';
import { settleRollover } from './rollover.js';

const UNAUTHORIZED = 'urn:ietf:params:acme:error:unauthorized';

export async function deactivateAccount(server: string, deps: AccountDeps): Promise<StoredAccount> {
  return withAccountLease(server, deps, async (leased) => {
    const account = await settleRollover(await requireAccount(leased.accounts, server), leased);
    const client = await deps.connect({ server, accountKeyPem: account.keyPem, accountUrl: account.url });
    deps.report.step(`deactivating ${account.url}`);
    try {
      await client.deactivateAccount();
    } catch (err) {
      // RFC 8555 §7.3.6: a deactivated account gets 401 unauthorized for everything. A deactivation the CA carried
      // out but that was never saved (a crash, a lost answer) ends here when run again: the CA refuses the account
      // for good, which is what was asked for.
      if (!(err instanceof AcmeProblemError) || err.type !== UNAUTHORIZED) throw err;
      deps.report.warn(`the CA refuses the account already (${err.message}); marking it deactivated`);
    }
    const deactivated = { ...account, deactivatedAt: new Date().toISOString() };
    await leased.accounts.saveAccount(deactivated);
    return deactivated;
  });
}
