// A config dir that cannot be written (a full disk, a read-only mount), and three runs started at once on one
// config dir: a clear error naming the path, live/ exactly as it was, and no run that could not proceed silent.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertStoreSound, mountTmpfs, snapshotTree, tempDir, uniqueName, type Mounted, type RunResult } from '../harness/index.js';
import { pebbleSuite } from './fixture.js';
import { liveSerial, RENEW, storeRuns } from './store-runs.js';

const suite = pebbleSuite();
const { run, assertListed } = storeRuns(suite);

describe('a config dir that cannot be written', () => {
  let mount: Mounted | undefined;
  after(async () => {
    await mount?.unmount();
  });

  /** A config dir on a fresh 2 MiB tmpfs holding one certificate, and its live/ tree as it is. */
  async function storeOnTmpfs(label: string): Promise<{ dir: string; name: string; live: string[] }> {
    await mount?.unmount();
    mount = await mountTmpfs(2 * 1024 * 1024);
    const dir = join(mount.path, 'certman');
    const name = uniqueName(label);
    for (const args of [
      ['register', '--email', 'ops@example.com', '--agree-tos'],
      ['issue', '-d', name, ...suite.standalone()],
    ]) {
      const r = await run(dir, args);
      assert.equal(r.code, 0, r.stderr);
    }
    return { dir, name, live: await snapshotTree(join(dir, 'live')) };
  }

  it('the disk fills up before the renewed certificate is saved: exit 1 naming the file, live/ as it was', async () => {
    const { dir, name, live } = await storeOnTmpfs('full');
    const filler = join(mount?.path ?? '', 'filler');
    // The pre-hook runs once the lock is taken, before the order: it fills the disk.
    const r = await run(dir, [...RENEW, '--pre-hook', `head -c 100000000 /dev/zero > ${filler}; true`]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const failed = r.stdout.split('\n').find((line) => line.startsWith(`failed   ${name}: `)) ?? '';
    assert.match(failed, /no space left on device/i, r.stdout + r.stderr);
    assert.ok(failed.includes(join(dir, 'archive', name)), `names the file it could not write: ${failed}`);
    assert.deepEqual(await snapshotTree(join(dir, 'live')), live);
    await assertStoreSound(dir, { names: [name] });

    await rm(filler);
    const again = await run(dir, RENEW);
    assert.equal(again.code, 0, again.stderr);
    await assertStoreSound(dir, { names: [name] });
  });

  it('a disk full before the run: exit 1 naming the lock file it could not write, live/ as it was', async () => {
    const { dir, name, live } = await storeOnTmpfs('fullearly');
    // Written until the disk is full; what was written stays.
    await writeFile(join(mount?.path ?? '', 'filler'), Buffer.alloc(4 * 1024 * 1024)).catch((err: NodeJS.ErrnoException) => assert.equal(err.code, 'ENOSPC'));
    const r = await run(dir, RENEW);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /no space left on device/i);
    assert.ok(r.stderr.includes(join(dir, '.locks')), r.stderr);
    assert.deepEqual(await snapshotTree(join(dir, 'live')), live);
    await assertStoreSound(dir, { names: [name] });
  });

  it('a read-only config dir: renew and issue exit 1 naming the path, live/ as it was; listing still works', async () => {
    const { dir, name, live } = await storeOnTmpfs('readonly');
    await mount?.readOnly();
    for (const args of [RENEW, ['issue', '-d', uniqueName('readonly-new'), ...suite.standalone()]]) {
      const r = await run(dir, args);
      assert.equal(r.code, 1, `${args.join(' ')}:\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /read-only file system/i);
      assert.ok(r.stderr.includes(dir), r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    assert.deepEqual(await snapshotTree(join(dir, 'live')), live);
    await assertStoreSound(dir, { names: [name] });
    await assertListed(dir, [name]);
  });
});

describe('two renew and one issue started together on one config dir', () => {
  /** A pre-hook holding whoever took the lock until the test creates $GO. */
  const HOLD = 'until [ -e "$GO" ]; do sleep 0.05; done';

  it('one runs, the other two exit 75 naming the run that holds the lock; nothing is damaged', async () => {
    const { dir, names } = await suite.issued(2, 'together');
    const fresh = uniqueName('together-new');
    const go = join(await tempDir('go'), 'go');
    const before = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await liveSerial(dir, n)] as const)));
    const pids: number[] = [0, 0, 0];
    const done: (RunResult | undefined)[] = [undefined, undefined, undefined];
    const runs = [RENEW, RENEW, ['issue', '-d', fresh, ...suite.standalone()]].map((args, i) =>
      run(dir, [...args, '--pre-hook', HOLD], { env: { GO: go }, onSpawn: (c) => (pids[i] = c.pid ?? 0) }).then((r) => (done[i] = r)),
    );
    // However late the other two start, the lock is held: its holder waits for $GO.
    const deadline = Date.now() + 60_000;
    while (done.filter(Boolean).length < 2) {
      assert.ok(Date.now() < deadline, 'two of the three should have stopped at the lock');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await writeFile(go, '');
    const results = await Promise.all(runs);

    const refused = results.filter((r) => r.code === 75);
    assert.equal(refused.length, 2, results.map((r) => `exit ${r.code}: ${r.stderr}`).join('\n'));
    const winner = results.findIndex((r) => r.code !== 75);
    assert.equal(results[winner]?.code, 0, results[winner]?.stderr);
    for (const r of refused) {
      assert.ok(r.stderr.includes(`another certman run (pid ${pids[winner]}, started `) && r.stderr.includes(`holds the lock on ${dir}`), r.stderr);
      assert.match(r.stderr, /--wait/);
    }
    const issued = winner === 2;
    const stored = issued ? [...names, fresh] : names;
    await assertStoreSound(dir, { names: stored });
    for (const n of names) assert.equal((await liveSerial(dir, n)) === before[n], issued, `${n} renewed: ${!issued}`);
    await assertListed(dir, stored);
  });

  it('with --wait they run one after the other, and all three succeed', async () => {
    const { dir, names } = await suite.issued(2, 'queued');
    const fresh = uniqueName('queued-new');
    const go = join(await tempDir('go'), 'go');
    const runs = [RENEW, RENEW, ['issue', '-d', fresh, ...suite.standalone()]].map((args) =>
      run(dir, [...args, '--wait', '--pre-hook', HOLD], { env: { GO: go } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await writeFile(go, '');
    for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.stderr);
    await assertStoreSound(dir, { names: [...names, fresh] });
    for (const n of names) assert.equal((JSON.parse(await readFile(join(dir, 'renewal', `${n}.json`), 'utf8')) as { version: number }).version, 3, n);
  });
});
