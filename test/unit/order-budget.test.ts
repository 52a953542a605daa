// The new-order budget per CA account (counted as orders are sent, atomically, pruned to 3 hours) and CaBudget,
// which answers for renew, issue and `certificates` whether an account may order names now, and until when not.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { BudgetDeferral, CertmanError } from '../../src/errors.js';
import { CaBudget } from '../../src/renewal/ca-budget.js';
import { countOrder, DEFAULT_ORDER_LIMIT, NEW_ORDERS_KEY, OrderBudget, parseOrders, type NewOrders } from '../../src/renewal/order-budget.js';
import { RATE_LIMITS_KEY } from '../../src/renewal/rate-limits.js';
import { FAILED_VALIDATIONS_KEY } from '../../src/renewal/budget.js';
import { openStore } from '../../src/store/index.js';
import { configDirs } from './config-dirs.js';
import { MemoryState, writeDamagedState } from './memory-state.js';

const HOUR = 3_600_000;
const MIN = 60_000;
const ACC = 'https://ca.test/acme/acct/1';
const OTHER = 'https://ca.test/acme/acct/2';
const SERVER = 'https://ca.test/dir';
const freshDir = configDirs('order-budget');
const at = (now: Date, ms: number): Date => new Date(now.getTime() + ms);
const docOf = (state: MemoryState): NewOrders | undefined => state.doc<NewOrders>(NEW_ORDERS_KEY);

describe('countOrder', () => {
  test('counts up to the limit, then says when the oldest leaves the window and counts nothing', () => {
    const orders = new Map<string, number[]>();
    assert.equal(countOrder(orders, ACC, 1000, 2, HOUR), undefined);
    assert.equal(countOrder(orders, ACC, 2000, 2, HOUR), undefined);
    assert.deepEqual(countOrder(orders, ACC, 3000, 2, HOUR), new Date(1000 + HOUR));
    assert.deepEqual(orders.get(ACC), [1000, 2000]);
    // Other accounts are not affected; once the oldest has left, one more fits.
    assert.equal(countOrder(orders, OTHER, 3000, 2, HOUR), undefined);
    assert.equal(countOrder(orders, ACC, 1000 + HOUR, 2, HOUR), undefined);
    assert.deepEqual(orders.get(ACC), [2000, 1000 + HOUR]);
  });

  test('parseOrders keeps only lists of valid timestamps under an account', () => {
    const parsed = parseOrders({ [ACC]: ['2026-01-01T00:00:00.000Z', 'soon', 7], [OTHER]: 'x', '': ['2026-01-01T00:00:00.000Z'] });
    assert.deepEqual([...parsed], [[ACC, [Date.parse('2026-01-01T00:00:00.000Z')]]]);
    assert.equal(parseOrders(['a']).size, 0);
    assert.equal(parseOrders(null).size, 0);
  });
});

describe('OrderBudget', () => {
  test('defaults to Let\'s Encrypt\'s 300 per 3 hours; bad limits are refused', async () => {
    const budget = await OrderBudget.load(new MemoryState());
    assert.equal(budget.limit, DEFAULT_ORDER_LIMIT);
    assert.equal(budget.windowMs, 3 * HOUR);
    await assert.rejects(OrderBudget.load(new MemoryState(), { limit: 0 }), CertmanError);
    await assert.rejects(OrderBudget.load(new MemoryState(), { limit: 1.5 }), CertmanError);
  });

  test('take() counts each order in the store, per account, pruning what left the window', async () => {
    const now = new Date();
    const state = new MemoryState();
    state.set(NEW_ORDERS_KEY, { [ACC]: [at(now, -4 * HOUR).toISOString()], [OTHER]: [at(now, -5 * HOUR).toISOString()] });
    const budget = await OrderBudget.load(state, { limit: 2 });
    assert.equal(await budget.take(ACC, at(now, -2 * HOUR)), undefined);
    assert.equal(await budget.take(ACC, now), undefined);
    assert.deepEqual(await budget.take(ACC, now), at(now, HOUR), 'full until the first counted one is 3 hours old');
    assert.deepEqual(docOf(state), { [ACC]: [at(now, -2 * HOUR), now].map((d) => d.toISOString()) });
    assert.deepEqual(budget.blockedUntil(ACC, now), at(now, HOUR));
    assert.equal(budget.blockedUntil(OTHER, now), undefined);
  });

  test('checks read what was loaded and never write', async () => {
    const now = new Date();
    const state = new MemoryState();
    state.set(NEW_ORDERS_KEY, { [ACC]: [at(now, -MIN).toISOString()] });
    const budget = await OrderBudget.load(state, { limit: 1 });
    assert.deepEqual(budget.blockedUntil(ACC, now), at(now, 3 * HOUR - MIN));
    assert.equal(state.puts, 0);
  });

  test('two nodes on one store folder: each sees the other\'s orders, and together they send no more than the limit', async () => {
    const dir = freshDir();
    const nodeA = await OrderBudget.load(await openStore(dir), { limit: 5 });
    const nodeB = await OrderBudget.load(await openStore(dir), { limit: 5 });
    const now = new Date();
    const taken = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? nodeA : nodeB).take(ACC, now)));
    assert.equal(taken.filter((until) => until === undefined).length, 5);
    const stored = await (await openStore(dir)).getState<NewOrders>(NEW_ORDERS_KEY);
    assert.equal(stored?.[ACC]?.length, 5);
    const late = await OrderBudget.load(await openStore(dir), { limit: 5 });
    assert.deepEqual(late.blockedUntil(ACC, now), at(now, 3 * HOUR));
  });

  test('a damaged document does not stop orders: ignored, reported, replaced by the next take', async () => {
    const dir = freshDir();
    const file = await writeDamagedState(dir, NEW_ORDERS_KEY, '{"https://ca');
    const store = await openStore(dir);
    const budget = await OrderBudget.load(store);
    assert.ok(budget.problem?.includes(file), budget.problem);
    const now = new Date();
    assert.equal(await budget.take(ACC, now), undefined);
    assert.deepEqual(await store.getState(NEW_ORDERS_KEY), { [ACC]: [now.toISOString()] });
  });
});

