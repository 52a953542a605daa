// The account's life from the command line against Pebble: registration without an email (and certbot's
// spelling), removing the contact, key rollover proven by issuing with the new key and by the old key being
// refused (also in a Redis store, and after a rollover interrupted on either side of the CA's answer), and
// deactivation (refused without --yes off a terminal, asked at one; later commands say what to do).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generatePrivateKey } from '../../src/crypto/keys.js';
import { adminClient } from '../harness/redis.js';
import { certmanEnv, openTerminal, runCli, startRedis, tempDir, uniqueName, type RedisServer, type RunResult } from '../harness/index.js';
import { assertOneLineError, json, pebbleSuite, withFaultProxy } from './fixture.js';

const suite = pebbleSuite();

interface AccountJson {
  url: string;
  email: string | null;
  keyType: string;
  deactivatedAt?: string;
  status?: string;
  caContact?: string[] | null;
}

/** The folder of the config dir's one account (accounts/<server-key>/). */
async function accountFolder(configDir: string): Promise<string> {
  let dir = join(configDir, 'accounts');
  // The server key is a few path segments; descend until account.json.
  for (;;) {
    const entries = await readdir(dir);
    if (entries.includes('account.json')) return dir;
    const [only] = entries;
    assert.ok(only !== undefined && entries.length === 1, `one account expected under ${dir}: ${entries.join(', ')}`);
    dir = join(dir, only);
  }
}

async function shown(configDir: string): Promise<AccountJson> {
  const r = await suite.certman(configDir, ['--json', 'account', 'show']);
  assert.equal(r.code, 0, r.stderr);
  return json<{ account: AccountJson }>(r).account;
}

function issue(configDir: string, label: string, extra: string[] = []): Promise<RunResult> {
  return suite.certman(configDir, ['issue', '-d', uniqueName(label), ...suite.standalone(), ...extra]);
}

function assertNoKeyShown(r: RunResult): void {
  assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY|"d":/);
}

describe('registration without an email', () => {
  it('register --no-email creates an account without contact at the CA; -m with it is exit 2', async () => {
    const dir = await tempDir('noemail');
    const r = await suite.certman(dir, ['--json', 'register', '--no-email', '--agree-tos']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json<{ account: AccountJson; created: boolean }>(r).account.email, null);
    const account = await shown(dir);
    assert.deepEqual(account.caContact, []);
    assert.equal(account.status, 'valid');
    // An email from the environment does not sneak in either (the flag wins).
    const other = await tempDir('noemail-env');
    const env = await suite.certman(other, ['register', '--register-unsafely-without-email', '--agree-tos'], { CERTMAN_EMAIL: 'ops@example.com' });
    assert.equal(env.code, 0, env.stderr);
    assert.deepEqual((await shown(other)).caContact, []);

    for (const args of [
      ['register', '--no-email', '-m', 'a@example.com', '--agree-tos'],
      ['register', '--register-unsafely-without-email', '--email', 'a@example.com', '--agree-tos'],
      ['issue', '-d', 'x.example', '--standalone', '-m', 'a@example.com', '--no-email'],
    ]) {
      const empty = await tempDir('noemail-bad');
      assertOneLineError(await suite.certman(empty, args), 2, /cannot be used with/, args.join(' '));
      assert.deepEqual(await readdir(empty), [], 'nothing written');
    }
  });

  it('issue --register-unsafely-without-email registers first, non-interactively, like certbot', async () => {
    const dir = await tempDir('issue-noemail');
    const r = await issue(dir, 'noemail', ['--register-unsafely-without-email', '--agree-tos']);
    assert.equal(r.code, 0, r.stderr);
    const account = await shown(dir);
    assert.equal(account.email, null);
    assert.deepEqual(account.caContact, []);
  });

  it('register --update-email --no-email removes the contact; --update-email alone is exit 2', async () => {
    const dir = await suite.registeredDir();
    assert.deepEqual((await shown(dir)).caContact, ['mailto:ops@example.com']);
    const dropped = await suite.certman(dir, ['--json', 'register', '--update-email', '--no-email']);
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.equal(json<{ contactChanged: boolean }>(dropped).contactChanged, true);
    let account = await shown(dir);
    assert.equal(account.email, null);
    assert.deepEqual(account.caContact, []);
    const back = await suite.certman(dir, ['register', '--update-email', '--email', 'new@example.com']);
    assert.equal(back.code, 0, back.stderr);
    account = await shown(dir);
    assert.equal(account.email, 'new@example.com');
    assert.deepEqual(account.caContact, ['mailto:new@example.com']);
    assertOneLineError(await suite.certman(dir, ['register', '--update-email']), 2, /--update-email needs the new contact/);
    // The new contact may come from the environment.
    const fromEnv = await suite.certman(dir, ['register', '--update-email'], { CERTMAN_EMAIL: 'env@example.com' });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.deepEqual((await shown(dir)).caContact, ['mailto:env@example.com']);
  });
});

