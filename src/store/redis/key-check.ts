/**
 * Makes sure a store is only ever used with the key it was written with: the first writable open leaves a sealed
 * marker (<prefix>key-check), and every open unseals it first, so a wrong key fails before anything is read or
 * written instead of sealing new private keys under a key the other nodes do not have.
 */
import { seal, unseal, type SealKeys } from '../../crypto/seal.js';
import { CertmanError, messageOf } from '../../errors.js';
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';

const MARKER = 'certman store key check';

export async function checkStoreKey(client: RedisClient, keys: RedisKeys, key: SealKeys, readOnly: boolean): Promise<void> {
  const where = keys.keyCheck;
  let sealed = await client.get(where);
  if (sealed === null && !readOnly) {
    // NX: of two first opens with different keys, one wins and the other is refused below.
    await client.set(where, seal(key[0], MARKER, where), { condition: 'NX' });
    sealed = await client.get(where);
  }
  if (sealed === null) return; // an empty store read without writing: nothing sealed to read either
  let text: string;
  try {
    text = unseal(key, sealed, where);
  } catch (err) {
    throw new CertmanError(`the store key does not open this store (prefix ${keys.prefix}): ${messageOf(err)}`, {
      cause: err,
      hint: 'give certman the store key this store was written with; nothing was read or written',
    });
  }
  if (text !== MARKER) throw new CertmanError(`${where} is not certman's key check`, { hint: 'remove it; the next writable open writes it again' });
}
