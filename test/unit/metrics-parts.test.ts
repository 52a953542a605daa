import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeOf } from '../../src/challenge/server/outcomes.js';
import { parseListenAddress } from '../../src/cli/listen-address.js';
import { UsageError } from '../../src/errors.js';
import { CachedText } from '../../src/metrics/store-text.js';
import { RENEWAL_ATTEMPTS_KEY, recordAttempt } from '../../src/renewal/attempts.js';
import { FailureBudget } from '../../src/renewal/budget.js';
import { OrderBudget } from '../../src/renewal/order-budget.js';
import { MemoryState } from './memory-state.js';

const silent = { warn: () => undefined };

describe('--metrics-address', () => {
  it('takes an IPv4 address and port, or an IPv6 one in brackets', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:9402', '--metrics-address'), { host: '127.0.0.1', port: 9402 });
    assert.deepEqual(parseListenAddress('[::1]:9402', '--metrics-address'), { host: '::1', port: 9402 });
    assert.deepEqual(parseListenAddress('[fe80::1%lo]:1', '--metrics-address'), { host: 'fe80::1%lo', port: 1 });
  });

  it('refuses names, bare IPv6, bracketed IPv4, missing or bad ports with a usage error naming the flag', () => {
    for (const bad of ['localhost:9402', '::1:9402', '::1', '[127.0.0.1]:9402', '127.0.0.1', '127.0.0.1:', '127.0.0.1:0', '127.0.0.1:65536', '[::1]', '[::1]:x', ':9402', '']) {
      assert.throws(() => parseListenAddress(bad, '--metrics-address'), (err: unknown) => err instanceof UsageError && err.message.startsWith('--metrics-address must be'), bad);
    }
  });
});

describe('request outcomes', () => {
  it('are told from the target kind and the status', () => {
    assert.equal(outcomeOf('token', 200, true, false), 'answered');
    assert.equal(outcomeOf('token', 404, true, false), 'unknown_token');
    assert.equal(outcomeOf('reject', 404, true, false), 'not_found');
    assert.equal(outcomeOf('other', 404, true, false), 'not_found');
    assert.equal(outcomeOf('other', 301, true, false), 'redirected');
    assert.equal(outcomeOf('other', 502, true, true), 'proxied');
    assert.equal(outcomeOf('other', 429, true, true), 'too_many_pipelined');
    assert.equal(outcomeOf('invalid', 400, true, false), 'bad_request');
    assert.equal(outcomeOf('token', 405, true, false), 'method_not_allowed');
    assert.equal(outcomeOf('token', 503, true, false), 'store_error');
    assert.equal(outcomeOf('token', 200, false, false), 'abandoned');
  });
});

describe('the scrape cache', () => {
  it('computes once per period, and callers at the same time share one computation', async () => {
    let now = 0;
    let computed = 0;
    const cache = new CachedText(async () => `text ${(computed += 1)}`, 5000, () => now);
    assert.deepEqual(await Promise.all([cache.get(), cache.get(), cache.get()]), ['text 1', 'text 1', 'text 1']);
    now = 4999;
    assert.equal(await cache.get(), 'text 1');
    now = 5000;
    assert.equal(await cache.get(), 'text 2');
  });

  it('does not keep a failed computation', async () => {
    let fail = true;
    const cache = new CachedText(async () => {
      if (fail) throw new Error('down');
      return 'back';
    }, 5000);
    await assert.rejects(cache.get(), /down/);
    fail = false;
    assert.equal(await cache.get(), 'back');
  });
});

describe('budget in use', () => {
  it('counts failed validations per name within the hour, those stored without an account included', async () => {
    const now = new Date('2026-01-01T12:00:00Z');
    const state = new MemoryState();
    state.set('failed-validations', {
      'https://ca/acct/1': { 'a.example': ['2026-01-01T11:30:00Z', '2026-01-01T11:40:00Z', '2026-01-01T10:00:00Z'], 'b.example': ['2026-01-01T11:59:00Z'] },
      'https://ca/acct/2': { 'a.example': ['2026-01-01T11:50:00Z'] },
      'b.example': ['2026-01-01T11:00:30Z'],
    });
    const budget = await FailureBudget.load(state, { clock: () => now });
    assert.deepEqual(Object.fromEntries(budget.usedBy('https://ca/acct/1', now)), { 'a.example': 2, 'b.example': 2 });
    assert.deepEqual(Object.fromEntries(budget.usedBy('https://ca/acct/3', now)), { 'b.example': 1 });
  });

  it('counts new orders within the 3-hour window', async () => {
    const state = new MemoryState();
    state.set('new-orders', { 'https://ca/acct/1': ['2026-01-01T08:00:00Z', '2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z'] });
    const orders = await OrderBudget.load(state);
    assert.equal(orders.usedBy('https://ca/acct/1', new Date('2026-01-01T12:00:00Z')), 2);
    assert.equal(orders.usedBy('https://ca/acct/2', new Date('2026-01-01T12:00:00Z')), 0);
  });
});

describe('renewal attempts', () => {
  it('keeps the last attempt per certificate and drops certificates no longer stored when an entry is added', async () => {
    const state = new MemoryState();
    let names = ['a', 'b'];
    const store = Object.assign(state, { names: async () => names });
    await recordAttempt(store, 'a', 'failure', new Date('2026-01-01T00:00:00Z'), silent);
    await recordAttempt(store, 'b', 'success', new Date('2026-01-01T00:01:00Z'), silent);
    await recordAttempt(store, 'a', 'success', new Date('2026-01-01T00:02:00Z'), silent);
    assert.deepEqual(await state.getState(RENEWAL_ATTEMPTS_KEY), { a: { at: '2026-01-01T00:02:00.000Z', result: 'success' }, b: { at: '2026-01-01T00:01:00.000Z', result: 'success' } });
    // `a` was deleted: an update of a known entry lists nothing, the next new entry drops it.
    names = ['b', 'c'];
    await recordAttempt(store, 'b', 'failure', new Date('2026-01-01T00:03:00Z'), silent);
    assert.equal(Object.keys((await state.getState<object>(RENEWAL_ATTEMPTS_KEY)) ?? {}).length, 2);
    await recordAttempt(store, 'c', 'success', new Date('2026-01-01T00:04:00Z'), silent);
    assert.deepEqual(await state.getState(RENEWAL_ATTEMPTS_KEY), { b: { at: '2026-01-01T00:03:00.000Z', result: 'failure' }, c: { at: '2026-01-01T00:04:00.000Z', result: 'success' } });
  });

  it('is a warning, never a failure, when the store cannot take it', async () => {
    const warnings: string[] = [];
    const store = { names: async () => ['a'], getState: async () => undefined, updateState: async () => Promise.reject(new Error('disk full')) };
    await recordAttempt(store, 'a', 'success', new Date(), { warn: (m: string) => void warnings.push(m) });
    assert.deepEqual(warnings, ['the renewal attempt of a was not recorded: disk full']);
  });
});
