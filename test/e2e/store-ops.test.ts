// `certman store migrate` and `certman store rotate-key` through the real CLI, against a real Pebble and a real
// redis-server: a folder → Redis → folder round trip loses nothing a folder store holds (apart from this host's
// hooks and challenge settings, which a shared store never keeps) and the certificates renew from Redis; a
// different lineage already in the target is refused and nothing is written; a key rotation leaves everything
// readable under the new key alone and refuses the old one. At rest, no value in Redis holds a private key in any
// form (PEM, base64 body, DER, JWK), and commands given the wrong store key fail with one line and change no byte.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { RESP_TYPES } from 'redis';

import { readCertificateInfo } from '../../src/crypto/certificate.js';
import type { NewCertificate } from '../../src/lineage/types.js';
import { openStore } from '../../src/store/index.js';
import { startRedis, tempDir, uniqueName, type RedisServer } from '../harness/index.js';
import { adminClient, type AdminClient } from '../harness/redis.js';
import { assertOneLineError, json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
let redis: RedisServer;
let admin: AdminClient;

before(async () => {
  redis = await startRedis();
  admin = await adminClient(redis.url);
});
after(async () => {
  await admin?.close();
  await redis?.stop();
});

/** Folders holding in clear the private keys that went into Redis (folder stores, hosts' deployed copies). */
const clearKeyDirs: string[] = [];

const hexKey = (): string => randomBytes(32).toString('hex');

interface Migrated {
  certificates: { name: string; status: string; serial: string; versions: number; verified: boolean; droppedNodeLocal: boolean; problem?: string }[];
  accounts: { server: string; status: string }[];
  ok: boolean;
  nodeLocalDropped: string[];
}

/** certman on `configDir` with the Redis store under `prefix`, opened with `key` (the key itself, or the text of a key file). */
function onRedis(configDir: string, prefix: string, key: string, args: string[]) {
  return suite.certman(configDir, args, { CERTMAN_STORE: redis.url, CERTMAN_STORE_PREFIX: prefix, CERTMAN_STORE_KEY: key });
}

/** A host whose config gives the standalone server the port and address Pebble validates (a shared store keeps neither). */
async function hostDir(): Promise<string> {
  const dir = await tempDir('host');
  await writeFile(join(dir, 'certman.config.json'), JSON.stringify({ httpPort: suite.pebble.httpPort, httpAddress: '127.0.0.1' }));
  return dir;
}

/** Every file under `root`'s archive/ and accounts/ with its content, by relative path. */
async function storeFiles(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(root, rel), { withFileTypes: true }).catch(() => [])) {
      const path = join(rel, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (!entry.name.startsWith('.')) out.set(path, await readFile(join(root, path), 'utf8'));
    }
  };
  for (const top of ['archive', 'accounts']) await walk(top);
  return out;
}

/** renewal/<name>.json without what is the host's own (hooks, method details) or the file's (its stamp). */
async function portableMeta(root: string, name: string): Promise<Record<string, unknown>> {
  const meta = JSON.parse(await readFile(join(root, 'renewal', `${name}.json`), 'utf8')) as Record<string, unknown>;
  const { hooks: _hooks, certStamp: _stamp, method, ...rest } = meta;
  return { ...rest, method: { kind: (method as { kind: string }).kind } };
}

/** Every key of the whole Redis with its exact bytes (DUMP) and expiry. */
async function dumpAll(): Promise<Map<string, string>> {
  const raw = admin.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const out = new Map<string, string>();
  for await (const keys of admin.scanIterator({ COUNT: 1000 })) {
    for (const key of keys) out.set(key, `${(await raw.dump(key))?.toString('base64') ?? 'gone'} ttl=${await admin.pTTL(key) > 0 ? 'set' : 'none'}`);
  }
  return out;
}

/** Every value of every key in the whole Redis, whatever its type, as raw bytes. */
async function everyValue(): Promise<Buffer[]> {
  const raw = admin.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const values: Buffer[] = [];
  for await (const keys of admin.scanIterator({ COUNT: 1000 })) {
    for (const key of keys) {
      const type = await admin.type(key);
      if (type === 'string') values.push((await raw.get(key)) as Buffer);
      else if (type === 'hash') values.push(...Object.values((await raw.hGetAll(key)) as unknown as Record<string, Buffer>), ...Object.keys(await admin.hGetAll(key)).map((f) => Buffer.from(f)));
      else if (type === 'set') values.push(...((await raw.sMembers(key)) as unknown as Buffer[]));
      else if (type === 'list') values.push(...((await raw.lRange(key, 0, -1)) as unknown as Buffer[]));
      else if (type === 'zset') values.push(...((await raw.zRange(key, 0, -1)) as unknown as Buffer[]));
      else assert.fail(`key ${key} of type ${type} is not checked`);
      values.push(Buffer.from(key));
    }
  }
  return values;
}

