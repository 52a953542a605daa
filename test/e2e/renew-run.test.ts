// What an unattended `certman renew` does around the orders: hooks, leases, --max, concurrency,
// random sleep, dry runs against another CA, the failed-validation budget, run logs, and ARI.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAriProxy, startPebble, tempDir, uniqueName, type AriProxy, type PebbleEnv } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite({ nonceRejectPercent: 5 });

interface RenewJson {
  summary: { renewed: number; notDue: number; deferred: number; failed: number; hookFailures: number };
  results: { name: string; status: string; reason?: string; dryRun?: boolean; dueReason?: string }[];
  sleptMs: number;
  log: string;
}

describe('hooks', () => {
  it('runs pre and post once, deploy per certificate, with names only in the environment', async () => {
    const out = await tempDir('hooks');
    const { dir, names } = await suite.issued(2, 'hook');
    const r = await suite.certman(dir, [
      '--json', 'renew', '--force', '--no-random-sleep',
      '--pre-hook', `echo pre >> ${out}/pre`,
      '--post-hook', `echo "$RENEWED_DOMAINS|$FAILED_DOMAINS" >> ${out}/post`,
      '--deploy-hook', `echo "$RENEWED_LINEAGE|$RENEWED_DOMAINS" >> ${out}/deploy`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(out, 'pre'), 'utf8'), 'pre\n');
    const post = (await readFile(join(out, 'post'), 'utf8')).trim().split('\n');
    assert.equal(post.length, 1);
    assert.deepEqual(post[0]?.split('|')[0]?.split(' ').sort(), [...names].sort());
    const deploy = (await readFile(join(out, 'deploy'), 'utf8')).trim().split('\n').sort();
    assert.deepEqual(deploy, names.map((n) => `${join(dir, 'live', n)}|${n}`).sort());

    // Saved with the certificates: the next run needs no flags.
    await suite.certman(dir, ['renew', '--force', '--no-random-sleep']);
    assert.equal((await readFile(join(out, 'pre'), 'utf8')).split('\n').length - 1, 2);
  });

  it('never runs hooks when nothing is due', async () => {
    const out = await tempDir('hooks');
    const { dir } = await suite.issued(1, 'idle');
    const r = await suite.certman(dir, ['renew', '--no-random-sleep', '--pre-hook', `touch ${out}/pre`, '--post-hook', `touch ${out}/post`]);
    assert.equal(r.code, 0);
    assert.deepEqual(await readdir(out), []);
  });

  it('a failing deploy hook exits 1 but keeps the renewal', async () => {
    const { dir, names } = await suite.issued(1, 'hookfail');
    const r = await suite.certman(dir, ['renew', '--force', '--no-random-sleep', '--deploy-hook', 'exit 3']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /deploy hook "exit 3" failed \(exit 3\)/);
    assert.equal(await readlink(join(dir, 'live', names[0] ?? '', 'cert.pem')), `../../archive/${names[0]}/cert2.pem`);
  });

  it('issue stores its hooks and runs pre, deploy and post around the order', async () => {
    const out = await tempDir('hooks');
    const dir = await suite.registeredDir();
    const name = uniqueName('issuehook');
    const r = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone(), '--pre-hook', `echo pre >> ${out}/log`, '--deploy-hook', `echo "deploy $RENEWED_DOMAINS" >> ${out}/log`, '--post-hook', `echo post >> ${out}/log`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(out, 'log'), 'utf8'), `pre\ndeploy ${name}\npost\n`);
    const notDue = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()]);
    assert.equal(notDue.code, 0);
    assert.equal(await readFile(join(out, 'log'), 'utf8'), `pre\ndeploy ${name}\npost\n`, 'no hooks without an order');
  });
});

