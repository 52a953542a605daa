/** State documents in Redis: one JSON string per key (keys as in the filesystem store, [a-z0-9-]+). */
import { CertmanError, messageOf } from '../../errors.js';
import { CorruptFileError } from '../fs/meta.js';
import { validateStateKey } from '../fs/state.js';
import { compareAndSet } from './cas.js';
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';

function stateKey(keys: RedisKeys, key: string): string {
  return keys.state(validateStateKey(key));
}

function parseState<T>(text: string | undefined, where: string): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new CorruptFileError(where, `not valid JSON (${messageOf(err)})`);
  }
}

export async function getRedisState<T>(client: RedisClient, keys: RedisKeys, key: string): Promise<T | undefined> {
  const where = stateKey(keys, key);
  return parseState<T>((await client.get(where)) ?? undefined, where);
}

/** See StateStore.updateState: a compare-and-set; a damaged document is handed to `update` as none. */
export function updateRedisState<T>(client: RedisClient, keys: RedisKeys, key: string, update: (current: T | undefined) => T): Promise<T> {
  const where = stateKey(keys, key);
  return compareAndSet(client, where, (text) => {
    let current: T | undefined;
    try {
      current = parseState<T>(text, where);
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
    }
    const next = update(current);
    const json = JSON.stringify(next) as string | undefined;
    if (json === undefined) throw new CertmanError(`cannot store state "${key}": the value is not representable as JSON`);
    return { write: json, result: next };
  });
}
