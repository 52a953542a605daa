import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ResponderPool } from '../../src/challenge/pool.js';
import { FsTokenStore, challengesDir, encodeTokenEntry } from '../../src/store/fs/tokens.js';
import { TokenStoreResponder } from '../../src/challenge/token-store-responder.js';
import type { PendingToken, TokenStore } from '../../src/store/types.js';
import { CertmanError } from '../../src/errors.js';

const tmp = () => mkdtemp(join(tmpdir(), 'certman-tokens-'));
const THUMB = 'Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg';
const ka = (token: string) => `${token}.${THUMB}`;

/** A store with a clock the test moves. */
async function clocked(): Promise<{ store: FsTokenStore; dir: string; clock: { now: number } }> {
  const dir = await tmp();
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  return { store: new FsTokenStore(dir, { now: () => clock.now, sweepIntervalMs: 0 }), dir, clock };
}

describe('FsTokenStore', () => {
  it('stores an entry as <configDir>/challenges/<token>.json, world-readable, and reads it back', async () => {
    const dir = await tmp();
    const store = new FsTokenStore(dir);
    await store.put('tok_1-A', ka('tok_1-A'), 'Example.COM', 60_000);
    assert.deepEqual(await store.get('tok_1-A'), { keyAuthorization: ka('tok_1-A'), domain: 'example.com' });
    const file = join(challengesDir(dir), 'tok_1-A.json');
    const entry = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    assert.equal(entry.token, 'tok_1-A');
    assert.equal(typeof entry.expiresAt, 'number');
    assert.equal((await stat(file)).mode & 0o777, 0o644);
    assert.equal((await stat(challengesDir(dir))).mode & 0o777, 0o755);
    // atomic writes leave no temp files behind
    assert.deepEqual(await readdir(challengesDir(dir)), ['tok_1-A.json']);
    await store.delete('tok_1-A');
    assert.equal(await store.get('tok_1-A'), undefined);
    await store.delete('tok_1-A'); // twice: not an error
  });

  it('ignores an expired entry and removes it when read', async () => {
    const { store, dir, clock } = await clocked();
    await store.put('old', ka('old'), 'a.test', 1000);
    clock.now += 999;
    assert.ok(await store.get('old'));
    clock.now += 1;
    assert.equal(await store.get('old'), undefined);
    assert.deepEqual(await readdir(challengesDir(dir)), []);
  });

  it('sweeps expired, damaged and stale temp entries, and keeps pending and foreign files', async () => {
    const { store, dir, clock } = await clocked();
    await store.put('pending', ka('pending'), 'a.test', 60_000);
    await store.put('expired', ka('expired'), 'a.test', 1000);
    const d = challengesDir(dir);
    await writeFile(join(d, 'damaged.json'), '{not json');
    await writeFile(join(d, '.certman-tmp-x-123'), 'half');
    const old = new Date(clock.now - 2 * 3600_000);
    await utimes(join(d, '.certman-tmp-x-123'), old, old);
    await utimes(join(d, 'damaged.json'), old, old);
    await writeFile(join(d, 'README'), 'not ours');
    clock.now += 5000;
    assert.equal(await store.sweep(), 3);
    assert.deepEqual((await readdir(d)).sort(), ['README', 'pending.json']);
  });

  it('put() sweeps at most once per interval', async () => {
    const dir = await tmp();
    const clock = { now: Date.now() };
    const store = new FsTokenStore(dir, { now: () => clock.now, sweepIntervalMs: 60_000 });
    await store.put('a', ka('a'), 'a.test', 1000); // the first put sweeps (in the background)
    await new Promise((r) => setTimeout(r, 50));
    clock.now += 2000;
    await store.put('b', ka('b'), 'a.test', 60_000); // within the interval: no sweep, 'a' stays
    await new Promise((r) => setTimeout(r, 50));
    assert.ok((await readdir(challengesDir(dir))).includes('a.json'));
    clock.now += 60_000;
    await store.put('c', ka('c'), 'a.test', 60_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual((await readdir(challengesDir(dir))).sort(), ['c.json']);
  });

  it('refuses bad tokens on put and never touches a path for them on get or delete', async () => {
    const dir = await tmp();
    const store = new FsTokenStore(dir);
    await mkdir(challengesDir(dir), { recursive: true });
    await writeFile(join(dir, 'secret.json'), JSON.stringify({ token: '../secret', keyAuthorization: 'x.y', domain: 'a.test', expiresAt: 9e15 }));
    for (const bad of ['', '..', '../secret', 'a/b', 'a\\b', '%2e%2e', 'a.b', 'a\u0000', 'x'.repeat(129), 'tok ', 'ä']) {
      await assert.rejects(store.put(bad, ka(bad), 'a.test', 1000), CertmanError, JSON.stringify(bad));
      assert.equal(await store.get(bad), undefined);
      await store.delete(bad);
    }
    assert.equal(await readFile(join(dir, 'secret.json'), 'utf8').then(() => 'kept'), 'kept');
    assert.deepEqual(await readdir(challengesDir(dir)), []);
  });

  it('refuses a key authorization of another token, an invalid name and a non-positive lifetime', async () => {
    const store = new FsTokenStore(await tmp());
    await assert.rejects(store.put('tok', ka('other'), 'a.test', 1000), /does not belong/);
    await assert.rejects(store.put('tok', 'tok.with space', 'a.test', 1000), /does not belong/);
    await assert.rejects(store.put('tok', ka('tok'), 'a test', 1000), /invalid name/);
    await assert.rejects(store.put('tok', ka('tok'), 'a.test', 0), /positive/);
  });

  it('never follows a symlink, and ignores damaged, oversized and mismatched entries', async () => {
    const dir = await tmp();
    const store = new FsTokenStore(dir);
    const d = challengesDir(dir);
    await mkdir(d, { recursive: true });
    const outside = join(dir, 'outside.json');
    await writeFile(outside, encodeTokenEntry({ token: 'link', keyAuthorization: ka('link'), domain: 'a.test', expiresAt: 9e15 }));
    await symlink(outside, join(d, 'link.json'));
    assert.equal(await store.get('link'), undefined);
    await writeFile(join(d, 'garbage.json'), 'garbage');
    assert.equal(await store.get('garbage'), undefined);
    await writeFile(join(d, 'big.json'), encodeTokenEntry({ token: 'big', keyAuthorization: ka('big'), domain: 'a.test', expiresAt: 9e15 }).padEnd(20_000));
    assert.equal(await store.get('big'), undefined);
    await writeFile(join(d, 'other.json'), encodeTokenEntry({ token: 'someone', keyAuthorization: ka('someone'), domain: 'a.test', expiresAt: 9e15 }));
    assert.equal(await store.get('other'), undefined);
    await mkdir(join(d, 'dir.json'));
    assert.equal(await store.get('dir'), undefined);
  });

  it('answers nothing before the folder exists', async () => {
    const store = new FsTokenStore(join(await tmp(), 'missing'));
    assert.equal(await store.get('tok'), undefined);
    assert.equal(await store.sweep(), 0);
  });

  it('survives concurrent puts of the same token: one whole entry wins', async () => {
    const dir = await tmp();
    const store = new FsTokenStore(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('race', ka('race'), `n${i}.test`, 60_000)));
    const got = await store.get('race');
    assert.match(got?.domain ?? '', /^n\d+\.test$/);
    assert.deepEqual(await readdir(challengesDir(dir)), ['race.json']);
  });
});

