/**
 * The secrets and options of a Redis store. Its store key: `--store-key-file` wins, then CERTMAN_STORE_KEY (the
 * key itself, for secret managers that set environment variables), then CERTMAN_STORE_KEY_FILE or config
 * `storeKeyFile`. The sentinels' own password: CERTMAN_STORE_SENTINEL_PASSWORD, then a file (never a flag: a
 * command line is visible to every user).
 */
import { readFile, stat } from 'node:fs/promises';

import type { Settings } from '../config/types.js';
import { parseStoreKeys } from '../crypto/store-key.js';
import { UsageError } from '../errors.js';
import type { OpenStoreOptions } from '../store/index.js';

export const STORE_KEY_ENV = 'CERTMAN_STORE_KEY';
const SENTINEL_PASSWORD_ENV = 'CERTMAN_STORE_SENTINEL_PASSWORD';

type RedisSettings = Pick<Settings, 'storeKeyFile' | 'storePrefix' | 'storeCaFile' | 'storeSentinelPasswordFile'>;

/** What openStore needs for the Redis store of `settings`. */
export async function redisOptions(settings: RedisSettings, keyFileFromFlag: boolean, env: NodeJS.ProcessEnv, isRoot: boolean): Promise<OpenStoreOptions> {
  const [redisKey] = await readStoreKeys(settings, keyFileFromFlag, env, isRoot);
  const sentinelPassword = await readSentinelPassword(settings, env, isRoot);
  return {
    ...(redisKey === undefined ? {} : { redisKey }),
    ...(settings.storePrefix === undefined ? {} : { redisPrefix: settings.storePrefix }),
    ...(settings.storeCaFile === undefined ? {} : { redisCaFile: settings.storeCaFile }),
    ...(sentinelPassword === undefined ? {} : { redisSentinelPassword: sentinelPassword }),
  };
}

async function readSentinelPassword(settings: RedisSettings, env: NodeJS.ProcessEnv, isRoot: boolean): Promise<string | undefined> {
  const fromEnv = env[SENTINEL_PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const file = settings.storeSentinelPasswordFile;
  if (file === undefined) return undefined;
  const text = (await readSecretFile(file, 'sentinel password file', isRoot)).toString('utf8').trim();
  if (text === '') throw new UsageError(`the sentinel password file ${file} is empty`);
  return text;
}

/** The keys to open the store with, first the sealing one; a UsageError (exit 2) when none is given or one is bad. */
async function readStoreKeys(settings: Pick<Settings, 'storeKeyFile'>, fileFromFlag: boolean, env: NodeJS.ProcessEnv, isRoot: boolean): Promise<Buffer[]> {
  const fromEnv = env[STORE_KEY_ENV];
  if (!fileFromFlag && fromEnv !== undefined && fromEnv !== '') return parseStoreKeys(Buffer.from(fromEnv), STORE_KEY_ENV);
  const file = settings.storeKeyFile;
  if (file === undefined) {
    throw new UsageError('a Redis store needs its store key: private keys are sealed with it before they reach Redis', `set ${STORE_KEY_ENV}, or give --store-key-file <file> (make a key with: openssl rand -hex 32)`);
  }
  const data = await readSecretFile(file, 'store key file', isRoot);
  return parseStoreKeys(data, `store key file ${file}`);
}

/** A file holding a secret: refused (exit 2) when other users can read it, or as root change it. */
async function readSecretFile(file: string, what: string, isRoot: boolean): Promise<Buffer> {
  try {
    // Like ssh with private keys: a secret others can read is no secret any more.
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) throw new UsageError(`the ${what} ${file} can be read by other users`, `chmod 600 ${file}`);
    if (isRoot) await (await import('../config/permissions.js')).checkOnlyRootCanWrite(file, what);
    return await readFile(file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
