import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { AccountReport, ImportReport, ImportTarget, LineageReport } from '../../certbot/index.js';
import { CertmanError, ExitCode, UsageError } from '../../errors.js';
import { withoutNodeLocal } from '../../lineage/node-local.js';
import type { ChallengeMethod, KeySpec } from '../../lineage/types.js';
import type { CliContext } from '../context.js';
import { leaseLength } from '../lease.js';
import { thisNode } from '../node.js';
import { formatDate } from '../format.js';
import type { Styles } from '../output.js';
import { collect } from '../parse.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';
import type { Store } from '../../store/index.js';

interface ImportCertbotOptions {
  certbotDir: string;
  certName: string[];
  dryRun?: boolean;
  force?: boolean;
  keepPaths?: boolean;
  webroot?: string;
  standalone?: boolean;
  responder?: boolean;
}

export function defineImportCertbot(program: Command, run: Runner): void {
  program
    .command('import-certbot')
    .description("adopt certbot's certificates, renewal settings and account, so certman renews them from now on")
    .option('--certbot-dir <dir>', "certbot's config dir (its --config-dir)", '/etc/letsencrypt')
    .option('--cert-name <name>', 'only this certbot lineage; repeatable', collect, [])
    .option('--dry-run', 'show what would be imported and write nothing')
    .option('--force', 'import over a certman certificate of the same name (as a new version)')
    .option('--keep-paths', "point certbot's live/<name>/*.pem links at certman's files, so web-server configs keep working, and rename certbot's renewal/<name>.conf so certbot stops renewing it")
    .option('-w, --webroot <dir>', "renew with this webroot the lineages whose certbot authenticator certman cannot repeat (nginx, apache, manual, dns-…)")
    .option('--standalone', 'renew those lineages with the built-in server on port 80 instead')
    .option('--responder', 'renew those lineages through certman serve-challenge instead')
    .addHelpText(
      'after',
      '\nExamples:\n  certman import-certbot --dry-run\n  certman import-certbot --cert-name example.com\n  certman import-certbot --keep-paths          # nginx/Apache configs keep their /etc/letsencrypt/live paths\n  certman import-certbot --cert-name shop.example --webroot /var/www/shop   # was certbot --nginx',
    )
    .action(run(importCertbot));
}

