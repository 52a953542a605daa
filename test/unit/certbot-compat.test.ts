// certbot's rules, as pure logic: webroots per -d, hook folder listing, node-local copies and maps, the spellings.
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { webrootFor, webrootMap, webrootPerDomainFlag } from '../../src/challenge/webroot-map.js';
import { deployHookOf, testCertServer } from '../../src/cli/certbot-spellings.js';
import { DEFAULT_SERVER } from '../../src/config/defaults.js';
import { UsageError } from '../../src/errors.js';
import { writeCsrFiles } from '../../src/deploy/csr-files.js';
import { listHookDir } from '../../src/hooks/dirs.js';
import { copyPathsOnThisNode, methodOnThisNode, storedMethodProblem, withoutNodeLocal } from '../../src/lineage/node-local.js';
import type { NewCertificate } from '../../src/lineage/types.js';
import { tempDir } from '../harness/index.js';

const w = (dir: string, domainFlagsBefore: number) => ({ dir, domainFlagsBefore });

describe('several webroots (certbot -w/-d order)', () => {
  it('each -d takes the -w before it', () => {
    assert.deepEqual(webrootPerDomainFlag(3, [w('/a', 0), w('/b', 2)]), ['/a', '/a', '/b']);
    assert.deepEqual(webrootPerDomainFlag(2, [w('/a', 0)]), ['/a', '/a']);
    assert.equal(webrootPerDomainFlag(2, []), undefined);
  });
  it('names before the only -w take it; with several -w one must come first', () => {
    assert.deepEqual(webrootPerDomainFlag(2, [w('/a', 1)]), ['/a', '/a']);
    assert.throws(() => webrootPerDomainFlag(2, [w('/a', 1), w('/b', 1)]), UsageError);
  });
  it('a map only when the folders differ, keyed by normalized name; a name given twice keeps its first folder', () => {
    const names = (flag: string) => flag.split(',').map((n) => n.toLowerCase());
    assert.equal(webrootMap(['a.test', 'b.test'], [w('/a', 0)], names), undefined);
    assert.deepEqual(webrootMap(['A.test,www.a.test', 'b.test', 'a.test'], [w('/a', 0), w('/b', 1)], names), { 'a.test': '/a', 'www.a.test': '/a', 'b.test': '/b' });
    assert.equal(webrootFor({ webroot: '/b', webroots: { 'a.test': '/a' } }, 'a.test'), '/a');
    assert.equal(webrootFor({ webroot: '/b', webroots: { 'a.test': '/a' } }, 'other.test'), '/b');
  });
});

describe('node-local: webroot maps and copy paths', () => {
  const fresh: NewCertificate = {
    name: 'a.test',
    domains: ['a.test', 'b.test'],
    key: { type: 'ecdsa', curve: 'p256' },
    reuseKey: false,
    method: { kind: 'webroot', webroot: '/b', webroots: { 'a.test': '/a' } },
    server: 'https://ca.example/dir',
    accountUrl: 'https://ca.example/acct/1',
    serial: '01',
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2026-04-01T00:00:00.000Z',
    copyTo: { key: '/etc/app/key.pem' },
  };
  it('a shared store keeps neither', () => {
    const shared = withoutNodeLocal(fresh);
    assert.deepEqual(shared.method, { kind: 'webroot' });
    assert.equal('copyTo' in shared, false);
  });
  it('this host uses its own store\'s, never a shared store\'s', () => {
    const node = { hooks: {}, webroot: '/srv/www', httpPort: 80 };
    assert.deepEqual(methodOnThisNode(fresh, node, false), { kind: 'webroot', webroot: '/b', webroots: { 'a.test': '/a' } });
    assert.deepEqual(methodOnThisNode(fresh, node, true), { kind: 'webroot', webroot: '/srv/www' });
    assert.deepEqual(copyPathsOnThisNode(fresh, false), { key: '/etc/app/key.pem' });
    assert.equal(copyPathsOnThisNode(fresh, true), undefined);
  });
  it('a stored map must map names to folders', () => {
    assert.equal(storedMethodProblem({ kind: 'webroot', webroots: { 'a.test': '/a' } }), undefined);
    assert.match(storedMethodProblem({ kind: 'webroot', webroots: { 'a.test': 3 } }) ?? '', /webroots/);
    assert.match(storedMethodProblem({ kind: 'webroot', webroots: ['/a'] }) ?? '', /webroots/);
    assert.match(storedMethodProblem({ kind: 'webroot', webroots: { 'a.test': 'relative' } }) ?? '', /absolute folders/);
  });
});

