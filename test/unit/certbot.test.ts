import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  certbotAccountsDir,
  certbotKeySpec,
  certbotServer,
  confBool,
  ConfSyntaxError,
  findCertbotAccount,
  jwkToPem,
  methodFromConf,
  parseConfigObj,
  parseRenewalConf,
  readCertbotAccount,
  renewBeforeExpiryDays,
} from '../../src/certbot/index.js';
import { jwkThumbprint } from '../../src/crypto/jwk.js';

/** What certbot 2.1 writes for `certonly --webroot -w /var/www/example -d example.com -d www.example.com`. */
const WEBROOT_CONF = `# renew_before_expiry = 30 days
version = 2.1.0
archive_dir = /etc/letsencrypt/archive/example.com
cert = /etc/letsencrypt/live/example.com/cert.pem
privkey = /etc/letsencrypt/live/example.com/privkey.pem
chain = /etc/letsencrypt/live/example.com/chain.pem
fullchain = /etc/letsencrypt/live/example.com/fullchain.pem

# Options used in the renewal process
[renewalparams]
account = a322db81576ac18cdf06f2442e842ec8
post_hook = systemctl reload nginx
server = https://acme-v02.api.letsencrypt.org/directory
authenticator = webroot
webroot_path = /var/www/example,
key_type = ecdsa
reuse_key = True
[[webroot_map]]
example.com = /var/www/example
www.example.com = /var/www/example
`;

describe('parseConfigObj', () => {
  it('reads top-level keys, sections and nested [[sections]]', () => {
    const root = parseConfigObj(WEBROOT_CONF);
    assert.equal(root.values.get('version'), '2.1.0');
    assert.equal(root.values.get('cert'), '/etc/letsencrypt/live/example.com/cert.pem');
    const params = root.sections.get('renewalparams');
    assert.ok(params);
    assert.equal(params.values.get('authenticator'), 'webroot');
    assert.equal(params.values.get('post_hook'), 'systemctl reload nginx');
    const map = params.sections.get('webroot_map');
    assert.ok(map);
    assert.deepEqual([...map.values], [
      ['example.com', '/var/www/example'],
      ['www.example.com', '/var/www/example'],
    ]);
    assert.equal(root.sections.get('webroot_map'), undefined, 'nested under [renewalparams], not at the top');
  });

  it('skips comments, including after values, and keeps # inside quotes', () => {
    const root = parseConfigObj(`# a comment\n   # indented comment\nkey = value   # trailing\nquoted = "echo #1" # c\nsingle = 'a # b'\n`);
    assert.deepEqual([...root.values], [
      ['key', 'value'],
      ['quoted', 'echo #1'],
      ['single', 'a # b'],
    ]);
  });

  it('makes lists of comma-separated values: trailing comma, lone comma, quoted items', () => {
    const root = parseConfigObj(`one = /var/www,\ntwo = /a, /b\nempty = ,\nquoted = "a, b", 'c'\nscalar = no comma here\nblank =\n`);
    assert.deepEqual(root.values.get('one'), ['/var/www']);
    assert.deepEqual(root.values.get('two'), ['/a', '/b']);
    assert.deepEqual(root.values.get('empty'), []);
    assert.deepEqual(root.values.get('quoted'), ['a, b', 'c']);
    assert.equal(root.values.get('scalar'), 'no comma here');
    assert.equal(root.values.get('blank'), '');
  });

  it('reads triple-quoted values, on one line or several', () => {
    const root = parseConfigObj(`a = '''it's "both"'''\nb = """line 1\nline 2""" # done\nc = x\n`);
    assert.equal(root.values.get('a'), `it's "both"`);
    assert.equal(root.values.get('b'), 'line 1\nline 2');
    assert.equal(root.values.get('c'), 'x');
  });

  it('accepts quoted keys and section names, indentation and CRLF', () => {
    const root = parseConfigObj(`[ "my section" ]\r\n    "a key" = 1\r\n  [[ sub ]]\r\n  k = v\r\n[other]\r\n`);
    const section = root.sections.get('my section');
    assert.equal(section?.values.get('a key'), '1');
    assert.equal(section?.sections.get('sub')?.values.get('k'), 'v');
    assert.ok(root.sections.has('other'));
  });

  it('rejects what configobj rejects, naming the line', () => {
    const cases: [string, RegExp][] = [
      ['a = 1\njust text\n', /line 2: expected "key = value"/],
      ['a = 1\na = 2\n', /line 2: duplicate key "a"/],
      ['[s]\n[[[deep]]]\n', /line 2: .*nested deeper/],
      ['[s]]\n', /line 1: brackets do not match/],
      ['a = "open\n', /line 1: unbalanced quotes/],
      ['a = x,,y\n', /line 1: empty list item/],
      ["a = '''never closed\nb = 1\n", /line 1: unterminated/],
      ['a = "x" y\n', /line 1: unexpected "y"/],
    ];
    for (const [text, pattern] of cases) {
      assert.throws(() => parseConfigObj(text, 'x.conf'), (err: unknown) => err instanceof ConfSyntaxError && pattern.test(err.message) && err.message.startsWith('x.conf, line'), text);
    }
  });

  it('reads booleans the way configobj spells them', () => {
    for (const v of ['True', 'true', 'yes', 'on', '1']) assert.equal(confBool(v), true, v);
    for (const v of ['False', 'false', 'no', 'off', '0']) assert.equal(confBool(v), false, v);
    assert.equal(confBool('maybe'), undefined);
    assert.equal(confBool(['True']), undefined);
    assert.equal(confBool(undefined), undefined);
  });
});

