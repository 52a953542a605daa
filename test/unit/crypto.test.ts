import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeSerial, splitFullchain, splitPemBundle } from '../../src/crypto/certificate.js';
import { jwkThumbprint, keyAuthorization } from '../../src/crypto/jwk.js';
import { describeKeySpec, generatePrivateKey, keySpecOfPem, sameKeySpec } from '../../src/crypto/keys.js';

const block = (n: number) => `-----BEGIN CERTIFICATE-----\nAAAA${n}\n-----END CERTIFICATE-----`;

describe('PEM bundles', () => {
  it('splits leaf, chain and fullchain', () => {
    const parts = splitFullchain(`${block(1)}\n\n${block(2)}\n${block(3)}\n`);
    assert.equal(parts.cert, `${block(1)}\n`);
    assert.equal(parts.chain, `${block(2)}\n${block(3)}\n`);
    assert.equal(parts.fullchain, `${block(1)}\n${block(2)}\n${block(3)}\n`);
  });
  it('rejects a response with no certificate', () => {
    assert.equal(splitPemBundle('nothing here').length, 0);
    assert.throws(() => splitFullchain('nothing here'), /no certificate/);
  });
  it('normalizes serials', () => {
    assert.equal(normalizeSerial('00:0A:bc'), 'abc');
    assert.equal(normalizeSerial('0'), '0');
  });
});

describe('keys', () => {
  it('generates each supported key type and recognizes it again', async () => {
    for (const spec of [
      { type: 'ecdsa', curve: 'p256' },
      { type: 'ecdsa', curve: 'p384' },
      { type: 'rsa', bits: 2048 },
    ] as const) {
      const pem = await generatePrivateKey(spec);
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
      const found = keySpecOfPem(pem);
      assert.ok(found !== undefined && sameKeySpec(found, spec), describeKeySpec(spec));
    }
  });
  it('builds key authorizations from the RFC 7638 thumbprint', async () => {
    const pem = await generatePrivateKey({ type: 'ecdsa', curve: 'p256' });
    const thumbprint = jwkThumbprint(pem);
    assert.match(thumbprint, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(jwkThumbprint(pem), thumbprint);
    assert.equal(keyAuthorization('tok', thumbprint), `tok.${thumbprint}`);
  });
});
