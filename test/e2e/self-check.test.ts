// Pre-flight HTTP self-check: a broken setup is caught before the CA spends a validation on it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort, startNginx, tempDir, uniqueName } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();

interface ErrorJson {
  error: { type: string; message: string; subproblems: { identifier: string; detail: string }[] };
}

describe('self-check', () => {
  it('stops an unreachable challenge URL before the CA validates anything', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('unreachable');
    // The built-in server listens on another port than the one the CA (and the self-check) uses.
    const r = await suite.certman(dir, ['--json', 'issue', '-d', name, '--standalone', '--http-address', '127.0.0.1', '--http-port', String(await freePort())]);
    assert.equal(r.code, 1);
    const { error } = json<ErrorJson>(r);
    assert.equal(error.type, 'certman:self-check');
    assert.equal(error.subproblems[0]?.identifier, name);
    assert.match(error.subproblems[0]?.detail ?? '', /connection refused on 127\.0\.0\.1:\d+/);
    assert.equal(suite.pebble.validationsFor(name), 0, 'Pebble never validated the name');
  });

  it('reports what a wrong server answers (here: nginx without the token)', async () => {
    const dir = await suite.registeredDir();
    const otherRoot = await tempDir('other-root');
    const nginx = await startNginx({ port: suite.pebble.httpPort, root: otherRoot });
    try {
      const name = uniqueName('wrong');
      const r = await suite.certman(dir, ['issue', '-d', name, '--webroot', await tempDir('unserved')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`${name.replace(/\./g, '\\.')}: HTTP 404`));
      assert.match(r.stderr, /--no-self-check/);
      assert.equal(suite.pebble.validationsFor(name), 0);
    } finally {
      await nginx.stop();
    }
  });

  it('fails a name the resolver cannot resolve, and --no-self-check leaves it to the CA', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('servfail');
    await suite.pebble.setServfail(name);
    try {
      const r = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /does not resolve/);
      assert.equal(suite.pebble.validationsFor(name), 0);
      const unchecked = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone(), '--no-self-check']);
      assert.equal(unchecked.code, 1);
      assert.ok(suite.pebble.validationsFor(name) >= 1, 'without the self-check the CA spent a validation');
    } finally {
      await suite.pebble.clearServfail(name);
    }
  });
});
