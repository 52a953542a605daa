// Bad input gets a one-line error and exit 2; failures exit 1 with what went wrong; nothing is ordered.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli, tempDir, uniqueName } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();

function firstLine(stderr: string): string {
  return stderr.split('\n')[0] ?? '';
}

describe('bad usage exits 2 with a one-line error', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown flag', ['issue', '--bogus'], /unknown option '--bogus'/],
    ['invalid domain', ['issue', '-d', 'exa mple.com', '--standalone'], /invalid domain name "exa mple\.com"/],
    ['IP address with a zone id', ['issue', '-d', 'fe80::1%eth0', '--standalone'], /zone id/],
    ['wildcard with HTTP-01', ['issue', '-d', '*.example.test', '--standalone'], /DNS-01/],
    ['no names', ['issue', '--standalone'], /no domain names/],
    ['no challenge method', ['issue', '-d', 'a.example.test'], /HTTP-01 challenge/],
    ['two methods', ['issue', '-d', 'a.example.test', '--standalone', '--webroot', '/tmp'], /exclude each other/],
    ['bad port', ['issue', '-d', 'a.example.test', '--standalone', '--http-port', '99999'], /--http-port must be a port/],
    ['bad key type', ['issue', '-d', 'a.example.test', '--standalone', '--key-type', 'dsa'], /--key-type/],
    ['curve with rsa', ['issue', '-d', 'a.example.test', '--standalone', '--key-type', 'rsa', '--elliptic-curve', 'p384'], /--elliptic-curve/],
    ['no account, cannot prompt', ['issue', '-d', 'a.example.test', '--standalone'], /--email/],
    ['revoke without target', ['revoke'], /--cert-name or --cert-path/],
    ['revoke bad reason', ['revoke', '--cert-name', 'x', '--reason', 'because'], /--reason/],
    ['unknown certificate', ['renew', '--no-random-sleep', '--cert-name', 'nope.example.test'], /no certificate named nope\.example\.test/],
    ['delete unknown', ['delete', '--cert-name', 'nope.example.test'], /no certificate named/],
    ['bad server alias', ['--server', 'lets-encrypt', 'list'], /lets-encrypt/],
    ['missing --days value', ['renew', '--no-random-sleep', '--days', 'soon'], /--days must be a positive number/],
  ];
  for (const [label, args, message] of cases) {
    it(label, async () => {
      const dir = await tempDir('cfg');
      const r = await suite.certman(dir, args);
      assert.equal(r.code, 2, `${label}: ${r.stderr}`);
      assert.match(firstLine(r.stderr), /^error: /);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace without --verbose');
    });
  }

  it('a bare certman shows help and exits 2', async () => {
    const r = await runCli([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr + r.stdout, /Usage: certman/);
  });
});

describe('config files', () => {
  it('takes defaults from the file in the config dir, with flags and environment winning', async () => {
    const dir = await tempDir('cfg');
    await writeFile(join(dir, 'certman.config.yaml'), `server: https://127.0.0.1:1/wrong\nemail: file@example.com\nkeyType: rsa\n`);
    // CERTMAN_SERVER (env) beats the file; email and key type come from the file.
    const r = await suite.certman(dir, ['--json', 'issue', '-d', uniqueName('cfg'), ...suite.standalone(), '--agree-tos']);
    assert.equal(r.code, 0, r.stderr);
    const account = json(await runCli(['--json', 'account'], { env: { CERTMAN_SERVER: suite.pebble.directoryUrl, CERTMAN_CONFIG_DIR: dir } }));
    assert.equal((account.account as { email: string }).email, 'file@example.com');
    const list = json<{ keyType: string }[]>(await runCli(['--json', 'list'], { env: { CERTMAN_CONFIG_DIR: dir } }));
    assert.equal(list[0]?.keyType, 'RSA 2048');
    // --config points at a file elsewhere; a missing one is bad input
    const missing = await runCli(['--config', join(dir, 'nope.json'), 'list'], { env: { CERTMAN_CONFIG_DIR: dir } });
    assert.equal(missing.code, 2);
  });
});

describe('failures exit 1 and say what happened', () => {
  it('an unreachable CA is a clear network error', async () => {
    const dir = await tempDir('cfg');
    const r = await runCli(['register', '--email', 'a@example.com', '--agree-tos'], {
      env: { CERTMAN_SERVER: 'https://127.0.0.1:1/dir', CERTMAN_CONFIG_DIR: dir },
    });
    assert.equal(r.code, 1);
    assert.match(firstLine(r.stderr), /cannot reach https:\/\/127\.0\.0\.1:1/);
    assert.doesNotMatch(r.stderr, /TypeError/);
  });

  it('a CA that never answers times out after --timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const dir = await tempDir('cfg');
      const r = await runCli(['--timeout', '1', 'register', '--email', 'a@example.com', '--agree-tos'], {
        env: { CERTMAN_SERVER: `https://127.0.0.1:${port}/dir`, CERTMAN_CONFIG_DIR: dir },
      });
      assert.equal(r.code, 1);
      assert.match(firstLine(r.stderr), /no answer from https:\/\/127\.0\.0\.1:\d+ within 1 s/);
      assert.ok(r.durationMs < 10_000, `took ${r.durationMs} ms`);
    } finally {
      silent.close();
    }
  });

  it('--json puts a machine-readable error document on stdout', async () => {
    const dir = await tempDir('cfg');
    const r = await suite.certman(dir, ['--json', 'issue', '-d', 'bad..name', '--standalone']);
    assert.equal(r.code, 2);
    const doc = json<{ error: { message: string; exitCode: number } }>(r);
    assert.equal(doc.error.exitCode, 2);
    assert.match(doc.error.message, /invalid domain name/);
  });
});

