// `renew --verify-deploy` against a real nginx serving certman's live/ files over HTTPS on loopback. Proves: a deploy
// hook that reloads nginx passes (the endpoint serves the new version); one that does not reload fails the run
// (exit 1) within the time, names the old version and serial served, puts the certificate in the post-hook's
// FAILED_DOMAINS, keeps the new version live and starts no failed-renewal backoff (the next plain renew finds it not
// due); config verifyDeploy turns it on, --no-verify-deploy off; an unreachable endpoint is a miss; a dry run
// verifies nothing; SIGTERM ends the wait (exit 130); a bad SECONDS is a usage error; the last check is kept.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { certmanEnv, freePorts, runCli, signalOnStderr, startNginx, tempDir, uniqueName, type NginxServer, type RunResult } from '../harness/index.js';
import { normalizeSerial } from '../../src/crypto/certificate.js';
import { tlsServerBlock } from '../harness/nginx.js';
import { assertOneLineError, json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
const servers: NginxServer[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

interface Verify {
  ok: boolean;
  seconds: number;
  problem?: string;
  endpoints: { endpoint: string; status: string; version?: number; error?: string; certificate?: { serial: string } }[];
}
interface RenewRow {
  name: string;
  status: string;
  serial: string;
  previousSerial: string;
  verify?: Verify;
}
type RenewJson = { summary: Record<string, number>; results: RenewRow[] };

/** A certificate issued into a fresh config dir, served by nginx over HTTPS from its live/ files; config endpoints name it. */
async function served(label: string, config: Record<string, unknown> = {}) {
  const dir = await suite.registeredDir();
  const name = uniqueName(label);
  const issued = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()]);
  assert.equal(issued.code, 0, issued.stderr);
  const [httpPort, tlsPort] = await freePorts(2);
  const live = join(dir, 'live', name);
  // Started only now: nginx refuses to start without the certificate files.
  const nginx = await startNginx({
    port: httpPort as number,
    root: await tempDir('nginx-root'),
    extraServers: tlsServerBlock({ port: tlsPort as number, fullchain: join(live, 'fullchain.pem'), privkey: join(live, 'privkey.pem') }),
  });
  servers.push(nginx);
  const endpoint = `127.0.0.1:${tlsPort}`;
  await writeConfig(dir, { endpoints: [endpoint], ...config });
  const marks = await tempDir('marks');
  const failedFile = join(marks, 'failed');
  const postHook = `printf '%s' "$FAILED_DOMAINS" > ${failedFile}`;
  const renew = (args: string[]) => suite.certman(dir, ['--json', 'renew', '--cert-name', name, '--no-random-sleep', '--post-hook', postHook, ...args]);
  return { dir, name, nginx, endpoint, renew, postHook, failedDomains: () => readFile(failedFile, 'utf8'), liveSerial: () => serialOf(join(live, 'cert.pem')) };
}

function writeConfig(dir: string, config: Record<string, unknown>): Promise<void> {
  return writeFile(join(dir, 'certman.config.json'), JSON.stringify(config));
}

async function serialOf(file: string): Promise<string> {
  return normalizeSerial(new X509Certificate(await readFile(file)).serialNumber);
}

function only(r: RunResult): RenewRow {
  const rows = json<RenewJson>(r).results;
  assert.equal(rows.length, 1, r.stdout);
  return rows[0] as RenewRow;
}

