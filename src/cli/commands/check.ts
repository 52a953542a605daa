import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../errors.js';
import type { CertificateCheck } from '../../served/run.js';
import type { PluginAnswer } from '../../served/expiry.js';
import type { EndpointCheck, ServedStatus } from '../../served/types.js';
import { printableLine } from '../../text.js';
import type { CliContext } from '../context.js';
import { endpointOption } from '../endpoint-options.js';
import { formatDate } from '../format.js';
import type { Styles } from '../output.js';
import { collect } from '../parse.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';

interface CheckOptions {
  certName: string[];
  endpoint: string[];
  expiry?: boolean;
  warnDays?: number;
  critDays?: number;
  storedOnly?: boolean;
}

export function defineCheck(program: Command, run: Runner): void {
  program
    .command('check')
    .description('connect to where each certificate is served and say what is there: the live certificate, an older version, another certificate, or nothing; --expiry: a monitoring plugin')
    .option('--cert-name <name>', 'only this certificate; repeatable', collect, [])
    .addOption(endpointOption("check there, in this run, instead of each certificate's endpoints (issue --endpoint, config endpoints, else its names on port 443); repeat or separate with commas"))
    .option('--expiry', 'monitoring-plugin mode (Nagios, Icinga, Zabbix): one status line first, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
    .option('--warn-days <days>', 'with --expiry: WARNING when a stored or served certificate has fewer days left (default 21)', days('--warn-days'))
    .option('--crit-days <days>', 'with --expiry: CRITICAL when fewer days left (default 7); expired is always CRITICAL', days('--crit-days'))
    .option('--stored-only', 'with --expiry: count the stored certificates only, connect nowhere')
    .addHelpText(
      'after',
      '\nEach endpoint may take --timeout seconds (default 10) to finish its TLS handshake.\n' +
        '\nExit codes: 0 every endpoint serves the live certificate, 1 any does not (or a certificate cannot be read), 2 bad input.\n' +
        'With --expiry: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad input and every error included).\n' +
        '\nExamples:\n  certman check\n  certman check --cert-name example.com --endpoint 127.0.0.1:8443\n  certman check --expiry --warn-days 21 --crit-days 7',
    )
    .action(run(check));
}

function days(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} must be a whole number of days, not "${value}"`);
    return Number(value);
  };
}

async function check(options: CheckOptions, ctx: CliContext): Promise<CommandResult> {
  const plugin = options.expiry === true;
  if (!plugin && (options.warnDays !== undefined || options.critDays !== undefined || options.storedOnly === true)) {
    throw new UsageError('--warn-days, --crit-days and --stored-only go with --expiry');
  }
  const [{ checkCertificates }, { DEFAULT_PROBE_TIMEOUT_MS }, { DEFAULT_CRIT_DAYS, DEFAULT_WARN_DAYS, PLUGIN_EXIT_CODES, pluginAnswer, pluginLines }, { thisNode }] = await Promise.all([
    import('../../served/run.js'),
    import('../../served/check.js'),
    import('../../served/expiry.js'),
    import('../node.js'),
  ]);
  const thresholds = { warnDays: options.warnDays ?? DEFAULT_WARN_DAYS, critDays: options.critDays ?? DEFAULT_CRIT_DAYS };
  if (thresholds.warnDays <= thresholds.critDays) throw new UsageError(`--warn-days (${thresholds.warnDays}) must be more than --crit-days (${thresholds.critDays})`);
  const served = !(plugin && options.storedOnly === true);
  // Reading needs no write access (a monitoring user); keeping the answer for `certman metrics` does, and may fail alone.
  const store = await ctx.openStoreReadOnly();
  const checks = await checkCertificates(store, {
    names: options.certName,
    ...(options.endpoint.length === 0 ? {} : { endpoints: options.endpoint }),
    config: ctx.settings.endpoints,
    sharedStore: thisNode(ctx.settings).sharedStore,
    served,
    timeoutMs: ctx.timeoutGivenMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    now: () => new Date(),
    report: ctx.report,
    record: () => ctx.openStore(),
  });
  if (plugin) {
    const answer = pluginAnswer(checks, new Date(), thresholds, served);
    return { exitCode: PLUGIN_EXIT_CODES[answer.state], json: pluginJson(answer, checks), human: () => pluginLines(answer) };
  }
  return checkResult(checks, store.location);
}

/** The `--json` form of each certificate's check (the same in both modes). */
function certificateJson(check: CertificateCheck): object {
  if (check.status !== 'checked') return check;
  const { check: served, ...rest } = check;
  return { ...rest, checkedAt: served.checkedAt, endpoints: served.endpoints };
}

function pluginJson(answer: PluginAnswer, checks: CertificateCheck[]): Record<string, unknown> {
  return { state: answer.state, summary: answer.summary, perfdata: answer.perfdata, findings: answer.findings, certificates: checks.map(certificateJson) };
}

function checkResult(checks: CertificateCheck[], location: string): CommandResult {
  const endpoints = checks.flatMap((c) => (c.status === 'checked' ? c.check.endpoints : []));
  const counts: Record<ServedStatus, number> = { live: 0, older: 0, other: 0, unreachable: 0 };
  for (const endpoint of endpoints) counts[endpoint.status] += 1;
  const unchecked = checks.some((c) => c.status === 'damaged' || (c.status === 'checked' && c.check.endpoints.length === 0));
  const ok = !unchecked && counts.live === endpoints.length;
  return {
    exitCode: ok ? ExitCode.OK : ExitCode.FAILURE,
    json: { ok, counts, certificates: checks.map(certificateJson) },
    human: (s) => {
      if (checks.length === 0) return [`No certificates in ${location}.`];
      const total = `${counts.live} of ${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'} serve the live certificate.`;
      return [...checks.flatMap((c) => certificateLines(c, s)), '', ok ? s.ok(total) : s.bad(total)];
    },
  };
}

