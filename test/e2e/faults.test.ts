// certman against a misbehaving CA: Pebble behind a fault-injecting proxy (test/harness/faults.ts).
// Retries of what is retryable, Retry-After up to its cap, a clear timeout when the CA stalls, rateLimited
// answers remembered per CA account, and after every fault a store with nothing half-written or locked.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir, uniqueName, type FaultProxy, type RunResult } from '../harness/index.js';
import { json, pebbleSuite, withFaultyCas } from './fixture.js';
import { assertIntact, liveVersions } from './store-check.js';

const suite = pebbleSuite();
let proxy: FaultProxy;
/** A second CA: another proxy in front of the same Pebble has its own URLs, so certman sees another server. */
let other: FaultProxy;

interface ErrorJson {
  error: { message: string; type?: string; detail?: string; hint?: string; retryAfter?: string };
}
interface RenewJson {
  summary: { renewed: number; deferred: number; failed: number };
  results: { name: string; status: string; reason?: string; until?: string; error?: ErrorJson['error'] }[];
}

/** certman through `ca` (default: the faulty proxy). */
function certman(dir: string, args: string[], ca: FaultProxy = proxy, env: Record<string, string> = {}): Promise<RunResult> {
  return suite.certman(dir, args, { CERTMAN_SERVER: ca.directoryUrl, ...env });
}

async function registered(...cas: FaultProxy[]): Promise<string> {
  const dir = await tempDir('faults');
  for (const ca of cas.length === 0 ? [proxy] : cas) {
    const r = await certman(dir, ['register', '--email', 'ops@example.com', '--agree-tos'], ca);
    assert.equal(r.code, 0, r.stderr);
  }
  return dir;
}

async function issue(dir: string, label: string, ca: FaultProxy = proxy): Promise<string> {
  const name = uniqueName(label);
  const r = await certman(dir, ['issue', '-d', name, ...suite.standalone()], ca);
  assert.equal(r.code, 0, `issue ${name}: ${r.stderr}`);
  return name;
}

function intact(dir: string, before: Map<string, number>) {
  return assertIntact(dir, before, () => certman(dir, ['--json', 'certificates']));
}

function byName(run: RenewJson, name: string) {
  const result = run.results.find((r) => r.name === name);
  assert.ok(result !== undefined, `no result for ${name}`);
  return result;
}

