// Secrets: private keys are never printed, logged, put in --json or passed to hooks; key files are 0600 in
// folders of 0700 whatever the umask; names reach hooks only through the environment, never as shell text.
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { certmanEnv, runCli, tempDir, uniqueName, type RunResult } from '../harness/index.js';
import { pebbleSuite } from './fixture.js';

const suite = pebbleSuite();

/** Every file under `root`, absolute paths (symlinks not followed). */
async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

/** The private key files certman keeps: certificate keys in archive/ and account keys in accounts/. */
async function keyFiles(configDir: string): Promise<string[]> {
  return (await filesUnder(configDir)).filter((file) => /(^|\/)(privkey\d+\.pem|private_key\.pem)$/.test(file));
}

/** What would give a key away: its PEM armour, every line of its base64 body, the whole body, its JWK private part. */
async function secretsOf(keyFile: string): Promise<string[]> {
  const pem = await readFile(keyFile, 'utf8');
  const lines = pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
  const jwk = createPrivateKey(pem).export({ format: 'jwk' });
  const privateParts = ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((k) => (jwk as Record<string, unknown>)[k]).filter((v): v is string => typeof v === 'string');
  return ['PRIVATE KEY', lines.join(''), ...lines.filter((line) => line.length >= 16), ...privateParts];
}

/** Fails naming the first secret found in any of the texts. */
function assertNoSecrets(texts: Map<string, string>, secrets: string[]): void {
  for (const [where, text] of texts) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `${where} contains ${secret === 'PRIVATE KEY' ? '"PRIVATE KEY"' : 'a private key'}`);
    }
  }
}

describe('private keys never leave their files', () => {
  for (const mode of [['--verbose'], ['--json']]) {
    it(`register, issue, certificates, account, renew and revoke with ${mode[0]}, and their hooks`, async () => {
      const dir = await tempDir('cfg');
      const dumps = await tempDir('dumps');
      // Each hook writes its whole environment to a file of its own.
      const dumpHook = (kind: string) => `env > '${dumps}/${kind}.'$$`;
      const hooks = ['--pre-hook', dumpHook('pre'), '--deploy-hook', dumpHook('deploy'), '--post-hook', dumpHook('post')];
      const name = uniqueName('secret');
      const outputs = new Map<string, string>();
      const run = async (args: string[]): Promise<RunResult> => {
        const r = await suite.certman(dir, [...mode, ...args]);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        outputs.set(`${args[0]} stdout`, r.stdout);
        outputs.set(`${args[0]} stderr`, r.stderr);
        return r;
      };
      await run(['register', '--email', 'ops@example.com', '--agree-tos']);
      await run(['issue', '-d', name, '-d', uniqueName('www'), ...suite.standalone(), '--reuse-key', ...hooks]);
      await run(['certificates']);
      await run(['account']);
      await run(['renew', '--no-random-sleep', '--force', ...hooks]);
      await run(['renew', '--no-random-sleep', '--force', '--cert-name', name]);
      await run(['revoke', '--cert-name', name, '--reason', 'superseded']);

      const dumped = await filesUnder(dumps);
      for (const kind of ['pre', 'deploy', 'post']) assert.ok(dumped.some((f) => f.includes(`/${kind}.`)), `the ${kind} hook ran`);
      const logs = await filesUnder(join(dir, 'logs'));
      assert.equal(logs.length, 2, 'one log per renew run');
      for (const file of [...dumped, ...logs]) outputs.set(file, await readFile(file, 'utf8'));

      const keys = await keyFiles(dir);
      assert.ok(keys.some((k) => k.includes(`${sep}accounts${sep}`)) && keys.some((k) => k.includes(`${sep}archive${sep}`)), keys.join(' '));
      const secrets = (await Promise.all(keys.map(secretsOf))).flat();
      // The scan itself works: it finds a key in the key's own file.
      const keyText = await readFile(keys[0] ?? '', 'utf8');
      assert.throws(() => assertNoSecrets(new Map([['a key file', keyText.replace(/-----[^\n]*-----/g, '')]]), secrets), /contains a private key/);
      assertNoSecrets(outputs, secrets);
    });
  }
});

describe('key files are 0600 in folders of 0700, whatever the umask', () => {
  for (const umask of ['000', '077']) {
    it(`umask ${umask}`, async () => {
      // A config dir certman creates itself, under that umask, as root: the next runs must accept it.
      const dir = join(await tempDir('umask'), 'certman');
      const run = async (args: string[]) => {
        const r = await runCli(args, { env: certmanEnv(suite.pebble, dir), umask });
        assert.equal(r.code, 0, `umask ${umask}: ${args.join(' ')}: ${r.stderr}`);
      };
      await run(['register', '--email', 'ops@example.com', '--agree-tos']);
      await run(['issue', '-d', uniqueName(`umask${umask}`), ...suite.standalone(), '--key-type', 'rsa']);
      await run(['renew', '--no-random-sleep', '--force']);
      await run(['certificates']);

      const keys = await keyFiles(dir);
      assert.equal(keys.length, 3, `an account key and two certificate keys: ${keys.join(' ')}`);
      for (const key of keys) {
        assert.equal((await stat(key)).mode & 0o777, 0o600, `${relative(dir, key)}`);
        // Every folder between the config dir and the key.
        for (let folder = dirname(key); folder !== dir; folder = dirname(folder)) {
          assert.equal((await stat(folder)).mode & 0o777, 0o700, `${relative(dir, folder)}/`);
        }
      }
      const live = join(dir, 'live');
      for (const name of await readdir(live)) assert.equal((await stat(join(live, name, 'privkey.pem'))).mode & 0o777, 0o600);
      // Nothing certman made is writable by group or others (else, as root, the next run would refuse it).
      for (const entry of [dir, ...(await readdir(dir, { recursive: true })).map((p) => join(dir, p))]) {
        const st = await stat(entry);
        assert.equal(st.mode & 0o022, 0, `${relative(dir, entry) || '.'} is mode ${(st.mode & 0o777).toString(8)}`);
      }
      for (const log of await filesUnder(join(dir, 'logs'))) assert.equal((await stat(log)).mode & 0o077, 0, relative(dir, log));
    });
  }
});

describe('names reach hooks only through the environment', () => {
  it('a deploy hook gets RENEWED_DOMAINS verbatim, and its command string is run exactly as written', async () => {
    const dir = await suite.registeredDir();
    const out = await tempDir('hook');
    const names = [uniqueName('verbatim'), uniqueName('second')];
    // Single quotes keep the shell from expanding; certman must not substitute anything either.
    const hook = `printf '%s' "$RENEWED_DOMAINS" > '${out}/domains'; printf '%s' '$RENEWED_DOMAINS \${RENEWED_LINEAGE} {domain} %d' > '${out}/literal'`;
    const r = await suite.certman(dir, ['issue', '-d', names.join(','), ...suite.standalone(), '--deploy-hook', hook]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(out, 'domains'), 'utf8'), names.join(' '));
    assert.equal(await readFile(join(out, 'literal'), 'utf8'), '$RENEWED_DOMAINS ${RENEWED_LINEAGE} {domain} %d');
  });
});
