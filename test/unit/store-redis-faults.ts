// What the Redis fault tests (store-redis-partition.test.ts, store-redis-restart.test.ts) share: one real
// redis-server per file whose store user has a password (so messages can be checked for it), optionally behind a
// proxy that can play a silent partition (test/harness/blackhole-proxy.ts), stores opened on it and closed after
// the file, and the check that an operation failed as an unreachable store does.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';

import { createClient } from 'redis';

import { CertmanError } from '../../src/errors.js';
import { openStore, type Store } from '../../src/store/index.js';
import { COMMAND_TIMEOUT_MS } from '../../src/store/redis/connection.js';
import { startBlackholeProxy, type BlackholeProxy } from '../harness/blackhole-proxy.js';
import { startRedis, type RedisServer } from '../harness/redis.js';

/** Far above the command timeout, far below "for ever": tells "gave up" from "still waiting" on a loaded machine. */
export const GAVE_UP_WITHIN_MS = COMMAND_TIMEOUT_MS * 3;
export const USER = 'certman-node';
export const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
/** A user that may run every command but on no key. */
export const KEYLESS_USER = 'certman-keyless';

export interface FaultyRedis {
  redis: RedisServer;
  proxy: BlackholeProxy;
}

/** Starts this file's redis-server (and the proxy in front of it); `env.redis` may be replaced by a restart. */
export function useFaultyRedis(): FaultyRedis {
  const env = {} as FaultyRedis;
  before(async () => {
    env.redis = await startRedis({ args: userArgs() });
    env.proxy = await startBlackholeProxy(env.redis.port);
  });
  after(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close?.()));
    await env.proxy.stop();
    await env.redis.stop();
  });
  return env;
}

/** The stores open() opened in this file, closed after its tests. */
const opened: Store[] = [];

/** Removes `key` behind the stores' backs (Redis losing it). */
export async function deleteKey(redis: RedisServer, key: string): Promise<void> {
  const admin = createClient({ url: redis.url });
  await admin.connect();
  await admin.del(key);
  await admin.close();
}

/** redis-server arguments for the stores' user, with a password, and for one without keys. */
export function userArgs(): string[] {
  return ['--user', USER, 'on', `>${PASSWORD}`, '~*', '+@all', '--user', KEYLESS_USER, 'on', `>${PASSWORD}`, '+@all'];
}

/** A store on the Redis at `port` (the server's or the proxy's), as the user with the password. */
export async function open(port: number, prefix = `faults-${randomBytes(4).toString('hex')}:`, key = randomBytes(32)): Promise<Store> {
  const store = await openStore(`redis://${USER}:${PASSWORD}@127.0.0.1:${port}`, { redisKey: key, redisPrefix: prefix });
  opened.push(store);
  return store;
}

/** Asserts that `work` fails as an unreachable Redis store at `port` does, with `message`, well before "for ever". */
export async function assertUnreachable(work: Promise<unknown>, port: number, message: RegExp): Promise<void> {
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
