// The pure logic behind certman's behaviour when the CA misbehaves: which failures are retried and
// after how long, the Retry-After cap as a setting, rateLimited pauses and their records, and whether
// a lost account may be registered again. The end-to-end proof is test/e2e/faults.test.ts.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';

import { MAX_RETRIES, retryDecision } from '../../src/acme/http-policy.js';
import { problemError } from '../../src/acme/problem.js';
import type { Order } from '../../src/acme/types.js';
import { DEFAULT_RATE_LIMIT_PAUSE_MS, MAX_RATE_LIMIT_PAUSE_MS, RATE_LIMITED, rateLimitedUntil } from '../../src/acme/rate-limited.js';
import { resolveSettings, validateFileConfig } from '../../src/config/index.js';
import { AcmeProblemError, CertmanError, RateLimitPause, UsageError } from '../../src/errors.js';
import { reRegistrationProblem } from '../../src/registration/account.js';
import { parseRecords, pausedReason, RATE_LIMITS_KEY, RateLimitRecords } from '../../src/renewal/rate-limits.js';
import { openStore } from '../../src/store/index.js';
import type { StoredAccount } from '../../src/store/types.js';
import { configDirs } from './config-dirs.js';
import { fakeHttp, type FakeResponse } from './fake-http.js';

const NOW = Date.parse('2026-12-03T10:00:00Z');
const HOUR = 3_600_000;
const CAP = 30_000;

describe('retryDecision', () => {
  it('retries 429 and 5xx after their Retry-After, or 1 s × attempt without one', () => {
    assert.deepEqual(retryDecision({ status: 503, retryAfter: '2', timedOut: false }, 1, CAP, NOW), { retry: true, waitMs: 2000 });
    assert.deepEqual(retryDecision({ status: 429, retryAfter: 'Thu, 03 Dec 2026 10:00:05 GMT', timedOut: false }, 1, CAP, NOW), { retry: true, waitMs: 5000 });
    assert.deepEqual(retryDecision({ status: 500, timedOut: false }, 2, CAP, NOW), { retry: true, waitMs: 2000 });
    assert.deepEqual(retryDecision({ status: 502, retryAfter: 'soon', timedOut: false }, 3, CAP, NOW), { retry: true, waitMs: 3000 });
  });

  it('hands a Retry-After over the cap back to the caller (a cap of 0 waits for nothing)', () => {
    assert.deepEqual(retryDecision({ status: 429, retryAfter: '31', timedOut: false }, 1, CAP, NOW), { retry: false });
    assert.deepEqual(retryDecision({ status: 429, retryAfter: '30', timedOut: false }, 1, CAP, NOW), { retry: true, waitMs: 30_000 });
    assert.deepEqual(retryDecision({ status: 503, retryAfter: '1', timedOut: false }, 1, 0, NOW), { retry: false });
    assert.deepEqual(retryDecision({ status: 503, retryAfter: '0', timedOut: false }, 1, 0, NOW), { retry: true, waitMs: 0 });
  });

  it('never retries other statuses, or more than MAX_RETRIES times', () => {
    for (const status of [200, 201, 400, 403, 404, 409]) assert.deepEqual(retryDecision({ status, retryAfter: '1', timedOut: false }, 1, CAP, NOW), { retry: false });
    assert.deepEqual(retryDecision({ status: 503, timedOut: false }, MAX_RETRIES + 1, CAP, NOW), { retry: false });
  });

  it('retries a lost connection quickly with backoff, and a timeout never', () => {
    assert.deepEqual([1, 2, 3].map((n) => retryDecision({ timedOut: false }, n, CAP, NOW)), [500, 1000, 2000].map((waitMs) => ({ retry: true, waitMs })));
    assert.deepEqual(retryDecision({ timedOut: false }, MAX_RETRIES + 1, CAP, NOW), { retry: false });
    assert.deepEqual(retryDecision({ timedOut: true }, 1, CAP, NOW), { retry: false });
  });
});

