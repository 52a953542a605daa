// Fleet mode on one Redis store, with three simulated nodes (separate config dirs): A issues and renews with
// --responder, B runs serve-challenge (Pebble validates through it), C runs `certman sync` (once, and --watch).
// Proves: C's live/ files are the store's certificate (key 0600), C's deploy hook runs once per change and never
// for a sync that changed nothing; a lineage deleted from the store keeps its files on C; tokens leave Redis when
// the order ends; a Redis restart under `sync --watch` and serve-challenge: both warn once, keep what they have
// (serve-challenge answers a token it had seen while Redis is down), recover on their own, and a renewal and a
// token published after the restart reach them; through Sentinel, `sync --watch` carries on after the master is
// killed and a renewal after the failover reaches it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { certmanBin, certmanEnv, cliEnv, httpRequestText, repoRoot, startRedis, startServeChallenge, tempDir, uniqueName, type RedisServer } from '../harness/index.js';
import { sleep, track } from '../harness/proc.js';
import { encodeTokenEntry, newTokenEntry } from '../../src/store/token-entry.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
const STORE_KEY = randomBytes(32).toString('hex');
let redis: RedisServer;

before(async () => {
  redis = await startRedis({ persistent: true });
});
after(async () => {
  await redis?.stop();
});

interface SyncRow {
  name: string;
  status: string;
  serial?: string;
  path?: string;
  hook?: { ok: boolean };
}

/** A node of the fleet: its own config dir, the shared store under a prefix of the test's own. */
function node(prefix: string, configDir: string): Record<string, string> {
  return { ...certmanEnv(suite.pebble, configDir), CERTMAN_STORE: redis.url, CERTMAN_STORE_KEY: STORE_KEY, CERTMAN_STORE_PREFIX: prefix };
}

async function fleet(label: string) {
  const prefix = `${uniqueName(label)}:`;
  const [a, b, c, marks] = await Promise.all([tempDir('node-a'), tempDir('node-b'), tempDir('node-c'), tempDir('marks')]);
  const certman = (dir: string, args: string[]) => suite.certman(dir, args, node(prefix, dir));
  const registered = await certman(a, ['register', '--email', 'ops@example.com', '--agree-tos']);
  assert.equal(registered.code, 0, registered.stderr);
  const serve = await startServeChallenge(node(prefix, b), suite.pebble.httpPort);
  const hookLog = join(marks, 'hook.log');
  return { prefix, a, b, c, certman, serve, hookLog, hook: `echo "$RENEWED_LINEAGE $RENEWED_DOMAINS" >> ${hookLog}` };
}

