// A web server started for a test (nginx, Apache, HAProxy): spawned in its own process group, ready
// once its URL answers HTTP at all, stopped together with its workers, its temp dir removed.
import { join } from 'node:path';
import { httpRequestText } from './http.js';
import { sleep, spawnLogged, tail, type Spawned } from './proc.js';
import { removeTempDir } from './tmp.js';

export interface DaemonOptions {
  label: string;
  command: string;
  args: string[];
  /** Its private temp dir (config, logs); removed on stop. */
  dir: string;
  /** Probed until it answers (any status). */
  url: string;
  /** More log text for error messages (e.g. an error log the server writes itself). */
  extraLog?: () => string;
  startTimeoutMs?: number;
}

export interface Daemon {
  proc: Spawned;
  /** Stops it (SIGTERM, then SIGKILL) and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const proc = spawnLogged(options.command, options.args, join(options.dir, 'stderr.log'), { cwd: options.dir, detached: true });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= proc.stop(5000).then(() => removeTempDir(options.dir));
    return stopping;
  };
  const logs = (): string => tail(`${proc.log()}${options.extraLog?.() ?? ''}`);
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running()) {
      const text = logs();
      await stop();
      throw new Error(`${options.label} exited during startup (code ${String(proc.child.exitCode)}):\n${text}`);
    }
    try {
      await httpRequestText(`${options.url}/`, { timeoutMs: 1000 });
      return { proc, stop }; // any HTTP answer (even 404) means it is serving
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      const text = logs();
      await stop();
      throw new Error(`${options.label} did not answer on ${options.url} within ${timeoutMs} ms:\n${text}`);
    }
    await sleep(50);
  }
}
