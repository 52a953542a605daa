import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseProfile, offeredProfiles } from '../../src/acme/profiles.js';
import { createCsrDer } from '../../src/crypto/csr.js';
import { generatePrivateKey } from '../../src/crypto/keys.js';
import { assertReachableIps, ipLineageName, isLoopbackHost, isTestCa, nonPublicRange } from '../../src/dns/ip.js';
import { defaultCertName, normalizeDomains } from '../../src/dns/names.js';
import { metaProblem } from '../../src/store/fs/meta.js';
import { isValidName } from '../../src/store/index.js';
import { CertmanError, UsageError } from '../../src/errors.js';
import { usageError } from './assertions.js';

describe('IP identifiers: normalization', () => {
  const table: [string, string][] = [
    ['203.0.113.7', '203.0.113.7'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8::0001', '2001:db8::1'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
  ];
  for (const [input, expected] of table) {
    it(`${input} → ${expected}`, () => assert.deepEqual(normalizeDomains([input]), [expected]));
  }

  it('mixes with DNS names and removes spellings of one address twice', () => {
    assert.deepEqual(normalizeDomains(['www.example.com,203.0.113.7', '[2001:db8::1]', '2001:DB8::0:1']), ['www.example.com', '203.0.113.7', '2001:db8::1']);
  });

  it('refuses zone ids and IPv4 with leading zeros, one line each', () => {
    usageError(() => normalizeDomains(['fe80::1%eth0']), 'invalid IP address "fe80::1%eth0": a zone id ("%…") names a local interface');
    usageError(() => normalizeDomains(['[fe80::1%eth0]']), /zone id/);
    usageError(() => normalizeDomains(['203.0.113.07']), /invalid domain name "203.0.113.07": the last label must not be all-numeric/);
    usageError(() => normalizeDomains(['*.203.0.113.7']), /the last label must not be all-numeric/);
  });
});

describe('IP identifiers: addresses no public CA can reach', () => {
  const refused: [string, string, string][] = [
    ['10.1.2.3', 'private', '10.0.0.0/8'],
    ['172.16.0.1', 'private', '172.16.0.0/12'],
    ['192.168.1.1', 'private', '192.168.0.0/16'],
    ['127.0.0.1', 'loopback', '127.0.0.0/8'],
    ['169.254.1.1', 'link-local', '169.254.0.0/16'],
    ['100.64.0.1', 'shared', '100.64.0.0/10'],
    ['0.0.0.0', 'unspecified', '0.0.0.0/8'],
    ['224.0.0.1', 'multicast', '224.0.0.0/4'],
    ['255.255.255.255', 'reserved', '240.0.0.0/4'],
    ['::', 'unspecified', '::/128'],
    ['::1', 'loopback', '::1/128'],
    ['::7f00:1', 'ipv4-compatible', '::/96'],
    ['::a01:203', 'ipv4-compatible', '::/96'],
    ['fe80::1', 'link-local', 'fe80::/10'],
    ['fd00::1', 'unique-local', 'fc00::/7'],
    ['fec0::1', 'site-local', 'fec0::/10'],
    ['ff02::1', 'multicast', 'ff00::/8'],
    ['::ffff:102:304', 'ipv4-mapped', '::ffff:0:0/96'],
  ];
  for (const [ip, kind, cidr] of refused) {
    it(`${ip}: ${kind} (${cidr})`, () => assert.deepEqual([nonPublicRange(ip)?.kind, nonPublicRange(ip)?.cidr], [kind, cidr]));
  }

  for (const ip of ['203.0.113.7', '8.8.8.8', '2001:db8::1', '2606:4700::1111', '172.32.0.1', '64:ff9b::1']) {
    it(`${ip} is public (or documentation: the CA decides)`, () => assert.equal(nonPublicRange(ip), undefined));
  }

  it('refuses them for a public CA with exit 2 and a hint, unless --allow-private-ip or a test CA', () => {
    const le = 'https://acme-v02.api.letsencrypt.org/directory';
    const err = usageError(() => assertReachableIps(['example.com', '10.0.0.1'], le, false), '10.0.0.1 is in 10.0.0.0/8 (private, RFC 1918): no public CA can validate it');
    assert.equal(err.hint, 'give a public address, or --allow-private-ip for a CA inside your network');
    const mapped = usageError(() => assertReachableIps(['::ffff:102:304'], le, false), '::ffff:102:304 is in ::ffff:0:0/96 (IPv4-mapped): no public CA can validate it');
    assert.equal(mapped.hint, 'give the IPv4 address itself (1.2.3.4), or --allow-private-ip for a CA inside your network');
    usageError(() => assertReachableIps(['::7f00:1'], le, false), '::7f00:1 is in ::/96 (IPv4-compatible, deprecated by RFC 4291): no public CA can validate it');
    assert.doesNotThrow(() => assertReachableIps(['10.0.0.1'], le, true));
    assert.doesNotThrow(() => assertReachableIps(['::1', '127.0.0.1'], 'https://127.0.0.1:14000/dir', false));
    assert.doesNotThrow(() => assertReachableIps(['203.0.113.7', 'example.com'], le, false));
  });

  it('a test CA is one whose directory is on this machine', () => {
    for (const url of ['https://127.0.0.1:14000/dir', 'https://localhost:14000/dir', 'https://[::1]:14000/dir', 'https://pebble.localhost/dir', 'https://127.1.2.3/dir']) assert.ok(isTestCa(url), url);
    for (const url of ['https://acme-v02.api.letsencrypt.org/directory', 'https://10.0.0.5/dir', 'https://localhost.example/dir', 'not a url']) assert.ok(!isTestCa(url), url);
  });

  it('a loopback host is localhost or a loopback address, bracketed or not (not *.localhost: that goes to DNS)', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.9.9.9', '::1', '[::1]', '[0:0::1]']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['pebble.localhost', '10.0.0.1', '::', 'example.com', '::ffff:7f00:1']) assert.ok(!isLoopbackHost(host), host);
  });
});

