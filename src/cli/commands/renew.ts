import type { Command } from 'commander';
import { ExitCode } from '../../errors.js';
import type { RenewResult } from '../../renewal/renew.js';
import type { CliContext } from '../context.js';
import { errorJson } from '../output.js';
import { formatDate } from '../format.js';
import { collect, parsePositive } from '../parse.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';

interface RenewOptions {
  certName: string[];
  force?: boolean;
  days?: number;
}

export function defineRenew(program: Command, run: Runner): void {
  program
    .command('renew')
    .description('renew every certificate that is due, the way it was issued (safe to run from cron)')
    .option('--cert-name <name>', 'only this certificate; repeatable', collect, [])
    .option('--force', 'renew even if not due')
    .option('--days <n>', 'due when fewer than <n> days are left (default: a third of the lifetime)', (v) => parsePositive(v, '--days'))
    .addHelpText('after', '\nExample (cron, hourly):\n  17 * * * * certman renew -q')
    .action(run(renew));
}

async function renew(options: RenewOptions, ctx: CliContext): Promise<CommandResult> {
  const { renewCertificates } = await import('../../renewal/renew.js');
  const store = await ctx.openStore();
  const { renewDays } = ctx.settings;
  const results = await renewCertificates(
    {
      names: options.certName,
      force: options.force === true,
      now: ctx.now,
      ...(options.days === undefined ? {} : { days: options.days }),
      ...(renewDays === undefined ? {} : { defaultDays: renewDays }),
    },
    { store, accounts: store, connect: ctx.connect, report: ctx.report },
  );
  const count = (status: RenewResult['status']) => results.filter((r) => r.status === status).length;
  const summary = { renewed: count('renewed'), notDue: count('not-due'), skipped: count('skipped'), failed: count('failed') };
  return {
    exitCode: summary.failed > 0 ? ExitCode.FAILURE : ExitCode.OK,
    json: { summary, results: results.map(resultJson) },
    human: (s) => {
      const lines = results.map((r) => {
        switch (r.status) {
          case 'renewed':
            return `${s.ok('renewed')}  ${r.name} (new serial ${r.meta.serial}, expires ${formatDate(r.meta.notAfter)})`;
          case 'not-due':
            return `${s.dim('not due')}  ${r.name} (due ${formatDate(r.dueAt)})`;
          case 'skipped':
            return `${s.warn('skipped')}  ${r.name}: ${r.reason}`;
          case 'failed':
            return `${s.bad('failed')}   ${r.name}: ${r.error.message}`;
        }
      });
      const total = `${summary.renewed} renewed, ${summary.notDue} not due, ${summary.skipped} skipped, ${summary.failed} failed`;
      // Quiet runs (cron) print only when something failed; main.ts decides from the exit code.
      return results.length === 0 ? ['No certificates to renew.'] : [...lines, summary.failed > 0 ? s.bad(total) : total];
    },
  };
}

function resultJson(r: RenewResult) {
  switch (r.status) {
    case 'renewed':
      return { name: r.name, status: r.status, serial: r.meta.serial, previousSerial: r.previousSerial, notAfter: r.meta.notAfter };
    case 'not-due':
      return { name: r.name, status: r.status, dueAt: r.dueAt.toISOString() };
    case 'skipped':
      return { name: r.name, status: r.status, reason: r.reason };
    case 'failed':
      return { name: r.name, status: r.status, error: errorJson(r.error) };
  }
}
