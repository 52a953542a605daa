/**
 * `certman schedule --install`: writes the planned files atomically, only when their content
 * changed, edits the user's crontab through crontab(1), and enables the systemd timer.
 * Nothing here prints; commands it cannot run are returned for the CLI to show.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CertmanError } from '../errors.js';
import { errorCode, makeDirs, readTextIfPresent } from '../store/fs/atomic.js';
import { BLOCK_BEGIN, CRON_D_FILE, replaceCrontabBlock, TIMER_NAME, type ScheduleFile, type SchedulePlan } from './render.js';

export interface CommandOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The outside world, injectable for tests. */
export interface InstallDeps {
  isRoot: boolean;
  /** Runs a program; rejects (code ENOENT) when it does not exist. */
  run(command: string, args: string[], input?: string): Promise<CommandOutcome>;
  exists(path: string): Promise<boolean>;
}

/** `installed`: nothing was there; `updated`: different content was replaced; `unchanged`: already installed. */
export type InstallStatus = 'installed' | 'updated' | 'unchanged';

export type Activation =
  /** cron reads its files by itself. */
  | { state: 'none' }
  /** These commands were run and succeeded. */
  | { state: 'enabled'; commands: string[] }
  /** Run these to activate the timer (`reason` says why certman did not). */
  | { state: 'manual'; reason: string; commands: string[] };

export interface InstallResult {
  status: InstallStatus;
  changed: boolean;
  activation: Activation;
  /** Advice worth showing (e.g. lingering for --user timers). */
  notes: string[];
}

/** Writes (or, through crontab(1), installs) a plan; idempotent. */
export async function installSchedule(plan: SchedulePlan, deps: InstallDeps): Promise<InstallResult> {
  if (plan.scope === 'system' && plan.dest === undefined && !deps.isRoot) {
    throw new CertmanError('installing the system-wide schedule needs root', {
      hint: `run it with sudo, or add --user to schedule renewals for ${plan.user} only`,
    });
  }
  if (plan.viaCrontab) return installInCrontab(plan, deps);
  if (plan.kind === 'cron' && plan.dest === undefined && !(await deps.exists(dirname(CRON_D_FILE)))) {
    throw new CertmanError(`${dirname(CRON_D_FILE)} does not exist: cron does not seem to be installed`, {
      hint: 'install cron (apt-get install cron), or use --systemd',
    });
  }
  const outcomes: FileOutcome[] = [];
  for (const file of plan.files) outcomes.push(await installFile(file));
  const changed = outcomes.some((o) => o !== 'unchanged');
  const status: InstallStatus = !changed ? 'unchanged' : outcomes.every((o) => o === 'created') ? 'installed' : 'updated';
  if (plan.kind === 'cron') return { status, changed, activation: { state: 'none' }, notes: [] };
  return { status, changed, ...(await activateTimer(plan, changed, deps)) };
}

type FileOutcome = 'created' | 'replaced' | 'unchanged';

async function installFile(file: ScheduleFile): Promise<FileOutcome> {
  const current = await readTextIfPresent(file.path);
  // A block goes into the file (a stand-in crontab under --dest), keeping its other lines.
  const next = file.block ? replaceCrontabBlock(current ?? '', file.content) : file.content;
  if (current === next) return 'unchanged';
  try {
    await makeDirs(dirname(file.path), 0o755);
    await writeFileAtomic(file.path, next, file.block ? 0o600 : 0o644);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new CertmanError(`cannot write ${file.path} (${code})`, { cause: err, hint: 'choose a writable --dest, or run it with sudo' });
    }
    if (code !== undefined) throw new CertmanError(`cannot write ${file.path} (${code})`, { cause: err, hint: 'choose another --dest' });
    throw err;
  }
  if (current === undefined) return 'created';
  return file.block && !hasBlock(current) ? 'created' : 'replaced';
}

function hasBlock(crontab: string): boolean {
  return crontab.split('\n').some((line) => line.trim() === BLOCK_BEGIN);
}

