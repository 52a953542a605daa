/**
 * `certman __complete <what> [--config-dir <dir>] [--store <dir|url>]`: values for the shell completion
 * scripts. Called on every Tab press, so it loads neither commander nor the config file: main.ts answers it
 * before anything else, and this opens the store read-only (nothing is created or repaired) and asks it.
 *
 *   cert-names   the certificates in the store (its names(): no metadata is read), one per line
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { defaultConfigDir } from '../config/defaults.js';
import { resolveStoreLocation } from '../config/store-location.js';
import { openStore } from '../store/index.js';

export interface CompleteInput {
  args: string[];
  env: Record<string, string | undefined>;
  isRoot: boolean;
  cwd: string;
}

/** The lines to print; unknown requests, unusable settings and unreadable stores give none (a shell shows no error). */
export async function completeValues({ args, env, isRoot, cwd }: CompleteInput): Promise<string[]> {
  const [what, ...rest] = args;
  if (what !== 'cert-names') return [];
  try {
    const store = await openStore(storeLocation(rest, env, isRoot, cwd), { readOnly: true });
    return await store.names();
  } catch {
    return [];
  }
}

/**
 * The store as the command being completed would use it: --store, else CERTMAN_STORE, else the config dir
 * (--config-dir, CERTMAN_CONFIG_DIR, the default). A `store` in the config file is not seen: reading the
 * config costs more than a Tab press may.
 */
function storeLocation(args: string[], env: Record<string, string | undefined>, isRoot: boolean, cwd: string): string {
  const given = (flag: string, envName: string): string | undefined => {
    const value = flagValue(args, flag) ?? env[envName];
    return value === undefined || value === '' ? undefined : expandHome(value, env);
  };
  const store = given('--store', 'CERTMAN_STORE');
  if (store !== undefined) return resolveStoreLocation(store, cwd, '--store');
  return resolve(cwd, given('--config-dir', 'CERTMAN_CONFIG_DIR') ?? defaultConfigDir(env, isRoot));
}

/** The last `--flag value` or `--flag=value` on the line being completed. */
function flagValue(args: string[], flag: string): string | undefined {
  let value: string | undefined;
  args.forEach((arg, i) => {
    if (arg === flag && args[i + 1] !== undefined) value = args[i + 1];
    else if (arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
  });
  return value === '' ? undefined : value;
}

/** `~` and `~/…` as the shell would have expanded them had the word been complete. */
function expandHome(value: string, env: Record<string, string | undefined>): string {
  const home = env['HOME'] !== undefined && env['HOME'] !== '' ? env['HOME'] : homedir();
  return value === '~' ? home : value.startsWith('~/') ? resolve(home, value.slice(2)) : value;
}
