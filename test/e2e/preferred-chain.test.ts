// --preferred-chain against Pebble offering alternate chains (PEBBLE_ALTERNATE_ROOTS, RFC 8555 §7.4.2 Link
// rel="alternate"): the saved chain ends at a certificate issued by the requested root, the preference is stored
// with the certificate and renew keeps it, a name no chain matches keeps the default chain with a warning, and an
// alternate that fails to download (fault proxy) is skipped with a warning without losing the certificate.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { splitPemBundle } from '../../src/crypto/certificate.js';
import { httpRequestText, tempDir, uniqueName } from '../harness/index.js';
import { json, pebbleSuite, withFaultProxy } from './fixture.js';

const ALTERNATE_ROOTS = 2;
const suite = pebbleSuite({ env: { PEBBLE_ALTERNATE_ROOTS: String(ALTERNATE_ROOTS), PEBBLE_CHAIN_LENGTH: '3' } });

/** Subject common name of Pebble's root number `index` (its management API: /roots/N). */
async function rootName(index: number): Promise<string> {
  const res = await httpRequestText(`${suite.pebble.managementUrl}/roots/${index}`, { ca: await readFile(suite.pebble.caFile, 'utf8') });
  assert.equal(res.status, 200, res.body);
  return commonName(new X509Certificate(res.body).subject);
}

function commonName(dn: string): string {
  const line = dn.split('\n').find((l) => l.startsWith('CN='));
  assert.ok(line !== undefined, dn);
  return line.slice(3);
}

/** Issuer common name of the topmost (last) certificate of the lineage's saved chain.pem. */
async function topmostIssuer(dir: string, name: string): Promise<string> {
  const chain = splitPemBundle(await readFile(join(dir, 'live', name, 'chain.pem'), 'utf8'));
  const topmost = chain.at(-1);
  assert.ok(topmost !== undefined);
  return commonName(new X509Certificate(topmost).issuer);
}

describe('--preferred-chain', () => {
  it('saves the chain whose topmost certificate the named root issued, and renew keeps the preference', async () => {
    const roots = await Promise.all(Array.from({ length: ALTERNATE_ROOTS + 1 }, (_, i) => rootName(i)));
    assert.equal(new Set(roots).size, roots.length, `distinct roots: ${roots.join(', ')}`);
    const dir = await suite.registeredDir();

    const plain = uniqueName('chain-default');
    assert.equal((await suite.certman(dir, ['issue', '-d', plain, ...suite.standalone()])).code, 0);
    const defaultRoot = await topmostIssuer(dir, plain);
    const wanted = roots.find((root) => root !== defaultRoot);
    assert.ok(wanted !== undefined);

    const name = uniqueName('chain-pref');
    const r = await suite.certman(dir, ['-v', 'issue', '-d', name, ...suite.standalone(), '--preferred-chain', wanted]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await topmostIssuer(dir, name), wanted);
    const meta = JSON.parse(await readFile(join(dir, 'renewal', `${name}.json`), 'utf8')) as { preferredChain?: string };
    assert.equal(meta.preferredChain, wanted);

    const renewed = await suite.certman(dir, ['--json', 'renew', '--force', '--cert-name', name, '--no-random-sleep']);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.equal(json<{ summary: { renewed: number } }>(renewed).summary.renewed, 1);
    assert.equal(await topmostIssuer(dir, name), wanted, 'renew used the stored preference');
  });

  it('keeps the default chain, with a warning, when no chain matches; the config key works like the flag', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('chain-none');
    const r = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone(), '--preferred-chain', 'No Such Root']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no chain of the CA ends at a certificate issued by "No Such Root".*kept the default chain/);
    const defaultRoot = await topmostIssuer(dir, name);
    assert.equal(defaultRoot, await rootName(0));

    const wanted = await rootName(ALTERNATE_ROOTS);
    const fromConfig = uniqueName('chain-config');
    const config = join(dir, 'certman.config.json');
    await writeFile(config, JSON.stringify({ preferredChain: wanted }));
    const c = await suite.certman(dir, ['issue', '-d', fromConfig, ...suite.standalone()]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(await topmostIssuer(dir, fromConfig), wanted);
  });

  describe('behind a CA whose alternate chain fails', () => {
    const faulty = withFaultProxy(suite);

    it('skips the failed alternate with a warning and takes the next that matches; the certificate is saved', async () => {
      const proxy = faulty();
      const dir = await tempDir('chain-fault');
      const env = { CERTMAN_SERVER: proxy.directoryUrl };
      assert.equal((await suite.certman(dir, ['register', '--no-email', '--agree-tos'], env)).code, 0);
      const wanted = await rootName(ALTERNATE_ROOTS);
      proxy.inject('alternate', { kind: 'status', status: 404, detail: 'gone' }, 1);
      const name = uniqueName('chain-fault');
      const r = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone(), '--preferred-chain', wanted], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /warning: skipped alternate chain 1: .*gone/);
      assert.equal(await topmostIssuer(dir, name), wanted);
    });
  });
});
