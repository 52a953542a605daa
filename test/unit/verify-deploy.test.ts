// --verify-deploy's pure parts: which time a run verifies for (flag, config, default), how a verification is
// printed, how verifications are attached to results, and a certificate with nothing to check.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { servedText, verificationLine, verifySeconds } from '../../src/cli/verify-deploy.js';
import { DEFAULT_VERIFY_DEPLOY_SECONDS } from '../../src/config/defaults.js';
import type { CertificateMeta } from '../../src/lineage/types.js';
import { silentReporter } from '../../src/report.js';
import type { EndpointCheck } from '../../src/served/types.js';
import { verifyDeployed, withVerifications, type DeployVerification, type VerifyDeployDeps } from '../../src/served/verify-deploy.js';

const presented = { serial: 'ab12', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-04-01T00:00:00.000Z', fingerprint: 'f', subject: 'CN=other.test', issuer: 'CN=CA', names: ['other.test'] };

describe('verifySeconds', () => {
  test('--no-verify-deploy wins, then SECONDS, then config; the bare flag takes config or the default', () => {
    assert.equal(verifySeconds(false, { verifyDeploy: 45 }), undefined);
    assert.equal(verifySeconds(10, { verifyDeploy: 45 }), 10);
    assert.equal(verifySeconds(true, { verifyDeploy: 45 }), 45);
    assert.equal(verifySeconds(true, {}), DEFAULT_VERIFY_DEPLOY_SECONDS);
    assert.equal(verifySeconds(undefined, { verifyDeploy: 45 }), 45);
    assert.equal(verifySeconds(undefined, {}), undefined);
  });
});

describe('what was served, for people', () => {
  test('older with its version, serial and expiry; another certificate by subject; unreachable once named', () => {
    assert.equal(servedText({ endpoint: '127.0.0.1:8443', status: 'older', version: 2, certificate: presented }), '127.0.0.1:8443 served older version 2 (serial ab12, expires 2026-04-01 00:00 UTC)');
    assert.equal(servedText({ endpoint: 'a.test:443', status: 'other', certificate: presented }), 'a.test:443 served another certificate, CN=other.test (serial ab12, expires 2026-04-01 00:00 UTC)');
    assert.equal(servedText({ endpoint: 'a.test:443', status: 'unreachable', error: 'a.test:443: connect ECONNREFUSED' }), 'a.test:443 unreachable: connect ECONNREFUSED');
  });

  test('a verification: live where, or what each missing endpoint served and within how long', () => {
    const live: EndpointCheck = { endpoint: 'a.test:443', status: 'live', certificate: presented };
    const down: EndpointCheck = { endpoint: 'b.test:443', status: 'unreachable', error: 'b.test:443: no TLS handshake within 1 s' };
    const base = { seconds: 5, elapsedMs: 5000, rounds: 4 };
    assert.equal(verificationLine('a.test', { ...base, ok: true, endpoints: [live] }), 'served   a.test: live at a.test:443');
    assert.equal(verificationLine('a.test', { ...base, ok: false, endpoints: [live, down] }), 'not served a.test (within 5 s): b.test:443 unreachable: no TLS handshake within 1 s');
    assert.equal(verificationLine('a.test', { ...base, ok: false, endpoints: [], problem: 'interrupted' }), 'not served a.test (interrupted)');
  });
});

describe('withVerifications', () => {
  const verification: DeployVerification = { ok: true, seconds: 1, elapsedMs: 1, rounds: 1, endpoints: [] };
  const meta = { name: 'a' } as CertificateMeta;

  test('attaches each deployed lineage its verification; others and runs without a verifier are unchanged', async () => {
    const results = [{ name: 'a' }, { name: 'b' }];
    assert.equal(await withVerifications(results, [meta], undefined, () => assert.fail('no verifier')), results);
    assert.equal(await withVerifications(results, [], async () => assert.fail('nothing deployed'), () => assert.fail('nothing deployed')), results);
    const attached = await withVerifications(results, [meta], async (deployed) => new Map(deployed.map((m) => [m.name, verification])), (r, v) => ({ ...r, v }));
    assert.deepEqual(attached, [{ name: 'a', v: verification }, { name: 'b' }]);
  });
});

describe('verifyDeployed', () => {
  test('a certificate of wildcard names only has no endpoint to check: a miss saying so, nothing read or kept', async () => {
    const untouched = new Proxy({}, { get: () => assert.fail('the store is not used') }) as VerifyDeployDeps['store'];
    const meta = { name: 'wild', domains: ['*.example.com'], version: 2, serial: 'ab' } as CertificateMeta;
    const result = await verifyDeployed(meta, { seconds: 5 }, { store: untouched, report: silentReporter });
    assert.equal(result.ok, false);
    assert.match(result.problem ?? '', /no endpoints to check .*config endpoints/);
  });
});
