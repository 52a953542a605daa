// import-certbot against real lineages made by Debian's certbot against the suite's Pebble: a standalone
// RSA lineage, a webroot lineage (through nginx) and one more standalone lineage for --keep-paths; then
// certman renews them with certbot's (RSA) account, its method and its hooks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { cp, lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot, startNginx, tempDir, uniqueName, which, type NginxServer } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const execFileP = promisify(execFile);
const suite = pebbleSuite();

interface LineageJson {
  name: string;
  status: string;
  reason?: string;
  domains?: string[];
  method?: Record<string, unknown>;
  key?: Record<string, unknown>;
  pathsToChange?: { from: string; to: string }[];
  relinked?: { from: string; to: string }[];
  renewalConfMovedTo?: string;
  warnings: string[];
}
interface ImportJson {
  dryRun: boolean;
  lineages: LineageJson[];
  accounts: { server: string; status: string; url?: string; certbotId?: string; detail?: string }[];
  notes: string[];
}

const PEMS = ['cert', 'chain', 'fullchain', 'privkey'] as const;

let tmp: string;
let le: string;
let webroot: string;
let hookLog: string;
let nginx: NginxServer | undefined;
/** Standalone RSA lineage with a deploy hook; webroot lineage (two names, --reuse-key); standalone lineage for --keep-paths. */
let standalone: string;
let web: string;
let kept: string;
/** A copy of the webroot lineage whose conf says authenticator = nginx. */
const NGINX_LINEAGE = 'nginx-site';
/** certman's config dir for the main import. */
let cfg: string;
let certbotAccountUrl: string;
let certbotAccountJwk: { n?: string };

