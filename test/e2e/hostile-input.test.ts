// Hostile input: every bad command line or config file is exit 2 with one line naming the problem, no stack
// trace, no order at the CA and no change in the config dir; environment problems are exit 1 naming the cause.
import assert from 'node:assert/strict';
import { cp, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certmanEnv, runCli, snapshotTree, startAriProxy, tempDir, uniqueName, type AriProxy, type RunResult } from '../harness/index.js';
import { assertOneLineError, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
/** Pebble behind a recorder of newOrder requests: certman's server in this suite. */
let ca: AriProxy;
/** A config dir with an account and one certificate, copied for every case. */
let template: string;
/** Left behind by the shell if a name or hook string ever reached one. */
let marker: string;

function certman(dir: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runCli(args, { env: { ...certmanEnv(suite.pebble, dir), CERTMAN_SERVER: ca.directoryUrl, ...env } });
}

/** A copy of the template config dir (links kept as links). */
async function populatedDir(): Promise<string> {
  const dir = join(await tempDir('cfg'), 'certman');
  await cp(template, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

/** Runs `args` on a populated config dir; asserts the one-line failure and that nothing in the dir changed. */
async function refused(args: string[], code: number, message: RegExp, prepare?: (dir: string) => Promise<void>): Promise<void> {
  const dir = await populatedDir();
  await prepare?.(dir);
  const snapshot = await snapshotTree(dir);
  const orders = ca.newOrderPayloads().length;
  const r = await certman(dir, args);
  assertOneLineError(r, code, message, JSON.stringify(args));
  assert.deepEqual(await snapshotTree(dir), snapshot, `${JSON.stringify(args)} changed the config dir`);
  if (code === 2) assert.equal(ca.newOrderPayloads().length, orders, `${JSON.stringify(args)} reached the CA`);
}

const label = (n: number, c: string) => c.repeat(n);
const NAME_254 = `${label(63, 'a')}.${label(63, 'b')}.${label(63, 'c')}.${label(57, 'd')}.test`;
const sh = (template: string) => template.replace('MARKER', () => marker);

describe('hostile input', () => {
  before(async () => {
    ca = await startAriProxy(suite.pebble);
    template = await tempDir('template');
    const registered = await certman(template, ['register', '--email', 'ops@example.com', '--agree-tos']);
    assert.equal(registered.code, 0, registered.stderr);
    const issued = await certman(template, ['issue', '-d', uniqueName('kept'), ...suite.standalone()]);
    assert.equal(issued.code, 0, issued.stderr);
    marker = join(await tempDir('marker'), 'PWNED');
  });
  after(async () => {
    await ca?.stop();
  });

  describe('hostile command lines: exit 2, one line, nothing ordered or changed', { concurrency: 4 }, () => {
    const issue = (...extra: string[]) => ['issue', ...extra, ...suite.standalone()];
    const name = (value: string) => issue('-d', value);
    const badName = (value: string) => new RegExp(`^error: invalid domain name ${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `);
    const cases: [string, () => string[], RegExp][] = [
      // names
      ['empty name', () => name(''), /no domain names given/],
      ['only a comma', () => name(','), /no domain names given/],
      ['blanks and commas', () => name(' , ,'), /no domain names given/],
      ['64-character label', () => name(`${label(64, 'a')}.example.test`), /is longer than 63 characters/],
      ['254-character name', () => name(NAME_254), /longer than 253 characters \(254\)/],
      ['underscore', () => name('a_b.example.test'), /contains the character "_"/],
      ['leading underscore label', () => name('_acme.example.test'), /contains the character "_"/],
      ['leading hyphen', () => name('-a.example.test'), /label "-a" starts or ends with a hyphen/],
      ['leading hyphen with =', () => issue('--domain=-x.example.test'), /label "-x" starts or ends with a hyphen/],
      ['trailing hyphen', () => name('a-.example.test'), /label "a-" starts or ends with a hyphen/],
      ['two trailing dots', () => name('a.example.test..'), /empty label/],
      ['a lone dot', () => name('.'), /empty name/],
      ['leading dot', () => name('.a.example.test'), /empty label/],
      ['one label', () => name('localhost'), /needs at least two labels/],
      ['reserved -- label', () => name('ab--c.example.test'), /reserved/],
      ['bad punycode', () => name('xn--zz.example.test'), /not valid punycode/],
      ['IP address with a zone id', () => name('fe80::1%eth0'), /a zone id \("%…"\) names a local interface/],
      ['wildcard over HTTP-01', () => name('*.example.test'), /DNS-01/],
      ['$(...)', () => name(sh('$(touch MARKER).example.test')), /contains the character "\$"/],
      ['backticks', () => name(sh('`touch MARKER`.example.test')), /contains the character "`"/],
      ['semicolon', () => name(sh('a.example.test;touch MARKER')), /contains the character ";"/],
      ['pipe', () => name('a.example.test|sh'), /contains the character "\|"/],
      ['ampersands', () => name(sh('a.example.test&&touch MARKER')), /contains the character "&"/],
      ['single quote', () => name("a'b.example.test"), /contains the character "'"/],
      ['double quote', () => name('a"b.example.test'), /contains the character """/],
      ['newline', () => name(sh('a.example.test\ntouch MARKER')), /contains a control character \(U\+000A\)/],
      ['tab', () => name('a.example\t.test'), /contains a control character \(U\+0009\)/],
      ['space', () => name('a b.example.test'), /contains a space/],
      ['redirect', () => name('a.example.test>x'), /contains the character ">"/],
      ['slash', () => name('../../etc/passwd'), /contains the character "\/"/],
      ['backslash', () => name('a\\b.example.test'), /contains the character "\\"/],
      ['dollar brace', () => name('${IFS}.example.test'), badName('${IFS}.example.test')],
      // certificate names (folder names under live/, archive/, renewal/)
      ['--cert-name ../', () => issue('-d', 'a.example.test', '--cert-name', '../evil'), /invalid certificate name "\.\.\/evil"/],
      ['--cert-name with a slash', () => issue('-d', 'a.example.test', '--cert-name', 'a/b'), /invalid certificate name "a\/b"/],
      ['--cert-name empty', () => issue('-d', 'a.example.test', '--cert-name', ''), /invalid certificate name ""/],
      ['--cert-name $(...)', () => issue('-d', 'a.example.test', '--cert-name', sh('$(touch MARKER)')), /invalid certificate name/],
      ['renew --cert-name ../', () => ['renew', '--no-random-sleep', '--cert-name', '../../etc'], /invalid certificate name/],
      ['renew --cert-name unknown', () => ['renew', '--no-random-sleep', '--cert-name', 'nope.example.test'], /no certificate named nope\.example\.test/],
      ['revoke --cert-name ../', () => ['revoke', '--cert-name', '../x'], /invalid certificate name/],
      ['delete --cert-name ../', () => ['delete', '-y', '--cert-name', '../../x'], /invalid certificate name/],
      // keys
      ['--key-type dsa', () => issue('-d', 'a.example.test', '--key-type', 'dsa'), /'--key-type <type>' argument 'dsa' is invalid/],
      ['--rsa-key-size 1024', () => issue('-d', 'a.example.test', '--key-type', 'rsa', '--rsa-key-size', '1024'), /argument '1024' is invalid\. Allowed choices are 2048, 3072, 4096/],
      ['--rsa-key-size 8192', () => issue('-d', 'a.example.test', '--key-type', 'rsa', '--rsa-key-size', '8192'), /argument '8192' is invalid/],
      ['--elliptic-curve p521', () => issue('-d', 'a.example.test', '--elliptic-curve', 'p521'), /argument 'p521' is invalid\. Allowed choices are p256, p384/],
      ['--rsa-key-size with ecdsa', () => issue('-d', 'a.example.test', '--key-type', 'ecdsa', '--rsa-key-size', '4096'), /--rsa-key-size goes with --key-type rsa/],
      ['--elliptic-curve with rsa', () => issue('-d', 'a.example.test', '--key-type', 'rsa', '--elliptic-curve', 'p384'), /--elliptic-curve/],
      // conflicting flags
      ['--standalone and --webroot', () => issue('-d', 'a.example.test', '--webroot', '/tmp'), /exclude each other/],
      ['--standalone and --responder', () => issue('-d', 'a.example.test', '--responder'), /--standalone and --responder exclude each other/],
      ['--cert-name and --cert-path', () => ['revoke', '--cert-name', 'x.example.test', '--cert-path', '/tmp/x.pem'], /exactly one of --cert-name or --cert-path/],
      ['--redirect-https and --proxy-to', () => ['serve-challenge', '--redirect-https', '--proxy-to', 'http://127.0.0.1:1'], /exclude each other/],
      ['--metrics-address a host name', () => ['serve-challenge', '--metrics-address', 'localhost:9402'], /--metrics-address must be an IP address and port/],
      ['--metrics-address bare IPv6', () => ['serve-challenge', '--metrics-address', '::1:9402'], /--metrics-address must be an IP address and port/],
      ['metrics --output in no folder', () => ['metrics', '--output', '/proc/certman-none/certman.prom'], /--output \/proc\/certman-none\/certman\.prom: no such folder/],
      ['--resolver and --doh', () => ['verify-dns', '-d', 'a.example.test', '--resolver', '127.0.0.1', '--doh', 'https://127.0.0.1/q'], /exclude each other/],
      ['verify-dns --expect-cname an address', () => ['verify-dns', '-d', 'a.example.test', '--expect-cname', '192.0.2.1'], /--expect-cname: "192\.0\.2\.1" is an IP address, not a DNS name/],
      ['verify-dns --ca-identity an address', () => ['verify-dns', '-d', 'a.example.test', '--ca-identity', '[2001:db8::1]'], /--ca-identity: "\[2001:db8::1\]" is an IP address, not a DNS name/],
      ['issue --expect-cname an address', () => issue('-d', 'a.example.test', '--expect-cname', '2001:db8::1'), /--expect-cname: "2001:db8::1" is an IP address, not a DNS name/],
      ['--preferred-chain with an escape', () => issue('-d', 'a.example.test', '--preferred-chain', 'Root\u001b[31m'), /--preferred-chain "Root\\u001b\[31m": give the issuer's common name on one line/],
      ['--cron and --systemd', () => ['schedule', '--cron', '--systemd'], /exactly one of --cron or --systemd/],
      ['--eab-kid alone', () => ['register', '--eab-kid', 'kid', '--email', 'a@example.com', '--agree-tos'], /--eab-kid and --eab-hmac-key go together/],
      // unknown flags and commands
      ['unknown flag', () => issue('-d', 'a.example.test', '--bogus'), /unknown option '--bogus'/],
      ['misspelt flag', () => ['issue', '-d', 'a.example.test', '--Standalone'], /unknown option '--Standalone' \(Did you mean --standalone\?\)/],
      ['underscore flag', () => ['renew', '--deploy_hook', 'x'], /unknown option '--deploy_hook'/],
      ['misspelt global flag', () => ['--config-dri', '/tmp', 'certificates'], /unknown option '--config-dri'/],
      ['unknown command', () => ['renwe'], /unknown command 'renwe'/],
      // numbers, URLs and choices
      ['--http-port 0', () => ['issue', '-d', 'a.example.test', '--standalone', '--http-port', '0'], /--http-port must be a port number/],
      ['--http-port 65536', () => ['issue', '-d', 'a.example.test', '--standalone', '--http-port', '65536'], /--http-port must be a port number/],
      ['--http-port eighty', () => ['issue', '-d', 'a.example.test', '--standalone', '--http-port', 'eighty'], /--http-port must be a port number/],
      ['--timeout 0', () => ['--timeout', '0', 'certificates'], /--timeout must be a positive number/],
      ['--days soon', () => ['renew', '--no-random-sleep', '--days', 'soon'], /--days must be a positive number/],
      ['--concurrency 0', () => ['renew', '--no-random-sleep', '--concurrency', '0'], /--concurrency must be a positive number/],
      ['--max 1.5', () => ['renew', '--no-random-sleep', '--max', '1.5'], /--max must be a whole number/],
      ['--server file:', () => ['--server', 'file:///etc/passwd', 'certificates'], /invalid ACME server "file:\/\/\/etc\/passwd"/],
      ['--server javascript:', () => ['--server', 'javascript:alert(1)', 'certificates'], /invalid ACME server/],
      ['--reason made up', () => ['revoke', '--cert-name', 'x.example.test', '--reason', 'because'], /--reason/],
      ['--email not an address', () => ['register', '--email', 'not-an-email', '--update-email'], /--email: invalid email address "not-an-email"/],
      ['--config-dir empty', () => ['--config-dir', '', 'certificates'], /--config-dir must not be empty/],
      ['--config empty', () => ['--config', '', 'certificates'], /--config must not be empty/],
      ['--webroot empty', () => ['issue', '-d', 'a.example.test', '--webroot', ''], /--webroot must not be empty/],
      ['--logs-dir empty', () => ['renew', '--no-random-sleep', '--logs-dir', ' '], /--logs-dir must not be empty/],
      ['--email with two addresses', () => issue('-d', 'a.example.test', '--email', 'a@example.com,b@example.com'), /invalid email address/],
    ];
    for (const [what, args, message] of cases) {
      it(what, () => refused(args(), 2, message));
    }
  });

  describe('malformed config files: exit 2 naming the file and the key', { concurrency: 4 }, () => {
    const cases: [string, string, RegExp][] = [
      ['certman.config.json', '{"keyType": ', /invalid JSON/],
      ['certman.config.json', '{"emial": "a@example.com"}', /unknown key "emial"/],
      ['certman.config.json', '{"httpPort": "80"}', /"httpPort" must be an integer from 1 to 65535 \(got "80"\)/],
      ['certman.config.json', '{"email": "not-an-email"}', /"email" must be an email address/],
      ['certman.config.json', '["keyType", "rsa"]', /expected an object of settings, got a list/],
      ['certman.config.yaml', 'email: [\n', /invalid YAML at line \d+, column \d+/],
      ['certman.config.yaml', 'emial: a@example.com\n', /unknown key "emial"/],
      ['certman.config.yaml', 'rsaKeySize: 1024\n', /"rsaKeySize" must be one of 2048, 3072, 4096 \(got 1024\)/],
      ['certman.config.yaml', 'hooks: systemctl reload nginx\n', /"hooks" must be an object/],
      ['certman.config.yaml', 'server: file:///etc/passwd\n', /"server" is not a valid ACME server/],
      ['.certmanrc', 'email: !!js/function "function () {}"\n', /invalid YAML.*unknown tag/],
      ['.certmanrc.yml', 'keyType: dsa\n', /"keyType" must be one of ecdsa, rsa \(got "dsa"\)/],
    ];
    const issue = () => ['issue', '-d', uniqueName('cfg'), ...suite.standalone()];
    for (const [file, text, message] of cases) {
      const escaped = file.replace(/\./g, '\\.');
      it(`${file} in the config dir: ${JSON.stringify(text)}`, () =>
        refused(issue(), 2, new RegExp(`^error: config file \\S+/${escaped}: ${message.source}`), (dir) => writeFile(join(dir, file), text)));
      it(`--config ${file}: ${JSON.stringify(text)}`, async () => {
        const path = join(await tempDir('conf'), file);
        await writeFile(path, text);
        await refused(['--config', path, ...issue()], 2, new RegExp(`^error: config file ${path.replace(/\./g, '\\.')}: ${message.source}`));
      });
    }
  });

  describe('environment problems: exit 1 naming the cause, before anything is ordered', () => {
    it('a busy standalone port', async () => {
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(suite.pebble.httpPort, '127.0.0.1', resolve));
      try {
        await refused(['issue', '-d', uniqueName('busy'), ...suite.standalone()], 1, /already in use/);
      } finally {
        blocker.close();
      }
    });

    it('a webroot whose .well-known is a symlink out of it', async () => {
      const webroot = await tempDir('webroot');
      const outside = await tempDir('outside');
      await symlink(outside, join(webroot, '.well-known'));
      const orders = ca.newOrderPayloads().length;
      await refused(['issue', '-d', uniqueName('escape'), '--webroot', webroot], 1, /\.well-known is a symlink that leaves the webroot/);
      assert.equal(ca.newOrderPayloads().length, orders, 'nothing was ordered');
      assert.deepEqual(await readdir(outside), []);
    });

    // Node's recursive mkdir loops forever where mkdir answers ENOENT under an existing parent (/proc).
    it('a config dir that cannot be created (under /proc): an error, not a hang; listing only reads, so it lists nothing', async () => {
      const logs = await tempDir('logs');
      const r = await certman(await tempDir('cfg'), ['--config-dir', '/proc/certman-test', 'renew', '--no-random-sleep', '--logs-dir', logs]);
      assertOneLineError(r, 1, /cannot create config directory \/proc\/certman-test/);
      const list = await certman(await tempDir('cfg'), ['--config-dir', '/proc/certman-test', 'certificates']);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout, 'No certificates in /proc/certman-test.\n');
    });

    it('a logs dir that cannot be created', async () => {
      await refused(['renew', '--no-random-sleep', '--logs-dir', '/proc/certman-logs'], 1, /cannot write the run log in \/proc\/certman-logs/);
    });

    it('a missing webroot', async () => {
      const missing = join(await tempDir('webroot'), 'missing');
      const orders = ca.newOrderPayloads().length;
      await refused(['issue', '-d', uniqueName('nowebroot'), '--webroot', missing], 1, /webroot \S+missing is not an existing directory/);
      assert.equal(ca.newOrderPayloads().length, orders, 'nothing was ordered');
      await assert.rejects(stat(missing), { code: 'ENOENT' });
    });
  });

  describe('email addresses are checked before anything reaches the CA (exit 2)', () => {
    /** A CA stand-in that counts every request it gets and answers none usefully. */
    let requests = 0;
    let url = '';
    const server = createHttpServer((_req, res) => {
      requests++;
      res.writeHead(500).end();
    });
    before(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/dir`;
    });
    after(() => server.close());

    const cases: [string, string[], Record<string, string>, RegExp, Record<string, string>?][] = [
      ['register --email', ['register', '--email', 'not-an-email', '--agree-tos'], {}, /--email: invalid email address "not-an-email"/],
      ['issue --email', ['issue', '-d', 'a.example.test', '--standalone', '--email', 'ops@exa mple.com', '--agree-tos'], {}, /--email: invalid email address/],
      ['CERTMAN_EMAIL', ['register', '--agree-tos'], { CERTMAN_EMAIL: 'ops' }, /CERTMAN_EMAIL: invalid email address "ops"/],
      ['config file', ['register', '--agree-tos'], {}, /"email" must be an email address/, { 'certman.config.yaml': 'email: ops.example.com\n' }],
    ];
    for (const [what, args, env, message, files = {}] of cases) {
      it(`${what}, with no account yet`, async () => {
        const dir = await tempDir('cfg');
        for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
        const snapshot = await snapshotTree(dir);
        const asked = requests;
        const r = await runCli(args, { env: { CERTMAN_SERVER: url, CERTMAN_CONFIG_DIR: dir, ...env } });
        assertOneLineError(r, 2, message, what);
        assert.equal(requests, asked, 'the CA was asked');
        assert.deepEqual(await snapshotTree(dir), snapshot);
      });
    }

    it('a good address does reach it (the stand-in sees requests)', async () => {
      const dir = await tempDir('cfg');
      const asked = requests;
      const r = await runCli(['register', '--email', 'ops@example.com', '--agree-tos'], { env: { CERTMAN_SERVER: url, CERTMAN_CONFIG_DIR: dir } });
      assert.equal(r.code, 1, r.stderr);
      assert.ok(requests > asked);
    });
  });

  describe('names never reach a shell', () => {
    it('no case above ran the marker command', async () => {
      await assert.rejects(stat(marker), { code: 'ENOENT' });
    });
  });
});
