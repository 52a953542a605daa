/**
 * Crash-safe filesystem primitives used by every write of the filesystem store.
 *
 * A file is never written in place: the bytes go to a temp file in the same directory
 * (created with O_EXCL and its final mode), are fsynced, renamed over the target and the
 * directory is fsynced. A reader therefore sees either the old or the new file, never a
 * partial one, and after a crash the rename is durable once the function has returned.
 *
 * A temp file's name says who wrote it (`.certman-tmp-<target>-<host tag>-<pid>-<random>`), so one
 * left by a writer that was killed can be told from a write in progress and removed
 * ({@link removeAbandonedTemps}) without any lock.
 */
import { randomBytes } from 'node:crypto';
import { chmod, link, lstat, mkdir, open, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { CertmanError } from '../../errors.js';
import { hostTag, processAlive } from './host.js';

/** Every temp file or link the store creates starts with this; certificate names never start with a dot. */
export const TEMP_PREFIX = '.certman-tmp-';
/** A temp file this old is abandoned whoever wrote it (a write takes milliseconds, even on NFS). */
export const ABANDONED_TEMP_AGE_MS = 60 * 60_000;
const TEMP_WRITER = /-([0-9a-f]{8})-([1-9][0-9]*)-[0-9a-f]{12}$/;

export function isTempName(entry: string): boolean {
  return entry.startsWith(TEMP_PREFIX);
}

/**
 * Whether the temp file `entry` (modified at `mtimeMs`) was left by a writer that is gone: one of this
 * host whose process no longer runs, or anyone's after {@link ABANDONED_TEMP_AGE_MS}.
 */
export function isAbandonedTemp(entry: string, mtimeMs: number, now = Date.now()): boolean {
  if (!isTempName(entry)) return false;
  if (now - mtimeMs >= ABANDONED_TEMP_AGE_MS) return true;
  const writer = TEMP_WRITER.exec(entry);
  return writer?.[1] === hostTag() && !processAlive(Number(writer[2]));
}

/** Removes the abandoned temp files among `entries` of `dir`; never throws (a read-only store keeps them). */
export async function removeAbandonedTemps(dir: string, entries: readonly string[]): Promise<void> {
  const now = Date.now();
  await Promise.all(
    entries.filter(isTempName).map(async (entry) => {
      const file = path.join(dir, entry);
      try {
        if (isAbandonedTemp(entry, (await lstat(file)).mtimeMs, now)) await unlink(file);
      } catch {
        // Gone already, or not ours to remove: the next run tries again.
      }
    }),
  );
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** A text file's content, or undefined when there is no such file (other errors are thrown). */
export async function readTextIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** What to do about a failed filesystem call, for the errors that have an obvious cause. */
export function fsErrorHint(err: unknown): string | undefined {
  switch (errorCode(err)) {
    case 'EACCES':
    case 'EPERM':
      return 'Run certman as a user allowed to write the config directory (usually root), or use another config directory.';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'The disk (or quota) is full: free some space and run certman again.';
    case 'EROFS':
      return 'The config directory is on a read-only filesystem: remount it read-write, or use another config directory.';
    default:
      return undefined;
  }
}

/** A fresh temp name next to `target`, naming this writer. */
export function tempPath(target: string): string {
  // Only a prefix of the target's name, so a long name still fits in NAME_MAX (255 bytes).
  const hint = path.basename(target).slice(0, 32);
  return path.join(path.dirname(target), `${TEMP_PREFIX}${hint}-${hostTag()}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** `err` with `file` in its message (Node's messages for write, fsync and close name no path), code kept. */
export function namingFile(err: unknown, file: string): unknown {
  if (!(err instanceof Error) || err.message.includes(file)) return err;
  const named: NodeJS.ErrnoException = new Error(`${err.message} (${file})`, { cause: err });
  const code = errorCode(err);
  if (code !== undefined) named.code = code;
  return named;
}

/** How many fresh temp names to try before giving up (a clash of 48 random bits is not expected). */
const TEMP_ATTEMPTS = 5;

/**
 * Makes earlier renames/creations/unlinks in `dir` durable.
 * Filesystems that cannot fsync a directory (some network and Windows filesystems) are tolerated.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = errorCode(err);
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF' && code !== 'ENOTSUP') throw err;
  } finally {
    await handle?.close();
  }
}

/**
 * Atomically replaces (or creates) `file` with `data`, with exactly `mode` whatever the umask:
 * temp file in the same directory (O_EXCL, mode given at open and re-applied with fchmod since
 * the umask may have narrowed it) → write → fsync → rename → fsync of the directory.
 * On failure the temp file is removed and the previous content of `file` is untouched.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  try {
    await writeThroughTemp(file, data, mode, false);
  } catch (err) {
    throw namingFile(err, file);
  }
}

/**
 * Like {@link writeFileAtomic}, but never replaces an existing `file`: the complete temp file is hard-linked to
 * its name, which fails with EEXIST when the name is taken (a file another writer made stays as it is).
 */
export async function createFileAtomic(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  try {
    await writeThroughTemp(file, data, mode, true);
  } catch (err) {
    throw namingFile(err, file);
  }
}

async function writeThroughTemp(file: string, data: string | Uint8Array, mode: number, exclusive: boolean): Promise<void> {
  let tmp = '';
  let handle: FileHandle | undefined;
  for (let attempt = 1; handle === undefined; attempt++) {
    tmp = tempPath(file);
    try {
      handle = await open(tmp, 'wx', mode);
    } catch (err) {
      if (errorCode(err) !== 'EEXIST' || attempt >= TEMP_ATTEMPTS) throw err;
    }
  }
  try {
    try {
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (exclusive) {
      await link(tmp, file);
      await unlink(tmp);
    } else {
      await rename(tmp, file);
    }
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

/**
 * Creates directory `dir` (its parent must exist) with exactly `mode`, chmod-ed explicitly so
 * the umask does not matter, and fsyncs the parent. An existing directory is left as it is
 * (an administrator may have widened it on purpose). Returns whether it was created.
 */
export async function ensureDir(dir: string, mode: number): Promise<boolean> {
  try {
    await mkdir(dir, { mode });
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
    const info = await stat(dir);
    if (!info.isDirectory()) throw new CertmanError(`${dir} exists but is not a directory`);
    return false;
  }
  await chmod(dir, mode);
  await fsyncDir(path.dirname(dir));
  return true;
}

/**
 * `mkdir -p` without Node's recursive mkdir, which loops forever where mkdir answers ENOENT although the
 * parent exists (`/proc/x` on Node 20): the missing folders are made one by one from the top, with `mode`
 * (less the umask, as mkdir does), and the first failure is thrown. Returns the first folder created, like
 * mkdir({ recursive: true }).
 */
export async function makeDirs(dir: string, mode: number): Promise<string | undefined> {
  const missing: string[] = [];
  for (let current = path.resolve(dir); !(await exists(current)); current = path.dirname(current)) {
    missing.unshift(current);
    if (path.dirname(current) === current) break;
  }
  for (const folder of missing) {
    try {
      await mkdir(folder, { mode });
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
    }
  }
  return missing[0];
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** Removes a file if it exists; returns whether it did. */
export async function unlinkIfExists(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}
