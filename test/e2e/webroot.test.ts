// Webroot mode through a real nginx serving the webroot on the port Pebble validates.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startNginx, tempDir, uniqueName, type NginxServer } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
let nginx: NginxServer;
let webroot: string;

describe('issue --webroot', () => {
  before(async () => {
    webroot = await tempDir('webroot');
    nginx = await startNginx({ port: suite.pebble.httpPort, root: webroot });
  });
  after(async () => {
    await nginx?.stop();
  });

  it('publishes tokens for nginx, gets the certificate, and leaves the webroot as it was', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('web');
    const r = await suite.certman(dir, ['--json', 'issue', '-d', name, '-d', uniqueName('www'), '--webroot', webroot]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r).status, 'issued');
    assert.deepEqual(await readdir(webroot), [], 'created folders and tokens are removed');
    // renew repeats the webroot method from stored metadata, with no flags
    const renewed = await suite.certman(dir, ['renew', '--no-random-sleep', '--force']);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.match(renewed.stdout, /1 renewed/);
  });

  it('removes the token even when validation fails', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('fail');
    await suite.pebble.setServfail(name);
    try {
      const r = await suite.certman(dir, ['issue', '-d', name, '--webroot', webroot]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`${name.replace(/\./g, '\\.')}: `));
    } finally {
      await suite.pebble.clearServfail(name);
    }
    assert.deepEqual(await readdir(webroot), []);
  });
});
