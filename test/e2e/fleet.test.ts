// Fleet mode: several nodes (each its own config dir: logs, local copies of certificates, node-local settings)
// share one real redis-server, one Pebble and one serve-challenge (node B's), and run the real CLI at the same moment.
// Each certificate is renewed exactly once however many nodes renew together; a node killed while holding a
// certificate's lease blocks it no longer than the lease; a certificate issued on one node is validated through
// another's responder and is listed, renewed and deployed on a third.
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { openStore, type Store } from '../../src/store/index.js';
import { certmanEnv, runCli, startRedis, startServeChallenge, tempDir, uniqueName, type RedisServer, type RunOptions, type RunResult, type ServeChallenge } from '../harness/index.js';
import type { CertificateMeta } from '../../src/lineage/types.js';
import { saveLeased } from '../harness/store-fixtures.js';
import { json, pebbleSuite } from './fixture.js';
import { HOLD, holdFiles, meetHook, onStderr, waitForFile, waitUntil } from './hold.js';

const suite = pebbleSuite();
const STORE_KEY = randomBytes(32).toString('hex');
const RENEW = ['--json', 'renew', '--force', '--no-random-sleep'];
/** Lease length of the run that is killed: how long its certificate may stay blocked. */
const LEASE_SECONDS = 5;
const DAY = 86_400_000;

interface RenewJson {
  summary: { renewed: number; held: number; skipped: number; failed: number };
  results: { name: string; status: string; serial?: string; reason?: string; error?: { message: string } }[];
}

interface FleetNode {
  dir: string;
  run(args: string[], options?: RunOptions): Promise<RunResult>;
}

