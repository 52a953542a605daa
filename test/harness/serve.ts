// `certman serve-challenge` as a long-running child process, the way an operator runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { certmanBin, cliEnv, repoRoot } from './cli.js';
import { sleep, track } from './proc.js';

export interface ServeChallenge {
  child: ChildProcess;
  port: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

/** Starts `certman serve-challenge --port PORT --address 127.0.0.1 ARGS`; resolves once it says it listens. */
export async function startServeChallenge(env: Record<string, string>, port: number, args: string[] = []): Promise<ServeChallenge> {
  const child = spawn(process.execPath, [certmanBin, 'serve-challenge', '--port', String(port), '--address', '127.0.0.1', ...args], {
    cwd: repoRoot,
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 15_000;
  while (!/listening on /.test(stderr)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve-challenge did not start (exit ${String(child.exitCode)}):\n${stderr}`);
    }
    await sleep(20);
  }
  return {
    child,
    port,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
