/**
 * StrictModes for root, as sshd does it: when certman runs as root it reads nothing that another user can
 * change. Whoever can write the config file or the config dir chooses the hook commands root runs (renewal/
 * holds them), the CA, or the account key.
 */
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CertmanError, UsageError } from '../errors.js';

/**
 * Folders in the config dir checked like the config dir itself: renewal/ holds the hooks renew runs, and
 * .pending/ journals whose metadata (hooks included) the store writes back to renewal/ after a crash.
 * Their files are checked by the store as it reads them (store/fs/trust.ts).
 */
const TRUSTED_SUBDIRS = ['renewal', '.pending'];

/** What a refusal says certman refuses, and the rule its hint states; callers other than the config pass their own. */
export interface TrustRule {
  refuses: string;
  rule: string;
}

const CONFIG_RULE: TrustRule = { refuses: 'config that other users can change', rule: 'config dir and config file must be writable by root only' };

const GROUP_OR_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

/** The config dir, its renewal/ and .pending/ folders (see checkOnlyRootCanWrite). */
export async function checkConfigDirForRoot(configDir: string): Promise<void> {
  await checkTrustedFolders(configDir, 'config dir');
}

/** A store folder set apart from the config dir: the same rule, since it holds the same metadata. */
export async function checkStoreForRoot(storeDir: string): Promise<void> {
  await checkTrustedFolders(storeDir, 'store');
}

async function checkTrustedFolders(dir: string, what: string): Promise<void> {
  await checkOnlyRootCanWrite(dir, what);
  for (const sub of TRUSTED_SUBDIRS) await checkOnlyRootCanWrite(join(dir, sub), `${sub}/ folder`);
}

/**
 * Throws a UsageError (exit 2) when `path` or a folder above it can be changed by a user other than root:
 * owned by another user, or writable by its group or others. Folders above it with the sticky bit (like
 * /tmp) pass when root owns them, since others cannot rename or delete what they do not own there; `path`
 * itself never passes that way. Both the path as given and its real path (symlinks resolved) are walked
 * up to /. Parts that do not exist yet are skipped (certman creates them, owned by root, mode 0755/0700).
 */
export async function checkOnlyRootCanWrite(path: string, what: string, rule: TrustRule = CONFIG_RULE): Promise<void> {
  const given = resolve(path);
  const checked = new Set<string>();
  for (const start of [given, await realPathSoFar(given)]) {
    for (let current = start, isTarget = true; ; isTarget = false) {
      if (!checked.has(current)) {
        checked.add(current);
        const info = await statIfExists(current);
        const problem = info === undefined ? undefined : othersCanChange(info, { isTarget });
        if (problem !== undefined) throw refusal(`${what} ${given}`, given, current, problem, rule);
      }
      const parent = dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
}

/**
 * Why a user other than `owner` (default root) can change this file or folder, or undefined when only it
 * can: another owner, or write access for group or others. `isTarget: false` (a folder above the path
 * checked) lets a folder with the sticky bit pass, like /tmp.
 */
export function othersCanChange(st: Stats, { owner = 0, isTarget = true }: { owner?: number; isTarget?: boolean } = {}): string | undefined {
  if (st.uid !== owner) return `is owned by uid ${st.uid}, not ${owner === 0 ? 'root' : `uid ${owner}`}`;
  const writable = st.mode & GROUP_OR_OTHER_WRITE;
  if (writable === 0) return undefined;
  if (!isTarget && st.isDirectory() && (st.mode & STICKY) !== 0) return undefined;
  const who = writable === GROUP_OR_OTHER_WRITE ? 'its group and others' : writable & 0o020 ? 'its group' : 'others';
  return `is writable by ${who} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
}

function refusal(subject: string, given: string, culprit: string, problem: string, rule: TrustRule): UsageError {
  const where = culprit === given ? subject : `${subject}: ${culprit}`;
  return new UsageError(`${where} ${problem}; as root, certman refuses ${rule.refuses}`, `${fixFor(problem, culprit)} (${rule.rule})`);
}

/** The command that ends `problem` (from othersCanChange) for `path`. */
export function fixFor(problem: string, path: string, owner = 0): string {
  return problem.startsWith('is owned') ? `chown ${owner === 0 ? 'root' : owner} ${path}` : `chmod go-w ${path}`;
}

/** The real path of the longest existing prefix of `path`, with the rest appended. */
async function realPathSoFar(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    if (!isMissing(err)) throw new CertmanError(`cannot check ${path}: ${(err as Error).message}`, { cause: err });
    const parent = dirname(path);
    return parent === path ? path : join(await realPathSoFar(parent), basename(path));
  }
}

async function statIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw new CertmanError(`cannot check ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
