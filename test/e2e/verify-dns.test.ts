// verify-dns and the DNS gate against real DNS: pebble-challtestsrv (records set through its management
// API), plus a small dns2 server in this process for what challtestsrv cannot do (NXDOMAIN: it answers
// every name; a truncated UDP answer; DNS over HTTPS).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import dns2 from 'dns2';
import { freePort, freePorts, startAriProxy, tempDir, uniqueName, type RunResult } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
const { Packet } = dns2;

interface Verdict {
  name: string;
  ok: boolean;
  addresses: string[];
  cnameChain: string[];
  caa: { records: string[]; allows: boolean } | null;
  reason?: string;
}

let dir: string;
before(async () => {
  dir = await tempDir('verify-dns');
});

const challtestsrv = () => `127.0.0.1:${suite.pebble.dnsPort}`;

function verify(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  const resolver = args.includes('--doh') || args.includes('--resolver') || 'CERTMAN_RESOLVER' in env ? [] : ['--resolver', challtestsrv()];
  return suite.certman(dir, ['--json', 'verify-dns', ...resolver, ...args], env);
}

/** Runs verify-dns --json for one name and returns its verdict and the exit code. */
async function verdictOf(args: string[], env: Record<string, string | undefined> = {}): Promise<Verdict & { code: number; durationMs: number }> {
  const r = await verify(args, env);
  const [verdict] = json<Verdict[]>(r);
  assert.ok(verdict, r.stdout);
  return { ...verdict, code: r.code, durationMs: r.durationMs };
}

