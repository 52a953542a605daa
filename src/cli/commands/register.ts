import type { Command } from 'commander';
import { noEmailOption, setUpAccount, type AccountFlags } from '../account-setup.js';
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
    .option('-m, --email <address>', 'contact for security notices (env CERTMAN_EMAIL); optional: Let\'s Encrypt sends no expiry mail', parseEmail)
    .addOption(noEmailOption('no contact: register without an email (with --update-email: remove the contact)'))
    .option('--agree-tos', "agree to the CA's terms of service")
    .option('--eab-kid <kid>', 'external account binding key id (CAs such as ZeroSSL or a company CA)')
    .option('--eab-hmac-key <key>', 'external account binding HMAC key (base64url)')
    .option('--update-email', "change the existing account's contact to --email, or remove it with --no-email")
    .option('--show', 'print the stored account and exit')
    .addHelpText(
      'after',
      '\nExamples:\n  certman register --email admin@example.com --agree-tos\n  certman register --no-email --agree-tos\n  certman register --update-email --no-email          # remove the contact',
    )
    .action(run(register));
}

async function register(options: RegisterOptions, ctx: CliContext): Promise<CommandResult> {
  const { accountJson, accountLines, showStoredAccount } = await import('./account-show.js');
  if (options.show === true) return showStoredAccount(ctx);
  const store = await ctx.openStore();
  const { account, created, contactChanged } = await setUpAccount(ctx, store, ctx.settings.server, options);
  const verb = created ? 'Account registered' : contactChanged ? 'Account contact updated' : 'Using the existing account';
  return {
    json: { account: accountJson(account), created, contactChanged },
    human: (s) => [`${s.ok(verb)}: ${account.url}`, ...accountLines(account)],
  };
}