describe('maxRetryAfter setting', () => {
  const base = { flags: {}, env: { HOME: '/home/u' }, file: { config: {} }, isRoot: false, cwd: '/w' };

  it('comes from the flag, then CERTMAN_MAX_RETRY_AFTER, then the config file', () => {
    assert.equal(resolveSettings(base).maxRetryAfter, undefined);
    const file = { path: '/w/c.json', config: validateFileConfig({ maxRetryAfter: 5 }, '/w/c.json') };
    assert.equal(resolveSettings({ ...base, file }).maxRetryAfter, 5);
    assert.equal(resolveSettings({ ...base, file, env: { CERTMAN_MAX_RETRY_AFTER: '0' } }).maxRetryAfter, 0);
    assert.equal(resolveSettings({ ...base, file, env: { CERTMAN_MAX_RETRY_AFTER: '0' }, flags: { maxRetryAfter: '120' } }).maxRetryAfter, 120);
  });

  it('is a whole number of seconds from 0 to 3600, or a usage error naming where it came from', () => {
    assert.throws(() => resolveSettings({ ...base, flags: { maxRetryAfter: '1.5' } }), (err: unknown) => err instanceof UsageError && /^--max-retry-after: must be a whole number of seconds from 0 to 3600, not "1.5"$/.test(err.message));
    assert.throws(() => resolveSettings({ ...base, env: { CERTMAN_MAX_RETRY_AFTER: '3601' } }), /^UsageError: CERTMAN_MAX_RETRY_AFTER: must be/);
    assert.throws(() => validateFileConfig({ maxRetryAfter: -1 }, 'c.json'), /"maxRetryAfter" must be a whole number of seconds from 0 to 3600 \(got -1\)/);
    assert.throws(() => validateFileConfig({ maxRetryAfter: '5' }, 'c.json'), UsageError);
  });
});

describe('rateLimited pauses', () => {
  const limited = (retryAfter?: Date): AcmeProblemError =>
    problemError({ type: RATE_LIMITED, detail: 'too many orders: see https://ca.test/unpause' }, 429, 'x', retryAfter);

  it('last until the time the CA gave, an hour without one, a week at most, never in the past', () => {
    const now = new Date(NOW);
    assert.equal(rateLimitedUntil(limited(new Date(NOW + 90_000)), now).getTime(), NOW + 90_000);
    assert.equal(rateLimitedUntil(limited(), now).getTime(), NOW + DEFAULT_RATE_LIMIT_PAUSE_MS);
    assert.equal(rateLimitedUntil(limited(new Date(NOW + 30 * 24 * HOUR)), now).getTime(), NOW + MAX_RATE_LIMIT_PAUSE_MS);
    assert.equal(rateLimitedUntil(limited(new Date(NOW - HOUR)), now).getTime(), NOW);
  });

  it('the problem says when to try again, and keeps the CA\'s detail with its link', () => {
    const err = limited(new Date(NOW + HOUR));
    assert.equal(err.message, 'rateLimited: too many orders: see https://ca.test/unpause');
    assert.match(err.hint ?? '', /try again after 2026-12-03T11:00:00\.000Z$/);
    assert.equal(limited().retryAfter, undefined);
  });
});