describe('account rollover', () => {
  it('gives the account a new key: issuing works with it, the old key is refused, nothing shows the key', async () => {
    const dir = await suite.registeredDir();
    const folder = await accountFolder(dir);
    const before = await shown(dir);
    const oldKey = await readFile(join(folder, 'private_key.pem'), 'utf8');
    // The "old host": a copy of the config dir that still holds the old key.
    const stale = await tempDir('stale');
    await cp(dir, stale, { recursive: true });

    const r = await suite.certman(dir, ['--json', 'account', 'rollover']);
    assert.equal(r.code, 0, r.stderr);
    assertNoKeyShown(r);
    const newKey = await readFile(join(folder, 'private_key.pem'), 'utf8');
    assert.notEqual(newKey, oldKey);
    assert.equal((await stat(join(folder, 'private_key.pem'))).mode & 0o777, 0o600);
    assert.ok(!(await readdir(folder)).includes('private_key.pending.pem'), 'no pending key left');
    const after = await shown(dir);
    assert.equal(after.url, before.url, 'same account');
    assert.equal(after.keyType, 'ECDSA P-256', 'same key type as before');

    const issued = await issue(dir, 'rolled');
    assert.equal(issued.code, 0, issued.stderr);
    const refused = await issue(stale, 'stale');
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^error: .*(JWS|signature|verif|key)/im);

    // Another type on request; the account stays the same.
    const rsa = await suite.certman(dir, ['account', 'rollover', '--key-type', 'rsa']);
    assert.equal(rsa.code, 0, rsa.stderr);
    assert.equal((await shown(dir)).keyType, 'RSA 2048');
    assert.equal((await issue(dir, 'rsa-account')).code, 0);
  });

  it('a rollover interrupted before or after the CA answered is settled by the next command', async () => {
    // Before: the pending key never reached the CA. The account keeps its key; the pending one goes.
    const dir = await suite.registeredDir();
    const folder = await accountFolder(dir);
    const key = await readFile(join(folder, 'private_key.pem'), 'utf8');
    await writeFile(join(folder, 'private_key.pending.pem'), await generatePrivateKey({ type: 'ecdsa', curve: 'p256' }), { mode: 0o600 });
    const unsentName = uniqueName('unsent');
    const unsent = await suite.certman(dir, ['issue', '-d', unsentName, ...suite.standalone()]);
    assert.equal(unsent.code, 0, unsent.stderr);
    assert.match(unsent.stderr, /did not reach the CA/);
    assert.equal(await readFile(join(folder, 'private_key.pem'), 'utf8'), key);
    assert.ok(!(await readdir(folder)).includes('private_key.pending.pem'));

    // After: the CA took the new key (a rollover done from a copy stands in for it) but the save never happened:
    // the stored key is the old one and the new one is pending. The next command finds the CA holds the new one.
    const copy = await tempDir('copy');
    await cp(dir, copy, { recursive: true });
    assert.equal((await suite.certman(copy, ['account', 'rollover'])).code, 0);
    const taken = await readFile(join(await accountFolder(copy), 'private_key.pem'), 'utf8');
    await writeFile(join(folder, 'private_key.pending.pem'), taken, { mode: 0o600 });
    // renew: its ARI check connects with the stored key before the pending one is found taken; the renewal
    // itself must sign with the new key (one ACME client per account AND key).
    const settled = await suite.certman(dir, ['--json', 'renew', '--force', '--no-random-sleep']);
    assert.equal(settled.code, 0, settled.stderr);
    assert.equal(json<{ summary: { renewed: number } }>(settled).summary.renewed, 1);
    assert.match(settled.stderr, /finished an earlier key rollover/);
    assert.equal(await readFile(join(folder, 'private_key.pem'), 'utf8'), taken);
    assert.ok(!(await readdir(folder)).includes('private_key.pending.pem'));

    // A pending key that cannot be settled (another account's): refused, nothing changed, and a way to drop it.
    const other = await readFile(join(await accountFolder(await suite.registeredDir()), 'private_key.pem'), 'utf8');
    await writeFile(join(folder, 'private_key.pending.pem'), other, { mode: 0o600 });
    const stuck = await suite.certman(dir, ['account', 'show']);
    assertOneLineError(stuck, 1, /belongs to another account/);
    assert.match(stuck.stderr, /certman account rollover --discard-pending/);
    assert.equal(await readFile(join(folder, 'private_key.pending.pem'), 'utf8'), other);
    const discarded = await suite.certman(dir, ['--json', 'account', 'rollover', '--discard-pending']);
    assert.equal(discarded.code, 0, discarded.stderr);
    assert.equal(json<{ status: string }>(discarded).status, 'discarded');
    assert.ok(!(await readdir(folder)).includes('private_key.pending.pem'));
    assert.equal(await readFile(join(folder, 'private_key.pem'), 'utf8'), taken);
    assert.equal((await shown(dir)).status, 'valid');

    // revoke settles a pending key first too (one the CA never saw) and signs with the key the CA holds.
    await writeFile(join(folder, 'private_key.pending.pem'), await generatePrivateKey({ type: 'ecdsa', curve: 'p256' }), { mode: 0o600 });
    const revoked = await suite.certman(dir, ['revoke', '--cert-name', unsentName]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stderr, /did not reach the CA/);
    assert.equal(await readFile(join(folder, 'private_key.pem'), 'utf8'), taken);
  });

  describe('behind a CA whose answer to the key change is lost', () => {
    const faulty = withFaultProxy(suite);

    it('a change the CA carried out is kept whatever came back; a refusal keeps the old key', async () => {
      const proxy = faulty();
      const dir = await tempDir('lost-answer');
      const certman = (args: string[]): Promise<RunResult> => suite.certman(dir, args, { CERTMAN_SERVER: proxy.directoryUrl });
      assert.equal((await certman(['register', '--no-email', '--agree-tos'])).code, 0);
      const folder = await accountFolder(dir);
      const keyNow = (): Promise<string> => readFile(join(folder, 'private_key.pem'), 'utf8');
      const worksWithStoredKey = async (label: string): Promise<void> => {
        const r = await certman(['--json', 'account', 'show']);
        assert.equal(r.code, 0, `${label}: ${r.stderr}`);
        assert.equal(json<{ account: AccountJson }>(r).account.status, 'valid', label);
        assert.ok(!(await readdir(folder)).includes('private_key.pending.pem'), `${label}: no pending key left`);
      };
      // Pebble takes the new key, certman gets a 503 (sent again: badNonce, signed again by the old key, refused)
      // or a dropped connection (sent again the same way): the CA is asked, and the new key stays.
      for (const fault of [
        { kind: 'status', status: 503, afterPebble: true },
        { kind: 'drop', afterPebble: true },
      ] as const) {
        const before = await keyNow();
        proxy.inject('keyChange', fault, 1);
        const r = await certman(['account', 'rollover']);
        assert.equal(r.code, 0, `${fault.kind}: ${r.stderr}`);
        assert.match(r.stderr, /answer to the key change was lost.*holds the new key/);
        assert.notEqual(await keyNow(), before, `${fault.kind}: the new key is stored`);
        await worksWithStoredKey(fault.kind);
      }
      // A refusal (Pebble never sees it): the old key stays, the pending one goes.
      const before = await keyNow();
      proxy.inject('keyChange', { kind: 'status', status: 403, detail: 'no key changes today' }, 1);
      const refused = await certman(['account', 'rollover']);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /no key changes today/);
      assert.equal(await keyNow(), before);
      await worksWithStoredKey('refused');
    });

    it('when the CA cannot tell which key it holds, the pending key stays (Redis store) and the next command settles it', async () => {
      const proxy = faulty();
      const redis = await startRedis();
      try {
        const host = await tempDir('uncertain');
        const env = { CERTMAN_SERVER: proxy.directoryUrl, CERTMAN_STORE: redis.url, CERTMAN_STORE_KEY: randomBytes(32).toString('hex') };
        const onHost = (args: string[]): Promise<RunResult> => suite.certman(host, args, env);
        assert.equal((await onHost(['register', '--no-email', '--agree-tos'])).code, 0);
        // Pebble takes the new key, the answer is lost, and the questions to the CA fail too.
        proxy.inject('keyChange', { kind: 'drop', afterPebble: true }, 1);
        proxy.inject('newAccount', { kind: 'status', status: 400, detail: 'not now' });
        const lost = await onHost(['account', 'rollover']);
        assert.equal(lost.code, 1, lost.stderr);
        assert.match(lost.stderr, /not known yet: both keys are kept/);
        assert.equal(json<{ account: AccountJson & { rolloverPending?: boolean } }>(await onHost(['--json', 'account'])).account.rolloverPending, true);
        proxy.clear();
        const settled = await onHost(['--json', 'account', 'show']);
        assert.equal(settled.code, 0, settled.stderr);
        assert.match(settled.stderr, /finished an earlier key rollover/);
        const account = json<{ account: AccountJson & { rolloverPending?: boolean } }>(settled).account;
        assert.equal(account.status, 'valid');
        assert.equal(account.rolloverPending, undefined);
      } finally {
        await redis.stop();
      }
    });
  });

  describe('in a Redis store', () => {
    let redis: RedisServer;
    const KEY = randomBytes(32).toString('hex');
    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      await redis?.stop();
    });

    it('rolls over, issues with the new key, and Redis holds no key in clear', async () => {
      const host = await tempDir('redis-host');
      const onHost = (args: string[]) => runCli(args, { env: { ...certmanEnv(suite.pebble, host), CERTMAN_STORE: redis.url, CERTMAN_STORE_KEY: KEY } });
      assert.equal((await onHost(['register', '--no-email', '--agree-tos'])).code, 0);
      const before = json<{ account: AccountJson }>(await onHost(['--json', 'account'])).account;
      const r = await onHost(['account', 'rollover']);
      assert.equal(r.code, 0, r.stderr);
      assertNoKeyShown(r);
      const issued = await onHost(['issue', '-d', uniqueName('redis-rolled'), ...suite.standalone()]);
      assert.equal(issued.code, 0, issued.stderr);
      const shownAfter = json<{ account: AccountJson }>(await onHost(['--json', 'account', 'show'])).account;
      assert.equal(shownAfter.url, before.url);
      assert.equal(shownAfter.status, 'valid');
      const admin = await adminClient(redis.url);
      try {
        const [where] = await admin.keys('certman:account:*');
        assert.ok(where !== undefined);
        const fields = await admin.hGetAll(where);
        assert.deepEqual(Object.keys(fields).sort(), ['account', 'key'], 'no pending key left');
        assert.doesNotMatch(JSON.stringify(fields), /PRIVATE KEY/);
      } finally {
        await admin.close();
      }
    });
  });
});