function certificateLines(check: CertificateCheck, s: Styles): string[] {
  if (check.status === 'revoked') return [`${s.bold(check.name)}  ${s.dim(`not checked: ${check.reason}`)}`];
  if (check.status === 'damaged') return [`${s.bold(check.name)}  ${s.bad('damaged')}: ${printableLine(check.reason)}`];
  const head = `${s.bold(check.name)}  version ${check.version}, serial ${check.serial}, expires ${formatDate(check.notAfter)}`;
  if (check.check.endpoints.length === 0) return [head, `  ${s.bad('✗')} no endpoint to check (only wildcard names): set config endpoints, or issue --endpoint`];
  const width = Math.max(...check.check.endpoints.map((e) => e.endpoint.length));
  return [head, ...check.check.endpoints.map((e) => `  ${e.status === 'live' ? s.ok('✓') : s.bad('✗')} ${e.endpoint.padEnd(width)}  ${endpointText(e, s)}`)];
}

/** What an endpoint serves, in words: enough to find the stale server or the wrong certificate. */
function endpointText(e: EndpointCheck, s: Styles): string {
  const presented = e.certificate;
  switch (e.status) {
    case 'unreachable':
      return `${s.bad('unreachable')}: ${printableLine(e.error ?? 'no certificate')}`;
    case 'live':
      return s.ok('live');
    case 'older':
      return `${s.warn(`older version ${e.version ?? '?'}`)}: serial ${presented?.serial ?? '?'}, expires ${presented === undefined ? '?' : formatDate(presented.notAfter)}`;
    case 'other':
      return presented === undefined
        ? s.bad('another certificate')
        : `${s.bad('another certificate')}: subject ${printableLine(presented.subject)}, issuer ${printableLine(presented.issuer)}, serial ${presented.serial}, expires ${formatDate(presented.notAfter)}, names ${printableLine(presented.names.join(', ') || '-')}`;
  }
}