async function lines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '');
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** `certman sync --watch` on a node, running until stopped. */
function startWatch(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [certmanBin, 'sync', '--watch', ...args], { cwd: repoRoot, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    stderr: () => stderr,
    stdout: () => stdout,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function challenge(port: number, token: string) {
  return httpRequestText(`http://127.0.0.1:${port}/.well-known/acme-challenge/${token}`, { timeoutMs: 15_000 });
}

describe('certman sync from a Redis store', () => {
  it('copies what A issued through B to C once, runs the hook only for a change, and keeps files of a lineage deleted from the store', async () => {
    const f = await fleet('sync-once');
    try {
      const name = uniqueName('fleet');
      const issued = await f.certman(f.a, ['issue', '-d', name, '--responder']);
      assert.equal(issued.code, 0, issued.stderr);
      assert.ok(suite.pebble.validationsFor(name) >= 1, 'Pebble validated through serve-challenge on node B');
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        assert.deepEqual(await client.keys(`${f.prefix}token:*`), [], 'the tokens left Redis when the order ended');
      } finally {
        await client.close();
      }

      const first = await f.certman(f.c, ['--json', 'sync', '--deploy-hook', f.hook]);
      assert.equal(first.code, 0, first.stderr);
      const rows = json<{ summary: Record<string, number>; results: SyncRow[] }>(first);
      assert.deepEqual(rows.results.map((r) => [r.name, r.status, r.hook?.ok]), [[name, 'copied', true]]);
      const live = join(f.c, 'live', name);
      assert.equal(rows.results[0]?.path, live);
      assert.equal(await readFile(join(live, 'fullchain.pem'), 'utf8'), await readFile(join(f.a, 'live', name, 'fullchain.pem'), 'utf8'), 'C has the fullchain A has');
      assert.equal((await stat(join(live, 'privkey.pem'))).mode & 0o777, 0o600);
      assert.deepEqual(await lines(f.hookLog), [`${live} ${name}`]);

      const second = await f.certman(f.c, ['--json', 'sync', '--deploy-hook', f.hook]);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual(json<{ results: SyncRow[] }>(second).results.map((r) => [r.name, r.status]), [[name, 'unchanged']]);
      assert.equal((await lines(f.hookLog)).length, 1, 'no hook for a sync that changed nothing');

      const deleted = await f.certman(f.a, ['delete', '--cert-name', name, '--yes']);
      assert.equal(deleted.code, 0, deleted.stderr);
      const third = await f.certman(f.c, ['sync', '--deploy-hook', f.hook]);
      assert.equal(third.code, 0, third.stderr);
      assert.match(third.stdout, new RegExp(`gone +${name.replace(/\./g, '\\.')}: no longer in the store`));
      await readFile(join(live, 'fullchain.pem'));
      assert.equal((await lines(f.hookLog)).length, 1);
    } finally {
      await f.serve.stop();
    }
  });

  it('refuses to sync a folder store, --full-sync-every without --watch and a --cert-name the store does not have (exit 2)', async () => {
    const dir = await tempDir('folder');
    const folder = await suite.certman(dir, ['sync']);
    assert.equal(folder.code, 2, folder.stderr);
    assert.match(folder.stderr, /^error: nothing to sync: the store .* is a folder/);
    const everyAlone = await suite.certman(dir, ['sync', '--full-sync-every', '10']);
    assert.equal(everyAlone.code, 2, everyAlone.stderr);
    assert.match(everyAlone.stderr, /^error: --full-sync-every needs --watch/);
    const f = await fleet('sync-unknown');
    try {
      const unknown = await f.certman(f.c, ['sync', '--cert-name', 'not-there.example']);
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /no certificate named not-there\.example in the store/);
    } finally {
      await f.serve.stop();
    }
  });

  it('sync --watch follows renewals on A; a Redis restart under it and serve-challenge: both recover', async () => {
    const f = await fleet('sync-watch');
    // C's deploy hook from its own config file this time.
    await writeFile(join(f.c, 'certman.config.json'), JSON.stringify({ hooks: { deploy: f.hook } }));
    const watch = startWatch(node(f.prefix, f.c));
    try {
      const name = uniqueName('watch');
      const issued = await f.certman(f.a, ['issue', '-d', name, '--responder']);
      assert.equal(issued.code, 0, issued.stderr);
      const live = join(f.c, 'live', name, 'cert.pem');
      const sameAsA = async () => {
        const [mine, theirs] = await Promise.all([readFile(live, 'utf8').catch(() => ''), readFile(join(f.a, 'live', name, 'cert.pem'), 'utf8')]);
        return mine === theirs ? true : undefined;
      };
      await until('the issued certificate on C', sameAsA);
      await until('the first hook run', async () => ((await lines(f.hookLog)).length === 1 ? true : undefined));

      const renewed = await f.certman(f.a, ['renew', '--force', '--no-random-sleep', '--cert-name', name]);
      assert.equal(renewed.code, 0, renewed.stderr);
      await until('the renewal on C', sameAsA);
      await until('the second hook run', async () => ((await lines(f.hookLog)).length === 2 ? true : undefined));

      // A token serve-challenge has answered once, then Redis goes away.
      const seen = 'tok-seen-before-the-outage';
      const writer = createClient({ url: redis.url });
      writer.on('error', () => undefined);
      await writer.connect();
      const publish = async (token: string) => {
        const entry = newTokenEntry(token, `${token}.thumbprint`, 'fleet.example', 600_000, Date.now());
        await writer.set(`${f.prefix}token:${token}`, encodeTokenEntry(entry), { expiration: { type: 'PX', value: 600_000 } });
      };
      await publish(seen);
      assert.equal((await challenge(f.serve.port, seen)).status, 200);
      await redis.restart(async () => {
        const during = await challenge(f.serve.port, seen);
        assert.equal(during.status, 200, 'answered from what serve-challenge had while Redis is down');
        assert.equal(during.body, `${seen}.thumbprint`);
        assert.equal((await challenge(f.serve.port, 'tok-never-seen')).status, 503);
        await until('the watcher noticing the outage', async () => (/warning: lost the store/.test(watch.stderr()) ? true : undefined), 20_000);
        await sleep(2000);
      });
      assert.equal(watch.stderr().match(/warning:/g)?.length, 1, `one warning for the outage:\n${watch.stderr()}`);
      await until('the watcher back', async () => (/store reachable again/.test(watch.stderr()) ? true : undefined));

      const fresh = 'tok-after-the-restart';
      await until('the test client back', async () => (writer.isReady ? true : undefined));
      await publish(fresh);
      await until('a token published after the restart answered', async () => ((await challenge(f.serve.port, fresh)).status === 200 ? true : undefined));
      await writer.close();

      const again = await f.certman(f.a, ['renew', '--force', '--no-random-sleep', '--cert-name', name]);
      assert.equal(again.code, 0, again.stderr);
      await until('the renewal after the restart on C', sameAsA);
      await until('the third hook run', async () => ((await lines(f.hookLog)).length === 3 ? true : undefined));
      const hookLines = await lines(f.hookLog);
      assert.deepEqual(new Set(hookLines), new Set([`${join(f.c, 'live', name)} ${name}`]), 'each run for this lineage, with its folder and names');
    } finally {
      const code = await watch.stop();
      await f.serve.stop();
      assert.equal(code, 0, watch.stderr());
      assert.match(watch.stderr(), /sync stopped \(SIGTERM\)/);
      assert.equal((JSON.parse(watch.stdout() || '{}') as { stopped?: string }).stopped, undefined, 'no --json: nothing on stdout');
    }
  });

  it('sync --watch carries on through a Sentinel failover, and a renewal after it reaches the host', async () => {
    const { startSentinels } = await import('../harness/sentinel.js');
    const sentinels = await startSentinels();
    try {
      const [a, c] = await Promise.all([tempDir('node-a'), tempDir('node-c')]);
      const env = (dir: string) => ({ ...certmanEnv(suite.pebble, dir), CERTMAN_STORE: sentinels.url, CERTMAN_STORE_KEY: STORE_KEY });
      // Host A's own standalone port: a shared store keeps none.
      await writeFile(join(a, 'certman.config.json'), JSON.stringify({ httpPort: suite.pebble.httpPort, httpAddress: '127.0.0.1' }));
      const onA = (args: string[]) => suite.certman(a, args, env(a));
      assert.equal((await onA(['register', '--email', 'ops@example.com', '--agree-tos'])).code, 0);
      const name = uniqueName('failover');
      const issued = await onA(['issue', '-d', name, '--standalone']);
      assert.equal(issued.code, 0, issued.stderr);
      const watch = startWatch(env(c));
      try {
        const sameAsA = async () => {
          const [mine, theirs] = await Promise.all([readFile(join(c, 'live', name, 'cert.pem'), 'utf8').catch(() => ''), readFile(join(a, 'live', name, 'cert.pem'), 'utf8')]);
          return mine === theirs ? true : undefined;
        };
        await until('the certificate on C', sameAsA);
        await sentinels.waitForReplica();
        await sentinels.killMaster();
        const renewed = await onA(['renew', '--force', '--no-random-sleep', '--cert-name', name]);
        assert.equal(renewed.code, 0, renewed.stdout + renewed.stderr);
        await until('the renewal after the failover on C', sameAsA, 60_000);
      } finally {
        assert.equal(await watch.stop(), 0, watch.stderr());
      }
    } finally {
      await sentinels.stop();
    }
  });
});