describe('IP identifiers: lineage names', () => {
  const table: [string, string][] = [
    ['203.0.113.7', '203.0.113.7'],
    ['2001:db8::1', '2001-db8--1'],
    ['::1', '0--1'],
    ['fe80::', 'fe80--'],
    ['2001:db8:1:2:3:4:5:6', '2001-db8-1-2-3-4-5-6'],
  ];
  for (const [ip, name] of table) {
    it(`${ip} → ${name}, a valid certificate name without ":"`, () => {
      assert.equal(ipLineageName(ip), name);
      assert.equal(defaultCertName([ip, 'example.com']), name);
      assert.ok(isValidName(name));
      // Undone: "-" back to ":" is the same address.
      assert.deepEqual(normalizeDomains([name.replace(/-/g, ':')]), [ip]);
    });
  }
  it('a DNS name first keeps its own name', () => assert.equal(defaultCertName(['example.com', '2001:db8::1']), 'example.com'));
});

describe('CSR for IP addresses', () => {
  it('carries IP SANs; the CN is the first DNS name, and an address-only request has none', async () => {
    const key = generatePrivateKey({ type: 'ecdsa', curve: 'p256' });
    const { crypto } = await import('acme-client');
    const read = async (names: string[]) => {
      const der = await createCsrDer(names, await key);
      const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      return crypto.readCsrDomains(pem);
    };
    assert.deepEqual(await read(['203.0.113.7', '2001:db8::1']), { commonName: null, altNames: ['203.0.113.7', '2001:db8::1'] });
    assert.deepEqual(await read(['203.0.113.7', 'example.com']), { commonName: 'example.com', altNames: ['203.0.113.7', 'example.com'] });
  });
});

