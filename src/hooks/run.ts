/**
 * Runs one hook command the way certbot does: `/bin/sh -c <command>`, with the process
 * environment plus the variables describing the run (see env.ts).
 *
 * The command string is the user's, verbatim: certman never splices domain names or paths into
 * it, they reach the hook only through the environment, so a name can never become shell syntax.
 *
 * A hook is given its own process group (and session), so a timeout stops the hook together with
 * everything it started (`sh -c 'a | b'`, `systemctl reload` helpers, …). A failing, timed-out or
 * unstartable hook is reported in the outcome, never thrown: the caller decides what it means.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { isNetworkStore } from '../config/store-location.js';
import { redisLocation } from '../store/redis/url.js';
import { messageOf } from '../errors.js';

/** What happened when a hook ran. */
export interface HookOutcome {
  command: string;
  /** Exit status, or null when the hook was ended by a signal or never started. */
  exitCode: number | null;
  /** Signal that ended the hook (e.g. "SIGTERM" after a timeout), or null. */
  signal: string | null;
  /** stdout and stderr in the order they arrived, the last 8 KiB only; for a spawn error, its message. */
  output: string;
  durationMs: number;
  /** Exited with status 0. */
  ok: boolean;
}

export interface RunHookOptions {
  /** Stop the hook (its whole process group) after this long. Default 10 minutes. */
  timeoutMs?: number;
}

export const DEFAULT_HOOK_TIMEOUT_MS = 10 * 60 * 1000;
/** How much output an outcome keeps (the end of it, where the error usually is). */
export const HOOK_OUTPUT_LIMIT = 8 * 1024;
/** After SIGTERM on timeout, how long the group gets before SIGKILL. */
const KILL_GRACE_MS = 3000;
/**
 * Once the shell has exited, how long to wait for its output pipes to reach end of file. A hook
 * that leaves a background process holding them open (`nginx &`) must not keep certman waiting.
 */
const DRAIN_GRACE_MS = 1000;

/** Process groups of hooks still running, stopped if certman exits while they run. */
const runningGroups = new Set<number>();
let exitHandlerInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function trackGroup(pid: number): void {
  runningGroups.add(pid);
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', () => {
      for (const group of runningGroups) killGroup(group, 'SIGTERM');
    });
  }
}

/** Keeps the last `limit` bytes written to it. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private length = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    while (this.chunks.length > 1 && this.length - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.length -= this.chunks.shift()?.length ?? 0;
      this.truncated = true;
    }
  }

  text(): string {
    let bytes = Buffer.concat(this.chunks);
    if (bytes.length > this.limit) {
      bytes = bytes.subarray(bytes.length - this.limit);
      this.truncated = true;
    }
    // Cutting may have split a UTF-8 sequence: drop its orphaned continuation bytes.
    let start = 0;
    if (this.truncated) while (start < bytes.length && start < 3 && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
    return bytes.subarray(start).toString('utf8');
  }
}

/** Secrets certman may be given in its environment that no hook gets: a hook's output may reach logs and --json. */
const SECRET_VARIABLES = new Set(['CERTMAN_STORE_KEY', 'CERTMAN_STORE_SENTINEL_PASSWORD']);

function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !SECRET_VARIABLES.has(key)) env[key] = value;
  // A store URL may carry a password: hooks get where the store is, not how to log in.
  if (env.CERTMAN_STORE !== undefined && isNetworkStore(env.CERTMAN_STORE)) env.CERTMAN_STORE = redisLocation(env.CERTMAN_STORE);
  return { ...env, ...extra };
}


/**
 * Runs `command` with `/bin/sh -c`, the environment of certman plus `env`, stdin closed.
 * Resolves when the shell has exited (or could not be started); never rejects.
 */
export function runHook(command: string, env: Record<string, string>, options: RunHookOptions = {}): Promise<HookOutcome> {
  return runProcess(command, '/bin/sh', ['-c', command], env, options);
}

/**
 * Runs the executable at `path` itself, no shell and no arguments (a hook from a renewal-hooks/ folder, as certbot
 * runs them), with the same environment, timeout and outcome as runHook; `command` in the outcome is the path.
 */
export function runExecutable(path: string, env: Record<string, string>, options: RunHookOptions = {}): Promise<HookOutcome> {
  return runProcess(path, path, [], env, options);
}

function runProcess(command: string, file: string, args: string[], env: Record<string, string>, options: RunHookOptions): Promise<HookOutcome> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  const started = performance.now();
  const tail = new TailBuffer(HOOK_OUTPUT_LIMIT);

  return new Promise<HookOutcome>((resolve) => {
    let child: ChildProcess | undefined;
    let settled = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const finish = (exitCode: number | null, signal: string | null, note?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      if (child?.pid !== undefined) runningGroups.delete(child.pid);
      // A timed-out group still alive gets its SIGKILL; otherwise nothing is left to kill.
      if (!timedOut) clearTimeout(killTimer);
      child?.stdout?.destroy();
      child?.stderr?.destroy();
      if (note !== undefined) {
        const before = tail.text();
        tail.push(Buffer.from(`${before === '' || before.endsWith('\n') ? '' : '\n'}${note}\n`));
      }
      resolve({
        command,
        exitCode,
        signal,
        output: tail.text(),
        durationMs: Math.round(performance.now() - started),
        ok: exitCode === 0 && signal === null && !timedOut,
      });
    };

    try {
      child = spawn(file, args, {
        env: childEnv(env),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (err) {
      // Invalid arguments (e.g. a NUL byte in the command or in a variable).
      finish(null, null, `cannot run hook: ${messageOf(err)}`);
      return;
    }

    const pid = child.pid;
    if (pid !== undefined) trackGroup(pid);
    child.stdout?.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
    // Stream errors after destroy() are of no interest.
    child.stdout?.on('error', () => undefined);
    child.stderr?.on('error', () => undefined);

    child.on('error', (err) => finish(null, null, `cannot run hook: ${messageOf(err)}`));

    const spawned = child;
    spawned.on('exit', (code, signal) => {
      const done = (): void =>
        finish(code, signal, timedOut ? `certman: hook timed out after ${formatMs(timeoutMs)}, its process group was killed` : undefined);
      // Usually 'close' follows at once; a background process holding the pipes gets a short grace.
      drainTimer = setTimeout(done, DRAIN_GRACE_MS);
      spawned.once('close', done);
    });

    if (pid !== undefined && Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        timedOut = true;
        killGroup(pid, 'SIGTERM');
        killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
        killTimer.unref();
      }, Math.max(0, timeoutMs));
    }
  });
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