function explain(r: RunResult): string {
  return `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
}

/** Serials as Pebble logs them and certman stores them (hex, any case, leading zeros or not), compared as numbers. */
function serialNumber(hex: string): bigint {
  return BigInt(`0x${hex}`);
}

/** Serials of the certificates Pebble issued in the part of its log after `from` characters. */
function issuedSince(from: number): bigint[] {
  return [...suite.pebble.log().slice(from).matchAll(/Issued certificate serial ([0-9a-fA-F]+) for order/g)].map((m) => serialNumber(m[1] ?? ''));
}

/** Lines of serve-challenge's access log answering (200) a token of `name` to a client whose user agent has `agent`. */
function answeredBy(responder: ServeChallenge, name: string, agent: string): number {
  const host = `"${name}:${suite.pebble.httpPort}"`;
  return responder.stdout().split('\n').filter((line) => line.includes('/.well-known/acme-challenge/') && line.includes(' 200 ') && line.includes(host) && line.includes(agent)).length;
}

async function liveCertificate(dir: string, name: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(join(dir, 'live', name, 'cert.pem')));
}

describe('fleet: nodes sharing one Redis store', () => {
  let redis: RedisServer;
  let serve: ServeChallenge;
  /** The test's own view of the shared store (versions, leases), opened from code like any node's. */
  let store: Store;
  const nodes: FleetNode[] = [];
  const template = uniqueName('template');
  const node = (i: number): FleetNode => nodes[i] as FleetNode;

  before(async () => {
    redis = await startRedis();
    for (const label of ['nodeA', 'nodeB', 'nodeC']) {
      const dir = await tempDir(label);
      const env = { ...certmanEnv(suite.pebble, dir), CERTMAN_STORE: redis.url, CERTMAN_STORE_KEY: STORE_KEY };
      nodes.push({ dir, run: (args, options = {}) => runCli(args, { ...options, env: { ...env, ...options.env } }) });
    }
    // Every node publishes its tokens to Redis; node B's serve-challenge, on the port Pebble validates, answers them all.
    serve = await startServeChallenge({ ...certmanEnv(suite.pebble, node(1).dir), CERTMAN_STORE: redis.url, CERTMAN_STORE_KEY: STORE_KEY }, suite.pebble.httpPort, ['--access-log']);
    const registered = await node(0).run(['register', '--email', 'ops@example.com', '--agree-tos']);
    assert.equal(registered.code, 0, explain(registered));
    store = await openStore(redis.url, { redisKey: Buffer.from(STORE_KEY, 'hex') });
    const issued = await node(0).run(['issue', '-d', template, '--responder']);
    assert.equal(issued.code, 0, explain(issued));
  });

  after(async () => {
    await store?.close?.();
    await serve?.stop();
    await redis?.stop();
  });

  /**
   * Lineages `names` in the shared store, at version 1: copies, under those names, of one certificate node A
   * issued through the CLI (renewal orders from the stored names, so what the old certificate says does not
   * matter). The suite's time goes to the runs under test rather than to one CLI issue per certificate.
   */
  async function seed(names: string[], changes: Partial<CertificateMeta> = {}): Promise<void> {
    const { version: _version, ...issued } = (await store.get(template)) as CertificateMeta;
    const files = await store.readFiles(template);
    await Promise.all(names.map((name) => saveLeased(store, { ...issued, ...changes, name, domains: [name] }, files)));
  }

  /**
   * The three nodes run `renew ARGS` at once, each naming the lineages `names` (the store holds other tests' too): Pebble issues exactly one certificate per
   * lineage, each lineage is at version 2 (one new version, no gap, no duplicate) holding one of those, and
   * exactly one node reports it renewed (and deployed it: its live/ copy is that version); the others' reports
   * match `otherwise`. Returns how many each node renewed and how many it reported otherwise, for the diagnostics.
   */
  async function renewTogether(names: string[], args: string[], otherwise: RegExp, env: Record<string, string> = {}): Promise<string> {
    const before = new Map(await Promise.all(names.map(async (name) => [name, (await store.get(name))?.serial ?? ''] as const)));
    const logFrom = suite.pebble.log().length;
    const named = names.flatMap((name) => ['--cert-name', name]);
    const runs = await Promise.all(nodes.map((n) => n.run(['--json', 'renew', '--no-random-sleep', ...named, ...args], { env })));
    const reports = runs.map((r) => json<RenewJson>(r).results);
    // A node that renewed none of the certificates it was named and found some held exits 75, as any named run does.
    const idle = (results: RenewJson['results'] = []) => !results.some((x) => x.status === 'renewed') && results.some((x) => x.status === 'held');
    runs.forEach((r, i) => assert.equal(r.code, idle(reports[i]) ? 75 : 0, explain(r)));

    const issued = issuedSince(logFrom);
    assert.equal(issued.length, names.length, `Pebble issued ${issued.length} certificates for ${names.length} lineages`);
    for (const name of names) {
      const meta = await store.get(name);
      assert.ok(meta !== undefined, name);
      assert.equal(meta.version, 2, `${name}: one new version, no gap, no duplicate`);
      assert.notEqual(meta.serial, before.get(name), name);
      assert.ok(issued.includes(serialNumber(meta.serial)), `${name}: its live certificate is one Pebble issued in this round`);
      const statuses = reports.map((results) => results.find((r) => r.name === name));
      const renewers = statuses.flatMap((r, i) => (r?.status === 'renewed' ? [i] : []));
      assert.equal(renewers.length, 1, `${name}: ${JSON.stringify(statuses)}`);
      for (const r of statuses) {
        if (r?.status === 'renewed') assert.equal(serialNumber(r.serial ?? ''), serialNumber(meta.serial), name);
        else assert.match(`${r?.status}: ${r?.reason ?? ''}`, otherwise, `${name}: ${JSON.stringify(r)}`);
      }
      const local = await liveCertificate(node(renewers[0] ?? 0).dir, name);
      assert.equal(serialNumber(local.serialNumber), serialNumber(meta.serial), `${name} on the node that renewed it`);
    }
    const tally = (status: string) => reports.map((results) => results.filter((r) => r.status === status).length).join('/');
    return `renewed ${tally('renewed')}, held ${tally('held')}, not due ${tally('not-due')}, found renewed since the run started ${tally('skipped')} (nodes A/B/C)`;
  }

  it('three nodes renew at the same minute (cron) over 30 due shared certificates: each is renewed exactly once', async (t) => {
    const names = Array.from({ length: 30 }, (_, i) => uniqueName(`due${i}`));
    // Due: the stored metadata says they were issued 60 days ago and expire tomorrow (renew decides from it). Runs that start late find
    // them renewed and not due; held ones are another node's.
    await seed(names, { notBefore: new Date(Date.now() - 60 * DAY).toISOString(), notAfter: new Date(Date.now() + DAY).toISOString() });
    t.diagnostic(await renewTogether(names, [], /^(held: another certman run holds|not-due: )/));
  });

  it('three nodes renew --force 30 shared certificates at the same moment: each gets exactly one new certificate', async (t) => {
    const names = Array.from({ length: 30 }, (_, i) => uniqueName(`force${i}`));
    await seed(names);
    // "At the same moment": no node renews before all three have listed (each waits in its pre-hook for the
    // others, holding its first leases). A --force run started after another renewed a certificate renews it
    // again, as asked; runs that overlap renew each once: a node finds held, or renewed since it listed, what
    // another node renewed.
    const marks = await tempDir('marks');
    const hooked = ['--force', '--pre-hook', meetHook(nodes.length)];
    t.diagnostic(await renewTogether(names, hooked, /^(held: another certman run holds|skipped: renewed by another run since this one started)/, { MARKS: marks }));
  });

  it('a --force run that waited for another node renewing the same certificate does not renew it again', async () => {
    const name = uniqueName('waited');
    await seed([name]);
    const hold = await holdFiles();
    const first = node(0).run([...RENEW, '--cert-name', name, '--pre-hook', HOLD], { env: hold.env });
    await waitForFile(hold.started, 'node A to hold the certificate');
    const logFrom = suite.pebble.log().length;
    const waiter = await node(2).run(['-v', ...RENEW, '--cert-name', name, '--wait'], {
      onSpawn: (child) => onStderr(child, `waiting for ${name}`, () => void writeFile(hold.go, '')),
    });
    const renewed = await first;
    assert.equal(renewed.code, 0, explain(renewed));
    assert.deepEqual(json<RenewJson>(renewed).results.map((r) => r.status), ['renewed']);
    assert.equal(waiter.code, 0, explain(waiter));
    const [result] = json<RenewJson>(waiter).results;
    assert.equal(result?.status, 'skipped', explain(waiter));
    assert.match(result?.reason ?? '', /renewed by another run since this one started/);
    assert.equal(issuedSince(logFrom).length, 1, 'one certificate issued');
    assert.equal((await store.get(name))?.version, 2);
  });

  it(`a node killed (SIGKILL) holding a lease blocks that certificate for at most the lease (${LEASE_SECONDS} s): another node then renews it once`, async (t) => {
    const name = uniqueName('killed');
    await seed([name]);
    const before = await store.get(name);
    const hold = await holdFiles();
    let child: ChildProcessWithoutNullStreams | undefined;
    const doomed = node(0).run([...RENEW, '--cert-name', name, '--pre-hook', HOLD], {
      env: { ...hold.env, CERTMAN_LEASE_SECONDS: String(LEASE_SECONDS) },
      onSpawn: (c) => (child = c),
    });
    await waitForFile(hold.started, 'node A to hold the certificate');
    const logFrom = suite.pebble.log().length;
    child?.kill('SIGKILL');
    const killedAt = Date.now();
    // The lease outlives its holder, in Redis, for what remained of its length (the holder extended it every
    // quarter of it until the kill): it cannot be taken before.
    await assert.rejects(store.lease({ certificate: name }, { wait: false }), /another certman run holds certificate/);
    const expiresBy = killedAt + LEASE_SECONDS * 1000;
    const killed = await doomed;
    await writeFile(hold.go, ''); // the dead run's hook ends; the dead run cannot release or extend its lease
    assert.equal(killed.signal, 'SIGKILL', explain(killed));

    // Node B renews until it gets the certificate: held while the lease lasts, renewed once it has run out.
    const attempts: { status: string; startedAt: number; endedAt: number }[] = [];
    for (;;) {
      const startedAt = Date.now();
      const r = await node(1).run([...RENEW, '--cert-name', name]);
      const [result] = json<RenewJson>(r).results;
      attempts.push({ status: result?.status ?? '', startedAt, endedAt: Date.now() });
      if (result?.status === 'renewed') break;
      assert.equal(r.code, 75, explain(r));
      assert.equal(result?.status, 'held', explain(r));
      assert.match(result?.reason ?? '', /another certman run holds certificate .* until /);
      // Nobody can hold it past its expiry: a run that started after it must have got it.
      assert.ok(startedAt < expiresBy, `held at ${startedAt - killedAt} ms after the kill, past the ${LEASE_SECONDS} s lease`);
    }
    const renewedAt = attempts.at(-1)?.endedAt ?? 0;
    // A run that ended before the lease ran out cannot have had it.
    for (const a of attempts) if (a.endedAt < expiresBy) assert.equal(a.status, 'held', JSON.stringify(attempts));
    // Bounded by the lease; the margin is for a loaded machine (a few CLI runs), not a speed target.
    assert.ok(renewedAt - killedAt < (LEASE_SECONDS + 45) * 1000, `renewed ${renewedAt - killedAt} ms after the kill`);
    t.diagnostic(`node B: ${attempts.length - 1} runs found it held, then renewed it ${renewedAt - killedAt} ms after the kill`);
    assert.equal(issuedSince(logFrom).length, 1, 'one certificate issued after the kill');
    const meta = await store.get(name);
    assert.equal(meta?.version, 2);
    assert.notEqual(meta?.serial, before?.serial);
  });

  it('a certificate issued on node A is validated through node B’s serve-challenge, synced to node C, and renewed there', async () => {
    const name = uniqueName('three');
    const issued = await node(0).run(['--json', 'issue', '-d', name, '--responder']);
    assert.equal(issued.code, 0, explain(issued));
    const serial = json<{ serial: string }>(issued).serial;
    // Node A publishes to Redis, and only node B listens where Pebble validates: B answered Pebble's validation.
    await waitUntil(() => answeredBy(serve, name, 'Pebble-VA') > 0, `node B's access log to show Pebble fetching a token of ${name}`);
    assert.ok(suite.pebble.validationsFor(name) >= 1, `Pebble validated ${name}`);

    // Node C sees it in the shared store.
    const listed = await node(2).run(['--json', 'certificates']);
    assert.equal(listed.code, 0, explain(listed));
    const row = json<{ name: string; serial: string; status: string }[]>(listed).find((r) => r.name === name);
    assert.equal(serialNumber(row?.serial ?? '0'), serialNumber(serial), explain(listed));
    assert.equal(row?.status, 'valid');

    // `certman sync` on node C writes A's version to C's files, without renewing it.
    const synced = await node(2).run(['--json', 'sync', '--cert-name', name]);
    assert.equal(synced.code, 0, explain(synced));
    const local = await liveCertificate(node(2).dir, name);
    assert.equal(serialNumber(local.serialNumber), serialNumber(serial));
    const keyFile = join(node(2).dir, 'live', name, 'privkey.pem');
    assert.ok(local.checkPrivateKey(createPrivateKey(await readFile(keyFile))), 'node C’s key matches its certificate');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    // Node C renews it (through B's responder too) and deploys its own copy, which node A then lists.
    const renewed = await node(2).run([...RENEW, '--cert-name', name]);
    assert.equal(renewed.code, 0, explain(renewed));
    const [result] = json<RenewJson>(renewed).results;
    assert.equal(result?.status, 'renewed', explain(renewed));
    assert.equal(serialNumber((await liveCertificate(node(2).dir, name)).serialNumber), serialNumber(result?.serial ?? '0'));
    const seenOnA = await node(0).run(['--json', 'certificates']);
    const rowOnA = json<{ name: string; serial: string }[]>(seenOnA).find((r) => r.name === name);
    assert.equal(serialNumber(rowOnA?.serial ?? '0'), serialNumber(result?.serial ?? '0'), 'node A lists node C’s renewal');
  });
});
