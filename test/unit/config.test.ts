import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DEFAULT_SERVER,
  SERVER_ALIASES,
  checkEmail,
  defaultConfigDir,
  loadConfigFile,
  resolveServer,
  resolveSettings,
  validateFileConfig,
  type LoadedConfig,
  type SettingsInput,
} from '../../src/config/index.js';
import { UsageError } from '../../src/errors.js';
import { usageError } from './assertions.js';

const LE = 'https://acme-v02.api.letsencrypt.org/directory';
const LE_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';
const ZEROSSL = 'https://acme.zerossl.com/v2/DV90';


async function usageErrorAsync(promise: Promise<unknown>, message: RegExp | string): Promise<UsageError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  return usageError(() => {
    throw caught ?? new Error('no error thrown');
  }, message);
}

describe('defaults', () => {
  it('uses /etc/certman as root, whatever the environment', () => {
    assert.equal(defaultConfigDir({ XDG_CONFIG_HOME: '/x', HOME: '/home/u' }, true), '/etc/certman');
  });

  it('uses $XDG_CONFIG_HOME/certman for other users', () => {
    assert.equal(defaultConfigDir({ XDG_CONFIG_HOME: '/home/u/.cfg', HOME: '/home/u' }, false), '/home/u/.cfg/certman');
  });

  it('falls back to ~/.config/certman when XDG_CONFIG_HOME is unset, empty or relative', () => {
    assert.equal(defaultConfigDir({ HOME: '/home/u' }, false), '/home/u/.config/certman');
    assert.equal(defaultConfigDir({ XDG_CONFIG_HOME: '', HOME: '/home/u' }, false), '/home/u/.config/certman');
    assert.equal(defaultConfigDir({ XDG_CONFIG_HOME: 'rel/cfg', HOME: '/home/u' }, false), '/home/u/.config/certman');
  });

  it('knows the three server aliases, Let’s Encrypt production being the default', () => {
    assert.deepEqual({ ...SERVER_ALIASES }, { letsencrypt: LE, 'letsencrypt-staging': LE_STAGING, zerossl: ZEROSSL });
    assert.equal(DEFAULT_SERVER, LE);
  });

  it('resolveServer expands aliases (case-insensitive, trimmed)', () => {
    assert.equal(resolveServer('letsencrypt'), LE);
    assert.equal(resolveServer('letsencrypt-staging'), LE_STAGING);
    assert.equal(resolveServer(' ZeroSSL '), ZEROSSL);
  });

  it('resolveServer accepts absolute http(s) URLs and normalizes them', () => {
    assert.equal(resolveServer('https://localhost:14000/dir'), 'https://localhost:14000/dir');
    assert.equal(resolveServer('http://127.0.0.1:4001/directory'), 'http://127.0.0.1:4001/directory');
    assert.equal(resolveServer('HTTPS://ACME.Example'), 'https://acme.example/');
  });

  it('resolveServer rejects anything else, naming the value and the aliases', () => {
    for (const bad of ['letsencrypt-prod', 'acme.example/directory', 'ftp://acme.example/dir', 'https:acme.example', '', '/directory']) {
      const err = usageError(() => resolveServer(bad), /invalid ACME server/);
      assert.ok(err.message.includes(JSON.stringify(bad)), err.message);
      assert.match(err.message, /letsencrypt, letsencrypt-staging, zerossl/);
    }
  });
});

