// IP address certificates (RFC 8738) against Pebble 2.4, which validates HTTP-01 for an address by connecting to
// the address itself on its httpPort (127.0.0.1 and ::1 here), and ACME profiles through the test responder in
// front of it (test/harness/ari.ts), which adds meta.profiles to the directory and records each new order.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCertificateInfo } from '../../src/crypto/certificate.js';
import { startAriProxy, startNginx, startServeChallenge, tempDir, uniqueName, type AriProxy } from '../harness/index.js';
import { assertOneLineError, json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
const PROFILES = { classic: 'The profile certificates have always had', shortlived: 'Six-day certificates, IP addresses', tlsserver: 'TLS server authentication only' };

/** The built-in server on every address (IPv4 and IPv6), on the port Pebble validates. */
const standaloneAll = (): string[] => ['--standalone', '--http-port', String(suite.pebble.httpPort)];

interface IssueJson {
  status: string;
  name: string;
  domains: string[];
  profile: string | null;
  profileChosen?: boolean;
  files: { cert: string };
}

/** The certificate's subjectAltName entries and subject, as X.509 has them. */
async function certNames(path: string): Promise<{ sans: string[]; subject: string }> {
  const cert = new X509Certificate(await readFile(path));
  return { sans: (cert.subjectAltName ?? '').split(', ').sort(), subject: cert.subject };
}

interface OrderPayload {
  identifiers: { type: string; value: string }[];
  profile?: string;
  replaces?: string;
}

describe('IP address certificates', () => {
  it('IPv4 alone through the built-in server: an ip identifier, an iPAddress SAN, a lineage that renews, revokes and deletes', async () => {
    const dir = await suite.registeredDir();
    const out = await tempDir('iphook');
    const r = await suite.certman(dir, ['--json', 'issue', '-d', '127.0.0.1', ...suite.standalone(), '--deploy-hook', `echo "$RENEWED_DOMAINS" >> ${out}/deploy`]);
    assert.equal(r.code, 0, r.stderr);
    const issued = json<IssueJson>(r);
    assert.equal(issued.name, '127.0.0.1');
    assert.deepEqual(issued.domains, ['127.0.0.1']);
    assert.equal(issued.profile, null, 'no profile at a CA that offers none');
    assert.deepEqual((await certNames(issued.files.cert)).sans, ['IP Address:127.0.0.1']);
    assert.equal(suite.pebble.validationsFor('127.0.0.1'), 1);

    const renewed = await suite.certman(dir, ['--json', 'renew', '--force', '--no-random-sleep']);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.equal(json<{ summary: { renewed: number } }>(renewed).summary.renewed, 1);
    assert.equal(await readFile(join(out, 'deploy'), 'utf8'), '127.0.0.1\n127.0.0.1\n');

    const list = json<{ name: string; domains: string[]; profile: string | null; status: string }[]>(await suite.certman(dir, ['--json', 'certificates']));
    assert.deepEqual(list.map((c) => [c.name, c.domains, c.profile, c.status]), [['127.0.0.1', ['127.0.0.1'], null, 'valid']]);
    const revoked = await suite.certman(dir, ['revoke', '--cert-name', '127.0.0.1']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const deleted = await suite.certman(dir, ['delete', '--cert-name', '127.0.0.1', '--yes']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(json<unknown[]>(await suite.certman(dir, ['--json', 'certificates'])), []);
  });

  it('IPv6 ::1 (written [0:0:0:0:0:0:0:1]) through the built-in server on every address: lineage 0--1', async () => {
    const dir = await suite.registeredDir();
    const r = await suite.certman(dir, ['--json', 'issue', '-d', '[0:0:0:0:0:0:0:1]', ...standaloneAll()]);
    assert.equal(r.code, 0, r.stderr);
    const issued = json<IssueJson>(r);
    assert.deepEqual([issued.name, issued.domains], ['0--1', ['::1']]);
    assert.deepEqual((await certNames(issued.files.cert)).sans, ['IP Address:0:0:0:0:0:0:0:1']);
    // What import-certbot reads of a certificate: the address in its one spelling.
    assert.deepEqual(readCertificateInfo(await readFile(issued.files.cert, 'utf8')).domains, ['::1']);
    const renewed = await suite.certman(dir, ['renew', '--cert-name', '0--1', '--force', '--no-random-sleep']);
    assert.equal(renewed.code, 0, renewed.stderr);
  });

  it('a DNS name, 127.0.0.1 and ::1 in one order through serve-challenge --check-host (Host headers of IP form)', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('mixed');
    const env = { CERTMAN_CONFIG_DIR: dir };
    const server = await startServeChallenge(env, suite.pebble.httpPort, ['--address', '::1', '--check-host', '--access-log']);
    try {
      const r = await suite.certman(dir, ['--json', 'issue', '-d', name, '-d', '127.0.0.1', '-d', '::1', '--responder']);
      assert.equal(r.code, 0, `${r.stderr}\n${server.stderr()}`);
      const issued = json<IssueJson>(r);
      assert.equal(issued.name, name);
      const { sans, subject } = await certNames(issued.files.cert);
      assert.deepEqual(sans, [`DNS:${name}`, 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1'].sort());
      assert.ok(subject === '' || subject.includes(name), subject);
      // Pebble (3 fetches per identifier) and the self-check asked with the address as Host.
      assert.match(server.stdout(), /\[::1\]:\d+/);
      assert.match(server.stdout(), /127\.0\.0\.1:\d+/);
    } finally {
      await server.stop();
    }
  });

  it('through a webroot nginx serves on 127.0.0.1 and ::1', async () => {
    const root = await tempDir('ipwebroot');
    const port = suite.pebble.httpPort;
    const nginx = await startNginx({ port, root, serverSnippet: `    listen [::1]:${port};` });
    try {
      const dir = await suite.registeredDir();
      const ok = await suite.certman(dir, ['--json', 'issue', '-d', '127.0.0.1,::1', '--webroot', root]);
      assert.equal(ok.code, 0, ok.stderr);
      const issued = json<IssueJson>(ok);
      assert.equal(issued.name, '127.0.0.1');
      assert.deepEqual((await certNames(issued.files.cert)).sans, ['IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1']);
      assert.match(nginx.accessLog(), /GET \/\.well-known\/acme-challenge\//);
    } finally {
      await nginx.stop();
    }
  });

  it('refuses addresses no public CA can reach (exit 2, one line); --allow-private-ip lets them through', async () => {
    const dir = await tempDir('ippriv');
    const le = ['--server', 'https://acme-v02.api.letsencrypt.org/directory'];
    for (const [ip, what] of [['10.1.2.3', 'private'], ['::1', 'loopback'], ['fe80::1', 'link-local'], ['fd12::1', 'unique local'], ['0.0.0.0', 'unspecified'], ['ff02::1', 'multicast'], ['::7f00:1', 'IPv4-compatible']] as const) {
      assertOneLineError(await suite.certman(dir, [...le, 'issue', '-d', 'example.com', '-d', ip, '--standalone']), 2, new RegExp(`is in \\S+ \\(${what}`), ip);
    }
    assertOneLineError(await suite.certman(dir, [...le, 'issue', '-d', 'fe80::1%eth0', '--standalone']), 2, /zone id/);
    // With the flag the address passes, and the run goes on to the account, which this config dir has none of for
    // that CA: exit 2 naming it, before anything reaches the network (a CA that is not loopback is unreachable here).
    assertOneLineError(await suite.certman(dir, [...le, 'issue', '-d', '10.1.2.3', '--standalone', '--allow-private-ip']), 2, /no account exists yet for https:\/\/acme-v02/);
  });
});

describe('profiles', () => {
  let proxy: AriProxy;
  let at: Record<string, string>;
  before(async () => {
    proxy = await startAriProxy(suite.pebble);
    at = { CERTMAN_SERVER: proxy.directoryUrl };
  });
  after(async () => {
    await proxy?.stop();
  });
  const lastOrder = (): OrderPayload => proxy.newOrderPayloads().at(-1) as OrderPayload;
  /** A config dir with an account at the responder (its directory URL is another CA's to certman). */
  const registeredAtProxy = async (): Promise<string> => {
    const dir = await tempDir('cfg');
    const r = await suite.certman(dir, ['register', '--email', 'ops@example.com', '--agree-tos'], at);
    assert.equal(r.code, 0, r.stderr);
    return dir;
  };

  it('--profile is sent with the order, stored, shown by certificates, and sent again by renew', async () => {
    proxy.setProfiles(PROFILES);
    const dir = await registeredAtProxy();
    const name = uniqueName('prof');
    const r = await suite.certman(dir, ['--json', 'issue', '-d', name, ...suite.standalone(), '--profile', 'tlsserver'], at);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json<IssueJson>(r).profile, 'tlsserver');
    assert.deepEqual(lastOrder(), { identifiers: [{ type: 'dns', value: name }], profile: 'tlsserver' });
    const meta = JSON.parse(await readFile(join(dir, 'renewal', `${name}.json`), 'utf8')) as { profile?: string };
    assert.equal(meta.profile, 'tlsserver');
    const table = await suite.certman(dir, ['certificates'], at);
    assert.match(table.stdout, new RegExp(`${name.replace(/\./g, '\\.')}\\s+\\S+\\s+ECDSA P-256\\s+tlsserver\\s`));

    const renewed = await suite.certman(dir, ['renew', '--force', '--no-random-sleep'], at);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.equal(lastOrder().profile, 'tlsserver');

    // The CA stops offering it: that certificate fails (exit 1) saying so, and nothing is ordered.
    proxy.setProfiles({ classic: PROFILES.classic });
    const orders = proxy.newOrderPayloads().length;
    const gone = await suite.certman(dir, ['--json', 'renew', '--force', '--no-random-sleep'], at);
    assert.equal(gone.code, 1, gone.stderr);
    const failed = json<{ results: { status: string; error: { message: string } }[] }>(gone).results[0];
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.error.message ?? '', new RegExp(`^${name.replace(/\./g, '\\.')} was issued with the profile "tlsserver", which the CA \\S+ no longer offers: it offers classic`));
    assert.equal(proxy.newOrderPayloads().length, orders);
  });

  it('an unknown --profile is exit 2 listing the offered ones, before any order or hook; config profile is checked the same way', async () => {
    proxy.setProfiles(PROFILES);
    const dir = await registeredAtProxy();
    const out = await tempDir('profhook');
    const orders = proxy.newOrderPayloads().length;
    const r = await suite.certman(dir, ['issue', '-d', uniqueName('unk'), ...suite.standalone(), '--profile', 'longlived', '--pre-hook', `touch ${out}/pre`], at);
    assertOneLineError(r, 2, /has no profile "longlived": it offers classic \(The profile certificates have always had\), shortlived \(Six-day certificates, IP addresses\), tlsserver/);
    assert.equal(proxy.newOrderPayloads().length, orders);
    await assert.rejects(readFile(join(out, 'pre')), 'no pre-hook');

    await writeFile(join(dir, 'certman.config.json'), JSON.stringify({ profile: 'bad profile' }));
    assertOneLineError(await suite.certman(dir, ['issue', '-d', uniqueName('cfg'), ...suite.standalone()], at), 2, /"profile" must be a profile name/);
  });

  it('--profile at a CA without profiles is exit 2 saying it offers none; without --profile nothing changes', async () => {
    proxy.setProfiles(undefined);
    const dir = await registeredAtProxy();
    assertOneLineError(await suite.certman(dir, ['issue', '-d', uniqueName('none'), ...suite.standalone(), '--profile', 'classic'], at), 2, /has no profile "classic": it offers no profiles/);
    const name = uniqueName('plain');
    const r = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()], at);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastOrder(), { identifiers: [{ type: 'dns', value: name }] });
  });

  it('issue re-uses the stored profile; another --profile orders now even when not due (an unknown one is exit 2); --no-profile clears it', async () => {
    proxy.setProfiles(PROFILES);
    const dir = await registeredAtProxy();
    const name = uniqueName('chg');
    const metaProfile = async (): Promise<string | undefined> => (JSON.parse(await readFile(join(dir, 'renewal', `${name}.json`), 'utf8')) as { profile?: string }).profile;
    const issue = async (...args: string[]) => suite.certman(dir, ['issue', '-d', name, ...suite.standalone(), ...args], at);
    assert.equal((await issue('--profile', 'classic')).code, 0);
    let orders = proxy.newOrderPayloads().length;
    const notDue = await issue();
    assert.equal(notDue.code, 0, notDue.stderr);
    assert.equal(proxy.newOrderPayloads().length, orders, 'not due: nothing ordered');
    const same = await issue('--profile', 'classic');
    assert.equal(same.code, 0, same.stderr);
    assert.equal(proxy.newOrderPayloads().length, orders, 'the stored profile again is no change');
    const again = await issue('--force');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(lastOrder().profile, 'classic', 'issue without --profile re-uses the stored one');

    orders = proxy.newOrderPayloads().length;
    assertOneLineError(await issue('--profile', 'bogus'), 2, /has no profile "bogus"/);
    assert.equal(proxy.newOrderPayloads().length, orders);
    const changed = await issue('--profile', 'tlsserver');
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(lastOrder().profile, 'tlsserver', 'a different profile orders although not due');
    assert.equal(await metaProfile(), 'tlsserver');

    // The CA withdraws it: the hint's command (with the names and --no-profile) works in a script.
    proxy.setProfiles({ classic: PROFILES.classic });
    const withdrawn = await issue('--force');
    assert.equal(withdrawn.code, 1, withdrawn.stderr);
    const hint = /hint: .*: certman (issue --cert-name \S+ -d \S+ --force) --profile <profile> \(or --no-profile\)/.exec(withdrawn.stderr);
    assert.ok(hint?.[1] !== undefined, withdrawn.stderr);
    const cleared = await suite.certman(dir, [...hint[1].split(' '), '--no-profile'], at);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.deepEqual(lastOrder(), { identifiers: [{ type: 'dns', value: name }] });
    assert.equal(await metaProfile(), undefined);
    const renewed = await suite.certman(dir, ['renew', '--force', '--no-random-sleep'], at);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.equal(lastOrder().profile, undefined);
  });

  it('at a CA other than the one it was issued at (a dry run elsewhere, issue --server) the stored profile is named as that CA lacking it', async () => {
    proxy.setProfiles(PROFILES);
    const dir = await registeredAtProxy();
    const name = uniqueName('else');
    assert.equal((await suite.certman(dir, ['issue', '-d', name, ...suite.standalone(), '--profile', 'tlsserver'], at)).code, 0);
    const pebble = suite.pebble.directoryUrl;
    const quoted = pebble.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const dry = await suite.certman(dir, ['--json', 'renew', '--dry-run', '--force', '--no-random-sleep'], { ...at, CERTMAN_DRY_RUN_SERVER: pebble });
    const failed = json<{ results: { status: string; error: { message: string } }[] }>(dry).results[0];
    assert.equal(failed?.status, 'failed', dry.stderr);
    assert.equal(failed?.error.message, `${name}: the dry-run CA ${pebble} does not offer the profile "tlsserver" this certificate was issued with: it offers no profiles`);
    const moved = await suite.certman(dir, ['--server', pebble, 'issue', '-d', name, '--force', '--email', 'ops@example.com', '--agree-tos'], at);
    assert.equal(moved.code, 1, moved.stderr);
    assert.match(moved.stderr, new RegExp(`^error: ${name.replace(/\./g, '\\.')}: the CA ${quoted} does not offer the profile "tlsserver" this certificate was issued with: it offers no profiles`, 'm'));
  });

  it('an IP order without --profile gets shortlived when the CA offers it, says so, stores it, and renew (with replaces) keeps it', async () => {
    proxy.setProfiles(PROFILES);
    const dir = await registeredAtProxy();
    const r = await suite.certman(dir, ['--json', 'issue', '-d', '127.0.0.1', '-d', '::1', ...standaloneAll()], at);
    assert.equal(r.code, 0, r.stderr);
    const issued = json<IssueJson>(r);
    assert.deepEqual([issued.profile, issued.profileChosen], ['shortlived', true]);
    assert.deepEqual(lastOrder(), { identifiers: [{ type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }], profile: 'shortlived' });
    const human = await suite.certman(dir, ['issue', '-d', '::1', '--cert-name', 'ip6', ...standaloneAll()], at);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /profile: +shortlived \(chosen by certman: the CA issues IP addresses with it\)/);
    // --no-profile asks for what certman chose anyway: not a change, so nothing is ordered while it is not due.
    const orders = proxy.newOrderPayloads().length;
    const again = await suite.certman(dir, ['--json', 'issue', '-d', '::1', '--cert-name', 'ip6', '--no-profile', ...standaloneAll()], at);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(json<{ status: string }>(again).status, 'not-due');
    assert.equal(proxy.newOrderPayloads().length, orders);

    // ARI for an IP lineage: a window in the past makes it due, and the order names the certificate it replaces.
    proxy.setWindow({ start: new Date(Date.now() - 3_600_000), end: new Date(Date.now() - 60_000) });
    try {
      const renewed = await suite.certman(dir, ['--json', 'renew', '--cert-name', '127.0.0.1', '--no-random-sleep'], at);
      assert.equal(renewed.code, 0, renewed.stderr);
      assert.equal(json<{ summary: { renewed: number } }>(renewed).summary.renewed, 1);
      const order = lastOrder();
      assert.equal(order.profile, 'shortlived');
      assert.equal(typeof order.replaces, 'string');
    } finally {
      proxy.setWindow(undefined);
    }
  });
});
