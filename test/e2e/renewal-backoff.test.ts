// Failed renewals back off per certificate across runs (1 minute, 10 minutes, 100 minutes, a day; a CA's
// rateLimited or Retry-After time when later), and `renew --dry-run` orders at the right CA. Pebble behind two
// fault-injecting proxies (test/harness/faults.ts): each is a CA of its own to certman, and answers what Pebble
// cannot (a refused order, 429 rateLimited with Retry-After, 503 with Retry-After).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startRedis, tempDir, uniqueName, type FaultProxy, type RunResult } from '../harness/index.js';
import { json, pebbleSuite, withFaultyCas } from './fixture.js';

const suite = pebbleSuite();
let proxy: FaultProxy;
/** A second CA in front of the same Pebble. */
let other: FaultProxy;

const MIN = 60_000;

interface RenewJson {
  results: { name: string; status: string; reason?: string; until?: string; dryRun?: boolean; error?: { message: string } }[];
}
interface Row {
  name: string;
  deferredUntil?: string;
  deferredReason?: string;
  failedRenewals?: number;
  nextAttemptAt?: string;
  lastFailure?: string;
}
interface Entry {
  failures: number;
  lastFailure: string;
  nextAttempt: string;
  error: string;
}

function certman(dir: string, args: string[], ca: FaultProxy = proxy, env: Record<string, string> = {}): Promise<RunResult> {
  return suite.certman(dir, args, { CERTMAN_SERVER: ca.directoryUrl, ...env });
}

/** A registered config dir holding one certificate issued through `ca`. */
async function issued(label: string, ca: FaultProxy = proxy): Promise<{ dir: string; name: string }> {
  const dir = await tempDir('backoff');
  const registered = await certman(dir, ['register', '--email', 'ops@example.com', '--agree-tos'], ca);
  assert.equal(registered.code, 0, registered.stderr);
  const name = uniqueName(label);
  const r = await certman(dir, ['issue', '-d', name, ...suite.standalone()], ca);
  assert.equal(r.code, 0, r.stderr);
  return { dir, name };
}

/** `renew` as cron runs it, with every certificate due (`--days` beyond Pebble's five years). */
async function renew(dir: string, extra: string[] = [], ca: FaultProxy = proxy, env: Record<string, string> = {}) {
  const r = await certman(dir, ['--json', 'renew', '--no-random-sleep', '--days', '100000', ...extra], ca, env);
  const result = json<RenewJson>(r).results[0];
  assert.ok(result !== undefined, r.stdout);
  return { code: r.code, result, stderr: r.stderr };
}

async function row(dir: string, name: string): Promise<Row> {
  const rows = json<Row[]>(await certman(dir, ['--json', 'certificates']));
  const found = rows.find((r) => r.name === name);
  assert.ok(found !== undefined, JSON.stringify(rows));
  return found;
}

const backoffFile = (dir: string): string => join(dir, 'state', 'renewal-backoff.json');

