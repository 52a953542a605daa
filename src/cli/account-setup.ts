import { Option } from 'commander';
import { looksLikeEmail } from '../config/validate.js';
import { UsageError } from '../errors.js';
import type { RegisterResult } from '../registration/account.js';
import type { AccountStore, LeaseStore, StoredAccount } from '../store/types.js';
import type { CliContext } from './context.js';
import { directoryMeta } from './directory.js';
import { leaseLength } from './lease.js';

export interface AccountFlags {
  email?: string;
  /** `--no-email` / certbot's `--register-unsafely-without-email`: an account without contact. */
  registerUnsafelyWithoutEmail?: boolean;
  agreeTos?: boolean;
  eabKid?: string;
  eabHmacKey?: string;
  updateEmail?: boolean;
}

/** `--no-email` and certbot's spelling of it: an account without contact; with -m/--email it is a usage error. */
export function noEmailOption(what: string): Option {
  return new Option('--no-email, --register-unsafely-without-email', what).conflicts('email');
}

/**
 * Registers (or refreshes) the account for the server, holding the account lease of that CA (questions are
 * asked before it is taken). A missing email or terms-of-service agreement is asked for at a terminal, and is
 * an error naming the flag everywhere else. `reuseStored`: see RegisterInput.
 */
export async function setUpAccount(ctx: CliContext, accounts: AccountStore & LeaseStore, server: string, flags: AccountFlags, reuseStored = false): Promise<RegisterResult> {
  const [{ registerAccount }, { activeAccount, deactivatedError }] = await Promise.all([import('../registration/account.js'), import('../registration/stored-account.js')]);
  const stored = await accounts.getAccount(server);
  // Updating a deactivated account's contact would silently make a new account instead: say what happened.
  if (flags.updateEmail === true && stored?.deactivatedAt !== undefined) throw deactivatedError(stored);
  const existing = activeAccount(stored);
  const noEmail = flags.registerUnsafelyWithoutEmail === true;
  // The new contact may come from CERTMAN_EMAIL or the config file too.
  if (flags.updateEmail === true && (flags.email ?? ctx.settings.email) === undefined && !noEmail) {
    throw new UsageError('--update-email needs the new contact', 'pass --email <address>, or --no-email to remove the contact');
  }
  if (noEmail && flags.updateEmail !== true && existing?.email !== undefined) {
    ctx.report.warn(`the account's contact is ${existing.email}; pass --update-email --no-email to remove it`);
  }
  // --no-email wins over an email from the environment or the config file (flags first).
  let email = noEmail ? undefined : (flags.email ?? ctx.settings.email);
  let agreeTos = flags.agreeTos === true;
  if (existing === undefined) {
    // Prompts write to stderr: stdout stays the command's answer even at a terminal. An empty answer: no contact.
    if (!noEmail) {
      email ??= emailAnswer(await ask(ctx, '--email <address> (or --no-email)', async (prompts) => prompts.input(emailQuestion, { output: process.stderr })));
    }
    if (!agreeTos) {
      const tos = await termsUrl(ctx, server);
      agreeTos = await ask(ctx, '--agree-tos', async (prompts) => prompts.confirm(tosQuestion(tos), { output: process.stderr }));
      if (!agreeTos) throw new UsageError('an account cannot be created without agreeing to the terms of service');
    }
  }
  const eab = eabOf(flags);
  return registerAccount(
    { server, agreeTos, updateEmail: flags.updateEmail === true, reuseStored, ...(email === undefined ? {} : { email }), ...(eab === undefined ? {} : { eab }) },
    accountDeps(ctx, accounts),
  );
}

/**
 * The stored account (refused when deactivated; an unfinished key rollover settled), or a new one when
 * --email/--no-email/--agree-tos (or the prompts) allow creating it; one another run registered while this one
 * asked is used as it is.
 */
export async function accountForIssue(ctx: CliContext, accounts: AccountStore & LeaseStore, server: string, flags: AccountFlags): Promise<StoredAccount> {
  const stored = await accounts.getAccount(server);
  if (stored === undefined) return (await setUpAccount(ctx, accounts, server, flags, true)).account;
  const { usableAccount } = await import('../registration/rollover.js');
  return usableAccount(stored, accountDeps(ctx, accounts));
}

/** What the registration core needs from the command's context. */
export function accountDeps(ctx: CliContext, accounts: AccountStore & LeaseStore) {
  return { accounts, connect: ctx.connect, report: ctx.report, ...leaseLength(ctx) };
}

type Prompts = typeof import('@inquirer/prompts');

/** The account questions, shared with the interactive `issue` flow. */
export const emailQuestion = {
  message: 'Email for security notices (Enter for none):',
  validate: (value: string) => value.trim() === '' || looksLikeEmail(value.trim()) || 'enter an email address, such as admin@example.com, or nothing',
};

/** The email question's answer: nothing typed means an account without contact. */
export function emailAnswer(value: string): string | undefined {
  const email = value.trim();
  return email === '' ? undefined : email;
}

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