describe('parseRenewalConf', () => {
  it('reads a webroot lineage', () => {
    const conf = parseRenewalConf(WEBROOT_CONF);
    assert.equal(conf.version, '2.1.0');
    assert.equal(conf.archiveDir, '/etc/letsencrypt/archive/example.com');
    assert.equal(conf.files.fullchain, '/etc/letsencrypt/live/example.com/fullchain.pem');
    assert.equal(conf.authenticator, 'webroot');
    assert.deepEqual(conf.webrootPaths, ['/var/www/example']);
    assert.deepEqual([...conf.webrootMap], [
      ['example.com', '/var/www/example'],
      ['www.example.com', '/var/www/example'],
    ]);
    assert.equal(conf.account, 'a322db81576ac18cdf06f2442e842ec8');
    assert.equal(conf.keyType, 'ecdsa');
    assert.equal(conf.reuseKey, true);
    assert.equal(conf.postHook, 'systemctl reload nginx');
    assert.equal(conf.preHook, undefined);
    assert.equal(conf.renewBeforeExpiry, undefined, 'commented out');
  });

  it('reads a standalone lineage; renew_hook is the deploy hook; None is no value', () => {
    const conf = parseRenewalConf(`renew_before_expiry = 2 weeks
[renewalparams]
authenticator = standalone
http01_port = 8080
http01_address = 127.0.0.1
key_type = rsa
rsa_key_size = 4096
renew_hook = "cp $RENEWED_LINEAGE/fullchain.pem /srv, /tmp"
installer = None
reuse_key = False
`);
    assert.equal(conf.http01Port, 8080);
    assert.equal(conf.http01Address, '127.0.0.1');
    assert.equal(conf.deployHook, 'cp $RENEWED_LINEAGE/fullchain.pem /srv, /tmp');
    assert.equal(conf.installer, undefined);
    assert.equal(conf.reuseKey, false);
    assert.deepEqual(certbotKeySpec(conf), { type: 'rsa', bits: 4096 });
    assert.equal(renewBeforeExpiryDays(conf.renewBeforeExpiry ?? ''), 14);
  });

  it("reads certbot 4's profiles; webroot_map keys in certman's spelling (IPv6 compressed, lower case)", () => {
    const conf = parseRenewalConf(
      '[renewalparams]\nrequired_profile = tlsserver\npreferred_profile = shortlived\n[[webroot_map]]\n2001:DB8:0:0::1 = /srv/a\nWWW.Example.com = /srv/b\n',
    );
    assert.equal(conf.requiredProfile, 'tlsserver');
    assert.equal(conf.preferredProfile, 'shortlived');
    assert.deepEqual([...conf.webrootMap], [
      ['2001:db8::1', '/srv/a'],
      ['www.example.com', '/srv/b'],
    ]);
  });

  it('prefers deploy_hook over renew_hook, and joins an unquoted comma back', () => {
    const conf = parseRenewalConf('[renewalparams]\ndeploy_hook = a\nrenew_hook = b\npre_hook = echo a, b\n');
    assert.equal(conf.deployHook, 'a');
    assert.equal(conf.preHook, 'echo a, b');
  });

  it('maps servers: none → Let\'s Encrypt, ACME v1 → v2', () => {
    assert.equal(certbotServer({}), 'https://acme-v02.api.letsencrypt.org/directory');
    assert.equal(certbotServer({ server: 'https://acme-v01.api.letsencrypt.org/directory' }), 'https://acme-v02.api.letsencrypt.org/directory');
    assert.equal(certbotServer({ server: 'https://acme-staging.api.letsencrypt.org/directory' }), 'https://acme-staging-v02.api.letsencrypt.org/directory');
    assert.equal(certbotServer({ server: 'https://ca.example/dir' }), 'https://ca.example/dir');
  });

  it('reads renew_before_expiry in days or weeks only', () => {
    assert.equal(renewBeforeExpiryDays('30 days'), 30);
    assert.equal(renewBeforeExpiryDays('1 week'), 7);
    assert.equal(renewBeforeExpiryDays('10d'), 10);
    assert.equal(renewBeforeExpiryDays('12 hours'), undefined);
    assert.equal(renewBeforeExpiryDays('0 days'), undefined);
  });

  it('knows certbot\'s key settings', () => {
    assert.deepEqual(certbotKeySpec({ keyType: 'ecdsa' }), { type: 'ecdsa', curve: 'p256' });
    assert.deepEqual(certbotKeySpec({ keyType: 'ecdsa', ellipticCurve: 'secp384r1' }), { type: 'ecdsa', curve: 'p384' });
    assert.equal(certbotKeySpec({ keyType: 'ecdsa', ellipticCurve: 'secp521r1' }), undefined);
    assert.deepEqual(certbotKeySpec({ keyType: 'rsa' }), { type: 'rsa', bits: 2048 });
    assert.equal(certbotKeySpec({}), undefined);
  });
});

