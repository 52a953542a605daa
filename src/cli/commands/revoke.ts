import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import type { RevocationReason } from '../../acme/types.js';
import { UsageError } from '../../errors.js';
import type { CertificateMeta } from '../../lineage/types.js';
import type { Lease, Store } from '../../store/index.js';
import type { CliContext } from '../context.js';
import { forgetLineage } from '../forget-lineage.js';
import { leaseLength } from '../lease.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';

interface RevokeOptions {
  certName?: string;
  certPath?: string;
  reason: RevocationReason;
  delete?: boolean;
  wait?: boolean;
}

export function defineRevoke(program: Command, run: Runner): void {
  program
    .command('revoke')
    .description('revoke a certificate with the account that ordered it')
    .option('--cert-name <name>', 'the stored certificate to revoke (its live version)')
    .option('--cert-path <pem>', 'a certificate file to revoke')
    .addOption(
      new Option('--reason <reason>', 'why (RFC 5280 reason)')
        .choices(['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation'])
        .default('unspecified'),
    )
    .option('--delete', 'delete the certificate from the store afterwards')
    .option('--wait', 'with --delete: wait for a run working on this certificate instead of exiting (exit 75)')
    .addHelpText('after', '\nExample:\n  certman revoke --cert-name example.com --reason superseded --delete')
    .action(run(revoke));
}

async function revoke(options: RevokeOptions, ctx: CliContext): Promise<CommandResult> {
  if ((options.certName === undefined) === (options.certPath === undefined)) throw new UsageError('pass exactly one of --cert-name or --cert-path');
  if (options.delete === true && options.certName === undefined) throw new UsageError('--delete goes with --cert-name');
  if (options.wait === true && options.delete !== true) throw new UsageError('--wait goes with --delete');
  const store = await ctx.openStore();
  // With --delete the lineage is leased first, so no renewal slips a new version in between.
  const lease = options.delete === true && options.certName !== undefined ? await store.lease({ certificate: options.certName }, { wait: options.wait === true, ...leaseLength(ctx) }) : undefined;
  try {
    return await revokeLeased(options, ctx, store, lease);
  } finally {
    await lease?.release();
  }
}

async function revokeLeased(options: RevokeOptions, ctx: CliContext, store: Store, lease: Lease | undefined): Promise<CommandResult> {
  const { lineage, certPem } = await target(options, store);
  const server = lineage?.server ?? ctx.settings.server;
  const [{ requireAccount }, { usableAccount }, { accountDeps }] = await Promise.all([
    import('../../registration/stored-account.js'),
    import('../../registration/rollover.js'),
    import('../account-setup.js'),
  ]);
  // An unfinished key rollover is settled first: the CA may hold the new key already.
  const account = await usableAccount(await requireAccount(store, server), accountDeps(ctx, store));
  const { revokeCertificate } = await import('../../certificate/revoke.js');
  const result = await revokeCertificate(
    { certPem, reason: options.reason, server, ...(lineage === undefined ? {} : { lineage }) },
    { store, account, connect: ctx.connect, report: ctx.report },
  );
  if (lease !== undefined && lineage !== undefined) {
    await store.delete(lineage.name, { lease });
    await forgetLineage(store, lineage.name, ctx);
  }
  return {
    json: { ...result, deleted: options.delete === true },
    human: (s) => [
      `${s.ok('Revoked')} serial ${result.serial} (${result.reason})${result.lineage === undefined ? '' : ` of ${result.lineage}`}`,
      ...(options.delete === true ? [`Deleted ${lineage?.name ?? ''} from ${store.location}`] : []),
    ],
  };
}

async function target(
  options: RevokeOptions,
  store: Store,
): Promise<{ lineage?: CertificateMeta; certPem: string }> {
  if (options.certName !== undefined) {
    const lineage = await store.get(options.certName);
    if (lineage === undefined) throw new UsageError(`no certificate named ${options.certName}`, 'see certman certificates');
    return { lineage, certPem: (await store.readFiles(lineage.name)).cert };
  }
  const path = options.certPath ?? '';
  const certPem = await readFile(path, 'utf8').catch((err: Error) => {
    throw new UsageError(`cannot read ${path}: ${err.message}`);
  });
  // A file that is some lineage's live certificate gets that lineage marked as revoked too.
  const { readCertificateInfo } = await import('../../crypto/certificate.js');
  let serial: string;
  try {
    serial = readCertificateInfo(certPem).serial;
  } catch {
    throw new UsageError(`${path} is not a PEM certificate`);
  }
  const lineage = (await store.list()).find((meta) => meta.serial === serial);
  return { certPem, ...(lineage === undefined ? {} : { lineage }) };
}
