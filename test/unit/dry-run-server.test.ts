// Where `renew --dry-run` orders: the staging CA known to belong to the lineage's CA, else config dryRunServer,
// else the lineage's own CA.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { dryRunServerFor, resolveServer } from '../../src/config/defaults.js';

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
