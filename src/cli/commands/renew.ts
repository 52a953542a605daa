import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import { CertmanError, ExitCode } from '../../errors.js';
import type { RenewResult, RenewRun } from '../../renewal/renew.js';
import type { StoredAccount } from '../../store/types.js';
import type { CliContext } from '../context.js';
import { addSelfCheckOptions, selfCheckFor, type SelfCheckFlags } from '../self-check.js';
import { BUDGET_HELP, budgetOptions } from '../budget-options.js';
import { dueOptions } from '../due-options.js';
import { leaseLength, portLocks } from '../lease.js';
import { errorJson } from '../output.js';
import { printableLine } from '../../text.js';
import { formatDate } from '../format.js';
import { collect, nonEmpty, parsePositive } from '../parse.js';
import { expectCnameOption, expectIpOption } from '../expect-options.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';
import { addCertbotRenewalSpellings, deployHookOf, type CertbotHookFlags } from '../certbot-spellings.js';
import { RENEW_VERIFY_HELP, noVerifyDeployOption, verificationLine, verifierFor, verifyDeployOption, type VerifyDeployFlag } from '../verify-deploy.js';

interface RenewOptions extends SelfCheckFlags, CertbotHookFlags {
  certName: string[];
  force?: boolean;
  days?: number;
  dryRun?: boolean;
  concurrency: number;
  max?: number;
  randomSleep: number | false;
  wait?: boolean;
  preHook?: string;
  postHook?: string;
  deployHook?: string;
  logsDir?: string;
  directoryHooks: boolean;
  verifyDns?: boolean;
  expectIp: string[];
  expectCname: string[];
  allowSubsetOfNames?: boolean;
  verifyDeploy?: VerifyDeployFlag;
}

const KEEP_LOGS = 30;

const BACKOFF_HELP =
  '\nBackoff (Let\'s Encrypt\'s integration guide): after a failed renewal a certificate is tried again no sooner than\n' +
  '1 minute later, then 10 minutes, 100 minutes, then once a day (later when the CA said so: rateLimited, Retry-After),\n' +
  'counted in the store for every node; renew reports it deferred (exit 0), --force tries now, a success ends it.\n' +
  'Only failures that reached the CA count: one of this host (DNS check, --expect-ip, a busy port, a missing webroot)\n' +
  'fails every run until fixed. The backoff never lasts past a day before expiry (a tenth of a short lifetime).';

