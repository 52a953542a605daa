// `issue` and `renew` take --expect-ip and --expect-cname as verify-dns does: names whose DNS (challtestsrv, the
// resolver the harness configures) does not match are not sent to the CA; the command line beats config.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir, uniqueName } from '../harness/index.js';
import { assertOneLineError, json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();

const escaped = (name: string): string => name.replace(/\./g, '\\.');

/** A config file expecting every name at 10.0.0.9 (where none of the test names point). */
async function wrongConfig(): Promise<string> {
  const file = join(await tempDir('expect'), 'certman.config.json');
  await writeFile(file, JSON.stringify({ expectIp: ['10.0.0.9'] }));
  return file;
}

describe('--expect-ip and --expect-cname on issue and renew', () => {
  it('issue --expect-ip: a name elsewhere is not sent to the CA; the flag beats config expectIp', async () => {
    const dir = await suite.registeredDir();
    const elsewhere = uniqueName('exp-else');
    const refused = await suite.certman(dir, ['issue', '-d', elsewhere, '--expect-ip', '10.0.0.1', ...suite.standalone()]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`DNS check failed, nothing was sent to the CA: ${escaped(elsewhere)}: resolves to 127\\.0\\.0\\.1, expected 10\\.0\\.0\\.1`));
    assert.ok(!suite.pebble.log().includes(elsewhere), 'Pebble never heard of the name');

    const here = uniqueName('exp-here');
    const config = await wrongConfig();
    const byConfig = await suite.certman(dir, ['--config', config, 'issue', '-d', here, ...suite.standalone()]);
    assert.equal(byConfig.code, 1, 'the config alone refuses it');
    const byFlag = await suite.certman(dir, ['--json', '--config', config, 'issue', '-d', here, '--expect-ip', '10.0.0.1,127.0.0.1', ...suite.standalone()]);
    assert.equal(byFlag.code, 0, byFlag.stderr);
    assert.equal(json<{ status: string }>(byFlag).status, 'issued');

    assertOneLineError(await suite.certman(dir, ['issue', '-d', here, '--expect-ip', 'nope', ...suite.standalone()]), 2, /--expect-ip: "nope" is not an IP address/);
  });

  it('issue --expect-cname: a name whose CNAME chain reaches the target passes, one without fails', async () => {
    const dir = await suite.registeredDir();
    const edge = uniqueName('edge');
    const aliased = uniqueName('exp-alias');
    const plain = uniqueName('exp-plain');
    await suite.pebble.setCname(aliased, edge);
    try {
      const r = await suite.certman(dir, ['--json', '--config', await wrongConfig(), 'issue', '-d', aliased, '--expect-cname', edge.toUpperCase(), ...suite.standalone()]);
      assert.equal(r.code, 0, r.stderr);
      const refused = await suite.certman(dir, ['issue', '-d', plain, '--expect-cname', edge, ...suite.standalone()]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`nothing was sent to the CA: ${escaped(plain)}`));
      assert.ok(!suite.pebble.log().includes(plain));
    } finally {
      await suite.pebble.clearCname(aliased);
    }
  });

  it('renew --expect-ip / --expect-cname: a certificate whose names point elsewhere is not renewed (and not backed off); the flag beats config', async () => {
    const { dir, names } = await suite.issued(1, 'exp-renew');
    const name = names[0] ?? '';
    const renew = (extra: string[], global: string[] = []) => suite.certman(dir, ['--json', ...global, 'renew', '--no-random-sleep', '--force', ...extra]);
    type Result = { status: string; error?: { message: string } };
    const validated = suite.pebble.validationsFor(name);

    const refused = await renew(['--expect-ip', '10.0.0.1']);
    assert.equal(refused.code, 1);
    const result = json<{ results: Result[] }>(refused).results[0];
    assert.equal(result?.status, 'failed');
    assert.match(result?.error?.message ?? '', new RegExp(`^DNS check failed, nothing was sent to the CA: ${escaped(name)}: resolves to 127\\.0\\.0\\.1`));
    assert.equal(suite.pebble.validationsFor(name), validated, 'nothing validated');
    // A failure of this host's own (nothing went to the CA) fails each run, without a backoff for the fleet.
    const listed = json<{ name: string; failedRenewals?: number }[]>(await suite.certman(dir, ['--json', 'certificates']));
    assert.equal(listed.find((row) => row.name === name)?.failedRenewals, undefined);

    const byFlag = await renew(['--expect-ip', '127.0.0.1'], ['--config', await wrongConfig()]);
    assert.equal(byFlag.code, 0, byFlag.stderr);
    assert.equal(json<{ results: Result[] }>(byFlag).results[0]?.status, 'renewed');

    const edge = uniqueName('edge');
    const cname = await renew(['--expect-cname', edge]);
    assert.equal(cname.code, 1, 'no CNAME to the target');
    assert.match(json<{ results: Result[] }>(cname).results[0]?.error?.message ?? '', /DNS check failed/);
  });
});
