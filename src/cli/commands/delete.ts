import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { leaseLength } from '../lease.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';

interface DeleteOptions {
  certName: string;
  yes?: boolean;
  wait?: boolean;
}

export function defineDelete(program: Command, run: Runner): void {
  program
    .command('delete')
    .description('delete a certificate (live/, archive/ and its renewal settings); it is not revoked')
    .requiredOption('--cert-name <name>', 'the certificate to delete')
    .option('-y, --yes', 'do not ask for confirmation at a terminal')
    .option('--wait', 'wait for a run working on this certificate instead of exiting (exit 75)')
    .action(run(remove));
}

async function remove(options: DeleteOptions, ctx: CliContext): Promise<CommandResult> {
  const store = await ctx.openStore();
  const meta = await store.get(options.certName);
  if (meta === undefined) throw new UsageError(`no certificate named ${options.certName}`, 'see certman certificates');
  if (ctx.interactive && options.yes !== true) {
    const { confirm } = await import('@inquirer/prompts');
    const ok = await confirm({ message: `Delete ${meta.name} (${meta.domains.join(', ')}) and all its versions?`, default: false });
    if (!ok) return { json: { deleted: null }, human: () => ['Nothing deleted.'] };
  }
  const lease = await store.lease({ certificate: meta.name }, { wait: options.wait === true, ...leaseLength(ctx) });
  try {
    await store.delete(meta.name, { lease });
  } finally {
    await lease.release();
  }
  return { json: { deleted: meta.name }, human: (s) => [`${s.ok('Deleted')} ${meta.name}`] };
}
