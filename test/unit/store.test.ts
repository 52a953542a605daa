import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rmdir, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';

import { readCertificateInfo } from '../../src/crypto/certificate.js';
import { CertmanError, ExitCode, UsageError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { makeDirs, TEMP_PREFIX, writeFileAtomic } from '../../src/store/fs/atomic.js';
import { hostTag } from '../../src/store/fs/host.js';
import { CorruptFileError, FileStore, openFileStore, PEM_KINDS, serverKey, type PemKind } from '../../src/store/fs/index.js';
import type { StoredAccount } from '../../src/store/types.js';
import type { CertificateFiles, NewCertificate } from '../../src/lineage/types.js';
import { configDirs } from './config-dirs.js';
import { deleteLeased, newCert, pems, saveLeased } from '../harness/store-fixtures.js';

const freshDir = configDirs('store');

/** Pid of a process that has run and exited (so nothing runs under it). */
async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok(child.pid !== undefined);
  return child.pid;
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function mode(info: { mode: number }): number {
  return info.mode & 0o777;
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Every entry under `dir`, recursively, as relative paths. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = entry.name;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await walk(path.join(dir, rel))).map((r) => `${rel}/${r}`));
  }
  return out;
}

async function linkTargets(configDir: string, name: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const kind of PEM_KINDS) out[kind] = await readlink(path.join(configDir, 'live', name, `${kind}.pem`));
  return out;
}

function targetsFor(name: string, version: number): Record<string, string> {
  return Object.fromEntries(PEM_KINDS.map((kind) => [kind, `../../archive/${name}/${kind}${version}.pem`]));
}

/** Writes archive files of a version by hand, as a crashed save() could have left them. */
async function writeArchive(
  configDir: string,
  name: string,
  version: number,
  files: CertificateFiles,
  kinds: readonly PemKind[] = PEM_KINDS,
): Promise<void> {
  for (const kind of kinds) await writeFile(path.join(configDir, 'archive', name, `${kind}${version}.pem`), files[kind]);
}

async function writeJournal(configDir: string, name: string, content: unknown): Promise<void> {
  await mkdir(path.join(configDir, '.pending'), { recursive: true });
  await writeFile(path.join(configDir, '.pending', name), JSON.stringify(content));
}

describe('FileStore: save and versions', () => {
  test('save v1 then v2: relative links to v2, v1 kept in archive, contents and metadata match', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    const v1 = await saveLeased(store, newCert('example.com'), pems('one'));
    assert.equal(v1.version, 1);
    // The caller's version is ignored: numbers come from the archive.
    const v2 = await saveLeased(store, { ...newCert('example.com', { serial: 'ff01' }), version: 99 } as NewCertificate, pems('two'));
    assert.equal(v2.version, 2);
    assert.equal(v2.serial, 'ff01');

    assert.deepEqual(await linkTargets(dir, 'example.com'), targetsFor('example.com', 2));
    for (const kind of PEM_KINDS) {
      const link = path.join(dir, 'live', 'example.com', `${kind}.pem`);
      assert.ok((await lstat(link)).isSymbolicLink());
      assert.ok(!path.isAbsolute(await readlink(link)));
      assert.equal(await readFile(path.join(dir, 'archive', 'example.com', `${kind}1.pem`), 'utf8'), pems('one')[kind]);
      assert.equal(await readFile(path.join(dir, 'archive', 'example.com', `${kind}2.pem`), 'utf8'), pems('two')[kind]);
    }
    assert.deepEqual(await store.readFiles('example.com'), pems('two'));
    assert.deepEqual(await store.get('example.com'), v2);
    assert.ok((await readFile(path.join(dir, 'live', 'example.com', 'README'), 'utf8')).includes('fullchain.pem'));

    const json = JSON.parse(await readFile(path.join(dir, 'renewal', 'example.com.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(json.format, 1);
    assert.equal(json.version, 2);
    assert.equal('format' in ((await store.get('example.com')) ?? {}), false);
    assert.equal(store.liveDir('example.com'), path.join(path.resolve(dir), 'live', 'example.com'));
    assert.deepEqual(await readdir(path.join(dir, '.pending')), []);
  });

  test('a number is never reused, even after an incomplete version', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('a.example'), pems('1'));
    await writeArchive(dir, 'a.example', 2, pems('2'), ['cert']); // leftover of a crash before the journal
    const saved = await saveLeased(store, newCert('a.example'), pems('3'));
    assert.equal(saved.version, 3);
    assert.deepEqual(await store.readFiles('a.example'), pems('3'));
  });

  test('concurrent saves of one name get distinct versions', async () => {
    const store = await openFileStore(freshDir());
    const results = await Promise.all([1, 2, 3, 4].map((i) => saveLeased(store, newCert('c.example'), pems(String(i)))));
    assert.deepEqual(results.map((r) => r.version).sort(), [1, 2, 3, 4]);
    assert.equal((await store.get('c.example'))?.version, 4);
  });

  test('updateMeta rewrites metadata only and refuses a stale version', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('u.example'), pems('1'));
    const v2 = await saveLeased(store, newCert('u.example'), pems('2'));
    const revoked = { at: '2025-02-01T00:00:00.000Z', reason: 'keyCompromise' };
    const updated = await store.updateMeta('u.example', (current) => ({ ...current, revoked }));
    assert.equal(updated.version, v2.version);
    assert.deepEqual((await store.get('u.example'))?.revoked, revoked);
    assert.deepEqual(await linkTargets(dir, 'u.example'), targetsFor('u.example', 2));
    await assert.rejects(store.updateMeta('u.example', (current) => ({ ...current, version: 1 })), CertmanError);
    await assert.rejects(store.updateMeta('missing.example', (current) => current), /no certificate named/);
  });
});

