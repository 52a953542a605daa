// The Redis store when its server stops, restarts or refuses, against a real redis-server: a stopped server fails
// within the command timeout and the same store object works again once Redis is back on its port; a wrong
// password is refused at once without showing it, a user without the keys when the store opens; close() releases
// the leases the store still holds (owner-checked).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { CertmanError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { startRedis } from '../harness/redis.js';
import { newCert, pems, saveLeased } from '../harness/store-fixtures.js';
import { assertUnreachable, deleteKey, KEYLESS_USER, open, PASSWORD, useFaultyRedis, USER, userArgs } from './store-redis-faults.js';

const env = useFaultyRedis();

describe('redis store restarted or refusing', () => {
  test('a stopped server fails within the timeout, and the same store works again after Redis restarts on its port', async () => {
    const store = await open(env.redis.port);
    await store.tokens.put('tok-before', 'tok-before.x', 'restart.example', 60_000);
    const port = env.redis.port;
    await env.redis.stop();
    await assertUnreachable(store.tokens.get('tok-before'), port, /^the Redis store at redis:\/\/127\.0\.0\.1:\d+ is unreachable: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    env.redis = await startRedis({ port, args: userArgs() });
    // Nothing persists across this test server's restarts: the store finds Redis empty, but working.
    assert.equal(await store.tokens.get('tok-before'), undefined);
    await saveLeased(store, newCert('restart.example'), pems('after'));
    assert.deepEqual(await store.readFiles('restart.example'), pems('after'));
  });

  test('a wrong password is refused at once, naming the store but not the password', async () => {
    const wrong = `wrong-${randomBytes(4).toString('hex')}`;
    await assert.rejects(openStore(`redis://${USER}:${wrong}@127.0.0.1:${env.redis.port}`, { redisKey: randomBytes(32) }), (err: unknown) => {
      assert.ok(err instanceof CertmanError);
      assert.match(err.message, /^cannot connect to the Redis store at redis:\/\/127\.0\.0\.1:\d+: WRONGPASS /);
      assert.ok(!err.message.includes(wrong));
      return true;
    });
  });

  test('a Redis user without the keys is refused when the store opens, naming the store', async () => {
    await assert.rejects(openStore(`redis://${KEYLESS_USER}:${PASSWORD}@127.0.0.1:${env.redis.port}`, { redisKey: randomBytes(32) }), (err: unknown) => {
      assert.ok(err instanceof CertmanError);
      assert.match(err.message, /^cannot use the Redis store at redis:\/\/127\.0\.0\.1:\d+: NOPERM /);
      assert.match(err.hint ?? '', /keys under certman:/);
      return true;
    });
  });

  test('close() releases the leases the store still holds, so the next run need not wait for them to expire', async () => {
    const prefix = `faults-close-${randomBytes(4).toString('hex')}:`;
    const key = randomBytes(32);
    const first = await open(env.redis.port, prefix, key);
    await first.lease({ certificate: 'held.example' }, { wait: false, leaseMs: 60_000 });
    await first.lease({ account: 'https://ca.test/directory' }, { wait: false, leaseMs: 60_000 });
    // Lost behind the first run's back (Redis lost it) and taken by another run: close() must not remove it.
    await first.lease({ certificate: 'taken-over.example' }, { wait: false, leaseMs: 60_000 });
    await deleteKey(env.redis, `${prefix}lease:cert:taken-over.example`);
    const second = await open(env.redis.port, prefix, key);
    const takenOver = await second.lease({ certificate: 'taken-over.example' }, { wait: false, leaseMs: 60_000 });
    await first.close?.();
    await (await second.lease({ certificate: 'held.example' }, { wait: false })).release();
    await (await second.lease({ account: 'https://ca.test/directory' }, { wait: false })).release();
    await assert.doesNotReject(takenOver.assertHeld());
    await takenOver.release();
  });
});
