/**
 * `certman __complete <what> [--config-dir <dir>]`: values for the shell completion scripts.
 * Called on every Tab press, so it loads neither commander nor the config file nor the store:
 * main.ts answers it before anything else, and this reads one folder.
 *
 *   cert-names   the certificates in the store (renewal/<name>.json), one per line
 */
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultConfigDir } from '../config/defaults.js';
import { isValidName } from '../store/fs/names.js';

export interface CompleteInput {
  args: string[];
  env: Record<string, string | undefined>;
  isRoot: boolean;
  cwd: string;
}

/** The lines to print; unknown requests and unreadable folders give none (a shell shows no error). */
export function completeValues({ args, env, isRoot, cwd }: CompleteInput): string[] {
  const [what, ...rest] = args;
  if (what !== 'cert-names') return [];
  const dir = join(configDir(rest, env, isRoot, cwd), 'renewal');
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  // The same rule as the store's list(): hidden and temporary files are not certificates.
  return entries
    .filter((entry) => entry.endsWith('.json') && !entry.startsWith('.'))
    .map((entry) => entry.slice(0, -'.json'.length))
    .filter(isValidName)
    .sort();
}

/** --config-dir from the line, else CERTMAN_CONFIG_DIR, else the default; `~/` as the shell would. */
function configDir(args: string[], env: Record<string, string | undefined>, isRoot: boolean, cwd: string): string {
  let flag: string | undefined;
  args.forEach((arg, i) => {
    if (arg === '--config-dir' && args[i + 1] !== undefined) flag = args[i + 1];
    else if (arg.startsWith('--config-dir=')) flag = arg.slice('--config-dir='.length);
  });
  const fromEnv = env['CERTMAN_CONFIG_DIR'];
  const given = flag !== undefined && flag !== '' ? flag : fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
  if (given === undefined) return defaultConfigDir(env, isRoot);
  const home = env['HOME'] !== undefined && env['HOME'] !== '' ? env['HOME'] : homedir();
  const expanded = given === '~' ? home : given.startsWith('~/') ? join(home, given.slice(2)) : given;
  return resolve(cwd, expanded);
}