class MemoryStore implements TokenStore {
  readonly entries = new Map<string, PendingToken & { ttlMs: number }>();
  async put(token: string, keyAuthorization: string, domain: string, ttlMs: number): Promise<void> {
    this.entries.set(token, { keyAuthorization, domain, ttlMs });
  }
  async get(token: string): Promise<PendingToken | undefined> {
    return this.entries.get(token);
  }
  async delete(token: string): Promise<void> {
    this.entries.delete(token);
  }
}

describe('TokenStoreResponder', () => {
  it('publishes with a lifetime, withdraws, and withdraws the rest on close', async () => {
    const memory = new MemoryStore();
    const responder = new TokenStoreResponder(memory, 5000);
    await responder.publish('a.test', 't1', ka('t1'));
    await responder.publish('b.test', 't2', ka('t2'));
    assert.deepEqual(memory.entries.get('t1'), { keyAuthorization: ka('t1'), domain: 'a.test', ttlMs: 5000 });
    await responder.unpublish('t1');
    assert.equal(memory.entries.has('t1'), false);
    await responder.close();
    await responder.close();
    assert.equal(memory.entries.size, 0);
    await assert.rejects(responder.publish('a.test', '../x', 'x'), CertmanError);
  });

  it('is what the pool opens for { kind: "responder" }, on the token store given to the pool', async () => {
    const dir = await tmp();
    const pool = new ResponderPool({ tokens: new FsTokenStore(dir) });
    const lease = await pool.acquire({ kind: 'responder' });
    await lease.publish('a.test', 'pooled', ka('pooled'));
    assert.deepEqual(await new FsTokenStore(dir).get('pooled'), { keyAuthorization: ka('pooled'), domain: 'a.test' });
    await lease.close();
    assert.equal(await new FsTokenStore(dir).get('pooled'), undefined);
    await assert.rejects(new ResponderPool().acquire({ kind: 'responder' }), /token store/);
  });
});