describe('FileStore: live/ slots', () => {
  test('live/<name> links to a slot beside it; each save builds the other slot and switches with one rename', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('s.example'), pems('1'));
    assert.equal(await readlink(path.join(dir, 'live', 's.example')), '.s.example.a');
    await saveLeased(store, newCert('s.example'), pems('2'));
    assert.equal(await readlink(path.join(dir, 'live', 's.example')), '.s.example.b');
    // The previous version stays whole in the other slot until the next switch.
    assert.equal(await readlink(path.join(dir, 'live', '.s.example.a', 'cert.pem')), '../../archive/s.example/cert1.pem');
    await saveLeased(store, newCert('s.example'), pems('3'));
    assert.equal(await readlink(path.join(dir, 'live', 's.example')), '.s.example.a');
    assert.deepEqual(await linkTargets(dir, 's.example'), targetsFor('s.example', 3));
    assert.deepEqual((await readdir(path.join(dir, 'live'))).sort(), ['.s.example.a', '.s.example.b', 's.example']);
    assert.deepEqual((await readdir(path.join(dir, 'live', 's.example'))).sort(), ['README', 'cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem']);
  });

  test('a real live/<name> folder (certman before slots, a certbot copy) becomes a slot at the next save', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('old.example'), pems('1'));
    // The layout as older versions wrote it: live/<name> a folder of links.
    const live = path.join(dir, 'live', 'old.example');
    await unlink(live);
    await mkdir(live);
    for (const kind of PEM_KINDS) await symlink(`../../archive/old.example/${kind}1.pem`, path.join(live, `${kind}.pem`));
    await writeFile(path.join(live, 'README'), 'old');
    assert.deepEqual(await store.readFiles('old.example'), pems('1'));

    await saveLeased(store, newCert('old.example'), pems('2'));
    assert.equal(await readlink(live), '.old.example.a');
    assert.deepEqual(await store.readFiles('old.example'), pems('2'));
    assert.equal(await readFile(path.join(dir, 'live', '.old.example.b', 'README'), 'utf8'), 'old');
  });
});

