// As root, renewal/<name>.json and journals choose the hooks root runs: the store opened with a trusted owner
// uses none that another user could have written. Run as root, files are given to `nobody`; run as another
// user, the store is told to trust a uid that is not the files' owner.
import assert from 'node:assert/strict';
import { chmod, chown, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';

import { openStore } from '../../src/store/index.js';
import { openFileStore, PEM_KINDS, UntrustedFileError } from '../../src/store/fs/index.js';
import { configDirs } from './config-dirs.js';
import { newCert, pems, saveLeased } from '../harness/store-fixtures.js';

const freshDir = configDirs('store-trust');
const ME = process.getuid?.() ?? 0;
const NOBODY = 65534;

/**
 * Makes `file` belong to a user other than the one the store trusts: chown to nobody as root; otherwise the
 * returned uid (not the file's owner) is the one to trust.
 */
async function ownedByAnother(file: string): Promise<number> {
  if (ME !== 0) return ME + 1;
  await chown(file, NOBODY, NOBODY);
  return ME;
}

describe('FileStore with a trusted owner: renewal files', () => {
  test('group- or other-writable renewal files are left out with a reason naming the file and the fix', async () => {
    const dir = freshDir();
    const plain = await openFileStore(dir);
    for (const name of ['ok.example', 'group.example', 'others.example']) await saveLeased(plain, newCert(name, { hooks: { deploy: 'touch /tmp/x' } }), pems(name));
    const renewal = (name: string) => path.join(path.resolve(dir), 'renewal', `${name}.json`);
    await chmod(renewal('group.example'), 0o664);
    await chmod(renewal('others.example'), 0o646);

    const strict = await openFileStore(dir, { trustedOwner: ME });
    assert.deepEqual((await strict.list()).map((m) => m.name), ['ok.example']);
    const problems = strict.problemDetails();
    assert.deepEqual(problems.map((p) => [p.name, p.file]), [['group.example', renewal('group.example')], ['others.example', renewal('others.example')]]);
    assert.match(problems[0]?.reason ?? '', /^is writable by its group \(mode 0664\): certman running as (root|uid \d+) does not use it \(fix: chmod go-w \S+group\.example\.json\)$/);
    assert.match(problems[1]?.error.message ?? '', new RegExp(`^${renewal('others.example')} is writable by others \\(mode 0646\\)`));
    assert.ok(problems[1]?.error instanceof UntrustedFileError);
    await assert.rejects(strict.get('others.example'), (err: unknown) => err instanceof UntrustedFileError && err.message.includes('chmod go-w'));

    // Opened without a trusted owner (not root), the same files are used as before.
    assert.equal((await (await openFileStore(dir)).list()).length, 3);
    // Nothing was changed by refusing.
    assert.equal((await stat(renewal('others.example'))).mode & 0o777, 0o646);
  });

  test('a renewal file of another user is left out; fixed, it is used again', async () => {
    const dir = freshDir();
    const plain = await openFileStore(dir);
    await saveLeased(plain, newCert('theirs.example', { hooks: { pre: 'touch /tmp/x' } }), pems('1'));
    const file = path.join(path.resolve(dir), 'renewal', 'theirs.example.json');
    const trusted = await ownedByAnother(file);

    const strict = await openFileStore(dir, { trustedOwner: trusted });
    assert.deepEqual(await strict.list(), []);
    const [problem] = strict.problemDetails();
    assert.match(problem?.reason ?? '', /^is owned by uid \d+, not (root|uid \d+): .* \(fix: chown \S+ \S+theirs\.example\.json\)$/);

    if (ME === 0) {
      await chown(file, 0, 0);
      assert.deepEqual((await strict.list()).map((m) => m.name), ['theirs.example']);
    }
  });

  test('a save replaces a renewal file it does not trust with one of its own (mode 0644)', async () => {
    const dir = freshDir();
    const plain = await openFileStore(dir);
    await saveLeased(plain, newCert('s.example', { hooks: { deploy: 'touch /tmp/x' } }), pems('1'));
    const file = path.join(dir, 'renewal', 's.example.json');
    await chmod(file, 0o666);
    const strict = await openFileStore(dir, { trustedOwner: ME });
    const saved = await saveLeased(strict, newCert('s.example'), pems('2'));
    assert.equal(saved.version, 2);
    assert.equal((await stat(file)).mode & 0o777, 0o644);
    assert.deepEqual((await strict.list()).map((m) => [m.name, m.version, m.hooks]), [['s.example', 2, undefined]]);
  });

  test('openStore({ strict: true }) trusts root only', async () => {
    const dir = freshDir();
    await saveLeased(await openFileStore(dir), newCert('r.example'), pems('1'));
    const store = await openStore(dir, { strict: true });
    const listed = await store.list();
    // Root's files pass; any other user's do not (that is every file when this runs as another user).
    assert.equal(listed.length, ME === 0 ? 1 : 0);
    assert.equal(store.problemDetails().length, ME === 0 ? 0 : 1);
  });
});

describe('FileStore with a trusted owner: journals', () => {
  /** Version 1 live, version 2 archived whole, and a journal that would finish the switch to it with hooks. */
  async function interruptedSwitch(dir: string): Promise<string> {
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('j.example'), pems('1'));
    for (const kind of PEM_KINDS) await writeFile(path.join(dir, 'archive', 'j.example', `${kind}2.pem`), pems('2')[kind]);
    const journal = path.join(path.resolve(dir), '.pending', 'j.example');
    const meta = { ...newCert('j.example', { serial: 'ff02', hooks: { pre: 'touch /tmp/pwned' } }), version: 2 };
    await writeFile(journal, JSON.stringify({ version: 2, meta }), { mode: 0o600 });
    return journal;
  }

  test('a journal others can write is not applied: the repair fails naming it, the journal and the store stay as they were', async () => {
    const dir = freshDir();
    const journal = await interruptedSwitch(dir);
    await chmod(journal, 0o606);
    const renewalBefore = await readFile(path.join(dir, 'renewal', 'j.example.json'), 'utf8');

    const strict = await openFileStore(dir, { trustedOwner: ME });
    const [repair] = strict.repairs();
    assert.equal(repair?.outcome, 'failed');
    assert.match(repair?.detail ?? '', new RegExp(`^${journal} is writable by others \\(mode 0606\\): .* \\(fix: chmod go-w ${journal}\\)$`));
    assert.equal(await readFile(path.join(dir, 'renewal', 'j.example.json'), 'utf8'), renewalBefore, 'its metadata (and hooks) were not written');
    assert.deepEqual(await strict.readFiles('j.example'), pems('1'));
    assert.deepEqual(await readdir(path.join(dir, '.pending')), ['j.example']);
  });

  test('a journal of another user is not applied; the same journal, trusted, is', async () => {
    const dir = freshDir();
    const journal = await interruptedSwitch(dir);
    const trusted = await ownedByAnother(journal);
    const strict = await openFileStore(dir, { trustedOwner: trusted });
    assert.equal(strict.repairs()[0]?.outcome, 'failed');
    assert.match(strict.repairs()[0]?.detail ?? '', /is owned by uid \d+, not (root|uid \d+)/);
    const stored = JSON.parse(await readFile(path.join(dir, 'renewal', 'j.example.json'), 'utf8')) as { version: number; hooks?: unknown };
    assert.deepEqual([stored.version, stored.hooks], [1, undefined]);

    if (ME === 0) await chown(journal, 0, 0);
    const trusting = await openFileStore(dir, { trustedOwner: ME });
    assert.deepEqual(trusting.repairs(), [{ name: 'j.example', outcome: 'completed', version: 2 }]);
    assert.deepEqual((await trusting.get('j.example'))?.hooks, { pre: 'touch /tmp/pwned' });
  });
});