describe('verify-dns against challtestsrv', () => {
  it('passes a name whose address is expected, with the documented --json shape (exit 0)', async () => {
    const name = uniqueName('match');
    const r = await verify(['-d', name.toUpperCase(), '--expect-ip', '127.0.0.1']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(json(r), [{ name, ok: true, addresses: ['127.0.0.1'], cnameChain: [], caa: { records: [], allows: true } }]);
  });

  it('fails an address that is not expected (exit 1)', async () => {
    const name = uniqueName('wrong-ip');
    await suite.pebble.addA(name, '10.0.0.2');
    const v = await verdictOf(['-d', name, '--expect-ip', '127.0.0.1']);
    assert.equal(v.code, 1);
    assert.deepEqual([v.ok, v.addresses, v.reason], [false, ['10.0.0.2'], 'resolves to 10.0.0.2, expected 127.0.0.1']);
  });

  it('checks AAAA addresses too', async () => {
    const name = uniqueName('v6');
    await suite.pebble.addAAAA(name, '::1');
    const both = await verdictOf(['-d', name, '--expect-ip', '127.0.0.1', '--expect-ip', '0:0:0:0:0:0:0:1']);
    assert.deepEqual([both.code, both.addresses], [0, ['127.0.0.1', '::1']]);
    const v4only = await verdictOf(['-d', name, '--expect-ip', '127.0.0.1']);
    assert.deepEqual([v4only.code, v4only.reason], [1, 'resolves to ::1, expected 127.0.0.1']);
  });

  it('passes a CNAME chain that reaches the expected target, fails one that goes elsewhere', async () => {
    const name = uniqueName('cname');
    const target = uniqueName('edge');
    await suite.pebble.setCname(name, target);
    await suite.pebble.addA(target, '10.0.0.5');
    const right = await verdictOf(['-d', name, '--expect-cname', target]);
    assert.equal(right.code, 0, right.reason);
    assert.deepEqual([right.cnameChain, right.addresses], [[target], ['10.0.0.5']]);
    const elsewhere = uniqueName('other-edge');
    const wrong = await verdictOf(['-d', name, '--expect-cname', elsewhere]);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.reason, `CNAME chain ${name} → ${target} does not reach ${elsewhere}`);
  });

  it('CAA: allows the CA named in issue, forbids others, --ca-identity changes the CA', async () => {
    const allowed = uniqueName('caa-ok');
    await suite.pebble.addCaa(allowed, [{ tag: 'issue', value: 'letsencrypt.org; validationmethods=http-01' }]);
    const ok = await verdictOf(['-d', allowed]);
    assert.equal(ok.code, 0, ok.reason);
    assert.deepEqual(ok.caa, { records: [`${allowed} CAA 0 issue "letsencrypt.org; validationmethods=http-01"`], allows: true });

    const forbidden = uniqueName('caa-no');
    await suite.pebble.addCaa(forbidden, [{ tag: 'issue', value: 'other-ca.example' }]);
    const no = await verdictOf(['-d', forbidden]);
    assert.equal(no.code, 1);
    assert.equal(no.caa?.allows, false);
    assert.equal(no.reason, `CAA at ${forbidden} does not allow letsencrypt.org (issue "other-ca.example")`);
    assert.equal((await verdictOf(['-d', forbidden, '--ca-identity', 'Other-CA.example'])).code, 0);
  });

  it('CAA: walks up to the parent, and issuewild governs wildcard names only', async () => {
    const parent = uniqueName('caa-wild');
    await suite.pebble.addCaa(parent, [
      { tag: 'issue', value: 'letsencrypt.org' },
      { tag: 'issuewild', value: ';' },
    ]);
    const r = await verify(['-d', `www.${parent}`, '-d', `*.${parent}`]);
    assert.equal(r.code, 1);
    const [www, wild] = json<Verdict[]>(r);
    assert.deepEqual([www?.ok, www?.caa?.records.length], [true, 2]);
    assert.equal(wild?.ok, false);
    assert.equal(wild?.reason, `CAA at ${parent} does not allow letsencrypt.org (issuewild ";")`);
  });

  it('fails a name whose lookup gets SERVFAIL', async () => {
    const name = uniqueName('servfail');
    await suite.pebble.setServfail(name);
    const v = await verdictOf(['-d', name]);
    assert.equal(v.code, 1);
    assert.equal(v.reason, `SERVFAIL for ${name} (${challtestsrv()})`);
    assert.equal(v.caa, null);
  });

  it('fails a dead resolver in well under 10 seconds', async () => {
    const port = await freePort(); // nothing listens there, for UDP either
    const v = await verdictOf(['-d', uniqueName('dead'), '--resolver', `127.0.0.1:${port}`]);
    assert.equal(v.code, 1);
    assert.match(v.reason ?? '', /^timeout: no answer for /);
    assert.ok(v.durationMs < 7000, `took ${v.durationMs} ms`);
  });

  it('prints a table for people', async () => {
    const good = uniqueName('table-good');
    const bad = uniqueName('table-bad');
    await suite.pebble.addA(bad, '10.0.0.9');
    const r = await suite.certman(dir, ['verify-dns', '--resolver', challtestsrv(), '-d', good, '-d', bad, '--expect-ip', '127.0.0.1']);
    assert.equal(r.code, 1);
    const lines = r.stdout.split('\n');
    assert.match(lines[0] ?? '', /^NAME +ADDRESSES +CNAME CHAIN +CAA +VERDICT +REASON$/);
    assert.match(lines.find((l) => l.startsWith(good)) ?? '', /127\.0\.0\.1 +- +none +ok$/);
    assert.match(lines.find((l) => l.startsWith(bad)) ?? '', /10\.0\.0\.9 +- +none +FAIL +resolves to 10\.0\.0\.9, expected 127\.0\.0\.1$/);
    assert.match(r.stdout, /1 of 2 names pass/);
  });

  it('takes the resolver from CERTMAN_RESOLVER and expectations from the config file', async () => {
    const name = uniqueName('configured');
    await suite.pebble.addA(name, '10.0.0.3');
    const config = join(dir, 'expect.json');
    await writeFile(config, JSON.stringify({ expectIp: ['10.0.0.3'] }));
    const r = await suite.certman(dir, ['--json', '--config', config, 'verify-dns', '-d', name], { CERTMAN_RESOLVER: challtestsrv() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // Flags replace the configured expectations.
    const flagged = await suite.certman(dir, ['--json', '--config', config, 'verify-dns', '-d', name, '--expect-ip', '127.0.0.1'], { CERTMAN_RESOLVER: challtestsrv() });
    assert.equal(flagged.code, 1);
  });

  describe('bad input exits 2', () => {
    const cases: [string, string[], RegExp][] = [
      ['--resolver with --doh', ['--resolver', '127.0.0.1', '--doh', 'https://dns.example/dns-query'], /--resolver and --doh exclude each other/],
      ['bad --expect-ip', ['--expect-ip', '10.0.0.256'], /--expect-ip: "10\.0\.0\.256" is not an IP address/],
      ['bad --resolver', ['--resolver', 'dns.google'], /invalid resolver "dns.google"/],
      ['http DoH off loopback', ['--doh', 'http://dns.example/dns-query'], /needs an https:\/\/ URL/],
      ['bad name', ['-d', 'exa mple.test'], /invalid domain name/],
      ['bad --expect-cname', ['--expect-cname', 'not a name'], /--expect-cname: invalid domain name/],
    ];
    for (const [label, args, message] of cases) {
      it(label, async () => {
        const r = await suite.certman(dir, ['verify-dns', '-d', 'x.certman.test', ...args], { CERTMAN_RESOLVER: challtestsrv() });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr.split('\n')[0] ?? '', message);
      });
    }
    it('bad CERTMAN_RESOLVER', async () => {
      const r = await suite.certman(dir, ['verify-dns', '-d', 'x.certman.test'], { CERTMAN_RESOLVER: '127.0.0.1:0' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /CERTMAN_RESOLVER: invalid resolver "127\.0\.0\.1:0"/);
    });
  });
});

describe('verify-dns against a local dns2 server (NXDOMAIN, truncation, DoH)', () => {
  const servers: { close(): Promise<void> }[] = [];
  let port: number;
  let dohPort: number;

  /** nx.* → NXDOMAIN; big.* → truncated over UDP, answered over TCP; anything else → forwarded to challtestsrv. */
  before(async () => {
    [port = 0, dohPort = 0] = await freePorts(2);
    const forward = dns2.UDPClient({ dns: '127.0.0.1', port: suite.pebble.dnsPort, timeout: 2000 });
    const typeName = (type: number) => Object.entries(Packet.TYPE).find(([, v]) => v === type)?.[0] ?? 'A';
    const handler = (transport: 'udp' | 'tcp' | 'doh') => async (request: InstanceType<typeof Packet>, send: (p: InstanceType<typeof Packet>) => Promise<unknown>) => {
      const [question] = request.questions;
      const response = Packet.createResponseFromRequest(request);
      if (question === undefined) return void (await send(response));
      if (question.name.startsWith('nx.')) {
        response.header.rcode = 3; // NXDOMAIN (dns2 has Packet.RCODE, its types do not)
      } else if (question.name.startsWith('big.')) {
        if (transport === 'udp') response.header.tc = 1;
        else if (question.type === Packet.TYPE.A) {
          response.answers.push(Object.assign(new Packet.Resource(question.name, Packet.TYPE.A, Packet.CLASS.IN, 60), { address: '192.0.2.77' }));
        }
      } else {
        const answer = await forward(question.name, typeName(question.type));
        answer.header.id = request.header.id;
        return void (await send(answer));
      }
      await send(response);
    };
    const udp = dns2.createServer({ udp: true, handle: handler('udp') });
    const tcp = dns2.createServer({ tcp: true, handle: handler('tcp') });
    const doh = dns2.createServer({ doh: {}, handle: handler('doh') });
    await Promise.all([udp.listen({ udp: { port, address: '127.0.0.1' } }), tcp.listen({ tcp: { port, address: '127.0.0.1' } }), doh.listen({ doh: { port: dohPort, address: '127.0.0.1' } })]);
    servers.push(udp, tcp, doh);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('fails NXDOMAIN', async () => {
    const name = `nx.${uniqueName('gone')}`;
    const v = await verdictOf(['-d', name, '--resolver', `127.0.0.1:${port}`]);
    assert.deepEqual([v.code, v.ok, v.reason], [1, false, `NXDOMAIN: ${name} does not exist`]);
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    const v = await verdictOf(['-d', `big.${uniqueName('tc')}`, '--resolver', `127.0.0.1:${port}`, '--expect-ip', '192.0.2.77']);
    assert.equal(v.code, 0, v.reason);
    assert.deepEqual(v.addresses, ['192.0.2.77']);
  });

  it('asks a DNS-over-HTTPS resolver with --doh', async () => {
    const name = uniqueName('doh');
    await suite.pebble.addA(name, '10.0.0.7');
    await suite.pebble.addCaa(name, [{ tag: 'issue', value: 'other-ca.example' }]);
    const doh = `http://127.0.0.1:${dohPort}/dns-query`;
    const v = await verdictOf(['-d', name, '--doh', doh, '--expect-ip', '10.0.0.7']);
    assert.equal(v.code, 1);
    assert.deepEqual(v.addresses, ['10.0.0.7']);
    assert.equal(v.reason, `CAA at ${name} does not allow letsencrypt.org (issue "other-ca.example")`);
    const nx = await verdictOf(['-d', `nx.${name}`, '--doh', doh]);
    assert.equal(nx.reason, `NXDOMAIN: nx.${name} does not exist`);
  });
});

describe('the DNS gate in issue and renew', () => {
  /** A config file with expectations and challtestsrv as the resolver. */
  async function gateConfig(expectIp: string[]): Promise<string> {
    const file = join(await tempDir('gate'), 'certman.config.json');
    await writeFile(file, JSON.stringify({ expectIp, resolver: [challtestsrv()] }));
    return file;
  }

  it('issue --verify-dns stops before any order when a name fails (exit 1, nothing at the CA)', async () => {
    const cfg = await suite.registeredDir();
    const name = uniqueName('gate-stop');
    const config = await gateConfig(['10.0.0.1']);
    const r = await suite.certman(cfg, ['--config', config, 'issue', '--verify-dns', '-d', name, ...suite.standalone()]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`DNS check failed, nothing was sent to the CA: ${name.replace(/\./g, '\\.')}: resolves to 127\\.0\\.0\\.1, expected 10\\.0\\.0\\.1`));
    assert.match(r.stderr, /--allow-subset-of-names/);
    assert.ok(!suite.pebble.log().includes(name), 'Pebble never heard of the name');
    const listed = json<unknown[]>(await suite.certman(cfg, ['--json', 'list']));
    assert.deepEqual(listed, []);
  });

  it('issue --allow-subset-of-names orders only the names that pass', async () => {
    const cfg = await suite.registeredDir();
    const good = uniqueName('gate-good');
    const bad = uniqueName('gate-bad');
    await suite.pebble.addA(bad, '10.0.0.2');
    const config = await gateConfig(['127.0.0.1']);
    const r = await suite.certman(cfg, ['--json', '--config', config, 'issue', '--allow-subset-of-names', '-d', bad, '-d', good, ...suite.standalone()]);
    assert.equal(r.code, 0, r.stderr);
    const out = json<{ status: string; name: string; domains: string[] }>(r);
    assert.deepEqual([out.status, out.domains, out.name], ['issued', [good], bad]);
    assert.match(r.stderr, new RegExp(`dropping ${bad.replace(/\./g, '\\.')} from the order: resolves to 10\\.0\\.0\\.2`));
    assert.ok(!suite.pebble.log().includes(bad), 'the failing name was never sent to the CA');
    assert.equal(suite.pebble.validationsFor(good), 1);
  });

  it('renew checks DNS first: a failing name fails the renewal, or is dropped with --allow-subset-of-names', async () => {
    const cfg = await suite.registeredDir();
    const good = uniqueName('renew-good');
    const bad = uniqueName('renew-bad');
    const issued = await suite.certman(cfg, ['issue', '-d', good, '-d', bad, ...suite.standalone()]);
    assert.equal(issued.code, 0, issued.stderr);
    const validatedBefore = suite.pebble.validationsFor(bad);
    await suite.pebble.addA(bad, '10.0.0.2');
    try {
      const config = await gateConfig(['127.0.0.1']);
      const renew = (extra: string[]) => suite.certman(cfg, ['--json', '--config', config, 'renew', '--no-random-sleep', '--force', ...extra]);
      const failed = await renew([]);
      assert.equal(failed.code, 1);
      const result = json<{ results: { name: string; status: string; error?: { message: string } }[] }>(failed).results[0];
      assert.equal(result?.status, 'failed');
      assert.match(result?.error?.message ?? '', new RegExp(`^DNS check failed, nothing was sent to the CA: ${bad.replace(/\./g, '\\.')}: resolves to 10\\.0\\.0\\.2`));

      const subset = await renew(['--allow-subset-of-names']);
      assert.equal(subset.code, 0, subset.stderr);
      const listed = json<{ name: string; domains: string[] }[]>(await suite.certman(cfg, ['--json', 'list']));
      assert.deepEqual(listed[0]?.domains, [good]);
      assert.equal(suite.pebble.validationsFor(bad), validatedBefore, 'no validation of the failing name after the gate');
    } finally {
      await suite.pebble.clearA(bad);
    }
  });

  it("checks CAA against the identities the CA's directory advertises, unless config caIdentity names one", async () => {
    const proxy = await startAriProxy(suite.pebble);
    const ours = uniqueName('caa-ours');
    const other = uniqueName('caa-other');
    try {
      proxy.setCaaIdentities(['Pebble.Test', 'ca.example']);
      await suite.pebble.addCaa(ours, [{ tag: 'issue', value: 'ca.example' }]);
      await suite.pebble.addCaa(other, [{ tag: 'issue', value: 'letsencrypt.org' }]);
      const cfg = await tempDir('cfg');
      const viaProxy = { CERTMAN_SERVER: proxy.directoryUrl };
      assert.equal((await suite.certman(cfg, ['register', '--email', 'ops@example.com', '--agree-tos'], viaProxy)).code, 0);
      const config = await gateConfig(['127.0.0.1']);
      const issue = (name: string, configFile = config) => suite.certman(cfg, ['--config', configFile, 'issue', '-d', name, ...suite.standalone()], viaProxy);

      const allowed = await issue(ours);
      assert.equal(allowed.code, 0, allowed.stderr);
      const refused = await issue(other);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, new RegExp(`CAA at ${other.replace(/\./g, '\\.')} does not allow pebble\\.test or ca\\.example \\(issue "letsencrypt\\.org"\\)`));
      assert.ok(!suite.pebble.log().includes(other), 'the refused name was never sent to the CA');

      const configured = join(await tempDir('gate'), 'certman.config.json');
      await writeFile(configured, JSON.stringify({ expectIp: ['127.0.0.1'], resolver: [challtestsrv()], caIdentity: 'letsencrypt.org' }));
      const named = await issue(other, configured);
      assert.equal(named.code, 0, named.stderr);
    } finally {
      await Promise.all([proxy.stop(), suite.pebble.clearCaa(ours), suite.pebble.clearCaa(other)]);
    }
  });
});
