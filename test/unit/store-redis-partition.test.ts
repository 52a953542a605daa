// The Redis store in a silent network partition, against a real redis-server behind a proxy that holds every byte
// (test/harness/blackhole-proxy.ts): every store operation, and opening a store, fails within the command timeout
// with one CertmanError naming the store without its password (a stopped server cannot show this: it refuses at
// once); the same store object works again once the partition heals; close() gives up within the timeout.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { newCert, pems, saveLeased } from '../harness/store-fixtures.js';
import { assertUnreachable, GAVE_UP_WITHIN_MS, open, useFaultyRedis } from './store-redis-faults.js';

const env = useFaultyRedis();

describe('redis store in a silent partition', () => {
  test('a silent partition fails every operation within the timeout, and the same store works once it heals', async () => {
    const store = await open(env.proxy.port);
    await saveLeased(store, newCert('partition.example'), pems('1'));
    env.proxy.swallow();
    const silent = /^the Redis store at redis:\/\/127\.0\.0\.1:\d+ is unreachable: no answer within 5 s$/;
    try {
      await Promise.all([
        assertUnreachable(store.get('partition.example'), env.proxy.port, silent),
        assertUnreachable(store.list(), env.proxy.port, silent),
        assertUnreachable(store.readFiles('partition.example'), env.proxy.port, silent),
        assertUnreachable(store.lease({ certificate: 'partition.example' }, { wait: false }), env.proxy.port, silent),
        assertUnreachable(store.updateState('budget', () => ({ n: 1 })), env.proxy.port, silent),
        assertUnreachable(store.tokens.put('tok-partition', 'tok-partition.x', 'partition.example', 60_000), env.proxy.port, silent),
        assertUnreachable(store.getAccount('https://ca.test/directory'), env.proxy.port, silent),
        // Opening another store through the partition: the connection is accepted, the handshake never answered.
        assertUnreachable(open(env.proxy.port), env.proxy.port, /^cannot connect to the Redis store at redis:\/\/127\.0\.0\.1:\d+: no answer within 5 s$/),
      ]);
    } finally {
      env.proxy.heal();
    }
    // What was held back arrives late and its replies are dropped in order: new commands get their own answers.
    assert.equal((await store.get('partition.example'))?.version, 1);
    // The lease whose SET got no answer reached Redis only now, followed by the release its failure sent: free.
    await (await store.lease({ certificate: 'partition.example' }, { wait: false })).release();
    assert.deepEqual(await store.readFiles('partition.example'), pems('1'));
    await store.tokens.put('tok-healed', 'tok-healed.x', 'partition.example', 60_000);
    assert.deepEqual(await store.tokens.get('tok-healed'), { keyAuthorization: 'tok-healed.x', domain: 'partition.example' });
  });

  test('close() with Redis unreachable gives up within the timeout; the lease then expires on its own', async () => {
    const store = await open(env.proxy.port);
    await store.lease({ certificate: 'stranded.example' }, { wait: false, leaseMs: 60_000 });
    env.proxy.swallow();
    const begin = Date.now();
    try {
      await store.close?.();
    } finally {
      env.proxy.heal();
    }
    assert.ok(Date.now() - begin < GAVE_UP_WITHIN_MS, `close took ${Date.now() - begin} ms`);
  });
});
