// Child-process bookkeeping shared by the harness: every long-running helper
// process (pebble, challtestsrv, nginx, certman) is tracked here so that a
// crashed or interrupted test run never leaves orphans behind.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants as fsConstants, openSync, closeSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const live = new Set<ChildProcess>();
/** Children spawned as leaders of their own process group (killed as a group). */
const groupLeaders = new WeakSet<ChildProcess>();
let hooksInstalled = false;

function killAllSync(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      killTree(child, 'SIGKILL');
    }
  }
  live.clear();
}

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(groupLeaders.has(child) ? -child.pid : child.pid, signal);
  } catch {
    // already gone
  }
}

const exitCleanups: (() => void)[] = [];

/** Runs children kills first, then the registered cleanups; each at most once. */
function runExitCleanups(): void {
  killAllSync();
  for (const fn of exitCleanups.splice(0)) {
    try {
      fn();
    } catch {
      // best effort while exiting
    }
  }
}

/**
 * Registers a synchronous cleanup run when the process exits, crashes, or is
 * stopped by SIGINT/SIGTERM/SIGHUP (after tracked children have been killed).
 */
export function onExitCleanup(fn: () => void): void {
  installHooks();
  exitCleanups.push(fn);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', runExitCleanups);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      runExitCleanups();
      process.removeListener(signal, handler);
      // When nobody else handles the signal, re-raise it so the default action
      // (termination with the usual status) still happens.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/** Adds a child to the set killed when this process exits. */
export function track(child: ChildProcess): ChildProcess {
  installHooks();
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** PIDs of the tracked children that are still running. */
export function livePids(): number[] {
  return [...live].flatMap((c) => (c.exitCode === null && c.signalCode === null && c.pid !== undefined ? [c.pid] : []));
}

const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Finds an executable on PATH (plus the sbin directories a non-root PATH often lacks). */
export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** Resolves once the process has exited. */
  exited: Promise<void>;
  /** True while the process is still running. */
  running(): boolean;
  /** Sends SIGTERM, escalates to SIGKILL after `graceMs`, resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** The whole log so far. */
  log(): string;
}

/** Spawns a tracked child with stdout and stderr appended to `logFile`. */
export function spawnLogged(
  command: string,
  args: string[],
  logFile: string,
  options: Omit<SpawnOptions, 'stdio'> = {},
): Spawned {
  // detached: the child leads a new process group, so it and any workers it
  // forks (nginx) can be killed together.
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { ...options, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  if (options.detached === true) groupLeaders.add(child);
  track(child);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    }
  });
  const pid = child.pid;
  if (pid === undefined) {
    // spawn failed synchronously (e.g. ENOENT); the 'error' event carries the reason.
    child.on('error', () => undefined);
  }
  const running = (): boolean => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: pid ?? -1,
    logFile,
    exited,
    running,
    async stop(graceMs = 3000): Promise<void> {
      if (!running()) {
        await exited;
        return;
      }
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (running()) killTree(child, 'SIGKILL');
      }, graceMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
      // Whatever the leader left behind in its group goes too.
      if (groupLeaders.has(child)) killTree(child, 'SIGKILL');
    },
    log(): string {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

/** The last `lines` lines of a log, for error messages. */
export function tail(text: string, lines = 30): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
