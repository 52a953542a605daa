// --expect-ip/--expect-cname (verify-dns, issue, renew): checked, normalized, and replacing the configured
// expectations (both kinds together) when any is given.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { UsageError } from '../../src/errors.js';
import { expectationsOf } from '../../src/cli/expect-options.js';

const CONFIGURED = { expectIp: ['10.0.0.9'], expectCname: ['cdn.example.net'] };

describe('expectationsOf', () => {
  test('without flags: the configured ones (or none)', async () => {
    assert.deepEqual(await expectationsOf({ expectIp: [], expectCname: [] }, CONFIGURED), { ips: ['10.0.0.9'], cnames: ['cdn.example.net'] });
    assert.deepEqual(await expectationsOf({ expectIp: [], expectCname: [] }, {}), { ips: [], cnames: [] });
  });

  test('any flag replaces both configured kinds; values repeat or come comma-separated, normalized', async () => {
    assert.deepEqual(await expectationsOf({ expectIp: ['127.0.0.1, 2001:DB8:0::1', '10.0.0.1'], expectCname: [] }, CONFIGURED), {
      ips: ['127.0.0.1', '2001:db8::1', '10.0.0.1'],
      cnames: [],
    });
    assert.deepEqual(await expectationsOf({ expectIp: [], expectCname: ['Edge.Example.NET.'] }, CONFIGURED), { ips: [], cnames: ['edge.example.net'] });
  });

  test('a bad value is a usage error naming the flag', async () => {
    await assert.rejects(expectationsOf({ expectIp: ['nope'], expectCname: [] }, {}), (err: unknown) => err instanceof UsageError && /^--expect-ip: "nope" is not an IP address$/.test(err.message));
    await assert.rejects(expectationsOf({ expectIp: [], expectCname: ['bad host!'] }, {}), (err: unknown) => err instanceof UsageError && err.message.startsWith('--expect-cname: '));
    await assert.rejects(
      expectationsOf({ expectIp: [], expectCname: ['203.0.113.7'] }, {}),
      (err: unknown) => err instanceof UsageError && err.message === '--expect-cname: "203.0.113.7" is an IP address, not a DNS name',
    );
  });
});