async function installInCrontab(plan: SchedulePlan, deps: InstallDeps): Promise<InstallResult> {
  const block = plan.files[0]?.content ?? '';
  const listed = await runTool(deps, 'crontab', ['-l']);
  let current: string;
  if (listed.code === 0) current = listed.stdout;
  else if (/no crontab/i.test(listed.stderr)) current = '';
  else throw new CertmanError(`crontab -l failed: ${firstLine(listed.stderr, listed.code)}`);
  const next = replaceCrontabBlock(current, block);
  if (next === current) return { status: 'unchanged', changed: false, activation: { state: 'none' }, notes: [] };
  const written = await runTool(deps, 'crontab', ['-'], next);
  if (written.code !== 0) throw new CertmanError(`crontab - failed: ${firstLine(written.stderr, written.code)}`, { hint: 'your crontab was not changed' });
  return { status: hasBlock(current) ? 'updated' : 'installed', changed: true, activation: { state: 'none' }, notes: [] };
}

async function runTool(deps: InstallDeps, command: string, args: string[], input?: string): Promise<CommandOutcome> {
  try {
    return await deps.run(command, args, input);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') {
      throw new CertmanError(`${command} was not found: cron does not seem to be installed`, {
        hint: 'install cron (apt-get install cron), or use --systemd --user',
      });
    }
    throw err;
  }
}

async function activateTimer(plan: SchedulePlan, changed: boolean, deps: InstallDeps): Promise<Pick<InstallResult, 'activation' | 'notes'>> {
  const scopeArgs = plan.scope === 'user' ? ['--user'] : [];
  const commands = [
    ['systemctl', ...scopeArgs, 'daemon-reload'],
    ['systemctl', ...scopeArgs, 'enable', '--now', TIMER_NAME],
  ];
  const text = (argv: string[]) => argv.join(' ');
  const manual = (reason: string) => ({ activation: { state: 'manual', reason, commands: commands.map(text) } as const, notes: [] });
  if (plan.dest !== undefined) return manual(`they were written under ${plan.dest}: copy them to ${plan.location} first`);
  if (!(await deps.exists('/run/systemd/system'))) return manual('this system is not running systemd');
  // Unchanged units need no reload; enabling again is harmless and repairs a disabled timer.
  const toRun = changed ? commands : commands.slice(1);
  for (const [command = 'systemctl', ...args] of toRun) {
    let outcome: CommandOutcome;
    try {
      outcome = await deps.run(command, args);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return manual('systemctl was not found');
      throw err;
    }
    if (outcome.code !== 0) {
      throw new CertmanError(`${text([command, ...args])} failed: ${firstLine(outcome.stderr, outcome.code)}`, {
        hint: `the unit files are in place; once that is fixed, run: ${commands.map(text).join(' && ')}`,
      });
    }
  }
  const notes: string[] = [];
  if (plan.scope === 'user' && !(await deps.exists(join('/var/lib/systemd/linger', plan.user)))) {
    notes.push(`user timers run only while ${plan.user} is logged in; to run them always: loginctl enable-linger ${plan.user}`);
  }
  return { activation: { state: 'enabled', commands: toRun.map(text) }, notes };
}

function firstLine(stderr: string, code: number): string {
  return stderr.trim().split('\n')[0] || `exit code ${code}`;
}

/**
 * Replaces `file` with `data` in one step: a hidden temp file in the same folder (ignored by
 * cron and systemd), written, fsynced, then renamed over the target. Readers see the old or the
 * new file, never a partial one.
 */
export async function writeFileAtomic(file: string, data: string, mode: number): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.certman-tmp-${randomBytes(6).toString('hex')}`);
  let handle: FileHandle | undefined = await open(tmp, 'wx', mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, file);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function runCommand(command: string, args: string[], input?: string): Promise<CommandOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr });
    });
  });
}

/** The real machine. */
export function systemDeps(): InstallDeps {
  return { isRoot: process.getuid?.() === 0, run: runCommand, exists: pathExists };
}
