// Store keys as operators write them (src/crypto/store-key.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseStoreKeys } from '../../src/crypto/store-key.js';
import { UsageError } from '../../src/errors.js';

describe('store keys', () => {
  const key = randomBytes(32);
  const other = randomBytes(32);

  it('reads 32 raw bytes, hex or base64 text, and several keys one per line, the sealing key first', () => {
    assert.deepEqual(parseStoreKeys(key, 'k'), [key]);
    assert.deepEqual(parseStoreKeys(Buffer.from(`${key.toString('hex')}\n`), 'k'), [key]);
    assert.deepEqual(parseStoreKeys(Buffer.from(key.toString('base64')), 'k'), [key]);
    assert.deepEqual(parseStoreKeys(Buffer.from(`# new first\n${other.toString('hex')}\r\n\n${key.toString('base64')}\n`), 'k'), [other, key]);
  });

  it('refuses anything else, naming where it came from and never quoting it', () => {
    for (const text of ['', '# nothing\n', 'abc', key.toString('hex').slice(2), `${key.toString('hex')}\nnot-a-key`]) {
      assert.throws(
        () => parseStoreKeys(Buffer.from(text), 'CERTMAN_STORE_KEY'),
        (err: unknown) => err instanceof UsageError && err.message.startsWith('CERTMAN_STORE_KEY') && (text.length < 8 || !err.message.includes(text.slice(0, 8))),
        JSON.stringify(text),
      );
    }
  });
});
