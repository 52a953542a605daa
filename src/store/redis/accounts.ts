/**
 * ACME accounts in Redis: one hash per ACME directory (keys.ts) holding account.json's JSON and the sealed key,
 * written in one HSET so a reader never sees half an account.
 */
import { seal, unseal, type SealKey } from '../../crypto/seal.js';
import { checkAccountToSave, parseAccount, serializeAccount } from '../fs/meta.js';
import { sameServer } from '../fs/names.js';
import type { StoredAccount } from '../types.js';
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';

export async function readRedisAccount(client: RedisClient, keys: RedisKeys, key: SealKey, server: string): Promise<StoredAccount | undefined> {
  const where = keys.account(server);
  const [text, sealed] = await client.hmGet(where, ['account', 'key']);
  if (typeof text !== 'string' || typeof sealed !== 'string') return undefined;
  const data = parseAccount(text, where);
  // Two URLs that differ only in characters the server key escapes share a key: not our account then.
  if (!sameServer(data.server, server)) return undefined;
  return { ...data, keyPem: unseal(key, sealed, `${where} key`) };
}

export async function writeRedisAccount(client: RedisClient, keys: RedisKeys, key: SealKey, account: StoredAccount): Promise<void> {
  checkAccountToSave(account);
  const where = keys.account(account.server);
  await client.hSet(where, { account: serializeAccount(account), key: seal(key, account.keyPem, `${where} key`) });
}