describe('RateLimitRecords', () => {
  const freshDir = configDirs('ratelimits');
  const now = new Date(NOW);
  const at = (ms: number) => new Date(NOW + ms);

  it('reads only well-formed records that still hold, the longest per account', () => {
    const records = parseRecords(
      {
        records: [
          { server: 's', account: 'a', until: at(HOUR).toISOString(), detail: 'd1' },
          { server: 's', account: 'a', until: at(2 * HOUR).toISOString(), detail: 'd2' },
          { server: 's', account: 'b', until: at(-1).toISOString(), detail: 'over' },
          { server: 's', account: 'c', until: 'tomorrow', detail: 'bad' },
          { server: 's', account: 7, until: at(HOUR).toISOString(), detail: 'bad' },
          null,
        ],
      },
      now,
    );
    assert.deepEqual([...records.values()].map((r) => `${r.account} ${r.detail}`), ['a d2']);
    assert.equal(parseRecords('garbage', now).size, 0);
  });

  it('holds an account back until its time, saves at once, and keeps what another run stored', async () => {
    const store = await openStore(freshDir());
    const mine = await RateLimitRecords.load(store, now);
    await store.updateState(RATE_LIMITS_KEY, () => ({ records: [{ server: 'https://other/dir', account: 'x', until: at(HOUR).toISOString(), detail: 'theirs' }] }));
    await mine.record('https://ca/dir', 'https://ca/acct/1', at(HOUR), 'too many: https://ca/unpause', now);
    assert.equal(mine.pausedUntil('https://ca/dir', 'https://ca/acct/2', now), undefined);
    const held = mine.pausedUntil('https://ca/dir', 'https://ca/acct/1', now);
    assert.equal(held?.until, at(HOUR).toISOString());
    assert.equal(mine.pausedUntil('https://ca/dir', 'https://ca/acct/1', at(HOUR)), undefined, 'over at its time');
    assert.ok(held !== undefined && pausedReason(held).includes(`until ${at(HOUR).toISOString()}`) && pausedReason(held).includes('https://ca/unpause'));

    const later = await RateLimitRecords.load(store, at(60_000));
    assert.ok(later.pausedUntil('https://ca/dir', 'https://ca/acct/1', at(60_000)) !== undefined, 'a later run sees it');
    assert.ok(later.pausedUntil('https://other/dir', 'x', at(60_000)) !== undefined, "the other run's record was kept");
  });

  it('starts afresh from a damaged document, with the reason, and replaces it on the next record', async () => {
    const dir = freshDir();
    const store = await openStore(dir);
    await store.updateState(RATE_LIMITS_KEY, () => ({}));
    const file = path.join(dir, 'state', `${RATE_LIMITS_KEY}.json`);
    await writeFile(file, '{ not json');
    const records = await RateLimitRecords.load(store, now);
    assert.match(records.problem ?? '', /not valid JSON/);
    await records.record('s', 'a', at(HOUR), 'd', now);
    assert.equal((JSON.parse(await readFile(file, 'utf8')) as { records: unknown[] }).records.length, 1);
  });
});

