// `certman check` against a real nginx serving certman's live/ files over TLS on loopback ports, certificates from a
// real Pebble (30-day lifetime). Proves: an endpoint serving the live certificate says live (given with --endpoint,
// or stored with `issue --endpoint`); after `renew --force` whose deploy hook does not reload nginx it says "older
// version" with the old serial (exit 1); after one whose hook reloads nginx it says live with the new serial; a port
// nothing listens on is unreachable; another certificate served is "other" with its subject and names; --json's
// shape; a check of the certificate's own endpoints is kept in the state store. Monitoring-plugin mode (--expiry): one run per state, each with its
// status line first and exit 0/1/2/3, and bad arguments, an unknown certificate and an unreadable store are
// UNKNOWN (3) with no stack trace and no other exit code.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePorts, startNginx, tempDir, uniqueName, type NginxServer, type RunResult } from '../harness/index.js';
import { tlsServerBlock } from '../harness/nginx.js';
import { sleep } from '../harness/proc.js';
import { json, pebbleSuite } from './fixture.js';

const LIFETIME_DAYS = 30;
const suite = pebbleSuite({ validitySeconds: LIFETIME_DAYS * 86_400 });

interface EndpointJson {
  endpoint: string;
  servername?: string;
  status: string;
  version?: number;
  error?: string;
  certificate?: { serial: string; notAfter: string; fingerprint: string; subject: string; issuer: string; names: string[] };
}
interface CertificateJson {
  name: string;
  status: string;
  domains: string[];
  version: number;
  serial: string;
  notAfter: string;
  checkedAt: string;
  endpoints: EndpointJson[];
}
interface CheckJson {
  ok: boolean;
  counts: Record<string, number>;
  certificates: CertificateJson[];
}

