import { looksLikeEmail } from '../config/validate.js';
import { UsageError } from '../errors.js';
import type { RegisterResult } from '../registration/account.js';
import type { AccountStore, LeaseStore, StoredAccount } from '../store/types.js';
import type { CliContext } from './context.js';
import { directoryMeta } from './directory.js';
import { leaseLength } from './lease.js';

export interface AccountFlags {
  email?: string;
  agreeTos?: boolean;
  eabKid?: string;
  eabHmacKey?: string;
  updateEmail?: boolean;
}

/**
 * Registers (or refreshes) the account for the server, holding the account lease of that CA (questions are
 * asked before it is taken). A missing email or terms-of-service agreement is asked for at a terminal, and is
 * an error naming the flag everywhere else. `reuseStored`: see RegisterInput.
 */
export async function setUpAccount(ctx: CliContext, accounts: AccountStore & LeaseStore, server: string, flags: AccountFlags, reuseStored = false): Promise<RegisterResult> {
  const { registerAccount } = await import('../registration/account.js');
  const existing = await accounts.getAccount(server);
  let email = flags.email ?? ctx.settings.email;
  let agreeTos = flags.agreeTos === true;
  if (existing === undefined) {
    // Prompts write to stderr: stdout stays the command's answer even at a terminal.
    email ??= await ask(ctx, '--email <address>', async (prompts) => prompts.input(emailQuestion, { output: process.stderr }));
    if (!agreeTos) {
      const tos = await termsUrl(ctx, server);
      agreeTos = await ask(ctx, '--agree-tos', async (prompts) => prompts.confirm(tosQuestion(tos), { output: process.stderr }));
      if (!agreeTos) throw new UsageError('an account cannot be created without agreeing to the terms of service');
    }
  }
  const eab = eabOf(flags);
  return registerAccount(
    { server, agreeTos, updateEmail: flags.updateEmail === true, reuseStored, ...(email === undefined ? {} : { email }), ...(eab === undefined ? {} : { eab }) },
    { accounts, connect: ctx.connect, report: ctx.report, ...leaseLength(ctx) },
  );
}

/**
 * The stored account, or a new one when --email/--agree-tos (or the prompts) allow creating it; one another
 * run registered while this one asked is used as it is.
 */
export async function accountForIssue(ctx: CliContext, accounts: AccountStore & LeaseStore, server: string, flags: AccountFlags): Promise<StoredAccount> {
  return (await accounts.getAccount(server)) ?? (await setUpAccount(ctx, accounts, server, flags, true)).account;
}

type Prompts = typeof import('@inquirer/prompts');

/** The account questions, shared with the interactive `issue` flow. */
export const emailQuestion = {
  message: 'Email for expiry and security notices:',
  validate: (value: string) => looksLikeEmail(value) || 'enter an email address, such as admin@example.com',
};

export function tosQuestion(url: string | undefined) {
  return { message: `Do you agree to the CA's terms of service${url === undefined ? '' : ` (${url})`}?`, default: false };
}

async function ask<T>(ctx: CliContext, flag: string, question: (prompts: Prompts) => Promise<T>): Promise<T> {
  if (!ctx.interactive) throw new UsageError(`no account exists yet for ${ctx.settings.server} and ${flag} was not given`, `pass ${flag} (prompts are off without a terminal, with -n or CI=true)`);
  return question(await import('@inquirer/prompts'));
}

/** The CA's terms-of-service link from its directory, if it gives one (the prompt works without it). */
export async function termsUrl(ctx: CliContext, server: string): Promise<string | undefined> {
  return (await directoryMeta(ctx, server))?.termsOfService;
}

function eabOf(flags: AccountFlags): { kid: string; hmacKey: string } | undefined {
  if (flags.eabKid === undefined && flags.eabHmacKey === undefined) return undefined;
  if (flags.eabKid === undefined || flags.eabHmacKey === undefined) throw new UsageError('--eab-kid and --eab-hmac-key go together');
  return { kid: flags.eabKid, hmacKey: flags.eabHmacKey };
}