describe('one run per certificate at a time', () => {
  it('a second renew finds the certificate held (exit 75 when it named it, 0 over all), issue of it exits 75, --wait waits', async () => {
    const { dir, names } = await suite.issued(1, 'lock');
    const name = names[0] ?? '';
    const flags = await tempDir('lock');
    const started = join(flags, 'started');
    const go = join(flags, 'go');
    const hold = 'touch "$STARTED"; i=0; until [ -e "$GO" ] || [ $i -ge 1200 ]; do sleep 0.05; i=$((i+1)); done';
    const slow = suite.certman(dir, ['renew', '--force', '--no-random-sleep', '--pre-hook', hold], { STARTED: started, GO: go });
    for (let waited = 0; !existsSync(started); waited += 50) {
      assert.ok(waited < 60_000, 'the first renew never ran its pre-hook');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const named = await suite.certman(dir, ['renew', '--force', '--no-random-sleep', '--cert-name', name]);
    assert.equal(named.code, 75, named.stderr);
    assert.match(named.stdout, /held +\S+: another certman run/);
    const all = await suite.certman(dir, ['--json', 'renew', '--force', '--no-random-sleep']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(json<RenewJson>(all).results.map((r) => r.status), ['held']);
    const issueBlocked = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()]);
    assert.equal(issueBlocked.code, 75, issueBlocked.stderr);
    const waiting = suite.certman(dir, ['renew', '--no-random-sleep', '--cert-name', name, '--wait']);
    await writeFile(go, '');
    assert.equal((await waiting).code, 0);
    assert.equal((await slow).code, 0);
  });
});

