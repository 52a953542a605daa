// Proves the e2e harness itself: Pebble + challtestsrv, mock DNS, nginx, cleanup.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  cleanupTempDirs,
  cliEnv,
  freePort,
  httpRequestText,
  livePids,
  repoRoot,
  startNginx,
  startPebble,
  tempDir,
  uniqueName,
  type PebbleEnv,
} from '../harness/index.js';

/** True while pid runs; a zombie (dead, reparented to a PID 1 that does not reap) counts as gone. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Waits up to `ms` for a process to disappear (a SIGKILL is delivered asynchronously). */
async function gone(pid: number, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

function resolverFor(pebble: PebbleEnv): Resolver {
  const resolver = new Resolver({ timeout: 1000, tries: 2 });
  resolver.setServers([`127.0.0.1:${pebble.dnsPort}`]);
  return resolver;
}

describe('e2e harness', () => {
  let pebble: PebbleEnv;

  before(async () => {
    pebble = await startPebble({ nonceRejectPercent: 5 });
  });

  after(async () => {
    if (pebble as PebbleEnv | undefined) {
      await pebble.stop();
      assert.ok(await gone(pebble.pids.pebble), 'pebble is gone after stop()');
      assert.ok(await gone(pebble.pids.challtestsrv), 'challtestsrv is gone after stop()');
    }
    await cleanupTempDirs();
  });

  it('serves an ACME directory over HTTPS signed by the generated CA', async () => {
    const ca = await readFile(pebble.caFile, 'utf8');
    assert.match(ca, /-----BEGIN CERTIFICATE-----/);
    const res = await httpRequestText(pebble.directoryUrl, { ca });
    assert.equal(res.status, 200);
    const directory = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(typeof directory.newOrder, 'string');
    assert.equal(typeof directory.newNonce, 'string');
    assert.match(pebble.directoryUrl, /^https:\/\/127\.0\.0\.1:\d+\/dir$/);
    assert.ok(pebble.log().includes('Configured to reject 5% of good nonces'), 'nonce rejection is configured');
  });

  it('refuses the listener certificate without the CA', async () => {
    await assert.rejects(httpRequestText(pebble.directoryUrl), /self[- ]signed|unable to (get|verify)|certificate/i);
  });

  it('exposes the management API', async () => {
    assert.match(await pebble.rootPem(), /-----BEGIN CERTIFICATE-----/);
    assert.match(await pebble.intermediatePem(), /-----BEGIN CERTIFICATE-----/);
    assert.equal(await pebble.certStatus('0123abcd'), 'NotFound');
  });

  it('answers A queries with 127.0.0.1 and honours overrides', async () => {
    const resolver = resolverFor(pebble);
    const name = uniqueName('dns');
    assert.deepEqual(await resolver.resolve4(name), ['127.0.0.1']);
    await pebble.addA(name, '127.0.0.2');
    assert.deepEqual(await resolver.resolve4(name), ['127.0.0.2']);
    await pebble.clearA(name);
    assert.deepEqual(await resolver.resolve4(name), ['127.0.0.1']);

    const broken = uniqueName('servfail');
    await pebble.setServfail(broken);
    await assert.rejects(resolver.resolve4(broken), (err: NodeJS.ErrnoException) => err.code === 'ESERVFAIL');
    await pebble.clearServfail(broken);
    assert.deepEqual(await resolver.resolve4(broken), ['127.0.0.1']);

    const txtName = `_acme-challenge.${uniqueName('txt')}`;
    await pebble.setTxt(txtName, 'hello');
    assert.deepEqual(await resolver.resolveTxt(txtName), [['hello']]);
    await pebble.clearTxt(txtName);
  });

  it('counts validations per identifier (none yet for a fresh name)', () => {
    assert.equal(pebble.validationsFor(uniqueName('never')), 0);
  });

  it('starts nginx serving a directory and stops it completely', async () => {
    const root = await tempDir('webroot');
    await mkdir(join(root, '.well-known', 'acme-challenge'), { recursive: true });
    await writeFile(join(root, '.well-known', 'acme-challenge', 'token123'), 'token123.thumbprint');
    const port = await freePort();
    const nginx = await startNginx({ port, root });
    try {
      assert.equal(nginx.url, `http://127.0.0.1:${port}`);
      const ok = await httpRequestText(`${nginx.url}/.well-known/acme-challenge/token123`);
      assert.equal(ok.status, 200);
      assert.equal(ok.body, 'token123.thumbprint');
      const missing = await httpRequestText(`${nginx.url}/.well-known/acme-challenge/nope`);
      assert.equal(missing.status, 404);
    } finally {
      await nginx.stop();
    }
    assert.equal(isAlive(nginx.pid), false, 'nginx master is gone');
    await assert.rejects(httpRequestText(`${nginx.url}/`, { timeoutMs: 1000 }), /ECONNREFUSED/);
    assert.equal(existsSync(nginx.dir), false, 'nginx temp dir removed');
  });

  it('honours validitySeconds and a fixed httpPort, and stop() leaves no process behind', async () => {
    const httpPort = await freePort();
    const other = await startPebble({ validitySeconds: 600, httpPort });
    const { pebble: pebblePid, challtestsrv: ctsPid } = other.pids;
    try {
      assert.equal(other.httpPort, httpPort);
      assert.ok(other.log().includes('Using certificate validity period of 600 seconds'), other.log());
      assert.ok(isAlive(pebblePid) && isAlive(ctsPid));
      assert.notEqual(other.directoryUrl, pebble.directoryUrl);
    } finally {
      await other.stop();
    }
    assert.equal(isAlive(pebblePid), false, 'pebble process is gone');
    assert.equal(isAlive(ctsPid), false, 'challtestsrv process is gone');
    assert.equal(existsSync(other.dir), false, 'pebble temp dir removed');
    assert.ok(!livePids().includes(pebblePid) && !livePids().includes(ctsPid));
    await other.stop(); // idempotent
  });

  for (const how of ['crash', 'SIGTERM'] as const) {
    it(`leaves no orphans when the test process dies (${how})`, async () => {
      const dir = await tempDir('orphan');
      const script = join(dir, 'child.mts');
      const harness = new URL('../harness/pebble.ts', import.meta.url).href;
      await writeFile(
        script,
        [
          `import { startPebble } from ${JSON.stringify(harness)};`,
          'const env = await startPebble();',
          'process.stdout.write(JSON.stringify({ ...env.pids, dir: env.dir }) + "\\n");',
          how === 'crash' ? 'setTimeout(() => { throw new Error("boom"); }, 50);' : 'setInterval(() => {}, 1000);',
          '',
        ].join('\n'),
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: repoRoot,
        env: cliEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
      const exited = once(child, 'close');
      const deadline = Date.now() + 20_000;
      while (!out.includes('\n')) {
        assert.ok(child.exitCode === null, `child exited early: ${err}`);
        assert.ok(Date.now() < deadline, `child did not report its pids: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const pids = JSON.parse(out.trim()) as { pebble: number; challtestsrv: number; dir: string };
      assert.ok(existsSync(pids.dir));
      assert.ok(isAlive(pids.pebble) && isAlive(pids.challtestsrv));
      if (how === 'SIGTERM') child.kill('SIGTERM');
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      if (how === 'crash') assert.notEqual(code, 0);
      else assert.equal(signal, 'SIGTERM');
      assert.ok(await gone(pids.pebble), 'pebble was killed with its parent');
      assert.ok(await gone(pids.challtestsrv), 'challtestsrv was killed with its parent');
      assert.equal(existsSync(pids.dir), false, 'its temp dir was removed');
    });
  }

  it('builds a clean CLI environment', () => {
    process.env.CERTMAN_LEAK_TEST = 'x';
    try {
      const env = cliEnv({ CERTMAN_SERVER: 'https://127.0.0.1:1/dir', NO_COLOR: undefined });
      assert.equal(env.CERTMAN_LEAK_TEST, undefined);
      assert.equal(env.CERTMAN_SERVER, 'https://127.0.0.1:1/dir');
      assert.equal(env.CI, 'true');
      assert.equal('NO_COLOR' in env, false);
      assert.equal(cliEnv().NO_COLOR, '1');
    } finally {
      delete process.env.CERTMAN_LEAK_TEST;
    }
  });

  it('gives fresh DNS names', () => {
    const a = uniqueName('Issue Test');
    const b = uniqueName('Issue Test');
    assert.notEqual(a, b);
    assert.match(a, /^issue-test-[0-9a-f]{10}\.certman\.test$/);
  });
});
