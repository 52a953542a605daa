/**
 * The store key of a Redis store: `--store-key-file` wins, then CERTMAN_STORE_KEY (the key itself, for secret
 * managers that set environment variables), then CERTMAN_STORE_KEY_FILE or config `storeKeyFile`.
 */
import { readFile, stat } from 'node:fs/promises';

import type { Settings } from '../config/types.js';
import { parseStoreKeys } from '../crypto/store-key.js';
import { UsageError } from '../errors.js';

export const STORE_KEY_ENV = 'CERTMAN_STORE_KEY';

/** The keys to open the store with, first the sealing one; a UsageError (exit 2) when none is given or one is bad. */
export async function readStoreKeys(settings: Pick<Settings, 'storeKeyFile'>, fileFromFlag: boolean, env: NodeJS.ProcessEnv, isRoot: boolean): Promise<Buffer[]> {
  const fromEnv = env[STORE_KEY_ENV];
  if (!fileFromFlag && fromEnv !== undefined && fromEnv !== '') return parseStoreKeys(Buffer.from(fromEnv), STORE_KEY_ENV);
  const file = settings.storeKeyFile;
  if (file === undefined) {
    throw new UsageError('a Redis store needs its store key: private keys are sealed with it before they reach Redis', `set ${STORE_KEY_ENV}, or give --store-key-file <file> (make a key with: openssl rand -hex 32)`);
  }
  let data: Buffer;
  try {
    // Like ssh with private keys: a key others can read is no secret any more.
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) throw new UsageError(`the store key file ${file} can be read by other users`, `chmod 600 ${file}`);
    if (isRoot) await (await import('../config/permissions.js')).checkOnlyRootCanWrite(file, 'store key file');
    data = await readFile(file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read the store key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseStoreKeys(data, `store key file ${file}`);
}
