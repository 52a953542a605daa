// What only the Redis store has, against a real redis-server: private keys never reach Redis in clear, a store key
// that is missing or wrong refuses before anything is written, and a save whose lease another run took is refused
// inside Redis's own atomic step (the script), not only by the check before it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';

import { LeaseLostError } from '../../src/errors.js';
import { openStore, type Lease } from '../../src/store/index.js';
import { newCert, pems, saveLeased } from '../harness/store-fixtures.js';
import { differences } from '../contract/reader.js';
import { deleteKey, openRedis, redisUrl, snapshotKeys, useRedisServer } from './store-contract-redis.js';

useRedisServer();

const ACCOUNT_KEY = '-----BEGIN PRIVATE KEY-----\naccount secret\n-----END PRIVATE KEY-----\n';

/** A prefix of its own and a fresh store key for one test. */
function fresh(): { prefix: string; key: Buffer } {
  return { prefix: `redis-${randomBytes(4).toString('hex')}:`, key: randomBytes(32) };
}

describe('redis store', () => {
  test('no private key reaches Redis in clear, and the store reads them back', async () => {
    const { prefix, key } = fresh();
    const store = await openRedis(redisUrl(), key, prefix);
    await saveLeased(store, newCert('rest.example'), pems('1'));
    await saveLeased(store, newCert('rest.example'), pems('2'));
    await store.saveAccount({ server: 'https://ca.test/directory', url: 'https://ca.test/acct/1', keyPem: ACCOUNT_KEY, createdAt: '2025-01-01T00:00:00.000Z' });
    const everything = [...(await snapshotKeys(prefix)).values()].join('\n');
    assert.ok(everything.includes('cert 2'), 'certificates are stored in clear');
    for (const secret of ['PRIVATE KEY', 'key 1', 'key 2', 'account secret']) assert.ok(!everything.includes(secret), secret);
    assert.deepEqual(await store.readFiles('rest.example'), pems('2'));
    assert.equal((await store.getAccount('https://ca.test/directory'))?.keyPem, ACCOUNT_KEY);
  });

  test('names in Redis that are no certificate names (a path, an escape) are not listed', async () => {
    const { prefix, key } = fresh();
    const store = await openRedis(redisUrl(), key, prefix);
    await saveLeased(store, newCert('good.example'), pems('1'));
    const writer = createClient({ url: redisUrl() });
    await writer.connect();
    try {
      await writer.sAdd(`${prefix}names`, ['../../etc', 'bad\u001b[2Jname']);
      await writer.set(`${prefix}cert:../../etc:meta`, JSON.stringify({ ...newCert('../../etc'), version: 1 }));
    } finally {
      await writer.close();
    }
    assert.deepEqual(await store.names(), ['good.example']);
    assert.deepEqual((await store.list()).map((meta) => meta.name), ['good.example']);
  });

  test('a store opened without a key, with a short key or with the wrong key refuses, and writes nothing', async () => {
    const { prefix, key } = fresh();
    const store = await openRedis(redisUrl(), key, prefix);
    await saveLeased(store, newCert('keyed.example'), pems('1'));
    const before = await snapshotKeys(prefix);
    await assert.rejects(openStore(redisUrl(), { redisKey: undefined, redisPrefix: prefix }), /needs a store key/);
    await assert.rejects(openStore(redisUrl(), { redisKey: randomBytes(16), redisPrefix: prefix }), /must be 32 bytes/);
    await assert.rejects(openStore(redisUrl(), { redisKey: randomBytes(32), redisPrefix: prefix }), /store key does not open this store/);
    await assert.rejects(openStore(redisUrl(), { redisKey: randomBytes(32), redisPrefix: prefix, readOnly: true }), /store key does not open this store/);
    assert.deepEqual(differences(before, await snapshotKeys(prefix)), []);
  });

  test("a save whose lease is another run's is refused by the script itself, and changes nothing", async () => {
    const { prefix, key } = fresh();
    const store = await openRedis(redisUrl(), key, prefix);
    await saveLeased(store, newCert('atomic.example'), pems('1'));
    const held = await store.lease({ certificate: 'atomic.example' }, { wait: false });
    // A guard that passes the check before the script (as if the lease was taken over right after it).
    const stale: Lease = { owner: 'not-the-holder', signal: new AbortController().signal, assertHeld: () => Promise.resolve(), release: () => Promise.resolve() };
    const before = await snapshotKeys(prefix);
    await assert.rejects(store.save(newCert('atomic.example'), pems('stale'), { lease: stale }), LeaseLostError);
    await assert.rejects(store.delete('atomic.example', { lease: stale }), LeaseLostError);
    assert.deepEqual(differences(before, await snapshotKeys(prefix)), []);
    await held.release();
  });

  test('a holder whose extension finds the lease gone (taken over, or lost by Redis) sees its signal fire', async () => {
    const { prefix, key } = fresh();
    const store = await openRedis(redisUrl(), key, prefix);
    const lease = await store.lease({ certificate: 'lost.example' }, { wait: false, leaseMs: 400 });
    await deleteKey(`${prefix}lease:cert:lost.example`);
    const fired = new Promise<unknown>((resolve) => lease.signal.addEventListener('abort', () => resolve(lease.signal.reason)));
    assert.ok((await Promise.race([fired, sleep(10_000, 'not fired', { ref: false })])) instanceof LeaseLostError);
    await assert.rejects(lease.assertHeld(), LeaseLostError);
    await lease.release();
  });
});
