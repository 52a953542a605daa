// `sync --verify-deploy` on a fleet node: host A issues and renews into a real Redis store, host B syncs into its own
// config dir, where a real nginx serves B's live/ files over HTTPS and B's config names that endpoint. Proves: after a
// sync that copied a new version and ran B's deploy hook, B's endpoint is checked; a hook that reloads B's nginx
// passes; one that does not fails the sync (exit 1) naming the older version served; under --watch a miss is a
// warning line and the watcher keeps running until SIGTERM (exit 0).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { certmanEnv, freePorts, runCli, startNginx, startRedis, tempDir, uniqueName, type NginxServer, type RedisServer } from '../harness/index.js';
import { tlsServerBlock } from '../harness/nginx.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
const STORE_KEY = randomBytes(32).toString('hex');
let redis: RedisServer;
let nginx: NginxServer | undefined;

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await nginx?.stop();
  await redis?.stop();
});

interface SyncRow {
  name: string;
  status: string;
  serial?: string;
  verify?: { ok: boolean; endpoints: { endpoint: string; status: string; version?: number; certificate?: { serial: string } }[] };
}

/** Resolves once `text` shows on the child's stderr. */
function stderrShows(child: ChildProcessWithoutNullStreams, text: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    const watch = (chunk: Buffer) => {
      seen += chunk.toString();
      if (!seen.includes(text)) return;
      child.stderr.off('data', watch);
      resolve();
    };
    child.stderr.on('data', watch);
  });
}

describe('sync --verify-deploy', () => {
  it("checks B's own endpoint after B's deploy hook: passes when it reloads nginx, fails when it does not, warns under --watch", async () => {
    const prefix = `${uniqueName('vd-sync')}:`;
    const [a, b] = await Promise.all([tempDir('node-a'), tempDir('node-b')]);
    const env = (dir: string) => ({ ...certmanEnv(suite.pebble, dir), CERTMAN_STORE: redis.url, CERTMAN_STORE_KEY: STORE_KEY, CERTMAN_STORE_PREFIX: prefix });
    const onA = (args: string[]) => suite.certman(a, args, env(a));
    const onB = (args: string[]) => suite.certman(b, args, env(b));
    // Host A's own standalone port: a shared store keeps none.
    await writeFile(join(a, 'certman.config.json'), JSON.stringify({ httpPort: suite.pebble.httpPort, httpAddress: '127.0.0.1' }));
    assert.equal((await onA(['register', '--email', 'ops@example.com', '--agree-tos'])).code, 0);
    const name = uniqueName('vd-fleet');
    const issued = await onA(['issue', '-d', name, '--standalone']);
    assert.equal(issued.code, 0, issued.stderr);
    const renewOnA = async () => {
      const r = await onA(['renew', '--force', '--no-random-sleep', '--cert-name', name]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    };

    // B's first sync writes its files; B's nginx can start only then. B's config (not the store) names its endpoint.
    assert.equal((await onB(['sync'])).code, 0);
    const [httpPort, tlsPort] = await freePorts(2);
    const live = join(b, 'live', name);
    nginx = await startNginx({
      port: httpPort as number,
      root: await tempDir('nginx-root'),
      extraServers: tlsServerBlock({ port: tlsPort as number, fullchain: join(live, 'fullchain.pem'), privkey: join(live, 'privkey.pem') }),
    });
    const endpoint = `127.0.0.1:${tlsPort}`;
    await writeFile(join(b, 'certman.config.json'), JSON.stringify({ endpoints: [endpoint] }));

    await renewOnA();
    const reloaded = await onB(['--json', 'sync', '--verify-deploy=10', '--deploy-hook', nginx.reloadCommand]);
    assert.equal(reloaded.code, 0, reloaded.stdout + reloaded.stderr);
    const [row] = json<{ results: SyncRow[] }>(reloaded).results;
    assert.equal(row?.status, 'copied');
    assert.deepEqual(row?.verify?.endpoints.map((e) => [e.endpoint, e.status, e.certificate?.serial]), [[endpoint, 'live', row?.serial]]);

    await renewOnA();
    const stale = await onB(['--json', 'sync', '--verify-deploy=2', '--deploy-hook', 'true']);
    assert.equal(stale.code, 1, stale.stdout + stale.stderr);
    const [missed] = json<{ summary: Record<string, number>; results: SyncRow[] }>(stale).results;
    assert.equal(missed?.verify?.ok, false);
    assert.deepEqual(missed?.verify?.endpoints.map((e) => [e.status, e.version, e.certificate?.serial]), [['older', 2, row?.serial]], 'B still serves version 2');

    // Under --watch: a renewal on A reaches B, B's endpoint still serves the old version: a warning, the watch goes on.
    let steps: Promise<void> = Promise.resolve();
    const watch = await runCli(['sync', '--watch', '--verify-deploy=2', '--deploy-hook', 'true'], {
      env: env(b),
      timeoutMs: 90_000,
      onSpawn: (child) => {
        const [started, missedLine] = [stderrShows(child, 'sync watching'), stderrShows(child, 'not served')];
        steps = (async () => {
          await started;
          await renewOnA();
          await missedLine;
          child.kill('SIGTERM');
        })();
      },
    });
    await steps;
    assert.equal(watch.code, 0, watch.stderr);
    assert.match(watch.stderr, new RegExp(`^warning: copied +${name.replace(/\./g, '\\.')} .*; not served ${name.replace(/\./g, '\\.')} \\(within 2 s\\): ${endpoint} served older version 2 `, 'm'));
    assert.match(watch.stderr, /sync stopped \(SIGTERM\): 1 copied/, 'the watch went on after the miss');
  });
});
