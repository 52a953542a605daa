// Resolver addresses, the DNS settings (config keys, CERTMAN_RESOLVER) and the gate's decisions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSettings, validateFileConfig } from '../../src/config/index.js';
import { dnsGateEnabled, dnsGateOptions, namesToOrder } from '../../src/dns/gate.js';
import { canonicalIp, formatNameserver, nameserverProblem, parseNameserver, parseResolvConf } from '../../src/dns/nameserver.js';
import { parseDohUrl } from '../../src/dns/resolver.js';
import type { NameVerdict } from '../../src/dns/verify.js';
import { CertmanError } from '../../src/errors.js';
import { silentReporter, type Reporter } from '../../src/report.js';
import { usageError } from './assertions.js';

describe('nameservers', () => {
  it('parses ip and ip:port, IPv6 bare or in brackets', () => {
    assert.deepEqual(parseNameserver('192.0.2.53'), { host: '192.0.2.53', port: 53, family: 4 });
    assert.deepEqual(parseNameserver(' 127.0.0.1:5353 '), { host: '127.0.0.1', port: 5353, family: 4 });
    assert.deepEqual(parseNameserver('::1'), { host: '::1', port: 53, family: 6 });
    assert.deepEqual(parseNameserver('[2001:DB8:0::53]:8053'), { host: '2001:db8::53', port: 8053, family: 6 });
    assert.equal(formatNameserver(parseNameserver('[::1]')), '[::1]:53');
    assert.equal(formatNameserver(parseNameserver('10.0.0.1')), '10.0.0.1:53');
  });

  it('refuses host names, bad ports and junk with a usage error', () => {
    usageError(() => parseNameserver('dns.google'), /^invalid resolver "dns.google": expected an IP address/);
    usageError(() => parseNameserver('127.0.0.1:0'), 'invalid resolver "127.0.0.1:0": port must be from 1 to 65535, not "0"');
    usageError(() => parseNameserver('127.0.0.1:99999'), /port must be from 1 to 65535/);
    usageError(() => parseNameserver('[127.0.0.1]:53'), /is not an IPv6 address/);
    usageError(() => parseNameserver('2001:db8::1:53:'), /expected an IP address/);
    assert.equal(nameserverProblem('[::1]:53'), undefined);
  });

  it('reads nameserver lines from resolv.conf, defaulting to the local machine', () => {
    const text = '# generated\nsearch example.test\nnameserver 192.0.2.1\nnameserver   2001:db8::1\noptions edns0\nnameserver bogus\n';
    assert.deepEqual(parseResolvConf(text).map(formatNameserver), ['192.0.2.1:53', '[2001:db8::1]:53']);
    assert.deepEqual(parseResolvConf('').map(formatNameserver), ['127.0.0.1:53']);
  });

  it('canonicalIp makes one spelling per address', () => {
    assert.equal(canonicalIp('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(canonicalIp('2001:DB8::0:1'), '2001:db8::1');
    assert.equal(canonicalIp('192.0.2.1'), '192.0.2.1');
    assert.equal(canonicalIp('example.test'), undefined);
  });

  it('a DoH URL must be https, or http on loopback', () => {
    assert.equal(parseDohUrl('https://dns.google/dns-query').href, 'https://dns.google/dns-query');
    assert.equal(parseDohUrl('http://127.0.0.1:8080/dns-query').port, '8080');
    usageError(() => parseDohUrl('http://dns.google/dns-query'), /needs an https:\/\/ URL/);
    usageError(() => parseDohUrl('not a url'), 'invalid --doh URL "not a url"');
  });
});

describe('DNS settings', () => {
  const base = { flags: {}, isRoot: false, cwd: '/tmp' };

  it('validates and normalizes the config keys', () => {
    const config = validateFileConfig(
      { resolver: ['127.0.0.1:5353', '[::1]'], expectIp: ['2001:DB8::1', '192.0.2.1'], expectCname: 'Edge.CDN.test.', caIdentity: 'Sectigo.com' },
      'c.yaml',
    );
    assert.deepEqual(config, { resolver: ['127.0.0.1:5353', '[::1]'], expectIp: ['2001:db8::1', '192.0.2.1'], expectCname: ['edge.cdn.test'], caIdentity: 'sectigo.com' });
  });

  it('names the key and item that is wrong', () => {
    usageError(() => validateFileConfig({ resolver: ['127.0.0.1', 'dns.google'] }, 'c.yaml'), /^config file c.yaml: "resolver\[1\]" is invalid: expected an IP address/);
    usageError(() => validateFileConfig({ expectIp: ['192.0.2.300'] }, 'c.yaml'), 'config file c.yaml: "expectIp[0]" is invalid: not an IP address (got "192.0.2.300")');
    usageError(() => validateFileConfig({ expectCname: [] }, 'c.yaml'), /"expectCname" must be a list of DNS names/);
    usageError(() => validateFileConfig({ caIdentity: 42 }, 'c.yaml'), /"caIdentity" must be a DNS name/);
    // Addresses are identifiers for -d (RFC 8738), never CNAME targets or CAA issuer domains.
    usageError(() => validateFileConfig({ expectCname: ['192.0.2.10'] }, 'c.yaml'), /"expectCname\[0\]" is invalid: not a DNS name \(got "192\.0\.2\.10"\)/);
    usageError(() => validateFileConfig({ caIdentity: '192.0.2.10' }, 'c.yaml'), /"caIdentity" must be a DNS name/);
  });

  it('CERTMAN_RESOLVER (comma-separated) wins over the config file', () => {
    const file = { config: { resolver: ['192.0.2.53'], expectIp: ['192.0.2.1'] } };
    assert.deepEqual(resolveSettings({ ...base, env: {}, file }).resolver, ['192.0.2.53']);
    assert.deepEqual(resolveSettings({ ...base, env: { CERTMAN_RESOLVER: '127.0.0.1:5353, [::1]:53,' }, file }).resolver, ['127.0.0.1:5353', '[::1]:53']);
    assert.equal(resolveSettings({ ...base, env: {}, file: { config: {} } }).resolver, undefined);
    usageError(() => resolveSettings({ ...base, env: { CERTMAN_RESOLVER: 'dns.google' }, file }), /^CERTMAN_RESOLVER: invalid resolver "dns.google"/);
  });
});

describe('the DNS gate', () => {
  const verdict = (name: string, reason?: string): NameVerdict => ({
    name,
    ok: reason === undefined,
    addresses: [],
    cnameChain: [],
    caa: undefined,
    ...(reason === undefined ? {} : { reason }),
  });

  it('is off unless expectations are configured or --verify-dns is given', () => {
    assert.equal(dnsGateEnabled({}, false), false);
    assert.equal(dnsGateEnabled({}, true), true);
    assert.equal(dnsGateEnabled({ expectIp: ['192.0.2.1'] }, false), true);
    assert.equal(dnsGateEnabled({ expectCname: ['edge.test'] }, false), true);
  });

  it("takes the CA's CAA identity from the config, else from the CA's directory, else letsencrypt.org", () => {
    assert.deepEqual(dnsGateOptions({}), { expect: { ips: [], cnames: [] }, resolver: { kind: 'dns', servers: [] }, caIdentities: ['letsencrypt.org'] });
    assert.deepEqual(dnsGateOptions({ expectCname: ['edge.test'], resolver: ['127.0.0.1:5353'], caIdentity: 'sectigo.com' }, ['ignored.example']), {
      expect: { ips: [], cnames: ['edge.test'] },
      resolver: { kind: 'dns', servers: ['127.0.0.1:5353'] },
      caIdentities: ['sectigo.com'],
    });
    assert.deepEqual(dnsGateOptions({}, ['sectigo.com', 'zerossl.com']).caIdentities, ['sectigo.com', 'zerossl.com']);
  });

  it('stops with every failing name and its reason (exit 1)', () => {
    const result = { passed: ['a.test'], failed: [verdict('b.test', 'NXDOMAIN: b.test does not exist'), verdict('c.test', 'no A or AAAA record')] };
    assert.throws(
      () => namesToOrder(result, false, silentReporter),
      (err: unknown) =>
        err instanceof CertmanError &&
        err.exitCode === 1 &&
        err.message === 'DNS check failed, nothing was sent to the CA: b.test: NXDOMAIN: b.test does not exist; c.test: no A or AAAA record' &&
        /--allow-subset-of-names/.test(err.hint ?? ''),
    );
  });

  it('with allow-subset drops failing names with a warning, but never orders nothing', () => {
    const warnings: string[] = [];
    const report: Reporter = { ...silentReporter, warn: (m) => warnings.push(m) };
    assert.deepEqual(namesToOrder({ passed: ['a.test'], failed: [verdict('b.test', 'bad')] }, true, report), ['a.test']);
    assert.deepEqual(warnings, ['dropping b.test from the order: bad']);
    assert.throws(() => namesToOrder({ passed: [], failed: [verdict('b.test', 'bad')] }, true, report), /DNS check failed, nothing was sent to the CA: b.test: bad/);
    assert.deepEqual(namesToOrder({ passed: ['a.test', 'b.test'], failed: [] }, false, report), ['a.test', 'b.test']);
  });
});
