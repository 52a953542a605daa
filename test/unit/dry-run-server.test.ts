// Where `renew --dry-run` orders: the staging CA known to belong to the lineage's CA, else config dryRunServer,
// else the lineage's own CA.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { dryRunIsReal, dryRunServerFor, resolveServer } from '../../src/config/defaults.js';

const LE = resolveServer('letsencrypt');
const LE_STAGING = resolveServer('letsencrypt-staging');
const ZEROSSL = resolveServer('zerossl');
const COMPANY = 'https://acme.corp.example/directory';
const CONFIGURED = 'https://staging.corp.example/directory';

describe('dryRunServerFor', () => {
  test("Let's Encrypt (production or staging) dry-runs at its staging CA, even when dryRunServer is configured", () => {
    assert.equal(dryRunServerFor(LE, undefined), LE_STAGING);
    assert.equal(dryRunServerFor(LE, CONFIGURED), LE_STAGING);
    assert.equal(dryRunServerFor(LE_STAGING, CONFIGURED), LE_STAGING);
  });

  test('a CA without a known staging CA (ZeroSSL, a company CA) dry-runs at dryRunServer when set, else at itself', () => {
    assert.equal(dryRunServerFor(ZEROSSL, undefined), ZEROSSL);
    assert.equal(dryRunServerFor(COMPANY, undefined), COMPANY);
    assert.equal(dryRunServerFor(COMPANY, CONFIGURED), CONFIGURED);
    assert.equal(dryRunServerFor(ZEROSSL, CONFIGURED), CONFIGURED);
  });
});

describe('known staging pairs and real dry runs', () => {
  test('Buypass and Google Trust Services dry-run at their staging CAs', () => {
    const pairs = [
      ['https://api.buypass.com/acme/directory', 'https://api.test4.buypass.com/acme/directory'],
      ['https://dv.acme-v02.api.pki.goog/directory', 'https://dv.acme-v02.test-api.pki.goog/directory'],
    ];
    for (const [production, staging] of pairs) {
      assert.equal(dryRunServerFor(resolveServer(production ?? ''), CONFIGURED), staging);
      assert.equal(dryRunServerFor(resolveServer(staging ?? ''), undefined), staging);
    }
  });

  test('a dry run is real only at a CA that is not a staging CA, itself', () => {
    assert.equal(dryRunIsReal(ZEROSSL, dryRunServerFor(ZEROSSL, undefined)), true);
    assert.equal(dryRunIsReal(COMPANY, COMPANY), true);
    assert.equal(dryRunIsReal(COMPANY, CONFIGURED), false);
    assert.equal(dryRunIsReal(LE, dryRunServerFor(LE, undefined)), false);
    assert.equal(dryRunIsReal(LE_STAGING, LE_STAGING), false);
  });
});
