// The sync --watch loop over a fake store and deployer (the real ones are in test/e2e/sync.test.ts): a first full
// pass; a change message syncs that lineage only; a feed that comes back brings a full pass; a lineage gone from the
// store is told once; passes that fail while the feed is down add no warning; the signal ends it and closes the feed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployer, Deployment } from '../../src/deploy/index.js';
import type { SyncDeps } from '../../src/deploy/sync.js';
import { watchAndSync, type WatchEvent } from '../../src/deploy/watch.js';
import type { CertificateMeta } from '../../src/lineage/types.js';
import type { ChangeFeedState, Store } from '../../src/store/index.js';
import { newCert } from '../harness/store-fixtures.js';
import { sleep } from '../harness/proc.js';

function fakeFleet() {
  const metas = new Map<string, CertificateMeta>();
  const here = new Map<string, string>();
  let onChange: (name: string) => void = () => undefined;
  let onState: (state: ChangeFeedState) => void = () => undefined;
  const calls = { lists: 0, closed: false };
  let failing = false;
  const check = () => {
    if (failing) throw new Error('store unreachable');
  };
  const store = {
    location: 'redis://fake',
    list: async () => {
      check();
      calls.lists += 1;
      return [...metas.values()];
    },
    problemDetails: () => [],
    get: async (name: string) => {
      check();
      return metas.get(name);
    },
    watch: async (change: (name: string) => void, state?: (s: ChangeFeedState) => void) => {
      onChange = change;
      onState = state ?? onState;
      return { close: async () => void (calls.closed = true) };
    },
  } as unknown as Store;
  const locate = (name: string) => ({ dir: `/live/${name}`, cert: '', chain: '', fullchain: '', privkey: '' });
  const deployer: Deployer = {
    locate,
    deployedNames: async () => [...here.keys()].sort(),
    remove: async (name) => void here.delete(name),
    deploy: async (meta): Promise<Deployment> => {
      const changed = here.get(meta.name) !== meta.serial;
      here.set(meta.name, meta.serial);
      return { ...locate(meta.name), changed };
    },
  };
  const hooks: string[] = [];
  const deps: SyncDeps = {
    store,
    deployer,
    deployHook: 'reload',
    runHook: async (command, env) => {
      hooks.push(`${env.RENEWED_LINEAGE}`);
      return { command, exitCode: 0, signal: null, output: '', durationMs: 0, ok: true };
    },
  };
  const put = (name: string, serial: string) => metas.set(name, { ...newCert(name, { serial }), version: 1 });
  return {
    deps,
    put,
    remove: (name: string) => metas.delete(name),
    change: (name: string) => onChange(name),
    state: (s: ChangeFeedState) => onState(s),
    fail: (on: boolean) => (failing = on),
    hooks,
    calls,
  };
}

async function until(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('sync --watch loop', () => {
  it('syncs everything first, then each change told, again in full once the feed is back, and stops on the signal', async () => {
    const fleet = fakeFleet();
    fleet.put('a.example', '01');
    fleet.put('b.example', '01');
    const events: WatchEvent[] = [];
    const stop = new AbortController();
    const done = watchAndSync({ selection: [], fullPassEveryMs: 60_000, signal: stop.signal, onEvent: (e) => events.push(e) }, fleet.deps);
    await until('the first pass', () => fleet.hooks.length === 2);
    assert.equal(fleet.calls.lists, 1);

    fleet.put('a.example', '02');
    fleet.change('a.example');
    await until('the change', () => fleet.hooks.length === 3);
    assert.equal(fleet.calls.lists, 1, 'a change message reads that lineage only');
    assert.equal(fleet.hooks[2], '/live/a.example');

    fleet.remove('b.example');
    fleet.change('b.example');
    await until('gone told', () => events.some((e) => e.kind === 'result' && e.result.status === 'gone'));

    fleet.state({ state: 'down', error: new Error('socket closed') });
    fleet.fail(true);
    fleet.change('a.example'); // a pass while the store is unreachable: retried, no warning of its own
    await sleep(50);
    fleet.fail(false);
    fleet.put('c.example', '01'); // saved while the feed was down: nobody was told
    fleet.state({ state: 'up' });
    await until('the full pass after the feed came back', () => fleet.hooks.includes('/live/c.example'));
    assert.equal(fleet.hooks.length, 4, 'each change ran the hook once');

    stop.abort();
    const summary = await done;
    assert.equal(fleet.calls.closed, true);
    assert.equal(summary.copied, 4);
    const told = events.map((e) => (e.kind === 'result' ? `${e.result.status} ${e.result.name}` : e.kind));
    assert.deepEqual(told, ['copied a.example', 'copied b.example', 'copied a.example', 'gone b.example', 'down', 'up', 'copied c.example'], 'gone once, no pass-failed while down');
  });
});
