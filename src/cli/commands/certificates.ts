import type { Command } from 'commander';
import type { CertificateMeta } from '../../lineage/types.js';
import type { CliContext } from '../context.js';
import { dueOptions } from '../due-options.js';
import { formatDate, table } from '../format.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';
import type { Styles } from '../output.js';

export function defineCertificates(program: Command, run: Runner): void {
  program
    .command('certificates')
    .alias('list')
    .description('list stored certificates with their expiry, due date and status')
    .action(run(certificates));
}

async function certificates(_options: unknown, ctx: CliContext): Promise<CommandResult> {
  const { certificateStatus, daysLeft, duePolicy, renewalWindow } = await import('../../lineage/due.js');
  const { describeKeySpec } = await import('../../crypto/keys.js');
  const store = await ctx.openStore();
  const { deployerFor } = await import('../../deploy/index.js');
  const deployer = deployerFor(store);
  const metas = (await store.list()).sort((a, b) => a.name.localeCompare(b.name));
  // Left out of the list: say so, or a damaged (or, as root, untrusted) renewal file would hide a certificate.
  for (const problem of store.problemDetails()) ctx.report.warn(`${problem.name} not listed: ${problem.error.message}`);
  const rows = metas.map((meta: CertificateMeta) => {
    const policy = duePolicy(meta, dueOptions(ctx.settings));
    const window = renewalWindow(meta, policy);
    return {
      name: meta.name,
      domains: meta.domains,
      keyType: describeKeySpec(meta.key),
      notAfter: meta.notAfter,
      daysLeft: daysLeft(meta, ctx.now),
      dueAt: window.dueAt.toISOString(),
      /** Why renew will act then: `lifetime` (a third left, spread), `days` (renewDays), `ari` (the CA's window). */
      dueReason: window.reason,
      status: certificateStatus(meta, ctx.now, policy),
      serial: meta.serial,
      server: meta.server,
      path: deployer.locate(meta.name).dir,
    };
  });
  return {
    json: rows,
    human: (s) =>
      rows.length === 0
        ? [`No certificates in ${ctx.settings.configDir}.`]
        : table(
            ['NAME', 'DOMAINS', 'KEY', 'EXPIRES', 'DAYS', 'DUE', 'WHY', 'STATUS'],
            rows.map((r) => [r.name, r.domains.join(','), r.keyType, formatDate(r.notAfter), String(r.daysLeft), formatDate(r.dueAt), r.dueReason, paint(r.status, s)]),
          ),
  };
}

function paint(status: string, s: Styles): string {
  if (status === 'valid') return s.ok(status);
  if (status === 'due') return s.warn(status);
  return s.bad(status);
}
