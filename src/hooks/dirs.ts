/**
 * certbot's hook folders: executables in `<config dir>/renewal-hooks/{pre,deploy,post}/`, run by `renew` in name
 * order (certbot runs them for `renew` only, not for `certonly`). They belong to this host's config dir, never to a
 * store. As root they are held to the config file's rule: a folder or file another user can change is refused.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkOnlyRootCanWrite } from '../config/permissions.js';
import { CertmanError, messageOf } from '../errors.js';
import type { Reporter } from '../report.js';
import { runExecutable, type HookOutcome } from './run.js';

/** As root: what a refusal of a hook folder or hook says. */
export const HOOK_RULE = { refuses: 'hooks that other users can change', rule: 'hook folders and hooks must be writable by root only' };

export const HOOK_DIR_KINDS = ['pre', 'deploy', 'post'] as const;
export type HookDirKind = (typeof HOOK_DIR_KINDS)[number];

/** `<configDir>/renewal-hooks/<kind>`, certbot's place for them. */
export function hookDirOf(configDir: string, kind: HookDirKind): string {
  return join(configDir, 'renewal-hooks', kind);
}

/**
 * The executables to run from `dir`, by name (code point order, like certbot's sorted()); none when the folder
 * is missing. Skipped, with a debug line: subfolders, files without an execute bit, editor backups (`name~`).
 * With `strict` (root), a folder or file that someone other than root can change throws: nothing of it runs.
 */
export async function listHookDir(dir: string, options: { strict: boolean; report: Pick<Reporter, 'debug'> }): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CertmanError(`cannot read the hook folder ${dir}: ${messageOf(err)}`, { cause: err });
  }
  if (options.strict) await checkOnlyRootCanWrite(dir, 'hook folder', HOOK_RULE);
  const hooks: string[] = [];
  for (const name of entries.map((e) => e.name).sort(byCodePoint)) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined); // a dangling symlink is no hook
    const skip = name.endsWith('~') ? 'an editor backup' : info === undefined || !info.isFile() ? 'not a file' : (info.mode & 0o111) === 0 ? 'not executable' : undefined;
    if (skip !== undefined) {
      options.report.debug(`hook folder ${dir}: skipped ${name} (${skip})`);
      continue;
    }
    if (options.strict) await checkOnlyRootCanWrite(path, 'hook', HOOK_RULE);
    hooks.push(path);
  }
  return hooks;
}

/**
 * Runs the folder's executables in name order with `env`; a folder refused or unreadable is one failed run.
 * `ran` lists the paths run: like certbot, a --pre/--deploy/--post-hook naming one of them does not run it again.
 */
export async function runHookFolder(dir: string, env: Record<string, string>, options: { strict: boolean; report: Pick<Reporter, 'debug'> }): Promise<{ outcomes: HookOutcome[]; ran: string[] }> {
  let ran: string[];
  try {
    ran = await listHookDir(dir, options);
  } catch (err) {
    return { outcomes: [{ command: dir, exitCode: null, signal: null, output: messageOf(err), durationMs: 0, ok: false }], ran: [] };
  }
  const outcomes: HookOutcome[] = [];
  for (const path of ran) outcomes.push(await runExecutable(path, env));
  return { outcomes, ran };
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
