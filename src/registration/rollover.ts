/**
 * Account key rollover (RFC 8555 §7.3.5), safe against a crash and a lost answer at any point. The new key is saved
 * as the account's pending key before the CA hears of it, and replaces the stored key only once the CA is known to
 * hold it. No error of the keyChange request tells that: the HTTP layer sends a request again after a 5xx or a
 * reset connection, and acme-client signs it again with the old key after badNonce, so a change the CA carried out
 * (whose answer was lost) comes back as a refusal. After any error, and in the next run that finds a pending key,
 * the CA itself is asked (keyHeldByCa): the pending key is dropped only when the CA knows no account by it AND still
 * knows the account by the stored key; when that cannot be told, the pending key stays.
 * So whatever happened, the stored key and the pending key together always include the one the CA holds.
 */
import { CertmanError } from '../errors.js';
import { publicJwk } from '../crypto/jwk.js';
import { signJwsWithJwk } from '../crypto/jws.js';
import { generatePrivateKey, keySpecOfPem } from '../crypto/keys.js';
import type { KeySpec } from '../lineage/types.js';
import type { StoredAccount } from '../store/types.js';
import { ACCOUNT_KEY, deactivatedError, requireAccount, withAccountLease, type AccountDeps } from './stored-account.js';

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
      // A refusal and a change whose answer was lost look alike: the CA tells which key it holds (or the pending key stays).
      const held = await keyHeldByCa({ ...account, pendingKeyPem: newKeyPem }, leased).catch(() => undefined);
      if (held !== 'pending') {
        if (held === 'stored') await leased.accounts.saveAccount(withoutPending(account));
        else deps.report.warn(`whether the CA took the new key of ${account.url} is not known yet: both keys are kept, and the next command that uses the account settles it`);
        throw err;
      }
      deps.report.warn(`the CA's answer to the key change was lost (${(err as Error).message}), but it holds the new key`);
    }
    const rolled = { ...withoutPending(account), keyPem: newKeyPem };
    await leased.accounts.saveAccount(rolled);
    return { account: rolled, key: spec };
  });
}

/**
 * Which of an account's two keys the CA holds, asked with newAccount `onlyReturnExisting` (RFC 8555 §7.3.1, creates
 * nothing) signed by each: 'pending' when the CA knows the account by the pending key, 'stored' only when it knows no
 * account by the pending key AND still knows the account by the stored key. Anything else throws (nothing known).
 */
async function keyHeldByCa(account: StoredAccount & { pendingKeyPem: string }, deps: Pick<AccountDeps, 'connect'>): Promise<'pending' | 'stored'> {
  const urlOf = async (keyPem: string): Promise<string | undefined> => (await deps.connect({ server: account.server, accountKeyPem: keyPem })).accountOfKey();
  const byPending = await urlOf(account.pendingKeyPem);
  if (byPending === account.url) return 'pending';
  if (byPending !== undefined) {
    throw new CertmanError(`the pending key of an unfinished key rollover of ${account.url} belongs to another account (${byPending}) at ${account.server}`, {
      hint: 'nothing was changed; see the stored account with certman account, drop that key with certman account rollover --discard-pending',
    });
  }
  const byStored = await urlOf(account.keyPem);
  if (byStored === account.url) return 'stored';
  throw new CertmanError(`the CA at ${account.server} knows account ${account.url} by neither its stored key nor the pending key of an unfinished rollover`, {
    hint: 'nothing was changed; both keys are kept, run the command again later',
  });
}

/**
 * The account as the CA holds it when a rollover was left unfinished: the pending key promoted when the CA knows
 * it, dropped when the CA is known to hold the stored key (keyHeldByCa); otherwise an error and nothing changed.
 * Call holding the account lease (the result is saved).
 */
export async function settleRollover(account: StoredAccount, deps: Pick<AccountDeps, 'accounts' | 'connect' | 'report'>): Promise<StoredAccount> {
  const pending = account.pendingKeyPem;
  if (pending === undefined) return account;
  const held = await keyHeldByCa({ ...account, pendingKeyPem: pending }, deps);
  const settled = held === 'stored' ? withoutPending(account) : { ...withoutPending(account), keyPem: pending };
  await deps.accounts.saveAccount(settled);
  deps.report.warn(
    held === 'stored'
      ? `an earlier key rollover of ${account.url} did not reach the CA; the account keeps its key`
      : `finished an earlier key rollover of ${account.url}: the CA had taken the new key`,
  );
  return settled;
}

/**
 * Drops the pending key of an unfinished rollover without using it (`account rollover --discard-pending`: for one
 * that cannot be settled, e.g. the key of another account), only once the CA confirms it knows the account by the
 * stored key, so the key the CA holds is never the one dropped. Undefined when there was no pending key.
 */
export async function discardPendingKey(server: string, deps: AccountDeps): Promise<StoredAccount | undefined> {
  return withAccountLease(server, deps, async (leased) => {
    const account = await requireAccount(leased.accounts, server);
    if (account.pendingKeyPem === undefined) return undefined;
    const client = await deps.connect({ server, accountKeyPem: account.keyPem });
    const url = await client.accountOfKey();
    if (url !== account.url) {
      throw new CertmanError(`the CA at ${server} does not know account ${account.url} by its stored key${url === undefined ? '' : ` (that key is ${url}'s)`}; the pending key is kept`, {
        hint: 'the pending key may be the one the CA holds: run certman account show to settle it',
      });
    }
    const kept = withoutPending(account);
    await leased.accounts.saveAccount(kept);
    return kept;
  });
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
