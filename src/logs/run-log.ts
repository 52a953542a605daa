import { open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CertmanError } from '../errors.js';
import type { Reporter } from '../report.js';
import { makeDirs } from '../store/fs/atomic.js';

export interface RunLog {
  path: string;
  /** Reports to `inner` and appends every message, with a timestamp, to the log file. */
  reporter(inner: Reporter): Reporter;
  line(message: string): void;
  close(): Promise<void>;
}

const PREFIX = 'certman-';

/**
 * One log file per unattended run (`<dir>/certman-<time>-<pid>.log`), keeping the newest `keep`.
 * Cron mails stay quiet; the log keeps every step for when something did go wrong.
 */
export async function openRunLog(dir: string, keep: number, command: string): Promise<RunLog> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(dir, `${PREFIX}${stamp}-${process.pid}.log`);
  let handle: FileHandle;
  try {
    await makeDirs(dir, 0o700);
    handle = await open(path, 'a', 0o600);
  } catch (err) {
    throw new CertmanError(`cannot write the run log in ${dir}: ${(err as Error).message}`, { cause: err, hint: 'check --logs-dir' });
  }
  // Lines written in the same tick go to the file in one write: a run over 10,000 certificates logs 10,000 lines.
  let buffered = '';
  let pending: Promise<unknown> = Promise.resolve();
  const line = (message: string) => {
    if (buffered === '') {
      pending = pending.then(
        () =>
          new Promise<void>((resolve) =>
            setImmediate(() => {
              const text = buffered;
              buffered = '';
              handle.appendFile(text).then(resolve, resolve);
            }),
          ),
      );
    }
    buffered += `${new Date().toISOString()} ${message}\n`;
  };
  line(`certman ${command} (pid ${process.pid})`);
  await rotate(dir, keep);
  return {
    path,
    line,
    reporter: (inner) => ({
      step: (m) => (line(m), inner.step(m)),
      warn: (m) => (line(`warning: ${m}`), inner.warn(m)),
      debug: (m) => (line(m), inner.debug(m)),
    }),
    close: async () => {
      await pending;
      await handle.close();
    },
  };
}

async function rotate(dir: string, keep: number): Promise<void> {
  const logs = (await readdir(dir)).filter((f) => f.startsWith(PREFIX) && f.endsWith('.log')).sort();
  await Promise.all(logs.slice(0, Math.max(0, logs.length - keep)).map((f) => unlink(join(dir, f)).catch(() => undefined)));
}
