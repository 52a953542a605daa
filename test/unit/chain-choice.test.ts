// --preferred-chain's choice (src/certificate/chain-choice.ts) over chains made with openssl, including the case
// certbot changed its rule for: a root that issues a certificate deeper in the default chain must still select the
// alternate chain that ends at it; alternates downloaded one at a time, only when needed, a bad one skipped. And
// the Link header parsing that finds the alternates (src/acme/link.ts), refusing links off the CA's origin.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { linksOf } from '../../src/acme/link.js';
import { downloadPreferredChain, MAX_ALTERNATES, topmostIssuer, type ChainChoice, type ChainSource } from '../../src/certificate/chain-choice.js';
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

/** A CA offering `chains` (the default first) for one certificate URL; records the alternates downloaded. */
function source(chains: (string | Error)[], refused: string[] = []): ChainSource & { fetched: string[] } {
  const [first, ...others] = chains;
  const urls = others.map((_, i) => `https://ca.test/cert/1/${i + 1}`);
  const fetched: string[] = [];
  return {
    fetched,
    downloadCertificateWithAlternates: async () => ({ pem: String(first), urls, refused }),
    downloadCertificate: async (url: string) => {
      fetched.push(url);
      const chain = others[urls.indexOf(url)];
      if (chain instanceof Error) throw chain;
      return String(chain);
    },
  };
}

async function choose(chains: (string | Error)[], name: string, refused: string[] = []): Promise<ChainChoice & { warnings: string[]; fetched: string[] }> {
  const warnings: string[] = [];
  const ca = source(chains, refused);
  const chosen = await downloadPreferredChain(ca, 'https://ca.test/cert/1', name, (w) => warnings.push(w));
  return { ...chosen, warnings, fetched: ca.fetched };
}

describe('--preferred-chain choice', () => {
  // Default chain: leaf ← Int ← Root A (cross-signed by Root B); alternate: leaf ← Int, ending at Root A's issue.
  let defaultChain: string;
  let alternate: string;
  let otherLeaf: string;
  let commaChain: string;
  before(async () => {
    const dir = await tempDir('chains');
    await certificate(dir, 'Root B');
    await certificate(dir, 'Root A');
    const int = await certificate(dir, 'Int', 'Root A');
    const leaf = await certificate(dir, 'leaf.example', 'Int');
    const crossSigned = await certificate(dir, 'Root A', 'Root B');
    defaultChain = `${leaf}${int}${crossSigned}`;
    alternate = `${leaf}${int}`;
    otherLeaf = `${await certificate(dir, 'other.example', 'Int')}${int}`;
    // A name with a comma, which node:crypto prints escaped (RFC 2253: `Root\, X1`).
    await certificate(dir, 'Root\\, X1');
    commaChain = `${leaf}${await certificate(dir, 'Int2', 'Root\\, X1')}`;
  });

  it('looks only at the issuer of the topmost certificate of each chain', async () => {
    assert.equal(topmostIssuer(defaultChain), 'Root B');
    assert.equal(topmostIssuer(alternate), 'Root A');
    // "Root A" issued Int in the default chain too, but only the alternate ends at a certificate it issued.
    const a = await choose([defaultChain, alternate], 'Root A');
    assert.equal(a.pem, alternate);
    assert.ok(a.matched);
    // The default matches: no alternate is downloaded.
    const b = await choose([defaultChain, alternate], 'Root B');
    assert.equal(b.pem, defaultChain);
    assert.deepEqual(b.fetched, []);
  });

  it('keeps the default chain when nothing matches (exact names only) and says what was offered', async () => {
    for (const name of ['root a', 'Root', 'Int']) {
      const none = await choose([defaultChain, alternate], name);
      assert.equal(none.pem, defaultChain, name);
      assert.equal(none.matched, false);
    }
    assert.match((await choose([defaultChain, alternate], 'X')).note, /offered: Root B; Root A\); kept the default chain/);
  });

  it('compares a name with a comma as written', async () => {
    assert.equal(topmostIssuer(commaChain), 'Root, X1');
    assert.equal((await choose([defaultChain, commaChain], 'Root, X1')).pem, commaChain);
  });

  it('skips, with a warning, an alternate that fails, is no chain or holds another certificate; stops at the first match', async () => {
    const r = await choose([defaultChain, new Error('HTTP 500 from the CA'), 'not a certificate', otherLeaf, alternate, alternate], 'Root A');
    assert.equal(r.pem, alternate);
    assert.equal(r.fetched.length, 4, 'stops at the first match');
    assert.equal(r.warnings.length, 3);
    assert.match(r.warnings[0] ?? '', /alternate chain 1: HTTP 500/);
    assert.match(r.warnings[1] ?? '', /alternate chain 2: it does not hold the issued certificate/);
    assert.match(r.warnings[2] ?? '', /alternate chain 3: it does not hold the issued certificate/);
  });

  it(`looks at ${MAX_ALTERNATES} alternates at most; refused links are warnings, never errors`, async () => {
    const many = await choose([defaultChain, ...Array.from({ length: MAX_ALTERNATES + 2 }, () => otherLeaf)], 'Root A');
    assert.equal(many.fetched.length, MAX_ALTERNATES);
    assert.equal(many.pem, defaultChain);
    assert.match(many.warnings[0] ?? '', /offers 12 alternate chains; looked at the first 10/);
    const refused = await choose([defaultChain], 'Root A', ['http://ca.test/x\u001b[2J']);
    assert.equal(refused.pem, defaultChain);
    assert.match(refused.warnings[0] ?? '', /not https on the CA's origin: http:\/\/ca\.test\/x \[2J$/);
  });
});

describe('Link headers', () => {
  const base = 'https://ca.test/cert/1';
  it('finds every rel="alternate" link, joined or repeated, resolved against the request URL', () => {
    assert.deepEqual(linksOf(['<https://ca.test/cert/1/1>;rel="alternate"', '<https://ca.test/dir>;rel="index"', '</cert/1/2>; rel=alternate'], 'alternate', base).urls, [
      'https://ca.test/cert/1/1',
      'https://ca.test/cert/1/2',
    ]);
    assert.deepEqual(linksOf('<https://ca.test/a,b>;rel="alternate", <https://ca.test/dir>;rel="index", <https://ca.test/c>;title="x, y";rel="up alternate"', 'alternate', base).urls, [
      'https://ca.test/a,b',
      'https://ca.test/c',
    ]);
  });
  it('finds nothing in no header or a header without that relation', () => {
    assert.deepEqual(linksOf(undefined, 'alternate', base), { urls: [], refused: [] });
    assert.deepEqual(linksOf('<https://ca.test/dir>;rel="index"', 'alternate', base), { urls: [], refused: [] });
  });
  it('refuses, without throwing, targets that are no URL or not https on the same origin', () => {
    const header = '<http://[bad>;rel="alternate", <http://ca.test/1>;rel="alternate", <https://other.test/1>;rel="alternate", <https://ca.test:8443/1>;rel="alternate", <https://ca.test/ok>;rel="alternate"';
    assert.deepEqual(linksOf(header, 'alternate', base), {
      urls: ['https://ca.test/ok'],
      refused: ['http://[bad', 'http://ca.test/1', 'https://other.test/1', 'https://ca.test:8443/1'],
    });
  });
});
