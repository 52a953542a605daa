// Sealing private keys for a shared store (src/crypto/seal.ts): pure logic, no Redis.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { isSealed, seal, sealKey, unseal } from '../../src/crypto/seal.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n';

describe('sealed secrets', () => {
  it('open with the key and place they were sealed for, and carry no trace of the plaintext', () => {
    const key = sealKey(randomBytes(32));
    const blob = seal(key, PEM, 'p:cert:a.example:files privkey');
    assert.ok(isSealed(blob));
    assert.ok(blob.includes(key.id));
    assert.ok(!blob.includes('PRIVATE KEY') && !blob.includes(Buffer.from(PEM).toString('base64')));
    assert.notEqual(seal(key, PEM, 'p:cert:a.example:files privkey'), blob, 'a fresh IV each time');
    assert.equal(unseal(key, blob, 'p:cert:a.example:files privkey'), PEM);
  });

  it('refuse another key (naming both ids), another place, an altered blob and plain text', () => {
    const key = sealKey(randomBytes(32));
    const other = sealKey(randomBytes(32));
    const blob = seal(key, PEM, 'here');
    assert.throws(() => unseal(other, blob, 'here'), (err: Error) => err.message.includes(key.id) && err.message.includes(other.id));
    assert.throws(() => unseal(key, blob, 'there'), /altered or moved/);
    const body = blob.slice(-4);
    const altered = `${blob.slice(0, -4)}${body === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    assert.throws(() => unseal(key, altered, 'here'), /altered or moved/);
    assert.throws(() => unseal(key, PEM, 'here'), /not a sealed secret/);
  });

  it('keys are 256 bits', () => {
    assert.throws(() => sealKey(randomBytes(16)), /must be 32 bytes/);
  });
});
