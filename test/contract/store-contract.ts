// The contract every store backend passes (src/store/types.ts): lineages (save, versions, the live switch,
// crash safety at the commit point), leases (exclusive, released, expiry and takeover, extension, a lost lease
// or a fired signal refusing to write), read-modify-writes that lose no concurrent update (from two store
// objects, and from two processes where the backend can open one there), token TTLs and reading without
// write permission. Backend-neutral: it only uses the Store interface and what the backend's factory offers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { ExitCode, LeaseLostError, LockedError } from '../../src/errors.js';
import type { Lease, Store } from '../../src/store/index.js';
import { deleteLeased, newCert, pems, pendingToken, saveLeased, withCertLease } from '../harness/store-fixtures.js';

/** What a user who may read the store but not write it saw (see {@link ContractStores.readWithoutWriting}). */
export interface ReaderView {
  names: string[];
  listed: string[];
  problems: string[];
  /** get() of the first name, as JSON. */
  first?: unknown;
  /** The error any read threw, if one did. */
  error?: string;
}

/** One store's data, as many store objects (runs) see it. */
export interface ContractStores {
  /** A store object on the data. */
  store: Store;
  /** Another, independent store object on the same data: another run. */
  another(): Promise<Store>;
  /**
   * Source of an ES module expression that opens the same data in another process (`await` allowed), or
   * undefined when the backend has no separate process to offer.
   */
  openInChildSource?: string;
  /** Node arguments before `-e` for such a child (e.g. a TypeScript loader). */
  childNodeArgs?: string[];
  /** Lists the data as a principal allowed to read it but not to write it, and says whether anything changed. */
  readWithoutWriting(): Promise<{ view: ReaderView; changed: string[] }>;
}

export interface StoreBackend {
  name: string;
  /** Fresh, empty data. */
  create(): Promise<ContractStores>;
}

const NAME = 'contract.example';

/** Blocks this process's event loop for `ms`: a stalled run (a stopped VM) that extends no lease meanwhile. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Version 1 saved; `store` took a short lease and stalled past it, then `other` (another run) took the lease over.
 */
async function stalledHolder(backend: StoreBackend): Promise<{ store: Store; other: Store; lease: Lease; taken: Lease }> {
  const { store, another } = await backend.create();
  await saveLeased(store, newCert(NAME), pems('1'));
  const other = await another();
  const lease = await store.lease({ certificate: NAME }, { wait: false, leaseMs: 500 });
  stall(1200);
  const taken = await other.lease({ certificate: NAME }, { wait: false });
  return { store, other, lease, taken };
}

