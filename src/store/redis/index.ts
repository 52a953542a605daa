/** The Redis store (fleet mode). See redis-store.ts. */
import { sealKeys } from '../../crypto/seal.js';
import { CertmanError, UsageError, messageOf } from '../../errors.js';
import { connectRedis, type RedisConnectOptions } from './connection.js';
import { checkStoreKey } from './key-check.js';
import { DEFAULT_PREFIX, prefixProblem, RedisKeys } from './keys.js';
import { RedisStore } from './redis-store.js';

export { RedisStore } from './redis-store.js';

export interface RedisStoreOptions extends RedisConnectOptions {
  /**
   * The 256-bit store key private keys are sealed with; required. Several: the first seals, any of them opens
   * what was sealed under it (a key rotation in progress).
   */
  key: Buffer | readonly Buffer[] | undefined;
  /** Prefix of every key (default `certman:`), so several stores can share one Redis. */
  prefix?: string;
  /** Only reading: not even the key check is written. */
  readOnly?: boolean;
}

/** Connects to the Redis at `url` (redis://, rediss:// or redis+sentinel://). Refuses to open without a store key. */
export async function openRedisStore(url: string, options: RedisStoreOptions): Promise<RedisStore> {
  const secrets = options.key === undefined ? [] : Buffer.isBuffer(options.key) ? [options.key] : options.key;
  if (secrets.length === 0) {
    throw new UsageError('a Redis store needs a store key: private keys are sealed with it before they reach Redis', 'give the 256-bit store key (32 bytes) the store was written with');
  }
  const key = sealKeys(secrets);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const problem = prefixProblem(prefix);
  if (problem !== undefined) throw new UsageError(`invalid store prefix ${JSON.stringify(prefix)}: ${problem}`);
  const keys = new RedisKeys(prefix);
  const client = await connectRedis(url, options);
  try {
    await checkStoreKey(client, keys, key, options.readOnly === true);
  } catch (err) {
    await client.destroy();
    if (err instanceof CertmanError) throw err;
    // Redis refused the first command: most likely NOPERM, an ACL user without these keys.
    const why = messageOf(err);
    throw new CertmanError(`cannot use the Redis store at ${client.location}: ${why}`, {
      cause: err,
      hint: why.startsWith('NOPERM') ? `the Redis user needs to read and write the keys under ${prefix}` : 'check the Redis server named here',
    });
  }
  return new RedisStore(client, keys, key);
}