describe('validateFileConfig', () => {
  const file = '/x/certman.config.json';

  it('accepts every key with a good value', () => {
    const raw = {
      email: 'admin@example.com',
      server: 'letsencrypt-staging',
      caFile: 'ca.pem',
      keyType: 'rsa',
      ellipticCurve: 'p384',
      rsaKeySize: 4096,
      webroot: '/var/www',
      httpPort: 8080,
      httpAddress: '127.0.0.1',
      renewDays: 30,
      leaseSeconds: 120,
      hooks: { pre: 'systemctl stop nginx', post: 'systemctl start nginx', deploy: 'reload' },
    };
    assert.deepEqual(validateFileConfig(raw, file), raw);
  });

  it('treats an empty file as an empty config', () => {
    assert.deepEqual(validateFileConfig(undefined, file), {});
    assert.deepEqual(validateFileConfig(null, file), {});
    assert.deepEqual(validateFileConfig({}, file), {});
  });

  it('ignores keys set to undefined (JS configs)', () => {
    assert.deepEqual(validateFileConfig({ email: undefined, httpPort: 81 }, file), { httpPort: 81 });
  });

  it('rejects an unknown key, naming file and key, with a suggestion', () => {
    const err = usageError(() => validateFileConfig({ emial: 'a@b.c' }, file), `config file ${file}: unknown key "emial"`);
    assert.equal(err.hint, 'did you mean "email"?');
    const far = usageError(() => validateFileConfig({ colour: 'red' }, file), `config file ${file}: unknown key "colour"`);
    assert.match(far.hint ?? '', /known keys: email, server/);
  });

  it('does not let prototype keys through', () => {
    usageError(() => validateFileConfig(JSON.parse('{"__proto__": {"email": "a@b"}}'), file), /unknown key "__proto__"/);
    usageError(() => validateFileConfig({ constructor: 1 }, file), /unknown key "constructor"/);
  });

  it('rejects a top level that is not an object', () => {
    usageError(() => validateFileConfig(['a'], file), `config file ${file}: expected an object of settings, got a list`);
    usageError(() => validateFileConfig('email: x', file), /expected an object of settings, got "email: x"/);
  });

  const cases: [string, unknown, RegExp][] = [
    ['keyType', 'dsa', /"keyType" must be one of ecdsa, rsa \(got "dsa"\)/],
    ['keyType', 'ECDSA', /"keyType" must be one of ecdsa, rsa/],
    ['ellipticCurve', 'p521', /"ellipticCurve" must be one of p256, p384/],
    ['rsaKeySize', 1024, /"rsaKeySize" must be one of 2048, 3072, 4096 \(got 1024\)/],
    ['rsaKeySize', '2048', /"rsaKeySize" must be one of 2048, 3072, 4096 \(got "2048"\)/],
    ['httpPort', 0, /"httpPort" must be an integer from 1 to 65535 \(got 0\)/],
    ['httpPort', 65536, /"httpPort" must be an integer from 1 to 65535/],
    ['httpPort', 80.5, /"httpPort" must be an integer/],
    ['httpPort', '80', /"httpPort" must be an integer/],
    ['renewDays', 0, /"renewDays" must be a positive number \(got 0\)/],
    ['renewDays', -3, /"renewDays" must be a positive number/],
    ['renewDays', '30', /"renewDays" must be a positive number/],
    ['renewDays', Number.POSITIVE_INFINITY, /"renewDays" must be a positive number/],
    ['email', 'admin.example.com', /"email" must be an email address containing @/],
    ['email', 'a b@example.com', /"email" must be an email address/],
    ['email', 'a@example.com,b@example.com', /"email" must be an email address/],
    ['email', 'a@example.com\nb', /"email" must be an email address/],
    ['email', 42, /"email" must be an email address containing @ \(got 42\)/],
    ['email', null, /"email" must be an email address containing @ \(got null\)/],
    ['server', 'lets-encrypt', /"server" is not a valid ACME server: .*letsencrypt, letsencrypt-staging, zerossl \(got "lets-encrypt"\)/],
    ['server', 'ftp://acme.example', /"server" is not a valid ACME server/],
    ['server', 1, /"server" must be a string \(got 1\)/],
    ['caFile', '', /"caFile" must be a non-empty string/],
    ['webroot', ['/var/www'], /"webroot" must be a non-empty string \(got a list\)/],
    ['httpAddress', true, /"httpAddress" must be a non-empty string \(got true\)/],
    ['hooks', 'echo hi', /"hooks" must be an object with pre, post, deploy commands/],
    ['hooks', ['echo'], /"hooks" must be an object/],
    ['hooks', { pre: 1 }, /"hooks.pre" must be a non-empty string \(got 1\)/],
    ['hooks', { deploy: '  ' }, /"hooks.deploy" must be a non-empty string/],
    ['hooks', { renew: 'x' }, /unknown key "hooks.renew"/],
    ['leaseSeconds', 1, /"leaseSeconds" must be a whole number of seconds from 2 to 3600 \(got 1\)/],
    ['leaseSeconds', 3601, /"leaseSeconds" must be a whole number of seconds from 2 to 3600/],
    ['leaseSeconds', 2.5, /"leaseSeconds" must be a whole number of seconds/],
    ['leaseSeconds', '60', /"leaseSeconds" must be a whole number of seconds/],
  ];
  for (const [key, value, message] of cases) {
    it(`rejects ${key} = ${JSON.stringify(value) ?? String(value)}`, () => {
      const err = usageError(() => validateFileConfig({ [key]: value }, file), message);
      assert.ok(err.message.startsWith(`config file ${file}: `), err.message);
    });
  }

  it('keeps the server as written (aliases are expanded by resolveSettings)', () => {
    assert.deepEqual(validateFileConfig({ server: 'zerossl' }, file), { server: 'zerossl' });
  });
});

