// --preferred-chain's choice (src/certificate/chain-choice.ts) over chains made with openssl, including the case
// certbot changed its rule for: a root that issues a certificate deeper in the default chain must still select the
// alternate chain that ends at it. And the Link header parsing that finds the alternates (src/acme/link.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { linksOf } from '../../src/acme/link.js';
import { choosePreferredChain, topmostIssuer } from '../../src/certificate/chain-choice.js';
import { tempDir } from '../harness/index.js';

const openssl = promisify(execFile);

/** A certificate for `cn` signed by `issuer` (self-signed without one), as PEM; keys are kept in `dir` by name. */
async function certificate(dir: string, cn: string, issuer?: string): Promise<string> {
  const file = (name: string, ext: string) => join(dir, `${name.replace(/\W/g, '_')}.${ext}`);
  await openssl('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file(cn, 'key'), '-subj', `/CN=${cn}`, '-out', file(cn, 'csr')]);
  const signer = issuer === undefined ? ['-key', file(cn, 'key')] : ['-CA', file(issuer, 'pem'), '-CAkey', file(issuer, 'key')];
  const out = file(issuer === undefined ? cn : `${cn} by ${issuer}`, 'pem');
  await openssl('openssl', ['x509', '-req', '-in', file(cn, 'csr'), ...signer, '-days', '2', '-out', out]);
  if (issuer === undefined) return readFile(out, 'utf8');
  // The signed copy also serves as the issuer file of what it signs next.
  await openssl('cp', [out, file(cn, 'pem')]);
  return readFile(out, 'utf8');
}

describe('--preferred-chain choice', () => {
  // Default chain: leaf ← Int ← Root A (cross-signed by Root B); alternate: leaf ← Int, ending at Root A's issue.
  let defaultChain: string;
  let alternate: string;
  before(async () => {
    const dir = await tempDir('chains');
    await certificate(dir, 'Root B');
    await certificate(dir, 'Root A');
    const int = await certificate(dir, 'Int', 'Root A');
    const leaf = await certificate(dir, 'leaf.example', 'Int');
    const crossSigned = await certificate(dir, 'Root A', 'Root B');
    defaultChain = `${leaf}${int}${crossSigned}`;
    alternate = `${leaf}${int}`;
  });

  it('looks only at the issuer of the topmost certificate of each chain', () => {
    assert.equal(topmostIssuer(defaultChain), 'Root B');
    assert.equal(topmostIssuer(alternate), 'Root A');
    // "Root A" issued Int in the default chain too, but only the alternate ends at a certificate it issued.
    const a = choosePreferredChain([defaultChain, alternate], 'Root A');
    assert.equal(a.pem, alternate);
    assert.ok(a.matched);
    assert.equal(choosePreferredChain([defaultChain, alternate], 'Root B').pem, defaultChain);
  });

  it('keeps the default chain when nothing matches (exact names only) and says what was offered', () => {
    for (const name of ['root a', 'Root', 'Int']) {
      const none = choosePreferredChain([defaultChain, alternate], name);
      assert.equal(none.pem, defaultChain, name);
      assert.equal(none.matched, false);
    }
    assert.match(choosePreferredChain([defaultChain, alternate], 'X').note, /offered: Root B; Root A\); kept the default chain/);
  });
});

describe('Link headers', () => {
  const base = 'https://ca.test/cert/1';
  it('finds every rel="alternate" link, joined or repeated, resolved against the request URL', () => {
    assert.deepEqual(linksOf(['<https://ca.test/cert/1/1>;rel="alternate"', '<https://ca.test/dir>;rel="index"', '</cert/1/2>; rel=alternate'], 'alternate', base), [
      'https://ca.test/cert/1/1',
      'https://ca.test/cert/1/2',
    ]);
    assert.deepEqual(linksOf('<https://ca.test/a,b>;rel="alternate", <https://ca.test/dir>;rel="index", <https://ca.test/c>;title="x, y";rel="up alternate"', 'alternate', base), [
      'https://ca.test/a,b',
      'https://ca.test/c',
    ]);
  });
  it('finds nothing in no header or a header without that relation', () => {
    assert.deepEqual(linksOf(undefined, 'alternate', base), []);
    assert.deepEqual(linksOf('<https://ca.test/dir>;rel="index"', 'alternate', base), []);
  });
});
