// A config dir that cannot be written (a full disk, a read-only mount), and three runs started at once on one
// config dir: a clear error naming the path, live/ exactly as it was, each certificate renewed once.
import assert from 'node:assert/strict';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertStoreSound, certmanEnv, mountTmpfs, snapshotTree, startServeChallenge, tempDir, uniqueName, type Mounted, type RunResult, type ServeChallenge } from '../harness/index.js';
import { pebbleSuite } from './fixture.js';
import { RENEW, storeRuns } from './store-runs.js';

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
    // The pre-hook runs once the certificate's lease is taken, before the order: it fills the disk.
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
  /** A pre-hook that marks its run as holding (one file per hook) and holds it until the test creates $GO. */
  const HOLD = 'touch "$MARKS/$$"; i=0; until [ -e "$GO" ] || [ $i -ge 1200 ]; do sleep 0.05; i=$((i+1)); done';

  let serve: ServeChallenge | undefined;
  after(async () => {
    await serve?.stop();
  });

  /**
   * A config dir with two certificates ordered through serve-challenge (running on the port Pebble validates):
   * runs side by side on one host cannot all bind that port with --standalone.
   */
  async function issuedThroughResponder(label: string): Promise<{ dir: string; names: string[] }> {
    const dir = await suite.registeredDir();
    await serve?.stop();
    serve = await startServeChallenge(certmanEnv(suite.pebble, dir), suite.pebble.httpPort);
    const names = [uniqueName(`${label}0`), uniqueName(`${label}1`)];
    for (const name of names) {
      const r = await run(dir, ['issue', '-d', name, '--responder']);
      assert.equal(r.code, 0, r.stderr);
    }
    return { dir, names };
  }

  it('each certificate is renewed by one of the renews (the other finds it held), the issue runs beside them; nothing is damaged', async () => {
    const { dir, names } = await issuedThroughResponder('together');
    const fresh = uniqueName('together-new');
    const marks = await tempDir('marks');
    const go = join(await tempDir('go'), 'go');
    const done: (RunResult | undefined)[] = [undefined, undefined, undefined];
    const runs = [RENEW, RENEW, ['issue', '-d', fresh, '--responder']].map((args, i) =>
      run(dir, ['--json', ...args, '--pre-hook', HOLD], { env: { GO: go, MARKS: marks } }).then((r) => (done[i] = r)),
    );
    // Every run either holds a lease (and waits in its pre-hook) or found everything it wanted held and ended.
    const deadline = Date.now() + 60_000;
    while (done.filter(Boolean).length + (await readdir(marks)).length < 3) {
      assert.ok(Date.now() < deadline, 'each run should have taken its leases or ended');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await writeFile(go, '');
    const results = await Promise.all(runs);
    for (const r of results) assert.equal(r.code, 0, `exit ${r.code}: ${r.stdout}${r.stderr}`);

    const renewals = results.slice(0, 2).flatMap((r) => (JSON.parse(r.stdout) as { results: { name: string; status: string }[] }).results);
    for (const n of names) {
      assert.deepEqual(renewals.filter((x) => x.name === n).map((x) => x.status).sort(), ['held', 'renewed'], n);
      assert.equal((JSON.parse(await readFile(join(dir, 'renewal', `${n}.json`), 'utf8')) as { version: number }).version, 2, `${n} renewed once`);
    }
    await assertStoreSound(dir, { names: [...names, fresh] });
    await assertListed(dir, [...names, fresh]);
  });

  it('with --wait the renews take turns on each certificate (the later finds it renewed since it started), and all three succeed', async () => {
    const { dir, names } = await issuedThroughResponder('queued');
    const fresh = uniqueName('queued-new');
    const marks = await tempDir('marks');
    const go = join(await tempDir('go'), 'go');
    const runs = [RENEW, RENEW, ['issue', '-d', fresh, '--responder']].map((args) =>
      run(dir, [...args, '--wait', '--pre-hook', HOLD], { env: { GO: go, MARKS: marks } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await writeFile(go, '');
    for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.stderr);
    await assertStoreSound(dir, { names: [...names, fresh] });
    // --force renews what this run listed: the renew that waited finds each certificate renewed by the other since it started.
    for (const n of names) assert.equal((JSON.parse(await readFile(join(dir, 'renewal', `${n}.json`), 'utf8')) as { version: number }).version, 2, n);
  });
});
