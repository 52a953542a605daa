// A Redis store from the command line, several hosts (config dirs) sharing it: a certificate issued on one host
// is validated through another's serve-challenge and renewed by a third, each host writing its own copy of the
// files, and deleted there with that host's copy; Redis holds no private key in clear and none of a host's hooks,
// folders or ports, and a migration from it brings none into a config dir; hooks never see the store's secrets; a webroot lineage renews only on a host with a webroot of its own; with Redis down commands
// fail with a clear error; rediss:// with --store-ca-file, and redis+sentinel:// through a failover between runs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/index.js';
import { certmanEnv, runCli, startRedis, startServeChallenge, tempDir, uniqueName, type RedisServer } from '../harness/index.js';
import { assertOneLineError, json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
const KEY = randomBytes(32);
let redis: RedisServer;

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

/** certman on the host whose config dir is `configDir`, with the shared Redis store. */
function onHost(configDir: string, args: string[], env: Record<string, string> = {}) {
  return runCli(args, { env: { ...certmanEnv(suite.pebble, configDir), CERTMAN_STORE: redis.url, CERTMAN_STORE_KEY: KEY.toString('hex'), ...env } });
}

/** The shared store, opened from code the way certman opens it. */
async function withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(redis.url, { redisKey: KEY });
  try {
    return await work(store);
  } finally {
    await store.close?.();
  }
}

interface Issued {
  serial: string;
  files: { fullchain: string; privkey: string };
}

describe('a Redis store shared by hosts', () => {
  it('issues on one host through another host’s responder, renews on a third; each host writes its own copy', async () => {
    const [a, b, c] = [await tempDir('host-a'), await tempDir('host-b'), await tempDir('host-c')];
    const registered = await onHost(a, ['register', '--email', 'ops@example.com', '--agree-tos']);
    assert.equal(registered.code, 0, registered.stderr);
    const serve = await startServeChallenge({ ...certmanEnv(suite.pebble, b), CERTMAN_STORE: redis.url, CERTMAN_STORE_KEY: KEY.toString('hex') }, suite.pebble.httpPort);
    const name = uniqueName('shared');
    try {
      const hookEnv = join(a, 'hook-env');
      const issued = await onHost(a, ['--json', 'issue', '-d', name, '--responder', '--deploy-hook', `env > ${hookEnv}`], { CERTMAN_STORE: redis.url.replace('//', '//:hook-secret@') });
      assert.equal(issued.code, 0, issued.stderr);
      // The hook gets where the store is, never its key or password.
      const seenByHook = await readFile(hookEnv, 'utf8');
      assert.ok(!seenByHook.includes(KEY.toString('hex')) && !seenByHook.includes('CERTMAN_STORE_KEY') && !seenByHook.includes('hook-secret'), seenByHook);
      assert.match(seenByHook, new RegExp(`^CERTMAN_STORE=${redis.url}$`, 'm'));
      const first = json<Issued>(issued);
      assert.ok(suite.pebble.validationsFor(name) >= 1, "validated through host B's serve-challenge");
      // Host A's copy: certbot's layout in its config dir, the key 0600.
      assert.equal(first.files.fullchain, join(a, 'live', name, 'fullchain.pem'));
      assert.equal((await stat(first.files.privkey)).mode & 0o777, 0o600);
      const stored = await withStore(async (store) => ({ meta: await store.get(name), files: await store.readFiles(name) }));
      assert.equal(await readFile(first.files.privkey, 'utf8'), stored.files.privkey);
      // Nothing of host A's own: no hooks, and of the method only its kind.
      assert.deepEqual(stored.meta?.method, { kind: 'responder' });
      assert.equal(stored.meta?.hooks, undefined);

      // Host C sees it, renews it, and gets its own copy; host A's copy stays as it was until A deploys.
      const rows = json<{ name: string; serial: string }[]>(await onHost(c, ['--json', 'certificates']));
      assert.deepEqual(rows.map((row) => [row.name, row.serial]), [[name, first.serial]]);
      const renewed = await onHost(c, ['renew', '--cert-name', name, '--force', '--no-random-sleep']);
      assert.equal(renewed.code, 0, renewed.stdout + renewed.stderr);
      const after = await withStore((store) => store.readFiles(name));
      assert.equal(await readFile(join(c, 'live', name, 'fullchain.pem'), 'utf8'), after.fullchain);
      assert.notEqual(after.fullchain, stored.files.fullchain);
      assert.equal(await readFile(first.files.fullchain, 'utf8'), stored.files.fullchain);
      // Deleting on host C removes it from the store and C's copy; host A keeps its files.
      const deleted = await onHost(c, ['delete', '--cert-name', name, '--yes']);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(await withStore((store) => store.get(name)), undefined);
      await assert.rejects(stat(join(c, 'live', name)), { code: 'ENOENT' });
      assert.equal(await readFile(first.files.fullchain, 'utf8'), stored.files.fullchain);
    } finally {
      await serve.stop();
    }
    // No private key in clear anywhere in Redis.
    await withStore(async () => {
      const { createClient } = await import('redis');
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        for (const key of await client.keys('*')) {
          const type = await client.type(key);
          const values = type === 'string' ? [(await client.get(key)) ?? ''] : type === 'hash' ? Object.values(await client.hGetAll(key)) : [];
          for (const value of values) assert.ok(!value.includes('PRIVATE KEY'), `${key} holds a private key in clear`);
        }
      } finally {
        await client.close();
      }
    });
  });

  it('store migrate from Redis into a config dir brings no hooks, folders or ports with it', async () => {
    const host = await tempDir('host');
    assert.equal((await onHost(host, ['register', '--email', 'ops@example.com', '--agree-tos'])).code, 0);
    const name = uniqueName('planted');
    assert.equal((await onHost(host, ['issue', '-d', name, ...suite.standalone()])).code, 0);
    // Someone who can write Redis plants a hook and a folder.
    await withStore((store) => store.updateMeta(name, (meta) => ({ ...meta, hooks: { deploy: 'touch /tmp/planted' }, method: { kind: 'webroot', webroot: '/etc/cron.d' } })));
    const target = await tempDir('own');
    const migrated = await onHost(target, ['store', 'migrate', '--from', redis.url, '--to', target]);
    assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr);
    const copied = JSON.parse(await readFile(join(target, 'renewal', `${name}.json`), 'utf8')) as { hooks?: unknown; method: unknown };
    assert.equal(copied.hooks, undefined);
    assert.deepEqual(copied.method, { kind: 'webroot' });
  });

  it('renews a webroot lineage only on a host with a webroot of its own', async () => {
    const host = await tempDir('host');
    const registered = await onHost(host, ['register', '--email', 'ops@example.com', '--agree-tos']);
    assert.equal(registered.code, 0, registered.stderr);
    const name = uniqueName('webroot');
    const issued = await onHost(host, ['issue', '-d', name, ...suite.standalone()]);
    assert.equal(issued.code, 0, issued.stderr);
    // Someone who can write Redis turns it into a webroot lineage with a folder of their choosing.
    await withStore((store) => store.updateMeta(name, (meta) => ({ ...meta, method: { kind: 'webroot', webroot: '/etc/cron.d' } })));
    const before = await withStore((store) => store.readFiles(name));
    const renewed = await onHost(await tempDir('other'), ['renew', '--cert-name', name, '--force', '--no-random-sleep']);
    assert.equal(renewed.code, 1);
    assert.match(renewed.stdout, new RegExp(`${name.replace(/\./g, '\\.')} answers challenges through a webroot, and this host has none`));
    assert.deepEqual(await withStore((store) => store.readFiles(name)), before, 'nothing changed');
  });

  it('fails with a clear error when Redis is down, and leaves the host’s files alone', async () => {
    const down = await startRedis();
    const host = await tempDir('host');
    const env = { CERTMAN_STORE: down.url };
    assert.equal((await onHost(host, ['certificates'], env)).code, 0);
    await down.stop();
    for (const args of [['certificates'], ['renew', '--no-random-sleep']]) {
      assertOneLineError(await onHost(host, args, env), 1, new RegExp(`^error: cannot connect to the Redis store at redis://127\\.0\\.0\\.1:${down.port}: connect ECONNREFUSED`));
    }
  });
});

