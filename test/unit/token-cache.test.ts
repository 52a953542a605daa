// serve-challenge's token cache when the store fails: a token found before (with its expiry) is answered from
// memory when the store errors or is slow, until it expires; one the store says is gone is forgotten; an unknown
// token still fails (503), within the store timeout even when the store never answers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenCache } from '../../src/challenge/server/cache.js';
import type { PendingToken, TokenStore } from '../../src/store/types.js';

class FlakyStore implements TokenStore {
  readonly entries = new Map<string, PendingToken>();
  mode: 'up' | 'failing' | 'hanging' = 'up';
  async put(): Promise<void> {}
  get(token: string): Promise<PendingToken | undefined> {
    if (this.mode === 'failing') return Promise.reject(new Error('store down'));
    if (this.mode === 'hanging') return new Promise(() => undefined);
    return Promise.resolve(this.entries.get(token));
  }
  async delete(token: string): Promise<void> {
    this.entries.delete(token);
  }
}

const entry = (token: string, expiresAt: number): PendingToken => ({ keyAuthorization: `${token}.thumb`, domain: 'a.example', expiresAt });

describe('TokenCache with a failing store', () => {
  it('answers a token it found from memory while the store fails or hangs, until the token expires', async () => {
    let now = 1_000_000;
    const store = new FlakyStore();
    const cache = new TokenCache(store, { ttlMs: 0, fallbackAfterMs: 20, storeTimeoutMs: 100, now: () => now });
    store.entries.set('tok', entry('tok', now + 60_000));
    assert.equal((await cache.get('tok'))?.keyAuthorization, 'tok.thumb');
    store.mode = 'failing';
    assert.equal((await cache.get('tok'))?.keyAuthorization, 'tok.thumb');
    store.mode = 'hanging';
    assert.equal((await cache.get('tok'))?.keyAuthorization, 'tok.thumb');
    await assert.rejects(cache.get('other'), /did not answer within 100 ms/);
    store.mode = 'failing';
    await assert.rejects(cache.get('other'), /store down/);
    now += 60_000;
    await assert.rejects(cache.get('tok'), /store down/, 'expired: no longer answered');
  });

  it('forgets a token the store no longer has, and remembers nothing without an expiry', async () => {
    const store = new FlakyStore();
    const cache = new TokenCache(store, { ttlMs: 0 });
    store.entries.set('gone', entry('gone', Date.now() + 60_000));
    store.entries.set('plain', { keyAuthorization: 'plain.thumb', domain: 'a.example' });
    assert.ok(await cache.get('gone'));
    assert.ok(await cache.get('plain'));
    await store.delete('gone');
    assert.equal(await cache.get('gone'), undefined);
    store.mode = 'failing';
    await assert.rejects(cache.get('gone'), /store down/);
    await assert.rejects(cache.get('plain'), /store down/);
  });
});