/** The first line is the plugin's status line, the exit code its state's, and nothing else escapes. */
function assertPlugin(r: RunResult, state: 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN', first: RegExp, label: string): void {
  const context = `${label} (exit ${r.code})\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
  assert.equal(r.code, { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 }[state], context);
  const [line] = r.stdout.split('\n');
  assert.match(line ?? '', new RegExp(`^CERTMAN ${state} - `), context);
  assert.match(line ?? '', first, context);
  assert.doesNotMatch(`${r.stdout}${r.stderr}`, /\n\s+at |Error:/, `stack trace: ${context}`);
}

describe('certman check against nginx', () => {
  let dir: string;
  let live: string;
  let other: string;
  let nginx: NginxServer;
  let livePort: number;
  let otherPort: number;
  let closedPort: number;
  const at = (port: number) => `127.0.0.1:${port}`;

  before(async () => {
    ({ dir, names: [live = '', other = ''] } = await suite.issued(2, 'check'));
    [livePort = 0, otherPort = 0, closedPort = 0] = await freePorts(4).then((ports) => ports.slice(0, 3));
    const [httpPort = 0] = (await freePorts(5)).filter((port) => ![livePort, otherPort, closedPort].includes(port));
    const served = (port: number, name: string) => tlsServerBlock({ port, fullchain: join(dir, 'live', name, 'fullchain.pem'), privkey: join(dir, 'live', name, 'privkey.pem') });
    nginx = await startNginx({ port: httpPort, root: await tempDir('www'), extraServers: [served(livePort, live), served(otherPort, other)].join('\n') });
  });
  after(async () => {
    await nginx?.stop();
  });

  /** The last check of `name` in the state store (for certman metrics). */
  const keptCheck = async (name: string): Promise<{ liveSerial: string; endpoints: EndpointJson[] } | undefined> => {
    const text = await readFile(join(dir, 'state', 'served-check.json'), 'utf8').catch(() => '{}');
    return (JSON.parse(text) as Record<string, { liveSerial: string; endpoints: EndpointJson[] }>)[name];
  };

  const check = async (args: string[]): Promise<{ r: RunResult; doc: CheckJson }> => {
    const r = await suite.certman(dir, ['--json', 'check', ...args]);
    return { r, doc: json<CheckJson>(r) };
  };

  it('an endpoint serving the live certificate is live; --json gives each endpoint and what it presents; the check is kept', async () => {
    const { r, doc } = await check(['--cert-name', live, '--endpoint', at(livePort)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(doc.ok, true);
    assert.deepEqual(doc.counts, { live: 1, older: 0, other: 0, unreachable: 0 });
    const [cert] = doc.certificates;
    assert.ok(cert !== undefined);
    assert.deepEqual(Object.keys(cert).sort(), ['checkedAt', 'domains', 'endpoints', 'name', 'notAfter', 'serial', 'status', 'version']);
    assert.equal(cert.status, 'checked');
    assert.equal(cert.version, 1);
    const [endpoint] = cert.endpoints;
    assert.equal(endpoint?.endpoint, at(livePort));
    assert.equal(endpoint?.servername, live);
    assert.equal(endpoint?.status, 'live');
    assert.equal(endpoint?.certificate?.serial, cert.serial);
    assert.deepEqual(endpoint?.certificate?.names, [live]);
    assert.match(endpoint?.certificate?.fingerprint ?? '', /^[0-9a-f]{64}$/);
    assert.equal(await keptCheck(live), undefined, 'endpoints given for one run are not the certificate\'s: nothing kept');

    const human = await suite.certman(dir, ['check', '--cert-name', live, '--endpoint', at(livePort)]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`✓ 127\\.0\\.0\\.1:${livePort}\\s+live`));
    assert.match(human.stdout, /1 of 1 endpoint serve the live certificate/);
  });

  it('a port nothing listens on is unreachable, another certificate is other: exit 1, each named', async () => {
    const { r, doc } = await check(['--cert-name', live, '--endpoint', `${at(closedPort)},${at(otherPort)}`]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(doc.ok, false);
    const [unreachable, another] = doc.certificates[0]?.endpoints ?? [];
    assert.equal(unreachable?.status, 'unreachable');
    assert.match(unreachable?.error ?? '', /ECONNREFUSED/);
    assert.equal(unreachable?.certificate, undefined);
    assert.equal(another?.status, 'other');
    assert.deepEqual(another?.certificate?.names, [other]);
    const human = await suite.certman(dir, ['check', '--cert-name', live, '--endpoint', at(closedPort), '--endpoint', at(otherPort)]);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /unreachable: .*ECONNREFUSED/);
    assert.match(human.stdout, new RegExp(`another certificate: subject .*, issuer .*, serial [0-9a-f]+, expires .*, names ${other.replace(/\./g, '\\.')}`));
  });

  it('an endpoint that accepts but never answers TLS is unreachable after --timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const { r, doc } = await check(['--timeout', '1', '--cert-name', live, '--endpoint', at(port)]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(doc.certificates[0]?.endpoints[0]?.error, `${at(port)}: no TLS handshake within 1 s`);
    } finally {
      silent.close();
    }
  });

  it('issue --endpoint stores the endpoints (no order when not due), check uses them; --no-endpoint forgets them', async () => {
    const stored = await suite.certman(dir, ['issue', '-d', live, ...suite.standalone(), '--endpoint', at(livePort)]);
    assert.equal(stored.code, 0, stored.stderr);
    const meta = JSON.parse(await readFile(join(dir, 'renewal', `${live}.json`), 'utf8')) as { version: number; endpoints?: string[] };
    assert.deepEqual(meta.endpoints, [at(livePort)]);
    assert.equal(meta.version, 1, 'not due: nothing was ordered');
    const { r, doc } = await check(['--cert-name', live]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(doc.certificates[0]?.endpoints[0]?.endpoint, at(livePort));
    const kept = await keptCheck(live);
    assert.equal(kept?.liveSerial, doc.certificates[0]?.serial);
    assert.equal(kept?.endpoints[0]?.status, 'live');

    const forgot = await suite.certman(dir, ['issue', '-d', other, ...suite.standalone(), '--endpoint', at(otherPort), '--no-endpoint']);
    assert.equal(forgot.code, 0, forgot.stderr);
    const otherMeta = JSON.parse(await readFile(join(dir, 'renewal', `${other}.json`), 'utf8')) as { endpoints?: string[] };
    assert.equal(otherMeta.endpoints, undefined);

    // Without its own, a certificate is checked where config `endpoints` says (by name here).
    const config = join(await tempDir('config'), 'certman.json');
    await writeFile(config, JSON.stringify({ endpoints: { [other]: [at(otherPort)], '*': [at(closedPort)] } }));
    const configured = await suite.certman(dir, ['--json', '--config', config, 'check', '--cert-name', other]);
    assert.equal(configured.code, 0, configured.stderr);
    assert.equal(json<CheckJson>(configured).certificates[0]?.endpoints[0]?.endpoint, at(otherPort));

    // A store apart from the config dir may be shared: it keeps no endpoints, so --endpoint is refused before ordering.
    const shared = await suite.certman(dir, ['--store', await tempDir('shared'), 'issue', '-d', uniqueName('shared'), ...suite.standalone(), '--endpoint', at(livePort)]);
    assert.equal(shared.code, 2, shared.stderr);
    assert.match(shared.stderr, /--endpoint needs the store in the config dir/);
  });

  it("a shared store's certificate is checked where this host's config says, whatever endpoints the store holds", async () => {
    const shared = await tempDir('shared');
    const name = uniqueName('shared');
    const issued = await suite.certman(dir, ['--store', shared, 'issue', '-d', name, ...suite.standalone(), '--no-email', '--agree-tos']);
    assert.equal(issued.code, 0, issued.stderr);
    // Whoever can write a shared store must not choose where hosts connect: endpoints written there are not used.
    const file = join(shared, 'renewal', `${name}.json`);
    await writeFile(file, JSON.stringify({ ...(JSON.parse(await readFile(file, 'utf8')) as object), endpoints: [at(closedPort)] }));
    const config = join(await tempDir('config'), 'certman.json');
    await writeFile(config, JSON.stringify({ endpoints: [at(otherPort)] }));
    const r = await suite.certman(dir, ['--json', '--store', shared, '--config', config, 'check', '--cert-name', name]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(json<CheckJson>(r).certificates[0]?.endpoints.map((e) => [e.endpoint, e.status]), [[at(otherPort), 'other']]);
  });

  it('a renewal whose hook does not reload nginx: older version with the old serial; one that reloads: live with the new serial', async () => {
    const before = (await check(['--cert-name', live])).doc.certificates[0];
    const stale = await suite.certman(dir, ['renew', '--force', '--cert-name', live, '--no-random-sleep', '--deploy-hook', 'true']);
    assert.equal(stale.code, 0, stale.stderr);
    const { r, doc } = await check(['--cert-name', live]);
    assert.equal(r.code, 1, r.stderr);
    const cert = doc.certificates[0];
    assert.equal(cert?.version, 2);
    assert.notEqual(cert?.serial, before?.serial);
    assert.equal(cert?.endpoints[0]?.status, 'older');
    assert.equal(cert?.endpoints[0]?.version, 1);
    assert.equal(cert?.endpoints[0]?.certificate?.serial, before?.serial);
    const human = await suite.certman(dir, ['check', '--cert-name', live]);
    assert.match(human.stdout, new RegExp(`older version 1: serial ${before?.serial ?? '?'}, expires `));

    const reloaded = await suite.certman(dir, ['renew', '--force', '--cert-name', live, '--no-random-sleep', '--deploy-hook', nginx.reloadCommand]);
    assert.equal(reloaded.code, 0, reloaded.stderr);
    // `nginx -s reload` returns before the new workers take over: ask until they do (or a generous time is up).
    let last: CertificateJson | undefined;
    for (let i = 0; i < 100; i += 1) {
      last = (await check(['--cert-name', live])).doc.certificates[0];
      if (last?.endpoints[0]?.status === 'live') break;
      await sleep(200);
    }
    assert.equal(last?.version, 3);
    assert.equal(last?.endpoints[0]?.status, 'live', JSON.stringify(last));
    assert.equal(last?.endpoints[0]?.certificate?.serial, last?.serial);
  });

  describe('--expiry (monitoring plugin)', () => {
    it('OK: every certificate far from expiry and served live; performance data after |', async () => {
      const r = await suite.certman(dir, ['check', '--expiry', '--cert-name', live]);
      assertPlugin(r, 'OK', /1 certificate OK; soonest: .* \| days_left=\d+;21;7 certificates=1 endpoints=1 endpoints_not_live=0$/, 'ok');
      assert.match(r.stdout, /\nOK: .* serves the live certificate/);
    });

    it('WARNING: fewer days left than --warn-days, or an endpoint serving an older version', async () => {
      assertPlugin(await suite.certman(dir, ['check', '--expiry', '--cert-name', live, '--warn-days', String(LIFETIME_DAYS + 10), '--crit-days', '7']), 'WARNING', /expires in \d+ days/, 'warn-days');
      // `other` was never reloaded either: its port serves version 1 after this renewal.
      const renewed = await suite.certman(dir, ['renew', '--force', '--cert-name', other, '--no-random-sleep', '--deploy-hook', 'true']);
      assert.equal(renewed.code, 0, renewed.stderr);
      assertPlugin(await suite.certman(dir, ['check', '--expiry', '--cert-name', other, '--endpoint', at(otherPort)]), 'WARNING', /serves older version 1/, 'older');
    });

    it('CRITICAL: fewer days left than --crit-days, or an unreachable endpoint', async () => {
      assertPlugin(await suite.certman(dir, ['check', '--expiry', '--warn-days', String(LIFETIME_DAYS + 20), '--crit-days', String(LIFETIME_DAYS + 10)]), 'CRITICAL', /expires in \d+ days/, 'crit-days');
      assertPlugin(await suite.certman(dir, ['check', '--expiry', '--stored-only', '--warn-days', '50', '--crit-days', '40']), 'CRITICAL', /expires in/, 'stored only');
      assertPlugin(await suite.certman(dir, ['check', '--expiry', '--cert-name', live, '--endpoint', at(closedPort)]), 'CRITICAL', /unreachable: .*ECONNREFUSED/, 'unreachable');
    });

    it('UNKNOWN: an unknown certificate, an unreadable store, a damaged lineage, bad arguments: exit 3, nothing else escapes', async () => {
      assertPlugin(await suite.certman(dir, ['check', '--expiry', '--cert-name', 'nowhere.example']), 'UNKNOWN', /no certificate named nowhere\.example/, 'unknown name');
      const notAFolder = join(await tempDir('store'), 'file');
      await writeFile(notAFolder, 'not a store\n');
      assertPlugin(await suite.certman(dir, ['--store', notAFolder, 'check', '--expiry']), 'UNKNOWN', /cannot list/, 'unreadable store');
      const damaged = await tempDir('damaged');
      await mkdir(join(damaged, 'renewal'));
      await writeFile(join(damaged, 'renewal', `${uniqueName('broken')}.json`), '{ not json');
      assertPlugin(await suite.certman(damaged, ['check', '--expiry', '--stored-only']), 'UNKNOWN', /cannot be read: .*not valid JSON/, 'damaged');
      assertPlugin(await suite.certman(dir, ['check', '--expiry', '--warn-days', '7', '--crit-days', '21']), 'UNKNOWN', /--warn-days \(7\) must be more than --crit-days \(21\)/, 'thresholds');
      assertPlugin(await suite.certman(dir, ['check', '--expiry', '--warn-days', 'soon']), 'UNKNOWN', /--warn-days must be a whole number/, 'bad number');
      assertPlugin(await suite.certman(dir, ['check', '--expiry', '--no-such-flag']), 'UNKNOWN', /unknown option/, 'unknown flag');
      assertPlugin(await suite.certman(dir, ['check', '--expiry', '--endpoint', 'bad host']), 'UNKNOWN', /invalid endpoint/, 'bad endpoint');
      assertPlugin(await suite.certman(dir, ['--config', join(dir, 'missing.json'), 'check', '--expiry']), 'UNKNOWN', /missing\.json/, 'missing config');
      // Outside plugin mode the same mistakes are usage errors (exit 2), as everywhere in certman.
      assert.equal((await suite.certman(dir, ['check', '--cert-name', 'nowhere.example'])).code, 2);
      assert.equal((await suite.certman(dir, ['check', '--warn-days', '3'])).code, 2);
    });
  });
});
