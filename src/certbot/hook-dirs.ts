/**
 * import-certbot carries certbot's renewal-hooks/{pre,deploy,post}/ executables into certman's config dir, where
 * `renew` runs them the same way. A file certman already has under that name is left as it is (and reported).
 */
import { lstat, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { HOOK_DIR_KINDS, hookDirOf, listHookDir } from '../hooks/dirs.js';
import { messageOf } from '../errors.js';
import type { Reporter } from '../report.js';
import { createFileAtomic } from '../store/fs/atomic.js';

export interface HookDirsReport {
  /** certbot's file → certman's (copied, or to be copied in a dry run). */
  copied: { from: string; to: string }[];
  /** certman's files that exist already: certbot's of the same name is not copied. */
  existing: string[];
  /** Files that could not be copied, with why. */
  failed: { from: string; reason: string }[];
}

export async function carryHookDirs(certbotDir: string, configDir: string, options: { dryRun: boolean; report: Reporter }): Promise<HookDirsReport> {
  const result: HookDirsReport = { copied: [], existing: [], failed: [] };
  for (const kind of HOOK_DIR_KINDS) {
    const hooks = await listHookDir(path.join(certbotDir, 'renewal-hooks', kind), { strict: false, report: options.report });
    const into = hookDirOf(configDir, kind);
    for (const from of hooks) {
      const to = path.join(into, path.basename(from));
      if (await lstat(to).then(() => true, () => false)) {
        result.existing.push(to);
        continue;
      }
      if (options.dryRun) {
        result.copied.push({ from, to });
        continue;
      }
      try {
        await mkdir(into, { recursive: true, mode: 0o755 });
        // The execute bits are kept; nobody but the owner (the importing user, root) may change the copy.
        const mode = (await stat(from)).mode & 0o755;
        await createFileAtomic(to, await readFile(from), mode);
        result.copied.push({ from, to });
      } catch (err) {
        result.failed.push({ from, reason: messageOf(err) });
      }
    }
  }
  return result;
}