describe('trusting the CA', () => {
  it('NODE_EXTRA_CA_CERTS works without --ca-file, and a missing --ca-file is bad input', async () => {
    const dir = await tempDir('cfg');
    const viaNode = await runCli(['register', '--email', 'a@example.com', '--agree-tos'], {
      env: { CERTMAN_SERVER: suite.pebble.directoryUrl, CERTMAN_CONFIG_DIR: dir, NODE_EXTRA_CA_CERTS: suite.pebble.caFile },
    });
    assert.equal(viaNode.code, 0, viaNode.stderr);
    const untrusted = await runCli(['register', '--email', 'a@example.com', '--agree-tos'], {
      env: { CERTMAN_SERVER: suite.pebble.directoryUrl, CERTMAN_CONFIG_DIR: await tempDir('cfg') },
    });
    assert.equal(untrusted.code, 1);
    assert.match(firstLine(untrusted.stderr), /cannot reach/);
    const missing = await suite.certman(dir, ['--ca-file', join(dir, 'nope.pem'), 'register']);
    assert.equal(missing.code, 2);
    assert.match(firstLine(missing.stderr), /cannot read CA file/);
  });
});

describe('startup', () => {
  it('--version and --help load no ACME, HTTP or crypto library', async () => {
    const hook = fileURLToPath(new URL('../fixtures/record-cjs-loads.cjs', import.meta.url));
    for (const args of [['--version'], ['--help'], ['issue', '--help']]) {
      const record = join(await tempDir('rec'), 'loads.txt');
      const r = await runCli(args, { env: { NODE_OPTIONS: `--require ${hook}`, RECORD_FILE: record } });
      assert.equal(r.code, 0, r.stderr);
      const loaded = await readFile(record, 'utf8');
      for (const heavy of ['acme-client', 'axios', 'node-forge', '@peculiar', 'cosmiconfig']) {
        assert.ok(!loaded.includes(heavy), `${args.join(' ')} loaded ${heavy}`);
      }
    }
  });

  it('--help comes from the generated texts, identical to commander\'s, without loading commander', async () => {
    for (const [fast, viaCommander] of [
      [['--help'], ['--no-color', '--help']],
      [['issue', '--help'], ['--no-color', 'issue', '--help']],
      [['help', 'renew'], ['--no-color', 'renew', '--help']],
      [['list', '-h'], ['--no-color', 'certificates', '--help']],
    ] as const) {
      const a = await runCli([...fast]);
      const b = await runCli([...viaCommander]);
      assert.equal(a.code, 0);
      assert.equal(a.stdout, b.stdout, `${fast.join(' ')} differs from commander's help`);
    }
    const record = join(await tempDir('rec'), 'esm.txt');
    const hook = fileURLToPath(new URL('../fixtures/record-esm-loads.mjs', import.meta.url));
    const r = await runCli(['--help'], { env: { NODE_OPTIONS: `--import ${hook}`, ESM_RECORD_FILE: record } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!(await readFile(record, 'utf8')).includes('commander'), '--help loaded commander');
  });

  it('prints no colour codes off a terminal', async () => {
    const r = await runCli(['--help'], { env: { NO_COLOR: undefined } });
    assert.ok(!r.stdout.includes('\u001b['), 'no ANSI escape sequences');
  });
});

describe('CERTMAN_* variables for the global switches', () => {
  it('CERTMAN_JSON, CERTMAN_QUIET and CERTMAN_CONFIG act like their flags', async () => {
    const dir = await tempDir('cfg');
    const listed = await suite.certman(dir, ['list'], { CERTMAN_JSON: '1' });
    assert.deepEqual(JSON.parse(listed.stdout), []);
    const quiet = await suite.certman(dir, ['list'], { CERTMAN_QUIET: 'true' });
    assert.equal(quiet.stdout, '');
    const cfg = join(await tempDir('cfgfile'), 'c.json');
    await writeFile(cfg, '{"nope": 1}');
    const bad = await suite.certman(dir, ['list'], { CERTMAN_CONFIG: cfg });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"nope"/);
    const jsonError = await suite.certman(dir, ['delete', '--cert-name', 'x.example'], { CERTMAN_JSON: 'yes' });
    assert.equal(json<{ error: { exitCode: number } }>(jsonError).error.exitCode, 2);
  });
});