describe('Redis deployments from the command line', () => {
  it('a rediss:// store with --store-ca-file, and without it a one-line error', async () => {
    const tls = await startRedis({ tls: true });
    try {
      const host = await tempDir('host');
      const env = { CERTMAN_STORE: tls.url };
      const registered = await onHost(host, ['--store-ca-file', tls.caFile ?? '', 'register', '--email', 'ops@example.com', '--agree-tos'], env);
      assert.equal(registered.code, 0, registered.stderr);
      const name = uniqueName('tls');
      const issued = await onHost(host, ['--store-ca-file', tls.caFile ?? '', 'issue', '-d', name, ...suite.standalone()], env);
      assert.equal(issued.code, 0, issued.stderr);
      const listed = await onHost(host, ['--json', 'certificates'], { ...env, CERTMAN_STORE_CA_FILE: tls.caFile ?? '' });
      assert.deepEqual(json<{ name: string }[]>(listed).map((row) => row.name), [name]);
      assertOneLineError(await onHost(host, ['certificates'], env), 1, /^error: cannot connect to the Redis store at rediss:\/\/127\.0\.0\.1:\d+\/?: .*certificate/);
    } finally {
      await tls.stop();
    }
  });

  it('a redis+sentinel:// store carries on after its master is killed between runs', async () => {
    const { startSentinels } = await import('../harness/sentinel.js');
    const sentinels = await startSentinels({ sentinelPassword: 'sentinel-secret' });
    try {
      const host = await tempDir('host');
      // This host's own standalone port: a shared store keeps none.
      await writeFile(join(host, 'certman.config.json'), JSON.stringify({ httpPort: suite.pebble.httpPort, httpAddress: '127.0.0.1' }));
      const env = { CERTMAN_STORE: sentinels.url, CERTMAN_STORE_SENTINEL_PASSWORD: 'sentinel-secret' };
      assert.equal((await onHost(host, ['register', '--email', 'ops@example.com', '--agree-tos'], env)).code, 0);
      const name = uniqueName('sentinel');
      const issued = await onHost(host, ['issue', '-d', name, ...suite.standalone()], env);
      assert.equal(issued.code, 0, issued.stderr);
      await sentinels.waitForReplica();
      await sentinels.killMaster();
      const renewed = await onHost(host, ['renew', '--cert-name', name, '--force', '--no-random-sleep'], env);
      assert.equal(renewed.code, 0, renewed.stdout + renewed.stderr);
      const { CERTMAN_STORE_SENTINEL_PASSWORD: _password, ...withoutPassword } = env;
      const refused = await onHost(host, ['certificates'], withoutPassword);
      assertOneLineError(refused, 1, /^error: cannot connect to the Redis store at redis\+sentinel:\/\/.*NOAUTH/);
    } finally {
      await sentinels.stop();
    }
  });
});