function methodOverride(options: ImportCertbotOptions): ChallengeMethod | undefined {
  const chosen = [options.webroot !== undefined && '--webroot', options.standalone === true && '--standalone', options.responder === true && '--responder'].filter(
    (flag): flag is string => flag !== false,
  );
  if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} cannot be combined`, 'choose one way to answer the HTTP-01 challenge');
  if (options.webroot !== undefined) return { kind: 'webroot', webroot: path.resolve(options.webroot) };
  if (options.standalone === true) return { kind: 'standalone', port: 80 };
  if (options.responder === true) return { kind: 'responder' };
  return undefined;
}

async function exists(dir: string): Promise<boolean> {
  try {
    await stat(dir);
    return true;
  } catch {
    return false;
  }
}

/** A dry run against a config dir that does not exist yet: nothing to compare with, and nothing is created. */
function emptyTarget(configDir: string): ImportTarget {
  const refuse = (): never => {
    throw new Error('a dry run writes nothing');
  };
  return {
    get: async () => undefined,
    save: async () => refuse(),
    location: (name) => path.join(configDir, 'live', name),
    getAccount: async () => undefined,
    saveAccount: async () => refuse(),
  };
}

/** The store as the import sees it: each lineage is saved holding its lease, as issue and renew do. */
async function leasedTarget(store: Store, configDir: string, leaseOptions: ReturnType<typeof leaseLength>, sharedStore: boolean): Promise<ImportTarget> {
  const { deployerFor } = await import('../../deploy/index.js');
  const deployer = deployerFor(store, configDir);
  return {
    get: (name) => store.get(name),
    getAccount: (server) => store.getAccount(server),
    saveAccount: async (account) => {
      const { storeAccountIfNone } = await import('../../registration/account.js');
      if (!(await storeAccountIfNone(account, { accounts: store, ...leaseOptions }))) {
        throw new CertmanError(`another run stored an account for ${account.server} meanwhile; certman keeps it`);
      }
    },
    save: async (meta, files) => {
      const lease = await store.lease({ certificate: meta.name }, { wait: false, ...leaseOptions });
      try {
        // A store other hosts may share gets no hooks or folders of this one (src/lineage/node-local.ts).
        const saved = await store.save(sharedStore ? withoutNodeLocal(meta) : meta, files, { lease });
        // A store without files here (Redis): this host's copy is what certbot's paths are relinked to.
        await deployer.deploy(saved);
        return saved;
      } finally {
        await lease.release();
      }
    },
    location: (name) => deployer.locate(name).dir,
  };
}

async function importCertbot(options: ImportCertbotOptions, ctx: CliContext): Promise<CommandResult> {
  const method = methodOverride(options);
  const certbotDir = path.resolve(options.certbotDir);
  const configDir = path.resolve(ctx.settings.configDir);
  if (configDir === certbotDir) {
    throw new UsageError(`certman's config dir is certbot's (${certbotDir})`, 'import into a config dir of its own (e.g. /etc/certman, with --config-dir); sharing one folder with certbot is not supported');
  }
  const { importCertbot: runImport } = await import('../../certbot/index.js');
  const input = {
    certbotDir,
    names: options.certName,
    dryRun: options.dryRun === true,
    force: options.force === true,
    keepPaths: options.keepPaths === true,
    ...(method === undefined ? {} : { method }),
    now: ctx.now,
    // certbot's hook folders come to this host's config dir (never a store): renew runs them the same way.
    hookDirsInto: configDir,
  };
  let report: ImportReport;
  if (options.dryRun === true && !(await exists(configDir))) {
    report = await runImport(input, { target: emptyTarget(configDir), report: ctx.report });
  } else {
    const store = await ctx.openStore();
    report = await runImport(input, { target: await leasedTarget(store, configDir, leaseLength(ctx), thisNode(ctx.settings).sharedStore), report: ctx.report });
  }
  const broken =
    report.lineages.some((l) => l.status === 'failed' || l.skip === 'invalid') || report.accounts.some((a) => a.status === 'failed') || (report.hookDirs?.failed.length ?? 0) > 0;
  return {
    exitCode: broken ? ExitCode.FAILURE : ExitCode.OK,
    json: reportJson(report, configDir),
    human: (s) => humanLines(report, configDir, s),
  };
}

function reportJson(report: ImportReport, configDir: string) {
  return {
    certbotDir: report.certbotDir,
    configDir,
    dryRun: report.dryRun,
    lineages: report.lineages.map((l) => ({
      name: l.name,
      status: l.status,
      ...(l.reason === undefined ? {} : { reason: l.reason }),
      ...(l.domains === undefined ? {} : { domains: l.domains }),
      ...(l.method === undefined ? {} : { method: l.method }),
      ...(l.key === undefined ? {} : { key: l.key }),
      ...(l.server === undefined ? {} : { server: l.server }),
      ...(l.notAfter === undefined ? {} : { notAfter: l.notAfter }),
      ...(l.pathsToChange === undefined ? {} : { pathsToChange: l.pathsToChange }),
      ...(l.relinked === undefined ? {} : { relinked: l.relinked }),
      ...(l.renewalConfMovedTo === undefined ? {} : { renewalConfMovedTo: l.renewalConfMovedTo }),
      warnings: l.warnings,
    })),
    accounts: report.accounts,
    notes: report.notes,
    ...(report.hookDirs === undefined ? {} : { hookDirs: report.hookDirs }),
  };
}

function describeMethod(method: ChallengeMethod): string {
  if (method.kind === 'webroot') return `webroot ${method.webroot}`;
  if (method.kind === 'standalone') return `standalone :${method.port}${method.address === undefined ? '' : ` on ${method.address}`}`;
  return 'responder';
}

const LABEL: Record<LineageReport['status'], string> = {
  imported: 'imported',
  'would-import': 'would import',
  skipped: 'skipped',
  failed: 'failed',
};

function lineageLines(l: LineageReport, s: Styles): string[] {
  const label = LABEL[l.status].padEnd(13);
  if (l.status === 'skipped' || (l.status === 'failed' && l.domains === undefined)) {
    const paint = l.status === 'failed' || l.skip === 'invalid' ? s.bad : s.warn;
    return [paint(`${label}${l.name}: ${l.reason ?? ''}`)];
  }
  const facts = [
    (l.domains ?? []).join(', '),
    l.method === undefined ? undefined : describeMethod(l.method),
    l.key === undefined ? undefined : describeKeySpec(l.key),
    l.notAfter === undefined ? undefined : `expires ${formatDate(l.notAfter)}`,
  ].filter((f): f is string => f !== undefined && f !== '');
  const head = `${label}${l.name} (${facts.join('; ')})`;
  const lines = [l.status === 'failed' ? s.bad(`${head}: ${l.reason ?? ''}`) : l.status === 'imported' ? s.ok(head) : head];
  if (l.pathsToChange !== undefined && l.status !== 'failed') {
    lines.push(`  ${l.status === 'imported' ? 'now' : 'then'} change these paths in your web server's config:`);
    const width = Math.max(...l.pathsToChange.map((p) => p.from.length));
    for (const p of l.pathsToChange) lines.push(`    ${p.from.padEnd(width)} → ${p.to}`);
  }
  if (l.relinked !== undefined && l.status !== 'failed') {
    lines.push(`  certbot's links ${l.status === 'imported' ? 'now point' : 'would point'} at certman's files (web-server configs stay as they are):`);
    const width = Math.max(...l.relinked.map((p) => p.from.length));
    for (const p of l.relinked) lines.push(`    ${p.from.padEnd(width)} → ${p.to}`);
    if (l.renewalConfMovedTo !== undefined) lines.push(`  certbot's renewal conf ${l.status === 'imported' ? 'moved to' : 'would move to'} ${l.renewalConfMovedTo}`);
  }
  for (const w of l.warnings) lines.push(s.warn(`  warning: ${w}`));
  return lines;
}

