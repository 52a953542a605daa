// Pebble rejecting half of all nonces (RFC 8555 §6.5 badNonce): every command must still succeed,
// retrying each refused request with the fresh Replay-Nonce the error answer carries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uniqueName } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite({ nonceRejectPercent: 50 });

interface RenewJson {
  summary: { renewed: number; failed: number };
  results: { name: string; status: string; serial?: string; error?: { message: string } }[];
}

describe('badNonce at 50%', () => {
  it('register, issue, renew --force over 4 certificates and revoke all succeed', async () => {
    const dir = await suite.registeredDir();
    const names = Array.from({ length: 4 }, (_, i) => uniqueName(`nonce${i}`));
    for (const name of names) {
      const issued = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()]);
      assert.equal(issued.code, 0, `issue ${name}: ${issued.stderr}`);
    }

    const renewed = await suite.certman(dir, ['--json', 'renew', '--force', '--no-random-sleep']);
    const run = json<RenewJson>(renewed);
    const failures = run.results.filter((r) => r.status !== 'renewed').map((r) => `${r.name}: ${r.error?.message ?? r.status}`);
    assert.deepEqual(failures, [], renewed.stderr);
    assert.equal(run.summary.renewed, 4);
    assert.equal(renewed.code, 0);

    for (const name of names) {
      const revoked = await suite.certman(dir, ['--json', 'revoke', '--cert-name', name]);
      assert.equal(revoked.code, 0, `revoke ${name}: ${revoked.stderr}`);
      const serial = json<{ serial: string }>(revoked).serial;
      assert.equal(await suite.pebble.certStatus(serial), 'Revoked');
    }
    assert.match(suite.pebble.log(), /Configured to reject 50% of good nonces/);
  });
});
