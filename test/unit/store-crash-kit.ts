// The kill test of the filesystem store (store-crash*.test.ts): save() killed before each of its filesystem
// steps, one step per run: at every instant live/ holds all four files of one version, matching each other,
// with whatever else the operator keeps in live/<name>/, and the next opening and save finish or roll back
// the rest. Two test files, one per starting layout, so each stays well inside the unit runner's time limit.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, lstat, mkdir, readFile, readlink, rename, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { storeProblems } from '../harness/store-check.js';
import { mapLimit } from '../../src/concurrency.js';
import { openFileStore } from '../../src/store/fs/index.js';
import type { CertificateFiles, NewCertificate } from '../../src/lineage/types.js';
import { newCert, saveLeased } from '../harness/store-fixtures.js';
import { configDirs } from './config-dirs.js';

const NAME = 'crash.example';

/**
 * `entry` and every module it imports by a relative path, compiled to JavaScript under `outDir` (the same
 * layout): the killed children then start in plain node, several times faster than through tsx, which keeps
 * the step-by-step kills well inside the unit runner's time per file on a loaded machine. Returns the
 * compiled entry's URL.
 */
async function compileForNode(entry: string, outDir: string): Promise<string> {
  const ts = (await import('typescript')).default;
  const root = path.resolve('src');
  const queue = [path.resolve(entry)];
  for (const done = new Set<string>(); queue.length > 0; ) {
    const file = queue.pop() ?? '';
    if (done.has(file)) continue;
    done.add(file);
    const source = await readFile(file, 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    const out = path.join(outDir, path.relative(root, file)).replace(/\.ts$/, '.js');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, outputText);
    for (const [, spec] of outputText.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) queue.push(path.resolve(path.dirname(file), `${spec}.ts`));
  }
  await writeFile(path.join(outDir, 'package.json'), '{ "type": "module" }\n');
  return pathToFileURL(path.join(outDir, path.relative(root, path.resolve(entry)).replace(/\.ts$/, '.js'))).href;
}

/** A certificate of its own key, the way a CA would hand it over (chain = one more certificate). */
function certificate(dir: string, tag: string): CertificateFiles {
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const key = path.join(dir, `${tag}.key`);
  const cert = run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-days', '30', '-subj', `/CN=${NAME}`]);
  const chain = run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-days', '30', '-subj', '/CN=chain']);
  return { cert, chain, fullchain: cert + chain, privkey: readFileSync(key, 'utf8') };
}

function meta(serialHex: string): NewCertificate {
  return newCert(NAME, { domains: [NAME], serial: serialHex });
}

const serials = new Map<string, string>();

/**
 * The serial as the store writes it: lowercase hex, no leading zeros. Read by openssl (not certman's parser),
 * once per certificate: the kill loop asks for the same three many times, and a process each adds up under load.
 */
function serialOf(pem: string): string {
  let serial = serials.get(pem);
  if (serial === undefined) {
    serial = BigInt(`0x${execFileSync('openssl', ['x509', '-noout', '-serial'], { input: pem }).toString().trim().replace(/^serial=/, '')}`).toString(16);
    serials.set(pem, serial);
  }
  return serial;
}

/**
 * A child process that opens the store (`store`: the URL of its compiled entry) in `dir`, takes the config-dir
 * lease on the lineage, as renew does, and saves `files` as the next version,
 * SIGKILLing itself just before the save's `killAt`-th call that changes a name in the filesystem
 * (rename, symlink, link, unlink, rm; 0: never) outside .locks/. Prints how many there were. (The lock's own steps are
 * lock.test.ts's.)
 */
