import { describeKeySpec, keySpecOfPem } from '../../crypto/keys.js';
import type { Account } from '../../acme/types.js';
import type { StoredAccount } from '../../store/types.js';
import { printableLine } from '../../text.js';
import { accountDeps } from '../account-setup.js';
import type { CliContext } from '../context.js';
import type { CommandResult } from '../result.js';

/** `certman account` and `register --show`: the stored account, without asking the CA. */
export async function showStoredAccount(ctx: CliContext): Promise<CommandResult> {
  const account = await storedAccount(ctx);
  return { json: { account: accountJson(account) }, human: () => [`Account: ${account.url}`, ...accountLines(account)] };
}

/** `certman account show`: the stored account and what the CA holds of it (status, contact). Never the key. */
export async function showAccount(_options: object, ctx: CliContext): Promise<CommandResult> {
  let account = await storedAccount(ctx);
  let atCa: Account | undefined;
  // A deactivated account is refused by the CA for any request: what is stored says all there is.
  if (account.deactivatedAt === undefined) {
    const { usableAccount } = await import('../../registration/rollover.js');
    account = await usableAccount(account, accountDeps(ctx, await ctx.openStore()));
    const client = await ctx.connect({ server: account.server, accountKeyPem: account.keyPem, accountUrl: account.url });
    atCa = await client.fetchAccount();
  }
  const { status, contact } = atCa === undefined ? { status: 'deactivated', contact: null } : caView(atCa);
  return {
    // caContact null: not asked (the CA refuses a deactivated account), unlike [] (the CA holds no contact).
    json: { account: { ...accountJson(account), status, caContact: contact } },
    human: () => [
      `Account: ${account.url}`,
      ...accountLines(account),
      `  status:  ${status}`,
      ...(contact === null ? [] : [`  at CA:   ${contact.length === 0 ? '(no contact)' : contact.join(', ')}`]),
    ],
  };
}

/** What the CA said, checked for shape (it is remote data) and stripped of control characters before printing. */
export function caView(atCa: Account): { status: string; contact: string[] } {
  const { status, contact } = atCa as { status?: unknown; contact?: unknown };
  return {
    status: typeof status === 'string' ? printableLine(status, 40) : 'unknown',
    contact: Array.isArray(contact) ? contact.filter((c): c is string => typeof c === 'string').map((c) => printableLine(c, 200)) : [],
  };
}

/** The stored account of the server; a deactivated one too (it is shown as such). */
async function storedAccount(ctx: CliContext): Promise<StoredAccount> {
  const store = await ctx.openStore();
  const account = await store.getAccount(ctx.settings.server);
  if (account?.deactivatedAt !== undefined) return account;
  const { requireAccount } = await import('../../registration/stored-account.js');
  return requireAccount(store, ctx.settings.server);
}

export function accountJson(account: StoredAccount) {
  return {
    url: account.url,
    server: account.server,
    email: account.email ?? null,
    createdAt: account.createdAt,
    keyType: keyTypeOf(account),
    ...(account.deactivatedAt === undefined ? {} : { deactivatedAt: account.deactivatedAt }),
    ...(account.pendingKeyPem === undefined ? {} : { rolloverPending: true }),
  };
}

export function accountLines(account: StoredAccount): string[] {
  return [
    `  server:  ${account.server}`,
    `  contact: ${account.email ?? '(none)'}`,
    `  created: ${account.createdAt}`,
    `  key:     ${keyTypeOf(account)}`,
    ...(account.deactivatedAt === undefined ? [] : [`  deactivated: ${account.deactivatedAt}`]),
    ...(account.pendingKeyPem === undefined ? [] : ['  key rollover: unfinished (the next command that uses the account settles it)']),
  ];
}

function keyTypeOf(account: StoredAccount): string {
  const spec = keySpecOfPem(account.keyPem);
  return spec === undefined ? 'unknown' : describeKeySpec(spec);
}
