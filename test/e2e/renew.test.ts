// Renewal decisions with short-lived certificates, and one failure not stopping the others.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, readlink, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniqueName } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

// 20-second certificates: due once half the lifetime has passed (lifetimes of 10 days or less).
const suite = pebbleSuite({ validitySeconds: 20 });

interface RenewJson {
  summary: { renewed: number; notDue: number; failed: number };
  results: { name: string; status: string; error?: { message: string; subproblems?: { identifier: string }[] } }[];
}

async function snapshot(dir: string, name: string): Promise<Record<string, string>> {
  const live = join(dir, 'live', name);
  const files: Record<string, string> = {};
  for (const f of await readdir(live)) files[f] = (await readlink(join(live, f)).catch(() => '')) + (await readFile(join(live, f), 'utf8'));
  return files;
}

describe('renew', () => {
  it('leaves a fresh certificate alone and renews it once half its short lifetime has passed', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('short');
    assert.equal((await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()])).code, 0);
    const early = json<RenewJson>(await suite.certman(dir, ['--json', 'renew', '--no-random-sleep']));
    assert.equal(early.summary.notDue, 1);
    const listed = json<{ status: string }[]>(await suite.certman(dir, ['--json', 'list']));
    assert.equal(listed[0]?.status, 'valid');

    await sleep(11_000);
    const listedLater = json<{ status: string }[]>(await suite.certman(dir, ['--json', 'list']));
    assert.equal(listedLater[0]?.status, 'due');
    const due = await suite.certman(dir, ['--json', 'renew', '--no-random-sleep']);
    assert.equal(due.code, 0, due.stderr);
    assert.equal(json<RenewJson>(due).summary.renewed, 1);
    assert.equal(await readlink(join(dir, 'live', name, 'cert.pem')), `../../archive/${name}/cert2.pem`);
  });

  it('--days makes a certificate due early', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('days');
    assert.equal((await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()])).code, 0);
    const r = json<RenewJson>(await suite.certman(dir, ['--json', 'renew', '--no-random-sleep', '--days', '1']));
    assert.equal(r.summary.renewed, 1);
  });

  it('keeps what operators keep in live/<name>/ (a deploy hook\'s combined PEM, dhparams, a folder) across renewals, from a real live folder on', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('extras');
    assert.equal((await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()])).code, 0);
    // live/<name> as certbot and certman before slots leave it: a real folder of links, plus the operator's own.
    const live = join(dir, 'live', name);
    const slot = join(dir, 'live', await readlink(live));
    await unlink(live);
    await rename(slot, live);
    await writeFile(join(dir, 'dhparams.pem'), 'DH');
    await symlink('../../dhparams.pem', join(live, 'dhparams.pem'));
    await mkdir(join(live, 'own'));
    await writeFile(join(live, 'own', 'note'), 'mine');
    // The usual HAProxy recipe: written after each renewal into the live folder.
    const hook = 'cat "$RENEWED_LINEAGE/fullchain.pem" "$RENEWED_LINEAGE/privkey.pem" > "$RENEWED_LINEAGE/haproxy.pem"';
    for (const round of [1, 2, 3]) {
      const r = await suite.certman(dir, ['renew', '--no-random-sleep', '--force', '--deploy-hook', hook]);
      assert.equal(r.code, 0, r.stderr);
      const read = (file: string) => readFile(join(live, file), 'utf8');
      assert.equal(await read('haproxy.pem'), (await read('fullchain.pem')) + (await read('privkey.pem')), `renewal ${round}: haproxy.pem is this version's`);
      assert.equal(await read('dhparams.pem'), 'DH', `renewal ${round}`);
      assert.equal(await read('own/note'), 'mine', `renewal ${round}`);
    }
    assert.equal(await readlink(join(live, 'cert.pem')), `../../archive/${name}/cert4.pem`);
  });

  it('keeps going after a failure, leaves the failed live files byte-identical, and exits 1', async () => {
    const dir = await suite.registeredDir();
    const good = uniqueName('good');
    const bad = uniqueName('bad');
    for (const name of [bad, good]) assert.equal((await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()])).code, 0);
    const before = await snapshot(dir, bad);
    await suite.freshAccount(dir);
    await suite.pebble.setServfail(bad);
    try {
      const r = await suite.certman(dir, ['--json', 'renew', '--no-random-sleep', '--force']);
      assert.equal(r.code, 1);
      const out = json<RenewJson>(r);
      assert.deepEqual([out.summary.renewed, out.summary.failed], [1, 1]);
      const failed = out.results.find((x) => x.name === bad);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.error?.subproblems?.[0]?.identifier, bad);
      const human = await suite.certman(dir, ['renew', '--no-random-sleep', '--force', '--cert-name', bad]);
      assert.equal(human.code, 1);
      assert.match(human.stdout, /0 renewed.*1 failed/);
      const quiet = await suite.certman(dir, ['-q', 'renew', '--no-random-sleep', '--cert-name', good]);
      assert.equal(quiet.stdout + quiet.stderr, '', 'quiet and nothing to do: silent for cron');
    } finally {
      await suite.pebble.clearServfail(bad);
    }
    assert.deepEqual(await snapshot(dir, bad), before);
  });
});
