// The failed-renewal backoff per certificate (1 minute, 10 minutes, 100 minutes, then a day; a CA's later time
// wins), stored with the CA budget, and how CaBudget weighs it against the account's budget.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { AcmeProblemError } from '../../src/errors.js';
import { backoffDeadline, backoffReason, clearBackoff, backoffStepMs, caTimeOf, nextAttemptAfter, parseBackoff, RENEWAL_BACKOFF_KEY, RenewalBackoff, type BackoffEntry } from '../../src/renewal/backoff.js';
import { CaBudget } from '../../src/renewal/ca-budget.js';
import { RATE_LIMITS_KEY } from '../../src/renewal/rate-limits.js';
import { MemoryState } from './memory-state.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const NOW = new Date('2026-12-03T12:00:00.000Z');
const at = (ms: number): Date => new Date(NOW.getTime() + ms);
const silent = { warn: () => undefined };
/** A 90-day certificate issued 30 days ago, far from expiry. */
const cert = (name: string, notAfter = at(60 * DAY), notBefore = at(-30 * DAY)) => ({ name, domains: [`${name}.test`], notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString() });

describe('backoff steps', () => {
  test('1 minute after the first failure, 10 after the second, 100 after the third, a day after every further one', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 50].map(backoffStepMs), [MIN, 10 * MIN, 100 * MIN, DAY, DAY, DAY]);
  });

  test('the next attempt is the step after the failure, or the CA\'s time when that is later (at most a week)', () => {
    assert.deepEqual(nextAttemptAfter(1, NOW), at(MIN));
    assert.deepEqual(nextAttemptAfter(3, NOW), at(100 * MIN));
    assert.deepEqual(nextAttemptAfter(1, NOW, at(30 * MIN)), at(30 * MIN), 'the CA asked for longer');
    assert.deepEqual(nextAttemptAfter(4, NOW, at(30 * MIN)), at(DAY), 'the step is longer');
    assert.deepEqual(nextAttemptAfter(1, NOW, at(100 * DAY)), at(7 * DAY), 'a wrong header cannot stop renewals for good');
  });

  test('the CA\'s time: a rateLimited answer (an hour when it names none) or any problem\'s Retry-After', () => {
    const limited = (retryAfter?: Date) => new AcmeProblemError({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'slow down', ...(retryAfter === undefined ? {} : { retryAfter }) });
    assert.deepEqual(caTimeOf(limited(at(5 * MIN)), NOW), at(5 * MIN));
    assert.deepEqual(caTimeOf(limited(), NOW), at(60 * MIN));
    assert.deepEqual(caTimeOf(new AcmeProblemError({ type: 'urn:ietf:params:acme:error:serverInternal', detail: 'down', retryAfter: at(20 * MIN) }), NOW), at(20 * MIN));
    assert.equal(caTimeOf(new Error('validation failed'), NOW), undefined);
  });
});

