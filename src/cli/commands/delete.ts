import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { forgetLineage } from '../forget-lineage.js';
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
  const { CorruptFileError } = await import('../../store/index.js');
  const name = options.certName;
  let described: string;
  try {
    const meta = await store.get(name);
    if (meta === undefined) throw new UsageError(`no certificate named ${name}`, 'see certman certificates');
    described = `${name} (${meta.domains.join(', ')})`;
  } catch (err) {
    // Deleting is how a damaged lineage is cleared: say what is wrong with it, and go on.
    if (!(err instanceof CorruptFileError)) throw err;
    described = `the damaged ${name} (${err.message})`;
  }
  if (ctx.interactive && options.yes !== true) {
    const { confirm } = await import('@inquirer/prompts');
    const ok = await confirm({ message: `Delete ${described} and all its versions?`, default: false });
    if (!ok) return { json: { deleted: null }, human: () => ['Nothing deleted.'] };
  }
  const lease = await store.lease({ certificate: name }, { wait: options.wait === true, ...leaseLength(ctx) });
  try {
    await store.delete(name, { lease });
  } finally {
    await lease.release();
  }
  await forgetLineage(store, name, ctx);
  return { json: { deleted: name }, human: (s) => [`${s.ok('Deleted')} ${name}`] };
}