describe('many at once', () => {
  it('--max caps a run and the rest are deferred; --concurrency renews in parallel', async () => {
    const { dir } = await suite.issued(5, 'max');
    const capped = json<RenewJson>(await suite.certman(dir, ['--json', 'renew', '--force', '--no-random-sleep', '--max', '2']));
    assert.deepEqual([capped.summary.renewed, capped.summary.deferred], [2, 3]);
    const all = await suite.certman(dir, ['--json', 'renew', '--force', '--no-random-sleep', '--concurrency', '5']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(json<RenewJson>(all).summary.renewed, 5);
  });

  it('sleeps a random time before renewing off a terminal, and only when something is due', async () => {
    const { dir } = await suite.issued(1, 'sleep');
    const idle = json<RenewJson>(await suite.certman(dir, ['--json', 'renew', '--random-sleep', '2']));
    assert.equal(idle.sleptMs, 0);
    const due = await suite.certman(dir, ['--json', 'renew', '--force', '--random-sleep', '2']);
    const slept = json<RenewJson>(due).sleptMs;
    assert.ok(slept >= 1 && slept <= 2000, `slept ${slept} ms`);
    assert.ok(due.durationMs >= slept);
  });

  it('writes a log per run and keeps the newest', async () => {
    const { dir } = await suite.issued(1, 'log');
    const r = json<RenewJson>(await suite.certman(dir, ['--json', 'renew', '--no-random-sleep']));
    assert.ok(r.log.startsWith(join(dir, 'logs')));
    assert.match(await readFile(r.log, 'utf8'), /not due/);
  });
});

describe('failed-validation budget', () => {
  it('stops asking the CA for a name after 3 failures within the hour', async () => {
    const { dir, names } = await suite.issued(1, 'budget');
    const name = names[0] ?? '';
    await suite.freshAccount(dir);
    await suite.pebble.setServfail(name);
    try {
      // --no-self-check: this test needs the CA itself to see the failures.
      for (let i = 0; i < 3; i += 1) {
        const r = await suite.certman(dir, ['renew', '--force', '--no-random-sleep', '--no-self-check']);
        assert.equal(r.code, 1, r.stdout);
      }
      const validations = suite.pebble.validationsFor(name);
      const fourth = await suite.certman(dir, ['--json', 'renew', '--force', '--no-random-sleep', '--no-self-check']);
      const result = json<RenewJson>(fourth).results[0];
      assert.equal(result?.status, 'deferred');
      assert.match(result?.reason ?? '', /failed validation 3 times.*not asking the CA again before \d{4}-/);
      assert.equal(suite.pebble.validationsFor(name), validations, 'the CA saw no fourth validation');
    } finally {
      await suite.pebble.clearServfail(name);
    }
  });
});

describe('dry run', () => {
  let staging: PebbleEnv;
  before(async () => {
    // A second CA validating on the same port plays Let's Encrypt staging.
    staging = await startPebble({ httpPort: suite.pebble.httpPort });
  });
  after(async () => {
    await staging?.stop();
  });

  it('orders from the dry-run server, saves nothing and runs no deploy hook', async () => {
    const out = await tempDir('dry');
    const { dir, names } = await suite.issued(1, 'dry', ['--deploy-hook', `touch ${out}/deployed`]);
    const name = names[0] ?? '';
    await rm(join(out, 'deployed')); // from the issuance itself
    const before = await readdir(join(dir, 'archive', name));
    const meta = await readFile(join(dir, 'renewal', `${name}.json`), 'utf8');
    await writeFile(join(out, 'ca.pem'), (await readFile(suite.pebble.caFile, 'utf8')) + (await readFile(staging.caFile, 'utf8')));
    const r = await suite.certman(dir, ['--json', 'renew', '--dry-run', '--force'], { CERTMAN_DRY_RUN_SERVER: staging.directoryUrl, CERTMAN_CA_FILE: join(out, 'ca.pem') });
    assert.equal(r.code, 0, r.stderr);
    const result = json<RenewJson>(r);
    assert.equal(result.results[0]?.dryRun, true);
    assert.equal(result.sleptMs, 0, 'never sleeps in a dry run');
    assert.deepEqual(await readdir(join(dir, 'archive', name)), before);
    assert.equal(await readFile(join(dir, 'renewal', `${name}.json`), 'utf8'), meta);
    assert.deepEqual(await readdir(out), ['ca.pem']);
    assert.ok(staging.validationsFor(name) >= 1, 'the staging CA validated the name');
  });
});

describe('ARI (RFC 9773)', () => {
  let proxy: AriProxy;
  before(async () => {
    proxy = await startAriProxy(suite.pebble);
  });
  after(async () => {
    await proxy?.stop();
  });

  it('renews inside a past ARI window even though the lifetime rule says not yet, sending replaces', async () => {
    const env = { CERTMAN_SERVER: proxy.directoryUrl };
    const dir = await tempDir('cfg');
    const name = uniqueName('ari');
    assert.equal((await suite.certman(dir, ['register', '--email', 'a@example.com', '--agree-tos'], env)).code, 0);
    assert.equal((await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()], env)).code, 0);

    proxy.setWindow({ start: new Date(Date.now() + 30 * 86_400_000), end: new Date(Date.now() + 31 * 86_400_000) });
    const later = json<RenewJson>(await suite.certman(dir, ['--json', 'renew', '--no-random-sleep'], env));
    assert.equal(later.results[0]?.status, 'not-due');
    assert.ok(proxy.ariRequests().length >= 1, 'asked the CA for its window');
    const listed = json<{ dueReason: string }[]>(await suite.certman(dir, ['--json', 'list'], env));
    assert.equal(listed[0]?.dueReason, 'ari');

    // The window is kept until its Retry-After; a new certificate state resets it.
    proxy.setWindow({ start: new Date(Date.now() - 3_600_000), end: new Date(Date.now() - 60_000) }, undefined, 1);
    const metaFile = join(dir, 'renewal', `${name}.json`);
    const meta = JSON.parse(await readFile(metaFile, 'utf8'));
    meta.ari.nextCheck = new Date(Date.now() - 1000).toISOString();
    await writeFile(metaFile, JSON.stringify(meta));
    const renewed = json<RenewJson>(await suite.certman(dir, ['--json', 'renew', '--no-random-sleep'], env));
    assert.equal(renewed.results[0]?.status, 'renewed');
    const payload = proxy.newOrderPayloads().at(-1) as { replaces?: string };
    assert.match(payload.replaces ?? '', /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('retries without replaces when the CA answers alreadyReplaced', async () => {
    const env = { CERTMAN_SERVER: proxy.directoryUrl };
    const dir = await tempDir('cfg');
    const name = uniqueName('conflict');
    await suite.certman(dir, ['register', '--email', 'a@example.com', '--agree-tos'], env);
    await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()], env);
    proxy.setWindow({ start: new Date(Date.now() - 3_600_000), end: new Date(Date.now() - 60_000) });
    proxy.conflictOnReplaces(true);
    const r = await suite.certman(dir, ['--json', 'renew', '--no-random-sleep'], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(json<RenewJson>(r).summary.renewed, 1);
  });
});
