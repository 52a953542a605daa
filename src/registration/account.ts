import type { AcmeClient } from '../acme/index.js';
import type { DirectoryMeta } from '../acme/types.js';
import { generatePrivateKey } from '../crypto/keys.js';
import { CertmanError, UsageError } from '../errors.js';
import type { StoredAccount } from '../store/types.js';
import { settleRollover } from './rollover.js';
import { ACCOUNT_KEY, activeAccount, withAccountLease, type AccountDeps } from './stored-account.js';

export interface RegisterInput {
  server: string;
  email?: string;
  agreeTos: boolean;
  eab?: { kid: string; hmacKey: string };
  /** Change the contact of an existing account to `email`, or to none when `email` is undefined. */
  updateEmail: boolean;
  /**
   * Only an account is needed (issue, a dry run), not a check of the stored one: an account found stored once
   * the lease is held (another run registered it meanwhile) is returned as it is.
   */
  reuseStored?: boolean;
}

export interface RegisterResult {
  account: StoredAccount;
  created: boolean;
  contactChanged: boolean;
}

/**
 * Creates the account for a server, or finds the one whose key is already stored (idempotent:
 * the same key always maps to the same account URL). A CA that forgot the account gets it again.
 */
export async function registerAccount(input: RegisterInput, deps: AccountDeps): Promise<RegisterResult> {
  return withAccountLease(input.server, deps, (leased) => registerLeased(input, leased));
}

async function registerLeased(input: RegisterInput, deps: AccountDeps): Promise<RegisterResult> {
  // Read holding the lease: another run may have registered since the caller last looked. A deactivated account
  // is as good as none (a new one replaces it); a key rollover left unfinished is finished first, or the old key
  // would register a second account at a CA that took the new one.
  const stored = activeAccount(await deps.accounts.getAccount(input.server));
  const existing = stored === undefined ? undefined : await settleRollover(stored, deps);
  if (existing !== undefined && input.reuseStored === true) return { account: existing, created: false, contactChanged: false };
  if (existing === undefined && !input.agreeTos) {
    throw new UsageError('creating an account needs agreement to the CA terms of service', 'pass --agree-tos');
  }
  const keyPem = existing?.keyPem ?? (await generatePrivateKey(ACCOUNT_KEY));
  const client = await deps.connect({
    server: input.server,
    accountKeyPem: keyPem,
    ...(existing === undefined && input.eab !== undefined ? { eab: input.eab } : {}),
  });
  deps.report.step(existing === undefined ? `registering with ${input.server}` : `checking the account at ${input.server}`);
  // An existing account keeps its contact here; changing it is an explicit update below.
  const contact = existing === undefined ? input.email : existing.email;
  const acme = await client.newAccount({
    agreeTos: true,
    ...(contact === undefined ? {} : { email: contact }),
    eab: existing === undefined && input.eab !== undefined,
  });

  // What the owner agreed to now (--agree-tos or the prompt), or earlier; needed to re-register safely later.
  const termsAgreed = input.agreeTos ? termsOf(await client.meta()) : existing?.termsAgreed;
  let email = existing?.email ?? input.email;
  let contactChanged = false;
  if (existing !== undefined && input.updateEmail && input.email !== existing.email) {
    await client.updateContact(input.email);
    email = input.email;
    contactChanged = true;
  } else if (existing !== undefined && input.email !== undefined && input.email !== existing.email) {
    deps.report.warn(`the account's contact is ${existing.email ?? '(none)'}; pass --update-email to change it to ${input.email}`);
  }
  const account: StoredAccount = {
    server: input.server,
    url: acme.url,
    keyPem,
    createdAt: existing?.createdAt ?? new Date().toISOString(),
    ...(email === undefined ? {} : { email }),
    ...(termsAgreed === undefined ? {} : { termsAgreed }),
  };
  const termsChanged = !sameTerms(termsAgreed, existing?.termsAgreed);
  if (existing === undefined || existing.url !== account.url || contactChanged || termsChanged) await deps.accounts.saveAccount(account);
  return { account, created: acme.created, contactChanged };
}

/**
 * Stores an account made elsewhere (import-certbot) unless the server has an active one by the time the account
 * lease is held (another run registered meanwhile): that one is kept, and false returned. A deactivated one is replaced.
 */
export async function storeAccountIfNone(account: StoredAccount, deps: Omit<AccountDeps, 'connect' | 'report'>): Promise<boolean> {
  return withAccountLease(account.server, deps, async ({ accounts }) => {
    if (activeAccount(await accounts.getAccount(account.server)) !== undefined) return false;
    await accounts.saveAccount(account);
    return true;
  });
}

function termsOf(meta: DirectoryMeta): { url?: string } {
  return meta.termsOfService === undefined ? {} : { url: meta.termsOfService };
}

function sameTerms(a: { url?: string } | undefined, b: { url?: string } | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.url === b.url;
}

/**
 * Why registering the stored key again, without asking anyone, would not be safe; undefined when it is:
 * the CA needs no external account binding (a new binding needs the owner's EAB key), and the owner
 * agreed, when certman registered the account, to the terms the CA shows now.
 */
export function reRegistrationProblem(stored: StoredAccount, meta: DirectoryMeta): string | undefined {
  if (meta.externalAccountRequired === true) return 'the CA requires external account binding for a new account';
  if (stored.termsAgreed === undefined) return 'certman has no record of which terms of service the account agreed to';
  if (stored.termsAgreed.url !== meta.termsOfService) {
    return `the CA's terms of service are now ${meta.termsOfService ?? '(none named)'}, not the ${stored.termsAgreed.url ?? '(unnamed)'} the account agreed to`;
  }
  return undefined;
}

/**
 * The CA answered accountDoesNotExist for the stored account (a CA reset forgets every account; Pebble
 * does on restart): registers the same key again when {@link reRegistrationProblem} finds that safe,
 * stores the new URL and returns it; otherwise throws an error saying what to run.
 */
export async function recoverLostAccount(client: AcmeClient, lostUrl: string, deps: Omit<AccountDeps, 'connect'>): Promise<string> {
  return withAccountLease(client.server, deps, (leased) => recoverLeased(client, lostUrl, leased));
}

async function recoverLeased(client: AcmeClient, lostUrl: string, deps: Omit<AccountDeps, 'connect'>): Promise<string> {
  const stored = await deps.accounts.getAccount(client.server);
  if (stored === undefined) throw new CertmanError(`the CA no longer knows account ${lostUrl}, and no account is stored for ${client.server}`);
  // Another run registered it again meanwhile.
  if (stored.url !== lostUrl) return stored.url;
  const problem = reRegistrationProblem(stored, await client.meta());
  if (problem !== undefined) {
    throw new CertmanError(`the CA at ${client.server} no longer knows account ${lostUrl} (it was reset, or the account was deleted), and certman did not register it again: ${problem}`, {
      hint: `read the CA's terms, then run certman register --server ${client.server} --agree-tos (with --eab-kid and --eab-hmac-key if it needs them); no certificate is lost`,
    });
  }
  const created = await client.newAccount({ agreeTos: true, ...(stored.email === undefined ? {} : { email: stored.email }), eab: false });
  await deps.accounts.saveAccount({ ...stored, url: created.url });
  deps.report.warn(`the CA at ${client.server} no longer knew account ${lostUrl}; registered the same key again as ${created.url}`);
  return created.url;
}