/** Like crypto/keys.ts describeKeySpec, without loading it for --help. */
function describeKeySpec(key: KeySpec): string {
  return key.type === 'ecdsa' ? `ECDSA ${key.curve === 'p256' ? 'P-256' : 'P-384'}` : `RSA ${key.bits}`;
}

function accountLine(a: AccountReport, s: Styles): string {
  const who = a.certbotId === undefined ? '' : ` (certbot account ${a.certbotId})`;
  switch (a.status) {
    case 'imported':
    case 'would-import':
      return s.ok(`account      ${a.status === 'imported' ? 'imported' : 'would import'} ${a.url ?? ''}${who} for ${a.server}${a.detail === undefined ? '' : `; ${a.detail}`}`);
    case 'present':
      return `account      already in certman: ${a.url ?? ''}${who} for ${a.server}`;
    case 'kept':
      return s.warn(`account      keeping certman's ${a.url ?? ''} for ${a.server}: ${a.detail ?? ''}`);
    case 'missing':
      return s.warn(`account      none for ${a.server}: ${a.detail ?? ''}`);
    case 'failed':
      return s.bad(`account      failed for ${a.server}: ${a.detail ?? ''}`);
  }
}

function hookDirLines(report: ImportReport, s: Styles): string[] {
  const hooks = report.hookDirs;
  if (hooks === undefined) return [];
  return [
    ...hooks.copied.map(({ from, to }) => s.ok(`hook         ${report.dryRun ? 'would copy' : 'copied'} ${from} → ${to}`)),
    ...hooks.existing.map((to) => s.warn(`hook         kept ${to}: certman has one of that name`)),
    ...hooks.failed.map(({ from, reason }) => s.bad(`hook         failed to copy ${from}: ${reason}`)),
  ];
}

function humanLines(report: ImportReport, configDir: string, s: Styles): string[] {
  if (report.lineages.length === 0) return [`No certbot lineages in ${report.certbotDir}.`, ...hookDirLines(report, s)];
  const lines: string[] = [];
  if (report.dryRun) lines.push(s.dim(`Dry run: nothing is written. From ${report.certbotDir} into ${configDir}:`));
  for (const l of report.lineages) lines.push(...lineageLines(l, s));
  for (const a of report.accounts) lines.push(accountLine(a, s));
  lines.push(...hookDirLines(report, s));
  for (const n of report.notes) lines.push(s.dim(`note: ${n}`));
  const count = (status: LineageReport['status']) => report.lineages.filter((l) => l.status === status).length;
  const done = report.dryRun ? `${count('would-import')} to import` : `${count('imported')} imported`;
  lines.push(`${done}, ${count('skipped')} skipped, ${count('failed')} failed`);
  return lines;
}
