// Files operators keep in live/<name>/ (a combined PEM a deploy hook writes, dhparams, a folder of their own)
// stay reachable there across renewals: certbot never touches them, and neither may the live/ slot switch.
import assert from 'node:assert/strict';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { chmod, chown, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';

import { openFileStore, PEM_KINDS } from '../../src/store/fs/index.js';
import { configDirs } from './config-dirs.js';
import { newCert, pems, saveLeased, withCertLease } from '../harness/store-fixtures.js';

const freshDir = configDirs('store-extras');
const NAME = 'x.example';
const OWN = ['README', ...PEM_KINDS.map((kind) => `${kind}.pem`)];
const EXTRAS = ['dhparams.pem', 'haproxy.pem', 'ocsp'];

/** The layout older certman (and certbot) wrote: live/<name> a real folder of links, plus an operator's own entries. */
async function realFolderWithExtras(dir: string): Promise<string> {
  const live = path.join(dir, 'live', NAME);
  await unlink(live);
  await mkdir(live);
  for (const kind of PEM_KINDS) await symlink(`../../archive/${NAME}/${kind}1.pem`, path.join(live, `${kind}.pem`));
  await writeFile(path.join(live, 'README'), 'old');
  await writeFile(path.join(dir, 'dhparams.pem'), 'DH');
  await symlink('../../dhparams.pem', path.join(live, 'dhparams.pem'));
  await writeFile(path.join(live, 'haproxy.pem'), 'combined 1');
  await chmod(path.join(live, 'haproxy.pem'), 0o640);
  await mkdir(path.join(live, 'ocsp', 'sub'), { recursive: true });
  await writeFile(path.join(live, 'ocsp', 'response.der'), 'ocsp');
  await chmod(path.join(live, 'ocsp', 'response.der'), 0o600);
  await symlink('../response.der', path.join(live, 'ocsp', 'sub', 'latest'));
  await chmod(path.join(live, 'ocsp'), 0o750);
  return live;
}

/** live/<name>/ shows version `version` and every extra entry, as it was left. */
async function assertLiveWithExtras(dir: string, version: number, combined: string, context: string): Promise<void> {
  const live = path.join(dir, 'live', NAME);
  assert.deepEqual((await readdir(live)).sort(), [...OWN, ...EXTRAS].sort(), context);
  for (const kind of PEM_KINDS) assert.equal(await readlink(path.join(live, `${kind}.pem`)), `../../archive/${NAME}/${kind}${version}.pem`, context);
  assert.equal(await readFile(path.join(live, 'haproxy.pem'), 'utf8'), combined, context);
  assert.equal((await stat(path.join(live, 'haproxy.pem'))).mode & 0o7777, 0o640, context);
  assert.equal(await readlink(path.join(live, 'dhparams.pem')), '../../dhparams.pem', context);
  assert.equal(await readFile(path.join(live, 'dhparams.pem'), 'utf8'), 'DH', context);
  assert.equal((await stat(path.join(live, 'ocsp'))).mode & 0o7777, 0o750, context);
  assert.equal(await readFile(path.join(live, 'ocsp', 'response.der'), 'utf8'), 'ocsp', context);
  assert.equal((await stat(path.join(live, 'ocsp', 'response.der'))).mode & 0o7777, 0o600, context);
  assert.equal(await readFile(path.join(live, 'ocsp', 'sub', 'latest'), 'utf8'), 'ocsp', context);
}

/** What a deploy hook does: replace live/<name>/haproxy.pem atomically (a new file renamed over it). */
async function rewriteCombined(dir: string, text: string): Promise<void> {
  const file = path.join(dir, 'live', NAME, 'haproxy.pem');
  await writeFile(`${file}.new`, text, { mode: 0o640 });
  await chmod(`${file}.new`, 0o640);
  await rename(`${file}.new`, file);
}

describe('FileStore: what operators keep in live/<name>/', () => {
  test('an extra file, link and folder survive 3 saves, the first one moving a real live/<name> folder into a slot', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert(NAME), pems('1'));
    const live = await realFolderWithExtras(dir);
    await writeFile(path.join(live, 'gone.txt'), 'removed by the operator after the first save');

    await saveLeased(store, newCert(NAME), pems('2'));
    assert.equal(await readlink(live), `.${NAME}.a`, 'the real folder became a slot');
    await unlink(path.join(live, 'gone.txt'));
    await assertLiveWithExtras(dir, 2, 'combined 1', 'after the save that moved the folder');

    await rewriteCombined(dir, 'combined 2');
    await saveLeased(store, newCert(NAME), pems('3'));
    await assertLiveWithExtras(dir, 3, 'combined 2', 'after the second save (the parked folder is rebuilt)');

    await rewriteCombined(dir, 'combined 3');
    await saveLeased(store, newCert(NAME), pems('4'));
    await assertLiveWithExtras(dir, 4, 'combined 3', 'after the third save');
    assert.deepEqual(await store.readFiles(NAME), pems('4'));
  });

  test('a switch cut short after parking the real folder (live/<name> missing) is finished with its extras', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert(NAME), pems('1'));
    const live = await realFolderWithExtras(dir);
    // What a crash between the two renames of that save leaves: version 2 archived and journaled, its slot
    // holding its four links, the real folder parked in slot b, no live/<name>.
    for (const [kind, text] of Object.entries(pems('2'))) await writeFile(path.join(dir, 'archive', NAME, `${kind}2.pem`), text);
    await mkdir(path.join(dir, '.pending'), { recursive: true });
    await writeFile(path.join(dir, '.pending', NAME), JSON.stringify({ version: 2 }));
    const slotA = path.join(dir, 'live', `.${NAME}.a`);
    await rm(slotA, { recursive: true });
    await mkdir(slotA);
    for (const kind of PEM_KINDS) await symlink(`../../archive/${NAME}/${kind}2.pem`, path.join(slotA, `${kind}.pem`));
    await rename(live, path.join(dir, 'live', `.${NAME}.b`));
    assert.equal(await lstat(live).catch(() => undefined), undefined, 'live/<name> is missing');

    const reopened = await openFileStore(dir);
    assert.deepEqual(reopened.repairs(), [{ name: NAME, outcome: 'completed', version: 2 }]);
    await assertLiveWithExtras(dir, 2, 'combined 1', 'after the repair');
    await saveLeased(reopened, newCert(NAME), pems('3'));
    await assertLiveWithExtras(dir, 3, 'combined 1', 'after the next save');
  });

  test('where a file cannot be hard-linked into the new slot it is copied, with its mode and owner', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert(NAME), pems('1'));
    const file = path.join(dir, 'live', NAME, 'haproxy.pem');
    await writeFile(file, 'combined', { mode: 0o640 });
    await chmod(file, 0o640);
    const isRoot = process.getuid?.() === 0;
    if (isRoot) await chown(file, 65534, 65534);
    const fsp = createRequire(import.meta.url)('node:fs/promises') as { link: (...args: unknown[]) => Promise<void> };
    const realLink = fsp.link;
    // The lease is taken before links fail (its lock file is made with one).
    await withCertLease(store, NAME, async (guard) => {
      // Only live/: the update lock save() takes links in .locks/.
      fsp.link = (...args: unknown[]) =>
        String(args[1]).includes('/live/') ? Promise.reject(Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' })) : realLink(...args);
      syncBuiltinESMExports();
      try {
        await store.save(newCert(NAME), pems('2'), guard);
      } finally {
        fsp.link = realLink;
        syncBuiltinESMExports();
      }
    });
    const copied = await stat(file);
    assert.equal(await readFile(file, 'utf8'), 'combined');
    assert.equal(copied.mode & 0o7777, 0o640);
    assert.equal(copied.uid, isRoot ? 65534 : process.getuid?.());
    assert.notEqual(copied.ino, (await stat(path.join(dir, 'live', `.${NAME}.a`, 'haproxy.pem'))).ino, 'a copy, not a link');
  });
});
