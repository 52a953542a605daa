/**
 * Crash-safe filesystem primitives used by every write of the filesystem store.
 *
 * A file is never written in place: the bytes go to a temp file in the same directory
 * (created with O_EXCL and its final mode), are fsynced, renamed over the target and the
 * directory is fsynced. A reader therefore sees either the old or the new file, never a
 * partial one, and after a crash the rename is durable once the function has returned.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, stat, symlink, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { CertmanError } from '../../errors.js';

/** Every temp file or link the store creates starts with this; certificate names never start with a dot. */
export const TEMP_PREFIX = '.certman-tmp-';

export function isTempName(entry: string): boolean {
  return entry.startsWith(TEMP_PREFIX);
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
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

function tempPath(target: string): string {
  // Only a prefix of the target's name, so a long name still fits in NAME_MAX (255 bytes).
  const hint = path.basename(target).slice(0, 32);
  return path.join(path.dirname(target), `${TEMP_PREFIX}${hint}-${randomBytes(6).toString('hex')}`);
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
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

/**
 * Atomically points the symlink `link` at `target` (kept verbatim, so a relative target stays
 * relative): the link is created under a temp name and renamed over `link`, so `link` always
 * exists and always resolves to the old or the new target. Does not fsync the directory: call
 * {@link fsyncDir} once after switching a group of links.
 */
export async function replaceSymlink(target: string, link: string): Promise<void> {
  let tmp = '';
  for (let attempt = 1; ; attempt++) {
    tmp = tempPath(link);
    try {
      await symlink(target, tmp);
      break;
    } catch (err) {
      if (errorCode(err) !== 'EEXIST' || attempt >= TEMP_ATTEMPTS) throw err;
    }
  }
  try {
    await rename(tmp, link);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
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