export function defineRenew(program: Command, run: Runner): void {
  const command = addSelfCheckOptions(program.command('renew'))
    .description('renew every certificate that is due, the way it was issued (safe to run from cron every hour)')
    .option('--cert-name <name>', 'only this certificate; repeatable', collect, [])
    .option('--force', 'renew even if not due, or backing off after failed renewals')
    .option('--days <n>', 'due when fewer than <n> days are left (default: a third of the lifetime, or the CA\'s ARI window)', (v) => parsePositive(v, '--days'))
    .option('--dry-run', "order at the CA's staging CA (Let's Encrypt's, Buypass's, Google's), else at config dryRunServer, else at the certificate's own CA (a real certificate, counted by its rate limits: warned); save nothing")
    .option('--concurrency <n>', 'certificates renewed at the same time', (v) => integer(v, '--concurrency'), 4)
    .option('--max <n>', 'renew at most <n> certificates in this run; the rest wait for the next', (v) => integer(v, '--max'))
    .addOption(
      new Option('--random-sleep <seconds>', 'off a terminal, sleep a random 1..<seconds> before the first renewal (spreads fleets)')
        .default(480)
        .argParser((v) => parsePositive(v, '--random-sleep')),
    )
    .option('--no-random-sleep', 'do not sleep before renewing')
    .addOption(new Option('--no-random-sleep-on-renew', "certbot's spelling of --no-random-sleep").implies({ randomSleep: false }))
    .option('--no-self-upgrade', 'accepted for certbot-auto cron lines: certman never upgrades itself')
    .option('--wait', 'wait for certificates another run holds (renews or deletes) instead of reporting them held')
    .option('--pre-hook <cmd>', 'run once before the first renewal, only if something is due (saved with the certificates, unless the store is apart from the config dir)')
    .option('--post-hook <cmd>', 'run once at the end if a renewal was attempted; gets RENEWED_DOMAINS, FAILED_DOMAINS')
    .option('--deploy-hook <cmd>', 'run per renewed certificate; gets RENEWED_LINEAGE, RENEWED_DOMAINS')
    .option('--no-directory-hooks', 'do not run the executables in <config-dir>/renewal-hooks/{pre,deploy,post}/ (certbot\'s hook folders, run in name order before the hooks of the same kind)')
    .option('--logs-dir <dir>', `where each run's log goes (default <config-dir>/logs; the newest ${KEEP_LOGS} are kept)`, nonEmpty('--logs-dir'))
    .option('--verify-dns', 'check DNS and CAA first (always on when config expectIp/expectCname is set); a failing certificate is not renewed')
    .addOption(expectIpOption())
    .addOption(expectCnameOption())
    .option('--allow-subset-of-names', 'renew for the names that pass the DNS check, dropping the others')
    .addOption(verifyDeployOption('the deploy hooks of a renewed certificate (not in a dry run: nothing is deployed)'))
    .addOption(noVerifyDeployOption())
    .addHelpText('after', BUDGET_HELP)
    .addHelpText('after', BACKOFF_HELP)
    .addHelpText('after', RENEW_VERIFY_HELP)
    .addHelpText('after', '\nExamples:\n  17 * * * * certman renew -q              # cron, hourly: prints only on failure\n  certman renew --dry-run\n  certman renew --deploy-hook "systemctl reload nginx"')
    .action(run(renew));
  addCertbotRenewalSpellings(command);
}

function integer(value: string, flag: string): number {
  const n = parsePositive(value, flag);
  if (!Number.isInteger(n)) throw new CertmanError(`${flag} must be a whole number, not "${value}"`, { exitCode: ExitCode.USAGE });
  return n;
}

