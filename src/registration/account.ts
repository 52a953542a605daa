import type { AcmeConnector } from '../acme/index.js';
import { generatePrivateKey } from '../crypto/keys.js';
import { UsageError } from '../errors.js';
import type { Reporter } from '../report.js';
import type { AccountStore, StoredAccount } from '../store/types.js';

export interface RegisterInput {
  server: string;
  email?: string;
  agreeTos: boolean;
  eab?: { kid: string; hmacKey: string };
  /** Change the contact of an existing account to `email`. */
  updateEmail: boolean;
}

export interface RegisterResult {
  account: StoredAccount;
  created: boolean;
  contactChanged: boolean;
}

export interface AccountDeps {
  accounts: AccountStore;
  connect: AcmeConnector;
  report: Reporter;
}

const ACCOUNT_KEY = { type: 'ecdsa', curve: 'p256' } as const;

/**
 * Creates the account for a server, or finds the one whose key is already stored (idempotent:
 * the same key always maps to the same account URL). A CA that forgot the account gets it again.
 */
export async function registerAccount(input: RegisterInput, deps: AccountDeps): Promise<RegisterResult> {
  const existing = await deps.accounts.getAccount(input.server);
  if (existing === undefined && !input.agreeTos) {
    throw new UsageError('creating an account needs agreement to the CA terms of service', 'pass --agree-tos');
  }
  if (input.updateEmail && input.email === undefined) throw new UsageError('--update-email needs --email <address>');
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

  let email = existing?.email ?? input.email;
  let contactChanged = false;
  if (existing !== undefined && input.email !== undefined && input.email !== existing.email) {
    if (input.updateEmail) {
      await client.updateContact(input.email);
      email = input.email;
      contactChanged = true;
    } else {
      deps.report.warn(`the account's contact is ${existing.email ?? '(none)'}; pass --update-email to change it to ${input.email}`);
    }
  }
  const account: StoredAccount = {
    server: input.server,
    url: acme.url,
    keyPem,
    createdAt: existing?.createdAt ?? new Date().toISOString(),
    ...(email === undefined ? {} : { email }),
  };
  if (existing === undefined || existing.url !== account.url || contactChanged) await deps.accounts.saveAccount(account);
  return { account, created: acme.created, contactChanged };
}

/** The stored account for a server, or a usage error telling how to create one. */
export async function requireAccount(accounts: AccountStore, server: string): Promise<StoredAccount> {
  const account = await accounts.getAccount(server);
  if (account === undefined) {
    throw new UsageError(`no account for ${server}`, 'run certman register --email <you@example.com> --agree-tos, or pass --email and --agree-tos');
  }
  return account;
}
