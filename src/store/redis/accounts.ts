/**
 * ACME accounts in Redis: one hash per ACME directory (keys.ts) holding account.json's JSON and the sealed key,
 * written in one HSET so a reader never sees half an account.
 */
import { seal, unseal, type SealKeys } from '../../crypto/seal.js';
import { checkAccountToSave, parseAccount, serializeAccount } from '../fs/meta.js';
import { sameServer } from '../fs/names.js';
import type { StoredAccount } from '../types.js';
import { runScript, type RedisClient } from './connection.js';
import { WRITE_ACCOUNT } from './scripts.js';
import type { RedisKeys } from './keys.js';

export async function readRedisAccount(client: RedisClient, keys: RedisKeys, key: SealKeys, server: string): Promise<StoredAccount | undefined> {
  const where = keys.account(server);
  const [text, sealed, pending] = await client.hmGet(where, ['account', 'key', PENDING_KEY_FIELD]);
  if (typeof text !== 'string' || typeof sealed !== 'string') return undefined;
  const data = parseAccount(text, where);
  // Two URLs that differ only in characters the server key escapes share a key: not our account then.
  if (!sameServer(data.server, server)) return undefined;
  const pendingKeyPem = typeof pending === 'string' ? unseal(key, pending, keys.accountPendingKeyPlace(server)) : undefined;
  return { ...data, keyPem: unseal(key, sealed, keys.accountKeyPlace(server)), ...(pendingKeyPem === undefined ? {} : { pendingKeyPem }) };
}

/** The hash field of a key rollover's pending key (StoredAccount.pendingKeyPem), sealed like the key. */
export const PENDING_KEY_FIELD = 'pendingKey';

export async function writeRedisAccount(client: RedisClient, keys: RedisKeys, key: SealKeys, account: StoredAccount): Promise<void> {
  checkAccountToSave(account);
  const where = keys.account(account.server);
  const pending = account.pendingKeyPem === undefined ? '' : seal(key[0], account.pendingKeyPem, keys.accountPendingKeyPlace(account.server));
  await runScript(client, WRITE_ACCOUNT, [where], [serializeAccount(account), seal(key[0], account.keyPem, keys.accountKeyPlace(account.server)), pending, PENDING_KEY_FIELD]);
}

/** The servers of every account hash under the prefix (SCAN: no index of accounts is kept). */
export async function redisAccountServers(client: RedisClient, keys: RedisKeys): Promise<string[]> {
  const servers: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = (await client.sendCommand(['SCAN', cursor, 'MATCH', keys.accountPattern, 'TYPE', 'hash', 'COUNT', '500'])) as [string, string[]];
    cursor = next;
    for (const where of batch) {
      const text = await client.hGet(where, 'account');
      if (typeof text !== 'string') continue;
      const { server } = parseAccount(text, where);
      // Only this store's: a key that merely matches the pattern (another prefix) maps back to another key.
      if (keys.account(server) === where) servers.push(server);
    }
  } while (cursor !== '0');
  return servers;
}

export async function readAllRedisAccounts(client: RedisClient, keys: RedisKeys, key: SealKeys): Promise<StoredAccount[]> {
  const accounts = await Promise.all((await redisAccountServers(client, keys)).map((server) => readRedisAccount(client, keys, key, server)));
  return accounts.filter((account): account is StoredAccount => account !== undefined);
}
