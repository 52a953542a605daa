// The README's recipes (docs/recipes/*), run for real: nginx and Apache serving the webroot and then
// HTTPS from certman's live/ files, reloaded by a deploy hook; nginx and HAProxy handing challenges to
// serve-challenge; the systemd unit for serve-challenge checked by systemd-analyze where it exists.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { certmanBin, certmanEnv, freePort, repoRoot, startApache, startHaproxy, startNginx, startServeChallenge, tempDir, uniqueName, which } from '../harness/index.js';
import { pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
const recipe = (name: string) => readFile(join(repoRoot, 'docs/recipes', name), 'utf8');

/** The serial of the certificate served on 127.0.0.1:port for `name`, verified against Pebble's root. */
async function servedSerial(port: number, name: string): Promise<string> {
  const ca = await suite.pebble.rootPem();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: name, ca }, () => {
      const serial = socket.getPeerCertificate().serialNumber.toLowerCase().replace(/^0+/, '');
      socket.end();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

/** The live certificate's serial, as servers should present it. */
async function liveSerial(dir: string, name: string): Promise<string> {
  return new X509Certificate(await readFile(join(dir, 'live', name, 'cert.pem'))).serialNumber.toLowerCase().replace(/^0+/, '');
}

/** The server presents the live certificate; after `renew` with its reload command as deploy hook, the new one. */
async function servesRenewals(dir: string, name: string, tlsPort: number, reloadCommand: string, log: () => string = () => ''): Promise<void> {
  assert.equal(await servedSerial(tlsPort, name), await liveSerial(dir, name));
  const renewed = await suite.certman(dir, ['renew', '--force', '--no-random-sleep', '--deploy-hook', reloadCommand]);
  assert.equal(renewed.code, 0, renewed.stdout + renewed.stderr);
  // A graceful reload hands over to new workers while old ones may still accept a connection or two,
  // so wait until five handshakes in a row present the renewed certificate; give a loaded machine time.
  const live = await liveSerial(dir, name);
  const deadline = Date.now() + 15_000;
  let inARow = 0;
  let served = '';
  while (inARow < 5 && Date.now() < deadline) {
    served = await servedSerial(tlsPort, name);
    inARow = served === live ? inARow + 1 : 0;
    if (inARow < 5) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(served, live, `the server presents the renewed certificate after the deploy hook\n${renewed.stdout}\n${log()}`);
  assert.equal(inARow, 5, `the server settles on the renewed certificate\n${log()}`);
}

describe('recipes', () => {
  it('nginx-webroot.conf: issue through nginx, serve HTTPS from live/, reload from a deploy hook on renew', async () => {
    const dir = await suite.registeredDir();
    const webroot = await tempDir('acme-root');
    const name = uniqueName('recipe');
    const tlsPort = await freePort();
    const conf = (await recipe('nginx-webroot.conf'))
      .replaceAll('example.com', name)
      .replaceAll('/var/www/acme', webroot)
      .replaceAll('/etc/certman', dir)
      .replace('listen 80;', `listen 127.0.0.1:${suite.pebble.httpPort};`)
      .replace('listen 443 ssl;', `listen 127.0.0.1:${tlsPort} ssl;`);
    const [httpPart] = conf.split(/\n(?=server \{\n\s+listen [^\n]+ ssl;)/);
    // Before the first certificate exists only the HTTP server can start.
    const first = await startNginx({ port: await freePort(), root: webroot, extraServers: httpPart });
    try {
      const issued = await suite.certman(dir, ['issue', '-d', name, '--webroot', webroot]);
      assert.equal(issued.code, 0, issued.stderr);
    } finally {
      await first.stop();
    }
    const nginx = await startNginx({ port: await freePort(), root: webroot, extraServers: conf });
    try {
      await servesRenewals(dir, name, tlsPort, nginx.reloadCommand, () => nginx.log().split('\n').slice(-15).join('\n'));
    } finally {
      await nginx.stop();
    }
  });

  it('apache-webroot.conf: issue through Apache, serve HTTPS from live/, graceful reload from a deploy hook', async () => {
    const dir = await suite.registeredDir();
    const webroot = await tempDir('apache-root');
    await chmod(webroot, 0o755); // Apache's workers run as nobody
    const name = uniqueName('apache');
    const tlsPort = await freePort();
    const vhosts = (await recipe('apache-webroot.conf'))
      .replaceAll('example.com', name)
      .replaceAll('/var/www/acme', webroot)
      .replaceAll('/etc/certman', dir)
      .replace('<VirtualHost *:80>', `<VirtualHost 127.0.0.1:${suite.pebble.httpPort}>`)
      .replace('<VirtualHost *:443>', `<VirtualHost 127.0.0.1:${tlsPort}>`);
    const [httpPart] = vhosts.split(/\n(?=<VirtualHost 127\.0\.0\.1:\d+>\n\s+ServerName [^\n]+\n\s+SSLEngine)/);
    const first = await startApache({ ports: [suite.pebble.httpPort], vhosts: httpPart ?? '' });
    try {
      const issued = await suite.certman(dir, ['issue', '-d', name, '--webroot', webroot]);
      assert.equal(issued.code, 0, issued.stderr);
    } finally {
      await first.stop();
    }
    const apache = await startApache({ ports: [suite.pebble.httpPort], tlsPorts: [tlsPort], vhosts });
    try {
      await servesRenewals(dir, name, tlsPort, apache.reloadCommand);
    } finally {
      await apache.stop();
    }
  });

  it('haproxy-serve-challenge.cfg: HAProxy routes challenges to serve-challenge, the rest to the app', async () => {
    const dir = await suite.registeredDir();
    const servePort = await freePort();
    const config = (await recipe('haproxy-serve-challenge.cfg'))
      .replace('bind :80', `bind 127.0.0.1:${suite.pebble.httpPort}`)
      .replaceAll('127.0.0.1:8402', `127.0.0.1:${servePort}`)
      .replaceAll('127.0.0.1:8080', `127.0.0.1:${await freePort()}`);
    const serve = await startServeChallenge(certmanEnv(suite.pebble, dir), servePort);
    const haproxy = await startHaproxy({ config, probeUrl: `http://127.0.0.1:${suite.pebble.httpPort}/.well-known/acme-challenge` });
    try {
      const r = await suite.certman(dir, ['issue', '-d', uniqueName('haproxy'), '--responder']);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await haproxy.stop();
      await serve.stop();
    }
  });

  it('nginx-serve-challenge.conf: nginx hands challenges to serve-challenge, issue --responder publishes', async () => {
    const dir = await suite.registeredDir();
    const servePort = await freePort();
    const snippet = (await recipe('nginx-serve-challenge.conf')).replaceAll('127.0.0.1:8402', `127.0.0.1:${servePort}`);
    const serve = await startServeChallenge(certmanEnv(suite.pebble, dir), servePort);
    const nginx = await startNginx({ port: suite.pebble.httpPort, root: await tempDir('empty'), serverSnippet: snippet });
    try {
      const r = await suite.certman(dir, ['issue', '-d', uniqueName('proxied'), '--responder']);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await nginx.stop();
      await serve.stop();
    }
  });

  it('certman-challenge.service passes systemd-analyze verify', async (t) => {
    const analyze = which('systemd-analyze');
    if (analyze === undefined) {
      t.diagnostic('systemd-analyze not installed: unit not verified');
      return;
    }
    const unitDir = await tempDir('unit');
    const unit = join(unitDir, 'certman-challenge.service');
    await writeFile(unit, (await recipe('certman-challenge.service')).replace('/usr/local/bin/certman', `${process.execPath} ${certmanBin}`));
    execFileSync(analyze, ['verify', unit], { stdio: 'pipe' });
  });
});