describe('checkEmail', () => {
  it('returns a plausible address and names the source of a bad one', () => {
    assert.equal(checkEmail('ops@example.com', '--email'), 'ops@example.com');
    for (const bad of ['not-an-email', '@example.com', 'ops@', 'o ps@example.com', 'a@b.c,d@e.f', 'a@b.c\u0000']) {
      usageError(() => checkEmail(bad, '--email'), `--email: invalid email address ${JSON.stringify(bad)}`);
    }
  });
});

describe('loadConfigFile', () => {
  let root: string;
  let n = 0;
  /** A fresh directory holding the given files. */
  async function dir(files: Record<string, string>): Promise<string> {
    const d = join(root, `case${n++}`);
    await mkdir(d, { recursive: true });
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(d, name, '..'), { recursive: true });
      await writeFile(join(d, name), text);
    }
    return d;
  }
  /** Loads from config dir `d` (strict off: unit tests do not depend on who runs them). */
  const load = (configDir: string, explicitPath?: string) =>
    loadConfigFile({ configDir, strict: false, ...(explicitPath === undefined ? {} : { explicitPath }) });

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'certman-config-test-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('returns an empty config without path when no file is found', async () => {
    const d = await dir({});
    assert.deepEqual(await load(d), { config: {} });
  });

  it('reads certman.config.json', async () => {
    const d = await dir({ 'certman.config.json': JSON.stringify({ email: 'a@example.com', httpPort: 8080 }) });
    assert.deepEqual(await load(d), { path: join(d, 'certman.config.json'), config: { email: 'a@example.com', httpPort: 8080 } });
  });

  it('reads YAML: .certmanrc.yaml, .certmanrc.yml, certman.config.yaml and extensionless .certmanrc', async () => {
    const yaml = 'keyType: rsa\nrsaKeySize: 3072\nhooks:\n  deploy: systemctl reload nginx\n';
    const expected = { keyType: 'rsa', rsaKeySize: 3072, hooks: { deploy: 'systemctl reload nginx' } };
    for (const name of ['.certmanrc.yaml', '.certmanrc.yml', 'certman.config.yaml', 'certman.config.yml', '.certmanrc']) {
      const d = await dir({ [name]: yaml });
      assert.deepEqual(await load(d), { path: join(d, name), config: expected }, name);
    }
  });

  it('refuses a code-format file in the config dir, even beside a data file, without running it', async () => {
    for (const name of ['certman.config.mjs', 'certman.config.js', '.certmanrc.cjs', '.certmanrc.ts']) {
      const marker = join(root, `ran-${n}`);
      const d = await dir({
        [name]: `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); module.exports = {};\n`,
        'certman.config.json': '{"httpPort": 81}',
      });
      await usageErrorAsync(load(d), `config file ${join(d, name)} is code, and certman does not run config files`);
      await assert.rejects(stat(marker), { code: 'ENOENT' }, `${name} was run`);
    }
  });

  it('ignores package.json and .config/ in the config dir', async () => {
    const d = await dir({ 'package.json': JSON.stringify({ certman: { emial: 'x@y' } }), '.config/config.json': '{"cosmiconfig": {}}' });
    assert.deepEqual(await load(d), { config: {} });
  });

  it('skips empty files while searching', async () => {
    const d = await dir({ '.certmanrc': '', 'certman.config.json': '{"httpPort": 81}' });
    assert.deepEqual(await load(d), { path: join(d, 'certman.config.json'), config: { httpPort: 81 } });
  });

  it('does not search parent directories', async () => {
    const d = await dir({ 'certman.config.json': '{"httpPort": 81}' });
    await mkdir(join(d, 'sub'));
    assert.deepEqual(await load(join(d, 'sub')), { config: {} });
  });

  it('reports an unknown key with the file name', async () => {
    const d = await dir({ 'certman.config.json': JSON.stringify({ emial: 'a@b.c' }) });
    await usageErrorAsync(load(d), `config file ${join(d, 'certman.config.json')}: unknown key "emial"`);
  });

  it('reports a bad value with the file name and key', async () => {
    const d = await dir({ '.certmanrc.yaml': 'keyType: dsa\n' });
    await usageErrorAsync(load(d), `config file ${join(d, '.certmanrc.yaml')}: "keyType" must be one of ecdsa, rsa (got "dsa")`);
  });

  it('reports a JSON syntax error on one line with the file name', async () => {
    const d = await dir({ 'certman.config.json': '{"email": "a@b.c",\n  "keyType": rsa}\n' });
    const err = await usageErrorAsync(load(d), /invalid JSON/);
    assert.ok(err.message.startsWith(`config file ${join(d, 'certman.config.json')}: invalid JSON`), err.message);
    assert.ok(!err.message.includes('\n'), err.message);
  });

  it('reports a YAML syntax error with file, line and column', async () => {
    const d = await dir({ '.certmanrc.yml': 'email: a@b.c\n  keyType: [\n' });
    await usageErrorAsync(
      load(d),
      new RegExp(`^config file ${join(d, '.certmanrc.yml').replace(/\./g, '\\.')}: invalid YAML at line 2, column \\d+: `),
    );
  });

  it('reads YAML as data: tags that would build functions are errors, $import is an unknown key', async () => {
    const d = await dir({ 'a.yaml': 'email: !!js/function "function () {}"\n', 'b.yaml': '$import: other.yaml\n' });
    await usageErrorAsync(load(d, join(d, 'a.yaml')), /invalid YAML.*unknown tag/);
    await usageErrorAsync(load(d, join(d, 'b.yaml')), /unknown key "\$import"/);
  });

  it('loads an explicit file, relative paths against the working directory', async () => {
    const d = await dir({ 'custom.yaml': 'httpPort: 8443\n' });
    const file = join(d, 'custom.yaml');
    assert.deepEqual(await load('/nonexistent', file), { path: file, config: { httpPort: 8443 } });
    const relative = join('..', '..', '..', '..', '..', '..', '..', '..', file);
    assert.equal((await load(d, relative)).path, file);
  });

  it('an explicit file wins over the config dir', async () => {
    const d = await dir({ 'certman.config.json': '{"httpPort": 81}', 'other.json': '{"httpPort": 82}' });
    assert.deepEqual((await load(d, join(d, 'other.json'))).config, { httpPort: 82 });
  });

  it('an explicit empty file is an empty config', async () => {
    const d = await dir({ 'empty.yaml': '' });
    assert.deepEqual(await load(d, join(d, 'empty.yaml')), { path: join(d, 'empty.yaml'), config: {} });
  });

  it('a missing explicit file is a UsageError', async () => {
    const d = await dir({});
    const missing = join(d, 'nope.json');
    await usageErrorAsync(load(d, missing), `config file ${missing} not found`);
  });

  it('an explicit directory, code file or unsupported extension is a UsageError', async () => {
    const d = await dir({ 'certman.toml': 'x = 1', 'c.mjs': 'export default {}', 'c.ts': 'export default {}' });
    await usageErrorAsync(load(d, d), `config file ${d} is not a regular file`);
    await usageErrorAsync(load(d, join(d, 'certman.toml')), `config file ${join(d, 'certman.toml')}: unsupported file type ".toml"`);
    for (const code of ['c.mjs', 'c.ts']) await usageErrorAsync(load(d, join(d, code)), `config file ${join(d, code)} is code, and certman does not run config files`);
  });
});

