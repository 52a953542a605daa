/**
 * certbot's --cert-path, --key-path, --fullchain-path and --chain-path: after a version is saved (and deployed to
 * live/), copies of its files where the operator wants them. Each copy is a temp file in the target's folder
 * renamed over the target: a symlink at the target is replaced, never followed, and a reader sees the old file or
 * the new one. The folder must exist. As root a folder another user can change is refused (checked before the
 * order): that user could swap it for a symlink and aim root's write anywhere.
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { checkOnlyRootCanWrite } from '../config/permissions.js';
import { CertmanError, messageOf, UsageError } from '../errors.js';
import type { CertificateFiles, CopyPaths } from '../lineage/types.js';
import { writeFileAtomic } from '../store/fs/atomic.js';

/** The flag that names each target (--csr uses cert, chain and fullchain). */
export const PATH_FLAGS: Record<keyof CopyPaths, string> = { cert: '--cert-path', key: '--key-path', fullchain: '--fullchain-path', chain: '--chain-path' };

const COPY_RULE = { refuses: 'to write into a folder that other users can change', rule: 'the folder of a copy must be writable by root only' };

/** The given paths made absolute (certbot does the same), or undefined when none was given. */
export function copyPathsFrom(given: Partial<Record<keyof CopyPaths, string | undefined>>): CopyPaths | undefined {
  const paths: CopyPaths = {};
  for (const kind of Object.keys(PATH_FLAGS) as (keyof CopyPaths)[]) {
    const path = given[kind];
    if (path !== undefined) paths[kind] = resolve(path);
  }
  return Object.keys(paths).length === 0 ? undefined : paths;
}

/**
 * Before ordering (exit 2 otherwise): each target's folder exists and, as root, only root can change it; no two
 * flags name the same file, and none lies inside `keepOut` (the config dir and the store, whose files and links
 * certman manages itself: a copy there would be renamed over them).
 */
export async function checkCopyPaths(paths: CopyPaths, keepOut: readonly string[]): Promise<void> {
  await checkFolders(paths);
  const seen = new Map<string, keyof CopyPaths>();
  const kept = await Promise.all(keepOut.map(async (dir) => realpath(dir).catch(() => resolve(dir))));
  for (const [kind, path] of entries(paths)) {
    const real = join(await realpath(dirname(path)), basename(path));
    const other = seen.get(real);
    if (other !== undefined) throw new UsageError(`${PATH_FLAGS[other]} and ${PATH_FLAGS[kind]} name the same file ${path}`, 'give each its own file');
    seen.set(real, kind);
    const inside = kept.find((dir) => real === dir || real.startsWith(dir + sep));
    if (inside !== undefined) throw new UsageError(`${PATH_FLAGS[kind]} ${path} lies in ${inside}, which certman manages itself`, 'choose a file outside the config dir and the store');
  }
}

/** Each target's folder exists and (as root) only root can change it. */
async function checkFolders(paths: CopyPaths): Promise<void> {
  const strict = process.getuid?.() === 0;
  for (const [kind, path] of entries(paths)) {
    const folder = dirname(path);
    const info = await stat(folder).catch(() => undefined);
    if (info?.isDirectory() !== true) throw new UsageError(`${PATH_FLAGS[kind]} ${path}: the folder ${folder} does not exist`, 'create it first; certman creates no folders for copies');
    if (strict) await checkOnlyRootCanWrite(folder, `${PATH_FLAGS[kind]} folder`, COPY_RULE);
  }
}

/** Writes the copies (the key 0600, the rest 0644); the paths written, in order. */
export async function copyToPaths(files: CertificateFiles, paths: CopyPaths): Promise<string[]> {
  await checkFolders(paths); // again: the folders may have changed since the order began
  const written: string[] = [];
  for (const [kind, path] of entries(paths)) {
    const [data, mode] = kind === 'key' ? [files.privkey, 0o600] : [files[kind], 0o644];
    try {
      await writeFileAtomic(path, data, mode);
    } catch (err) {
      throw new CertmanError(`could not copy to ${PATH_FLAGS[kind]} ${path}: ${messageOf(err)}`, { cause: err });
    }
    written.push(path);
  }
  return written;
}

function entries(paths: Partial<CopyPaths>): [keyof CopyPaths, string][] {
  return (Object.keys(PATH_FLAGS) as (keyof CopyPaths)[]).flatMap((kind) => (paths[kind] === undefined ? [] : [[kind, paths[kind]] as [keyof CopyPaths, string]]));
}
