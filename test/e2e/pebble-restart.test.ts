// Pebble restarted while `renew` runs: it forgets every account, order and nonce. certman registers the
// stored key again where that is safe (no EAB required, the terms it agreed to unchanged), orders again
// what was lost, and otherwise says what to run; no certificate is lost either way.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serverKey } from '../../src/store/fs/names.js';
import { certmanEnv, runCli, startFaultProxy, tempDir, uniqueName, type FaultProxy, type RunResult } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';
import { assertIntact, liveVersions } from './store-check.js';

const suite = pebbleSuite();

interface RenewJson {
  summary: { renewed: number; failed: number };
  results: { name: string; status: string; error?: { message: string; hint?: string } }[];
}

describe('Pebble restarted in the middle of a run', () => {
  // Inside the suite, so it runs after the fixture's root-level hook has started Pebble.
  let proxy: FaultProxy;
  before(async () => {
    proxy = await startFaultProxy(suite.pebble);
  });
  after(async () => {
    await proxy?.stop();
  });

  const certman = (dir: string, args: string[]): Promise<RunResult> => suite.certman(dir, args, { CERTMAN_SERVER: proxy.directoryUrl });
  const accountFile = (dir: string): string => join(dir, 'accounts', serverKey(proxy.directoryUrl), 'account.json');

  async function issued(label: string, count: number): Promise<{ dir: string; names: string[] }> {
    const dir = await tempDir('restart');
    const reg = await certman(dir, ['register', '--email', 'ops@example.com', '--agree-tos']);
    assert.equal(reg.code, 0, reg.stderr);
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const name = uniqueName(`${label}${i}`);
      const r = await certman(dir, ['issue', '-d', name, ...suite.standalone()]);
      assert.equal(r.code, 0, r.stderr);
      names.push(name);
    }
    return { dir, names };
  }

  /** Starts `renew --force`, restarts Pebble while the run's first finalize is held, and waits for the run. */
  async function renewAcrossRestart(dir: string): Promise<RunResult> {
    proxy.clear();
    const held = proxy.hold('finalize');
    const run = runCli(['--json', 'renew', '--force', '--no-random-sleep', '--concurrency', '1'], {
      env: { ...certmanEnv(suite.pebble, dir), CERTMAN_SERVER: proxy.directoryUrl },
    });
    await held.arrived;
    await suite.pebble.restart();
    held.release();
    return run;
  }

  it('registers the stored key again, orders again what the CA lost, and renews every certificate', async () => {
    const { dir, names } = await issued('restart', 3);
    const before = await liveVersions(dir);
    const lost = (JSON.parse(await readFile(accountFile(dir), 'utf8')) as { url: string }).url;

    const r = await renewAcrossRestart(dir);
    const run = json<RenewJson>(r);
    assert.deepEqual(run.results.map((x) => `${x.name} ${x.status}`), names.map((n) => `${n} renewed`), r.stderr);
    assert.equal(r.code, 0);
    const account = JSON.parse(await readFile(accountFile(dir), 'utf8')) as { url: string; termsAgreed?: unknown };
    assert.notEqual(account.url, lost);
    assert.ok(r.stderr.includes(`no longer knew account ${lost}; registered the same key again as ${account.url}`), r.stderr);
    assert.match(r.stderr, /lost the order for .* ordering again/);

    const after = await assertIntact(dir, before, () => certman(dir, ['--json', 'certificates']));
    for (const name of names) {
      assert.equal(after.get(name), 2);
      const meta = JSON.parse(await readFile(join(dir, 'renewal', `${name}.json`), 'utf8')) as { accountUrl: string; serial: string };
      assert.equal(meta.accountUrl, account.url, `${name} records the account that ordered it`);
      assert.equal(await suite.pebble.certStatus(meta.serial), 'Valid', 'issued by the restarted Pebble');
    }
  });

  it('an account whose terms agreement certman has no record of: a message saying what to run, and nothing lost', async () => {
    const { dir, names } = await issued('noterms', 2);
    // As stored by certman versions that did not record the terms agreed to.
    const file = accountFile(dir);
    const { termsAgreed, ...legacy } = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(termsAgreed, { url: 'data:text/plain,Do%20what%20thou%20wilt' });
    await writeFile(file, JSON.stringify(legacy));
    const before = await liveVersions(dir);

    const r = await renewAcrossRestart(dir);
    assert.equal(r.code, 1);
    for (const result of json<RenewJson>(r).results) {
      assert.equal(result.status, 'failed');
      assert.match(result.error?.message ?? '', /no longer knows account .* certman did not register it again: certman has no record of which terms of service/);
      assert.match(result.error?.hint ?? '', /run certman register --server \S+ --agree-tos/);
    }
    assert.deepEqual(await assertIntact(dir, before, () => certman(dir, ['--json', 'certificates'])), before);

    // Doing what it says brings renewals back.
    const reg = await certman(dir, ['register', '--agree-tos']);
    assert.equal(reg.code, 0, reg.stderr);
    const again = await certman(dir, ['--json', 'renew', '--force', '--no-random-sleep']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(json<RenewJson>(again).summary.renewed, names.length);
  });
});