describe('resolveSettings', () => {
  const cwd = '/work/site';
  const noFile: LoadedConfig = { config: {} };
  const base = (over: Partial<SettingsInput> = {}): SettingsInput => ({
    flags: {},
    env: { HOME: '/home/u' },
    file: noFile,
    isRoot: false,
    cwd,
    ...over,
  });

  it('uses the built-in defaults when nothing is set', () => {
    assert.deepEqual(resolveSettings(base()), {
      configDir: '/home/u/.config/certman',
      store: '/home/u/.config/certman',
      server: LE,
      keyType: 'ecdsa',
      ellipticCurve: 'p256',
      rsaKeySize: 2048,
      httpPort: 80,
      validationPort: 80,
      hooks: {},
    });
    assert.equal(resolveSettings(base({ isRoot: true })).configDir, '/etc/certman');
  });

  it('takes the store from --store, CERTMAN_STORE or the file (relative to it), as a folder, file: URL or Redis URL; unknown URLs are usage errors that do not echo them', () => {
    const file: LoadedConfig = { path: '/etc/certman/certman.config.json', config: { store: 'shared' } };
    assert.equal(resolveSettings(base({ file })).store, '/etc/certman/shared');
    assert.equal(resolveSettings(base({ file, env: { CERTMAN_STORE: 'st' } })).store, `${cwd}/st`);
    assert.equal(resolveSettings(base({ file, env: { CERTMAN_STORE: 'st' }, flags: { store: 'file:///srv/certman' } })).store, '/srv/certman');
    for (const url of ['redis://u:pw@host:6379/2', 'rediss://host', 'REDIS+SENTINEL://h:1,h:2/m']) assert.equal(resolveSettings(base({ flags: { store: url } })).store, url);
    for (const [value, message] of [
      ['redis://', /^--store: a redis store is a URL like redis:\/\/host:port$/],
      ['s3://bucket/x', /^--store: "s3:" stores are not supported$/],
      ['file://pw@remote/x', /^--store: the store must be a file: URL of a local folder/],
    ] as const) {
      assert.throws(() => resolveSettings(base({ flags: { store: value } })), (err: unknown) => err instanceof UsageError && message.test(err.message) && !err.message.includes('pw'), value);
    }
    // "c:x" is a relative path, not a URL.
    assert.equal(resolveSettings(base({ flags: { store: 'c:x' } })).store, `${cwd}/c:x`);
  });

  it('takes the store prefix and key file from flags, the environment or the file (relative to it), and checks the prefix', () => {
    const file: LoadedConfig = { path: '/etc/certman/certman.config.json', config: { storePrefix: 'site1:', storeKeyFile: 'store.key' } };
    const fromFile = resolveSettings(base({ file }));
    assert.deepEqual([fromFile.storePrefix, fromFile.storeKeyFile], ['site1:', '/etc/certman/store.key']);
    const fromEnv = resolveSettings(base({ file, env: { CERTMAN_STORE_PREFIX: 'env:', CERTMAN_STORE_KEY_FILE: 'k' } }));
    assert.deepEqual([fromEnv.storePrefix, fromEnv.storeKeyFile], ['env:', `${cwd}/k`]);
    const fromFlags = resolveSettings(base({ file, flags: { storePrefix: 'flag:', storeKeyFile: '/run/k' } }));
    assert.deepEqual([fromFlags.storePrefix, fromFlags.storeKeyFile], ['flag:', '/run/k']);
    usageError(() => resolveSettings(base({ flags: { storePrefix: 'a b' } })), /^--store-prefix: a store prefix is 1 to 100 letters/);
  });

  it('takes the lease length from CERTMAN_LEASE_SECONDS over the file, and names the source of a bad one', () => {
    const file: LoadedConfig = { path: '/x/certman.config.json', config: { leaseSeconds: 300 } };
    assert.equal(resolveSettings(base({ file })).leaseSeconds, 300);
    assert.equal(resolveSettings(base({ file, env: { HOME: '/home/u', CERTMAN_LEASE_SECONDS: '5' } })).leaseSeconds, 5);
    usageError(() => resolveSettings(base({ env: { HOME: '/home/u', CERTMAN_LEASE_SECONDS: '1' } })), /CERTMAN_LEASE_SECONDS.*from 2 to 3600, not "1"/);
    usageError(() => resolveSettings(base({ env: { HOME: '/home/u', CERTMAN_LEASE_SECONDS: 'soon' } })), /CERTMAN_LEASE_SECONDS/);
  });

  it('takes everything the config file sets', () => {
    const file: LoadedConfig = {
      path: '/etc/certman/certman.config.yaml',
      config: {
        email: 'ops@example.com',
        server: 'zerossl',
        caFile: 'ca.pem',
        keyType: 'rsa',
        ellipticCurve: 'p384',
        rsaKeySize: 3072,
        webroot: '/var/www/html',
        httpPort: 8080,
        httpAddress: '::1',
        renewDays: 14,
        hooks: { deploy: 'reload' },
      },
    };
    assert.deepEqual(resolveSettings(base({ file })), {
      configDir: '/home/u/.config/certman',
      store: '/home/u/.config/certman',
      server: ZEROSSL,
      caFile: '/etc/certman/ca.pem',
      email: 'ops@example.com',
      keyType: 'rsa',
      ellipticCurve: 'p384',
      rsaKeySize: 3072,
      webroot: '/var/www/html',
      httpPort: 8080,
      httpAddress: '::1',
      renewDays: 14,
      validationPort: 80,
      hooks: { deploy: 'reload' },
      configFile: '/etc/certman/certman.config.yaml',
    });
  });

  // [flag, env, file, expected]: flags > environment > config file > default.
  const serverTable: [string | undefined, string | undefined, string | undefined, string][] = [
    [undefined, undefined, undefined, LE],
    [undefined, undefined, 'zerossl', ZEROSSL],
    [undefined, 'letsencrypt-staging', 'zerossl', LE_STAGING],
    ['https://ca.test/dir', 'letsencrypt-staging', 'zerossl', 'https://ca.test/dir'],
    ['letsencrypt', 'letsencrypt-staging', undefined, LE],
    ['zerossl', undefined, 'letsencrypt-staging', ZEROSSL],
    [undefined, '', 'zerossl', ZEROSSL], // an empty variable counts as unset
  ];
  for (const [flag, env, fileValue, expected] of serverTable) {
    it(`server: flag=${flag} env=${env} file=${fileValue} → ${expected}`, () => {
      const s = resolveSettings(
        base({
          flags: flag === undefined ? {} : { server: flag },
          env: env === undefined ? { HOME: '/home/u' } : { HOME: '/home/u', CERTMAN_SERVER: env },
          file: { path: '/cfg/certman.config.json', config: fileValue === undefined ? {} : { server: fileValue } },
        }),
      );
      assert.equal(s.server, expected);
    });
  }

  it('configDir: flag > CERTMAN_CONFIG_DIR > default, made absolute against cwd', () => {
    const env = { HOME: '/home/u', CERTMAN_CONFIG_DIR: '/srv/certman' };
    assert.equal(resolveSettings(base({ flags: { configDir: 'state' }, env })).configDir, '/work/site/state');
    assert.equal(resolveSettings(base({ env })).configDir, '/srv/certman');
    assert.equal(resolveSettings(base({ env: { HOME: '/home/u', CERTMAN_CONFIG_DIR: 'rel' } })).configDir, '/work/site/rel');
    assert.equal(resolveSettings(base({ env: { HOME: '/home/u', XDG_CONFIG_HOME: '/xdg' } })).configDir, '/xdg/certman');
  });

  it('email: CERTMAN_EMAIL > file', () => {
    const file: LoadedConfig = { path: '/cfg/c.json', config: { email: 'file@example.com' } };
    assert.equal(resolveSettings(base({ file })).email, 'file@example.com');
    assert.equal(resolveSettings(base({ file, env: { CERTMAN_EMAIL: 'env@example.com' } })).email, 'env@example.com');
  });

  it('caFile: flag > env > file; relative to cwd for flag/env, to the file folder for the file', () => {
    const file: LoadedConfig = { path: '/etc/certman/certman.config.json', config: { caFile: 'pebble.minica.pem' } };
    assert.equal(resolveSettings(base({ file })).caFile, '/etc/certman/pebble.minica.pem');
    assert.equal(resolveSettings(base({ file, env: { CERTMAN_CA_FILE: 'env-ca.pem' } })).caFile, '/work/site/env-ca.pem');
    assert.equal(
      resolveSettings(base({ file, env: { CERTMAN_CA_FILE: 'env-ca.pem' }, flags: { caFile: '../flag-ca.pem' } })).caFile,
      '/work/flag-ca.pem',
    );
    assert.equal(resolveSettings(base({ file, flags: { caFile: '/abs/ca.pem' } })).caFile, '/abs/ca.pem');
    assert.equal(resolveSettings(base({ file: { config: { caFile: 'ca.pem' } } })).caFile, '/work/site/ca.pem');
  });

  it('defaults cwd to process.cwd()', () => {
    const s = resolveSettings({ flags: { caFile: 'x.pem' }, env: {}, file: noFile, isRoot: true });
    assert.equal(s.caFile, join(process.cwd(), 'x.pem'));
  });

  it('names the source of a bad server or email', () => {
    usageError(() => resolveSettings(base({ env: { CERTMAN_SERVER: 'nope' } })), /^CERTMAN_SERVER: invalid ACME server "nope"/);
    usageError(() => resolveSettings(base({ flags: { server: 'nope' } })), /^--server: invalid ACME server "nope"/);
    usageError(
      () => resolveSettings(base({ file: { path: '/c.json', config: { server: 'nope' } } })),
      /^config file \/c\.json: "server": invalid ACME server "nope"/,
    );
    usageError(() => resolveSettings(base({ env: { CERTMAN_EMAIL: 'nobody' } })), /^CERTMAN_EMAIL: invalid email address "nobody"/);
  });

  it('does not share the hooks object with the file config', () => {
    const file: LoadedConfig = { config: { hooks: { pre: 'a' } } };
    const s = resolveSettings(base({ file }));
    s.hooks.pre = 'b';
    assert.equal(file.config.hooks?.pre, 'a');
  });
});