describe('AcmeClient when the CA misbehaves', () => {
  const DIRECTORY = { newOrder: 'https://ca.test/new-order', newAccount: 'https://ca.test/new-acct', meta: {} };
  const ORDER = { status: 'pending', identifiers: [], authorizations: [], finalize: 'https://ca.test/fin/1' };
  const created: FakeResponse = { status: 201, data: ORDER, headers: { location: 'https://ca.test/order/1' } };
  const problem = (status: number, type: string, headers: Record<string, string> = {}): FakeResponse => ({
    status,
    data: { type: `urn:ietf:params:acme:error:${type}`, detail: `${type} detail`, status },
    headers,
  });

  it('sends nothing more to a CA account that answered rateLimited', async () => {
    const { client, signed } = fakeHttp(DIRECTORY, { signed: [problem(429, 'rateLimited', { 'retry-after': '3600' })] });
    await assert.rejects(client.newOrder(['a.test']), (err: unknown) => err instanceof AcmeProblemError && err.type === RATE_LIMITED);
    await assert.rejects(client.newOrder(['b.test']), (err: unknown) => {
      assert.ok(err instanceof RateLimitPause);
      assert.equal(err.account, 'https://ca.test/acct/1');
      assert.ok(Math.abs(err.until.getTime() - (Date.now() + HOUR)) < 60_000);
      assert.match(err.message, /until \d{4}-.*nothing is sent to it before then \(rateLimited detail\)/);
      return true;
    });
    assert.equal(signed.length, 1);
  });

  it('signs as the account found again when the CA lost it, asking for it once for all requests', async () => {
    let recoveries = 0;
    const { client, signed } = fakeHttp(DIRECTORY, {
      signed: [problem(400, 'accountDoesNotExist'), problem(400, 'accountDoesNotExist'), created, created],
      recoverAccount: async (_client, lost) => {
        recoveries += 1;
        assert.equal(lost, 'https://ca.test/acct/1');
        await new Promise((resolve) => setTimeout(resolve, 10));
        return 'https://ca.test/acct/2';
      },
    });
    await Promise.all([client.newOrder(['a.test']), client.newOrder(['b.test'])]);
    assert.equal(recoveries, 1);
    assert.deepEqual(signed.map((s) => s.kid), ['https://ca.test/acct/1', 'https://ca.test/acct/1', 'https://ca.test/acct/2', 'https://ca.test/acct/2']);
    assert.equal(client.account, 'https://ca.test/acct/2');
  });

  it('passes a refused recovery on, and never recovers requests signed with a key (newAccount)', async () => {
    const refusing = fakeHttp(DIRECTORY, {
      signed: [problem(400, 'accountDoesNotExist')],
      recoverAccount: async () => {
        throw new CertmanError('run certman register');
      },
    });
    await assert.rejects(refusing.client.newOrder(['a.test']), /run certman register/);
    const noRecovery = fakeHttp(DIRECTORY, { signed: [problem(400, 'accountDoesNotExist')] });
    await assert.rejects(noRecovery.client.newOrder(['a.test']), /accountDoesNotExist/);
  });

  it('takes orderNotReady on a finalize sent again for an order the CA is already issuing', async () => {
    const order: Order = { ...ORDER, status: 'pending', url: 'https://ca.test/order/1' };
    const processing = { status: 200, data: { ...ORDER, status: 'processing' }, headers: {} };
    const { client, signed } = fakeHttp(DIRECTORY, { signed: [problem(403, 'orderNotReady'), processing] });
    assert.equal((await client.finalize(order, Buffer.from('csr'))).status, 'processing');
    assert.deepEqual(signed.map((s) => s.url), ['https://ca.test/fin/1', 'https://ca.test/order/1']);
    const stillPending = fakeHttp(DIRECTORY, { signed: [problem(403, 'orderNotReady'), { ...processing, data: ORDER }] });
    await assert.rejects(stillPending.client.finalize(order, Buffer.from('csr')), /orderNotReady/);
  });
});

describe('registering a lost account again', () => {
  const freshDir = configDirs('terms');
  const stored: StoredAccount = { server: 's', url: 'u', keyPem: 'k', createdAt: '2026-01-01T00:00:00Z', termsAgreed: { url: 'https://ca.test/tos-v1' } };

  it('is safe only without EAB, and with a record of agreeing to the terms the CA shows now', () => {
    assert.equal(reRegistrationProblem(stored, { termsOfService: 'https://ca.test/tos-v1' }), undefined);
    assert.equal(reRegistrationProblem({ ...stored, termsAgreed: {} }, {}), undefined);
    assert.match(reRegistrationProblem(stored, { termsOfService: 'https://ca.test/tos-v1', externalAccountRequired: true }) ?? '', /external account binding/);
    assert.match(reRegistrationProblem(stored, { termsOfService: 'https://ca.test/tos-v2' }) ?? '', /now https:\/\/ca\.test\/tos-v2, not the https:\/\/ca\.test\/tos-v1/);
    const { termsAgreed: _, ...legacy } = stored;
    assert.match(reRegistrationProblem(legacy, { termsOfService: 'https://ca.test/tos-v1' }) ?? '', /no record of which terms/);
  });

  it('the record of the terms survives the account store', async () => {
    const store = await openStore(freshDir());
    await store.saveAccount({ ...stored, server: 'https://ca.test/dir', keyPem: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n' });
    assert.deepEqual((await store.getAccount('https://ca.test/dir'))?.termsAgreed, { url: 'https://ca.test/tos-v1' });
  });
});