/** Runs a child node process with `body` after the store is opened as `store`; resolves with its stdout. */
function runChild(stores: ContractStores, body: string): Promise<string> {
  const script = `const store = ${stores.openInChildSource ?? ''};\n${body}\nawait store.close?.();\n`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(stores.childNodeArgs ?? []), '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

/** Appends `tag` to the lineage's domains: a read-modify-write whose lost updates show as missing tags. */
function addDomain(store: Store, tag: string): Promise<unknown> {
  return store.updateMeta(NAME, (current) => ({ ...current, domains: [...current.domains, `${tag}.${NAME}`] }));
}

function addOne(store: Store): Promise<unknown> {
  return store.updateState<{ n: number }>('contract-counter', (current) => ({ n: (current?.n ?? 0) + 1 }));
}

/** The contract's sections, so a backend can spread them over test files (each file has a time limit). */
export type ContractPart = 'lineages' | 'leases' | 'updates' | 'tokens' | 'readers';
export const ALL_PARTS: readonly ContractPart[] = ['lineages', 'leases', 'updates', 'tokens', 'readers'];

export function storeContract(backend: StoreBackend, parts: readonly ContractPart[] = ALL_PARTS): void {
  /** `describe` for a section this run includes; nothing otherwise (not a skip: another file runs it). */
  const part = (name: ContractPart, title: string, body: () => void): void => {
    if (parts.includes(name)) describe(title, body);
  };
  describe(`store contract: ${backend.name} (${parts.join(', ')})`, () => {
    part('lineages', 'lineages', () => {
      test('save numbers versions, switches live to the newest, and every store object sees it', async () => {
        const { store, another } = await backend.create();
        const v1 = await saveLeased(store, newCert(NAME), pems('1'));
        // Addresses (RFC 8738) and a profile are metadata like any other: the whole of it comes back below.
        const v2 = await saveLeased(store, newCert(NAME, { serial: 'ff01', domains: [NAME, '2001:db8::1', '203.0.113.7'], profile: 'shortlived' }), pems('2'));
        assert.equal(v1.version, 1);
        assert.equal(v2.version, 2);
        const other = await another();
        assert.deepEqual(await other.readFiles(NAME), pems('2'));
        assert.deepEqual(await other.get(NAME), v2);
        assert.deepEqual(await other.names(), [NAME]);
        assert.deepEqual((await other.list()).map((m) => [m.name, m.version, m.serial]), [[NAME, 2, 'ff01']]);
        assert.deepEqual(other.problemDetails(), []);
      });

      test('the preferred chain is kept with the certificate and seen by another store object', async () => {
        const { store, another } = await backend.create();
        await saveLeased(store, newCert(NAME, { preferredChain: 'Example Root X2' }), pems('1'));
        assert.equal((await (await another()).get(NAME))?.preferredChain, 'Example Root X2');
      });

      test("a certificate's endpoints (issue --endpoint) are kept and seen by another store object", async () => {
        const { store, another } = await backend.create();
        await saveLeased(store, newCert(NAME, { endpoints: ['127.0.0.1:8443', '[::1]:443'] }), pems('1'));
        assert.deepEqual((await (await another()).get(NAME))?.endpoints, ['127.0.0.1:8443', '[::1]:443']);
      });

      test("an account keeps a key rollover's pending key until it is saved without one, and its deactivation", async () => {
        const { store, another } = await backend.create();
        const account = { server: 'https://ca.test/dir', url: 'https://ca.test/acct/1', keyPem: pems('old').privkey, createdAt: '2025-01-01T00:00:00.000Z' };
        await store.saveAccount({ ...account, pendingKeyPem: pems('new').privkey });
        const other = await another();
        assert.deepEqual(await other.getAccount(account.server), { ...account, pendingKeyPem: pems('new').privkey });
        await other.saveAccount({ ...account, keyPem: pems('new').privkey, deactivatedAt: '2025-02-01T00:00:00.000Z' });
        assert.deepEqual(await store.getAccount(account.server), { ...account, keyPem: pems('new').privkey, deactivatedAt: '2025-02-01T00:00:00.000Z' });
      });

      test('serials are stored in one form: lowercase, no separators or leading zeros', async () => {
        const { store } = await backend.create();
        assert.equal((await saveLeased(store, newCert(NAME, { serial: '00:0A:BC' }), pems('1'))).serial, 'abc');
        assert.equal((await store.get(NAME))?.serial, 'abc');
      });

      test('delete removes every version and the metadata; deleting again is fine', async () => {
        const { store, another } = await backend.create();
        await saveLeased(store, newCert(NAME), pems('1'));
        await saveLeased(store, newCert('keep.example'), pems('k'));
        await deleteLeased(store, NAME);
        const other = await another();
        assert.equal(await other.get(NAME), undefined);
        assert.deepEqual(await other.names(), ['keep.example']);
        await assert.rejects(other.readFiles(NAME));
        await deleteLeased(other, NAME);
      });

      test('a save refused before its commit point leaves the previous version live, and the next save goes on', async () => {
        const { store, another } = await backend.create();
        await saveLeased(store, newCert(NAME), pems('1'));
        const cancelled = new AbortController();
        cancelled.abort(new Error('interrupted'));
        await withCertLease(store, NAME, (guard) => assert.rejects(store.save(newCert(NAME), pems('2'), { ...guard, signal: cancelled.signal }), /interrupted/));
        const other = await another();
        assert.equal((await other.get(NAME))?.version, 1);
        assert.deepEqual(await other.readFiles(NAME), pems('1'));
        const next = await saveLeased(other, newCert(NAME), pems('3'));
        assert.deepEqual(await store.readFiles(NAME), pems('3'));
        assert.equal((await store.get(NAME))?.version, next.version);
      });
    });

    part('leases', 'leases', () => {
      test('a lease is exclusive across store objects, per lineage, names what is held, and is free once released', async () => {
        const { store, another } = await backend.create();
        const other = await another();
        const lease = await store.lease({ certificate: NAME }, { wait: false });
        await assert.rejects(other.lease({ certificate: NAME }, { wait: false }), (err: unknown) => {
          assert.ok(err instanceof LockedError);
          assert.equal(err.exitCode, ExitCode.LOCKED);
          assert.match(err.message, /certificate "contract\.example"/);
          return true;
        });
        const elsewhere = await other.lease({ certificate: 'other.example' }, { wait: false });
        await elsewhere.release();
        const waiting = other.lease({ certificate: NAME }, { wait: true, timeoutMs: 20_000 });
        await lease.release();
        await lease.release(); // a second call does nothing
        const next = await waiting;
        assert.notEqual(next.owner, lease.owner);
        await next.assertHeld();
        await next.release();
      });

      test('account leases are per CA and apart from certificate leases', async () => {
        const { store, another } = await backend.create();
        const other = await another();
        const ca = 'https://ca.contract.test/directory';
        const lease = await store.lease({ account: ca }, { wait: false });
        await assert.rejects(other.lease({ account: ca }, { wait: false }), LockedError);
        const second = await other.lease({ account: 'https://other-ca.contract.test/directory' }, { wait: false });
        const cert = await other.lease({ certificate: NAME }, { wait: false });
        await Promise.all([lease.release(), second.release(), cert.release()]);
      });

      test('a wait gives up after its timeout, or when its signal fires', async () => {
        const { store, another } = await backend.create();
        const other = await another();
        const lease = await store.lease({ certificate: NAME }, { wait: false });
        await assert.rejects(other.lease({ certificate: NAME }, { wait: true, timeoutMs: 300 }), LockedError);
        const stop = new AbortController();
        const waiting = other.lease({ certificate: NAME }, { wait: true, signal: stop.signal });
        stop.abort(new Error('stopped'));
        await assert.rejects(waiting, /stopped/);
        await lease.release();
      });

      test('its holder extends it: held well past leaseMs while the holder runs', async () => {
        const { store, another } = await backend.create();
        const lease = await store.lease({ certificate: NAME }, { wait: false, leaseMs: 1500 });
        await sleep(3500);
        await lease.assertHeld();
        assert.equal(lease.signal.aborted, false);
        await assert.rejects((await another()).lease({ certificate: NAME }, { wait: false }), LockedError);
        await lease.release();
      });

      test('a holder that stalls past its expiry loses it to another run: its signal fires, it saves and deletes nothing', async () => {
        const { store, other, lease, taken } = await stalledHolder(backend);
        await assert.rejects(lease.assertHeld(), LeaseLostError);
        assert.equal(lease.signal.aborted, true);
        await assert.rejects(store.save(newCert(NAME), pems('2'), { lease }), LeaseLostError);
        await assert.rejects(store.delete(NAME, { lease }), LeaseLostError);
        assert.deepEqual(await other.readFiles(NAME), pems('1'));
        assert.equal((await other.get(NAME))?.version, 1);
        // The new holder's lease is untouched by the old one's release.
        await lease.release();
        await taken.assertHeld();
        assert.ok((await other.save(newCert(NAME), pems('3'), { lease: taken })).version > 1);
        await taken.release();
      });

      test("a stalled holder's save racing the new holder's leaves the new version whole (files and key)", async () => {
        const { store, other, lease, taken } = await stalledHolder(backend);
        // The stalled run resumes and saves what it ordered while the new holder saves: both would pick the same
        // version number; the stale one must not touch the new holder's files.
        const [stale, fresh] = await Promise.allSettled([store.save(newCert(NAME), pems('stale'), { lease }), other.save(newCert(NAME), pems('new'), { lease: taken })]);
        assert.ok(stale.status === 'rejected' && stale.reason instanceof LeaseLostError, String(stale.status));
        assert.ok(fresh.status === 'fulfilled', fresh.status === 'rejected' ? String(fresh.reason) : '');
        const saved = fresh.value;
        assert.deepEqual(await other.readFiles(NAME), pems('new'));
        assert.equal((await other.get(NAME))?.version, saved.version);
        assert.deepEqual((await other.list()).map((m) => m.version), [saved.version]);
        assert.deepEqual(other.problemDetails(), []);
        await taken.release();
      });
    });

    part('updates', 'read-modify-writes', () => {
      /** Each taken under a lock file that another store object polls for: a few are enough to collide. */
      const PER_STORE = 6;

      test('updateMeta and updateState from two store objects at once lose no update', async () => {
        const { store, another } = await backend.create();
        await saveLeased(store, newCert(NAME, { domains: [NAME] }), pems('1'));
        const other = await another();
        const tags = Array.from({ length: 2 * PER_STORE }, (_, i) => `t${i}`);
        await Promise.all(tags.map((tag, i) => addDomain(i % 2 === 0 ? store : other, tag)));
        await Promise.all(tags.map((_, i) => addOne(i % 2 === 0 ? store : other)));
        const meta = await store.get(NAME);
        assert.deepEqual(new Set(meta?.domains), new Set([NAME, ...tags.map((tag) => `${tag}.${NAME}`)]));
        assert.equal(meta?.version, 1);
        assert.deepEqual(await other.getState('contract-counter'), { n: 2 * PER_STORE });
      });

      test('updateMeta refuses a change of version, and names a missing lineage', async () => {
        const { store } = await backend.create();
        await saveLeased(store, newCert(NAME), pems('1'));
        await assert.rejects(store.updateMeta(NAME, (current) => ({ ...current, version: 7 })));
        await assert.rejects(store.updateMeta('missing.example', (current) => current), /missing\.example/);
        assert.equal((await store.updateMeta(NAME, () => undefined)).version, 1);
      });

      test('two processes updating at once lose no update', async (t) => {
        const stores = await backend.create();
        if (stores.openInChildSource === undefined) {
          t.skip(`${backend.name} has no second process to offer`);
          return;
        }
        const { store } = stores;
        await saveLeased(store, newCert(NAME, { domains: [NAME] }), pems('1'));
        const body = (tag: string) => `
          await Promise.all(Array.from({ length: ${PER_STORE} }, async (_, i) => {
            await store.updateMeta(${JSON.stringify(NAME)}, (c) => ({ ...c, domains: [...c.domains, '${tag}' + i + '.${NAME}'] }));
            await store.updateState('contract-counter', (c) => ({ n: (c?.n ?? 0) + 1 }));
          }));`;
        await Promise.all([runChild(stores, body('a')), runChild(stores, body('b')), ...Array.from({ length: PER_STORE }, (_, i) => addDomain(store, `c${i}`))]);
        const domains = (await store.get(NAME))?.domains ?? [];
        assert.equal(domains.length, 1 + 3 * PER_STORE, domains.join(' '));
        assert.deepEqual(await store.getState('contract-counter'), { n: 2 * PER_STORE });
      });
    });

    part('tokens', 'tokens', () => {
      /** A key authorization is the token, a dot and the account key's thumbprint. */
      const ka = (token: string) => `${token}.thumbprint-AB`;

      test('put, get from another store object, delete (twice), and unknown tokens', async () => {
        const { store, another } = await backend.create();
        const other = await another();
        const before = Date.now();
        await store.tokens.put('tok_1', ka('tok_1'), 'a.contract.test', 60_000);
        const { expiresAt, ...pending } = (await other.tokens.get('tok_1')) ?? {};
        assert.deepEqual(pending, { keyAuthorization: ka('tok_1'), domain: 'a.contract.test' });
        // The expiry, when a backend gives it, is the one put() set.
        assert.ok(expiresAt === undefined || (expiresAt >= before + 60_000 && expiresAt <= Date.now() + 60_000), String(expiresAt));
        assert.equal(await other.tokens.get('tok_2'), undefined);
        assert.equal(await other.tokens.get('../x'), undefined);
        await other.tokens.delete('tok_1');
        await other.tokens.delete('tok_1');
        assert.equal(await store.tokens.get('tok_1'), undefined);
      });

      test('a token expires after its TTL', async () => {
        const { store, another } = await backend.create();
        await store.tokens.put('tok_short', ka('tok_short'), 'a.contract.test', 300);
        await store.tokens.put('tok_long', ka('tok_long'), 'b.contract.test', 60_000);
        await sleep(700);
        const other = await another();
        assert.equal(await other.tokens.get('tok_short'), undefined);
        assert.deepEqual(await pendingToken(other, 'tok_long'), { keyAuthorization: ka('tok_long'), domain: 'b.contract.test' });
      });

      test('counts the tokens pending now, not expired or withdrawn ones, from any store object', async () => {
        const { store, another } = await backend.create();
        assert.equal(typeof store.tokens.pendingCount, 'function', 'every backend counts its pending tokens');
        assert.equal(await store.tokens.pendingCount?.(), 0);
        for (const token of ['tok_a', 'tok_b']) await store.tokens.put(token, ka(token), 'a.contract.test', 60_000);
        await store.tokens.put('tok_gone', ka('tok_gone'), 'a.contract.test', 300);
        await sleep(700);
        const other = await another();
        assert.equal(await other.tokens.pendingCount?.(), 2);
        await other.tokens.delete('tok_a');
        assert.equal(await store.tokens.pendingCount?.(), 1);
      });
    });

    part('readers', 'reading without write permission', () => {
      test('a principal that may only read gets names, the listing and metadata, never an error, and changes nothing', async () => {
        const stores = await backend.create();
        await saveLeased(stores.store, newCert('a.example'), pems('a'));
        await saveLeased(stores.store, newCert('b.example'), pems('b'));
        const { view, changed } = await stores.readWithoutWriting();
        assert.equal(view.error, undefined);
        assert.deepEqual(view.names, ['a.example', 'b.example']);
        assert.deepEqual(view.listed, ['a.example', 'b.example']);
        assert.deepEqual(view.problems, []);
        assert.deepEqual(view.first, JSON.parse(JSON.stringify(await stores.store.get('a.example'))));
        assert.deepEqual(changed, []);
      });
    });
  });
}
