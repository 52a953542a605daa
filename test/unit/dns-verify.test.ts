// CNAME chains, expectations and CAA over a fake resolver: pure logic, no sockets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { caaDecision, caaSearchPath, findRelevantCaa, issuerDomainName } from '../../src/dns/caa.js';
import type { DnsAnswer, DnsRecord, DnsResolver, DnsStatus, QueryType } from '../../src/dns/resolver.js';
import { followCnames, MAX_CNAME_HOPS, verifyNames, type NameVerdict } from '../../src/dns/verify.js';

type Zone = DnsRecord[];

/**
 * A resolver over an in-memory zone. Like a recursive resolver it chases CNAMEs inside one answer
 * (unless `chase` is false); names with no record at all are NXDOMAIN; `broken` answers a fixed status.
 */
function fakeResolver(zone: Zone, options: { chase?: boolean; broken?: Record<string, DnsStatus> } = {}): DnsResolver & { queries: string[] } {
  const queries: string[] = [];
  const exists = (name: string) => zone.some((r) => r.name === name);
  return {
    label: 'fake',
    queries,
    close() {},
    async query(name: string, type: QueryType): Promise<DnsAnswer> {
      queries.push(`${name} ${type}`);
      const broken = options.broken?.[name];
      if (broken !== undefined) return { status: broken, records: [], detail: 'fake' };
      const records: DnsRecord[] = [];
      let current = name;
      for (let i = 0; i < 20; i++) {
        const cname = zone.find((r) => r.name === current && r.type === 'CNAME');
        if (cname === undefined || cname.type !== 'CNAME') break;
        records.push(cname);
        current = cname.target;
        if (options.chase === false) return { status: 'ok', records };
      }
      records.push(...zone.filter((r) => r.name === current && r.type === type));
      if (!exists(current)) return { status: 'nxdomain', records };
      return { status: records.length > 0 ? 'ok' : 'nodata', records };
    },
  };
}

const a = (name: string, address: string): DnsRecord => ({ name, type: 'A', address });
const aaaa = (name: string, address: string): DnsRecord => ({ name, type: 'AAAA', address });
const cname = (name: string, target: string): DnsRecord => ({ name, type: 'CNAME', target });
const caa = (name: string, tag: string, value: string, flags = 0): DnsRecord => ({ name, type: 'CAA', flags, tag, value });
const none = { ips: [], cnames: [] };

async function one(zone: Zone, name: string, expect: { ips: string[]; cnames: string[] } = none, caIdentity?: string, options = {}): Promise<NameVerdict> {
  const [verdict] = await verifyNames([name], expect, { resolver: fakeResolver(zone, options), ...(caIdentity === undefined ? {} : { caIdentities: [caIdentity] }) });
  assert.ok(verdict);
  return verdict;
}