describe('FileStore: failed writes', () => {
  test('a save that cannot write its journal takes its archive version back, names the path, leaves live/ as it was', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('w.example'), pems('1'));
    const liveBefore = await linkTargets(dir, 'w.example');
    // The journal cannot be written: a file stands where its folder goes.
    await rmdir(path.join(dir, '.pending'));
    await writeFile(path.join(dir, '.pending'), 'in the way');
    await assert.rejects(saveLeased(store, newCert('w.example'), pems('2')), (err: unknown) => {
      assert.ok(err instanceof CertmanError);
      assert.ok(err.message.includes(path.join(path.resolve(dir), '.pending')), err.message);
      return true;
    });
    assert.deepEqual((await readdir(path.join(dir, 'archive', 'w.example'))).sort(), PEM_KINDS.map((kind) => `${kind}1.pem`).sort());
    assert.deepEqual(await linkTargets(dir, 'w.example'), liveBefore);
    assert.equal((await store.get('w.example'))?.version, 1);
  });

  test('temp files of a writer that died are removed by the next writable opening, never by a listing; others are kept', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('t.example'), pems('1'));
    const dead = await deadPid();
    const tag = hostTag();
    const leftover = (name: string, pid: number) => `${TEMP_PREFIX}${name}-${tag}-${pid}-0123456789ab`;
    const renewal = path.join(dir, 'renewal');
    await writeFile(path.join(renewal, leftover('t.example.json', dead)), 'left by a killed run');
    await writeFile(path.join(renewal, leftover('t.example.json', process.pid)), 'a write in progress');
    await writeFile(path.join(renewal, `${TEMP_PREFIX}t.example.json-1a2b3c4d5e6f`), 'old format, recent');
    const temps = async () => (await readdir(renewal)).filter((e) => e.startsWith(TEMP_PREFIX)).sort();
    const all = await temps();
    await store.list();
    await openFileStore(dir, { readOnly: true });
    assert.deepEqual(await temps(), all, 'reads never write');
    await openFileStore(dir);
    assert.deepEqual(await temps(), [`${TEMP_PREFIX}t.example.json-1a2b3c4d5e6f`, leftover('t.example.json', process.pid)]);
  });
});

describe('FileStore: modes', () => {
  for (const umask of [0o000, 0o077]) {
    test(`modes are exact with umask ${umask.toString(8).padStart(3, '0')}`, async () => {
      const old = process.umask(umask);
      try {
        const dir = freshDir();
        const store = await openFileStore(dir);
        await saveLeased(store, newCert('m.example'), pems('1'));
        await saveLeased(store, newCert('m.example'), pems('2'));
        await store.saveAccount({
          server: 'https://acme-v02.api.letsencrypt.org/directory',
          url: 'https://acme-v02.api.letsencrypt.org/acme/acct/9',
          keyPem: '-----BEGIN PRIVATE KEY-----\nacct\n-----END PRIVATE KEY-----\n',
          createdAt: '2025-01-01T00:00:00.000Z',
        });

        assert.equal(mode(await stat(dir)), 0o755);
        assert.equal(mode(await stat(path.join(dir, 'archive'))), 0o700);
        assert.equal(mode(await stat(path.join(dir, 'archive', 'm.example'))), 0o700);
        for (const version of [1, 2]) {
          for (const kind of PEM_KINDS) {
            const info = await stat(path.join(dir, 'archive', 'm.example', `${kind}${version}.pem`));
            assert.equal(mode(info), kind === 'privkey' ? 0o600 : 0o644, `${kind}${version}.pem`);
          }
        }
        assert.equal(mode(await stat(path.join(dir, 'live', 'm.example'))), 0o755);
        assert.equal(mode(await stat(path.join(dir, 'renewal', 'm.example.json'))), 0o644);
        assert.equal(mode(await stat(path.join(dir, 'accounts'))), 0o700);
        assert.equal(mode(await stat(path.join(dir, 'accounts', 'acme-v02.api.letsencrypt.org'))), 0o700);
        const accountDir = path.join(dir, 'accounts', 'acme-v02.api.letsencrypt.org', 'directory');
        assert.equal(mode(await stat(accountDir)), 0o700);
        assert.equal(mode(await stat(path.join(accountDir, 'private_key.pem'))), 0o600);
        assert.equal(mode(await stat(path.join(accountDir, 'account.json'))), 0o644);
      } finally {
        process.umask(old);
      }
    });
  }
});

describe('writeFileAtomic', () => {
  test('replaces content, sets the mode, leaves no temp files', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'data.txt');
    await writeFileAtomic(file, 'first', 0o600);
    await writeFileAtomic(file, 'second', 0o644);
    await writeFileAtomic(file, Buffer.from('third'), 0o640);
    assert.equal(await readFile(file, 'utf8'), 'third');
    assert.equal(mode(await stat(file)), 0o640);
    assert.deepEqual(await readdir(dir), ['data.txt']);
  });

  test('a failed write removes its temp file and keeps the target', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    await mkdir(path.join(dir, 'target')); // renaming a file over a directory fails
    await assert.rejects(writeFileAtomic(path.join(dir, 'target'), 'x', 0o644));
    assert.deepEqual(await readdir(dir), ['target']);
    assert.ok((await stat(path.join(dir, 'target'))).isDirectory());
  });

  test('a whole store leaves no temp files behind', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    for (let i = 0; i < 3; i++) await saveLeased(store, newCert('t.example'), pems(String(i)));
    await store.saveAccount({ server: 'https://ca.test/dir', url: 'https://ca.test/acct/1', keyPem: 'k', createdAt: 'now' });
    const leftovers = (await walk(dir)).filter((p) => path.basename(p).startsWith(TEMP_PREFIX));
    assert.deepEqual(leftovers, []);
  });
});

