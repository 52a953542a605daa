// `certman renew` stopped by Ctrl-C or SIGTERM (systemctl stop): nothing new starts, an order in flight
// answers no further challenge, live files stay as they were, hooks stay balanced, exit 130.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request, createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { certmanEnv, runCli, signalOnStderr, tempDir, type RunOptions } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();

interface RenewJson {
  interrupted: boolean;
  results: { name: string; status: string; reason?: string }[];
  hooks: { kind: string }[];
}

const liveCert = (dir: string, name: string) => readFile(join(dir, 'live', name, 'cert.pem'), 'utf8');

function renew(dir: string, args: string[], options: RunOptions = {}) {
  return runCli(['--json', 'renew', '--force', ...args], { ...options, env: { ...certmanEnv(suite.pebble, dir), ...options.env } });
}

describe('renew, interrupted', () => {
  it('SIGTERM during the random sleep ends the run at once: nothing renewed, no hooks, exit 130', async () => {
    const { dir, names } = await suite.issued(1, 'intsleep');
    const before = await liveCert(dir, names[0] ?? '');
    const out = await tempDir('hooks');
    const r = await renew(dir, ['-v', '--random-sleep', '600', '--pre-hook', `touch ${out}/pre`, '--post-hook', `touch ${out}/post`], {
      onSpawn: (child) => signalOnStderr(child, 'sleeping', 'SIGTERM'),
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 130, r.stdout + r.stderr);
    const body = json<RenewJson>(r);
    assert.equal(body.interrupted, true);
    assert.deepEqual(body.results.map((x) => [x.status, x.reason]), [['skipped', 'interrupted before it started']]);
    assert.deepEqual(body.hooks, []);
    assert.equal(await liveCert(dir, names[0] ?? ''), before);
  });

  it('Ctrl-C while one certificate renews: it finishes, the next never starts, post-hook runs, exit 130', async () => {
    const { dir, names } = await suite.issued(2, 'intnext');
    const second = await liveCert(dir, names[1] ?? '');
    const out = await tempDir('hooks');
    // Hooks are children of certman: the first deploy hook presses Ctrl-C for the user.
    const r = await renew(dir, [
      '--no-random-sleep', '--concurrency', '1',
      '--deploy-hook', 'kill -INT $PPID; sleep 0.3',
      '--post-hook', `echo "$RENEWED_DOMAINS" > ${out}/post`,
    ]);
    assert.equal(r.code, 130, r.stdout + r.stderr);
    const body = json<RenewJson>(r);
    assert.equal(body.interrupted, true);
    assert.deepEqual(body.results.map((x) => [x.name, x.status]), [[names[0], 'renewed'], [names[1], 'skipped']]);
    assert.equal(await readFile(join(out, 'post'), 'utf8'), `${names[0]}\n`);
    assert.equal(await liveCert(dir, names[1] ?? ''), second);
  });

  it('Ctrl-C during the self-check: the challenge is never answered, no validation is spent, live files kept', async () => {
    const { dir, names } = await suite.issued(1, 'intcheck');
    const name = names[0] ?? '';
    const before = await liveCert(dir, name);
    const validations = suite.pebble.validationsFor(name);
    await suite.freshAccount(dir);
    let pid = 0;
    // Stands where the CA would connect: interrupts certman, then answers right (from certman's own server).
    const checkpoint: Server = createServer((req, res) => {
      process.kill(pid, 'SIGINT');
      setTimeout(() => {
        const upstream = request({ host: '127.0.0.1', port: suite.pebble.httpPort, path: req.url, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.on('error', () => res.writeHead(502).end());
        upstream.end();
      }, 300);
    });
    await new Promise<void>((resolve) => checkpoint.listen(0, '127.0.0.1', resolve));
    const address = checkpoint.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const r = await renew(dir, ['--no-random-sleep'], {
        env: { CERTMAN_VALIDATION_PORT: String(port) },
        onSpawn: (child) => (pid = child.pid ?? 0),
      });
      assert.equal(r.code, 130, r.stdout + r.stderr);
      const body = json<RenewJson>(r);
      assert.deepEqual(body.results.map((x) => [x.status, x.reason]), [['skipped', 'interrupted; its live files are untouched']]);
    } finally {
      checkpoint.close();
    }
    assert.equal(suite.pebble.validationsFor(name), validations, 'Pebble validated nothing after the interrupt');
    assert.equal(await liveCert(dir, name), before);
  });
});
