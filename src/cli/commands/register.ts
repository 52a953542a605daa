import type { Command } from 'commander';
import type { StoredAccount } from '../../store/types.js';
import { setUpAccount, type AccountFlags } from '../account-setup.js';
import type { CliContext } from '../context.js';
import { parseEmail } from '../parse.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';

interface RegisterOptions extends AccountFlags {
  show?: boolean;
}

export function defineRegister(program: Command, run: Runner): void {
  program
    .command('register')
    .description('create the ACME account for the server, or reuse the stored one')
    .option('-m, --email <address>', 'contact for expiry and security notices (env CERTMAN_EMAIL)', parseEmail)
    .option('--agree-tos', "agree to the CA's terms of service")
    .option('--eab-kid <kid>', 'external account binding key id (CAs such as ZeroSSL or a company CA)')
    .option('--eab-hmac-key <key>', 'external account binding HMAC key (base64url)')
    .option('--update-email', "change the existing account's contact to --email")
    .option('--show', 'print the stored account and exit')
    .addHelpText('after', '\nExample:\n  certman register --email admin@example.com --agree-tos')
    .action(run(register));
  program.command('account').description('print the stored account for the server (same as register --show)').action(run(show));
}

async function register(options: RegisterOptions, ctx: CliContext): Promise<CommandResult> {
  if (options.show === true) return show(options, ctx);
  const store = await ctx.openStore();
  const { account, created, contactChanged } = await setUpAccount(ctx, store, ctx.settings.server, options);
  const verb = created ? 'Account registered' : contactChanged ? 'Account contact updated' : 'Using the existing account';
  return {
    json: { account: accountJson(account), created, contactChanged },
    human: (s) => [`${s.ok(verb)}: ${account.url}`, ...accountLines(account)],
  };
}

async function show(_options: unknown, ctx: CliContext): Promise<CommandResult> {
  const store = await ctx.openStore();
  const { requireAccount } = await import('../../registration/account.js');
  const account = await requireAccount(store, ctx.settings.server);
  return { json: { account: accountJson(account) }, human: () => [`Account: ${account.url}`, ...accountLines(account)] };
}

function accountJson(account: StoredAccount) {
  return { url: account.url, server: account.server, email: account.email ?? null, createdAt: account.createdAt };
}

function accountLines(account: StoredAccount): string[] {
  return [`  server:  ${account.server}`, `  contact: ${account.email ?? '(none)'}`, `  created: ${account.createdAt}`];
}
