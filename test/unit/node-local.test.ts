// What a shared store may hold of a certificate, and how a host turns a stored method into its own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CertmanError } from '../../src/errors.js';
import { methodOnThisNode, storedMethodProblem, withoutNodeLocal, type NodeSettings } from '../../src/lineage/node-local.js';
import type { NewCertificate, StoredMethod } from '../../src/lineage/types.js';

const node: NodeSettings = { hooks: { deploy: 'systemctl reload nginx' }, webroot: '/srv/www', httpPort: 8080, httpAddress: '10.0.0.5' };
const bare: NodeSettings = { hooks: {}, httpPort: 80 };
const of = (method: StoredMethod) => ({ name: 'example.com', method });

describe('node-local settings', () => {
  it('a shared store gets no hooks and only the kind of the method', () => {
    const fresh: NewCertificate = {
      name: 'example.com',
      domains: ['example.com'],
      key: { type: 'ecdsa', curve: 'p256' },
      reuseKey: false,
      method: { kind: 'standalone', port: 8081, address: '127.0.0.1' },
      server: 'https://ca.example/dir',
      accountUrl: 'https://ca.example/acct/1',
      serial: '01',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-04-01T00:00:00.000Z',
      hooks: { pre: 'touch /tmp/x' },
    };
    const shared = withoutNodeLocal(fresh);
    assert.deepEqual(shared.method, { kind: 'standalone' });
    assert.equal('hooks' in shared, false);
    assert.deepEqual(withoutNodeLocal({ ...fresh, method: { kind: 'webroot', webroot: '/a' } }).method, { kind: 'webroot' });
  });

  it('from a shared store, this host decides the folder, port and address, whatever was stored', () => {
    assert.deepEqual(methodOnThisNode(of({ kind: 'webroot', webroot: '/planted' }), node, true), { kind: 'webroot', webroot: '/srv/www' });
    assert.deepEqual(methodOnThisNode(of({ kind: 'standalone', port: 1 }), node, true), { kind: 'standalone', port: 8080, address: '10.0.0.5' });
    assert.deepEqual(methodOnThisNode(of({ kind: 'standalone' }), bare, true), { kind: 'standalone', port: 80 });
    assert.deepEqual(methodOnThisNode(of({ kind: 'responder' }), bare, true), { kind: 'responder' });
  });

  it("from the host's own config dir, what was stored wins and the host fills gaps", () => {
    assert.deepEqual(methodOnThisNode(of({ kind: 'webroot', webroot: '/var/www/a' }), node, false), { kind: 'webroot', webroot: '/var/www/a' });
    assert.deepEqual(methodOnThisNode(of({ kind: 'webroot' }), node, false), { kind: 'webroot', webroot: '/srv/www' });
    assert.deepEqual(methodOnThisNode(of({ kind: 'standalone', port: 8443 }), node, false), { kind: 'standalone', port: 8443 });
  });

  it('a webroot certificate on a host without a webroot is a clear error', () => {
    assert.throws(() => methodOnThisNode(of({ kind: 'webroot', webroot: '/planted' }), bare, true), (err: unknown) => err instanceof CertmanError && /example\.com answers challenges through a webroot, and this host has none/.test(err.message) && err.hint !== undefined);
  });

  it('checks stored methods', () => {
    assert.equal(storedMethodProblem({ kind: 'webroot' }), undefined);
    assert.equal(storedMethodProblem({ kind: 'standalone', port: 80, address: '::1' }), undefined);
    assert.match(storedMethodProblem({ kind: 'dns' }) ?? '', /"method.kind" must be/);
    assert.match(storedMethodProblem({ kind: 'webroot', webroot: 3 }) ?? '', /must be a folder/);
    assert.match(storedMethodProblem({ kind: 'standalone', port: 70000 }) ?? '', /port number/);
  });
});
