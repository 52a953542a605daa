import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';

import { FAILED_VALIDATIONS_KEY, FailureBudget, type FailedValidations } from '../../src/renewal/budget.js';
import { CertmanError } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { configDirs } from './config-dirs.js';
import { MemoryState, writeDamagedState } from './memory-state.js';

const HOUR = 3_600_000;
/** The CA account that failed, in most tests. */
const ACC = 'https://ca.test/acme/acct/1';
const MIN = 60_000;

const freshDir = configDirs('budget');

/** The failed-validation document of `state`. */
const docOf = (state: MemoryState): FailedValidations | undefined => state.doc<FailedValidations>(FAILED_VALIDATIONS_KEY);

const ago = (now: Date, ms: number): Date => new Date(now.getTime() - ms);

describe('FailureBudget', () => {
  test('3 failures within the hour block the name until the oldest + 1 h', async () => {
    const now = new Date();
    const budget = await FailureBudget.load(new MemoryState());
    assert.equal(budget.limit, 3);
    assert.equal(budget.windowMs, HOUR);
    budget.recordFailures(ACC, ['example.com'], ago(now, 50 * MIN));
    budget.recordFailures(ACC, ['example.com'], ago(now, 20 * MIN));
    assert.equal(budget.blockedUntil(ACC, 'example.com', now), undefined, 'two failures do not block');
    budget.recordFailures(ACC, ['example.com'], ago(now, 5 * MIN));
    assert.deepEqual(budget.blockedUntil(ACC, 'example.com', now), new Date(now.getTime() + 10 * MIN));
    // Still blocked just before, free from that time on.
    assert.ok(budget.blockedUntil(ACC, 'example.com', new Date(now.getTime() + 10 * MIN - 1)) !== undefined);
    assert.equal(budget.blockedUntil(ACC, 'example.com', new Date(now.getTime() + 10 * MIN)), undefined);
    // Other names are not affected.
    assert.equal(budget.blockedUntil(ACC, 'other.example', now), undefined);
  });

  test('each CA account has its own budget for a name (Let\'s Encrypt counts per account)', async () => {
    const now = new Date();
    const other = 'https://ca.test/acme/acct/2';
    const budget = await FailureBudget.load(new MemoryState());
    for (const m of [3, 2, 1]) budget.recordFailures(ACC, ['a.example'], ago(now, m * MIN));
    assert.ok(budget.blockedUntil(ACC, 'a.example', now) !== undefined);
    assert.equal(budget.blockedUntil(other, 'a.example', now), undefined);
    assert.throws(() => budget.recordFailures('', ['a.example'], now), CertmanError);
  });

  test('a document of names only (before accounts were counted) counts against every account, and is kept', async () => {
    const now = new Date();
    const state = new MemoryState();
    const legacy = [ago(now, 30 * MIN), ago(now, 20 * MIN)].map((d) => d.toISOString());
    state.set(FAILED_VALIDATIONS_KEY, { 'a.example': legacy, [ACC]: { 'a.example': 'not a list' }, 'with space': { 'b.example': [now.toISOString()] } });
    const budget = await FailureBudget.load(state, { clock: () => now });
    assert.equal(budget.blockedUntil(ACC, 'a.example', now), undefined, 'two failures do not block');
    budget.recordFailures(ACC, ['a.example'], ago(now, 10 * MIN));
    assert.deepEqual(budget.blockedUntil(ACC, 'a.example', now), new Date(now.getTime() + 30 * MIN));
    assert.equal(budget.blockedUntil('https://ca.test/acme/acct/2', 'a.example', now), undefined);
    await budget.save();
    assert.deepEqual(docOf(state), { 'a.example': legacy, [ACC]: { 'a.example': [ago(now, 10 * MIN).toISOString()] } });
    assert.deepEqual((await FailureBudget.load(state, { clock: () => now })).blockedUntil(ACC, 'a.example', now), new Date(now.getTime() + 30 * MIN));
  });

  test('2 failures do not block; failures older than the window do not count', async () => {
    const now = new Date();
    const budget = await FailureBudget.load(new MemoryState());
    budget.recordFailures(ACC, ['a.example'], ago(now, 2 * MIN));
    budget.recordFailures(ACC, ['a.example'], ago(now, MIN));
    assert.equal(budget.blockedUntil(ACC, 'a.example', now), undefined);
    budget.recordFailures(ACC, ['b.example'], ago(now, 2 * HOUR));
    budget.recordFailures(ACC, ['b.example'], ago(now, HOUR + 1));
    budget.recordFailures(ACC, ['b.example'], ago(now, MIN));
    assert.equal(budget.blockedUntil(ACC, 'b.example', now), undefined);
  });

  test('more failures than the limit: blocked until enough have left the window', async () => {
    const now = new Date();
    const budget = await FailureBudget.load(new MemoryState());
    for (const m of [40, 30, 20, 10]) budget.recordFailures(ACC, ['x.example'], ago(now, m * MIN));
    // After the oldest (40 min ago) leaves, three remain: free once the one of 30 min ago leaves.
    assert.deepEqual(budget.blockedUntil(ACC, 'x.example', now), new Date(now.getTime() + 30 * MIN));
  });

  test('one call records every name once; names are case-insensitive', async () => {
    const now = new Date();
    const budget = await FailureBudget.load(new MemoryState());
    budget.recordFailures(ACC, ['A.example', 'b.example', 'a.example'], now);
    budget.recordFailures(ACC, ['a.example'], now);
    budget.recordFailures(ACC, ['a.example'], now);
    assert.ok(budget.blockedUntil(ACC, 'a.example', now) !== undefined);
    assert.equal(budget.blockedUntil(ACC, 'b.example', now), undefined);
  });

  test('limit and window options', async () => {
    const now = new Date();
    const budget = await FailureBudget.load(new MemoryState(), { limit: 1, windowMs: 10 * MIN });
    budget.recordFailures(ACC, ['a.example'], ago(now, 4 * MIN));
    assert.deepEqual(budget.blockedUntil(ACC, 'a.example', now), new Date(now.getTime() + 6 * MIN));
    await assert.rejects(FailureBudget.load(new MemoryState(), { limit: 0 }), CertmanError);
    await assert.rejects(FailureBudget.load(new MemoryState(), { windowMs: -1 }), CertmanError);
  });

  test('entries older than the window are pruned on load and save', async () => {
    const now = new Date();
    const state = new MemoryState();
    state.set(FAILED_VALIDATIONS_KEY, {
      'old.example': [ago(now, 3 * HOUR).toISOString(), ago(now, 2 * HOUR).toISOString()],
      'mixed.example': [ago(now, 2 * HOUR).toISOString(), ago(now, 10 * MIN).toISOString()],
      'junk.example': 'not a list',
      'bad-times.example': ['yesterday-ish', 42],
    });
    const budget = await FailureBudget.load(state, { clock: () => now });
    await budget.save();
    assert.deepEqual(docOf(state), { 'mixed.example': [ago(now, 10 * MIN).toISOString()] });

    // Pruned by the clock at save time too: an hour later the remaining entry is gone.
    let clock = now;
    const budget2 = await FailureBudget.load(state, { clock: () => clock });
    clock = new Date(now.getTime() + HOUR);
    await budget2.save();
    assert.deepEqual(docOf(state), {});
  });

  test('persistence round trip through a real FileStore', async () => {
    const dir = freshDir();
    const now = new Date();
    const store = await openStore(dir);
    const budget = await FailureBudget.load(store);
    budget.recordFailures(ACC, ['example.com', 'www.example.com'], ago(now, 30 * MIN));
    budget.recordFailures(ACC, ['example.com'], ago(now, 20 * MIN));
    budget.recordFailures(ACC, ['example.com'], ago(now, 10 * MIN));
    await budget.save();

    const text = await readFile(path.join(dir, 'state', 'failed-validations.json'), 'utf8');
    assert.deepEqual(JSON.parse(text), {
      [ACC]: {
        'example.com': [ago(now, 30 * MIN), ago(now, 20 * MIN), ago(now, 10 * MIN)].map((d) => d.toISOString()),
        'www.example.com': [ago(now, 30 * MIN).toISOString()],
      },
    });

    const reloaded = await FailureBudget.load(await openStore(dir));
    assert.deepEqual(reloaded.blockedUntil(ACC, 'example.com', now), new Date(now.getTime() + 30 * MIN));
    assert.equal(reloaded.blockedUntil(ACC, 'www.example.com', now), undefined);
    assert.equal(reloaded.problem, undefined);
  });

  test('save re-reads and merges: two budgets saving in turn keep each other’s failures', async () => {
    const dir = freshDir();
    const now = new Date();
    const first = await FailureBudget.load(await openStore(dir));
    const second = await FailureBudget.load(await openStore(dir));
    first.recordFailures(ACC, ['a.example'], ago(now, 3 * MIN));
    second.recordFailures(ACC, ['a.example', 'b.example'], ago(now, 2 * MIN));
    await first.save();
    await second.save();
    first.recordFailures(ACC, ['c.example'], ago(now, MIN));
    await first.save();

    const doc = await (await openStore(dir)).getState<FailedValidations>(FAILED_VALIDATIONS_KEY);
    assert.deepEqual(doc, {
      [ACC]: {
        'a.example': [ago(now, 3 * MIN).toISOString(), ago(now, 2 * MIN).toISOString()],
        'b.example': [ago(now, 2 * MIN).toISOString()],
        'c.example': [ago(now, MIN).toISOString()],
      },
    });
    // After saving, an instance also sees what the other one stored.
    assert.equal(first.blockedUntil(ACC, 'a.example', now), undefined);
    first.recordFailures(ACC, ['a.example'], now);
    assert.deepEqual(first.blockedUntil(ACC, 'a.example', now), new Date(ago(now, 3 * MIN).getTime() + HOUR));
  });

  test('saving twice does not duplicate entries', async () => {
    const state = new MemoryState();
    const now = new Date();
    const budget = await FailureBudget.load(state);
    budget.recordFailures(ACC, ['a.example'], now);
    await budget.save();
    await budget.save();
    assert.deepEqual(docOf(state), { [ACC]: { 'a.example': [now.toISOString()] } });
  });

  test('several renewals recording concurrently, then one save', async () => {
    const dir = freshDir();
    const store = await openStore(dir);
    const budget = await FailureBudget.load(store);
    const now = new Date();
    const names = Array.from({ length: 20 }, (_, i) => `n${i}.example`);
    await Promise.all(
      names.map(async (name, i) => {
        await new Promise((resolve) => setTimeout(resolve, i % 5));
        budget.recordFailures(ACC, [name, 'shared.example'], ago(now, i * 1000));
      }),
    );
    await Promise.all([budget.save(), budget.save()]);
    const doc = (await store.getState<Record<string, Record<string, string[]>>>(FAILED_VALIDATIONS_KEY))?.[ACC];
    assert.equal(Object.keys(doc ?? {}).length, 21);
    assert.equal(doc?.['shared.example']?.length, 20);
  });

  test('a failure recorded while a save is in flight is kept for the next save', async () => {
    const state = new MemoryState();
    const now = new Date();
    const budget = await FailureBudget.load(state);
    budget.recordFailures(ACC, ['a.example'], ago(now, 2000));
    const saving = budget.save();
    budget.recordFailures(ACC, ['b.example'], ago(now, 1000));
    await saving;
    await budget.save();
    assert.deepEqual(Object.keys(docOf(state)?.[ACC] ?? {}).sort(), ['a.example', 'b.example']);
  });

  test('a failed save keeps its failures for the next one', async () => {
    const state = new MemoryState();
    const now = new Date();
    const budget = await FailureBudget.load(state);
    budget.recordFailures(ACC, ['a.example'], now);
    const update = state.updateState.bind(state);
    state.updateState = async () => {
      throw new CertmanError('disk full');
    };
    await assert.rejects(budget.save(), /disk full/);
    state.updateState = update;
    await budget.save();
    assert.deepEqual(docOf(state), { [ACC]: { 'a.example': [now.toISOString()] } });
  });

  test('a damaged stored document does not stop renewals: ignored, reported, replaced on save', async () => {
    const dir = freshDir();
    const file = await writeDamagedState(dir, FAILED_VALIDATIONS_KEY, '{"a.example": ["2025-');
    const store = await openStore(dir);
    const budget = await FailureBudget.load(store);
    assert.ok(budget.problem?.includes(file), budget.problem);
    const now = new Date();
    budget.recordFailures(ACC, ['a.example'], now);
    await budget.save();
    assert.deepEqual(await store.getState(FAILED_VALIDATIONS_KEY), { [ACC]: { 'a.example': [now.toISOString()] } });
  });
});