describe('CaBudget', () => {
  test('a rate-limit pause, then failed validations, then new orders hold an account back, each with its time', async () => {
    const now = new Date();
    const state = new MemoryState();
    state.set(NEW_ORDERS_KEY, { [ACC]: [at(now, -HOUR).toISOString()] });
    state.set(FAILED_VALIDATIONS_KEY, { [ACC]: { 'bad.example': [-30, -20, -10].map((m) => at(now, m * MIN).toISOString()) } });
    const options = { failedValidationLimit: 3, newOrderLimit: 1 };
    let budget = await CaBudget.load(state, options, now);
    const failed = budget.deferral(SERVER, ACC, ['ok.example', 'bad.example'], now);
    assert.match(failed?.reason ?? '', /^bad\.example failed validation 3 times in the last hour; not asking the CA again before /);
    assert.deepEqual(failed?.until, at(now, 30 * MIN));
    const orders = budget.deferral(SERVER, ACC, ['ok.example'], now);
    assert.match(orders?.reason ?? '', /^account https:\/\/ca\.test\/acme\/acct\/1 sent 1 new orders in the last 3 hours \(config newOrderLimit\); no new order before /);
    assert.deepEqual(orders?.until, at(now, 2 * HOUR));
    assert.equal(budget.deferral(SERVER, OTHER, ['bad.example'], now), undefined, 'another account is free');
    assert.throws(() => budget.check(SERVER, ACC, ['ok.example'], now), (err: unknown) => err instanceof BudgetDeferral && err.until.getTime() === at(now, 2 * HOUR).getTime());
    budget.check(SERVER, OTHER, ['ok.example'], now);

    state.set(RATE_LIMITS_KEY, { records: [{ server: SERVER, account: ACC, until: at(now, 5 * HOUR).toISOString(), detail: 'slow down' }] });
    budget = await CaBudget.load(state, options, now);
    assert.deepEqual(budget.deferral(SERVER, ACC, ['bad.example'], now)?.until, at(now, 5 * HOUR));
    assert.equal(state.puts, 0, 'loading and checking write nothing');
  });

  test('takeOrder throws BudgetDeferral at the limit and warns when the store cannot count; saveFailures writes only what was recorded', async () => {
    const now = new Date();
    const state = new MemoryState();
    const budget = await CaBudget.load(state, { newOrderLimit: 1 }, now);
    const warnings: string[] = [];
    const report = { warn: (message: string) => warnings.push(message) };
    await budget.takeOrder(ACC, now, report);
    await assert.rejects(budget.takeOrder(ACC, now, report), (err: unknown) => err instanceof BudgetDeferral && /no new order before/.test(err.message));
    assert.deepEqual(warnings, []);
    const puts = state.puts;
    await budget.saveFailures(report);
    assert.equal(state.puts, puts, 'nothing recorded, nothing written');
    budget.failures.recordFailures(ACC, ['a.example'], now);
    state.updateState = async () => {
      throw new CertmanError('disk full');
    };
    await budget.saveFailures(report);
    await budget.takeOrder(OTHER, now, report);
    assert.deepEqual(warnings, ['the failed-validation records were not saved: disk full', 'the new order was not counted: disk full']);
  });

  test('damaged documents are named in its problems', async () => {
    const dir = freshDir();
    for (const key of [NEW_ORDERS_KEY, FAILED_VALIDATIONS_KEY]) await writeDamagedState(dir, key, '{');
    const budget = await CaBudget.load(await openStore(dir), {}, new Date());
    assert.deepEqual(
      budget.problems.map((p) => p.split(':')[0]),
      ['failed-validation records were unreadable and start afresh', 'new-order records were unreadable and start afresh'],
    );
  });
});
