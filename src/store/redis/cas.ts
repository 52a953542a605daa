/**
 * Read-modify-write of one Redis string without losing a concurrent update: read it, compute the new text, and
 * write it with a compare-and-set script that refuses when another run changed it meanwhile (then read again).
 * No lock is held, so a run that dies in between blocks nobody.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { CertmanError } from '../../errors.js';
import { runScript, type RedisClient } from './connection.js';
import { COMPARE_AND_SET } from './scripts.js';

/** Far more than any real contention needs; only a key rewritten in a tight loop by others gets there. */
const MAX_ATTEMPTS = 1000;

/** What one attempt decided: the text to store (none: leave the key as it is) and what to return. */
export interface CasStep<T> {
  write?: string;
  result: T;
}

export async function compareAndSet<T>(client: RedisClient, key: string, step: (current: string | undefined) => CasStep<T>): Promise<T> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const current = (await client.get(key)) ?? undefined;
    const { write, result } = step(current);
    if (write === undefined) return result;
    if ((await runScript(client, COMPARE_AND_SET, [key], [current ?? '', write])) === 1) return result;
    // Another run wrote first: back off a little, so a crowd of writers does not retry in lockstep.
    await sleep(Math.random() * Math.min(50, attempt * 2));
  }
  throw new CertmanError(`gave up updating ${key}: other runs kept changing it`, { hint: 'try again' });
}
