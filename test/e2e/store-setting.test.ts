// The `store` setting and reads that never write: --store / CERTMAN_STORE / config `store` choose where
// lineages and tokens live (logs stay in the config dir); a Redis store without its key and unknown stores are
// refused with exit 2 and never echoed; listing works for a user who may read the store but not write it and leaves it byte-identical;
// a no-op renew writes nothing in the store; a damaged lineage is listed as damaged and fails renew.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { certmanEnv, runCli, snapshotTree, startServeChallenge, tempDir, uniqueName } from '../harness/index.js';
import { assertOneLineError, json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
const NOBODY = { uid: 65534, gid: 65534 };

interface Row {
  name: string;
  status: string;
  serial?: string;
  notAfter?: string;
  path?: string;
  problem?: string;
}

/** certman with `configDir` for this host's things and `store` for the lineages. */
function apart(configDir: string, store: string, args: string[], env: Record<string, string | undefined> = {}) {
  return suite.certman(configDir, args, { CERTMAN_STORE: store, ...env });
}

describe('the store setting', () => {
  it('--store keeps lineages and tokens apart from the config dir; serve-challenge and issue --responder share it', async () => {
    const store = await suite.registeredDir();
    const configDir = await tempDir('host');
    const serve = await startServeChallenge({ ...certmanEnv(suite.pebble, await tempDir('other')) }, suite.pebble.httpPort, ['--store', store]);
    try {
      assert.match(serve.stderr(), new RegExp(`tokens from ${store}`));
      const name = uniqueName('apart');
      const r = await suite.certman(configDir, ['--json', '--store', store, 'issue', '-d', name, '--responder']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(json<{ files: { fullchain: string } }>(r).files.fullchain, join(store, 'live', name, 'fullchain.pem'));
      assert.ok(suite.pebble.validationsFor(name) >= 1, 'Pebble validated through serve-challenge on the store');
      await readFile(join(store, 'renewal', `${name}.json`));
      assert.deepEqual(await readdir(configDir), [], 'nothing of the store in the config dir');
      // The same store through CERTMAN_STORE and a file: URL; the listed path comes from the deploy step.
      for (const location of [store, pathToFileURL(store).href]) {
        const rows = json<Row[]>(await apart(configDir, location, ['--json', 'certificates']));
        assert.deepEqual(rows.map((row) => [row.name, row.path]), [[name, join(store, 'live', name)]]);
      }
      // A config file's store, relative to the file's folder.
      await writeFile(join(configDir, 'certman.config.json'), JSON.stringify({ store: `../${store.split('/').pop() ?? ''}` }));
      assert.deepEqual(json<Row[]>(await suite.certman(configDir, ['--json', 'list'])).map((row) => row.name), [name]);
      await rm(join(configDir, 'certman.config.json'));
      // Completion asks the same store, for --store on the line and CERTMAN_STORE.
      assert.equal((await runCli(['__complete', 'cert-names', '--config-dir', configDir, '--store', store])).stdout, `${name}\n`);
      assert.equal((await runCli(['__complete', 'cert-names'], { env: { CERTMAN_STORE: store } })).stdout, `${name}\n`);
    } finally {
      await serve.stop();
    }
  });

  it('asks a Redis store for its key and refuses unknown stores with exit 2, without echoing the URL', async () => {
    const configDir = await tempDir('host');
    const secret = 'hunter2secret';
    for (const url of [`redis://user:${secret}@127.0.0.1:6379/0`, `rediss://:${secret}@127.0.0.1:6380`, `redis+sentinel://u:${secret}@127.0.0.1:26379/mymaster`]) {
      const viaFlag = await suite.certman(configDir, ['--store', url, 'certificates']);
      assertOneLineError(viaFlag, 2, /^error: a Redis store needs its store key/, url);
      const viaEnv = await apart(configDir, url, ['renew']);
      assertOneLineError(viaEnv, 2, /^error: a Redis store needs its store key/, url);
      await writeFile(join(configDir, 'certman.config.json'), JSON.stringify({ store: url }));
      assertOneLineError(await suite.certman(configDir, ['certificates']), 2, /store key/, url);
      await rm(join(configDir, 'certman.config.json'));
      for (const r of [viaFlag, viaEnv]) assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), 'the password is never printed');
    }
    assertOneLineError(await suite.certman(configDir, ['--store', 'ftp://files.example/certs', 'certificates']), 2, /"ftp:" stores are not supported/);
    assertOneLineError(await suite.certman(configDir, ['--store', 'file://user:pw@host/x', 'certificates']), 2, /file: URL of a local folder/);
    assert.deepEqual(await readdir(configDir), [], 'nothing created');
  });

  it('schedule repeats --store in the job it installs', async () => {
    const configDir = await tempDir('host');
    const store = await tempDir('store');
    const r = await apart(configDir, store, ['--json', 'schedule', '--cron', '--user']);
    assert.equal(r.code, 0, r.stderr);
    const [file] = json<{ files: { content: string }[] }>(r).files;
    assert.match(file?.content ?? '', new RegExp(` --store ${store}( |$)`, 'm'));
  });

  it('schedule puts a Redis store, its prefix and key file in the job, never a password or the key itself', async () => {
    const configDir = await tempDir('host');
    const keyFile = join(configDir, 'store.key');
    const job = await suite.certman(configDir, ['--json', '--store', 'redis://127.0.0.1:6379/2', '--store-prefix', 'eu:', '--store-key-file', keyFile, 'schedule', '--cron', '--user']);
    assert.equal(job.code, 0, job.stderr);
    const [file] = json<{ files: { content: string }[] }>(job).files;
    assert.match(file?.content ?? '', new RegExp(` --store redis://127\\.0\\.0\\.1:6379/2 --store-prefix eu: --store-key-file ${keyFile}( |$)`, 'm'));
    const key = 'ab'.repeat(32);
    const secret = 'hunter2secret';
    const withPassword = await suite.certman(configDir, ['--store', `redis://:${secret}@127.0.0.1:6379`, '--store-key-file', keyFile, 'schedule', '--cron', '--user']);
    assertOneLineError(withPassword, 2, /^error: the store URL holds a password/);
    const keyInEnv = await apart(configDir, 'redis://127.0.0.1:6379', ['schedule', '--cron', '--user'], { CERTMAN_STORE_KEY: key });
    assertOneLineError(keyInEnv, 2, /^error: the job would have no store key/);
    for (const r of [withPassword, keyInEnv]) assert.ok(![secret, key].some((s) => r.stdout.includes(s) || r.stderr.includes(s)));
  });
});

