/**
 * import-certbot carries certbot's renewal-hooks/{pre,deploy,post}/ executables into certman's config dir, where
 * `renew` runs them the same way. A file certman already has under that name is left as it is (and reported).
 * As root the copy would become a root-owned hook that renew trusts, so certbot's file is held to the same rule
 * first: its folder and the file itself only root can change, and no symlink (it could lead to a user's file).
 */
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import path from 'node:path';
import { checkOnlyRootCanWrite, othersCanChange } from '../config/permissions.js';
import { HOOK_DIR_KINDS, HOOK_RULE, hookDirOf, listHookDir } from '../hooks/dirs.js';
import { CertmanError, messageOf } from '../errors.js';
import type { Reporter } from '../report.js';
import { createFileAtomic, errorCode, makeDirs } from '../store/fs/atomic.js';

export interface HookDirsReport {
  /** certbot's file → certman's (copied, or to be copied in a dry run). */
  copied: { from: string; to: string }[];
  /** certman's files that exist already: certbot's of the same name is not copied. */
  existing: string[];
  /** Files (or, as root, whole folders) that could not be copied, with why. */
  failed: { from: string; reason: string }[];
}

export async function carryHookDirs(certbotDir: string, configDir: string, options: { dryRun: boolean; report: Reporter }): Promise<HookDirsReport> {
  const result: HookDirsReport = { copied: [], existing: [], failed: [] };
  const strict = process.getuid?.() === 0;
  for (const kind of HOOK_DIR_KINDS) {
    const from = path.join(certbotDir, 'renewal-hooks', kind);
    let hooks: string[];
    try {
      hooks = await listHookDir(from, { strict: false, report: options.report });
      if (strict && hooks.length > 0) await checkOnlyRootCanWrite(from, "certbot's hook folder", HOOK_RULE);
    } catch (err) {
      result.failed.push({ from, reason: messageOf(err) });
      continue;
    }
    const into = hookDirOf(configDir, kind);
    for (const hook of hooks) {
      const to = path.join(into, path.basename(hook));
      if (await lstat(to).then(() => true, () => false)) {
        result.existing.push(to);
        continue;
      }
      try {
        const { data, mode } = await readHook(hook, strict);
        if (!options.dryRun) {
          await makeDirs(into, 0o755);
          await createFileAtomic(to, data, mode);
        }
        result.copied.push({ from: hook, to });
      } catch (err) {
        result.failed.push({ from: hook, reason: messageOf(err) });
      }
    }
  }
  return result;
}

/**
 * Content and mode (execute bits kept; nobody but the importing user may change the copy) read from one open
 * handle, so what is checked is what is copied. As root a symlink is not opened and a file another user can
 * change is refused.
 */
async function readHook(file: string, strict: boolean): Promise<{ data: Buffer; mode: number }> {
  const handle = await open(file, constants.O_RDONLY | (strict ? constants.O_NOFOLLOW : 0)).catch((err: unknown) => {
    if (strict && errorCode(err) === 'ELOOP') throw new CertmanError('is a symlink; as root, certman copies only hooks that are plain files root alone can change');
    throw err;
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new CertmanError('is not a file');
    const problem = strict ? othersCanChange(info) : undefined;
    if (problem !== undefined) throw new CertmanError(`${problem}; as root, certman copies only hooks that root alone can change`);
    return { data: await handle.readFile(), mode: info.mode & 0o755 };
  } finally {
    await handle.close();
  }
}