describe('RenewalBackoff', () => {
  test('counts failures in a row from what is stored (another node\'s count too) and a success clears them', async () => {
    const state = new MemoryState();
    const backoff = await RenewalBackoff.load(state);
    assert.equal((await backoff.recordFailure('a', 'boom', NOW)).failures, 1);
    assert.equal(backoff.waiting(cert('a'), at(MIN - 1))?.failures, 1);
    assert.equal(backoff.waiting(cert('a'), at(MIN)), undefined, 'the step has passed');
    // Another node failed it meanwhile.
    const stored = state.doc<Record<string, BackoffEntry>>(RENEWAL_BACKOFF_KEY) ?? {};
    state.set(RENEWAL_BACKOFF_KEY, { ...stored, a: { ...stored['a'], failures: 2 } });
    const third = await backoff.recordFailure('a', 'boom again', at(2 * MIN));
    assert.deepEqual(third, { failures: 3, lastFailure: at(2 * MIN).toISOString(), nextAttempt: at(102 * MIN).toISOString(), error: 'boom again' });
    await backoff.recordFailure('b', 'other', NOW);
    await backoff.clear('a');
    assert.deepEqual(Object.keys(state.doc<object>(RENEWAL_BACKOFF_KEY) ?? {}), ['b']);
    assert.equal(backoff.entry(cert('a'), NOW), undefined);
    const puts = state.puts;
    await backoff.clear('a');
    assert.equal(state.puts, puts, 'clearing what is not stored writes nothing');
  });

  test('reload() sees a failure another run or host recorded after this one loaded (one read)', async () => {
    const state = new MemoryState();
    const mine = await RenewalBackoff.load(state);
    await (await RenewalBackoff.load(state)).recordFailure('a', 'failed on the other host', NOW);
    assert.equal(mine.waiting(cert('a'), NOW), undefined, 'the copy read before');
    const gets = state.gets;
    await mine.reload();
    assert.equal(state.gets, gets + 1);
    assert.equal(mine.waiting(cert('a'), NOW)?.error, 'failed on the other host');
    state.set(RENEWAL_BACKOFF_KEY, 'damaged');
    await mine.reload();
    assert.equal(mine.waiting(cert('a'), NOW), undefined, 'a document that is not an object counts as empty');
  });

  test('a wrong clock cannot stop renewals: a failure dated ahead is ignored, none holds back over a week', async () => {
    const state = new MemoryState();
    const entry = { failures: 4, error: 'x' };
    state.set(RENEWAL_BACKOFF_KEY, {
      ahead: { ...entry, lastFailure: at(DAY).toISOString(), nextAttempt: at(2 * DAY).toISOString() },
      slack: { ...entry, lastFailure: at(4 * MIN).toISOString(), nextAttempt: at(DAY).toISOString() },
      far: { ...entry, lastFailure: NOW.toISOString(), nextAttempt: at(1000 * DAY).toISOString() },
    });
    const backoff = await RenewalBackoff.load(state);
    assert.equal(backoff.waiting(cert('ahead'), NOW), undefined);
    assert.equal(backoff.waiting(cert('slack'), NOW)?.nextAttempt, at(DAY).toISOString(), 'a few minutes ahead still count');
    assert.equal(backoff.waiting(cert('far'), NOW)?.nextAttempt, at(7 * DAY).toISOString());
    assert.equal(backoff.waiting(cert('far'), at(7 * DAY)), undefined, 'the cap does not slide along with now');
  });

  test('a Retry-After beyond what a Date holds counts as a week', () => {
    assert.deepEqual(nextAttemptAfter(1, NOW, new Date(NaN)), at(7 * DAY));
  });

  test('delete and revoke --delete forget from the store alone: one read, one write, none when nothing is stored', async () => {
    const state = new MemoryState();
    await (await RenewalBackoff.load(state)).recordFailure('a', 'boom', NOW);
    const [gets, puts] = [state.gets, state.puts];
    await clearBackoff(state, 'a', silent);
    assert.deepEqual(state.doc(RENEWAL_BACKOFF_KEY), {});
    assert.deepEqual([state.gets - gets, state.puts - puts], [2, 1], 'the check, then the update (which reads in it)');
    await clearBackoff(state, 'a', silent);
    assert.equal(state.puts, puts + 1);
  });

  test('a damaged entry is dropped, the rest is kept', () => {
    const good = { failures: 2, lastFailure: NOW.toISOString(), nextAttempt: at(10 * MIN).toISOString(), error: 'x' };
    const parsed = parseBackoff({ good, zero: { ...good, failures: 0 }, date: { ...good, nextAttempt: 'soon' }, list: [1], text: 'x' });
    assert.deepEqual([...parsed.keys()], ['good']);
    assert.equal(parseBackoff([good]).size, 0);
  });

  test('the reason names the count, the time and the last error', () => {
    const reason = backoffReason({ failures: 2, lastFailure: NOW.toISOString(), nextAttempt: at(10 * MIN).toISOString(), error: 'connection refused', beforeExpiry: false });
    assert.match(reason, /renewal failed 2 times in a row \(last: connection refused\); backing off: next attempt after 2026-12-03T12:10:00\.000Z/);
  });
});

