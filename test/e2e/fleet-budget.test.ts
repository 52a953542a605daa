// The CA's budget, fleet-wide: two nodes (two config dirs) share one store, and with it the counts of failed
// validations per account and name and of new orders per account. Failures on node A count against node B;
// once the limit is reached no node sends that name to the CA (Pebble validates it no more). At the new-order
// limit renew defers every certificate of the account, issue refuses with one line, and `certificates` on the
// other node shows the deferral and its time.
//
// The store is one variable (STORES): each entry makes a fresh store and returns the environment that points both
// nodes at it (CERTMAN_STORE, and for Redis its prefix and key): a store folder, and Redis.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRedis, tempDir, uniqueName, type RedisServer } from '../harness/index.js';
import { assertOneLineError, json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

const STORES: { label: string; location: () => Promise<Record<string, string>> }[] = [
  { label: 'a store folder', location: async () => ({ CERTMAN_STORE: await tempDir('fleet-store') }) },
  // A fresh prefix per fleet: one Redis, stores apart.
  { label: 'Redis', location: () => Promise.resolve({ CERTMAN_STORE: redis.url, CERTMAN_STORE_PREFIX: `${uniqueName('fleet')}:`, CERTMAN_STORE_KEY: randomBytes(32).toString('hex') }) },
];

interface Row {
  name: string;
  status: string;
  deferredUntil?: string;
  deferredReason?: string;
}

interface RenewJson {
  results: { name: string; status: string; reason?: string; until?: string }[];
}

/** One node of the fleet: its own config dir (and config file), the fleet's store. */
interface Node {
  run(args: string[]): ReturnType<typeof suite.certman>;
}

async function node(store: Record<string, string>, config: Record<string, unknown> = {}): Promise<Node> {
  const dir = await tempDir('fleet-node');
  // The standalone port is each node's own: a shared store keeps none.
  await writeFile(join(dir, 'certman.config.json'), JSON.stringify({ httpPort: suite.pebble.httpPort, httpAddress: '127.0.0.1', ...config }));
  return { run: (args) => suite.certman(dir, args, store) };
}

/** Two nodes on a fresh store holding one registered account (the store keeps it: both order with it). */
async function fleet(location: () => Promise<Record<string, string>>, config: Record<string, unknown> = {}): Promise<[Node, Node]> {
  const store = await location();
  const nodes: [Node, Node] = [await node(store, config), await node(store, config)];
  const r = await nodes[0].run(['register', '--email', 'ops@example.com', '--agree-tos']);
  assert.equal(r.code, 0, r.stderr);
  return nodes;
}

for (const { label, location } of STORES) {
  describe(`the fleet's CA budget on ${label}`, () => {
    it('failed validations on node A count against node B; at the limit no node sends the name to the CA', async () => {
      const [a, b] = await fleet(location);
      // A name never validated (no authorization to reuse) whose DNS fails at the CA: every order fails validation.
      const name = uniqueName('fleet-fail');
      await suite.pebble.setServfail(name);
      try {
        // --no-self-check: the CA itself must see the failures.
        const issue = (n: Node) => n.run(['issue', '-d', name, ...suite.standalone(), '--no-self-check']);
        for (const [n, which] of [[a, 'A'], [a, 'A'], [b, 'B']] as const) {
          const r = await issue(n);
          assert.equal(r.code, 1, `node ${which}: ${r.stderr}`);
          assert.match(r.stderr, /^error: connection: validation failed for 1 name/, `node ${which}`);
        }
        const validations = suite.pebble.validationsFor(name);
        assert.ok(validations >= 3, `Pebble validated ${name} ${validations} times`);
        for (const [n, which] of [[b, 'B'], [a, 'A']] as const) {
          assertOneLineError(
            await issue(n),
            1,
            new RegExp(`^error: ${name.replace(/\./g, '\\.')} failed validation 3 times in the last hour; not asking the CA again before \\d{4}-`),
            `node ${which}`,
          );
        }
        assert.equal(suite.pebble.validationsFor(name), validations, 'no node sent the name to the CA again');
      } finally {
        await suite.pebble.clearServfail(name);
      }
    });

    it('at the new-order limit renew defers, issue refuses, and certificates on the other node shows until when', async () => {
      const [a, b] = await fleet(location, { newOrderLimit: 3 });
      const names = [uniqueName('fleet-order-a'), uniqueName('fleet-order-b')];
      // One order from each node: 2 of the account's 3 are spent, fleet-wide.
      for (const [n, name] of [[a, names[0]], [b, names[1]]] as const) {
        const r = await n.run(['issue', '-d', name ?? '', ...suite.standalone()]);
        assert.equal(r.code, 0, r.stderr);
      }
      // Both are ordered at once: the count decides, so one is renewed and the other deferred.
      const renew = await a.run(['--json', 'renew', '--force', '--no-random-sleep', '--concurrency', '2']);
      assert.equal(renew.code, 0, renew.stderr);
      const results = json<RenewJson>(renew).results;
      assert.deepEqual(results.map((r) => r.status).sort(), ['deferred', 'renewed'], renew.stdout);
      const deferred = results.find((r) => r.status === 'deferred');
      const until = deferred?.until ?? '';
      assert.ok(Date.parse(until) > Date.now() + 2 * 3_600_000, `deferred until ${until}: the first order leaves the 3-hour window then`);
      assert.match(deferred?.reason ?? '', /sent 3 new orders in the last 3 hours \(config newOrderLimit\); no new order before \d{4}-/);
      const again = json<RenewJson>(await b.run(['--json', 'renew', '--force', '--no-random-sleep'])).results;
      assert.deepEqual(again.map((r) => [r.status, r.until]), [['deferred', until], ['deferred', until]], 'node B defers both, until the same time');

      const third = uniqueName('fleet-order-c');
      assertOneLineError(await b.run(['issue', '-d', third, ...suite.standalone()]), 1, /^error: account \S+ sent 3 new orders in the last 3 hours.*no new order before \d{4}-/);
      assert.equal(suite.pebble.validationsFor(third), 0, 'the refused order never reached the CA');

      const listed = await b.run(['--json', 'certificates']);
      assert.equal(listed.code, 0, listed.stderr);
      const rows = json<Row[]>(listed);
      assert.deepEqual(rows.map((r) => [r.name, r.deferredUntil]).sort(), names.map((name) => [name, until]).sort());
      assert.ok(rows.every((r) => r.deferredReason === deferred?.reason), listed.stdout);
      const human = await b.run(['certificates']);
      for (const name of names) assert.match(human.stdout, new RegExp(`^deferred ${name.replace(/\./g, '\\.')} until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC: account `, 'm'));
    });
  });
}