async function renew(options: RenewOptions, ctx: CliContext): Promise<CommandResult> {
  const [{ renewCertificates, hookFailures, selectCertificates, notServed }, { openRunLog }, { registerAccount }, { ResponderPool }, { Interrupt }, { deployerFor }, { thisNode }] =
    await Promise.all([
      import('../../renewal/renew.js'),
      import('../../logs/run-log.js'),
      import('../../registration/account.js'),
      import('../../challenge/index.js'),
      import('../interrupt.js'),
      import('../../deploy/index.js'),
      import('../node.js'),
    ]);
  const deployHook = deployHookOf(options);
  const store = await ctx.openStore();
  // A bad or unknown --cert-name is bad input: say so before anything is locked or logged.
  if (options.certName.length > 0) await selectCertificates(options.certName, store);
  const log = await openRunLog(options.logsDir ?? join(ctx.settings.configDir, 'logs'), KEEP_LOGS, 'renew');
  // Ctrl-C, or SIGTERM from `systemctl stop`: start nothing new, let what runs stop cleanly, exit 130.
  const interrupt = Interrupt.listen(['SIGINT', 'SIGTERM']);
  try {
    const report = log.reporter(ctx.report);
    const lease = leaseLength(ctx);
    // Random sleep only when unattended (stdin not a terminal), never for a dry run.
    const unattended = process.stdin.isTTY !== true;
    const randomSleepMs = options.randomSleep !== false && unattended && options.dryRun !== true ? options.randomSleep * 1000 : 0;
    const accountFor = async (server: string, dryRunElsewhere: boolean): Promise<StoredAccount> => {
      const existing = await store.getAccount(server);
      // A deactivated account is refused with what to do; an unfinished key rollover is settled first. At a dry-run
      // CA elsewhere a deactivated account is replaced, as one that is missing (registerAccount does that).
      if (existing !== undefined && !(dryRunElsewhere && existing.deactivatedAt !== undefined)) return (await import('../../registration/rollover.js')).usableAccount(existing, { accounts: store, connect: ctx.connect, report, ...lease, signal: interrupt.signal });
      if (dryRunElsewhere) {
        // A dry run needs an account at the staging CA: make one like certbot does, with the main contact.
        const main = await store.getAccount(ctx.settings.server);
        const email = main?.email ?? ctx.settings.email;
        // Holding the account lease; concurrent renewals of this run find the account the first one registered.
        const registered = await registerAccount(
          { server, agreeTos: true, updateEmail: false, reuseStored: true, ...(email === undefined ? {} : { email }) },
          { accounts: store, connect: ctx.connect, report, ...lease, signal: interrupt.signal },
        );
        return registered.account;
      }
      throw new CertmanError(`no account for ${server}`, { hint: 'run certman register --server <that server>' });
    };
    const [{ renewalDnsGate }, { dnsGateFor }] = await Promise.all([import('../../dns/gate.js'), import('../dns-gate.js')]);
    const gate = await dnsGateFor(ctx, options, options.verifyDns === true);
    const verifyDeploy = await verifierFor(options.verifyDeploy, ctx, store, interrupt.signal);
    const result = await renewCertificates(
      {
        names: options.certName,
        force: options.force === true,
        now: ctx.now,
        due: dueOptions(ctx.settings, options.days),
        concurrency: options.concurrency,
        ...(options.max === undefined ? {} : { max: options.max }),
        ...budgetOptions(ctx.settings),
        randomSleepMs,
        wait: options.wait === true,
        ...lease,
        ...thisNode(ctx.settings),
        hooks: {
          ...(options.preHook === undefined ? {} : { pre: options.preHook }),
          ...(options.postHook === undefined ? {} : { post: options.postHook }),
          ...(deployHook === undefined ? {} : { deploy: deployHook }),
        },
        ...(options.directoryHooks ? { hookDirs: { configDir: ctx.settings.configDir, strict: process.getuid?.() === 0 } } : {}),
        ...(options.dryRun === true ? { dryRun: ctx.settings.dryRunServer === undefined ? {} : { server: ctx.settings.dryRunServer } } : {}),
        ...(gate === undefined ? {} : { dnsGate: renewalDnsGate(gate, options.allowSubsetOfNames === true, report) }),
      },
      {
        store,
        deployer: deployerFor(store, ctx.settings.configDir),
        connect: ctx.connect,
        report,
        accountFor,
        sleep: (ms) => delay(ms, undefined, { signal: interrupt.signal }).catch(() => undefined),
        signal: interrupt.signal,
        random: Math.random,
        selfCheck: selfCheckFor(ctx, options),
        responders: new ResponderPool({ tokens: store.tokens, portLock: portLocks(ctx, interrupt.signal) }),
        ...(verifyDeploy === undefined ? {} : { verifyDeploy }),
      },
    );
    for (const r of result.results) for (const line of resultLines(r)) log.line(line);
    const hookErrors = hookFailures(result);
    for (const message of hookErrors) log.line(message);
    return renewResult(result, hookErrors, log.path, options.certName.length > 0, notServed);
  } finally {
    interrupt.dispose();
    await log.close();
  }
}

/** The summary line, and with --verify-deploy what the endpoints served. */
function resultLines(r: RenewResult): string[] {
  return [summaryLine(r), ...(r.status === 'renewed' && r.verify !== undefined ? [verificationLine(r.name, r.verify)] : [])];
}