describe('makeDirs', () => {
  test('creates the missing folders, returns the first one, and accepts an existing path', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    assert.equal(await makeDirs(path.join(dir, 'a', 'b'), 0o700), path.join(dir, 'a'));
    assert.ok((await stat(path.join(dir, 'a', 'b'))).isDirectory());
    assert.equal(await makeDirs(path.join(dir, 'a', 'b'), 0o700), undefined);
  });

  test('fails, instead of looping like Node\'s recursive mkdir, where mkdir answers ENOENT (/proc)', async () => {
    await assert.rejects(makeDirs('/proc/certman-unit/x', 0o700), { code: 'ENOENT' });
  });

  test('fails on a file in the way', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'file'), 'x');
    await assert.rejects(makeDirs(path.join(dir, 'file', 'sub'), 0o700), { code: 'ENOTDIR' });
  });
});

describe('FileStore: recovery on open', () => {
  test('an interrupted switch to a complete version is finished', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('r.example'), pems('1'));
    // Crash after the archive and the journal were written, with one link already switched.
    await writeArchive(dir, 'r.example', 2, pems('2'));
    await writeJournal(dir, 'r.example', { version: 2 });
    await unlink(path.join(dir, 'live', 'r.example', 'cert.pem'));
    await symlink('../../archive/r.example/cert2.pem', path.join(dir, 'live', 'r.example', 'cert.pem'));

    const reopened = await openFileStore(dir);
    assert.deepEqual(await linkTargets(dir, 'r.example'), targetsFor('r.example', 2));
    assert.deepEqual(await reopened.readFiles('r.example'), pems('2'));
    assert.equal((await reopened.get('r.example'))?.version, 2);
    assert.deepEqual(await readdir(path.join(dir, '.pending')), []);
    assert.deepEqual(reopened.repairs(), [{ name: 'r.example', outcome: 'completed', version: 2 }]);
    // Nothing left to repair on the next open.
    assert.deepEqual((await openFileStore(dir)).repairs(), []);
  });

  test('the metadata recorded in the journal is restored with the switch', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('j.example'), pems('1'));
    await writeArchive(dir, 'j.example', 2, pems('2'));
    const meta2 = { ...newCert('j.example', { serial: 'beef', notAfter: '2025-07-01T00:00:00.000Z' }), version: 2 };
    await writeJournal(dir, 'j.example', { version: 2, meta: meta2 }); // crash before renewal/ was written

    const reopened = await openFileStore(dir);
    assert.deepEqual(await reopened.get('j.example'), meta2);
    assert.deepEqual(await linkTargets(dir, 'j.example'), targetsFor('j.example', 2));
  });

  // 0x80ABCDEF is DER-encoded with a leading zero byte; 0xABCDE's first byte is 0x0A, which Node's parser
  // prints as "0ABCDE": recovery once stored that form, and revoke by serial ("abcde") then missed.
  for (const [setSerial, expected] of [['0x80ABCDEF', '80abcdef'], ['0xABCDE', 'abcde']] as const) {
    test(`without journal metadata, serial (${setSerial}, as "${expected}") and dates come from the new certificate`, { skip: !hasOpenssl() }, async () => {
      const dir = freshDir();
      const store = await openFileStore(dir);
      await saveLeased(store, newCert('x.example'), pems('1'));
      const keyFile = path.join(dir, 'k.pem');
      const certFile = path.join(dir, 'c.pem');
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile,
        '-out', certFile, '-days', '30', '-subj', '/CN=x.example', '-set_serial', setSerial,
      ], { stdio: 'ignore' });
      const cert = await readFile(certFile, 'utf8');
      await writeArchive(dir, 'x.example', 2, { ...pems('2'), cert, fullchain: cert, privkey: await readFile(keyFile, 'utf8') });
      await writeJournal(dir, 'x.example', { version: 2 });

      const meta = await (await openFileStore(dir)).get('x.example');
      const x509 = new X509Certificate(cert);
      assert.equal(meta?.version, 2);
      assert.equal(meta?.serial, expected);
      assert.equal(meta?.serial, readCertificateInfo(cert).serial, 'the one normalization');
      assert.equal((JSON.parse(await readFile(path.join(dir, 'renewal', 'x.example.json'), 'utf8')) as { serial: string }).serial, expected);
      assert.equal(meta?.notAfter, new Date(x509.validTo).toISOString());
      assert.equal(meta?.notBefore, new Date(x509.validFrom).toISOString());
    });
  }

  test('a serial stored with a leading zero by an older certman reads in the one form', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('z.example'), pems('1'));
    const file = path.join(dir, 'renewal', 'z.example.json');
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...json, serial: '0ABC' }));
    assert.equal((await store.get('z.example'))?.serial, 'abc');
    assert.deepEqual((await store.list()).map((m) => m.serial), ['abc']);
  });

  test('a crash before the archive was complete stays on the previous version', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    const v1 = await saveLeased(store, newCert('p.example'), pems('1'));
    // Journal names version 2 but privkey2.pem never made it; one link was already pointed at cert2.
    await writeArchive(dir, 'p.example', 2, pems('2'), ['cert', 'chain', 'fullchain']);
    await writeJournal(dir, 'p.example', { version: 2 });
    await unlink(path.join(dir, 'live', 'p.example', 'cert.pem'));
    await symlink('../../archive/p.example/cert2.pem', path.join(dir, 'live', 'p.example', 'cert.pem'));

    const reopened = await openFileStore(dir);
    assert.deepEqual(await linkTargets(dir, 'p.example'), targetsFor('p.example', 1));
    assert.deepEqual(await reopened.readFiles('p.example'), pems('1'));
    assert.deepEqual(await reopened.get('p.example'), v1);
    assert.deepEqual(await readdir(path.join(dir, '.pending')), []);
    assert.deepEqual(reopened.repairs(), [{ name: 'p.example', outcome: 'rolled-back', version: 1 }]);
    assert.equal((await saveLeased(reopened, newCert('p.example'), pems('3'))).version, 3);
  });

  test('a crash during the very first save leaves nothing linked', async () => {
    const dir = freshDir();
    await mkdir(path.join(dir, 'archive', 'f.example'), { recursive: true });
    await writeArchive(dir, 'f.example', 1, pems('1'), ['cert']);
    await writeJournal(dir, 'f.example', { version: 1 });
    const store = await openFileStore(dir);
    assert.deepEqual(store.repairs(), [{ name: 'f.example', outcome: 'discarded' }]);
    assert.equal(await exists(path.join(dir, 'live', 'f.example')), false);
    assert.equal(await store.get('f.example'), undefined);
  });
});