describe('certman against a faulty CA', () => {
  withFaultyCas(suite, (p, o) => {
    [proxy, other] = [p, o];
  });

  describe('retries', () => {
    it('503 and 429 with a short Retry-After on newNonce, newOrder, finalize and the download are waited out', async () => {
      const dir = await registered();
      proxy.clear();
      proxy.inject('newNonce', { kind: 'status', status: 503, retryAfter: '1' }, 1);
      proxy.inject('newOrder', { kind: 'status', status: 429, retryAfter: '1', detail: 'slow down' }, 1);
      proxy.inject('newOrder', { kind: 'status', status: 503 }, 1);
      proxy.inject('finalize', { kind: 'status', status: 503, retryAfter: '1' }, 2);
      proxy.inject('certificate', { kind: 'status', status: 503, retryAfter: '0' }, 1);
      const name = await issue(dir, 'retry');
      assert.deepEqual(await intact(dir, new Map()), new Map([[name, 1]]));
      assert.equal(proxy.seen('newNonce'), 2);
      assert.equal(proxy.seen('newOrder'), 3);
      assert.equal(proxy.seen('finalize'), 3);
      assert.equal(proxy.seen('certificate'), 2);
    });

    it('dropped connections are sent again, and a finalize whose answer was lost does not fail the order', async () => {
      const dir = await registered();
      const name = await issue(dir, 'drop');
      const before = await liveVersions(dir);
      proxy.clear();
      proxy.inject('newOrder', { kind: 'drop' }, 2);
      proxy.inject('finalize', { kind: 'drop', afterPebble: true }, 1);
      proxy.inject('certificate', { kind: 'drop' }, 1);
      const r = await certman(dir, ['renew', '--force', '--no-random-sleep']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(proxy.seen('newOrder'), 3);
      // Sent again as it was (its nonce now spent: badNonce), signed anew (orderNotReady: it is being issued).
      assert.equal(proxy.seen('finalize'), 3);
      assert.equal((await intact(dir, before)).get(name), 2);
    });

    it('a Retry-After over the cap ends the request at once with the CA\'s answer and the time to try again', async () => {
      const dir = await registered();
      proxy.inject('newOrder', { kind: 'status', status: 503, retryAfter: '120', detail: 'down for maintenance' }, 1);
      const r = await certman(dir, ['--json', 'issue', '-d', uniqueName('cap'), ...suite.standalone()]);
      assert.equal(r.code, 1);
      const { error } = json<ErrorJson>(r);
      assert.equal(error.detail, 'down for maintenance');
      assert.ok(error.retryAfter !== undefined && Date.parse(error.retryAfter) > Date.now() + 100_000, `retryAfter ${String(error.retryAfter)}`);
      assert.match(error.hint ?? '', /try again after \d{4}-\d\d-\d\dT/);
      assert.equal(proxy.seen('newOrder'), 1, 'not sent again');
      assert.deepEqual(await intact(dir, new Map()), new Map());
    });

    it('the cap is a flag, an environment variable and a config key', async () => {
      const dir = await registered();
      const config = join(dir, 'cap.json');
      await writeFile(config, JSON.stringify({ maxRetryAfter: 0 }));
      const refusing: [string, string[], Record<string, string>][] = [
        ['flag', ['--max-retry-after', '0'], {}],
        ['env', [], { CERTMAN_MAX_RETRY_AFTER: '0' }],
        ['config', ['--config', config], {}],
      ];
      for (const [how, flags, env] of refusing) {
        proxy.inject('newOrder', { kind: 'status', status: 503, retryAfter: '1' }, 1);
        const r = await certman(dir, [...flags, 'issue', '-d', uniqueName('cap'), ...suite.standalone()], proxy, env);
        assert.equal(r.code, 1, `${how}: ${r.stderr}`);
        assert.match(r.stderr, /injected HTTP 503/, how);
      }
      // The flag wins over the environment.
      proxy.inject('newOrder', { kind: 'status', status: 503, retryAfter: '1' }, 1);
      const waited = await certman(dir, ['--max-retry-after', '2', 'issue', '-d', uniqueName('cap'), ...suite.standalone()], proxy, { CERTMAN_MAX_RETRY_AFTER: '0' });
      assert.equal(waited.code, 0, waited.stderr);
      const bad = await certman(dir, ['--max-retry-after', 'soon', 'certificates']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--max-retry-after: must be a whole number of seconds from 0 to 3600/);
      assert.equal((await intact(dir, new Map())).size, 1);
    });
  });

  describe('a CA that does not answer', () => {
    it('a stalled request ends in a clear timeout within --timeout, and the run asks that CA nothing more', async () => {
      const dir = await registered();
      const names = [await issue(dir, 'stall0'), await issue(dir, 'stall1'), await issue(dir, 'stall2')];
      const before = await liveVersions(dir);
      proxy.clear();
      proxy.inject('newOrder', { kind: 'stall' });
      const r = await certman(dir, ['--json', '--timeout', '3', 'renew', '--force', '--no-random-sleep', '--concurrency', '1']);
      assert.equal(r.code, 1);
      const run = json<RenewJson>(r);
      assert.equal(run.summary.failed, 3);
      const origin = new URL(proxy.directoryUrl).origin;
      assert.equal(byName(run, names[0] ?? '').error?.message, `no answer from ${origin} within 3 s`);
      assert.match(byName(run, names[2] ?? '').error?.message ?? '', /did not answer within 3 s earlier in this run; not asking it again/);
      assert.equal(proxy.seen('newOrder'), 1, 'one stalled request, not one per certificate');
      // Not a speed target: a hang, or a wait per certificate, would show here.
      assert.ok(r.durationMs < 3_000 + 30_000, `took ${r.durationMs} ms`);
      await intact(dir, before);
    });

    it('a stalled certificate download leaves the lineage as it was', async () => {
      const dir = await registered();
      await issue(dir, 'stalldl');
      const before = await liveVersions(dir);
      proxy.clear();
      proxy.inject('certificate', { kind: 'stall' });
      const r = await certman(dir, ['--timeout', '2', 'renew', '--force', '--no-random-sleep']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /no answer from https:\/\/127\.0\.0\.1:\d+ within 2 s/);
      assert.deepEqual(await intact(dir, before), before);
    });

    it('a slow answer within --timeout is waited for; one that trickles past it is cut off', async () => {
      const dir = await registered();
      await issue(dir, 'slow');
      let before = await liveVersions(dir);
      proxy.clear();
      proxy.inject('finalize', { kind: 'delay', ms: 1500 }, 1);
      const slow = await certman(dir, ['--timeout', '10', 'renew', '--force', '--no-random-sleep']);
      assert.equal(slow.code, 0, slow.stderr);
      before = await intact(dir, before);

      // Every byte arrives well within the timeout of an idle socket, the whole answer does not.
      proxy.inject('certificate', { kind: 'trickle', everyMs: 200 });
      const trickled = await certman(dir, ['--timeout', '3', 'renew', '--force', '--no-random-sleep']);
      assert.equal(trickled.code, 1);
      assert.match(trickled.stdout, /no answer from https:\/\/127\.0\.0\.1:\d+ within 3 s/);
      assert.deepEqual(await intact(dir, before), before);
    });
  });

  describe('rateLimited', () => {
    const DETAIL = 'too many new orders recently: see https://ca.example/unpause?account=42';

    it('issue shows the CA\'s detail, its link and when to retry', async () => {
      const dir = await registered();
      proxy.inject('newOrder', { kind: 'status', status: 429, retryAfter: '3600', detail: DETAIL });
      const r = await certman(dir, ['issue', '-d', uniqueName('limited'), ...suite.standalone()]);
      assert.equal(r.code, 1);
      assert.ok(r.stderr.includes(`error: rateLimited: ${DETAIL}`), r.stderr);
      assert.match(r.stderr, /hint: .*try again after \d{4}-\d\d-\d\dT\d\d:\d\d/);
      assert.equal(proxy.seen('newOrder'), 1);
      assert.deepEqual(await intact(dir, new Map()), new Map());
    });

    it('renew defers that CA account\'s certificates until the time it gave, in this run and the next; other CAs go on', async () => {
      const dir = await registered(proxy, other);
      const limited = [await issue(dir, 'rla0'), await issue(dir, 'rla1')];
      const elsewhere = await issue(dir, 'rlb0', other);
      const before = await liveVersions(dir);
      proxy.clear();
      proxy.inject('newOrder', { kind: 'status', status: 429, retryAfter: '3600', detail: DETAIL });

      const firstRun = await certman(dir, ['--json', 'renew', '--force', '--no-random-sleep', '--concurrency', '1']);
      assert.equal(firstRun.code, 1, 'the rate limit itself is reported as a failure once');
      const first = json<RenewJson>(firstRun);
      const [hit, held] = limited.map((name) => byName(first, name));
      assert.equal(hit?.status, 'failed');
      assert.equal(hit?.error?.detail, DETAIL);
      assert.equal(held?.status, 'deferred');
      assert.ok(held?.until !== undefined && Date.parse(held.until) > Date.now() + 3_000_000);
      assert.ok(held?.reason?.includes(`until ${held.until}`) === true && held.reason.includes(DETAIL), held?.reason);
      assert.equal(byName(first, elsewhere).status, 'renewed');
      assert.equal(proxy.seen('newOrder'), 1, 'nothing more sent after the rateLimited answer');

      const account = (JSON.parse(await readFile(join(dir, 'state', 'rate-limits.json'), 'utf8')) as { records: { server: string; account: string }[] }).records;
      assert.deepEqual(account.map((r) => r.server), [proxy.directoryUrl]);
      const between = await intact(dir, before);

      proxy.clear();
      const next = await certman(dir, ['--json', 'renew', '--force', '--no-random-sleep']);
      assert.equal(next.code, 0, next.stderr);
      const second = json<RenewJson>(next);
      assert.deepEqual(limited.map((name) => byName(second, name).status), ['deferred', 'deferred']);
      assert.equal(byName(second, limited[0] ?? '').until, held?.until);
      assert.equal(byName(second, elsewhere).status, 'renewed');
      assert.deepEqual([proxy.seen('newNonce'), proxy.seen('newAccount'), proxy.seen('newOrder'), proxy.seen('other')], [0, 0, 0, 0], 'the limited CA got no request');
      // certificates shows the pause on the certificates it holds back, with the same time and the CA's words.
      const rows = json<{ name: string; deferredUntil?: string; deferredReason?: string }[]>(await certman(dir, ['--json', 'certificates']));
      const deferredRows = rows.filter((row) => row.deferredUntil !== undefined);
      assert.deepEqual(deferredRows.map((row) => [row.name, row.deferredUntil]).sort(), limited.map((name) => [name, held?.until]).sort());
      assert.ok(deferredRows.every((row) => row.deferredReason?.includes(DETAIL) === true), JSON.stringify(deferredRows));
      const versions = await intact(dir, between);
      assert.equal(versions.get(elsewhere), 3);
      assert.equal(versions.get(limited[0] ?? ''), 1);
    });

    it('an order already in flight stops at its next request instead of asking the CA more', async () => {
      const dir = await registered();
      const names = [await issue(dir, 'flight0'), await issue(dir, 'flight1')];
      const before = await liveVersions(dir);
      proxy.clear();
      // Whichever order comes first is held (in flight); the other is refused, and the held one goes on only once
      // certman has that answer. (Orders are counted in the store one at a time, so the second is sent a little
      // after the first: holding the first is what keeps both in flight.)
      const held = proxy.hold('newOrder');
      proxy.inject('newOrder', { kind: 'status', status: 429, retryAfter: '3600', detail: DETAIL }, 1);
      const running = certman(dir, ['--json', 'renew', '--force', '--no-random-sleep', '--concurrency', '2']);
      await held.arrived;
      for (const giveUp = Date.now() + 60_000; proxy.seen('newOrder') < 2; ) {
        assert.ok(Date.now() < giveUp, 'the second order never reached the CA');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      const others = proxy.seen('other');
      held.release();
      const run = json<RenewJson>(await running);
      assert.deepEqual(names.map((name) => byName(run, name).status).sort(), ['deferred', 'failed']);
      assert.equal(proxy.seen('other'), others, 'the held order asked nothing after its newOrder');
      assert.deepEqual(await intact(dir, before), before);
    });
  });
});
