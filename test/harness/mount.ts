// A small filesystem of its own for a test: a tmpfs that can fill up, and be remounted read-only.
//
// As root (tests and CI) it is a plain `mount -t tmpfs` on a temp folder. A developer without root gets the
// same through a user + mount namespace: a helper process (`unshare --user --map-root-user --mount`) mounts
// the tmpfs in its own namespace and stays alive; this process, certman and its hooks reach that mount as
// /proc/<helper pid>/root/<folder>. Either way the suite never skips, and the mount goes in cleanup (also
// when the test process dies: the helper exits when its stdin closes, and its namespace with it).
import { execFile, execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

import { onExitCleanup, track } from './proc.js';

const run = promisify(execFile);

export interface Mounted {
  /** The mounted filesystem's root, for this process and for anything it starts. */
  path: string;
  /** Remounts it read-only: every write under `path` fails with EROFS. */
  readOnly(): Promise<void>;
  /** Unmounts it; a second call does nothing. */
  unmount(): Promise<void>;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** A tmpfs of `sizeBytes` (rounded up to whole pages), empty, mode 0755. */
export async function mountTmpfs(sizeBytes: number): Promise<Mounted> {
  // Not tempDir(): its cleanup would try to remove the folder while the filesystem is still mounted on it.
  const point = await mkdtemp(join(tmpdir(), 'certman-mnt-'));
  const options = `size=${sizeBytes},mode=0755`;
  return isRoot() ? mountHere(point, options) : mountInNamespace(point, options);
}

async function mountHere(point: string, options: string): Promise<Mounted> {
  await run('mount', ['-t', 'tmpfs', '-o', options, 'certman-test', point]);
  let mounted = true;
  // Lazy: a process still inside the mount (a stray child) must not keep it.
  const unmountSync = () => {
    if (!mounted) return;
    mounted = false;
    execFileSync('umount', ['--lazy', point], { stdio: 'ignore' });
    rmdirSync(point);
  };
  onExitCleanup(unmountSync);
  return {
    path: point,
    readOnly: async () => void (await run('mount', ['-o', 'remount,bind,ro', point])),
    unmount: async () => {
      if (!mounted) return;
      mounted = false;
      await run('umount', ['--lazy', point]);
      rmdirSync(point);
    },
  };
}

/**
 * The helper runs a shell that mounts, prints "ready", then answers one command per line on stdin
 * ("ro": remount read-only) with "ok" or "failed", and exits when stdin closes.
 */
const HELPER_SCRIPT = `
mount -t tmpfs -o "$1" certman-test "$0" || exit 1
echo ready
while read -r command; do
  case "$command" in
    ro) if mount -o remount,bind,ro "$0"; then echo ok; else echo failed; fi ;;
    *) echo failed ;;
  esac
done
`;

async function mountInNamespace(point: string, options: string): Promise<Mounted> {
  const helper: ChildProcessWithoutNullStreams = spawn('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', HELPER_SCRIPT, point, options]);
  track(helper);
  let stderr = '';
  helper.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const lines = createInterface({ input: helper.stdout })[Symbol.asyncIterator]();
  const answer = async (): Promise<string> => {
    const next = await lines.next();
    if (next.done === true) throw new Error(`the mount helper (unshare) exited: ${stderr.trim()}`);
    return String(next.value);
  };
  if ((await answer()) !== 'ready') throw new Error(`the mount helper did not mount: ${stderr.trim()}`);
  let mounted = true;
  // The helper unmounts by exiting, which it does once its stdin is closed.
  const release = () => {
    if (!mounted) return false;
    mounted = false;
    helper.stdin.end();
    rmdirSync(point);
    return true;
  };
  onExitCleanup(release);
  const stop = async () => {
    if (release() && helper.exitCode === null && helper.signalCode === null) await new Promise((resolve) => helper.once('exit', resolve));
  };
  return {
    path: `/proc/${helper.pid}/root${point}`,
    readOnly: async () => {
      helper.stdin.write('ro\n');
      if ((await answer()) !== 'ok') throw new Error(`could not remount ${point} read-only: ${stderr.trim()}`);
    },
    unmount: stop,
  };
}