describe('FileStore: list, get, delete', () => {
  test('list skips a corrupt json and reports it', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('b.example'), pems('b'));
    await saveLeased(store, newCert('a.example'), pems('a'));
    await writeFile(path.join(dir, 'renewal', 'c.example.json'), '{ not json');
    await writeFile(path.join(dir, 'renewal', 'd.example.json'), JSON.stringify({ format: 1, name: 'other' }));
    await writeFile(path.join(dir, 'renewal', 'notes.txt'), 'ignored');

    const metas = await store.list();
    assert.deepEqual(
      metas.map((m) => m.name),
      ['a.example', 'b.example'],
    );
    assert.deepEqual(store.problemDetails().map((p) => p.name), ['c.example', 'd.example']);
    assert.match(store.problemDetails()[0]?.reason ?? '', /JSON/);
    await assert.rejects(store.get('c.example'), CorruptFileError);
  });

  test('a lineage whose live certificate is missing is reported with the reason, not listed, and nothing is written', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('ok.example'), pems('1'));
    await saveLeased(store, newCert('gone.example'), pems('1'));
    await saveLeased(store, newCert('dangling.example'), pems('1'));
    await unlink(path.join(dir, 'live', 'gone.example'));
    await unlink(path.join(dir, 'archive', 'dangling.example', 'cert1.pem'));
    const before = await walk(dir);
    assert.deepEqual((await store.list()).map((m) => m.name), ['ok.example']);
    assert.deepEqual(
      store.problemDetails().map((p) => [p.name, p.file, p.reason]),
      [
        ['dangling.example', path.join(path.resolve(dir), 'live', 'dangling.example', 'cert.pem'), 'the live certificate is missing'],
        ['gone.example', path.join(path.resolve(dir), 'live', 'gone.example', 'cert.pem'), 'the live certificate is missing'],
      ],
    );
    assert.match(store.problemDetails()[0]?.error.message ?? '', /dangling\.example.*missing/);
    assert.deepEqual(await walk(dir), before);
    // get() refuses it like damaged metadata (renew --cert-name names it instead of ordering); delete still clears it.
    await assert.rejects(store.get('gone.example'), /the live certificate is missing/);
  });

  test('a certificate replaced by hand: listing corrects it in memory only; the next write of the lineage stores it', { skip: !hasOpenssl() }, async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('h.example'), pems('1'));
    const file = path.join(dir, 'renewal', 'h.example.json');
    const stored = await readFile(file, 'utf8');
    const certFile = path.join(dir, 'archive', 'h.example', 'cert1.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null',
      '-out', certFile, '-days', '30', '-subj', '/CN=h.example', '-set_serial', '0x0123',
    ], { stdio: 'ignore' });
    const before = await walk(dir);
    const [listed] = await store.list();
    assert.equal(listed?.serial, '123');
    assert.equal((await store.get('h.example'))?.serial, '123');
    assert.equal(await readFile(file, 'utf8'), stored, 'reads never write');
    assert.deepEqual(await walk(dir), before);
    await store.updateMeta('h.example', (current) => ({ ...current, hooks: { deploy: 'true' } }));
    assert.equal((JSON.parse(await readFile(file, 'utf8')) as { serial: string }).serial, '123');
  });

  test('list reads many certificates', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('seed.example'), pems('s'));
    const names = Array.from({ length: 2000 }, (_, i) => `host${String(i).padStart(4, '0')}.example`);
    await Promise.all(
      names.map(async (name) => {
        await writeFile(path.join(dir, 'renewal', `${name}.json`), JSON.stringify({ format: 1, ...newCert(name), version: 1 }));
        // Each with a live certificate (the seed's), or it would be listed as damaged.
        await symlink('.seed.example.a', path.join(dir, 'live', name));
      }),
    );
    const metas = await store.list();
    assert.equal(metas.length, 2001);
    assert.deepEqual(store.problemDetails(), []);
  });

  test('list on an empty store', async () => {
    const store = await openStore(freshDir());
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(store.problemDetails(), []);
    assert.equal(await store.get('nothing.example'), undefined);
    await assert.rejects(store.readFiles('nothing.example'), CertmanError);
  });

  test('delete removes live, archive, renewal and journal', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await saveLeased(store, newCert('d.example'), pems('1'));
    await saveLeased(store, newCert('d.example'), pems('2'));
    await saveLeased(store, newCert('keep.example'), pems('k'));
    await writeJournal(dir, 'd.example', { version: 3 });

    await deleteLeased(store, 'd.example');
    assert.equal(await store.get('d.example'), undefined);
    assert.deepEqual((await readdir(path.join(dir, 'live'))).sort(), ['.keep.example.a', 'keep.example'], 'the link and both slots');
    for (const p of ['live/d.example', 'archive/d.example', 'renewal/d.example.json', '.pending/d.example']) {
      assert.equal(await exists(path.join(dir, p)), false, p);
    }
    assert.deepEqual(
      (await store.list()).map((m) => m.name),
      ['keep.example'],
    );
    await deleteLeased(store, 'd.example'); // already gone: fine
  });
});

