/**
 * Pending HTTP-01 tokens in Redis: one key per token that Redis itself expires (PX), so every node answering
 * challenges sees a token as soon as it is published and never after its lifetime. Entries are checked like the
 * filesystem store's (src/store/token-entry.ts).
 */
import { isSafeToken } from '../../challenge/token.js';
import { encodeTokenEntry, newTokenEntry, parseTokenEntry } from '../token-entry.js';
import type { PendingToken, TokenStore } from '../types.js';
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';

export class RedisTokenStore implements TokenStore {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async put(token: string, keyAuthorization: string, domain: string, ttlMs: number): Promise<void> {
    const entry = newTokenEntry(token, keyAuthorization, domain, ttlMs, Date.now());
    await this.client.set(this.keys.token(token), encodeTokenEntry(entry), { expiration: { type: 'PX', value: Math.ceil(ttlMs) } });
  }

  async get(token: string): Promise<PendingToken | undefined> {
    if (!isSafeToken(token)) return undefined;
    const text = await this.client.get(this.keys.token(token));
    const entry = text === null ? undefined : parseTokenEntry(text, token);
    if (entry === undefined) return undefined;
    return { keyAuthorization: entry.keyAuthorization, domain: entry.domain, expiresAt: entry.expiresAt };
  }

  async delete(token: string): Promise<void> {
    if (!isSafeToken(token)) return;
    await this.client.del(this.keys.token(token));
  }

  /** The token keys under the prefix (SCAN: Redis expires them, so every one found is pending). */
  async pendingCount(): Promise<number> {
    let count = 0;
    let cursor = '0';
    do {
      const [next, batch] = (await this.client.sendCommand(['SCAN', cursor, 'MATCH', this.keys.tokenPattern, 'COUNT', '500'])) as [string, string[]];
      cursor = next;
      count += batch.filter((key) => this.keys.tokenOf(key) !== undefined).length;
    } while (cursor !== '0');
    return count;
  }
}
