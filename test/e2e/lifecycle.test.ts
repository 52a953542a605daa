// register → issue → certificates → renew → revoke → delete, through the real CLI against Pebble
// with its default 5% badNonce rejection left on.
import assert from 'node:assert/strict';
import { readFile, readlink, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { tempDir, uniqueName } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite({ nonceRejectPercent: 5 });

interface IssueJson {
  status: string;
  name: string;
  serial: string;
  notAfter: string;
  files: Record<'cert' | 'chain' | 'fullchain' | 'privkey', string>;
}

describe('register', () => {
  it('creates the account once and reuses it (same key, same URL)', async () => {
    const dir = await tempDir('cfg');
    const first = json(await suite.certman(dir, ['--json', 'register', '--email', 'a@example.com', '--agree-tos']));
    const second = json(await suite.certman(dir, ['--json', 'register', '--email', 'a@example.com', '--agree-tos']));
    const url = (first.account as { url: string }).url;
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/my-account\//);
    assert.equal(first.created, true);
    assert.equal((second.account as { url: string }).url, url);
    assert.equal(second.created, false);
    const accounts = await readdir(join(dir, 'accounts'), { recursive: true });
    const keyFile = accounts.find((f) => String(f).endsWith('private_key.pem'));
    assert.ok(keyFile !== undefined);
    const keyPath = join(dir, 'accounts', String(keyFile));
    assert.equal((await stat(keyPath)).mode & 0o777, 0o600);
    const key = createPrivateKey(await readFile(keyPath, 'utf8'));
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');

    const shown = await suite.certman(dir, ['account']);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, new RegExp(url));
  });

  it('changes the contact only with --update-email', async () => {
    const dir = await suite.registeredDir();
    const warned = await suite.certman(dir, ['--json', 'register', '--email', 'new@example.com']);
    assert.equal(warned.code, 0);
    assert.match(warned.stderr, /--update-email/);
    assert.equal((json(warned).account as { email: string }).email, 'ops@example.com');
    const updated = json(await suite.certman(dir, ['--json', 'register', '--email', 'new@example.com', '--update-email']));
    assert.equal(updated.contactChanged, true);
    assert.equal((updated.account as { email: string }).email, 'new@example.com');
  });

  it('refuses to create an account without --agree-tos when it cannot prompt', async () => {
    const dir = await tempDir('cfg');
    const r = await suite.certman(dir, ['register', '--email', 'a@example.com']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--agree-tos/);
    const noEmail = await suite.certman(dir, ['register', '--agree-tos']);
    assert.equal(noEmail.code, 2);
    assert.match(noEmail.stderr, /--email/);
  });
});

