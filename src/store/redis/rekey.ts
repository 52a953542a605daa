/**
 * `certman store rotate-key`: every sealed blob of a Redis store (each version's private key, each account key,
 * the key-check marker) sealed again under the first store key. Each blob is replaced by a compare-and-set, so a
 * save, an account update or a delete that comes first is never overwritten: the blob is read again (a version
 * saved meanwhile is already sealed under the first key, since every node then has it first in its key list).
 * Nothing stops while it runs: every node opens blobs under either key until the old one is removed.
 */
import { seal, sealedKeyId, unseal, type SealKeys } from '../../crypto/seal.js';
import { CertmanError } from '../../errors.js';
import { PENDING_KEY_FIELD, redisAccountServers } from './accounts.js';
import { runScript, type RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';
import { COMPARE_AND_SET, HASH_FIELD_COMPARE_AND_SET } from './scripts.js';

/** What a rotation did, per kind of blob. */
export interface RekeyCounts {
  /** Sealed again under the first key. */
  resealed: number;
  /** Already under the first key (sealed since, or by an earlier rotation). */
  current: number;
}

export interface RekeyReport {
  /** The id of the key everything is now sealed under. */
  keyId: string;
  lineages: number;
  privateKeys: RekeyCounts;
  accounts: RekeyCounts;
  keyCheck: RekeyCounts;
  /** Blobs sealed under a key not given (left as they are): where each is. */
  unopened: string[];
}

/** One sealed blob: how to read it, and how to replace it if it still holds what was read. */
interface SealedCell {
  where: string;
  read(): Promise<string | undefined>;
  replace(expected: string, next: string): Promise<boolean>;
}

/** Far more than any real contention needs. */
const MAX_ATTEMPTS = 100;

type Outcome = 'resealed' | 'current' | 'gone' | 'unopened';

/** What became of one blob: sealed again, already under the first key, deleted meanwhile, or under a key not given. */
async function reseal(cell: SealedCell, keys: SealKeys): Promise<Outcome> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const blob = await cell.read();
    if (blob === undefined) return 'gone';
    if (sealedKeyId(blob) === keys[0].id) return 'current';
    let plaintext: string;
    try {
      plaintext = unseal(keys, blob, cell.where);
    } catch (err) {
      if (err instanceof CertmanError) return 'unopened';
      throw err;
    }
    if (await cell.replace(blob, seal(keys[0], plaintext, cell.where))) return 'resealed';
  }
  throw new CertmanError(`gave up sealing ${cell.where} again: other runs kept changing it`, { hint: 'run certman store rotate-key again' });
}

function hashField(client: RedisClient, key: string, field: string, where: string): SealedCell {
  return {
    where,
    read: async () => (await client.hGet(key, field)) ?? undefined,
    replace: async (expected, next) => (await runScript(client, HASH_FIELD_COMPARE_AND_SET, [key], [field, expected, next])) === 1,
  };
}

export async function rekeyRedisStore(client: RedisClient, keys: RedisKeys, sealKeys: SealKeys): Promise<RekeyReport> {
  const report: RekeyReport = {
    keyId: sealKeys[0].id,
    lineages: 0,
    privateKeys: { resealed: 0, current: 0 },
    accounts: { resealed: 0, current: 0 },
    keyCheck: { resealed: 0, current: 0 },
    unopened: [],
  };
  const visit = async (counts: RekeyCounts, cell: SealedCell): Promise<void> => {
    const outcome = await reseal(cell, sealKeys);
    if (outcome === 'unopened') report.unopened.push(cell.where);
    else if (outcome !== 'gone') counts[outcome] += 1;
  };
  // First: from now on a node given only the old key is refused when it opens the store, before it meets a blob
  // sealed under the new one.
  const marker: SealedCell = {
    where: keys.keyCheck,
    read: async () => (await client.get(keys.keyCheck)) ?? undefined,
    replace: async (expected, next) => (await runScript(client, COMPARE_AND_SET, [keys.keyCheck], [expected, next])) === 1,
  };
  await visit(report.keyCheck, marker);
  for (const name of (await client.sMembers(keys.names)).sort()) {
    const filesKey = keys.files(name);
    const fields = (await client.hKeys(filesKey)).filter((field) => /^[1-9][0-9]*:privkey$/.test(field));
    for (const field of fields) await visit(report.privateKeys, hashField(client, filesKey, field, keys.privkeyPlace(name)));
    report.lineages += 1;
  }
  for (const server of await redisAccountServers(client, keys)) {
    await visit(report.accounts, hashField(client, keys.account(server), 'key', keys.accountKeyPlace(server)));
    // A key rollover's pending key, when one is under way (a missing field is passed over).
    await visit(report.accounts, hashField(client, keys.account(server), PENDING_KEY_FIELD, keys.accountPendingKeyPlace(server)));
  }
  return report;
}
