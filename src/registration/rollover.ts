/**
 * Account key rollover (RFC 8555 §7.3.5), safe against a crash at any point. The new key is saved as the account's
 * pending key before the CA hears of it, and becomes the account's key only once the CA is known to hold it:
 * - the CA refused the change: the pending key is dropped at once;
 * - no answer (network, timeout, a crash after the CA took it but before the save): the pending key stays, and the
 *   next run that needs the account settles it (settleRollover): one newAccount request with onlyReturnExisting,
 *   signed by the pending key, tells whether the CA holds it.
 * So whatever happened, the stored key and the pending key together always include the one the CA holds.
 */
import { AcmeProblemError, CertmanError } from '../errors.js';
import { publicJwk } from '../crypto/jwk.js';
import { signJwsWithJwk } from '../crypto/jws.js';
import { generatePrivateKey, keySpecOfPem } from '../crypto/keys.js';
import type { KeySpec } from '../lineage/types.js';
import type { StoredAccount } from '../store/types.js';
import { deactivatedError, requireAccount, withAccountLease, type AccountDeps } from './account.js';

/** The account key of a new account; a rollover keeps the old key's type unless told otherwise. */
export const ACCOUNT_KEY: KeySpec = { type: 'ecdsa', curve: 'p256' };

export interface RolloverResult {
  account: StoredAccount;
  key: KeySpec;
}

/** Gives the stored account of `server` a new key (of `key`'s type, else the old key's), stored once the CA took it. */
export async function rolloverAccountKey(server: string, key: KeySpec | undefined, deps: AccountDeps): Promise<RolloverResult> {
  return withAccountLease(server, deps, async (leased) => {
    // An earlier rollover that was left unfinished is finished (or dropped) first.
    const account = await settleRollover(await requireAccount(leased.accounts, server), leased);
    const spec = key ?? keySpecOfPem(account.keyPem) ?? ACCOUNT_KEY;
    const newKeyPem = await generatePrivateKey(spec);
    await leased.accounts.saveAccount({ ...account, pendingKeyPem: newKeyPem });
    const client = await deps.connect({ server, accountKeyPem: account.keyPem, accountUrl: account.url });
    deps.report.step(`rolling the key of ${account.url} over`);
    try {
      // The inner JWS, signed by the new key, names the account and the old key (RFC 8555 §7.3.5).
      await client.changeKey((url, accountUrl) => signJwsWithJwk(newKeyPem, url, { account: accountUrl, oldKey: publicJwk(account.keyPem) }));
    } catch (err) {
      // An answer from the CA is a refusal: it still holds the old key. Without one, the pending key stays.
      if (err instanceof AcmeProblemError) await leased.accounts.saveAccount(withoutPending(account));
      throw err;
    }
    const rolled = { ...withoutPending(account), keyPem: newKeyPem };
    await leased.accounts.saveAccount(rolled);
    return { account: rolled, key: spec };
  });
}

/**
 * The account as the CA holds it when a rollover was left unfinished: the pending key promoted when the CA knows
 * it, dropped when the CA knows no account by it. Call holding the account lease (the result is saved).
 */
export async function settleRollover(account: StoredAccount, deps: Pick<AccountDeps, 'accounts' | 'connect' | 'report'>): Promise<StoredAccount> {
  const pending = account.pendingKeyPem;
  if (pending === undefined) return account;
  const client = await deps.connect({ server: account.server, accountKeyPem: pending });
  const url = await client.accountOfKey();
  if (url !== undefined && url !== account.url) {
    throw new CertmanError(`the pending key of an unfinished key rollover of ${account.url} belongs to another account (${url}) at ${account.server}`, {
      hint: 'nothing was changed; check the store with certman account show',
    });
  }
  const settled = url === undefined ? withoutPending(account) : { ...withoutPending(account), keyPem: pending };
  await deps.accounts.saveAccount(settled);
  deps.report.warn(
    url === undefined
      ? `an earlier key rollover of ${account.url} did not reach the CA; the account keeps its key`
      : `finished an earlier key rollover of ${account.url}: the CA had taken the new key`,
  );
  return settled;
}

/**
 * The stored account, ready to sign with: a deactivated one is refused with what to do, and a rollover left
 * unfinished is settled first (holding the account lease).
 */
export async function usableAccount(account: StoredAccount, deps: AccountDeps): Promise<StoredAccount> {
  if (account.deactivatedAt !== undefined) throw deactivatedError(account);
  if (account.pendingKeyPem === undefined) return account;
  return withAccountLease(account.server, deps, async (leased) => settleRollover(await requireAccount(leased.accounts, account.server), leased));
}

function withoutPending(account: StoredAccount): StoredAccount {
  const { pendingKeyPem: _pending, ...rest } = account;
  return rest;
}
