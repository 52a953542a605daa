// Endpoints of a certificate (check, --verify-deploy): `host[:port]` parsing, the config forms, and which name is
// asked for at each endpoint.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { validateFileConfig } from '../../src/config/validate.js';
import { UsageError } from '../../src/errors.js';
import { endpointsConfig, endpointsFor, parseEndpoint } from '../../src/served/endpoint.js';

describe('parseEndpoint', () => {
  test('host, host:port, IPv4, bracketed IPv6 with or without port, bare IPv6; port 443 by default', () => {
    assert.deepEqual(parseEndpoint('WWW.Example.com'), { host: 'www.example.com', port: 443 });
    assert.deepEqual(parseEndpoint('127.0.0.1:8443'), { host: '127.0.0.1', port: 8443 });
    assert.deepEqual(parseEndpoint('[2001:DB8:0::1]:8443'), { host: '2001:db8::1', port: 8443 });
    assert.deepEqual(parseEndpoint('[::1]'), { host: '::1', port: 443 });
    assert.deepEqual(parseEndpoint('::1'), { host: '::1', port: 443 });
  });

  test('anything else is a usage error that quotes it', () => {
    for (const bad of ['', 'a b', 'host:0', 'host:70000', 'host:', '[example.com]:443', 'fe80::1%eth0', 'http://x', 'a:b:c']) {
      assert.throws(() => parseEndpoint(bad), (err: unknown) => err instanceof UsageError && err.message.startsWith('invalid endpoint'), bad);
    }
  });
});

describe('endpointsFor', () => {
  const cert = { name: 'example.com', domains: ['example.com', 'www.example.com', '*.example.com', '192.0.2.1'] };

  test('default: each name but wildcards on 443, asking for that name (none for an address)', () => {
    assert.deepEqual(endpointsFor(cert, undefined), [
      { host: 'example.com', port: 443, servername: 'example.com' },
      { host: 'www.example.com', port: 443, servername: 'www.example.com' },
      { host: '192.0.2.1', port: 443, servername: 'example.com' },
    ]);
    assert.deepEqual(endpointsFor({ name: '192.0.2.1', domains: ['192.0.2.1'] }, undefined), [{ host: '192.0.2.1', port: 443 }]);
  });

  test("the certificate's own list, then the config's by name, then the config's for all", () => {
    const config = endpointsConfig({ '*': ['lb.internal:8443'], 'example.com': ['127.0.0.1:443'] });
    assert.deepEqual(endpointsFor({ ...cert, endpoints: ['www.example.com:8443'] }, config), [{ host: 'www.example.com', port: 8443, servername: 'www.example.com' }]);
    assert.deepEqual(endpointsFor(cert, config), [{ host: '127.0.0.1', port: 443, servername: 'example.com' }]);
    assert.deepEqual(endpointsFor({ ...cert, name: 'other' }, config), [{ host: 'lb.internal', port: 8443, servername: 'example.com' }]);
    assert.deepEqual(endpointsFor(cert, endpointsConfig(['[::1]:9443'])), [{ host: '::1', port: 9443, servername: 'example.com' }]);
  });
});

describe('config endpoints and verifyDeploy', () => {
  test('a list, a map by name, true/false or seconds', () => {
    assert.deepEqual(validateFileConfig({ endpoints: '127.0.0.1:8443', verifyDeploy: 45 }, 'c.json'), { endpoints: ['127.0.0.1:8443'], verifyDeploy: 45 });
    assert.deepEqual(validateFileConfig({ endpoints: { a: ['x.test'] }, verifyDeploy: true }, 'c.json'), { endpoints: { a: ['x.test'] }, verifyDeploy: true });
  });

  test('bad values are one-line usage errors naming the key', () => {
    assert.throws(() => validateFileConfig({ endpoints: ['ok.test', 'bad host'] }, 'c.json'), /"endpoints\[1\]" is invalid/);
    assert.throws(() => validateFileConfig({ endpoints: { a: 'x:0' } }, 'c.json'), /"endpoints\.a\[0\]" is invalid/);
    assert.throws(() => validateFileConfig({ verifyDeploy: 0 }, 'c.json'), /"verifyDeploy" must be true, false or whole seconds/);
    assert.throws(() => validateFileConfig({ verifyDeploy: '30' }, 'c.json'), /"verifyDeploy"/);
  });
});
