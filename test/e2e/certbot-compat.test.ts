// A certbot user's scripts keep working: certbot's command lines run from a shell script as cron runs them, several
// webroots in one order served by a real nginx (one server block per root), certbot's renewal-hooks/ folders,
// --cert-path & co., and the usage errors of certbot's spellings.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { certmanEnv, certmanOnPath, cliEnv, runCli, startNginx, tempDir, uniqueName, type NginxServer } from '../harness/index.js';
import { assertOneLineError, json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
const execFileP = promisify(execFile);
let nginx: NginxServer;
let rootA: string;
let rootB: string;
/** Names nginx serves from rootB (its own server block); every other name is served from rootA. */
const namesB = [uniqueName('b'), uniqueName('b')];

describe('certbot compatibility', () => {
  before(async () => {
    rootA = await tempDir('root-a');
    rootB = await tempDir('root-b');
    const blockB = ['  server {', `    listen 127.0.0.1:${suite.pebble.httpPort};`, `    server_name ${namesB.join(' ')};`, `    root "${rootB}";`, '    location / { try_files $uri =404; }', '  }'].join('\n');
    nginx = await startNginx({ port: suite.pebble.httpPort, root: rootA, extraServers: blockB });
  });
  after(async () => {
    await nginx?.stop();
  });

  it('runs certbot-style command lines from a shell script as cron would', async () => {
    const dir = await tempDir('cfg');
    const out = await tempDir('out');
    const [a, wwwA] = [uniqueName('a'), uniqueName('www')];
    const script = join(out, 'certs.sh');
    // certbot's spellings throughout: certonly, -w before its -d, -n, --agree-tos, -m, --test-cert, the paths,
    // then renew with --force-renewal, --renew-hook and -q, and certonly --keep-until-expiring on a valid certificate.
    await writeFile(
      script,
      [
        '#!/bin/sh',
        'set -e',
        `certman certonly --webroot -w "$ROOT_A" -d ${a} -d ${wwwA} -w "$ROOT_B" -d ${namesB[0]} --non-interactive --agree-tos -m ops@example.com --test-cert --preferred-challenges http \\`,
        '  --cert-path "$OUT/cert.pem" --key-path "$OUT/key.pem" --fullchain-path "$OUT/fullchain.pem" --chain-path "$OUT/chain.pem"',
        `certman renew --force-renewal --renew-hook 'echo "$RENEWED_DOMAINS" >> "$OUT/renewed"' --quiet --no-self-upgrade --no-random-sleep-on-renew`,
        `certman certonly -n --keep-until-expiring --test-cert --webroot -w "$ROOT_A" --domains ${a},${wwwA} -w "$ROOT_B" -d ${namesB[0]} > "$OUT/keep.txt"`,
        'echo done > "$OUT/finished"',
        '',
      ].join('\n'),
    );
    await chmod(script, 0o755);
    // cron's environment: no terminal, the default CA configured, the staging CA of --test-cert is this Pebble.
    const env = cliEnv({
      PATH: await certmanOnPath(),
      CERTMAN_CONFIG_DIR: dir,
      CERTMAN_CA_FILE: suite.pebble.caFile,
      CERTMAN_DRY_RUN_SERVER: suite.pebble.directoryUrl,
      CERTMAN_VALIDATION_PORT: String(suite.pebble.httpPort),
      CERTMAN_RESOLVER: `127.0.0.1:${suite.pebble.dnsPort}`,
      ROOT_A: rootA,
      ROOT_B: rootB,
      OUT: out,
    });
    const run = await execFileP('/bin/sh', [script], { env, timeout: 120_000 }).catch((err: { stdout: string; stderr: string; code: number }) => {
      assert.fail(`script failed (exit ${err.code}):\n${err.stdout}\n${err.stderr}`);
    });
    assert.equal(await readFile(join(out, 'finished'), 'utf8'), 'done\n', run.stderr);
    assert.match(await readFile(join(out, 'keep.txt'), 'utf8'), /not due for renewal/);
    assert.equal((await readFile(join(out, 'renewed'), 'utf8')).trim(), [a, wwwA, namesB[0]].join(' '));
    // The copies are the live files of the renewed version; the key 0600.
    const live = join(dir, 'live', a);
    for (const [copy, file] of [['cert.pem', 'cert.pem'], ['key.pem', 'privkey.pem'], ['fullchain.pem', 'fullchain.pem'], ['chain.pem', 'chain.pem']] as const) {
      assert.equal(await readFile(join(out, copy), 'utf8'), await readFile(join(live, file), 'utf8'), copy);
    }
    assert.equal((await stat(join(out, 'key.pem'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(out, 'cert.pem'))).mode & 0o777, 0o644);
    // Ordered at the staging CA (this Pebble), with the webroots per name saved for renew; nothing left in the roots.
    const meta = JSON.parse(await readFile(join(dir, 'renewal', `${a}.json`), 'utf8')) as { server: string; method: Record<string, unknown>; copyTo: Record<string, string> };
    assert.equal(meta.server, suite.pebble.directoryUrl);
    assert.deepEqual(meta.method, { kind: 'webroot', webroot: rootB, webroots: { [a]: rootA, [wwwA]: rootA, [namesB[0] as string]: rootB } });
    assert.equal(meta.copyTo.key, join(out, 'key.pem'));
    assert.deepEqual(await readdir(rootA), []);
    assert.deepEqual(await readdir(rootB), []);
  });

  it('a -d before the only -w takes it, as certbot; several -w with a -d before them is exit 2', async () => {
    const dir = await suite.registeredDir();
    const [before1, after1] = [uniqueName('pre'), uniqueName('post')];
    const ok = await suite.certman(dir, ['--json', 'certonly', '-d', before1, '--webroot', '-d', after1, '-w', rootA]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(json(ok).status, 'issued');
    const bad = await suite.certman(dir, ['certonly', '-d', uniqueName('x'), '-w', rootA, '-d', namesB[1] as string, '-w', rootB]);
    assertOneLineError(bad, 2, /one must come before every -d/);
  });

  it('runs renewal-hooks/{pre,deploy,post}/ executables in name order for renew only, skipping the rest', async () => {
    const dir = await suite.registeredDir();
    const log = join(dir, 'hooks.log');
    const hooks = join(dir, 'renewal-hooks');
    const hook = async (kind: string, name: string, mode = 0o755) => {
      await mkdir(join(hooks, kind), { recursive: true, mode: 0o755 });
      const file = join(hooks, kind, name);
      await writeFile(file, `#!/bin/sh\necho "${kind}/${name} \${RENEWED_DOMAINS:-} \${RENEWED_LINEAGE:+lineage}" >> "${log}"\n`);
      await chmod(file, mode);
    };
    await hook('pre', '20-second');
    await hook('pre', '10-first');
    await hook('pre', 'not-executable', 0o644);
    await hook('pre', 'backup~');
    await mkdir(join(hooks, 'pre', 'a-folder'));
    await hook('deploy', 'reload');
    await hook('post', 'done');
    const name = uniqueName('hooked');
    const issued = await suite.certman(dir, ['certonly', '-d', name, '-w', rootA]);
    assert.equal(issued.code, 0, issued.stderr);
    await assert.rejects(readFile(log, 'utf8'), 'certbot runs the folders for renew only');
    const notDue = await suite.certman(dir, ['renew', '--no-random-sleep']);
    assert.equal(notDue.code, 0, notDue.stderr);
    await assert.rejects(readFile(log, 'utf8'), 'nothing due: no hooks');
    const renewed = await suite.certman(dir, ['-v', 'renew', '--no-random-sleep', '--force-renewal']);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.deepEqual((await readFile(log, 'utf8')).replace(/\n$/, '').split('\n'), ['pre/10-first  ', 'pre/20-second  ', `deploy/reload ${name} lineage`, `post/done ${name} `]);
    assert.match(renewed.stderr, /skipped not-executable \(not executable\)/);
    const off = await suite.certman(dir, ['renew', '--no-random-sleep', '--force', '--no-directory-hooks']);
    assert.equal(off.code, 0, off.stderr);
    assert.equal((await readFile(log, 'utf8')).trim().split('\n').length, 4);
    // certonly renewing a certificate runs the deploy folder too (certbot's renew_cert), and a --deploy-hook naming
    // a folder hook already run does not run it twice.
    const again = await suite.certman(dir, ['certonly', '-d', name, '-w', rootA, '--force-renewal', '--deploy-hook', join(hooks, 'deploy', 'reload')]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n').slice(4), [`deploy/reload ${name} lineage`]);
    // (--deploy-hook true replaces the stored one, which names deploy/reload.)
    const quiet = await suite.certman(dir, ['certonly', '-d', name, '-w', rootA, '--force-renewal', '--no-directory-hooks', '--deploy-hook', 'true']);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal((await readFile(log, 'utf8')).trim().split('\n').length, 5);
    // As root, a hook others can change is refused: the renewal stands, the run reports it (exit 1), nothing of that folder runs.
    await chmod(join(hooks, 'post', 'done'), 0o777);
    const refused = await suite.certman(dir, ['renew', '--no-random-sleep', '--force']);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stdout, /1 renewed/);
    assert.match(refused.stdout, /post hook .*renewal-hooks\/post.* failed/);
    assert.equal((await readFile(log, 'utf8')).split('\n').filter((l) => l.startsWith('post/')).length, 1);
  });

  it("import-certbot carries certbot's renewal-hooks/ over, keeping the execute bit and what certman has", async () => {
    const le = await tempDir('le');
    const dir = await tempDir('cfg');
    await mkdir(join(le, 'renewal'));
    const put = async (root: string, rel: string, mode: number) => {
      await mkdir(join(root, 'renewal-hooks', rel, '..'), { recursive: true });
      await writeFile(join(root, 'renewal-hooks', rel), `#!/bin/sh\n# ${root}\n`);
      await chmod(join(root, 'renewal-hooks', rel), mode);
    };
    await put(le, 'deploy/10-reload', 0o755);
    await put(le, 'deploy/README', 0o644);
    await put(le, 'pre/stop', 0o775);
    await put(dir, 'pre/stop', 0o700);
    const dry = await suite.certman(dir, ['--json', 'import-certbot', '--certbot-dir', le, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    const planned = json<{ hookDirs: { copied: { from: string; to: string }[]; existing: string[] } }>(dry).hookDirs;
    assert.deepEqual(planned.copied, [{ from: join(le, 'renewal-hooks', 'deploy', '10-reload'), to: join(dir, 'renewal-hooks', 'deploy', '10-reload') }]);
    assert.deepEqual(planned.existing, [join(dir, 'renewal-hooks', 'pre', 'stop')]);
    await assert.rejects(stat(join(dir, 'renewal-hooks', 'deploy')), 'a dry run writes nothing');
    const real = await suite.certman(dir, ['import-certbot', '--certbot-dir', le]);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /copied .*10-reload → /);
    assert.match(real.stdout, /kept .*pre\/stop: certman has one of that name/);
    const copied = join(dir, 'renewal-hooks', 'deploy', '10-reload');
    assert.equal((await stat(copied)).mode & 0o777, 0o755);
    assert.equal(await readFile(copied, 'utf8'), `#!/bin/sh\n# ${le}\n`);
    assert.equal(await readFile(join(dir, 'renewal-hooks', 'pre', 'stop'), 'utf8'), `#!/bin/sh\n# ${dir}\n`, 'certman\'s own is kept');
    assert.deepEqual(await readdir(join(dir, 'renewal-hooks', 'deploy')), ['10-reload'], 'not-executable files stay behind');
  });

  it("as root, import-certbot refuses certbot hooks others can change or that are symlinks (exit 1, nothing copied)", async () => {
    const le = await tempDir('le');
    const dir = await tempDir('cfg');
    const user = await tempDir('user');
    await mkdir(join(le, 'renewal'));
    await mkdir(join(le, 'renewal-hooks', 'deploy'), { recursive: true });
    await mkdir(join(le, 'renewal-hooks', 'post'), { recursive: true });
    const groupWritable = join(le, 'renewal-hooks', 'deploy', 'group-writable');
    await writeFile(groupWritable, '#!/bin/sh\n');
    await chmod(groupWritable, 0o775);
    const userFile = join(user, 'hook');
    await writeFile(userFile, '#!/bin/sh\n');
    await chmod(userFile, 0o755);
    await chown(userFile, 65534, 65534);
    await symlink(userFile, join(le, 'renewal-hooks', 'post', 'linked'));
    const run = await suite.certman(dir, ['--json', 'import-certbot', '--certbot-dir', le]);
    assert.equal(run.code, 1, run.stdout);
    const report = json<{ hookDirs: { copied: unknown[]; failed: { from: string; reason: string }[] } }>(run).hookDirs;
    assert.deepEqual(report.copied, []);
    assert.deepEqual(
      report.failed.map((f) => f.from),
      [groupWritable, join(le, 'renewal-hooks', 'post', 'linked')],
    );
    assert.match(report.failed[0]?.reason ?? '', /writable by its group/);
    assert.match(report.failed[1]?.reason ?? '', /symlink/);
    await assert.rejects(stat(join(dir, 'renewal-hooks', 'deploy', 'group-writable')));
    await assert.rejects(stat(join(dir, 'renewal-hooks', 'post', 'linked')));
  });

  it('issue --csr: names from the CSR, certbot\'s numbered files or the paths given, no key and no lineage stored', async () => {
    const dir = await suite.registeredDir();
    const out = await tempDir('csr');
    const [a, wwwA] = [uniqueName('csr'), uniqueName('csrwww')];
    const keyFile = join(out, 'key.pem');
    await execFileP('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', keyFile, '-subj', `/CN=${a}`, '-addext', `subjectAltName=DNS:${a},DNS:${wwwA}`, '-out', join(out, 'req.pem')]);
    await execFileP('openssl', ['req', '-in', join(out, 'req.pem'), '-outform', 'DER', '-out', join(out, 'req.der')]);
    const inOut = (args: string[]) => runCli(args, { cwd: out, env: certmanEnv(suite.pebble, dir) });
    for (const round of [0, 1]) {
      const r = await inOut(['--json', 'certonly', '--csr', 'req.pem', '-w', rootA]);
      assert.equal(r.code, 0, r.stderr);
      const files = json<{ domains: string[]; files: Record<string, string> }>(r);
      assert.deepEqual(files.domains, [a, wwwA]);
      // certbot's defaults: cert.pem and chain.pem (the full chain's default too), numbered so nothing is overwritten.
      assert.deepEqual(files.files, { cert: join(out, `000${round}_cert.pem`), chain: join(out, `000${round * 2}_chain.pem`), fullchain: join(out, `000${round * 2 + 1}_chain.pem`) });
      const cert = new X509Certificate(await readFile(files.files.cert as string));
      assert.ok(cert.checkPrivateKey(createPrivateKey(await readFile(keyFile))), 'issued for the CSR\'s key');
      assert.ok((await readFile(files.files.fullchain as string, 'utf8')).startsWith(cert.toString().trim()));
    }
    const given = { cert: join(out, 'given-cert.pem'), fullchain: join(out, 'given-full.pem'), chain: join(out, 'given-chain.pem') };
    const der = await inOut(['certonly', '--csr', 'req.der', '--webroot', rootA, '-d', wwwA, '-d', a, '--cert-path', given.cert, '--fullchain-path', given.fullchain, '--chain-path', given.chain]);
    assert.equal(der.code, 0, der.stderr);
    for (const file of Object.values(given)) assert.equal((await stat(file)).mode & 0o777, 0o644);
    assert.equal((await readdir(dir)).includes('live'), false, 'no lineage');
    assert.match((await suite.certman(dir, ['certificates'])).stdout, /No certificates/i);

    assertOneLineError(await inOut(['certonly', '--csr', 'req.pem', '-w', rootA, '--cert-path', given.cert]), 2, /exists/);
    assertOneLineError(await inOut(['certonly', '--csr', 'req.pem', '-w', rootA, '--cert-path', 'same.pem', '--fullchain-path', 'same.pem']), 2, /--cert-path and --fullchain-path name the same file/);
    assertOneLineError(await inOut(['certonly', '--csr', 'req.pem', '-w', rootA, '--cert-path', join(dir, 'cert.pem')]), 2, /lies in .*which certman manages itself/);
    const shared = await tempDir('group');
    await chmod(shared, 0o775);
    assertOneLineError(await inOut(['certonly', '--csr', 'req.pem', '-w', rootA, '--cert-path', join(shared, 'cert.pem')]), 2, /certman refuses to write into a folder that other users can change/);
    // Several -w: each CSR name's token in the folder given before it (namesB[1] is served from rootB only).
    const mapped = join(out, 'mapped');
    await execFileP('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(out, 'm.key'), '-subj', `/CN=${a}`, '-addext', `subjectAltName=DNS:${a},DNS:${namesB[1] as string}`, '-out', mapped]);
    const map = await inOut(['certonly', '--csr', mapped, '--webroot', '-w', rootA, '-d', a, '-w', rootB, '-d', namesB[1] as string, '--cert-path', join(out, 'mapped-cert.pem')]);
    assert.equal(map.code, 0, map.stderr);
    await stat(join(out, 'mapped-cert.pem'));
    assertOneLineError(await inOut(['certonly', '--csr', 'req.pem', '-w', rootA, '--key-type', 'rsa']), 2, /--csr and --key-type/);
    assertOneLineError(await inOut(['certonly', '--csr', 'req.pem', '-w', rootA, '--renew-hook', 'true', '--allow-subset-of-names']), 2, /--csr and --renew-hook, --allow-subset-of-names exclude each other/);
    // The DNS check runs on the CSR's names as on any order (flags here; config expectIp/expectCname alike).
    const gated = await inOut(['certonly', '--csr', 'req.pem', '-w', rootA, '--expect-ip', '10.0.0.1']);
    assert.equal(gated.code, 1, gated.stderr);
    assert.match(gated.stderr, /DNS check failed, nothing was sent to the CA: .*resolves to 127\.0\.0\.1, expected 10\.0\.0\.1/);
    assert.match(gated.stderr, /a CSR's names are ordered together/);
    // An IP address in the CSR is ordered as an IP identifier (RFC 8738), like `issue -d 127.0.0.1`.
    await execFileP('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(out, 'ip.key'), '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-out', join(out, 'ip.pem')]);
    const ip = await inOut(['--json', 'certonly', '--csr', 'ip.pem', '-w', rootA, '--cert-path', join(out, 'ip-cert.pem')]);
    assert.equal(ip.code, 0, ip.stderr);
    assert.deepEqual(json<{ domains: string[] }>(ip).domains, ['127.0.0.1']);
    assert.match(new X509Certificate(await readFile(join(out, 'ip-cert.pem'))).subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assertOneLineError(await inOut(['certonly', '--csr', 'req.pem', '-w', rootA, '-d', a]), 2, /differ from the CSR/);
    const tampered = Buffer.from(await readFile(join(out, 'req.der')));
    tampered[tampered.length - 3] = (tampered[tampered.length - 3] ?? 0) ^ 1;
    await writeFile(join(out, 'bad.der'), tampered);
    assertOneLineError(await inOut(['certonly', '--csr', 'bad.der', '-w', rootA]), 2, /signature does not verify/);
    await execFileP('openssl', ['req', '-new', '-newkey', 'ed25519', '-nodes', '-keyout', join(out, 'ed.key'), '-subj', `/CN=${a}`, '-out', join(out, 'ed.pem')]);
    assertOneLineError(await inOut(['certonly', '--csr', 'ed.pem', '-w', rootA]), 2, /its key is ed25519/);
    await writeFile(join(out, 'junk.pem'), 'hello');
    assertOneLineError(await inOut(['certonly', '--csr', 'junk.pem', '-w', rootA]), 2, /not a PKCS#10/);
  });

  it('a copy that fails after a renewal is reported (exit 1); the renewal and its deploy hook stand', async () => {
    const dir = await suite.registeredDir();
    const copies = await tempDir('copies');
    const name = uniqueName('copy');
    const issued = await suite.certman(dir, ['certonly', '-d', name, '-w', rootA, '--key-path', join(copies, 'key.pem')]);
    assert.equal(issued.code, 0, issued.stderr);
    await rm(copies, { recursive: true });
    const marker = join(dir, 'deployed');
    const renewed = await suite.certman(dir, ['renew', '--no-random-sleep', '--force', '--deploy-hook', `touch ${marker}`]);
    assert.equal(renewed.code, 1, renewed.stdout);
    assert.match(renewed.stdout, /1 renewed/);
    assert.match(renewed.stdout, new RegExp(`${name.replaceAll('.', '\\.')}: renewed, but --key-path .* does not exist`));
    await stat(marker);
  });

  it('a symlink at a copy target is replaced, never followed', async () => {
    const dir = await suite.registeredDir();
    const copies = await tempDir('copies');
    const victim = join(await tempDir('victim'), 'passwd');
    await writeFile(victim, 'untouched\n');
    await symlink(victim, join(copies, 'cert.pem'));
    const issued = await suite.certman(dir, ['certonly', '-d', uniqueName('link'), '-w', rootA, '--cert-path', join(copies, 'cert.pem')]);
    assert.equal(issued.code, 0, issued.stderr);
    assert.equal(await readFile(victim, 'utf8'), 'untouched\n');
    assert.ok((await lstat(join(copies, 'cert.pem'))).isFile());
    assert.match(await readFile(join(copies, 'cert.pem'), 'utf8'), /BEGIN CERTIFICATE/);
  });

  it('refuses what certbot refuses, with one line and exit 2', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('bad');
    assertOneLineError(await suite.certman(dir, ['certonly', '-d', name, '-w', rootA, '--test-cert', '--server', 'https://ca.example/directory']), 2, /--test-cert/);
    assertOneLineError(await suite.certman(dir, ['certonly', '-d', name, '-w', rootA, '--deploy-hook', 'true', '--renew-hook', 'false']), 2, /--renew-hook/);
    assertOneLineError(await suite.certman(dir, ['certonly', '-d', name, '-w', rootA, '--keep', '--force-renewal']), 2, /exclude each other/);
    assertOneLineError(await suite.certman(dir, ['certonly', '-d', name, '-w', rootA, '--preferred-challenges', 'dns']), 2, /HTTP-01 challenges only/);
    assertOneLineError(await suite.certman(dir, ['certonly', '-d', name, '-w', rootA, '--cert-path', join(dir, 'missing', 'cert.pem')]), 2, /does not exist/);
    const elsewhere = await tempDir('copies');
    assertOneLineError(await suite.certman(dir, ['certonly', '-d', name, '-w', rootA, '--cert-path', join(elsewhere, 'x.pem'), '--chain-path', join(elsewhere, 'sub', '..', 'x.pem')]), 2, /--cert-path and --chain-path name the same file/);
    assertOneLineError(await suite.certman(dir, ['certonly', '-d', name, '-w', rootA, '--cert-path', join(dir, 'cert.pem')]), 2, /lies in .*which certman manages itself/);
    const store = await tempDir('store');
    assertOneLineError(await suite.certman(dir, ['--store', store, 'certonly', '-d', name, '-w', rootA, '--cert-path', join(elsewhere, 'c.pem')]), 2, /need the store in the config dir/);
    const groupWritable = await tempDir('group');
    await chmod(groupWritable, 0o775);
    assertOneLineError(await suite.certman(dir, ['certonly', '-d', name, '-w', rootA, '--key-path', join(groupWritable, 'key.pem')]), 2, /--key-path folder .* is writable by its group .*refuses to write into a folder/);
    assert.equal((await suite.certman(dir, ['certificates'])).stdout.includes(name), false);
  });
});
