// External account binding (RFC 8555 §7.3.4) against a Pebble that requires it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { tempDir, uniqueName } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const hmacKey = randomBytes(32).toString('base64url');
const suite = pebbleSuite({ eabKeys: { 'kid-1': hmacKey } });

describe('external account binding', () => {
  it('refuses registration without EAB, with a hint naming the flags', async () => {
    const r = await suite.certman(await tempDir('cfg'), ['register', '--email', 'a@example.com', '--agree-tos']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /externalAccountRequired/);
    assert.match(r.stderr, /--eab-kid/);
  });

  it('registers with --eab-kid/--eab-hmac-key and then issues', async () => {
    const dir = await tempDir('cfg');
    const r = await suite.certman(dir, ['--json', 'register', '--email', 'a@example.com', '--agree-tos', '--eab-kid', 'kid-1', '--eab-hmac-key', hmacKey]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r).created, true);
    const again = await suite.certman(dir, ['--json', 'register']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((json(again).account as { url: string }).url, (json(r).account as { url: string }).url);
    const issued = await suite.certman(dir, ['issue', '-d', uniqueName('eab'), ...suite.standalone()]);
    assert.equal(issued.code, 0, issued.stderr);
  });

  it('needs both EAB flags', async () => {
    const r = await suite.certman(await tempDir('cfg'), ['register', '--email', 'a@example.com', '--agree-tos', '--eab-kid', 'kid-1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--eab-kid and --eab-hmac-key go together/);
  });
});
