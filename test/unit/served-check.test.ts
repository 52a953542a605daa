// What an endpoint serves, told apart from real TLS listeners: the live version, an older one, another certificate
// (by its DER, not its serial), nothing (refused, silent), and which certificate a server picks by the name asked for.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createSecureContext, createServer, type Server } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { checkEndpoints } from '../../src/served/check.js';
import { knownVersions } from '../../src/served/classify.js';
import { tempDir } from '../harness/tmp.js';

const execFileP = promisify(execFile);

interface Pair {
  cert: string;
  key: string;
}

/** A self-signed certificate for `names` made by openssl (each call a new key and serial). */
async function selfSigned(dir: string, label: string, names: string[]): Promise<Pair> {
  const [cert, key] = [join(dir, `${label}.pem`), join(dir, `${label}.key`)];
  const san = names.map((n) => `DNS:${n}`).join(',');
  await execFileP('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${names[0] ?? label}`, '-addext', `subjectAltName=${san}`]);
  return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
}

/** A TLS listener on 127.0.0.1 presenting `byName[servername]`, else `fallback`. */
function listen(fallback: Pair, byName: Record<string, Pair> = {}): Promise<Server> {
  const server = createServer({
    ...fallback,
    SNICallback: (name, done) => done(null, createSecureContext(byName[name] ?? fallback)),
  }, (socket) => socket.end());
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function portOf(server: Server | TcpServer): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return address.port;
}

describe('checkEndpoints', () => {
  let v1: Pair, v2: Pair, other: Pair, www: Pair;
  const servers: (Server | TcpServer)[] = [];
  before(async () => {
    const dir = await tempDir('served');
    [v1, v2, other, www] = await Promise.all([
      selfSigned(dir, 'v1', ['example.test']),
      selfSigned(dir, 'v2', ['example.test']),
      selfSigned(dir, 'other', ['example.test']),
      selfSigned(dir, 'www', ['www.example.test']),
    ]);
  });
  after(() => {
    for (const server of servers) server.close();
  });
  const lineage = () => ({ liveVersion: 2, versions: knownVersions([1, 2].map((version) => ({ version, files: { cert: (version === 1 ? v1 : v2).cert, chain: '', fullchain: '', privkey: '' } }))) });
  const at = async (pair: Pair, byName?: Record<string, Pair>) => {
    const server = await listen(pair, byName);
    servers.push(server);
    return portOf(server);
  };

  it('names the live version, an older one with its number, and any other certificate with what it is', async () => {
    const [live, older, elsewhere] = await Promise.all([at(v2), at(v1), at(other)]);
    const endpoints = [live, older, elsewhere].map((port) => ({ host: '127.0.0.1', port, servername: 'example.test' }));
    const checks = await checkEndpoints(endpoints, lineage());
    assert.deepEqual(checks.map((c) => [c.endpoint, c.status, c.version]), [
      [`127.0.0.1:${live}`, 'live', undefined],
      [`127.0.0.1:${older}`, 'older', 1],
      [`127.0.0.1:${elsewhere}`, 'other', undefined],
    ]);
    const [, olderCheck, otherCheck] = checks;
    assert.equal(olderCheck?.certificate?.names[0], 'example.test');
    assert.match(olderCheck?.certificate?.fingerprint ?? '', /^[0-9a-f]{64}$/);
    assert.equal(otherCheck?.certificate?.subject, 'CN=example.test');
    assert.ok(Date.parse(otherCheck?.certificate?.notAfter ?? '') > Date.now());
  });

  it('asks for the endpoint\'s name: a server choosing by SNI shows the certificate of that name', async () => {
    const port = await at(v2, { 'www.example.test': www });
    const [apex, sub] = await checkEndpoints(
      [
        { host: '127.0.0.1', port, servername: 'example.test' },
        { host: '127.0.0.1', port, servername: 'www.example.test' },
      ],
      lineage(),
    );
    assert.equal(apex?.status, 'live');
    assert.equal(sub?.status, 'other');
    assert.deepEqual(sub?.certificate?.names, ['www.example.test']);
  });

  it('unreachable: a refused port, and a listener that never answers the handshake, each with why', async () => {
    const silent = createTcpServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    servers.push(silent);
    const closed = await new Promise<number>((resolve) => {
      const probe = createTcpServer().listen(0, '127.0.0.1', () => {
        const port = portOf(probe);
        probe.close(() => resolve(port));
      });
    });
    const [refused, hung] = await checkEndpoints(
      [
        { host: '127.0.0.1', port: closed },
        { host: '127.0.0.1', port: portOf(silent) },
      ],
      lineage(),
      { timeoutMs: 300 },
    );
    assert.equal(refused?.status, 'unreachable');
    assert.match(refused?.error ?? '', /ECONNREFUSED/);
    assert.equal(refused?.certificate, undefined);
    assert.equal(hung?.status, 'unreachable');
    assert.match(hung?.error ?? '', /no TLS handshake within/);
  });
});