describe('methodFromConf', () => {
  const base = { webrootPaths: [] as string[], webrootMap: new Map<string, string>() };

  it('carries webroot and standalone over', () => {
    const webroot = parseRenewalConf(WEBROOT_CONF);
    assert.deepEqual(methodFromConf(webroot, ['example.com', 'www.example.com']), { method: { kind: 'webroot', webroot: '/var/www/example' } });
    assert.deepEqual(methodFromConf({ ...base, authenticator: 'standalone' }, ['a.example']), { method: { kind: 'standalone', port: 80 } });
    assert.deepEqual(methodFromConf({ ...base, authenticator: 'standalone', http01Port: 8080, http01Address: '::1' }, ['a.example']), {
      method: { kind: 'standalone', port: 8080, address: '::1' },
    });
  });

  it('uses the last webroot_path for names missing from the map, and keeps several webroots per name', () => {
    const conf = { ...base, authenticator: 'webroot', webrootPaths: ['/a', '/b'], webrootMap: new Map([['x.example', '/b']]) };
    assert.deepEqual(methodFromConf(conf, ['x.example', 'y.example']), { method: { kind: 'webroot', webroot: '/b' } });
    assert.deepEqual(methodFromConf({ ...conf, webrootMap: new Map([['x.example', '/a']]) }, ['x.example', 'y.example']), {
      method: { kind: 'webroot', webroot: '/b', webroots: { 'x.example': '/a', 'y.example': '/b' } },
    });
    const relative = methodFromConf({ ...conf, webrootMap: new Map([['x.example', 'www']]) }, ['x.example', 'y.example']);
    assert.ok('unsupported' in relative);
    assert.match(relative.unsupported, /not an absolute path for x\.example/);
  });

  it('says what to do for nginx, apache, manual and DNS plugins, and uses an override', () => {
    for (const authenticator of ['nginx', 'apache', 'manual', 'dns-cloudflare', 'whatever']) {
      const r = methodFromConf({ ...base, authenticator }, ['a.example']);
      assert.ok('unsupported' in r, authenticator);
      assert.match(r.unsupported, /--webroot <dir>/);
    }
    const r = methodFromConf({ ...base, authenticator: 'nginx' }, ['a.example'], { kind: 'webroot', webroot: '/srv/www' });
    assert.ok('method' in r);
    assert.deepEqual(r.method, { kind: 'webroot', webroot: '/srv/www' });
    assert.match(r.note ?? '', /nginx.*renewing with webroot \/srv\/www as asked/);
  });

  it('never imports wildcard names, whatever the override', () => {
    const r = methodFromConf({ ...base, authenticator: 'dns-route53' }, ['*.example.com', 'example.com'], { kind: 'standalone', port: 80 });
    assert.ok('unsupported' in r);
    assert.match(r.unsupported, /wildcard names \(\*\.example\.com\) need DNS-01/);
  });
});