describe('FileStore: names', () => {
  test('unsafe names are rejected with a UsageError', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    for (const name of ['..', '.', '../etc', 'a/b', 'a/../b', 'x..y', '', '.hidden', '-flag', 'a b', 'a'.repeat(251)]) {
      await assert.rejects(saveLeased(store, newCert(name), pems('x')), UsageError, JSON.stringify(name));
      await assert.rejects(store.get(name), UsageError);
      await assert.rejects(deleteLeased(store, name), UsageError);
      assert.throws(() => store.liveDir(name), UsageError);
    }
    await assert.rejects(saveLeased(store, newCert('../x'), pems('x')), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.exitCode, ExitCode.USAGE);
      return true;
    });
    assert.equal(await exists(path.join(path.dirname(dir), 'x')), false);
    assert.equal(await exists(path.join(dir, 'archive')), false);
  });

  test('wildcard-style and long names are accepted', async () => {
    const store = await openFileStore(freshDir());
    for (const name of ['*.example.com', 'a'.repeat(250), 'xn--bcher-kva.example', 'my_cert-2']) {
      assert.equal((await saveLeased(store, newCert(name), pems(name))).version, 1);
    }
  });
});

describe('FileStore: accounts', () => {
  const account: StoredAccount = {
    server: 'https://acme-v02.api.letsencrypt.org/directory',
    url: 'https://acme-v02.api.letsencrypt.org/acme/acct/123',
    email: 'admin@example.com',
    keyPem: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n',
    createdAt: '2025-01-01T00:00:00.000Z',
  };

  test('round trip', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    assert.equal(await store.getAccount(account.server), undefined);
    await store.saveAccount(account);
    assert.deepEqual(await store.getAccount(account.server), account);
    const json = JSON.parse(
      await readFile(path.join(dir, 'accounts', 'acme-v02.api.letsencrypt.org', 'directory', 'account.json'), 'utf8'),
    ) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json).sort(), ['createdAt', 'email', 'server', 'url']);

    const noEmail: StoredAccount = { ...account, url: `${account.url}4` };
    delete noEmail.email;
    await store.saveAccount(noEmail);
    assert.deepEqual(await store.getAccount(account.server), noEmail);
  });

  test('different ports are different accounts', async () => {
    const store = await openFileStore(freshDir());
    const a = { ...account, server: 'https://localhost:14000/dir', url: 'https://localhost:14000/acct/1' };
    const b = { ...account, server: 'https://localhost:15000/dir', url: 'https://localhost:15000/acct/1' };
    const c = { ...account, server: 'https://localhost/dir', url: 'https://localhost/acct/1' };
    assert.notEqual(serverKey(a.server), serverKey(b.server));
    assert.notEqual(serverKey(a.server), serverKey(c.server));
    await store.saveAccount(a);
    await store.saveAccount(b);
    await store.saveAccount(c);
    assert.equal((await store.getAccount(a.server))?.url, a.url);
    assert.equal((await store.getAccount(b.server))?.url, b.url);
    assert.equal((await store.getAccount(c.server))?.url, c.url);
  });

  test('server keys are readable and cannot escape accounts/', () => {
    assert.equal(serverKey('https://acme-v02.api.letsencrypt.org/directory'), 'acme-v02.api.letsencrypt.org/directory');
    assert.equal(serverKey('https://acme-staging-v02.api.letsencrypt.org/directory'), 'acme-staging-v02.api.letsencrypt.org/directory');
    assert.equal(serverKey('https://localhost:14000/dir'), 'localhost_14000/dir');
    assert.equal(serverKey('https://LocalHost:443/dir/'), 'localhost/dir');
    for (const url of [
      'https://ca.test/a/../../..',
      'https://ca.test/%2e%2e/%2E%2E/x',
      'https://ca.test/..%2f..%2fetc',
      'https://ca.test/.hidden/account.json',
      'https://[::1]:8443/dir',
    ]) {
      const key = serverKey(url);
      for (const segment of key.split('/')) {
        assert.ok(segment !== '' && !segment.startsWith('.') && !segment.includes('\\'), `${url} → ${key}`);
        assert.notEqual(segment, 'account.json');
      }
      assert.ok(!path.normalize(path.join('/accounts', key)).startsWith('/accounts/..'));
    }
    assert.throws(() => serverKey('not a url'), UsageError);
    assert.throws(() => serverKey('file:///etc/passwd'), UsageError);
  });

  test('a damaged account.json is an error, not a silent new account', async () => {
    const dir = freshDir();
    const store = await openFileStore(dir);
    await store.saveAccount(account);
    await writeFile(path.join(dir, 'accounts', 'acme-v02.api.letsencrypt.org', 'directory', 'account.json'), '{');
    await assert.rejects(store.getAccount(account.server), CorruptFileError);
  });
});

describe('openStore', () => {
  test('returns the filesystem store and creates the config dir', async () => {
    const dir = freshDir();
    const store = await openStore(dir);
    assert.ok(store instanceof FileStore);
    assert.ok((await stat(dir)).isDirectory());
  });
});