describe('renewal-hooks/ folders', () => {
  const debug: string[] = [];
  const report = { debug: (m: string) => debug.push(m) };
  it('lists executables in code point order, skipping the rest with a debug line; a missing folder has none', async () => {
    const dir = await tempDir('hookdir');
    for (const [name, mode] of [['b', 0o755], ['B', 0o700], ['a', 0o750], ['plain', 0o644], ['old~', 0o755]] as const) {
      await writeFile(join(dir, name), '#!/bin/sh\n');
      await chmod(join(dir, name), mode);
    }
    await mkdir(join(dir, 'sub'));
    await symlink(join(dir, 'gone'), join(dir, 'dangling'));
    assert.deepEqual(await listHookDir(dir, { strict: false, report }), ['B', 'a', 'b'].map((n) => join(dir, n)));
    assert.deepEqual(debug.map((m) => m.replace(/^.*skipped /, '')).sort(), ['dangling (not a file)', 'old~ (an editor backup)', 'plain (not executable)', 'sub (not a file)']);
    assert.deepEqual(await listHookDir(join(dir, 'missing'), { strict: false, report }), []);
  });
  // The rule is root's (owner 0): as another user every file would be refused for its owner. CI runs as root.
  const asRoot = { skip: process.getuid?.() === 0 ? false : 'the root-only rule needs root' };
  it('strict (root): a folder or file others can write is refused', asRoot, async () => {
    const dir = await tempDir('hookdir');
    await writeFile(join(dir, 'x'), '#!/bin/sh\n');
    await chmod(join(dir, 'x'), 0o775);
    await assert.rejects(listHookDir(dir, { strict: true, report }), /writable by its group/);
    await chmod(join(dir, 'x'), 0o755);
    await chmod(dir, 0o777);
    await assert.rejects(listHookDir(dir, { strict: true, report }), /writable by/);
  });
  it('strict (root): a symlink to a file, or a folder that is a symlink to a folder, another user owns is refused', asRoot, async () => {
    const user = await tempDir('user');
    await writeFile(join(user, 'hook'), '#!/bin/sh\n');
    await chmod(join(user, 'hook'), 0o755);
    await chown(join(user, 'hook'), 65534, 65534);
    const dir = await tempDir('hookdir');
    await symlink(join(user, 'hook'), join(dir, 'linked'));
    await assert.rejects(listHookDir(dir, { strict: true, report }), /hook .*linked.* is owned by uid 65534.*refuses hooks that other users can change/);
    await chown(user, 65534, 65534);
    await rm(join(user, 'hook'));
    const linkedDir = join(await tempDir('hooks'), 'deploy');
    await symlink(user, linkedDir);
    await assert.rejects(listHookDir(linkedDir, { strict: true, report }), /hook folder .* is owned by uid 65534/);
  });
});

describe("certbot's spellings", () => {
  const staging = 'https://staging.example/dir';
  it('--test-cert goes to the staging CA unless another CA was chosen', () => {
    assert.equal(testCertServer({ server: DEFAULT_SERVER, dryRunServer: staging }), staging);
    assert.equal(testCertServer({ server: staging, dryRunServer: staging }), staging);
    assert.throws(() => testCertServer({ server: 'https://other.example/dir', dryRunServer: staging }), UsageError);
    // Without dryRunServer: the configured CA's own staging CA when certman knows one, else Let's Encrypt's.
    assert.equal(testCertServer({ server: 'https://api.buypass.com/acme/directory', dryRunServer: undefined }), 'https://api.test4.buypass.com/acme/directory');
    assert.equal(testCertServer({ server: DEFAULT_SERVER, dryRunServer: undefined }), 'https://acme-staging-v02.api.letsencrypt.org/directory');
    assert.throws(() => testCertServer({ server: 'https://other.example/dir', dryRunServer: undefined }), UsageError);
  });
  it('--renew-hook is --deploy-hook; two different commands are refused', () => {
    assert.equal(deployHookOf({ renewHook: 'x' }), 'x');
    assert.equal(deployHookOf({ deployHook: 'x', renewHook: 'x' }), 'x');
    assert.throws(() => deployHookOf({ deployHook: 'x', renewHook: 'y' }), UsageError);
  });
});

describe('--csr files', () => {
  it('a failed write says what was written and keeps the full chain rather than lose the certificate', async () => {
    const dir = await tempDir('csr-out');
    const pems = { cert: 'CERT\n', chain: 'CHAIN\n', fullchain: 'CERT\nCHAIN\n' };
    const error = await writeCsrFiles(pems, { cert: join(dir, 'cert.pem'), chain: join(dir, 'gone', 'chain.pem') }, dir).then(
      () => assert.fail('the chain cannot be written'),
      (err: Error) => err.message,
    );
    assert.match(error, /could not write the chain to .*gone.*written: the certificate to .*cert\.pem, the full chain \(certificate and chain\) to (\S+)$/);
    const rescued = /to (\S+)$/.exec(error)?.[1] ?? '';
    assert.equal(await readFile(rescued, 'utf8'), pems.fullchain);
    await rm(join(rescued, '..'), { recursive: true });
  });
});
