// Leases per certificate, with the real CLI on one config dir: runs on different certificates work side by
// side, one certificate is renewed once however many runs want it, a held certificate is neither deleted
// nor renewed twice, and a run that lost its lease (stopped longer than it lasts) saves nothing.
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertStoreSound, certmanEnv, signalOnStderr, startServeChallenge, tempDir, uniqueName, type RunResult } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';
import { HOLD, holdFiles, meetHook, onStderr, waitForFile } from './hold.js';
import { liveSerial, storeRuns } from './store-runs.js';

const suite = pebbleSuite();
const { run } = storeRuns(suite);

interface RenewJson {
  summary: { renewed: number; held: number; notDue: number; failed: number };
  results: { name: string; status: string; reason?: string; error?: { message: string } }[];
  log: string;
}

const NO_SLEEP = '--no-random-sleep';

/** Makes the stored metadata say the certificate expired, so that a renew without --force finds it due. */
async function markExpired(dir: string, name: string): Promise<void> {
  const file = join(dir, 'renewal', `${name}.json`);
  const meta = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFile(file, JSON.stringify({ ...meta, notAfter: '2020-01-02T00:00:00.000Z' }));
}

async function versionOf(dir: string, name: string): Promise<number> {
  return (JSON.parse(await readFile(join(dir, 'renewal', `${name}.json`), 'utf8')) as { version: number }).version;
}