/** The DER bytes and base64 body of a PEM private key. */
function keyForms(pem: string): { der: Buffer; body: string } {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return { der: Buffer.from(body, 'base64'), body };
}

function hasPrivateJwk(text: string): boolean {
  for (const match of text.matchAll(/\{[^{}]*\}/g)) {
    try {
      const value = JSON.parse(match[0]) as Record<string, unknown>;
      if ('d' in value) return true;
    } catch {
      // not JSON: the string checks cover it
    }
  }
  return /"d"\s*:/.test(text);
}

/** Private keys written on this host: every privkey*.pem under archive/ and every account key under `dirs`. */
async function privateKeysIn(dirs: string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const dir of dirs) {
    for (const [path, text] of await storeFiles(dir)) if (/privkey\d+\.pem$|private_key\.pem$/.test(path)) keys.push(text);
  }
  return keys;
}

describe('store migrate', () => {
  let folderA: string;
  let names: string[];
  const prefix = 'mig:';
  const key = hexKey();

  it('folder → Redis → folder loses nothing a folder store holds but the host\'s own settings, verifies each certificate, and the certificates renew from Redis', async () => {
    ({ dir: folderA, names } = await suite.issued(2, 'mig', ['--deploy-hook', 'true']));
    clearKeyDirs.push(folderA);
    const rsa = uniqueName('migrsa');
    assert.equal((await suite.certman(folderA, ['issue', '-d', rsa, ...suite.standalone(), '--key-type', 'rsa'])).code, 0);
    assert.equal((await suite.certman(folderA, ['renew', '--no-random-sleep', '--force', '--cert-name', rsa])).code, 0, 'a second version');
    names.push(rsa);

    const toRedis = await onRedis(folderA, prefix, key, ['--json', 'store', 'migrate', '--from', folderA, '--to', redis.url]);
    assert.equal(toRedis.code, 0, toRedis.stderr);
    const up = json<Migrated>(toRedis);
    assert.equal(up.ok, true);
    assert.deepEqual(up.certificates.map((c) => [c.name, c.status, c.verified, c.versions]), [...names].sort().map((n) => [n, 'copied', true, n === rsa ? 2 : 1]));
    assert.deepEqual(up.nodeLocalDropped, [...names].sort(), 'hooks and the standalone port stay behind');
    assert.deepEqual(up.accounts.map((a) => a.status), ['copied']);

    const folderB = await tempDir('folder-b');
    const back = await onRedis(await tempDir('host'), prefix, key, ['--json', 'store', 'migrate', '--from', redis.url, '--to', folderB]);
    assert.equal(back.code, 0, back.stderr);
    assert.ok(json<Migrated>(back).certificates.every((c) => c.verified && c.status === 'copied'));
    assert.deepEqual(await storeFiles(folderB), await storeFiles(folderA), 'every version and account, byte for byte');
    for (const name of names) assert.deepEqual(await portableMeta(folderB, name), await portableMeta(folderA, name), name);

    // The same migration again finds everything there, identical, and writes nothing.
    const again = await onRedis(folderA, prefix, key, ['--json', 'store', 'migrate', '--from', folderA, '--to', redis.url]);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(json<Migrated>(again).certificates.every((c) => c.status === 'present' && c.verified));

    // Renewing from the new store: a host of the fleet with only its own config.
    const host = await hostDir();
    clearKeyDirs.push(host);
    const renewed = await onRedis(host, prefix, key, ['--json', 'renew', '--no-random-sleep', '--force', '--cert-name', names[0] ?? '']);
    assert.equal(renewed.code, 0, renewed.stderr);
    const rows = json<{ name: string; serial: string }[]>(await onRedis(host, prefix, key, ['--json', 'certificates']));
    const before = up.certificates.find((c) => c.name === names[0]);
    assert.notEqual(rows.find((r) => r.name === names[0])?.serial, before?.serial, 'a new certificate in Redis');
  });

  it('reports per certificate what the check after the move finds wrong, and exits 1', async () => {
    const rsa = names[2] ?? '';
    const host = await tempDir('host');
    const folderC = await tempDir('folder-c');
    const migrate = () => onRedis(host, prefix, key, ['--json', 'store', 'migrate', '--from', redis.url, '--to', folderC]);
    assert.equal((await migrate()).code, 0);
    // An archived version altered in the target: the live files and metadata still match, so the lineage counts as there.
    await writeFile(join(folderC, 'archive', rsa, 'cert1.pem'), await readFile(join(folderC, 'archive', names[0] ?? '', 'cert1.pem'), 'utf8'));
    const r = await migrate();
    assert.equal(r.code, 1, r.stderr);
    const result = json<Migrated>(r);
    assert.equal(result.ok, false);
    const row = result.certificates.find((c) => c.name === rsa);
    assert.deepEqual([row?.status, row?.verified, row?.problem], ['failed', false, 'version 1 differs in the target']);
    assert.ok(result.certificates.filter((c) => c.name !== rsa).every((c) => c.verified && c.status === 'present'));
  });

  it('a migration that stopped part-way (only the first versions of a lineage in the target) is completed when run again', async () => {
    const rsa = names[2] ?? '';
    const folderD = await tempDir('folder-d');
    // What an interrupted run leaves: version 1 saved, the live version 2 not yet.
    const partial = await openStore(folderD);
    const read = (kind: string) => readFile(join(folderA, 'archive', rsa, `${kind}1.pem`), 'utf8');
    const files = { cert: await read('cert'), chain: await read('chain'), fullchain: await read('fullchain'), privkey: await read('privkey') };
    const info = readCertificateInfo(files.cert);
    const { certStamp: _stamp, version: _version, format: _format, ...meta } = JSON.parse(await readFile(join(folderA, 'renewal', `${rsa}.json`), 'utf8')) as NewCertificate & Record<string, unknown>;
    const lease = await partial.lease({ certificate: rsa }, { wait: false });
    await partial.save({ ...meta, hooks: {}, serial: info.serial, notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString() }, files, { lease });
    await lease.release();
    const r = await suite.certman(folderA, ['--json', 'store', 'migrate', '--from', folderA, '--to', folderD]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(json<Migrated>(r).certificates.every((c) => c.verified && c.status === 'copied'));
    const archived = async (root: string) => [...(await storeFiles(root))].filter(([path]) => path.startsWith(join('archive', rsa)));
    assert.deepEqual(await archived(folderD), await archived(folderA));
  });

  it('between two Redis stores with different keys and prefixes: the target key first, the source key second', async () => {
    const target = hexKey();
    const keyFile = join(await tempDir('keys'), 'store.key');
    await writeFile(keyFile, `${target}\n${key}\n`);
    await chmod(keyFile, 0o600);
    const host = await tempDir('host');
    const r = await suite.certman(host, ['--json', '--store-key-file', keyFile, 'store', 'migrate', '--from', redis.url, '--from-prefix', prefix, '--to', redis.url, '--to-prefix', 'mig2:']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(json<Migrated>(r).certificates.every((c) => c.verified && c.status === 'copied'));
    const rows = json<{ name: string }[]>(await onRedis(host, 'mig2:', target, ['--json', 'certificates']));
    assert.deepEqual(rows.map((row) => row.name).sort(), [...names].sort(), 'the target opens with its own key alone');
  });

  it('refuses a target holding a different lineage of the same name, saying which, and writes nothing', async () => {
    const other = await suite.registeredDir();
    const name = names[1] ?? '';
    assert.equal((await suite.certman(other, ['issue', '-d', name, ...suite.standalone()])).code, 0);
    const snapshot = await dumpAll();
    const r = await onRedis(other, prefix, key, ['store', 'migrate', '--from', other, '--to', redis.url]);
    assertOneLineError(r, 1, new RegExp(`the target already holds certificate ${name.replace(/\./g, '\\.')}: the target holds serial [0-9a-f]+, the source [0-9a-f]+.*account .*nothing was written`));
    assert.deepEqual(await dumpAll(), snapshot, 'Redis unchanged');
    assertOneLineError(await suite.certman(other, ['store', 'migrate', '--from', other, '--to', other]), 2, /name the same store/);
    assertOneLineError(await suite.certman(other, ['store', 'migrate', '--from', join(other, 'nope'), '--to', await tempDir('x')]), 2, /no store folder/);
  });
});

describe('store keys', () => {
  const prefix = 'rot:';
  const k1 = hexKey();
  const k2 = hexKey();
  let host: string;
  let issued: string[];

  it('rotate-key: issued under K1, rotated with the key file "K2\\nK1", then K2 alone reads and renews everything and K1 alone is refused', async () => {
    host = await hostDir();
    clearKeyDirs.push(host);
    assert.equal((await onRedis(host, prefix, k1, ['register', '--email', 'ops@example.com', '--agree-tos'])).code, 0);
    issued = [uniqueName('rotec'), uniqueName('rotrsa')];
    assert.equal((await onRedis(host, prefix, k1, ['issue', '-d', issued[0] ?? '', '--standalone'])).code, 0);
    assert.equal((await onRedis(host, prefix, k1, ['issue', '-d', issued[1] ?? '', '--standalone', '--key-type', 'rsa'])).code, 0);

    const keyFile = join(await tempDir('keys'), 'store.key');
    await writeFile(keyFile, `${k2}\n${k1}\n`);
    await chmod(keyFile, 0o600);
    const env = { CERTMAN_STORE: redis.url, CERTMAN_STORE_PREFIX: prefix };
    const rotated = await suite.certman(host, ['--json', '--store-key-file', keyFile, 'store', 'rotate-key'], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    const report = json<{ lineages: number; privateKeys: { resealed: number }; accounts: { resealed: number }; keyCheck: { resealed: number }; unopened: string[] }>(rotated);
    assert.deepEqual([report.lineages, report.privateKeys.resealed, report.accounts.resealed, report.keyCheck.resealed, report.unopened], [2, 2, 1, 1, []]);

    const rows = json<{ name: string; status: string }[]>(await onRedis(host, prefix, k2, ['--json', 'certificates']));
    assert.deepEqual(rows.map((r) => r.name).sort(), [...issued].sort());
    const renewed = await onRedis(host, prefix, k2, ['renew', '--no-random-sleep', '--force', '--cert-name', issued[1] ?? '']);
    assert.equal(renewed.code, 0, `the account key and the RSA certificate key open under K2 alone: ${renewed.stderr}`);
    const snapshot = await dumpAll();
    assertOneLineError(await onRedis(host, prefix, k1, ['certificates']), 1, /the store key does not open this store \(prefix rot:\)/);
    assert.deepEqual(await dumpAll(), snapshot);
    // A folder store seals nothing.
    assertOneLineError(await suite.certman(await tempDir('folder'), ['store', 'rotate-key']), 2, /a folder store seals nothing/);
  });

  it('with the wrong key every command fails with one line and Redis is byte-identical afterwards', async () => {
    const wrong = hexKey();
    const snapshot = await dumpAll();
    const attempts: [string, string[]][] = [
      ['certificates', ['certificates']],
      ['renew --force', ['renew', '--no-random-sleep', '--force']],
      ['issue', ['issue', '-d', uniqueName('wrong'), '--standalone']],
      ['register', ['register', '--email', 'ops@example.com', '--agree-tos']],
      ['rotate-key', ['store', 'rotate-key']],
    ];
    for (const [label, args] of attempts) {
      assertOneLineError(await onRedis(host, prefix, wrong, args), 1, /the store key does not open this store/, label);
    }
    assert.deepEqual(await dumpAll(), snapshot, 'not one byte of Redis changed');
  });

  it('at rest: no value anywhere in Redis holds a private key as PEM, base64, DER or JWK', async () => {
    // The account registered straight into Redis has no copy on any host: a migration out of Redis gives one.
    const out = await tempDir('out');
    assert.equal((await onRedis(host, prefix, k2, ['store', 'migrate', '--from', redis.url, '--to', out])).code, 0);
    clearKeyDirs.push(out);
    const values = await everyValue();
    assert.ok(values.length > 20, `the scan saw the stores (${values.length} values)`);
    // Every private key that went into Redis, from the folder stores it came from and the copies hosts deploy.
    const secrets = await privateKeysIn(clearKeyDirs);
    assert.ok(secrets.length >= 12, `private keys to look for (${secrets.length})`);
    for (const value of values) {
      const text = value.toString('latin1');
      assert.ok(!text.includes('PRIVATE KEY'), 'no PEM private key');
      assert.ok(!hasPrivateJwk(value.toString('utf8')), 'no private JWK');
      for (const secret of secrets) {
        const { der, body } = keyForms(secret);
        assert.ok(!text.includes(body) && value.indexOf(der) < 0 && !text.includes(der.toString('base64url')), 'no key body, DER or base64url');
      }
    }
  });
});
