// Several store keys and `store rotate-key` on a real redis-server (store level; the CLI is in
// test/e2e/store-ops.test.ts): a store opens with any key of its list and seals with the first; a rotation seals
// every private key and the key check again under the first key, loses no write made meanwhile, and afterwards the
// new key alone opens everything while the old one alone is refused before anything is read or written.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { sealKey, sealedKeyId } from '../../src/crypto/seal.js';
import { openStore, type Store } from '../../src/store/index.js';
import { differences } from '../contract/reader.js';
import { newCert, pems, saveLeased } from '../harness/store-fixtures.js';
import { redisUrl, snapshotKeys, useRedisServer } from './store-contract-redis.js';

useRedisServer();

const SERVER = 'https://ca.test/directory';
const opened: Store[] = [];

async function open(prefix: string, keys: Buffer[], readOnly = false): Promise<Store> {
  const store = await openStore(redisUrl(), { redisKey: keys, redisPrefix: prefix, readOnly });
  opened.push(store);
  return store;
}

/** The key ids named by every sealed value under `prefix`. */
async function sealedUnder(prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (const value of (await snapshotKeys(prefix)).values()) {
    for (const match of value.matchAll(/certman-sealed:v1:([A-Za-z0-9_-]+):/g)) ids.push(match[1] ?? '');
  }
  return ids;
}

describe('store keys', () => {
  test('rotate-key seals every blob under the new key; then the new key alone opens everything and the old one is refused', async () => {
    const prefix = `rekey-${randomBytes(4).toString('hex')}:`;
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    const before = await open(prefix, [k1]);
    await saveLeased(before, newCert('a.example'), pems('a1'));
    await saveLeased(before, newCert('a.example'), pems('a2'));
    await saveLeased(before, newCert('b.example'), pems('b1'));
    // With a key rollover under way: its pending key is sealed like the key.
    await before.saveAccount({ server: SERVER, url: 'https://ca.test/acct/1', keyPem: pems('acct').privkey, pendingKeyPem: pems('next').privkey, createdAt: '2025-01-01T00:00:00.000Z' });
    assert.deepEqual(new Set(await sealedUnder(prefix)), new Set([sealKey(k1).id]));

    const both = await open(prefix, [k2, k1]);
    assert.deepEqual(await both.readFiles('a.example'), pems('a2'), 'the second key opens what the first does not');
    // A save during the rotation seals under the first key and is not overwritten.
    const [report] = await Promise.all([both.rotateKey?.(), saveLeased(both, newCert('c.example'), pems('c1'))]);
    assert.ok(report !== undefined);
    assert.equal(report.keyId, sealKey(k2).id);
    assert.equal(report.privateKeys.resealed + report.privateKeys.current, report.lineages === 3 ? 4 : 3);
    assert.ok(report.privateKeys.resealed >= 3);
    assert.deepEqual(report.accounts, { resealed: 2, current: 0 });
    assert.deepEqual(report.keyCheck, { resealed: 1, current: 0 });
    assert.deepEqual(new Set(await sealedUnder(prefix)), new Set([sealKey(k2).id]));

    const after = await open(prefix, [k2]);
    assert.deepEqual((await after.versions('a.example')).map((v) => v.files), [pems('a1'), pems('a2')]);
    assert.deepEqual(await after.readFiles('b.example'), pems('b1'));
    assert.deepEqual(await after.readFiles('c.example'), pems('c1'));
    assert.equal((await after.getAccount(SERVER))?.keyPem, pems('acct').privkey);
    assert.equal((await after.getAccount(SERVER))?.pendingKeyPem, pems('next').privkey);
    assert.deepEqual((await after.accounts()).map((a) => a.server), [SERVER]);

    const snapshot = await snapshotKeys(prefix);
    await assert.rejects(open(prefix, [k1]), /store key does not open this store/);
    await assert.rejects(open(prefix, [k1], true), /store key does not open this store/);
    assert.deepEqual(differences(snapshot, await snapshotKeys(prefix)), [], 'a refused open changes nothing');

    const again = await after.rotateKey?.();
    assert.deepEqual(again?.privateKeys, { resealed: 0, current: 4 }, 'a second rotation has nothing to do');
  });

  test('a blob sealed under a key not given is an error naming both ids; rotation reports it, leaves it, and does the rest', async () => {
    const prefix = `rekey-${randomBytes(4).toString('hex')}:`;
    const [k1, k2, k3] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const first = await open(prefix, [k1]);
    await saveLeased(first, newCert('d.example'), pems('d1'));
    // A node given k3 first and k1 second opens the store and seals new versions under k3…
    const third = await open(prefix, [k3, k1]);
    await saveLeased(third, newCert('d.example'), pems('d2'));
    // …which a node given k2 and k1 cannot open.
    const other = await open(prefix, [k2, k1]);
    await assert.rejects(other.readFiles('d.example'), (err: Error) => err.message.includes(sealKey(k3).id) && err.message.includes(sealKey(k2).id));
    const report = await other.rotateKey?.();
    assert.deepEqual(report?.unopened, [`${prefix}cert:d.example:files privkey`]);
    assert.deepEqual(report?.privateKeys, { resealed: 1, current: 0 }, 'the others are sealed again all the same');
    const files = await snapshotKeys(prefix);
    const field = (JSON.parse(files.get(`${prefix}cert:d.example:files`) ?? '[]') as [string, string][]).find(([name]) => name === '2:privkey');
    assert.equal(sealedKeyId(field?.[1] ?? ''), sealKey(k3).id, 'the blob it cannot open is untouched');
  });

  test('close', async () => {
    await Promise.all(opened.splice(0).map((store) => store.close?.()));
  });
});
