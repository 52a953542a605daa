// The store contract's read-modify-writes and readers on the filesystem backend (the rest:
// store-contract-fs.test.ts), and what only this backend has: certificates replaced by hand.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import { openStore } from '../../src/store/index.js';
import { storeContract } from '../contract/store-contract.js';
import { newCert, pems, saveLeased } from '../harness/store-fixtures.js';
import { differences } from '../contract/reader.js';
import { freshStoreDir, fsBackend, runReader, snapshot, useContractRoot } from './store-contract-fs.js';

useContractRoot();
storeContract(fsBackend, ['updates', 'readers']);

test('filesystem: after a certificate was replaced by hand, root lists it corrected and a reader lists it, both writing nothing', async () => {
  const dir = freshStoreDir();
  const store = await openStore(dir);
  await saveLeased(store, newCert('hand.example'), pems('1'));
  // The operator copies a certificate over the archived one the live link names.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null',
    '-out', path.join(dir, 'archive', 'hand.example', 'cert1.pem'), '-days', '30', '-subj', '/CN=hand.example', '-set_serial', '0x0ABCDE',
  ], { stdio: 'ignore' });
  const before = await snapshot(dir);
  const metaFile = await readFile(path.join(dir, 'renewal', 'hand.example.json'), 'utf8');
  assert.deepEqual((await (await openStore(dir)).list()).map((m) => m.serial), ['abcde']);
  const view = await runReader(dir);
  assert.equal(view.error, undefined);
  assert.deepEqual(view.listed, ['hand.example']);
  assert.deepEqual(differences(before, await snapshot(dir)), []);
  assert.equal(await readFile(path.join(dir, 'renewal', 'hand.example.json'), 'utf8'), metaFile);
});
