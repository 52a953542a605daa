// `certman metrics` and `serve-challenge --metrics-address` against a real Pebble: two issued certificates, one
// renewal refused by the CA (its backoff), a damaged lineage and a stored served-check document; every output is
// checked with promtool (Debian package prometheus: missing is a failure, not a skip) and its values against the
// certificates and state documents themselves; the same over a Redis store shared by hosts. The example alert
// rules pass `promtool check rules` and `promtool test rules`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostTag } from '../../src/store/fs/host.js';
import { FsTokenStore } from '../../src/store/fs/tokens.js';
import { openStore } from '../../src/store/index.js';
import { certmanEnv, freePort, repoRoot, startRedis, startServeChallenge, tempDir, uniqueName, which, type FaultProxy, type RedisServer, type RunResult, type ServeChallenge } from '../harness/index.js';
import { assertOneLineError, json, pebbleSuite, withFaultProxy } from './fixture.js';

const suite = pebbleSuite();
const ALERTS = join(repoRoot, 'docs', 'recipes', 'prometheus-alerts.yml');
const VERSION = (JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** promtool, which the suite cannot do without. */
function promtool(args: string[], input?: string): { code: number | null; output: string } {
  const bin = which('promtool');
  assert.ok(bin !== undefined, 'promtool is missing: run `bash scripts/ensure-deps.sh promtool` (Debian package prometheus)');
  const r = spawnSync(bin, args, { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The exposition passes `promtool check metrics` (its lint included: names, units, HELP, duplicates). */
function assertValidExposition(text: string, label: string): void {
  const checked = promtool(['check', 'metrics'], text);
  assert.equal(checked.code, 0, `${label}: promtool check metrics:\n${checked.output}\n--- input ---\n${text}`);
}

/** Each sample line as `series → value`, the series written as certman writes it. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    const series = line.slice(0, at);
    assert.ok(!found.has(series), `duplicate series ${series}`);
    found.set(series, Number(line.slice(at + 1)));
  }
  return found;
}

/** `name{a="x",b="y"}` with the labels in the order given (certman's order). */
function series(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`);
  return pairs.length === 0 ? name : `${name}{${pairs.join(',')}}`;
}

function valueOf(all: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined {
  return all.get(series(name, labels));
}

/** The CA of the first describe: a fault proxy in front of Pebble (it refuses one renewal). */
let ca: () => FaultProxy;

function certman(dir: string, args: string[]): Promise<RunResult> {
  return suite.certman(dir, args, { CERTMAN_SERVER: ca().directoryUrl });
}

interface Meta {
  serial: string;
  notBefore: string;
  notAfter: string;
  accountUrl: string;
  server: string;
}

const meta = async (dir: string, name: string): Promise<Meta> => JSON.parse(await readFile(join(dir, 'renewal', `${name}.json`), 'utf8')) as Meta;
const seconds = (iso: string): number => Date.parse(iso) / 1000;

describe('certman metrics', () => {
  ca = withFaultProxy(suite);
  let dir: string;
  let good: string;
  let failing: string;
  const broken = uniqueName('broken');
  before(async () => {
    dir = await tempDir('metrics');
    const registered = await certman(dir, ['register', '--email', 'ops@example.com', '--agree-tos']);
    assert.equal(registered.code, 0, registered.stderr);
    [good, failing] = [uniqueName('mgood'), uniqueName('mfail')];
    for (const name of [good, failing]) {
      const r = await certman(dir, ['issue', '-d', name, ...suite.standalone()]);
      assert.equal(r.code, 0, r.stderr);
    }
    ca().inject('newOrder', { kind: 'status', status: 403, detail: 'no orders today' }, 1);
    const renew = await certman(dir, ['renew', '--no-random-sleep', '--force', '--cert-name', failing]);
    assert.equal(renew.code, 1, renew.stderr);
    // A lineage whose metadata cannot be read.
    await writeFile(join(dir, 'renewal', `${broken}.json`), '{ not json');
  });

  it('exports every certificate as the store and the certificate files say, in a form promtool accepts', async () => {
    const goodMeta = await meta(dir, good);
    const failMeta = await meta(dir, failing);
    // The last check of each certificate's endpoints, as `certman check` stores it (an odd endpoint text included).
    const odd = 'we"ird\\host\nname:443';
    const served = {
      [good]: {
        checkedAt: '2026-01-02T03:04:05.000Z',
        liveSerial: goodMeta.serial,
        endpoints: [
          { endpoint: '127.0.0.1:8443', status: 'live', certificate: { serial: goodMeta.serial, notBefore: goodMeta.notBefore, notAfter: goodMeta.notAfter, fingerprint: 'ab', subject: '', issuer: '', names: [good] } },
          { endpoint: odd, status: 'unreachable', error: 'connection refused' },
        ],
      },
      [failing]: { checkedAt: '2026-01-02T03:04:05.000Z', liveSerial: 'abc123', endpoints: [{ endpoint: '[::1]:443', status: 'older', version: 1 }] },
    };
    await writeFile(join(dir, 'state', 'served-check.json'), JSON.stringify(served));

    const r = await certman(dir, ['metrics']);
    assert.equal(r.code, 0, r.stderr);
    assertValidExposition(r.stdout, 'certman metrics');
    const all = samples(r.stdout);
    const pem = await readFile(join(dir, 'live', good, 'cert.pem'), 'utf8');
    const x509 = new X509Certificate(pem);
    assert.equal(valueOf(all, 'certman_certificate_expiry_timestamp_seconds', { name: good }), Date.parse(x509.validTo) / 1000);
    assert.equal(valueOf(all, 'certman_certificate_not_before_timestamp_seconds', { name: good }), Date.parse(x509.validFrom) / 1000);
    assert.equal(valueOf(all, 'certman_certificate_info', { name: good, server: ca().directoryUrl, serial: goodMeta.serial }), 1);
    assert.equal(valueOf(all, 'certman_build_info', { version: VERSION }), 1);

    // Due time and reason, and the rest of the row, as `certificates` lists them.
    const rows = json<{ name: string; dueAt: string; dueReason: string; status: string; nextAttemptAt?: string; deferredUntil?: string }[]>(await certman(dir, ['--json', 'certificates']));
    for (const row of rows.filter((x) => x.name !== broken)) {
      assert.equal(valueOf(all, 'certman_certificate_due_timestamp_seconds', { name: row.name, reason: row.dueReason }), seconds(row.dueAt), row.name);
      assert.equal(valueOf(all, 'certman_certificate_status', { name: row.name, status: row.status }), 1, row.name);
    }
    assert.equal(valueOf(all, 'certman_certificate_status', { name: good, status: 'valid' }), 1);
    assert.equal(valueOf(all, 'certman_certificate_status', { name: good, status: 'expired' }), 0);
    assert.equal(valueOf(all, 'certman_certificate_status', { name: broken, status: 'damaged' }), 1);
    assert.equal(valueOf(all, 'certman_certificate_status', { name: broken, status: 'valid' }), 0);

    // The last attempts: the issuance of one, the refused renewal of the other, and its backoff.
    const attempts = JSON.parse(await readFile(join(dir, 'state', 'renewal-attempts.json'), 'utf8')) as Record<string, { at: string; result: string }>;
    assert.deepEqual(Object.keys(attempts).sort(), [good, failing].sort(), 'one entry per stored certificate');
    assert.equal(attempts[failing]?.result, 'failure');
    assert.equal(valueOf(all, 'certman_certificate_last_attempt_success', { name: good }), 1);
    assert.equal(valueOf(all, 'certman_certificate_last_attempt_success', { name: failing }), 0);
    assert.equal(valueOf(all, 'certman_certificate_last_attempt_timestamp_seconds', { name: failing }), seconds(attempts[failing]?.at ?? ''));
    const backoff = JSON.parse(await readFile(join(dir, 'state', 'renewal-backoff.json'), 'utf8')) as Record<string, { failures: number; nextAttempt: string }>;
    assert.equal(valueOf(all, 'certman_certificate_renewal_failures', { name: failing }), 1);
    assert.equal(valueOf(all, 'certman_certificate_renewal_failures', { name: good }), 0);
    assert.equal(valueOf(all, 'certman_certificate_next_attempt_timestamp_seconds', { name: failing }), seconds(backoff[failing]?.nextAttempt ?? ''));
    const failRow = rows.find((x) => x.name === failing);
    assert.ok(failRow?.deferredUntil !== undefined, JSON.stringify(failRow));
    assert.equal(valueOf(all, 'certman_certificate_deferred_until_timestamp_seconds', { name: failing }), seconds(failRow.deferredUntil));
    assert.equal(valueOf(all, 'certman_certificate_deferred_until_timestamp_seconds', { name: good }), undefined);

    // Counts by status.
    assert.equal(valueOf(all, 'certman_certificates', { status: 'valid' }), 2);
    assert.equal(valueOf(all, 'certman_certificates', { status: 'damaged' }), 1);
    assert.equal(valueOf(all, 'certman_certificates', { status: 'expired' }), 0);
    assert.equal(valueOf(all, 'certman_certificates_backing_off'), 1);
    assert.equal(valueOf(all, 'certman_certificates_deferred'), 1);

    // Served vs live: a state set per endpoint, the check's time, stale once the live serial moved on.
    assert.equal(valueOf(all, 'certman_certificate_served', { name: good, endpoint: '127.0.0.1:8443', status: 'live' }), 1);
    assert.equal(valueOf(all, 'certman_certificate_served', { name: good, endpoint: '127.0.0.1:8443', status: 'older' }), 0);
    assert.equal(valueOf(all, 'certman_certificate_served', { name: good, endpoint: odd, status: 'unreachable' }), 1);
    assert.equal(valueOf(all, 'certman_certificate_served_expiry_timestamp_seconds', { name: good, endpoint: '127.0.0.1:8443' }), seconds(goodMeta.notAfter));
    assert.equal(valueOf(all, 'certman_certificate_served', { name: failing, endpoint: '[::1]:443', status: 'older' }), 1);
    assert.equal(valueOf(all, 'certman_certificate_served_check_timestamp_seconds', { name: good }), seconds('2026-01-02T03:04:05.000Z'));
    assert.equal(valueOf(all, 'certman_certificate_served_check_stale', { name: good }), 0);
    assert.equal(valueOf(all, 'certman_certificate_served_check_stale', { name: failing }), 1);

    // The CA account's budgets: three orders counted (two issued, one refused), no failed validation.
    const account = { server: failMeta.server, account: failMeta.accountUrl };
    assert.equal(valueOf(all, 'certman_ca_new_orders', account), 3);
    assert.equal(valueOf(all, 'certman_ca_failed_validations', account), 0);
    assert.equal(valueOf(all, 'certman_ca_names_blocked', account), 0);
    assert.equal(valueOf(all, 'certman_ca_new_order_limit'), 300);
    assert.equal(valueOf(all, 'certman_ca_failed_validation_limit'), 3);
    assert.equal(valueOf(all, 'certman_store_read_success'), 1);
  });

  it('--output replaces the file in one step: a reader never sees part of it, no temp file is left', async () => {
    const out = await tempDir('textfile');
    const file = join(out, 'certman.prom');
    await writeFile(file, 'old\n');
    const before = await stat(file);
    // A temp file a killed writer left an hour ago: the next write removes it.
    const abandoned = join(out, `.certman-tmp-certman.prom-${hostTag()}-999999-0123456789ab`);
    await writeFile(abandoned, 'half');
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(abandoned, hourAgo, hourAgo);

    let reading = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (reading) {
        const text = await readFile(file, 'utf8');
        seen.add(text === 'old\n' ? 'old' : text.startsWith('# HELP certman_build_info ') && text.endsWith('\ncertman_store_read_success 1\n') ? 'complete' : `partial: ${text.slice(-80)}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    try {
      for (let i = 0; i < 3; i += 1) {
        const r = await certman(dir, ['--json', 'metrics', '--output', file]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(json(r), { output: file });
      }
    } finally {
      reading = false;
      await reader;
    }
    assert.deepEqual([...seen].filter((s) => s.startsWith('partial')), [], 'a reader saw a partial file');
    assert.ok(seen.has('complete'));
    const after = await stat(file);
    assert.notEqual(after.ino, before.ino, 'replaced by a rename, not rewritten in place');
    assert.equal(after.mode & 0o777, 0o644);
    assert.deepEqual(await readdir(out), ['certman.prom'], 'no temp file left, the abandoned one removed');
    assertValidExposition(await readFile(file, 'utf8'), '--output');

    const missing = await certman(dir, ['metrics', '--output', join(out, 'nope', 'certman.prom')]);
    assertOneLineError(missing, 2, /--output .*: no such folder/);
    const folder = await certman(dir, ['metrics', '--output', out]);
    assertOneLineError(folder, 2, /is a folder/);
    assert.deepEqual(await readdir(out), ['certman.prom']);
  });
});

describe('the example alert rules', () => {
  it('pass promtool check rules, and fire on the series certman writes', async () => {
    const checked = promtool(['check', 'rules', ALERTS]);
    assert.equal(checked.code, 0, checked.output);
    const tests = join(await tempDir('alerts'), 'alerts.test.yml');
    await writeFile(tests, alertTests());
    const tested = promtool(['test', 'rules', tests]);
    assert.equal(tested.code, 0, tested.output);
  });
});

/** A promtool rule test: a certificate a few days from expiry, served old by one endpoint, failing renewals. */
function alertTests(): string {
  return `rule_files:
  - ${JSON.stringify(ALERTS)}
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'certman_certificate_expiry_timestamp_seconds{name="a.example"}'
        values: '${5 * 86400}x120'
      - series: 'certman_certificate_renewal_failures{name="a.example"}'
        values: '3x120'
      - series: 'certman_certificate_served{name="a.example",endpoint="web1:443",status="older"}'
        values: '1x120'
      - series: 'certman_certificate_served_check_stale{name="a.example"}'
        values: '0x120'
      - series: 'certman_store_read_success'
        values: '1x120'
    alert_rule_test:
      - eval_time: 90m
        alertname: CertmanCertificateExpiringSoon
        exp_alerts:
          - exp_labels: { severity: critical, name: a.example }
            exp_annotations:
              summary: 'Certificate a.example expires in 4d 22h 30m 0s'
              description: 'See \`certman certificates\` and the last renew log on .'
      - eval_time: 90m
        alertname: CertmanRenewalFailing
        exp_alerts:
          - exp_labels: { severity: warning, name: a.example }
            exp_annotations: { summary: 'Renewal of a.example failed 3 times in a row' }
      - eval_time: 90m
        alertname: CertmanEndpointNotServingLive
        exp_alerts:
          - exp_labels: { severity: critical, name: a.example, endpoint: 'web1:443', status: older }
            exp_annotations: { summary: 'web1:443 serves an older certificate instead of the live a.example' }
      - eval_time: 90m
        alertname: CertmanStoreUnreadable
        exp_alerts: []
`;
}

describe('serve-challenge --metrics-address', () => {
  let serve: ServeChallenge | undefined;
  let metricsPort: number;
  let dir: string;
  before(async () => {
    dir = await suite.registeredDir();
    metricsPort = await freePort();
    serve = await startServeChallenge(certmanEnv(suite.pebble, dir), suite.pebble.httpPort, ['--metrics-address', `127.0.0.1:${metricsPort}`]);
  });
  after(async () => {
    await serve?.stop();
  });

  it("serves the store's metrics and the responder's counters after answering a challenge, and nothing else", async () => {
    assert.match(serve?.stderr() ?? '', new RegExp(`listening on .*http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
    const name = uniqueName('scraped');
    const issued = await suite.certman(dir, ['issue', '-d', name, '--responder']);
    assert.equal(issued.code, 0, issued.stderr);
    const unknown = await get(suite.pebble.httpPort, '/.well-known/acme-challenge/unknown_token_0123456789abcdefghij');
    assert.equal(unknown.status, 404);
    // A token of an order still in progress (the one above was withdrawn when its order ended).
    await new FsTokenStore(dir).put('pending_token_0123456789abcdefghij', 'pending_token_0123456789abcdefghij.thumb', 'p.test', 600_000);

    const scrape = await get(metricsPort, '/metrics');
    assert.equal(scrape.status, 200);
    assert.equal(scrape.type, 'text/plain; version=0.0.4; charset=utf-8');
    assertValidExposition(scrape.body, 'scrape');
    const all = samples(scrape.body);
    // Pebble fetched the token (3 times) and the self-check once: all answered.
    assert.ok((valueOf(all, 'certman_challenge_requests_total', { outcome: 'answered' }) ?? 0) >= 1, scrape.body);
    assert.ok((valueOf(all, 'certman_challenge_requests_total', { outcome: 'unknown_token' }) ?? 0) >= 1, scrape.body);
    assert.equal(valueOf(all, 'certman_challenge_requests_total', { outcome: 'store_error' }), 0);
    assert.equal(valueOf(all, 'certman_challenge_tokens_pending'), 1);
    const meta = JSON.parse(await readFile(join(dir, 'renewal', `${name}.json`), 'utf8')) as Meta;
    assert.equal(valueOf(all, 'certman_certificate_expiry_timestamp_seconds', { name }), seconds(meta.notAfter));
    assert.equal(valueOf(all, 'certman_store_read_success'), 1);

    assert.equal((await get(metricsPort, '/')).status, 404);
    assert.equal((await get(metricsPort, '/metrics/../x')).status, 404);
    assert.equal((await get(metricsPort, '/.well-known/acme-challenge/x')).status, 404);
    assert.equal((await get(metricsPort, '/metrics', 'POST')).status, 405);
    const head = await get(metricsPort, '/metrics', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('a metrics address that is not usable is exit 2 in one line, and nothing keeps running', async () => {
    const port = String(await freePort());
    for (const address of ['127.0.0.1', '::1:9402', 'localhost:9402', '127.0.0.1:0']) {
      const r = await suite.certman(dir, ['serve-challenge', '--port', port, '--address', '127.0.0.1', '--metrics-address', address]);
      assertOneLineError(r, 2, /--metrics-address must be/, address);
    }
    // TEST-NET-1 is no address of this host: the challenge port was bound and is let go again.
    const r = await suite.certman(dir, ['serve-challenge', '--port', port, '--address', '127.0.0.1', '--metrics-address', '192.0.2.1:9402']);
    assertOneLineError(r, 2, /cannot listen on 192\.0\.2\.1:9402: no such local address/);
  });
});

describe('metrics on a Redis store shared by hosts', () => {
  const key = randomBytes(32).toString('hex');
  let redis: RedisServer | undefined;
  let serve: ServeChallenge | undefined;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await serve?.stop();
    await redis?.stop();
  });

  it("one host's responder and another host's `metrics` see what a third issued, its attempt and pending tokens", async () => {
    const url = redis?.url ?? '';
    const [a, b, c] = [await tempDir('host-a'), await tempDir('host-b'), await tempDir('host-c')];
    const onHost = (dir: string, args: string[]) => suite.certman(dir, args, { CERTMAN_STORE: url, CERTMAN_STORE_KEY: key });
    const metricsPort = await freePort();
    serve = await startServeChallenge({ ...certmanEnv(suite.pebble, b), CERTMAN_STORE: url, CERTMAN_STORE_KEY: key }, suite.pebble.httpPort, ['--metrics-address', `127.0.0.1:${metricsPort}`]);
    assert.equal((await onHost(a, ['register', '--email', 'ops@example.com', '--agree-tos'])).code, 0);
    const name = uniqueName('redismetrics');
    const issued = await onHost(a, ['issue', '-d', name, '--responder']);
    assert.equal(issued.code, 0, issued.stderr);
    const store = await openStore(url, { redisKey: Buffer.from(key, 'hex') });
    let notAfter: string;
    try {
      notAfter = (await store.get(name))?.notAfter ?? '';
      await store.tokens.put('pending_token_redis_0123456789abcdef', 'pending_token_redis_0123456789abcdef.thumb', 'p.test', 600_000);
    } finally {
      await store.close?.();
    }

    const scrape = await get(metricsPort, '/metrics');
    assert.equal(scrape.status, 200);
    assertValidExposition(scrape.body, 'scrape over Redis');
    const scraped = samples(scrape.body);
    assert.equal(valueOf(scraped, 'certman_certificate_expiry_timestamp_seconds', { name }), seconds(notAfter));
    assert.equal(valueOf(scraped, 'certman_certificate_last_attempt_success', { name }), 1);
    assert.equal(valueOf(scraped, 'certman_challenge_tokens_pending'), 1);
    assert.ok((valueOf(scraped, 'certman_challenge_requests_total', { outcome: 'answered' }) ?? 0) >= 1, scrape.body);

    const printed = await onHost(c, ['metrics']);
    assert.equal(printed.code, 0, printed.stderr);
    assertValidExposition(printed.stdout, 'certman metrics over Redis');
    const all = samples(printed.stdout);
    assert.equal(valueOf(all, 'certman_certificate_expiry_timestamp_seconds', { name }), seconds(notAfter));
    assert.equal(valueOf(all, 'certman_certificate_last_attempt_success', { name }), 1);
    assert.equal(valueOf(all, 'certman_certificates', { status: 'valid' }), 1);
  });
});

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