describe('CaBudget.certificateDeferral', () => {
  const SERVER = 'https://ca.test/dir';
  const ACC = 'https://ca.test/acct/1';

  test('the backoff holds a certificate back unless ignored; the account\'s budget when it lasts longer', async () => {
    const state = new MemoryState();
    const budget = await CaBudget.load(state, {}, NOW);
    await budget.recordRenewalFailure(cert('a'), new Error('boom'), NOW, silent);
    assert.deepEqual(budget.certificateDeferral(cert('a'), SERVER, ACC, NOW)?.until, at(MIN));
    assert.equal(budget.certificateDeferral(cert('a'), SERVER, ACC, NOW, true), undefined, '--force');
    assert.equal(budget.certificateDeferral(cert('b'), SERVER, ACC, NOW), undefined);
    state.set(RATE_LIMITS_KEY, { records: [{ server: SERVER, account: ACC, until: at(30 * MIN).toISOString(), detail: 'slow' }] });
    const limited = await CaBudget.load(state, {}, NOW);
    assert.deepEqual(limited.certificateDeferral(cert('a'), SERVER, ACC, NOW)?.until, at(30 * MIN));
    assert.deepEqual(limited.certificateDeferral(cert('a'), SERVER, undefined, NOW)?.until, at(MIN), 'no account yet: only the backoff');
    await limited.clearBackoff('a', silent);
    assert.deepEqual(limited.certificateDeferral(cert('a'), SERVER, ACC, NOW)?.until, at(30 * MIN));
  });

  test('never past expiry: held back at most until a tenth of the lifetime (at most a day) before it, and said so', async () => {
    assert.deepEqual(backoffDeadline(cert('a', at(10 * DAY), at(-80 * DAY))), at(9 * DAY), '90 days: a day before');
    assert.deepEqual(backoffDeadline(cert('a', at(5 * DAY), at(-5 * DAY))), at(4 * DAY), '10 days: a day before');
    assert.deepEqual(backoffDeadline(cert('a', at(3 * DAY), at(-2 * DAY))), at(3 * DAY - DAY / 2), '5 days: half a day before');
    const budget = await CaBudget.load(new MemoryState(), {}, NOW);
    const warnings: string[] = [];
    const expiring = cert('a', at(DAY + 30 * MIN), at(-80 * DAY));
    const limited = new AcmeProblemError({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'slow down', retryAfter: at(DAY) });
    await budget.recordRenewalFailure(expiring, limited, NOW, { warn: (m: string) => warnings.push(m) });
    assert.match(warnings.join('\n'), /^a expires at .*: its renewal is tried again by 2026-12-03T12:30:00\.000Z \(every run from then on\), not held back until 2026-12-04T12:00:00\.000Z$/);
    const deferral = budget.certificateDeferral({ ...expiring, domains: ['a.test'] }, SERVER, undefined, NOW);
    assert.deepEqual(deferral?.until, at(30 * MIN));
    assert.match(deferral?.reason ?? '', /brought forward before the certificate expires/);
    assert.equal(budget.certificateDeferral({ ...expiring, domains: ['a.test'] }, SERVER, undefined, at(30 * MIN)), undefined, 'then every run tries');
  });

  test('a rateLimited failure backs off until the CA\'s time', async () => {
    const budget = await CaBudget.load(new MemoryState(), {}, NOW);
    const err = new AcmeProblemError({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'slow down', retryAfter: at(45 * MIN) });
    await budget.recordRenewalFailure(cert('a'), err, NOW, silent);
    assert.equal(budget.backoff.entry(cert('a'), NOW)?.nextAttempt, at(45 * MIN).toISOString());
  });

  test('a store that cannot take the record is a warning', async () => {
    const state = new MemoryState();
    state.updateState = () => Promise.reject(new Error('disk full'));
    const budget = await CaBudget.load(state, {}, NOW);
    const warnings: string[] = [];
    await budget.recordRenewalFailure(cert('a'), new Error('boom'), NOW, { warn: (m: string) => warnings.push(m) });
    assert.deepEqual(warnings, ['the failed renewal of a was not recorded: disk full']);
  });
});

describe('stored backoff text is printed', () => {
  test('times are rewritten from the instant they name, control characters leave the error (parsing and recording)', async () => {
    const parsed = parseBackoff({
      a: { failures: 1, lastFailure: '2026-12-03 (\x1b[31mX)', nextAttempt: `${at(MIN).toISOString()}`, error: 'bad\x1b[2J\r\nnews\x9b' },
    });
    assert.deepEqual(parsed.get('a'), { failures: 1, lastFailure: new Date('2026-12-03').toISOString(), nextAttempt: at(MIN).toISOString(), error: 'bad [2J news' });
    const state = new MemoryState();
    const recorded = await (await RenewalBackoff.load(state)).recordFailure('a', 'CA says\x1b]0;owned\x07no', NOW);
    assert.equal(recorded.error, 'CA says ]0;owned no');
    assert.equal(state.doc<Record<string, BackoffEntry>>(RENEWAL_BACKOFF_KEY)?.['a']?.error, 'CA says ]0;owned no');
  });
});
