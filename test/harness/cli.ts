// Runs the real CLI (bin/certman) as a child process, the way a user would.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { chmod, mkdtemp } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { PebbleEnv } from './pebble.js';
import { track } from './proc.js';

/** Absolute path of the repository root (two levels above test/harness/). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Absolute path of the CLI entry point. */
export const certmanBin = fileURLToPath(new URL('../../bin/certman', import.meta.url));

export interface RunOptions {
  /** Added to (or, with undefined, removed from) the child's environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Written to stdin, which is then closed. stdin is always a pipe (never a TTY). */
  input?: string;
  /** Kill the CLI (SIGKILL) after this long and reject. Default 60 000 ms. */
  timeoutMs?: number;
  /** Run under this umask (octal, e.g. '077') through `sh -c 'umask …; exec …'`, as an operator's shell would. */
  umask?: string;
  /** Run as this user and group (no supplementary groups), e.g. 65534 (nobody) to prove a read needs no write access. */
  user?: { uid: number; gid: number };
  /** Runs the CLI through this command, which ends by running its arguments (e.g. unshare … sh -c '… exec "$@"' sh). */
  prefix?: string[];
  /** Called with the started process, e.g. to signal it while it runs. */
  onSpawn?: (child: ChildProcessWithoutNullStreams) => void;
}

export interface RunResult {
  /** Exit code; 128 + signal number when killed by a signal. */
  code: number;
  /** Signal that killed the process, if any. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time in milliseconds. */
  durationMs: number;
}

/** The environment the CLI runs with: ours minus CERTMAN_* and test-runner variables, plus NO_COLOR=1 and CI=true. */
export function cliEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('CERTMAN_')) continue;
    // Set by node --test for its child processes; certman is not a test file.
    if (key === 'NODE_TEST_CONTEXT') continue;
    env[key] = value;
  }
  env.NO_COLOR = '1';
  env.CI = 'true';
  Object.assign(env, extra);
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) clean[key] = value;
  return clean;
}

let reachable: Promise<string> | undefined;

/**
 * A copy of the CLI's runtime (hard links where it can) that any user can reach, when the checkout sits in a
 * folder only root may enter (a CI clone in a mktemp folder): otherwise the checkout itself. Made once per process.
 */
function reachableRoot(): Promise<string> {
  reachable ??= (async () => {
    const root = path.resolve(repoRoot);
    const closed = (dir: string): boolean => (statSync(dir).mode & 0o001) === 0;
    const ancestors = root.split(path.sep).map((_, i, parts) => parts.slice(0, i + 1).join(path.sep) || path.sep);
    if (!ancestors.some(closed)) return root;
    const copy = await mkdtemp(path.join(tmpdir(), 'certman-cli-'));
    await chmod(copy, 0o755);
    process.once('exit', () => rmSync(copy, { recursive: true, force: true }));
    for (const entry of ['bin', 'dist', 'node_modules', 'package.json']) {
      const from = path.join(root, entry);
      try {
        execFileSync('cp', ['-al', from, copy], { stdio: 'ignore' });
      } catch {
        execFileSync('cp', ['-a', from, copy], { stdio: 'ignore' }); // another filesystem: no hard links
      }
    }
    return copy;
  })();
  return reachable;
}

/** Runs `node bin/certman ...args`; resolves with its exit code and output whatever the code is. */
export async function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  // Another user runs the CLI from where it can reach it (and starts in that folder unless told otherwise).
  const root = opts.user === undefined ? repoRoot : await reachableRoot();
  return runFrom(path.join(root, 'bin', 'certman'), root, args, opts);
}

function runFrom(bin: string, root: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (opts.umask !== undefined && !/^[0-7]{3,4}$/.test(opts.umask)) throw new Error(`bad umask ${opts.umask}`);
    const [direct, ...argv0] =
      opts.umask === undefined
        ? [process.execPath, bin, ...args]
        : ['/bin/sh', '-c', `umask ${opts.umask}; exec "$0" "$@"`, process.execPath, bin, ...args];
    const [command = direct, ...argv] = [...(opts.prefix ?? []), direct, ...argv0];
    const child = spawn(command, argv, {
      cwd: opts.cwd ?? root,
      env: cliEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.user === undefined ? {} : { uid: opts.user.uid, gid: opts.user.gid }),
    });
    track(child);
    opts.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    // The CLI may exit before reading its input; that is not our error.
    child.stdin.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin.write(opts.input);
    child.stdin.end();

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new Error(
            `certman ${args.join(' ')} did not finish within ${timeoutMs} ms\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`,
          ),
        );
        return;
      }
      const signalNumber = signal === null ? 0 : (osConstants.signals[signal] ?? 0);
      resolve({
        code: code ?? 128 + signalNumber,
        signal,
        stdout,
        stderr,
        durationMs: Date.now() - started,
      });
    });
  });
}

/** Sends `signal` once the child's stderr has shown `text`; only once, as a second signal may end it at once. */
export function signalOnStderr(child: ChildProcessWithoutNullStreams, text: string, signal: NodeJS.Signals): void {
  let seen = '';
  const watch = (chunk: Buffer) => {
    seen += chunk.toString();
    if (!seen.includes(text)) return;
    child.stderr.off('data', watch);
    child.kill(signal);
  };
  child.stderr.on('data', watch);
}

/** Environment pointing certman at a harness Pebble and a private config dir. */
export function certmanEnv(pebble: PebbleEnv, configDir: string): Record<string, string> {
  return {
    CERTMAN_SERVER: pebble.directoryUrl,
    CERTMAN_CA_FILE: pebble.caFile,
    CERTMAN_CONFIG_DIR: configDir,
    // The self-check reaches names the way Pebble does: its DNS server, its validation port.
    CERTMAN_VALIDATION_PORT: String(pebble.httpPort),
    CERTMAN_RESOLVER: `127.0.0.1:${pebble.dnsPort}`,
  };
}