function explain(r: RunResult): string {
  return `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
}

describe('leases per certificate', () => {
  it('renew --cert-name A and renew --cert-name B run side by side: each pre-hook waits for the other to start', async () => {
    // Two runs on one host cannot both bind the validation port: they publish through serve-challenge.
    const dir = await suite.registeredDir();
    const serve = await startServeChallenge(certmanEnv(suite.pebble, dir), suite.pebble.httpPort);
    try {
      const names = [uniqueName('side0'), uniqueName('side1')];
      for (const name of names) {
        const r = await run(dir, ['issue', '-d', name, '--responder']);
        assert.equal(r.code, 0, explain(r));
      }
      await renewSideBySide(dir, names);
    } finally {
      await serve.stop();
    }
  });

  it('runs side by side on one standalone port take turns on it (a port lock per host) instead of failing "in use"', async () => {
    const { dir, names } = await suite.issued(2, 'port');
    await renewSideBySide(dir, names);
  });

  async function renewSideBySide(dir: string, names: string[]): Promise<void> {
    const marks = await tempDir('side');
    // Each run's pre-hook (run holding its certificate's lease) waits until both have started: under one lock
    // for the config dir, the second would never start while the first waits, and both hooks would time out.
    const meet = meetHook(2);
    const before = await Promise.all(names.map((n) => liveSerial(dir, n)));
    const results = await Promise.all(
      names.map((name) => run(dir, ['--json', 'renew', '--cert-name', name, '--force', NO_SLEEP, '--pre-hook', meet], { env: { MARKS: marks } })),
    );
    for (const r of results) {
      assert.equal(r.code, 0, explain(r));
      assert.equal(json<RenewJson>(r).summary.renewed, 1);
    }
    assert.equal((await readdir(marks)).length, 2);
    const after = await Promise.all(names.map((n) => liveSerial(dir, n)));
    names.forEach((n, i) => assert.notEqual(after[i], before[i], n));
    await assertStoreSound(dir, { names });
  }

  it('one certificate wanted by many runs at once is renewed once; the others report it held (75) or, with --wait, find it renewed', async () => {
    const { dir, names } = await suite.issued(2, 'once');
    const [name = '', other = ''] = names;
    await markExpired(dir, name);
    const hold = await holdFiles();
    const first = run(dir, ['--json', 'renew', '--cert-name', name, NO_SLEEP, '--pre-hook', HOLD], { env: hold.env });
    await waitForFile(hold.started, 'the first run to hold the certificate');
    const serial = await liveSerial(dir, name);

    const held = await run(dir, ['--json', 'renew', '--cert-name', name, NO_SLEEP]);
    assert.equal(held.code, 75, explain(held));
    const heldJson = json<RenewJson>(held);
    assert.deepEqual(heldJson.results.map((r) => [r.name, r.status]), [[name, 'held']]);
    assert.equal(heldJson.summary.held, 1);
    assert.match(heldJson.results[0]?.reason ?? '', /another certman run \(pid \d+/);
    assert.match(await readFile(heldJson.log, 'utf8'), new RegExp(`held +${name}: another certman run`));

    const human = await run(dir, ['renew', '--cert-name', name, NO_SLEEP]);
    assert.equal(human.code, 75, explain(human));
    assert.match(human.stdout, new RegExp(`held +${name}: `));
    assert.match(human.stdout, /0 renewed, 0 not due, 0 deferred, 0 skipped, 1 held by another run, 0 failed/);

    // A run over every certificate leaves the held one to its holder and does the rest: exit 0.
    const all = await run(dir, ['--json', 'renew', NO_SLEEP]);
    assert.equal(all.code, 0, explain(all));
    assert.deepEqual(json<RenewJson>(all).results.map((r) => [r.name, r.status]).sort(), [[name, 'held'], [other, 'not-due']].sort());

    // Neither delete nor revoke --delete takes a certificate from under a renewal.
    for (const args of [['delete', '--cert-name', name, '-y'], ['revoke', '--cert-name', name, '--delete']]) {
      const r = await run(dir, args);
      assert.equal(r.code, 75, `${args.join(' ')}: ${explain(r)}`);
      assert.match(r.stderr, /another certman run/);
      assert.equal(await liveSerial(dir, name), serial, args.join(' '));
    }

    // --wait waits for the lease and ends at SIGTERM like any renew (exit 130, nothing started).
    const stopped = await run(dir, ['-v', '--json', 'renew', '--cert-name', name, NO_SLEEP, '--wait'], {
      onSpawn: (child) => signalOnStderr(child, `waiting for ${name}`, 'SIGTERM'),
    });
    assert.equal(stopped.code, 130, explain(stopped));
    assert.deepEqual(json<RenewJson>(stopped).results.map((r) => [r.name, r.status]), [[name, 'skipped']]);

    // A --wait run decided "due" before it got the lease; holding it, it sees the renewal that was made meanwhile.
    const waiter = run(dir, ['-v', '--json', 'renew', '--cert-name', name, NO_SLEEP, '--wait'], {
      onSpawn: (child) => onStderr(child, `waiting for ${name}`, () => void writeFile(hold.go, '')),
    });
    const [firstDone, waited] = await Promise.all([first, waiter]);
    assert.equal(firstDone.code, 0, explain(firstDone));
    assert.deepEqual(json<RenewJson>(firstDone).results.map((r) => [r.name, r.status]), [[name, 'renewed']]);
    assert.equal(waited.code, 0, explain(waited));
    assert.deepEqual(json<RenewJson>(waited).results.map((r) => [r.name, r.status]), [[name, 'not-due']]);
    assert.equal(await versionOf(dir, name), 2, 'renewed exactly once');
    assert.notEqual(await liveSerial(dir, name), serial);
    await assertStoreSound(dir, { names });
  });

  it('a run stopped longer than its lease loses it: another takes over and renews, and the first saves nothing', async () => {
    const { dir, names } = await suite.issued(1, 'lost');
    const [name = ''] = names;
    const hold = await holdFiles();
    // The first run works "on another host" (its own UTS namespace), where its pid means nothing: its lease
    // holds only until it expires. Stopped, it cannot extend it.
    let pid = 0;
    const first = run(dir, ['--json', 'renew', '--cert-name', name, '--force', NO_SLEEP, '--pre-hook', HOLD], {
      env: { ...hold.env, CERTMAN_LEASE_SECONDS: '3' },
      prefix: ['unshare', '--uts', 'sh', '-c', 'hostname certman-other-host && exec "$@"', 'sh'],
      onSpawn: (child) => (pid = child.pid ?? 0),
    });
    await waitForFile(hold.started, 'the first run to hold the certificate');
    process.kill(pid, 'SIGSTOP');
    let resumed = false;
    try {
      await writeFile(hold.go, ''); // its hook ends; the run itself stays stopped
      const second = await run(dir, ['--json', 'renew', '--cert-name', name, '--force', NO_SLEEP, '--wait']);
      assert.equal(second.code, 0, explain(second));
      assert.deepEqual(json<RenewJson>(second).results.map((r) => [r.name, r.status]), [[name, 'renewed']]);
      const serial = await liveSerial(dir, name);
      process.kill(pid, 'SIGCONT');
      resumed = true;
      const lost = await first;
      assert.equal(lost.code, 1, explain(lost));
      const result = json<RenewJson>(lost).results[0];
      assert.equal(result?.status, 'failed');
      assert.match(result?.error?.message ?? '', /lost the lease on .*nothing was saved/);
      assert.equal(await liveSerial(dir, name), serial, 'the second run’s certificate stays live');
      assert.equal(await versionOf(dir, name), 2, 'only the second run saved a version');
      await assertStoreSound(dir, { names });
    } finally {
      if (!resumed) process.kill(pid, 'SIGCONT');
    }
  });

  it('two issue runs on a config dir without an account register one account: the second finds it under the account lease', async () => {
    const dir = await tempDir('cfg');
    const serve = await startServeChallenge(certmanEnv(suite.pebble, dir), suite.pebble.httpPort);
    try {
      const names = [uniqueName('acct0'), uniqueName('acct1')];
      const results = await Promise.all(names.map((name) => run(dir, ['issue', '-d', name, '--responder', '--email', 'ops@example.com', '--agree-tos'])));
      for (const r of results) assert.equal(r.code, 0, explain(r));
      const accounts = await Promise.all(names.map(async (n) => (JSON.parse(await readFile(join(dir, 'renewal', `${n}.json`), 'utf8')) as { accountUrl: string }).accountUrl));
      assert.equal(accounts[0], accounts[1], 'both certificates belong to the one stored account');
      const shown = json<{ account: { url: string } }>(await run(dir, ['--json', 'account']));
      assert.equal(shown.account.url, accounts[0]);
    } finally {
      await serve.stop();
    }
  });

  it('CERTMAN_LEASE_SECONDS is checked like any setting', async () => {
    const dir = await suite.registeredDir();
    const r = await run(dir, ['renew', NO_SLEEP], { env: { CERTMAN_LEASE_SECONDS: '1' } });
    assert.equal(r.code, 2, explain(r));
    assert.match(r.stderr, /CERTMAN_LEASE_SECONDS.*whole number of seconds from 2 to 3600/);
  });
});