describe('followCnames', () => {
  it('returns the records at the name when there is no CNAME', async () => {
    const r = await followCnames(fakeResolver([a('x.test', '192.0.2.1')]), 'x.test', 'A');
    assert.deepEqual(r, { ok: true, chain: [], records: [a('x.test', '192.0.2.1')] });
  });

  it('follows a chain the resolver chased in one answer, without asking again', async () => {
    const resolver = fakeResolver([cname('x.test', 'y.test'), cname('y.test', 'z.test'), a('z.test', '192.0.2.9')]);
    const r = await followCnames(resolver, 'X.test.', 'A');
    assert.deepEqual(r, { ok: true, chain: ['y.test', 'z.test'], records: [a('z.test', '192.0.2.9')] });
    assert.deepEqual(resolver.queries, ['x.test A']);
  });

  it('asks for the target itself when the answer stops at a CNAME', async () => {
    const resolver = fakeResolver([cname('x.test', 'y.test'), cname('y.test', 'z.test'), a('z.test', '192.0.2.9')], { chase: false });
    const r = await followCnames(resolver, 'x.test', 'A');
    assert.deepEqual(r, { ok: true, chain: ['y.test', 'z.test'], records: [a('z.test', '192.0.2.9')] });
    assert.deepEqual(resolver.queries, ['x.test A', 'y.test A', 'z.test A']);
  });

  it('detects a loop', async () => {
    const r = await followCnames(fakeResolver([cname('x.test', 'y.test'), cname('y.test', 'x.test')], { chase: false }), 'x.test', 'A');
    assert.deepEqual(r, { ok: false, chain: ['y.test', 'x.test'], at: 'x.test', problem: 'loop' });
  });

  it(`gives up after ${MAX_CNAME_HOPS} targets`, async () => {
    const hops = (n: number) => Array.from({ length: n }, (_, i) => cname(`h${i}.test`, `h${i + 1}.test`));
    const ok = await followCnames(fakeResolver([...hops(MAX_CNAME_HOPS), a(`h${MAX_CNAME_HOPS}.test`, '192.0.2.1')]), 'h0.test', 'A');
    assert.equal(ok.ok, true);
    const long = await followCnames(fakeResolver([...hops(MAX_CNAME_HOPS + 1), a(`h${MAX_CNAME_HOPS + 1}.test`, '192.0.2.1')]), 'h0.test', 'A');
    assert.equal(long.ok, false);
    assert.equal(!long.ok && long.problem, 'too-long');
    assert.equal(long.chain.length, MAX_CNAME_HOPS);
  });

  it('reports NXDOMAIN at the end of the chain, and no data as an empty list', async () => {
    const nx = await followCnames(fakeResolver([cname('x.test', 'gone.test')]), 'x.test', 'A');
    assert.deepEqual(nx, { ok: false, chain: ['gone.test'], at: 'gone.test', problem: 'nxdomain' });
    const nodata = await followCnames(fakeResolver([a('x.test', '192.0.2.1')]), 'x.test', 'AAAA');
    assert.deepEqual(nodata, { ok: true, chain: [], records: [] });
  });

  it('passes SERVFAIL and timeouts through with where they happened', async () => {
    const r = await followCnames(fakeResolver([cname('x.test', 'y.test')], { chase: false, broken: { 'y.test': 'servfail' } }), 'x.test', 'A');
    assert.deepEqual(r, { ok: false, chain: ['y.test'], at: 'y.test', problem: 'servfail', detail: 'fake' });
  });
});

