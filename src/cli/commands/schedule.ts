import { realpathSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { InstallResult, RenewGlobals, SchedulePlan } from '../../schedule/index.js';
import { isNetworkStore } from '../../config/store-location.js';
import { redisLocation } from '../../store/redis/url.js';
import type { CliContext } from '../context.js';
import type { GlobalOptions } from '../globals.js';
import type { Styles } from '../output.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';

interface ScheduleOptions {
  cron?: boolean;
  systemd?: boolean;
  install?: boolean;
  user?: boolean;
  dest?: string;
}

const EXAMPLES = `
Examples:
  certman schedule --systemd                        # show the service and timer (nothing is written)
  sudo certman schedule --systemd --install         # /etc/systemd/system, then enable --now the timer
  sudo certman schedule --cron --install            # /etc/cron.d/certman
  certman schedule --cron --user --install          # your own crontab (other lines are kept)
  certman schedule --systemd --user --install       # ~/.config/systemd/user
  certman schedule --systemd --install --dest ./pkg # write the files into ./pkg (packaging)

The two daily runs are 12 hours apart at a minute and hour chosen once per machine (from
/etc/machine-id and the config dir), so re-running prints the same schedule.`;

export function defineSchedule(program: Command, run: Runner): void {
  const command = program
    .command('schedule')
    .description('print or install a cron entry or systemd timer that runs "certman renew -q" twice a day')
    .option('--cron', 'a crontab entry (/etc/cron.d/certman, or your crontab with --user)')
    .option('--systemd', 'a systemd service and timer (certman-renew.service, certman-renew.timer)')
    .option('--install', 'write it and activate it (idempotent: identical content is left alone)')
    .option('--user', "for your user only: your crontab, or ~/.config/systemd/user (no root needed)")
    .option('--dest <dir>', 'write the files under <dir> instead of the system location, for packaging and tests')
    .addHelpText('after', EXAMPLES);
  command.action(run<ScheduleOptions>((options, ctx) => schedule(options, ctx, command.optsWithGlobals<GlobalOptions>())));
}

async function schedule(options: ScheduleOptions, ctx: CliContext, globals: GlobalOptions): Promise<CommandResult> {
  if ((options.cron === true) === (options.systemd === true)) {
    throw new UsageError('pass exactly one of --cron or --systemd', 'certman schedule --systemd, or certman schedule --cron');
  }
  const kind = options.cron === true ? 'cron' : 'systemd';
  const scope = options.user === true ? 'user' : 'system';
  const { installSchedule, machineIdentity, planSchedule, renewCommand, scheduleSlot, slotTimes, systemDeps } = await import('../../schedule/index.js');
  const { defaultConfigDir } = await import('../../config/defaults.js');

  const renewGlobals = explicitGlobals(ctx, globals);
  // The slot follows the config dir the job will use: root's default for a system job, whoever runs this.
  const jobConfigDir = renewGlobals.configDir ?? (scope === 'system' ? defaultConfigDir(process.env, true) : ctx.settings.configDir);
  const slot = scheduleSlot(await machineIdentity(), jobConfigDir);
  const [first, second] = slotTimes(slot);
  const when = `daily at ${first} and ${second}${kind === 'systemd' ? ' (each up to 1 h later)' : ''}`;
  const home = process.env.HOME !== undefined && process.env.HOME !== '' ? process.env.HOME : homedir();
  const plan = planSchedule({
    kind,
    scope,
    argv: renewCommand(process.execPath, certmanBinary(), renewGlobals),
    slot,
    home,
    ...(process.env.XDG_CONFIG_HOME === undefined ? {} : { xdgConfigHome: process.env.XDG_CONFIG_HOME }),
    ...(options.dest === undefined ? {} : { dest: resolve(options.dest) }),
    user: currentUser(),
  });

  if (options.install !== true) {
    return {
      json: { kind, scope, files: plan.files.map(({ path, content }) => ({ path, content })), installed: false, changed: false },
      human: (s) => printLines(plan, s),
    };
  }
  const result = await installSchedule(plan, systemDeps());
  return {
    json: { kind, scope, files: plan.files.map(({ path, content }) => ({ path, content })), installed: true, changed: result.changed },
    human: (s) => installLines(plan, result, when, s),
  };
}

/**
 * The global options the scheduled renewal must repeat: those given on the command line or
 * through CERTMAN_* variables (cron and systemd do not pass this shell's environment on).
 * Defaults and settings from a config file are left out: renew finds them by itself.
 */
function explicitGlobals(ctx: CliContext, globals: GlobalOptions): RenewGlobals {
  const given = (flag: string | undefined, env: string) => flag !== undefined || (process.env[env] ?? '') !== '';
  const { settings } = ctx;
  const storeGiven = given(globals.store, 'CERTMAN_STORE');
  const keyFileGiven = given(globals.storeKeyFile, 'CERTMAN_STORE_KEY_FILE');
  checkSchedulableStore(settings, storeGiven, keyFileGiven);
  return {
    ...(given(globals.configDir, 'CERTMAN_CONFIG_DIR') ? { configDir: settings.configDir } : {}),
    ...(storeGiven ? { store: settings.store } : {}),
    ...(given(globals.storePrefix, 'CERTMAN_STORE_PREFIX') && settings.storePrefix !== undefined ? { storePrefix: settings.storePrefix } : {}),
    ...(keyFileGiven && settings.storeKeyFile !== undefined ? { storeKeyFile: settings.storeKeyFile } : {}),
    ...(given(globals.storeCaFile, 'CERTMAN_STORE_CA_FILE') && settings.storeCaFile !== undefined ? { storeCaFile: settings.storeCaFile } : {}),
    ...(given(globals.server, 'CERTMAN_SERVER') ? { server: settings.server } : {}),
    ...(given(globals.caFile, 'CERTMAN_CA_FILE') && settings.caFile !== undefined ? { caFile: settings.caFile } : {}),
    ...(globals.config !== undefined ? { config: settings.configFile ?? resolve(globals.config) } : {}),
  };
}

/**
 * A job's command line is visible to every user (ps, the unit file, the crontab): a store URL with a password or
 * a store key given only in this shell's CERTMAN_STORE_KEY cannot go there. The config file (root's alone) can.
 */
function checkSchedulableStore(settings: CliContext['settings'], storeGiven: boolean, keyFileGiven: boolean): void {
  if (!isNetworkStore(settings.store)) return;
  if (storeGiven && redisLocation(settings.store) !== settings.store) {
    throw new UsageError('the store URL holds a password, and the job would show it to every user', 'put "store" in the config file instead and schedule without --store or CERTMAN_STORE');
  }
  if (!keyFileGiven && settings.storeKeyFile === undefined) {
    throw new UsageError('the job would have no store key: CERTMAN_STORE_KEY of this shell does not reach it', 'give --store-key-file <file>, or put "storeKeyFile" in the config file');
  }
  // Only the config file's reaches the job: there is no flag for it.
  const passwordFromEnv = (process.env.CERTMAN_STORE_SENTINEL_PASSWORD ?? '') !== '' || (process.env.CERTMAN_STORE_SENTINEL_PASSWORD_FILE ?? '') !== '';
  if (passwordFromEnv) {
    throw new UsageError('the job would have no sentinel password: CERTMAN_STORE_SENTINEL_PASSWORD(_FILE) of this shell does not reach it', 'put "storeSentinelPasswordFile" in the config file');
  }
}

/** The real path of bin/certman next to this build (dist/cli/commands/ → bin/). */
function certmanBinary(): string {
  const bin = fileURLToPath(new URL('../../../bin/certman', import.meta.url));
  try {
    return realpathSync(bin);
  } catch {
    return bin;
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // no passwd entry (some containers)
    return process.env.USER ?? process.env.LOGNAME ?? String(process.getuid?.() ?? 'user');
  }
}

function printLines(plan: SchedulePlan, s: Styles): string[] {
  const lines: string[] = [];
  for (const file of plan.files) {
    if (lines.length > 0) lines.push('');
    const where = file.block
      ? plan.dest === undefined
        ? `# for the crontab of ${plan.user} (crontab -e), or run: certman schedule --cron --user --install`
        : `# certman's block in ${file.path}`
      : `# ${file.path}`;
    lines.push(s.dim(where), ...file.content.replace(/\n$/, '').split('\n'));
  }
  return lines;
}

function installLines(plan: SchedulePlan, result: InstallResult, when: string, s: Styles): string[] {
  const where = plan.viaCrontab ? plan.location : plan.files.map((f) => f.path).join(', ');
  const head = {
    installed: `${s.ok('installed')} ${where}`,
    updated: `${s.ok('updated')} ${where}`,
    unchanged: `${s.dim('already installed')} ${where}`,
  }[result.status];
  const lines = [head, `certman renew -q runs ${when}`];
  const { activation } = result;
  if (activation.state === 'enabled') lines.push(`ran: ${activation.commands.join(' && ')}`);
  if (activation.state === 'manual') lines.push(`${s.warn('not activated')}: ${activation.reason}; then run: ${activation.commands.join(' && ')}`);
  for (const note of result.notes) lines.push(`${s.dim('note:')} ${note}`);
  return lines;
}