describe('renew --verify-deploy', () => {
  it('passes when the deploy hook reloads nginx: the endpoint serves the new version', async () => {
    const s = await served('vd-reload');
    const r = await s.renew(['--force', '--verify-deploy=10', '--deploy-hook', s.nginx.reloadCommand]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const row = only(r);
    assert.equal(row.status, 'renewed');
    assert.equal(row.verify?.ok, true, JSON.stringify(row.verify));
    assert.deepEqual(row.verify?.endpoints.map((e) => [e.endpoint, e.status, e.certificate?.serial]), [[s.endpoint, 'live', row.serial]]);
    assert.equal(await s.failedDomains(), '', 'nothing failed');
  });

  it('fails within the time when nginx is not reloaded: names the old serial, FAILED_DOMAINS, keeps the new version, no backoff', async () => {
    const s = await served('vd-stale');
    const r = await s.renew(['--force', '--verify-deploy=3', '--deploy-hook', 'true']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const row = only(r);
    assert.equal(row.status, 'renewed');
    assert.equal(row.verify?.ok, false);
    assert.equal(row.verify?.seconds, 3);
    const [endpoint] = row.verify?.endpoints ?? [];
    assert.equal(endpoint?.status, 'older');
    assert.equal(endpoint?.version, 1);
    assert.equal(endpoint?.certificate?.serial, row.previousSerial, 'what was served: the old serial');
    assert.equal(json<RenewJson>(r).summary.notServed, 1);
    assert.equal(await s.failedDomains(), s.name, "the post-hook's FAILED_DOMAINS names it");
    assert.equal(await s.liveSerial(), row.serial, 'the new version stays live (nothing rolled back)');
    // Kept as the last served check, for `certman metrics`.
    const checks = JSON.parse(await readFile(join(s.dir, 'state', 'served-check.json'), 'utf8')) as Record<string, { liveSerial: string; endpoints: { status: string }[] }>;
    assert.equal(checks[s.name]?.liveSerial, row.serial);
    assert.deepEqual(checks[s.name]?.endpoints.map((e) => e.status), ['older']);

    // Not a failed renewal: no backoff is recorded, and the next plain run finds it not due (nothing renewed again).
    const backoff = await readFile(join(s.dir, 'state', 'renewal-backoff.json'), 'utf8').catch(() => '{}');
    assert.doesNotMatch(backoff, new RegExp(s.name.replace(/\./g, '\\.')), backoff);
    const next = await s.renew([]);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(only(next).status, 'not-due');
  });

  it('config verifyDeploy turns it on (human output names what was served); --no-verify-deploy turns it off', async () => {
    const s = await served('vd-config', { verifyDeploy: 2 });
    const previous = await s.liveSerial();
    const r = await suite.certman(s.dir, ['renew', '--cert-name', s.name, '--force', '--no-random-sleep']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`not served ${s.name.replace(/\./g, '\\.')} \\(within 2 s\\): ${s.endpoint} served older version 1 \\(serial ${previous}, expires `));
    assert.match(r.stdout, /1 renewed \(1 not served\)/);

    const off = await s.renew(['--force', '--no-verify-deploy']);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(only(off).verify, undefined);
  });

  it('an unreachable endpoint is a miss; a dry run verifies nothing', async () => {
    const s = await served('vd-down');
    const [closed] = await freePorts(1);
    await writeConfig(s.dir, { endpoints: [`127.0.0.1:${closed}`] });
    const r = await s.renew(['--force', '--verify-deploy=2', '--deploy-hook', s.nginx.reloadCommand]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const [endpoint] = only(r).verify?.endpoints ?? [];
    assert.equal(endpoint?.status, 'unreachable');
    assert.match(endpoint?.error ?? '', /ECONNREFUSED/);
    assert.equal(await s.failedDomains(), s.name);

    const dry = await s.renew(['--dry-run', '--verify-deploy=2']);
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    assert.equal(only(dry).verify, undefined, 'nothing deployed, nothing verified');
  });

  it('SIGTERM while verifying ends the wait: exit 130, reported interrupted, the post-hook still runs', async () => {
    const s = await served('vd-term');
    const r = await runCli(['-v', '--json', 'renew', '--cert-name', s.name, '--no-random-sleep', '--force', '--verify-deploy=600', '--post-hook', s.postHook], {
      env: certmanEnv(suite.pebble, s.dir),
      onSpawn: (child) => signalOnStderr(child, 'verifying that', 'SIGTERM'),
    });
    assert.equal(r.code, 130, r.stdout + r.stderr);
    const row = only(r);
    assert.equal(row.verify?.ok, false);
    assert.equal(row.verify?.problem, 'interrupted');
    assert.equal(await s.failedDomains(), s.name);
  });

  it('a bad SECONDS is a one-line usage error', async () => {
    const dir = await tempDir('cfg');
    for (const bad of ['--verify-deploy=0', '--verify-deploy=abc', '--verify-deploy=3601', '--verify-deploy=1.5']) {
      assertOneLineError(await suite.certman(dir, ['renew', bad]), 2, /--verify-deploy must be whole seconds from 1 to 3600/, bad);
    }
  });
});
