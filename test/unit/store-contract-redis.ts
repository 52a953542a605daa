// The Redis backend of the store contract (test/contract/store-contract.ts), for the test files that run it
// (store-contract-redis*.test.ts against one real redis-server per file, store-contract-sentinel.test.ts through
// a real Sentinel topology): fresh data is a fresh key prefix, another run is another RedisStore on the same Redis
// and prefix, another process a node child opening one, and a principal that may only read is a Redis ACL user
// allowed read commands only.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before } from 'node:test';
import { pathToFileURL } from 'node:url';

import { createClient } from 'redis';

import { openStore, type Store } from '../../src/store/index.js';
import { differences, runReaderChild } from '../contract/reader.js';
import type { StoreBackend } from '../contract/store-contract.js';
import { startRedis } from '../harness/redis.js';
import { startSentinels } from '../harness/sentinel.js';

const STORE_MODULE = pathToFileURL(path.resolve('src/store/index.ts')).href;

type Admin = ReturnType<typeof createClient>;

/** Where the stores connect: a URL, the same with a user's credentials, the (master) server's port, how to stop it. */
interface Target {
  url: string;
  adminPort: number;
  withUser(user: string, password: string): string;
  stop(): Promise<void>;
}

let target: Target | undefined;
/** A connection to the (master) server, for what the tests do behind the stores' backs. */
let admin: Admin | undefined;
const opened: Store[] = [];
let counter = 0;

/** Starts this file's Redis with `start` (and an admin connection to it); both go afterwards. */
function useTarget(start: () => Promise<Target>): void {
  before(async () => {
    target = await start();
    admin = createClient({ url: `redis://127.0.0.1:${target.adminPort}` });
    admin.on('error', () => undefined);
    await admin.connect();
  });
  after(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close?.()));
    await admin?.close();
    await target?.stop();
  });
}

/** Starts this test file's redis-server; the stores connect to it with redis://. */
export function useRedisServer(): void {
  useTarget(async () => {
    const server = await startRedis();
    return { url: server.url, withUser: (user, password) => `redis://${user}:${password}@127.0.0.1:${server.port}`, stop: () => server.stop(), adminPort: server.port };
  });
}

/** Starts this test file's Sentinel topology (test/harness/sentinel.ts); the stores connect with redis+sentinel://. */
export function useSentinelRedis(): void {
  useTarget(async () => {
    const topology = await startSentinels();
    return {
      url: topology.url,
      withUser: (user, password) => topology.url.replace('redis+sentinel://', `redis+sentinel://${user}:${password}@`),
      stop: () => topology.stop(),
      adminPort: topology.master.port,
    };
  });
}

function running(): { target: Target; admin: Admin } {
  if (target === undefined || admin === undefined) throw new Error('useRedisServer() or useSentinelRedis() was not called');
  return { target, admin };
}

/** URL of this file's Redis. */
export function redisUrl(): string {
  return running().target.url;
}

/** A RedisStore on this file's server, closed after the file's tests. */
export async function openRedis(url: string, key: Buffer, prefix: string): Promise<Store> {
  const store = await openStore(url, { redisKey: key, redisPrefix: prefix });
  opened.push(store);
  return store;
}

/** Removes one key behind the stores' backs (Redis losing it, an operator). */
export async function deleteKey(key: string): Promise<void> {
  await running().admin.del(key);
}

/** Every key under `prefix` with its value (strings, hashes and sets), as a write would change it. */
export async function snapshotKeys(prefix: string): Promise<Map<string, string>> {
  const { admin: client } = running();
  const out = new Map<string, string>();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    for (const key of keys) {
      const type = await client.type(key);
      let value: unknown;
      if (type === 'string') value = await client.get(key);
      else if (type === 'hash') value = Object.entries(await client.hGetAll(key)).sort();
      else if (type === 'set') value = (await client.sMembers(key)).sort();
      else value = type;
      out.set(key, JSON.stringify(value));
    }
  }
  return out;
}

/** An ACL user of the server that may run read commands on `prefix`'s keys only; returns its URL. */
async function readOnlyUser(prefix: string): Promise<string> {
  const { target: redis, admin: client } = running();
  const user = `reader-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await client.sendCommand(['ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, `~${prefix}*`, '+@read']);
  return redis.withUser(user, password);
}

/** `stores`: an expression for the store module (imported by the reader before it starts). */
function openSource(url: string, key: Buffer, prefix: string, readOnly: string, stores = `(await import(${JSON.stringify(STORE_MODULE)}))`): string {
  return `${stores}.openStore(${JSON.stringify(url)}, { redisKey: Buffer.from('${key.toString('hex')}', 'hex'), redisPrefix: ${JSON.stringify(prefix)}, readOnly: ${readOnly} })`;
}

export const redisBackend: StoreBackend = {
  name: 'redis',
  async create() {
    const { target: redis } = running();
    counter += 1;
    const prefix = `contract-${counter}-${randomBytes(3).toString('hex')}:`;
    const key = randomBytes(32);
    return {
      store: await openRedis(redis.url, key, prefix),
      another: () => openRedis(redis.url, key, prefix),
      openInChildSource: `await ${openSource(redis.url, key, prefix, 'false')}`,
      childNodeArgs: ['--import', 'tsx'],
      async readWithoutWriting() {
        const before = await snapshotKeys(prefix);
        const view = await runReaderChild({
          storeModule: STORE_MODULE,
          openSource: openSource(await readOnlyUser(prefix), key, prefix, 'readOnly', 'stores'),
          nodeArgs: ['--import', 'tsx'],
        });
        return { view, changed: differences(before, await snapshotKeys(prefix)) };
      },
    };
  },
};