describe('issue, list, renew, revoke', () => {
  it('runs the whole lifecycle with the certbot layout', async () => {
    const dir = await tempDir('cfg');
    const name = uniqueName('life');
    const alt = uniqueName('alt');
    const issued = await suite.certman(dir, ['--json', 'issue', '-d', name, '-d', `${alt.toUpperCase()},${name}`, ...suite.standalone(), '--email', 'ops@example.com', '--agree-tos']);
    assert.equal(issued.code, 0, issued.stderr);
    const cert = json<IssueJson>(issued);
    assert.equal(cert.status, 'issued');
    assert.equal(cert.name, name);

    // certbot layout: relative symlinks from live/ into archive/, private key 0600 in a 0700 folder
    const live = join(dir, 'live', name);
    assert.equal(await readlink(join(live, 'fullchain.pem')), `../../archive/${name}/fullchain1.pem`);
    assert.equal((await stat(join(dir, 'archive', name, 'privkey1.pem'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'archive', name))).mode & 0o777, 0o700);
    const x509 = new X509Certificate(await readFile(join(live, 'cert.pem')));
    assert.equal(x509.subjectAltName, `DNS:${name}, DNS:${alt}`);
    assert.ok(x509.checkPrivateKey(createPrivateKey(await readFile(join(live, 'privkey.pem')))));
    assert.equal(createPrivateKey(await readFile(join(live, 'privkey.pem'))).asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const fullchain = await readFile(join(live, 'fullchain.pem'), 'utf8');
    assert.equal(fullchain, (await readFile(join(live, 'cert.pem'), 'utf8')) + (await readFile(join(live, 'chain.pem'), 'utf8')));

    // Not due: nothing ordered, exit 0
    const again = await suite.certman(dir, ['issue', '-d', name, '-d', alt, ...suite.standalone()]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /not due/);
    assert.deepEqual(await readdir(join(dir, 'archive', name)), ['cert1.pem', 'chain1.pem', 'fullchain1.pem', 'privkey1.pem']);

    const list = json<Record<string, unknown>[]>(await suite.certman(dir, ['--json', 'certificates']));
    assert.equal(list.length, 1);
    const row = list[0] ?? {};
    assert.deepEqual(row.domains, [name, alt]);
    assert.equal(row.status, 'valid');
    assert.equal(row.keyType, 'ECDSA P-256');
    for (const field of ['name', 'notAfter', 'daysLeft', 'dueAt']) assert.ok(field in row, field);
    const table = await suite.certman(dir, ['list']);
    assert.match(table.stdout, /NAME\s+DOMAINS\s+KEY\s+PROFILE\s+EXPIRES\s+DAYS\s+DUE\s+WHY\s+STATUS/);

    // renew: not due → untouched; --force → new serial, live switched, archive kept
    const noop = json<{ summary: { renewed: number; notDue: number } }>(await suite.certman(dir, ['--json', 'renew', '--no-random-sleep']));
    assert.deepEqual([noop.summary.renewed, noop.summary.notDue], [0, 1]);
    const forced = await suite.certman(dir, ['--json', 'renew', '--no-random-sleep', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    const renewed = json<{ results: { serial: string; previousSerial: string }[] }>(forced).results[0];
    assert.ok(renewed !== undefined && renewed.serial !== renewed.previousSerial);
    assert.equal(await readlink(join(live, 'cert.pem')), `../../archive/${name}/cert2.pem`);
    assert.ok((await readdir(join(dir, 'archive', name))).includes('cert1.pem'));

    // revoke, checked through Pebble's management API
    const revoked = json<{ serial: string }>(await suite.certman(dir, ['--json', 'revoke', '--cert-name', name, '--reason', 'superseded']));
    assert.equal(revoked.serial, renewed.serial);
    assert.equal(await suite.pebble.certStatus(revoked.serial), 'Revoked');
    const after = json<Record<string, unknown>[]>(await suite.certman(dir, ['--json', 'certificates']));
    assert.equal(after[0]?.status, 'revoked');
    const twice = await suite.certman(dir, ['revoke', '--cert-name', name]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /alreadyRevoked/);

    const removed = await suite.certman(dir, ['delete', '--cert-name', name]);
    assert.equal(removed.code, 0);
    assert.deepEqual(json(await suite.certman(dir, ['--json', 'list'])), []);
  });

  it('issues RSA and P-384 keys, and --reuse-key keeps the key across renewals', async () => {
    const dir = await suite.registeredDir();
    const rsa = uniqueName('rsa');
    const r = await suite.certman(dir, ['issue', '-d', rsa, '--key-type', 'rsa', '--rsa-key-size', '3072', '--reuse-key', ...suite.standalone()]);
    assert.equal(r.code, 0, r.stderr);
    const keyPath = join(dir, 'live', rsa, 'privkey.pem');
    const key1 = await readFile(keyPath, 'utf8');
    assert.equal(createPrivateKey(key1).asymmetricKeyDetails?.modulusLength, 3072);
    const renewed = await suite.certman(dir, ['renew', '--no-random-sleep', '--cert-name', rsa, '--force']);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.equal(await readFile(keyPath, 'utf8'), key1);
    assert.equal(await readlink(keyPath), `../../archive/${rsa}/privkey2.pem`);

    const ec = uniqueName('p384');
    const e = await suite.certman(dir, ['--json', 'issue', '-d', ec, '--elliptic-curve', 'p384', ...suite.standalone()]);
    assert.equal(e.code, 0, e.stderr);
    assert.equal(createPrivateKey(await readFile(join(dir, 'live', ec, 'privkey.pem'))).asymmetricKeyDetails?.namedCurve, 'secp384r1');
    const key2 = await readFile(join(dir, 'live', ec, 'privkey.pem'), 'utf8');
    await suite.certman(dir, ['renew', '--no-random-sleep', '--cert-name', ec, '--force']);
    assert.notEqual(await readFile(join(dir, 'live', ec, 'privkey.pem'), 'utf8'), key2, 'a new key by default');
  });

  it('revokes by --cert-path and deletes with --delete', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('path');
    assert.equal((await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()])).code, 0);
    const copy = join(await tempDir('copy'), 'cert.pem');
    const { copyFile } = await import('node:fs/promises');
    await copyFile(join(dir, 'live', name, 'cert.pem'), copy);
    const r = json<{ serial: string; lineage: string }>(await suite.certman(dir, ['--json', 'revoke', '--cert-path', copy, '--reason', 'keyCompromise']));
    assert.equal(r.lineage, name);
    assert.equal(await suite.pebble.certStatus(r.serial), 'Revoked');

    const other = uniqueName('del');
    assert.equal((await suite.certman(dir, ['issue', '-d', other, ...suite.standalone()])).code, 0);
    const d = await suite.certman(dir, ['revoke', '--cert-name', other, '--delete']);
    assert.equal(d.code, 0, d.stderr);
    await assert.rejects(stat(join(dir, 'live', other)));
    await assert.rejects(stat(join(dir, 'archive', other)));
  });
});

describe('certificates replaced by hand', () => {
  it('listing shows the new dates and writes nothing; the next save writes metadata that matches the live files', async () => {
    const dir = await suite.registeredDir();
    const [a, b] = [uniqueName('hand-a'), uniqueName('hand-b')];
    for (const name of [a, b]) assert.equal((await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()])).code, 0);
    const { copyFile } = await import('node:fs/promises');
    // An operator copies another certificate over a's (through the live/ symlink, as cp does).
    await copyFile(join(dir, 'live', b, 'cert.pem'), join(dir, 'live', a, 'cert.pem'));
    const metaOf = async (name: string) => JSON.parse(await readFile(join(dir, 'renewal', `${name}.json`), 'utf8')) as { serial: string; notAfter: string };
    const stale = await metaOf(a);
    const list = json<{ name: string; serial: string; notAfter: string }[]>(await suite.certman(dir, ['--json', 'list']));
    const rowOf = (name: string) => list.find((row) => row.name === name);
    assert.equal(rowOf(a)?.serial, rowOf(b)?.serial);
    assert.equal(rowOf(a)?.notAfter, rowOf(b)?.notAfter);
    assert.deepEqual(await metaOf(a), stale, 'listing wrote nothing');
    // The next save of a (a new version) writes metadata that describes its live files.
    const r = await suite.certman(dir, ['--json', 'renew', '--no-random-sleep', '--force', '--cert-name', a]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const saved = await metaOf(a);
    const relisted = json<{ name: string; serial: string }[]>(await suite.certman(dir, ['--json', 'list'])).find((row) => row.name === a);
    assert.notEqual(saved.serial, stale.serial);
    assert.equal(saved.serial, relisted?.serial, 'the metadata written describes the live certificate');
  });
});