describe('certbot accounts', () => {
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('turns a JWK private key into a PKCS#8 PEM of the same key (RSA and EC)', () => {
    for (const [type, options] of [
      ['rsa', { modulusLength: 2048 }],
      ['ec', { namedCurve: 'P-256' }],
    ] as const) {
      const { privateKey } = generateKeyPairSync(type as 'rsa', options as { modulusLength: number });
      const jwk = privateKey.export({ format: 'jwk' });
      const pem = jwkToPem(jwk);
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
      const back = createPrivateKey(pem);
      assert.equal(back.asymmetricKeyType, type);
      assert.deepEqual(createPublicKey(back).export({ format: 'jwk' }), createPublicKey(privateKey).export({ format: 'jwk' }));
      // certman's key authorizations are computed from it
      assert.equal(jwkThumbprint(pem), jwkThumbprint(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()));
    }
  });

  it('refuses what is not a private JWK', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => jwkToPem({}), /not a JSON Web Key/);
    assert.throws(() => jwkToPem(null), /not a JSON Web Key/);
    assert.throws(() => jwkToPem(publicKey.export({ format: 'jwk' })), /not a usable private JSON Web Key/);
  });

  it('finds and reads an account where certbot keeps it, and elsewhere under accounts/ when unique', async () => {
    const certbotDir = await mkdtemp(join(tmpdir(), 'certman-certbot-'));
    dirs.push(certbotDir);
    const server = 'https://127.0.0.1:14000/dir';
    assert.equal(certbotAccountsDir(certbotDir, server), join(certbotDir, 'accounts', '127.0.0.1:14000', 'dir'));
    assert.equal(certbotAccountsDir(certbotDir, 'https://acme-v02.api.letsencrypt.org/directory'), join(certbotDir, 'accounts', 'acme-v02.api.letsencrypt.org', 'directory'));

    const id = '0123456789abcdef0123456789abcdef';
    const dir = join(certbotDir, 'accounts', '127.0.0.1:14000', 'dir', id);
    await mkdir(dir, { recursive: true });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'private_key.json'), JSON.stringify(privateKey.export({ format: 'jwk' })));
    await writeFile(join(dir, 'regr.json'), JSON.stringify({ body: { contact: ['mailto:ops@example.com'] }, uri: 'https://127.0.0.1:14000/my-account/1' }));
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ creation_dt: '2024-05-01T10:00:00Z', creation_host: 'h' }));

    assert.equal(await findCertbotAccount(certbotDir, server, id), dir);
    // Spelled differently (another port): found by searching, since there is only one such folder.
    assert.equal(await findCertbotAccount(certbotDir, 'https://127.0.0.1:14001/dir', id), dir);
    assert.equal(await findCertbotAccount(certbotDir, server, 'ffff'), undefined);
    assert.equal(await findCertbotAccount(certbotDir, server, '../x'), undefined);

    const account = await readCertbotAccount(dir);
    assert.equal(account.id, id);
    assert.equal(account.url, 'https://127.0.0.1:14000/my-account/1');
    assert.equal(account.email, 'ops@example.com');
    assert.equal(account.createdAt, '2024-05-01T10:00:00.000Z');
    assert.equal(createPrivateKey(account.keyPem).asymmetricKeyDetails?.modulusLength, 2048);

    await writeFile(join(dir, 'regr.json'), JSON.stringify({ body: {} }));
    await assert.rejects(readCertbotAccount(dir), /regr\.json has no account URL/);
  });
});