function summaryLine(r: RenewResult): string {
  switch (r.status) {
    case 'renewed':
      return `${r.dryRun ? 'dry run ok' : 'renewed'}  ${r.name} (serial ${r.meta.serial}, expires ${formatDate(r.meta.notAfter)})`;
    case 'not-due':
      return `not due  ${r.name} (due ${formatDate(r.window.dueAt)}, ${r.window.reason})`;
    case 'deferred':
      return `deferred ${r.name}: ${printableLine(r.reason)}`;
    case 'skipped':
      return `skipped  ${r.name}: ${r.reason}`;
    case 'held':
      return `held     ${r.name}: ${r.reason}`;
    case 'failed':
      return `failed   ${r.name}: ${printableLine(r.error.message)}`;
  }
}

/**
 * Exit 130 when interrupted, 1 when something failed, 75 when certificates named with --cert-name were all held
 * by other runs (nothing else to do: try again, or --wait), else 0. A run over every certificate that finds some
 * held by another run leaves them to it and exits 0.
 */
function renewResult(run: RenewRun, hookErrors: string[], logPath: string, named: boolean, notServed: (r: RenewResult) => boolean): CommandResult {
  const { results } = run;
  const count = (status: RenewResult['status']) => results.filter((r) => r.status === status).length;
  const summary = {
    renewed: count('renewed'),
    notDue: count('not-due'),
    deferred: count('deferred'),
    skipped: count('skipped'),
    held: count('held'),
    failed: count('failed'),
    hookFailures: hookErrors.length,
    notServed: results.filter(notServed).length,
  };
  const failed = summary.failed > 0 || summary.hookFailures > 0 || summary.notServed > 0;
  return {
    // An interrupted run says so first: what it skipped is done by the next run.
    exitCode: run.interrupted
      ? ExitCode.INTERRUPTED
      : failed
        ? ExitCode.FAILURE
        : named && summary.held > 0 && summary.renewed === 0
          ? ExitCode.LOCKED
          : ExitCode.OK,
    json: { summary, results: results.map(resultJson), hooks: run.hooks, sleptMs: run.sleptMs, interrupted: run.interrupted, log: logPath },
    human: (s) => {
      const lines = results.flatMap((r) => {
        const [line = '', ...verified] = resultLines(r);
        const styled = r.status === 'renewed' ? s.ok(line) : r.status === 'failed' ? s.bad(line) : r.status === 'not-due' ? s.dim(line) : s.warn(line);
        return [styled, ...verified.map(notServed(r) ? s.bad : s.ok)];
      });
      const held = summary.held > 0 ? `, ${summary.held} held by another run` : '';
      const unserved = summary.notServed > 0 ? ` (${summary.notServed} not served)` : '';
      const total = `${summary.renewed} renewed${unserved}, ${summary.notDue} not due, ${summary.deferred} deferred, ${summary.skipped} skipped${held}, ${summary.failed} failed`;
      // Quiet runs (cron) print only when something failed; main.ts decides from the exit code.
      return results.length === 0
        ? ['No certificates to renew.']
        : [
            ...lines,
            ...hookErrors.map((e) => s.bad(e)),
            failed ? s.bad(total) : total,
            ...(run.interrupted ? [s.warn('interrupted: nothing new was started; the next run renews what is still due')] : []),
            s.dim(`log: ${logPath}`),
          ];
    },
  };
}

function resultJson(r: RenewResult) {
  switch (r.status) {
    case 'renewed':
      return { name: r.name, status: r.status, serial: r.meta.serial, previousSerial: r.previousSerial, notAfter: r.meta.notAfter, dryRun: r.dryRun, ...(r.verify === undefined ? {} : { verify: r.verify }) };
    case 'not-due':
      return { name: r.name, status: r.status, dueAt: r.window.dueAt.toISOString(), dueReason: r.window.reason };
    case 'deferred':
      return { name: r.name, status: r.status, reason: r.reason, ...(r.until === undefined ? {} : { until: r.until.toISOString() }) };
    case 'skipped':
    case 'held':
      return { name: r.name, status: r.status, reason: r.reason };
    case 'failed':
      return { name: r.name, status: r.status, error: errorJson(r.error) };
  }
}