describe('verifyNames: addresses and expectations', () => {
  it('passes any name that resolves when nothing is expected', async () => {
    const v = await one([a('x.test', '192.0.2.1'), aaaa('x.test', '2001:db8::1')], 'x.test');
    assert.deepEqual(v, { name: 'x.test', ok: true, addresses: ['192.0.2.1', '2001:db8::1'], cnameChain: [], caa: { records: [], allows: true } });
  });

  it('passes when every address is expected (IPv6 compared in canonical form)', async () => {
    const zone = [a('x.test', '192.0.2.1'), aaaa('x.test', '2001:db8::1')];
    assert.equal((await one(zone, 'x.test', { ips: ['192.0.2.1', '2001:DB8:0:0::1'], cnames: [] })).ok, true);
  });

  it('fails when one address is not expected, naming it', async () => {
    const v = await one([a('x.test', '192.0.2.1'), a('x.test', '192.0.2.66')], 'x.test', { ips: ['192.0.2.1'], cnames: [] });
    assert.equal(v.ok, false);
    assert.equal(v.reason, 'resolves to 192.0.2.66, expected 192.0.2.1');
  });

  it('passes when the CNAME chain reaches an expected target, whatever the addresses', async () => {
    const zone = [cname('shop.test', 'x.cdn.test'), cname('x.cdn.test', 'edge.cdn.test'), a('edge.cdn.test', '198.51.100.7')];
    const v = await one(zone, 'shop.test', { ips: ['192.0.2.1'], cnames: ['EDGE.cdn.test.'] });
    assert.equal(v.ok, true);
    assert.deepEqual(v.cnameChain, ['x.cdn.test', 'edge.cdn.test']);
    assert.deepEqual(v.addresses, ['198.51.100.7']);
  });

  it('fails a chain that points elsewhere, and a name without a CNAME', async () => {
    const zone = [cname('shop.test', 'other.test'), a('other.test', '198.51.100.7'), a('plain.test', '198.51.100.7')];
    const chain = await one(zone, 'shop.test', { ips: [], cnames: ['edge.cdn.test'] });
    assert.equal(chain.reason, 'CNAME chain shop.test → other.test does not reach edge.cdn.test');
    const plain = await one(zone, 'plain.test', { ips: [], cnames: ['edge.cdn.test'] });
    assert.equal(plain.reason, 'no CNAME to edge.cdn.test');
  });

  it('fails NXDOMAIN, SERVFAIL, timeout and no address, with the reason', async () => {
    assert.equal((await one([], 'gone.test')).reason, 'NXDOMAIN: gone.test does not exist');
    assert.equal((await one([cname('x.test', 'gone.test')], 'x.test')).reason, 'NXDOMAIN: gone.test does not exist');
    assert.equal((await one([], 'x.test', none, undefined, { broken: { 'x.test': 'servfail' } })).reason, 'SERVFAIL for x.test (fake)');
    assert.equal((await one([], 'x.test', none, undefined, { broken: { 'x.test': 'timeout' } })).reason, 'timeout: no answer for x.test (fake)');
    const empty = await one([caa('x.test', 'issue', 'letsencrypt.org')], 'x.test');
    assert.deepEqual([empty.ok, empty.reason, empty.caa], [false, 'no A or AAAA record', undefined]);
  });

  it('a CNAME loop fails', async () => {
    const v = await one([cname('x.test', 'y.test'), cname('y.test', 'x.test')], 'x.test', none, undefined, { chase: false });
    assert.equal(v.reason, 'CNAME loop at x.test');
  });

  it('asks once per name and type in a run (names under one parent share its CAA lookups)', async () => {
    const resolver = fakeResolver([a('a.example.test', '192.0.2.1'), a('b.example.test', '192.0.2.1')]);
    await verifyNames(['a.example.test', 'b.example.test'], none, { resolver });
    assert.equal(resolver.queries.filter((q) => q === 'example.test CAA').length, 1);
  });

  it('passes IP identifiers without a query: no DNS and no CAA for an address (RFC 8738), and says so', async () => {
    const resolver = fakeResolver([a('a.test', '192.0.2.1')]);
    const verdicts = await verifyNames(['203.0.113.7', 'a.test', '2001:db8::1'], { ips: ['192.0.2.1'], cnames: [] }, { resolver });
    assert.deepEqual(verdicts.map((v) => [v.name, v.ok, v.addresses, v.caa, v.note]), [
      ['203.0.113.7', true, ['203.0.113.7'], undefined, 'an IP address: no DNS or CAA to check'],
      ['a.test', true, ['192.0.2.1'], { records: [], allows: true }, undefined],
      ['2001:db8::1', true, ['2001:db8::1'], undefined, 'an IP address: no DNS or CAA to check'],
    ]);
    assert.ok(resolver.queries.every((q) => q.startsWith('a.test ') || q.endsWith(' CAA')), resolver.queries.join(', '));
    assert.ok(!resolver.queries.some((q) => q.includes('203.0.113.7') || q.includes('2001:db8')));
  });

  it('keeps the order of the names given', async () => {
    const zone = [a('a.test', '192.0.2.1'), a('b.test', '192.0.2.2'), a('c.test', '192.0.2.3')];
    const verdicts = await verifyNames(['c.test', 'a.test', 'b.test'], none, { resolver: fakeResolver(zone), concurrency: 2 });
    assert.deepEqual(verdicts.map((v) => v.name), ['c.test', 'a.test', 'b.test']);
  });
});

