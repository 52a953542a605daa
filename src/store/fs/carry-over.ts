/**
 * Files operators keep in live/<name>/ beside certman's own (a combined haproxy.pem a deploy hook writes,
 * dhparams, a folder of their own). certbot never touches them, so neither may the live/ slot switch: every
 * such entry of the slot live/<name> points to is carried into the slot it switches to, so it stays at
 * live/<name>/<entry> across any number of renewals.
 */
import type { Stats } from 'node:fs';
import { chmod, copyFile, lchown, link, lstat, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';

import { errorCode, isTempName } from './atomic.js';

/**
 * Recreates in `to` every entry of `from` for which `isOwn` is false (temp files aside): symbolic links with
 * the same target, files hard-linked (copied with their mode and, where allowed, their owner when they
 * cannot be linked), folders copied recursively. `to` must exist and must not hold those names yet.
 */
export async function carryOver(from: string, to: string, isOwn: (entry: string) => boolean): Promise<void> {
  for (const entry of await readdir(from)) {
    if (!isOwn(entry) && !isTempName(entry)) await copyEntry(path.join(from, entry), path.join(to, entry));
  }
}

async function copyEntry(source: string, target: string): Promise<void> {
  const info = await lstat(source);
  if (info.isSymbolicLink()) {
    // The same text: a relative target means the same thing from either slot, both being in live/.
    await symlink(await readlink(source), target);
    await keepOwner(target, info);
  } else if (info.isDirectory()) {
    await mkdir(target, { mode: 0o700 });
    for (const entry of await readdir(source)) await copyEntry(path.join(source, entry), path.join(target, entry));
    await keepOwnerAndMode(target, info);
  } else {
    try {
      // One inode in both slots: no copy to fall out of date, and mode and owner are the file's own.
      await link(source, target);
    } catch (err) {
      // Another filesystem mounted there, hard links refused (protected_hardlinks, a filesystem without them).
      if (!info.isFile()) throw err;
      await copyFile(source, target);
      await keepOwnerAndMode(target, info);
    }
  }
}

/** The original's owner, where this process may give it (root may; others keep their own). */
async function keepOwner(target: string, info: Stats): Promise<void> {
  try {
    await lchown(target, info.uid, info.gid);
  } catch (err) {
    if (errorCode(err) !== 'EPERM') throw err;
  }
}

/** Owner first: chown clears set-id bits, which the chmod then puts back. */
async function keepOwnerAndMode(target: string, info: Stats): Promise<void> {
  await keepOwner(target, info);
  await chmod(target, info.mode & 0o7777);
}
