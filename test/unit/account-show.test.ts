// `account show` prints what the CA says of the account: remote data, so its shape is checked and control
// characters (which could rewrite the terminal) are stripped (src/cli/commands/account-show.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Account } from '../../src/acme/types.js';
import { caView } from '../../src/cli/commands/account-show.js';

const answer = (body: object): Account => body as Account;

describe("account show: the CA's view", () => {
  it('passes a well-formed answer on', () => {
    assert.deepEqual(caView(answer({ status: 'valid', contact: ['mailto:a@example.com'] })), { status: 'valid', contact: ['mailto:a@example.com'] });
  });
  it('does not crash on another shape, and strips control characters', () => {
    assert.deepEqual(caView(answer({ status: 7, contact: 'mailto:a@example.com' })), { status: 'unknown', contact: [] });
    assert.deepEqual(caView(answer({})), { status: 'unknown', contact: [] });
    assert.deepEqual(caView(answer({ status: 'valid\u001b[2J', contact: ['mailto:a@example.com\r\nerror: forged', 3, null] })), {
      status: 'valid [2J',
      contact: ['mailto:a@example.com error: forged'],
    });
  });
});