async function entries(dir: string): Promise<Record<string, Entry>> {
  try {
    return JSON.parse(await readFile(backoffFile(dir), 'utf8')) as Record<string, Entry>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/** Moves the stored next attempt of `name` into the past, as if its step had passed. */
async function stepPassed(dir: string, name: string): Promise<void> {
  const doc = await entries(dir);
  const entry = doc[name];
  assert.ok(entry !== undefined, JSON.stringify(doc));
  doc[name] = { ...entry, nextAttempt: new Date(Date.now() - 1000).toISOString() };
  await writeFile(backoffFile(dir), JSON.stringify(doc));
}

/** `iso` lies `ms` after `from` (a generous margin for a loaded machine). */
function about(iso: string | undefined, from: number, ms: number): void {
  const at = Date.parse(iso ?? '');
  assert.ok(at >= from + ms - 1000 && at <= Date.now() + ms + 1000, `${String(iso)} is not ${ms} ms after ${new Date(from).toISOString()}`);
}

describe('failed renewals back off', () => {
  withFaultyCas(suite, (p, o) => {
    [proxy, other] = [p, o];
  });

  it('a failed renewal waits 1 minute, then 10; renew skips it meanwhile (exit 0), --force tries, a success clears it', async () => {
    const { dir, name } = await issued('bo');
    proxy.clear();
    proxy.inject('newOrder', { kind: 'status', status: 403, detail: 'no orders today' });

    const start = Date.now();
    const failed = await renew(dir);
    assert.equal(failed.code, 1);
    assert.equal(failed.result.status, 'failed');
    assert.equal(proxy.seen('newOrder'), 1);
    const first = (await entries(dir))[name];
    assert.equal(first?.failures, 1);
    about(first?.nextAttempt, start, MIN);

    // Right after: skipped with the next attempt time, nothing sent to the CA, not a failure.
    const skipped = await renew(dir);
    assert.equal(skipped.code, 0);
    assert.deepEqual([skipped.result.status, skipped.result.until], ['deferred', first?.nextAttempt]);
    assert.match(skipped.result.reason ?? '', /renewal failed once \(last: .*no orders today\); backing off: next attempt after .*renew --force tries now/);
    assert.equal(proxy.seen('newOrder'), 1, 'no order while backing off');
    const human = await certman(dir, ['renew', '--no-random-sleep', '--days', '100000']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`deferred ${name.replace(/\./g, '\\.')}: renewal failed once`));

    // certificates shows the count and the next attempt, in --json and to a person.
    const listed = await row(dir, name);
    assert.deepEqual([listed.failedRenewals, listed.nextAttemptAt, listed.deferredUntil], [1, first?.nextAttempt, first?.nextAttempt]);
    assert.match(listed.lastFailure ?? '', /no orders today/);
    const table = await certman(dir, ['certificates']);
    assert.match(table.stdout, new RegExp(`backoff ${name.replace(/\./g, '\\.')}: renewal failed once, next attempt after \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC`));

    // --force tries anyway; its failure is the second in a row: 10 minutes.
    const forced = await renew(dir, ['--force', '--cert-name', name]);
    assert.deepEqual([forced.code, forced.result.status], [1, 'failed']);
    assert.equal(proxy.seen('newOrder'), 2);
    const second = (await entries(dir))[name];
    assert.equal(second?.failures, 2);
    about(second?.nextAttempt, Date.parse(second?.lastFailure ?? ''), 10 * MIN);

    // Once the step has passed a plain renew tries again, and its success clears the backoff.
    proxy.clear();
    await stepPassed(dir, name);
    const passed = await certman(dir, ['certificates']);
    assert.match(passed.stdout, new RegExp(`backoff ${name.replace(/\./g, '\\.')}: renewal failed 2 times in a row, may be retried now`));
    const renewed = await renew(dir);
    assert.deepEqual([renewed.code, renewed.result.status], [0, 'renewed']);
    assert.deepEqual(await entries(dir), {});
    const after = await row(dir, name);
    assert.deepEqual([after.failedRenewals, after.nextAttemptAt, after.deferredUntil], [undefined, undefined, undefined]);
  });

  it('a run that read the backoff before another run failed the certificate sees that failure under the lease', async () => {
    const { dir, name } = await issued('bo-overlap');
    proxy.clear();
    // Run B holds the certificate's lease, stopped at its first request to the CA; its order is then refused.
    const held = proxy.hold('newNonce');
    proxy.inject('newOrder', { kind: 'status', status: 403, detail: 'refused while A waited' }, 1);
    const runB = renew(dir, ['--force', '--cert-name', name]);
    await held.arrived;
    // Run A reads the backoff document (a FIFO: the read ends when the test writes it, so A has read it before
    // B fails), finds nothing, and waits for B's lease.
    const doc = backoffFile(dir);
    execFileSync('mkfifo', [doc]);
    const runA = renew(dir, ['--wait', '--cert-name', name]);
    await writeFile(doc, '{}');
    await unlink(doc);
    held.release();
    const b = await runB;
    assert.deepEqual([b.code, b.result.status], [1, 'failed']);
    const a = await runA;
    assert.deepEqual([a.code, a.result.status], [0, 'deferred'], JSON.stringify(a.result));
    assert.match(a.result.reason ?? '', /renewal failed once \(last: .*refused while A waited\)/);
    assert.equal(proxy.seen('newOrder'), 1, 'A sent nothing');
  });

  it('after the third failure 100 minutes, after the fourth a day; delete forgets them', async () => {
    const { dir, name } = await issued('bo-steps');
    proxy.inject('newOrder', { kind: 'status', status: 403, detail: 'no' });
    const steps: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await renew(dir, ['--force']);
      assert.equal(r.result.status, 'failed');
      const entry = (await entries(dir))[name];
      assert.equal(entry?.failures, i + 1);
      steps.push(Date.parse(entry?.nextAttempt ?? '') - Date.parse(entry?.lastFailure ?? ''));
    }
    assert.deepEqual(steps, [MIN, 10 * MIN, 100 * MIN, 24 * 60 * MIN]);
    // Deleting the certificate forgets its failures: one of that name issued or imported later starts afresh.
    const deleted = await certman(dir, ['delete', '--cert-name', name, '--yes']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(await entries(dir), {});
  });

  it("a rateLimited answer or a Retry-After sets the next attempt to the CA's time when that is later; issue ignores it", async () => {
    const { dir, name } = await issued('bo-ca');
    proxy.inject('newOrder', { kind: 'status', status: 503, retryAfter: '3600', detail: 'maintenance' }, 1);
    const start = Date.now();
    const unavailable = await renew(dir);
    assert.equal(unavailable.result.status, 'failed');
    about((await entries(dir))[name]?.nextAttempt, start, 60 * MIN);

    proxy.inject('newOrder', { kind: 'status', status: 429, retryAfter: '7200', detail: 'too many orders' }, 1);
    const limitedAt = Date.now();
    const limited = await renew(dir, ['--force']);
    assert.equal(limited.result.status, 'failed');
    const entry = (await entries(dir))[name];
    assert.equal(entry?.failures, 2);
    about(entry?.nextAttempt, limitedAt, 120 * MIN);
    const listed = await row(dir, name);
    assert.deepEqual([listed.failedRenewals, listed.nextAttemptAt], [2, entry?.nextAttempt]);

    // issue of the existing certificate is an explicit request: it ignores the backoff, and its success clears it.
    // (Through the other CA: the rateLimited answer paused this account for two hours.)
    const reissued = await certman(dir, ['issue', '-d', name, '--force', '--agree-tos', '-m', 'ops@example.com', ...suite.standalone()], other);
    assert.equal(reissued.code, 0, reissued.stderr);
    assert.deepEqual(await entries(dir), {});
  });

  it('in a fleet on Redis: a failure on node A backs node B off, and B\'s success clears it for A', async () => {
    const redis = await startRedis();
    try {
      const store = { CERTMAN_STORE: redis.url, CERTMAN_STORE_PREFIX: `${uniqueName('bo')}:`, CERTMAN_STORE_KEY: randomBytes(32).toString('hex') };
      const [a, b] = [await tempDir('bo-node'), await tempDir('bo-node')];
      for (const dir of [a, b]) await writeFile(join(dir, 'certman.config.json'), JSON.stringify({ httpPort: suite.pebble.httpPort, httpAddress: '127.0.0.1' }));
      const registered = await certman(a, ['register', '--email', 'ops@example.com', '--agree-tos'], proxy, store);
      assert.equal(registered.code, 0, registered.stderr);
      const name = uniqueName('bo-fleet');
      const issuedOnA = await certman(a, ['issue', '-d', name, '--standalone'], proxy, store);
      assert.equal(issuedOnA.code, 0, issuedOnA.stderr);

      proxy.inject('newOrder', { kind: 'status', status: 403, detail: 'no' }, 1);
      assert.equal((await renew(a, [], proxy, store)).result.status, 'failed');
      const onB = await renew(b, [], proxy, store);
      assert.deepEqual([onB.code, onB.result.status], [0, 'deferred']);
      const rows = json<Row[]>(await certman(b, ['--json', 'certificates'], proxy, store));
      assert.equal(rows[0]?.failedRenewals, 1);

      assert.equal((await renew(b, ['--force'], proxy, store)).result.status, 'renewed');
      const afterRows = json<Row[]>(await certman(a, ['--json', 'certificates'], proxy, store));
      assert.equal(afterRows[0]?.failedRenewals, undefined);
    } finally {
      await redis.stop();
    }
  });

  describe('dry runs', () => {
    it("order at the lineage's own CA with its account when no dryRunServer is set, else at dryRunServer; no backoff read or written", async () => {
      const { dir, name } = await issued('dry', other);
      other.clear();
      const own = await renew(dir, ['--dry-run'], proxy);
      assert.deepEqual([own.code, own.result.status, own.result.dryRun], [0, 'renewed', true]);
      assert.deepEqual([other.seen('newOrder'), other.seen('newAccount'), proxy.seen('newOrder')], [1, 0, 0], 'at the CA it was issued by, with its account');
      assert.equal(own.stderr.split(`dry run at ${other.directoryUrl} itself: a real certificate, counted by its rate limits`).length, 2, own.stderr);

      // With dryRunServer configured (the lineage's CA has no known staging CA): there, under an account of its own.
      other.clear();
      const configured = await renew(dir, ['--dry-run'], other, { CERTMAN_DRY_RUN_SERVER: proxy.directoryUrl });
      assert.deepEqual([configured.code, configured.result.status], [0, 'renewed']);
      assert.doesNotMatch(configured.stderr, /a real certificate/);
      assert.deepEqual([proxy.seen('newAccount'), proxy.seen('newOrder'), other.seen('newOrder')], [1, 1, 0]);
      // That account deactivated (as `account deactivate --server` leaves it): the next dry run registers another.
      for (const found of await readdir(join(dir, 'accounts'), { recursive: true })) {
        if (!found.endsWith('account.json')) continue;
        const file = join(dir, 'accounts', found);
        const account = JSON.parse(await readFile(file, 'utf8')) as { server?: string };
        if (account.server === proxy.directoryUrl) await writeFile(file, JSON.stringify({ ...account, deactivatedAt: new Date().toISOString() }));
      }
      const replaced = await renew(dir, ['--dry-run'], other, { CERTMAN_DRY_RUN_SERVER: proxy.directoryUrl });
      assert.deepEqual([replaced.code, replaced.result.status], [0, 'renewed'], replaced.stderr);
      assert.deepEqual([proxy.seen('newAccount'), proxy.seen('newOrder')], [2, 2]);

      // A dry run that fails records no backoff, and one backing off is dry-run anyway.
      other.inject('newOrder', { kind: 'status', status: 403, detail: 'no' });
      const failed = await renew(dir, ['--dry-run'], other);
      assert.equal(failed.result.status, 'failed');
      assert.deepEqual(await entries(dir), {});
      const real = await renew(dir, [], other);
      assert.equal(real.result.status, 'failed');
      const again = await renew(dir, ['--dry-run'], other);
      assert.equal(again.result.status, 'failed', 'tried, not deferred');
      assert.equal(other.seen('newOrder'), 3);
      assert.equal((await entries(dir))[name]?.failures, 1);
    });
  });
});
