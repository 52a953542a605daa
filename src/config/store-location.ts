/**
 * The `store` setting: where certificates, accounts, leases and tokens are kept. A folder (a path, or a
 * `file:` URL of one), or a Redis URL (redis://, rediss://, redis+sentinel://) for a fleet. Light on purpose:
 * shell completion resolves it on every Tab.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { prefixProblem } from '../store/redis/keys.js';
import type { Settings } from './types.js';

/** Schemes of Redis stores, opened by src/store/redis/. */
const NETWORK_SCHEMES = new Set(['redis', 'rediss', 'redis+sentinel']);

/** Whether the store is a Redis URL (as opposed to a folder): it needs a store key and may be shared. */
export function isNetworkStore(location: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)?.[1]?.toLowerCase();
  return scheme !== undefined && NETWORK_SCHEMES.has(scheme);
}

/** The hint every refusal gives. */
const USE_A_FOLDER = 'use a folder, a file: URL, or redis://, rediss:// or redis+sentinel:// (the default is the config dir)';

/**
 * Why `value` cannot be a store, or undefined when it can. Never quotes a URL: it may carry a password.
 */
export function storeLocationProblem(value: string): string | undefined {
  if (value.trim() === '') return 'the store must not be empty';
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme !== undefined && NETWORK_SCHEMES.has(scheme)) return isNetworkStore(value) && value.length > `${scheme}://`.length ? undefined : `a ${scheme} store is a URL like ${scheme}://host:port`;
  if (scheme === 'file') return fileUrlPath(value) === undefined ? 'the store must be a file: URL of a local folder, like file:///srv/certman' : undefined;
  // "c:x" is a relative path with a colon; only "scheme://" reads as a URL.
  if (scheme !== undefined && value.startsWith(`${value.slice(0, scheme.length)}://`)) return `"${scheme}:" stores are not supported`;
  return undefined;
}

/**
 * The store `value` names: a Redis URL as given, a folder absolute: relative paths against `base` (the current folder for flags
 * and environment, the config file's folder for the file). Throws a UsageError (exit 2) prefixed with
 * `source` when it names no usable store.
 */
export function resolveStoreLocation(value: string, base: string, source: string): string {
  const problem = storeLocationProblem(value);
  if (problem !== undefined) throw new UsageError(`${source}: ${problem}`, USE_A_FOLDER);
  if (isNetworkStore(value)) return value;
  return fileUrlPath(value) ?? resolve(base, value);
}

/** The path of a `file:` URL naming this host, or undefined (not such a URL, or not parseable). */
function fileUrlPath(value: string): string | undefined {
  if (!/^file:/i.test(value)) return undefined;
  try {
    const url = new URL(value);
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}

/**
 * Whether the store is this host's config dir. Only then are the hooks stored with certificates this host's own
 * config; a store elsewhere may be shared, and whoever can write it must not choose the commands hosts run.
 */
export function storeIsConfigDir(settings: Pick<Settings, 'store' | 'configDir'>): boolean {
  return !isNetworkStore(settings.store) && resolve(settings.store) === resolve(settings.configDir);
}

/** A Redis store's key prefix, checked (a UsageError otherwise). */
export function checkStorePrefix(value: string): string {
  const problem = prefixProblem(value);
  if (problem !== undefined) throw new UsageError(problem);
  return value;
}
