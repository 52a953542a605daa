import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';

import { CertmanError } from '../../src/errors.js';
import { CorruptFileError, openStore } from '../../src/store/index.js';
import { readState, STATE_DIR, stateFilePath, writeState } from '../../src/store/fs/state.js';
import { configDirs } from './config-dirs.js';

const freshDir = configDirs('state');

describe('state documents', () => {
  test('a missing key reads as undefined (and creates nothing)', async () => {
    const store = await openStore(freshDir());
    assert.equal(await store.getState('failed-validations'), undefined);
    const dir = freshDir();
    await mkdir(dir);
    assert.equal(await readState(dir, 'anything'), undefined);
    assert.deepEqual(await readdir(dir), []);
  });

  test('round trip through <configDir>/state/<key>.json', async () => {
    const dir = freshDir();
    const store = await openStore(dir);
    const value = { 'example.com': ['2025-01-01T00:00:00.000Z'], nested: { n: 1, list: [true, null] } };
    await store.updateState('failed-validations', () => value);
    assert.deepEqual(await store.getState('failed-validations'), value);
    const file = path.join(dir, STATE_DIR, 'failed-validations.json');
    assert.equal(stateFilePath(dir, 'failed-validations'), file);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), value);
    assert.equal((await stat(file)).mode & 0o777, 0o644);

    // A second store on the same directory sees it; replacing leaves no temp file behind.
    const other = await openStore(dir);
    await other.updateState('failed-validations', () => ({ replaced: true }));
    assert.deepEqual(await store.getState('failed-validations'), { replaced: true });
    assert.deepEqual(await readdir(path.join(dir, STATE_DIR)), ['failed-validations.json']);
  });

  test('any JSON value, including arrays and strings', async () => {
    const store = await openStore(freshDir());
    await store.updateState('a', () => [1, 2]);
    await store.updateState('b', () => 'text');
    await store.updateState('c-1', () => 0);
    assert.deepEqual(await store.getState('a'), [1, 2]);
    assert.equal(await store.getState('b'), 'text');
    assert.equal(await store.getState('c-1'), 0);
  });

  test('concurrent updates of one key, from two store objects, lose none', async () => {
    const dir = freshDir();
    const [store, other] = [await openStore(dir), await openStore(dir)];
    const add = (s: typeof store) => s.updateState<{ n: number; pad: string }>('schedule', (current) => ({ n: (current?.n ?? 0) + 1, pad: 'x'.repeat(10_000) }));
    await Promise.all(Array.from({ length: 10 }, (_, i) => add(i % 2 === 0 ? store : other)));
    const value = await store.getState<{ n: number; pad: string }>('schedule');
    assert.equal(value?.n, 10);
    assert.equal(value.pad.length, 10_000);
    assert.deepEqual(await readdir(path.join(dir, STATE_DIR)), ['schedule.json']);
  });

  test('keys outside [a-z0-9-]+ are refused', async () => {
    const dir = freshDir();
    const store = await openStore(dir);
    for (const key of ['', 'A', 'a_b', 'a.b', '../x', 'a/b', 'é', 'x'.repeat(300)]) {
      await assert.rejects(store.getState(key), CertmanError, key);
      await assert.rejects(store.updateState(key, () => 1), CertmanError, key);
    }
    assert.equal(
      (await readdir(dir)).includes(STATE_DIR),
      false,
    );
  });

  test('a document that is not JSON is an error naming the file', async () => {
    const dir = freshDir();
    const store = await openStore(dir);
    const file = path.join(dir, STATE_DIR, 'failed-validations.json');
    await mkdir(path.dirname(file));
    await writeFile(file, '{"truncated": [');
    await assert.rejects(store.getState('failed-validations'), (err: unknown) => {
      assert.ok(err instanceof CertmanError);
      assert.ok(err instanceof CorruptFileError);
      assert.ok(err.message.includes(file), err.message);
      return true;
    });
  });

  test('a value JSON cannot hold is refused before anything is written', async () => {
    const dir = freshDir();
    await mkdir(dir);
    await assert.rejects(writeState(dir, 'x', undefined), CertmanError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(writeState(dir, 'x', cyclic), CertmanError);
    assert.deepEqual(await readdir(dir), []);
  });
});