describe('profiles', () => {
  const offered = { classic: 'The same profile as ever', shortlived: 'Six days', tlsserver: 'TLS server only' };
  const base = { name: 'example.com', domains: ['example.com', 'www.example.com'], server: 'https://ca.test/dir', given: true, hasIp: false };

  it('reads meta.profiles, leaving out names certman could not show or send', () => {
    assert.equal(offeredProfiles({}), undefined);
    assert.equal(offeredProfiles({ profiles: {} }), undefined);
    assert.deepEqual(offeredProfiles({ profiles: { classic: 'x', 'bad name': 'y', '\u001b[31m': 'z', n: 3 } as unknown as Record<string, string> }), { classic: 'x', n: '' });
  });

  it('orders what was asked for when offered; nothing when nothing was asked and no IP', () => {
    assert.deepEqual(chooseProfile({ ...base, wanted: 'tlsserver' }, offered), { profile: 'tlsserver', auto: false });
    assert.deepEqual(chooseProfile(base, offered), { auto: false });
    assert.deepEqual(chooseProfile(base, undefined), { auto: false });
  });

  it('chooses shortlived for an IP order without a profile, and only when offered', () => {
    assert.deepEqual(chooseProfile({ ...base, hasIp: true }, offered), { profile: 'shortlived', auto: true });
    assert.deepEqual(chooseProfile({ ...base, hasIp: true }, { classic: '' }), { auto: false });
    assert.deepEqual(chooseProfile({ ...base, hasIp: true, wanted: 'classic' }, offered), { profile: 'classic', auto: false });
  });

  it('a given unknown profile is exit 2 listing the offered ones; at a CA without profiles it says so', () => {
    usageError(
      () => chooseProfile({ ...base, wanted: 'longlived' }, offered),
      'the CA https://ca.test/dir has no profile "longlived": it offers classic (The same profile as ever), shortlived (Six days), tlsserver (TLS server only)',
    );
    usageError(() => chooseProfile({ ...base, wanted: 'classic' }, undefined), 'the CA https://ca.test/dir has no profile "classic": it offers no profiles');
  });

  /** The exit-1 failure of a stored profile the CA does not offer. */
  const storedFailure = (request: Partial<Parameters<typeof chooseProfile>[0]>): CertmanError => {
    try {
      chooseProfile({ ...base, given: false, wanted: 'tlsserver', ...request }, { classic: '' });
    } catch (err) {
      assert.ok(err instanceof CertmanError && !(err instanceof UsageError));
      assert.equal(err.exitCode, 1);
      return err;
    }
    assert.fail('no failure');
  };

  it('a stored profile no longer offered fails (exit 1), naming the certificate and a command that works', () => {
    const caught = storedFailure({});
    assert.equal(caught.message, 'example.com was issued with the profile "tlsserver", which the CA https://ca.test/dir no longer offers: it offers classic');
    assert.match(caught.hint ?? '', /: certman issue --cert-name example\.com -d example\.com -d www\.example\.com --force --profile <profile> \(or --no-profile\)$/);
    assert.equal(storedFailure({ storedAt: 'https://ca.test/dir' }).message, caught.message);
  });

  it('at a CA other than the one it was issued at (issue --server, a dry run) it says that CA does not offer it', () => {
    assert.equal(
      storedFailure({ storedAt: 'https://other.test/dir' }).message,
      'example.com: the CA https://ca.test/dir does not offer the profile "tlsserver" this certificate was issued with: it offers classic',
    );
    const dry = storedFailure({ storedAt: 'https://other.test/dir', dryRun: true });
    assert.equal(dry.message, 'example.com: the dry-run CA https://ca.test/dir does not offer the profile "tlsserver" this certificate was issued with: it offers classic');
    assert.match(dry.hint ?? '', /^config dryRunServer names a CA for dry runs; or issue it again with another profile: certman issue /);
  });
});

describe('a stored profile', () => {
  const meta = {
    name: 'a.test', domains: ['a.test'], version: 1, server: 'https://ca.test/dir', accountUrl: 'https://ca.test/acct/1', serial: '01',
    notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-04-01T00:00:00.000Z', reuseKey: false, key: { type: 'ecdsa', curve: 'P-256' }, method: { kind: 'standalone' },
  };

  it('read from a store (files or Redis) must be a profile name: nothing with escapes reaches a terminal', () => {
    assert.equal(metaProblem({ ...meta, profile: 'tlsserver' }, 'a.test'), undefined);
    for (const bad of ['\u001b[31mred', 'two words', '', 3]) {
      assert.match(metaProblem({ ...meta, profile: bad }, 'a.test') ?? '', /^"profile" must be a profile name/, String(bad));
    }
  });

  it('and a stored preferred chain a common name without control characters', () => {
    assert.equal(metaProblem({ ...meta, preferredChain: 'ISRG Root X1' }, 'a.test'), undefined);
    for (const bad of ['\u001b]8;;http://x\u0007Root', 'Root\nX1', 7]) {
      assert.match(metaProblem({ ...meta, preferredChain: bad }, 'a.test') ?? '', /^"preferredChain" must be a common name/, String(bad));
    }
  });
});
