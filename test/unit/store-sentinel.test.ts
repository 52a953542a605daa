// The Redis store through Redis Sentinel (redis+sentinel://), against real redis-server and redis-sentinel
// processes (test/harness/sentinel.ts): a store opened through three sentinels, as a Redis user with a password,
// writes a lineage, takes a lease and publishes a token; the master is killed (SIGKILL) and the sentinels promote
// the replica; the same store object, never reopened, reads everything it wrote, still holds its lease, and writes
// again on the new master.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { CertmanError } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/index.js';
import { COMMAND_TIMEOUT_MS } from '../../src/store/redis/connection.js';
import { startSentinels, type SentinelTopology } from '../harness/sentinel.js';
import { newCert, pems, saveLeased } from '../harness/store-fixtures.js';

const USER = 'certman-node';
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const SENTINEL_PASSWORD = `sentinel-${randomBytes(8).toString('hex')}`;

let topology: SentinelTopology;
let store: Store | undefined;

before(async () => {
  // The store's user has a password and may use every key; the default user (the sentinels', the replication's)
  // no key at all, so a store that reached the data without the URL's credentials would fail. The sentinels have
  // a password of their own.
  topology = await startSentinels({
    serverArgs: ['--user', 'default', 'on', 'nopass', '&*', '+@all', '--user', USER, 'on', `>${PASSWORD}`, '~*', '&*', '+@all'],
    sentinelPassword: SENTINEL_PASSWORD,
  });
});

after(async () => {
  await store?.close?.();
  await topology.stop();
});

describe('redis store through Sentinel', () => {
  test('carries on after the master is killed and the replica promoted, without being reopened', async () => {
    const url = topology.url.replace('redis+sentinel://', `redis+sentinel://${USER}:${encodeURIComponent(PASSWORD)}@`);
    const options = { redisKey: randomBytes(32), redisPrefix: `sentinel-${randomBytes(4).toString('hex')}:` };
    await assert.rejects(openStore(url, options), /^CertmanError: cannot connect to the Redis store at redis\+sentinel:\/\/127\.0\.0\.1:\d+,[^@]*: NOAUTH/);
    const opened = await openStore(url, { ...options, redisSentinelPassword: SENTINEL_PASSWORD });
    store = opened;
    assert.equal(opened.location.split(' ')[0], topology.url);
    await saveLeased(opened, newCert('ha.example'), pems('1'));
    const lease = await opened.lease({ certificate: 'ha.example' }, { wait: false, leaseMs: 30_000 });
    await opened.tokens.put('tok-ha', 'tok-ha.key', 'ha.example', 60_000);
    await opened.updateState('ha-state', () => ({ writes: 1 }));
    // Replication is asynchronous: only what the replica has survives the master, so wait for it.
    await topology.waitForReplica();

    // The master dies (SIGKILL: at once, before killMaster() returns) and a command meets the failover under way:
    // it gets its answer from the new master, or fails as an unreachable store does, within the timeout.
    const failover = topology.killMaster();
    const begin = Date.now();
    const during = await opened.get('ha.example').then(
      (meta) => meta?.version,
      (err: unknown) => err,
    );
    if (during !== 1) assert.ok(during instanceof CertmanError && /^the Redis store at redis\+sentinel:\/\/[^@]+ is unreachable: /.test(during.message), String(during));
    assert.ok(Date.now() - begin < COMMAND_TIMEOUT_MS * 3, `settled after ${Date.now() - begin} ms`);
    await failover;

    assert.deepEqual(await opened.readFiles('ha.example'), pems('1'));
    assert.deepEqual(await opened.tokens.get('tok-ha'), { keyAuthorization: 'tok-ha.key', domain: 'ha.example' });
    assert.deepEqual(await opened.getState('ha-state'), { writes: 1 });
    await lease.assertHeld();
    assert.equal(lease.signal.aborted, false);
    // New writes, on the new master: a version saved under the lease held across the failover (its script
    // checks the lease there), a state update, another token.
    assert.equal((await opened.save(newCert('ha.example'), pems('2'), { lease })).version, 2);
    await lease.release();
    assert.deepEqual(await opened.updateState('ha-state', (current: { writes: number } | undefined) => ({ writes: (current?.writes ?? 0) + 1 })), { writes: 2 });
    await opened.tokens.put('tok-after', 'tok-after.key', 'ha.example', 60_000);
    assert.deepEqual(await opened.tokens.get('tok-after'), { keyAuthorization: 'tok-after.key', domain: 'ha.example' });
    assert.deepEqual(await opened.readFiles('ha.example'), pems('2'));
  });
});