function saveInChild(store: string, dir: string, files: CertificateFiles, serial: string, killAt: number): Promise<{ killed: boolean; steps: number }> {
  const script = `
    import { createRequire, syncBuiltinESMExports } from 'node:module';
    const fsp = createRequire(import.meta.url)('node:fs/promises');
    let counting = false;
    let steps = 0;
    for (const name of ['rename', 'symlink', 'link', 'unlink', 'rm']) {
      const real = fsp[name];
      fsp[name] = (...args) => {
        // The steps of the store's own files: the lease's and update locks' steps are lock.test.ts's.
        if (counting && !String(args[0]).includes('/.locks/') && ++steps === ${killAt}) process.kill(process.pid, 'SIGKILL');
        return real(...args);
      };
    }
    syncBuiltinESMExports();
    const { openFileStore } = await import(${JSON.stringify(store)});
    const store = await openFileStore(${JSON.stringify(dir)});
    const lease = await store.lease({ certificate: ${JSON.stringify(NAME)} }, { wait: false });
    counting = true;
    await store.save(${JSON.stringify(meta(serial))}, ${JSON.stringify(files)}, { lease });
    counting = false;
    await lease.release();
    console.log(JSON.stringify({ steps }));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ killed: true, steps: 0 });
      else if (code === 0) resolve({ killed: false, steps: (JSON.parse(out) as { steps: number }).steps });
      else reject(new Error(`the saving child exited ${code}`));
    });
  });
}

/** Serial of the certificate live/ shows. */
async function liveSerial(dir: string): Promise<string> {
  return serialOf(await readFile(path.join(dir, 'live', NAME, 'cert.pem'), 'utf8'));
}

/** What operators keep beside the four files (a combined PEM, dhparams, a folder of their own). */
async function addExtras(dir: string, live: string): Promise<void> {
  await writeFile(path.join(dir, 'dhparams.pem'), 'DH');
  await symlink('../../dhparams.pem', path.join(live, 'dhparams.pem'));
  await writeFile(path.join(live, 'haproxy.pem'), 'combined', { mode: 0o640 });
  await mkdir(path.join(live, 'own'));
  await writeFile(path.join(live, 'own', 'note'), 'mine');
}

/** The operator's entries are all in `folder`, as they were left. */
async function assertExtras(folder: string, context: string): Promise<void> {
  assert.equal(await readFile(path.join(folder, 'haproxy.pem'), 'utf8'), 'combined', context);
  assert.equal((await stat(path.join(folder, 'haproxy.pem'))).mode & 0o777, 0o640, context);
  assert.equal(await readlink(path.join(folder, 'dhparams.pem')), '../../dhparams.pem', context);
  assert.equal(await readFile(path.join(folder, 'own', 'note'), 'utf8'), 'mine', context);
}

/** live/<name> turned into a real folder of links holding the same entries, as certman before slots left it. */
async function makeRealFolder(dir: string): Promise<void> {
  const live = path.join(dir, 'live', NAME);
  const slot = path.join(dir, 'live', await readlink(live));
  await unlink(live);
  await rename(slot, live);
}

export type Layout = 'slots' | 'folder';

/**
 * The kill tests from one starting layout: live/ slots, or a real live/<name> folder (certman before slots, a
 * certbot copy), which the save moves into a slot.
 */
export function describeKillsAtEachStep(layout: Layout): void {
  describe(`FileStore: save() killed at each step, from ${layout === 'slots' ? 'live/ slots' : 'a real live/<name> folder'}`, () => {
    const freshDir = configDirs(`store-crash-${layout}`);
    /** A store holding version 1 and an operator's extra entries in live/<name>/. */
    let template = '';
    /** The store's code, compiled for the children (see compileForNode). */
    let storeUrl = '';
    let saveSteps = 0;
    let v1: CertificateFiles;
    let v2: CertificateFiles;
    let v3: CertificateFiles;

    before(async () => {
      storeUrl = await compileForNode('src/store/fs/index.ts', freshDir());
      template = freshDir();
      const store = await openFileStore(template);
      const keys = freshDir();
      await mkdir(keys);
      [v1, v2, v3] = ['1', '2', '3'].map((tag) => certificate(keys, tag)) as [CertificateFiles, CertificateFiles, CertificateFiles];
      await saveLeased(store, meta(serialOf(v1.cert)), v1);
      await addExtras(template, path.join(template, 'live', NAME));
      if (layout === 'folder') await makeRealFolder(template);
    });

    test('a save left to finish takes some steps and leaves a sound store, extras in place', async () => {
      const dir = freshDir();
      await cp(template, dir, { recursive: true, verbatimSymlinks: true });
      const { killed, steps } = await saveInChild(storeUrl, dir, v2, serialOf(v2.cert), 0);
      assert.equal(killed, false);
      assert.ok(steps >= 12, `${steps} steps`);
      saveSteps = steps;
      assert.deepEqual(await storeProblems(dir), []);
      assert.equal(await liveSerial(dir), serialOf(v2.cert));
      await assertExtras(path.join(dir, 'live', NAME), 'after the save');
    });

    test('in a copied store (new inodes, so every stamp differs) a save is not undone by a correction read before it', async () => {
      const dir = freshDir();
      await cp(template, dir, { recursive: true, verbatimSymlinks: true });
      const store = await openFileStore(dir);
      await saveLeased(store, meta(serialOf(v2.cert)), v2);
      const [listed] = await store.list();
      assert.equal(listed?.serial, serialOf(v2.cert));
      assert.deepEqual(await storeProblems(dir, { names: [NAME] }), []);
    });

    test('killed before any one step: live/ is version 1 or 2, whole, with the extras; the next opening and save finish', async () => {
      assert.ok(saveSteps > 0, 'the first test counted the steps');
      const outcomes: string[] = [];
      const steps = Array.from({ length: saveSteps }, (_, i) => i + 1);
      const dirs = await mapLimit(steps, 4, async (step) => {
        const dir = freshDir();
        await cp(template, dir, { recursive: true, verbatimSymlinks: true });
        const { killed } = await saveInChild(storeUrl, dir, v2, serialOf(v2.cert), step);
        assert.ok(killed, `step ${step} of ${saveSteps}`);
        return dir;
      });
      for (const [i, dir] of dirs.entries()) {
        const context = `killed before step ${i + 1} of ${saveSteps}`;
        const live = path.join(dir, 'live', NAME);
        if (layout === 'folder' && (await lstat(live).catch(() => undefined)) === undefined) {
          // The one instant of the move from a real folder: parked in slot b, a journal says what to finish.
          outcomes.push('-');
          assert.ok(existsSync(path.join(dir, '.pending', NAME)), `${context}: live/${NAME} is missing without a journal`);
          await assertExtras(path.join(dir, 'live', `.${NAME}.b`), `${context}: the parked folder`);
        } else {
          assert.deepEqual(await storeProblems(dir, { names: [NAME], afterCrash: true }), [], context);
          const shown = await liveSerial(dir);
          assert.ok([serialOf(v1.cert), serialOf(v2.cert)].includes(shown), context);
          outcomes.push(shown === serialOf(v1.cert) ? '1' : '2');
          await assertExtras(live, context);
        }

        // The next run, as renew makes it: opening repairs, the dead run's lease is taken over, the listing and
        // the save clean up what the killed writes left.
        const store = await openFileStore(dir);
        const lease = await store.lease({ certificate: NAME }, { wait: false });
        const [listed] = await store.list();
        assert.equal(listed?.serial, await liveSerial(dir), `${context}: the metadata describes the live certificate`);
        assert.deepEqual(await storeProblems(dir, { names: [NAME] }).then((all) => all.filter((p) => p.startsWith('renewal/'))), [], context);
        await assertExtras(live, `${context}: after the repair`);
        await store.save(meta(serialOf(v3.cert)), v3, { lease });
        await lease.release();
        assert.deepEqual(await storeProblems(dir, { names: [NAME] }), [], context);
        assert.equal(await liveSerial(dir), serialOf(v3.cert), context);
        await assertExtras(live, `${context}: after the next save`);
      }
      // Both sides of the switch were seen: the steps before it and after it.
      assert.ok(outcomes.includes('1') && outcomes.includes('2'), outcomes.join(''));
      // Moving a real folder leaves live/<name> missing before exactly one step, never otherwise.
      assert.equal(outcomes.filter((o) => o === '-').length, layout === 'folder' ? 1 : 0, outcomes.join(''));
    });
  });
}