describe('reads never write', () => {
  it('a read-only user lists a certificate replaced by hand with its new dates, and the store stays byte-identical', async () => {
    const dir = await suite.registeredDir();
    const [a, b] = [uniqueName('ro-a'), uniqueName('ro-b')];
    for (const name of [a, b]) assert.equal((await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()])).code, 0);
    await copyFile(join(dir, 'live', b, 'cert.pem'), join(dir, 'live', a, 'cert.pem'));
    // A monitoring account may read everything (keys too, in this test) and write nothing.
    execFileSync('chmod', ['-R', 'a+rX', dir]);
    const before = await snapshotTree(dir);
    const r = await runCli(['--json', 'certificates'], { env: certmanEnv(suite.pebble, dir), user: NOBODY });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EACCES|permission/i);
    const rows = json<Row[]>(r);
    const row = (name: string) => rows.find((x) => x.name === name);
    assert.equal(row(a)?.serial, row(b)?.serial, 'the hand-placed certificate is what is listed');
    assert.equal(row(a)?.notAfter, row(b)?.notAfter);
    assert.equal(row(a)?.status, 'valid');
    assert.deepEqual(await snapshotTree(dir), before, 'listing wrote nothing');
    const completion = await runCli(['__complete', 'cert-names'], { env: { CERTMAN_CONFIG_DIR: dir }, user: NOBODY });
    assert.equal(completion.stdout, `${[a, b].sort().join('\n')}\n`);
    assert.deepEqual(await snapshotTree(dir), before, 'completion wrote nothing');
  });

  it('a renew with nothing due writes nothing in the store, also as a user who cannot write it (its log goes to the config dir)', async () => {
    const { dir: store } = await suite.issued(2, 'noop');
    const configDir = await tempDir('host');
    // The first run remembers that Pebble offers no ARI (state/ari-servers.json); see the notes.
    assert.equal((await apart(configDir, store, ['renew', '--no-random-sleep'])).code, 0);
    execFileSync('chmod', ['-R', 'a+rX', store]);
    const before = await snapshotTree(store);
    for (const user of [undefined, NOBODY]) {
      // As root the config dir must be root's; the monitoring account writes its logs into one of its own.
      if (user !== undefined) execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, configDir]);
      const r = await runCli(['renew', '--no-random-sleep'], { env: { ...certmanEnv(suite.pebble, configDir), CERTMAN_STORE: store }, ...(user === undefined ? {} : { user }) });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /0 renewed, 2 not due/);
      assert.deepEqual(await snapshotTree(store), before);
    }
    assert.equal((await readdir(join(configDir, 'logs'))).length, 3, 'the run logs are in the config dir');
  });

  it('a damaged lineage is listed as damaged, named by renew (exit 1) and left untouched', async () => {
    const { dir: store, names } = await suite.issued(2, 'dmg');
    const [broken, fine] = names as [string, string];
    const configDir = await tempDir('host');
    // The first renew remembers that Pebble offers no ARI (see above): done before the snapshot.
    assert.equal((await apart(configDir, store, ['renew', '--no-random-sleep'])).code, 0);
    await writeFile(join(store, 'renewal', `${broken}.json`), '{"name": "half a file');
    const before = await snapshotTree(store);

    const rows = json<Row[]>(await apart(configDir, store, ['--json', 'certificates']));
    assert.deepEqual(
      rows.map((row) => [row.name, row.status]),
      [[broken, 'damaged'], [fine, 'valid']].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
    );
    assert.match(rows.find((row) => row.name === broken)?.problem ?? '', new RegExp(`renewal/${broken}\\.json is damaged`));
    const human = await apart(configDir, store, ['certificates']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^${broken.replace(/\./g, '\\.')} .* damaged$`, 'm'));
    assert.match(human.stdout, new RegExp(`damaged ${broken.replace(/\./g, '\\.')}: .*not valid JSON`));

    const renew = await apart(configDir, store, ['renew', '--no-random-sleep']);
    assert.equal(renew.code, 1, renew.stderr);
    assert.match(renew.stdout, new RegExp(`failed +${broken.replace(/\./g, '\\.')}: .*is damaged`));
    assert.deepEqual(await snapshotTree(store), before, 'the damaged lineage and the rest are untouched');
  });

  it('a lineage whose live certificate is gone is listed as damaged and named by renew (exit 1), untouched', async () => {
    const { dir: store, names } = await suite.issued(1, 'gone');
    const [gone] = names as [string];
    const configDir = await tempDir('host');
    assert.equal((await apart(configDir, store, ['renew', '--no-random-sleep'])).code, 0);
    await rm(join(store, 'live', gone, 'cert.pem'));
    const before = await snapshotTree(store);

    const rows = json<Row[]>(await apart(configDir, store, ['--json', 'certificates']));
    assert.deepEqual(rows.map((row) => [row.name, row.status]), [[gone, 'damaged']]);
    assert.match(rows[0]?.problem ?? '', /cert\.pem/);
    for (const only of [[], ['--cert-name', gone]]) {
      const renew = await apart(configDir, store, ['renew', '--no-random-sleep', ...only]);
      assert.equal(renew.code, 1, renew.stderr);
      assert.match(renew.stdout, new RegExp(`failed +${gone.replace(/\./g, '\\.')}: .*live certificate is missing`));
    }
    assert.deepEqual(await snapshotTree(store), before);
  });

  it('with a store apart from the config dir, hooks, port and address come from this host only: none are saved, stored ones are not used', async () => {
    const store = await suite.registeredDir();
    const configDir = await tempDir('host');
    const marks = await tempDir('marks');
    const name = uniqueName('hooks');
    const issued = await apart(configDir, store, ['issue', '-d', name, ...suite.standalone(), '--deploy-hook', `touch ${join(marks, 'flag')}`]);
    assert.equal(issued.code, 0, issued.stderr);
    assert.deepEqual(await readdir(marks), ['flag'], "the run's own hook runs");
    const metaFile = join(store, 'renewal', `${name}.json`);
    const meta = JSON.parse(await readFile(metaFile, 'utf8')) as Record<string, unknown>;
    assert.equal(meta.hooks, undefined, 'no hook is saved in a store apart');
    assert.deepEqual(meta.method, { kind: 'standalone' }, 'nor the port and address');
    // Someone who can write the (shared) store plants a hook and a port: no host uses them.
    const planted = { pre: `touch ${join(marks, 'planted')}`, deploy: `touch ${join(marks, 'planted')}` };
    await writeFile(metaFile, JSON.stringify({ ...meta, hooks: planted, method: { kind: 'standalone', port: 1, address: '127.0.0.9' } }));
    // This host's own port and address.
    await writeFile(join(configDir, 'certman.config.json'), JSON.stringify({ httpPort: suite.pebble.httpPort, httpAddress: '127.0.0.1' }));
    const renew = await apart(configDir, store, ['renew', '--no-random-sleep', '--force']);
    assert.equal(renew.code, 0, renew.stdout + renew.stderr);
    assert.deepEqual(await readdir(marks), ['flag']);
  });
});
