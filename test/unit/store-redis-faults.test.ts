// The Redis store when Redis is not there, against a real redis-server: a silent partition (a proxy that holds
// every byte, test/harness/blackhole-proxy.ts) and a stopped server make every store operation fail within the
// command timeout with one CertmanError that names the store without its password; the same store object works
// again once the partition heals or Redis is restarted on its port; close() releases the leases still held.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { createClient } from 'redis';

import { CertmanError } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/index.js';
import { COMMAND_TIMEOUT_MS } from '../../src/store/redis/connection.js';
import { startBlackholeProxy, type BlackholeProxy } from '../harness/blackhole-proxy.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { newCert, pems, saveLeased } from '../harness/store-fixtures.js';

/** Far above the command timeout, far below "for ever": tells "gave up" from "still waiting" on a loaded machine. */
const GAVE_UP_WITHIN_MS = COMMAND_TIMEOUT_MS * 3;
const USER = 'certman-node';
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;

let redis: RedisServer;
let proxy: BlackholeProxy;
const opened: Store[] = [];

before(async () => {
  redis = await startRedis({ args: userArgs() });
  proxy = await startBlackholeProxy(redis.port);
});

after(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close?.()));
  await proxy.stop();
  await redis.stop();
});

/** Removes `key` behind the stores' backs (Redis losing it). */
async function deleteKey(key: string): Promise<void> {
  const admin = createClient({ url: redis.url });
  await admin.connect();
  await admin.del(key);
  await admin.close();
}

/** The stores' user, with a password, so the messages can be checked for it. */
function userArgs(): string[] {
  return ['--user', USER, 'on', `>${PASSWORD}`, '~*', '+@all'];
}

function urlOf(port: number): string {
  return `redis://${USER}:${PASSWORD}@127.0.0.1:${port}`;
}

async function open(port: number, prefix = `faults-${randomBytes(4).toString('hex')}:`, key = randomBytes(32)): Promise<Store> {
  const store = await openStore(urlOf(port), { redisKey: key, redisPrefix: prefix });
  opened.push(store);
  return store;
}

/** Asserts that `work` fails as an unreachable Redis store at `port` does, and well before "for ever". */
async function assertUnreachable(work: Promise<unknown>, port: number, message: RegExp): Promise<void> {
  const begin = Date.now();
  await assert.rejects(work, (err: unknown) => {
    assert.ok(err instanceof CertmanError, String(err));
    assert.match(err.message, message);
    assert.ok(err.message.includes(`127.0.0.1:${port}`), err.message);
    assert.ok(!err.message.includes(PASSWORD) && !(err.hint ?? '').includes(PASSWORD), 'the password stays out of messages');
    assert.match(err.hint ?? '', /check that Redis runs there/);
    return true;
  });
  assert.ok(Date.now() - begin < GAVE_UP_WITHIN_MS, `gave up after ${Date.now() - begin} ms`);
}

describe('redis store faults', () => {
  test('a silent partition fails every operation within the timeout, and the same store works once it heals', async () => {
    const store = await open(proxy.port);
    await saveLeased(store, newCert('partition.example'), pems('1'));
    proxy.swallow();
    const silent = /^the Redis store at redis:\/\/127\.0\.0\.1:\d+ is unreachable: no answer within 5 s$/;
    try {
      await Promise.all([
        assertUnreachable(store.get('partition.example'), proxy.port, silent),
        assertUnreachable(store.list(), proxy.port, silent),
        assertUnreachable(store.readFiles('partition.example'), proxy.port, silent),
        assertUnreachable(store.lease({ certificate: 'partition.example' }, { wait: false }), proxy.port, silent),
        assertUnreachable(store.updateState('budget', () => ({ n: 1 })), proxy.port, silent),
        assertUnreachable(store.tokens.put('tok-partition', 'tok-partition.x', 'partition.example', 60_000), proxy.port, silent),
        assertUnreachable(store.getAccount('https://ca.test/directory'), proxy.port, silent),
        // Opening another store through the partition: the connection is accepted, the handshake never answered.
        assertUnreachable(open(proxy.port), proxy.port, /^cannot connect to the Redis store at redis:\/\/127\.0\.0\.1:\d+: no answer within 5 s$/),
      ]);
    } finally {
      proxy.heal();
    }
    // What was held back arrives late and its replies are dropped in order: new commands get their own answers.
    assert.equal((await store.get('partition.example'))?.version, 1);
    assert.deepEqual(await store.readFiles('partition.example'), pems('1'));
    await store.tokens.put('tok-healed', 'tok-healed.x', 'partition.example', 60_000);
    assert.deepEqual(await store.tokens.get('tok-healed'), { keyAuthorization: 'tok-healed.x', domain: 'partition.example' });
  });

  test('a stopped server fails within the timeout, and the same store works again after Redis restarts on its port', async () => {
    const store = await open(redis.port);
    await store.tokens.put('tok-before', 'tok-before.x', 'restart.example', 60_000);
    const port = redis.port;
    await redis.stop();
    await assertUnreachable(store.tokens.get('tok-before'), port, /^the Redis store at redis:\/\/127\.0\.0\.1:\d+ is unreachable: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    redis = await startRedis({ port, args: userArgs() });
    // Nothing persists across this test server's restarts: the store finds Redis empty, but working.
    assert.equal(await store.tokens.get('tok-before'), undefined);
    await saveLeased(store, newCert('restart.example'), pems('after'));
    assert.deepEqual(await store.readFiles('restart.example'), pems('after'));
  });

  test('close() releases the leases the store still holds, so the next run need not wait for them to expire', async () => {
    const prefix = `faults-close-${randomBytes(4).toString('hex')}:`;
    const key = randomBytes(32);
    const first = await open(redis.port, prefix, key);
    await first.lease({ certificate: 'held.example' }, { wait: false, leaseMs: 60_000 });
    await first.lease({ account: 'https://ca.test/directory' }, { wait: false, leaseMs: 60_000 });
    // Lost behind the first run's back (Redis lost it) and taken by another run: close() must not remove it.
    await first.lease({ certificate: 'taken-over.example' }, { wait: false, leaseMs: 60_000 });
    await deleteKey(`${prefix}lease:cert:taken-over.example`);
    const second = await open(redis.port, prefix, key);
    const takenOver = await second.lease({ certificate: 'taken-over.example' }, { wait: false, leaseMs: 60_000 });
    await first.close?.();
    await (await second.lease({ certificate: 'held.example' }, { wait: false })).release();
    await (await second.lease({ account: 'https://ca.test/directory' }, { wait: false })).release();
    await assert.doesNotReject(takenOver.assertHeld());
    await takenOver.release();
  });

  test('close() with Redis unreachable gives up within the timeout; the lease then expires on its own', async () => {
    const store = await open(proxy.port);
    await store.lease({ certificate: 'stranded.example' }, { wait: false, leaseMs: 60_000 });
    proxy.swallow();
    const begin = Date.now();
    try {
      await store.close?.();
    } finally {
      proxy.heal();
    }
    assert.ok(Date.now() - begin < GAVE_UP_WITHIN_MS, `close took ${Date.now() - begin} ms`);
  });
});