describe('verifyNames: CAA', () => {
  const host = (name: string) => a(name, '192.0.2.1');

  it('uses the first CAA set walking up, and reports it', async () => {
    const zone = [host('www.shop.example.test'), caa('example.test', 'issue', 'letsencrypt.org'), caa('test', 'issue', 'other.ca')];
    const v = await one(zone, 'www.shop.example.test');
    assert.equal(v.ok, true);
    assert.deepEqual(v.caa, { records: ['example.test CAA 0 issue "letsencrypt.org"'], allows: true });
  });

  it('forbids when the set names only other CAs', async () => {
    const zone = [host('x.example.test'), caa('example.test', 'issue', 'sectigo.com'), caa('example.test', 'iodef', 'mailto:a@example.test')];
    const v = await one(zone, 'x.example.test');
    assert.equal(v.ok, false);
    assert.equal(v.caa?.allows, false);
    assert.equal(v.reason, 'CAA at example.test does not allow letsencrypt.org (issue "sectigo.com")');
    assert.equal((await one(zone, 'x.example.test', none, 'sectigo.com')).ok, true);
  });

  it('combines an expectation failure with a CAA failure', async () => {
    const zone = [host('x.test'), caa('x.test', 'issue', ';')];
    const v = await one(zone, 'x.test', { ips: ['192.0.2.99'], cnames: [] });
    assert.equal(v.reason, 'resolves to 192.0.2.1, expected 192.0.2.99; CAA at x.test does not allow letsencrypt.org (issue ";")');
  });

  it('follows a CNAME at a level but does not climb from its target', async () => {
    const zone = [cname('www.example.test', 'cdn.net.test'), host('cdn.net.test'), caa('net.test', 'issue', 'other.ca'), caa('example.test', 'issue', 'letsencrypt.org')];
    assert.equal((await one(zone, 'www.example.test')).ok, true);
    const targetSet = [cname('www.example.test', 'cdn.net.test'), host('cdn.net.test'), caa('cdn.net.test', 'issue', 'other.ca')];
    assert.equal((await one(targetSet, 'www.example.test')).caa?.allows, false);
  });

  it('issuewild replaces issue for a wildcard name, and only for it', async () => {
    const zone = [host('*.example.test'), host('example.test'), caa('example.test', 'issue', 'letsencrypt.org'), caa('example.test', 'issuewild', ';')];
    assert.equal((await one(zone, 'example.test')).ok, true);
    const wild = await one(zone, '*.example.test');
    assert.equal(wild.ok, false);
    assert.match(wild.reason ?? '', /issuewild ";"/);
    const issueOnly = [host('*.example.test'), caa('example.test', 'issue', 'other.ca')];
    assert.equal((await one(issueOnly, '*.example.test')).caa?.allows, false, 'issue applies to wildcards without issuewild');
    const wildOnly = [host('x.example.test'), caa('example.test', 'issuewild', 'other.ca')];
    assert.equal((await one(wildOnly, 'x.example.test')).ok, true, 'issuewild does not restrict other names');
  });

  it('fails when the CAA lookup itself fails', async () => {
    const v = await one([host('x.example.test')], 'x.example.test', none, undefined, { broken: { 'example.test': 'servfail' } });
    assert.equal(v.ok, false);
    assert.equal(v.caa, undefined);
    assert.equal(v.reason, 'CAA lookup failed: SERVFAIL for example.test (fake)');
  });
});

describe('caa helpers', () => {
  it('caaSearchPath drops the wildcard label and climbs to the TLD', () => {
    assert.deepEqual(caaSearchPath('*.a.example.com'), ['a.example.com', 'example.com', 'com']);
  });

  it('issuerDomainName takes what comes before ";"', () => {
    assert.equal(issuerDomainName(' LetsEncrypt.org. ; accounturi=https://x/acct/1'), 'letsencrypt.org');
    assert.equal(issuerDomainName(';'), '');
    assert.equal(issuerDomainName('letsencrypt.org'), 'letsencrypt.org');
  });

  it('a critical property with an unknown tag forbids; a non-critical one is ignored', () => {
    const set = (flags: number) => ({ domain: 'x.test', records: [{ flags, tag: 'futuretag', value: 'x' }] });
    assert.equal(caaDecision(set(0), ['letsencrypt.org'], false).allows, true);
    assert.deepEqual(caaDecision(set(128), ['letsencrypt.org'], false), {
      allows: false,
      reason: 'CAA at x.test has a critical "futuretag" property that CAs do not understand',
    });
  });

  it('tags match case-insensitively', () => {
    const set = { domain: 'x.test', records: [{ flags: 0, tag: 'ISSUE', value: 'other.ca' }] };
    assert.equal(caaDecision(set, ['letsencrypt.org'], false).allows, false);
  });

  it('a CA known by several identities may issue when the set names any one of them', () => {
    const set = { domain: 'x.test', records: [{ flags: 0, tag: 'issue', value: 'Sectigo.com.' }] };
    assert.equal(caaDecision(set, ['zerossl.com', 'sectigo.com'], false).allows, true);
    assert.deepEqual(caaDecision(set, ['letsencrypt.org', 'example-ca.test'], false), {
      allows: false,
      reason: 'CAA at x.test does not allow letsencrypt.org or example-ca.test (issue "Sectigo.com.")',
    });
  });

  it('findRelevantCaa stops at the first failed lookup and reports no set when none exists', async () => {
    const asked: string[] = [];
    const empty = await findRelevantCaa('a.b.test', async (d) => (asked.push(d), { ok: true, records: [] }));
    assert.deepEqual(empty, { ok: true, set: { domain: undefined, records: [] } });
    assert.deepEqual(asked, ['a.b.test', 'b.test', 'test']);
    const failed = await findRelevantCaa('a.b.test', async (d) => (d === 'b.test' ? { ok: false, reason: 'boom' } : { ok: true, records: [] }));
    assert.deepEqual(failed, { ok: false, reason: 'boom' });
  });
});
