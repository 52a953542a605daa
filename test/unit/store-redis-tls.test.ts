// The Redis store over TLS (rediss://), against a real redis-server listening with --tls-port only, its
// certificate signed by a throwaway CA (test/harness/redis.ts): trusted through redisCaFile the store works; a
// server certificate no trusted CA signed, or plain redis:// to the TLS port, is refused with a clear error.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { CertmanError, UsageError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { newCert, pems, saveLeased } from '../harness/store-fixtures.js';

let redis: RedisServer;

before(async () => {
  redis = await startRedis({ tls: true });
});

after(async () => {
  await redis.stop();
});

function options(extra: { redisCaFile?: string } = {}): { redisKey: Buffer; redisPrefix: string; redisCaFile?: string } {
  return { redisKey: randomBytes(32), redisPrefix: `tls-${randomBytes(4).toString('hex')}:`, ...extra };
}

describe('redis store over TLS', () => {
  test('rediss:// with the CA given by redisCaFile: the store reads and writes', async () => {
    assert.match(redis.url, /^rediss:\/\//);
    const store = await openStore(redis.url, options({ redisCaFile: redis.caFile ?? '' }));
    try {
      assert.ok(store.location.startsWith(`${redis.url} (prefix tls-`), store.location);
      await saveLeased(store, newCert('tls.example'), pems('1'));
      assert.deepEqual(await store.readFiles('tls.example'), pems('1'));
    } finally {
      await store.close?.();
    }
  });

  test('a server certificate no trusted CA signed is refused, naming the store and why', async () => {
    await assert.rejects(openStore(redis.url, options()), (err: unknown) => {
      assert.ok(err instanceof CertmanError);
      assert.match(err.message, /^cannot connect to the Redis store at rediss:\/\/127\.0\.0\.1:\d+: .*certificate/);
      return true;
    });
  });

  test('plain redis:// to the TLS port gets no Redis answer, and fails within the timeout', async () => {
    await assert.rejects(openStore(redis.url.replace('rediss:', 'redis:'), options()), /^CertmanError: cannot connect to the Redis store at redis:\/\/127\.0\.0\.1:\d+: /);
  });

  test('a CA file that cannot be read is a usage error', async () => {
    await assert.rejects(openStore(redis.url, options({ redisCaFile: '/nonexistent/ca.pem' })), (err: unknown) => err instanceof UsageError && /cannot read the Redis CA file \/nonexistent\/ca\.pem/.test(err.message));
  });
});
