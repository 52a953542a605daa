import { ExitCode, UsageError } from '../../errors.js';
import { accountDeps } from '../account-setup.js';
import type { CliContext } from '../context.js';
import type { CommandResult } from '../result.js';
import { accountJson } from './account-show.js';

export interface DeactivateFlags {
  yes?: boolean;
}

/** `certman account deactivate`: asks at a terminal; elsewhere only with --yes. */
export async function deactivate(options: DeactivateFlags, ctx: CliContext): Promise<CommandResult> {
  const store = await ctx.openStore();
  const { requireAccount } = await import('../../registration/stored-account.js');
  const stored = await requireAccount(store, ctx.settings.server);
  if (options.yes !== true) {
    if (!ctx.interactive) throw new UsageError('deactivating the account needs --yes without a terminal', 'pass --yes (it cannot be undone)');
    const { confirm } = await import('@inquirer/prompts');
    const question = { message: `Deactivate the account ${stored.url} at ${stored.server} for good? The CA will accept nothing from it again.`, default: false };
    // Questions go to stderr: stdout stays the command's answer.
    if (!(await confirm(question, { output: process.stderr }))) {
      return { exitCode: ExitCode.OK, json: { status: 'declined' }, human: () => ['Nothing changed.'] };
    }
  }
  const { deactivateAccount } = await import('../../registration/deactivate.js');
  const account = await deactivateAccount(ctx.settings.server, accountDeps(ctx, store));
  return {
    json: { status: 'deactivated', account: accountJson(account) },
    human: (s) => [
      `${s.ok('Account deactivated')}: ${account.url}`,
      '  certificates already issued stay valid; to issue or renew, register a new account:',
      '  certman register --agree-tos --email <you@example.com>   (or --no-email)',
    ],
  };
}