async function certbot(args: string[]): Promise<void> {
  const common = [
    'certonly',
    '--non-interactive',
    '--agree-tos',
    '-m',
    'a@example.com',
    '--no-eff-email',
    '--server',
    suite.pebble.directoryUrl,
    '--config-dir',
    le,
    '--work-dir',
    join(tmp, 'work'),
    '--logs-dir',
    join(tmp, 'logs'),
  ];
  try {
    // certbot talks to Pebble through python-requests, which trusts REQUESTS_CA_BUNDLE.
    await execFileP('certbot', [...common, ...args], { env: { ...process.env, REQUESTS_CA_BUNDLE: suite.pebble.caFile }, timeout: 120_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const log = await readFile(join(tmp, 'logs', 'letsencrypt.log'), 'utf8').catch(() => '');
    throw new Error(`certbot ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n--- log tail ---\n${log.split('\n').slice(-40).join('\n')}`);
  }
}

function standaloneFlags(): string[] {
  return ['--standalone', '--http-01-port', String(suite.pebble.httpPort), '--http-01-address', '127.0.0.1'];
}

/** Copies lineage `from` of certbot's dir to `to`, as certbot would have laid it out, with `edit` applied to its conf. */
async function copyLineage(from: string, to: string, edit: (conf: string) => string): Promise<void> {
  await cp(join(le, 'archive', from), join(le, 'archive', to), { recursive: true });
  await mkdir(join(le, 'live', to));
  for (const entry of await readdir(join(le, 'live', from))) {
    const file = join(le, 'live', from, entry);
    if ((await lstat(file)).isSymbolicLink()) await symlink((await readlink(file)).replace(`/${from}/`, `/${to}/`), join(le, 'live', to, entry));
  }
  const conf = (await readFile(join(le, 'renewal', `${from}.conf`), 'utf8')).replaceAll(`/${from}/`, `/${to}/`).replaceAll(`/${from}\n`, `/${to}\n`);
  await writeFile(join(le, 'renewal', `${to}.conf`), edit(conf));
}

/** Every path under dir with its link target or size: to see that nothing changed. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { recursive: true })).map(String).sort()) {
    const file = join(dir, entry);
    const s = await lstat(file);
    out.push(`${entry} ${s.isSymbolicLink() ? `-> ${await readlink(file)}` : s.isDirectory() ? 'dir' : `${s.size} ${s.mtimeMs}`}`);
  }
  return out;
}

async function serialOf(file: string): Promise<string> {
  return new X509Certificate(await readFile(file)).serialNumber.toLowerCase().replace(/^0+/, '');
}

function lineage(report: ImportJson, name: string): LineageJson {
  const found = report.lineages.find((l) => l.name === name);
  assert.ok(found, `no lineage ${name} in ${JSON.stringify(report.lineages.map((l) => l.name))}`);
  return found;
}

describe('import-certbot with lineages made by certbot', () => {
  before(async () => {
    if (which('certbot') === undefined) {
      // As root this installs Debian's certbot; otherwise it fails printing the apt-get line to run.
      await execFileP('bash', [join(repoRoot, 'scripts', 'ensure-deps.sh'), 'certbot'], { timeout: 600_000 });
    }
    tmp = await tempDir('certbot');
    le = join(tmp, 'le');
    webroot = await tempDir('webroot');
    hookLog = join(tmp, 'deploy-hook.log');
    cfg = join(tmp, 'certman');
    standalone = uniqueName('cb-standalone');
    web = uniqueName('cb-webroot');
    kept = uniqueName('cb-kept');

    await certbot([...standaloneFlags(), '--key-type', 'rsa', '-d', standalone, '--deploy-hook', `echo "$RENEWED_LINEAGE" >> ${hookLog}`]);
    await certbot([...standaloneFlags(), '-d', kept]);
    nginx = await startNginx({ port: suite.pebble.httpPort, root: webroot });
    await certbot(['--webroot', '-w', webroot, '-d', web, '-d', `www.${web}`, '--reuse-key']);
    await copyLineage(web, NGINX_LINEAGE, (conf) =>
      conf
        .replace('authenticator = webroot', 'authenticator = nginx\ninstaller = nginx')
        .replace(/^webroot_path = .*\n/m, '')
        .replace(/\[\[webroot_map\]\][\s\S]*$/, ''),
    );

    const accountDirs = (await readdir(join(le, 'accounts'), { recursive: true })).map(String).filter((p) => p.endsWith('regr.json'));
    assert.equal(accountDirs.length, 1, 'certbot made one account');
    const accountDir = join(le, 'accounts', accountDirs[0] ?? '', '..');
    certbotAccountUrl = (JSON.parse(await readFile(join(accountDir, 'regr.json'), 'utf8')) as { uri: string }).uri;
    certbotAccountJwk = JSON.parse(await readFile(join(accountDir, 'private_key.json'), 'utf8')) as { n?: string };
  });
  after(async () => {
    await nginx?.stop();
  });

  it('--dry-run reports every lineage and writes nothing, neither in certbot\'s dir nor in certman\'s', async () => {
    const before = await snapshot(le);
    const r = await suite.certman(cfg, ['--json', 'import-certbot', '--certbot-dir', le, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const report = json<ImportJson>(r);
    assert.equal(report.dryRun, true);
    for (const name of [standalone, web, kept]) assert.equal(lineage(report, name).status, 'would-import', name);
    const ng = lineage(report, NGINX_LINEAGE);
    assert.equal(ng.status, 'skipped');
    assert.match(ng.reason ?? '', /nginx plugin .*--webroot <dir>/);
    assert.deepEqual(
      report.accounts.map((a) => [a.status, a.url]),
      [['would-import', certbotAccountUrl]],
    );
    await assert.rejects(stat(cfg), /ENOENT/, 'the config dir is not even created');
    assert.deepEqual(await snapshot(le), before);

    const human = await suite.certman(cfg, ['import-certbot', '--certbot-dir', le, '--dry-run']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /Dry run: nothing is written/);
    assert.match(human.stdout, new RegExp(`would import +${standalone.replaceAll('.', '\\.')} \\(${standalone.replaceAll('.', '\\.')}; standalone`));
    assert.match(human.stdout, /3 to import, 1 skipped, 0 failed/);
  });

  it('imports certificates, keys, settings, hooks and the account', async () => {
    const r = await suite.certman(cfg, ['--json', 'import-certbot', '--certbot-dir', le]);
    assert.equal(r.code, 0, r.stderr);
    const report = json<ImportJson>(r);

    const s = lineage(report, standalone);
    assert.equal(s.status, 'imported');
    assert.deepEqual(s.method, { kind: 'standalone', port: suite.pebble.httpPort, address: '127.0.0.1' });
    assert.deepEqual(s.key, { type: 'rsa', bits: 2048 });
    assert.deepEqual(s.pathsToChange?.[0], { from: join(le, 'live', standalone, 'fullchain.pem'), to: join(cfg, 'live', standalone, 'fullchain.pem') });
    assert.equal(s.pathsToChange?.length, 4);
    const w = lineage(report, web);
    assert.equal(w.status, 'imported');
    assert.deepEqual(w.domains, [web, `www.${web}`]);
    assert.deepEqual(w.method, { kind: 'webroot', webroot });
    assert.deepEqual(w.key, { type: 'ecdsa', curve: 'p256' });
    assert.equal(lineage(report, NGINX_LINEAGE).status, 'skipped');
    assert.deepEqual(
      report.accounts.map((a) => [a.status, a.url]),
      [['imported', certbotAccountUrl]],
    );
    assert.ok(report.notes.some((n) => /certbot delete --cert-name/.test(n)));

    // The same files, in certman's layout.
    for (const name of [standalone, web, kept]) {
      for (const kind of PEMS) {
        assert.equal(await readFile(join(cfg, 'live', name, `${kind}.pem`), 'utf8'), await readFile(join(le, 'live', name, `${kind}.pem`), 'utf8'), `${name} ${kind}`);
        assert.equal(await readlink(join(cfg, 'live', name, `${kind}.pem`)), `../../archive/${name}/${kind}1.pem`);
      }
    }
    const meta = JSON.parse(await readFile(join(cfg, 'renewal', `${standalone}.json`), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(meta.hooks, { deploy: `echo "$RENEWED_LINEAGE" >> ${hookLog}` });
    assert.equal(meta.server, suite.pebble.directoryUrl);
    assert.equal(meta.accountUrl, certbotAccountUrl);
    assert.equal(meta.reuseKey, false);
    const webMeta = JSON.parse(await readFile(join(cfg, 'renewal', `${web}.json`), 'utf8')) as Record<string, unknown>;
    assert.equal(webMeta.reuseKey, true);

    // certbot's RSA account key, as PEM, in certman's account store.
    const accountFiles = (await readdir(join(cfg, 'accounts'), { recursive: true })).map(String);
    const keyFile = accountFiles.find((f) => f.endsWith('private_key.pem'));
    assert.ok(keyFile !== undefined);
    assert.equal(accountFiles.filter((f) => f.endsWith('account.json')).length, 1);
    const key = createPrivateKey(await readFile(join(cfg, 'accounts', keyFile), 'utf8'));
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(createPublicKey(key).export({ format: 'jwk' }).n, certbotAccountJwk.n);
    assert.equal((await stat(join(cfg, 'accounts', keyFile))).mode & 0o777, 0o600);
    const account = JSON.parse(await readFile(join(cfg, 'accounts', keyFile, '..', 'account.json'), 'utf8')) as { url: string };
    assert.equal(account.url, certbotAccountUrl);

    const list = json<{ name: string; keyType: string; status: string }[]>(await suite.certman(cfg, ['--json', 'certificates']));
    assert.deepEqual(
      list.map((row) => [row.name, row.keyType, row.status]).sort(),
      [
        [standalone, 'RSA 2048', 'valid'],
        [web, 'ECDSA P-256', 'valid'],
        [kept, 'ECDSA P-256', 'valid'],
      ].sort(),
    );
  });

  it('a second import skips what certman already has', async () => {
    const before = await snapshot(cfg);
    const r = await suite.certman(cfg, ['--json', 'import-certbot', '--certbot-dir', le]);
    assert.equal(r.code, 0, r.stderr);
    const report = json<ImportJson>(r);
    for (const name of [standalone, web, kept]) {
      const l = lineage(report, name);
      assert.equal(l.status, 'skipped');
      assert.match(l.reason ?? '', /already has a certificate named .*--force/);
    }
    assert.deepEqual(await snapshot(cfg), before);
  });

  it('certman renew renews them with certbot\'s account, method, key choice and hooks', async () => {
    // Webroot lineage, while nginx serves the webroot: a new validation, the same key (reuse_key).
    const webKey = await readFile(join(cfg, 'live', web, 'privkey.pem'), 'utf8');
    const webSerial = await serialOf(join(cfg, 'live', web, 'cert.pem'));
    const validations = suite.pebble.validationsFor(web);
    const renewWeb = async () => {
      const w = await suite.certman(cfg, ['--json', 'renew', '--force', '--no-random-sleep', '--cert-name', web]);
      assert.equal(w.code, 0, w.stderr);
      assert.equal(json<{ summary: { renewed: number } }>(w).summary.renewed, 1);
    };
    await renewWeb();
    // Pebble reuses certbot's valid authorization 1% of the time whatever PEBBLE_AUTHZREUSE says
    // (see Suite.freshAccount); this test keeps certbot's account, so it renews once more then.
    if (suite.pebble.validationsFor(web) === validations) await renewWeb();
    assert.ok(suite.pebble.validationsFor(web) > validations, 'validated again through the webroot');
    assert.notEqual(await serialOf(join(cfg, 'live', web, 'cert.pem')), webSerial);
    assert.equal(await readFile(join(cfg, 'live', web, 'privkey.pem'), 'utf8'), webKey);
    await nginx?.stop();
    nginx = undefined;

    // Standalone lineage on certbot's port and address; its deploy hook runs with certman's live folder.
    const serial = await serialOf(join(cfg, 'live', standalone, 'cert.pem'));
    const s = await suite.certman(cfg, ['renew', '--force', '--no-random-sleep', '--cert-name', standalone]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /1 renewed/);
    assert.notEqual(await serialOf(join(cfg, 'live', standalone, 'cert.pem')), serial);
    assert.equal(createPrivateKey(await readFile(join(cfg, 'live', standalone, 'privkey.pem'))).asymmetricKeyDetails?.modulusLength, 2048);
    const hookLines = (await readFile(hookLog, 'utf8')).trim().split('\n');
    assert.equal(hookLines.at(-1), join(cfg, 'live', standalone));

    // Still certbot's account: nothing was registered.
    const accounts = (await readdir(join(cfg, 'accounts'), { recursive: true })).map(String).filter((f) => f.endsWith('account.json'));
    assert.equal(accounts.length, 1);
    const account = JSON.parse(await readFile(join(cfg, 'accounts', accounts[0] ?? ''), 'utf8')) as { url: string };
    assert.equal(account.url, certbotAccountUrl);
  });

  it('imports a lineage of an unsupported plugin with --webroot, and says what else it did', async () => {
    const r = await suite.certman(cfg, ['--json', 'import-certbot', '--certbot-dir', le, '--cert-name', NGINX_LINEAGE, '--webroot', webroot]);
    assert.equal(r.code, 0, r.stderr);
    const report = json<ImportJson>(r);
    const ng = lineage(report, NGINX_LINEAGE);
    assert.equal(ng.status, 'imported');
    assert.deepEqual(ng.method, { kind: 'webroot', webroot });
    assert.ok(ng.warnings.some((w) => /nginx plugin.*renewing with webroot/.test(w)), ng.warnings.join('\n'));
    assert.ok(ng.warnings.some((w) => /nginx installer reloaded nginx.*--deploy-hook/.test(w)), ng.warnings.join('\n'));
    assert.deepEqual(
      report.accounts.map((a) => a.status),
      ['present'],
    );

    const unknown = await suite.certman(cfg, ['import-certbot', '--certbot-dir', le, '--cert-name', 'no-such-lineage']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no certbot lineage named "no-such-lineage"/);
    const nowhere = await suite.certman(cfg, ['import-certbot', '--certbot-dir', join(tmp, 'nothing')]);
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.stderr, /no certbot configuration/);
  });

  it("carries certbot's preferred_chain and its profile (required_profile, else preferred_profile, with a warning)", async () => {
    const copy = join(tmp, 'le-chain-profile');
    await cp(le, copy, { recursive: true, verbatimSymlinks: true });
    const conf = join(copy, 'renewal', `${kept}.conf`);
    const params = '[renewalparams]\npreferred_chain = Pebble Root CA 0a1b2c\npreferred_profile = shortlived\n';
    await writeFile(conf, (await readFile(conf, 'utf8')).replace('[renewalparams]\n', params));
    const fresh = join(tmp, 'certman-chain-profile');
    const r = await suite.certman(fresh, ['--json', 'import-certbot', '--certbot-dir', copy, '--cert-name', kept]);
    assert.equal(r.code, 0, r.stderr);
    const imported = lineage(json<ImportJson>(r), kept);
    assert.equal(imported.status, 'imported');
    assert.ok(imported.warnings.some((w) => /preferred_profile = shortlived is renewed as a required profile/.test(w)), imported.warnings.join('\n'));
    assert.ok(!imported.warnings.some((w) => /preferred_chain/.test(w)), imported.warnings.join('\n'));
    const meta = JSON.parse(await readFile(join(fresh, 'renewal', `${kept}.json`), 'utf8')) as Record<string, unknown>;
    assert.equal(meta.preferredChain, 'Pebble Root CA 0a1b2c');
    assert.equal(meta.profile, 'shortlived');

    await writeFile(conf, (await readFile(conf, 'utf8')).replace('preferred_profile = shortlived\n', 'required_profile = bad profile!\n'));
    const bad = await suite.certman(join(tmp, 'certman-bad-profile'), ['--json', 'import-certbot', '--certbot-dir', copy, '--cert-name', kept, '--dry-run']);
    assert.equal(bad.code, 0, bad.stderr);
    assert.ok(lineage(json<ImportJson>(bad), kept).warnings.some((w) => /required_profile = bad profile! is not a profile name/.test(w)));
  });

  it('says when certbot\'s account is missing, and what to run', async () => {
    const copy = join(tmp, 'le-no-accounts');
    await cp(le, copy, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.startsWith(join(le, 'accounts')) });
    const fresh = join(tmp, 'certman-no-account');
    const r = await suite.certman(fresh, ['--json', 'import-certbot', '--certbot-dir', copy, '--cert-name', standalone, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const [account] = json<ImportJson>(r).accounts;
    assert.equal(account?.status, 'missing');
    assert.match(account?.detail ?? '', /certman register --server .* --agree-tos/);
  });

  it('replaces a deactivated certman account with certbot\'s', async () => {
    const fresh = join(tmp, 'certman-deactivated');
    assert.equal((await suite.certman(fresh, ['register', '--no-email', '--agree-tos'])).code, 0);
    assert.equal((await suite.certman(fresh, ['account', 'deactivate', '--yes'])).code, 0);
    const r = await suite.certman(fresh, ['--json', 'import-certbot', '--certbot-dir', le, '--cert-name', standalone]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      json<ImportJson>(r).accounts.map((a) => [a.status, a.url]),
      [['imported', certbotAccountUrl]],
    );
    const stored = json<{ account: { url: string; deactivatedAt?: string } }>(await suite.certman(fresh, ['--json', 'account'])).account;
    assert.equal(stored.url, certbotAccountUrl);
    assert.equal(stored.deactivatedAt, undefined);
  });

  it("does not bring back certbot's account when that is the one deactivated in certman", async () => {
    const fresh = join(tmp, 'certman-same-deactivated');
    const first = await suite.certman(fresh, ['--json', 'import-certbot', '--certbot-dir', le, '--cert-name', standalone]);
    assert.equal(first.code, 0, first.stderr);
    // As `account deactivate` leaves it (done here in the file: deactivating at Pebble would end certbot's account
    // for the other tests).
    const found = (await readdir(join(fresh, 'accounts'), { recursive: true })).find((f) => f.endsWith('account.json'));
    const file = join(fresh, 'accounts', found ?? 'account.json');
    await writeFile(file, JSON.stringify({ ...(JSON.parse(await readFile(file, 'utf8')) as object), deactivatedAt: new Date().toISOString() }));
    const r = await suite.certman(fresh, ['--json', 'import-certbot', '--certbot-dir', le, '--cert-name', standalone, '--dry-run', '--force']);
    assert.equal(r.code, 0, r.stderr);
    const [account] = json<ImportJson>(r).accounts;
    assert.equal(account?.status, 'missing');
    assert.match(account?.detail ?? '', /was deactivated .*certman register --server/);
  });

  it('--keep-paths keeps certbot\'s paths working: its links point at certman\'s files, and certbot stops renewing', async () => {
    const cfg2 = join(tmp, 'certman-kept');
    const r = await suite.certman(cfg2, ['--json', 'import-certbot', '--certbot-dir', le, '--cert-name', kept, '--keep-paths']);
    assert.equal(r.code, 0, r.stderr);
    const l = lineage(json<ImportJson>(r), kept);
    assert.equal(l.status, 'imported');
    assert.equal(l.pathsToChange, undefined);
    assert.equal(l.relinked?.length, 4);
    for (const kind of PEMS) assert.equal(await readlink(join(le, 'live', kept, `${kind}.pem`)), join(cfg2, 'live', kept, `${kind}.pem`));
    await assert.rejects(stat(join(le, 'renewal', `${kept}.conf`)), /ENOENT/);
    assert.equal(l.renewalConfMovedTo, join(le, 'renewal', `${kept}.conf.certman-imported`));
    await stat(join(le, 'renewal', `${kept}.conf.certman-imported`));

    const renewed = await suite.certman(cfg2, ['--json', 'renew', '--force', '--no-random-sleep']);
    assert.equal(renewed.code, 0, renewed.stderr);
    const serial = json<{ results: { serial: string }[] }>(renewed).results[0]?.serial;
    assert.equal(await serialOf(join(le, 'live', kept, 'cert.pem')), serial, 'the renewed certificate is there under certbot\'s path');
    assert.equal(await serialOf(join(le, 'live', kept, 'fullchain.pem')), serial);
  });
});