describe('account deactivate', () => {
  it('needs --yes without a terminal, deactivates with it, and later commands say how to go on', async () => {
    const { dir, names } = await suite.issued(1, 'deact');
    assertOneLineError(await suite.certman(dir, ['account', 'deactivate']), 2, /needs --yes without a terminal/);
    assert.equal((await shown(dir)).status, 'valid', 'still valid');

    const r = await suite.certman(dir, ['--json', 'account', 'deactivate', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const deactivated = json<{ status: string; account: AccountJson }>(r);
    assert.equal(deactivated.status, 'deactivated');
    const account = await shown(dir);
    assert.equal(account.status, 'deactivated');
    assert.equal(account.caContact, null, 'not asked: the CA refuses a deactivated account');

    const refused = await issue(dir, 'after-deactivation');
    assertOneLineError(refused, 2, /was deactivated/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /);
    assert.match(refused.stderr, /register a new one: certman register --agree-tos/);
    assertOneLineError(await suite.certman(dir, ['account', 'rollover']), 2, /was deactivated/);
    const renewed = await suite.certman(dir, ['renew', '--force', '--no-random-sleep']);
    assert.notEqual(renewed.code, 0, renewed.stderr);
    assert.match(renewed.stdout + renewed.stderr, /was deactivated.*register a new one/);
    assertOneLineError(await suite.certman(dir, ['revoke', '--cert-name', names[0] ?? '']), 2, /was deactivated/);
    // Changing the contact of a deactivated account does not quietly make a new one.
    assertOneLineError(await suite.certman(dir, ['register', '--update-email', '--email', 'x@example.com', '--agree-tos']), 2, /was deactivated/);

    const again = await suite.certman(dir, ['--json', 'register', '--no-email', '--agree-tos']);
    assert.equal(again.code, 0, again.stderr);
    const fresh = json<{ account: AccountJson; created: boolean }>(again);
    assert.equal(fresh.created, true);
    assert.notEqual(fresh.account.url, account.url);
    assert.equal((await issue(dir, 'new-account')).code, 0);
  });

  it('run again after a deactivation the CA carried out but that was never saved, it marks the account', async () => {
    const dir = await suite.registeredDir();
    // The copy stands in for the lost save: the CA deactivated the account, the original's store does not know.
    const copy = await tempDir('deactivated-copy');
    await cp(dir, copy, { recursive: true });
    assert.equal((await suite.certman(copy, ['account', 'deactivate', '--yes'])).code, 0);
    const r = await suite.certman(dir, ['account', 'deactivate', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the CA refuses the account already .*marking it deactivated/);
    assert.equal((await shown(dir)).status, 'deactivated');
  });

  it('asks at a terminal; no changes nothing', async () => {
    const dir = await suite.registeredDir();
    const terminal = await openTerminal(['account', 'deactivate'], certmanEnv(suite.pebble, dir));
    try {
      await terminal.waitFor(/Deactivate the account .* for good\?/, 30_000);
      await terminal.answer('n');
      assert.equal(await terminal.exitCode(30_000), 0);
      assert.match(await terminal.screen(), /Nothing changed\./);
    } finally {
      await terminal.close();
    }
    assert.equal((await shown(dir)).status, 'valid');
  });
});
