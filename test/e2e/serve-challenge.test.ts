// serve-challenge as a separate long-running process on the port Pebble validates, with `issue
// --responder` publishing through the shared config dir; then a hostile batch against it, the proxy
// and redirect fallbacks, and a graceful SIGTERM.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsTokenStore, encodeTokenEntry } from '../../src/store/fs/tokens.js';
import { certmanEnv, freePort, rawHttp, startServeChallenge, uniqueName, type ServeChallenge } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();
const P = '/.well-known/acme-challenge/';
const SECRET = `S3CRET${randomBytes(12).toString('hex')}`;
const THUMB = 'Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg';

type Serve = ServeChallenge;

/** Starts `certman serve-challenge ARGS` with config dir `dir`. */
function startServe(dir: string, port: number, args: string[]): Promise<Serve> {
  return startServeChallenge(certmanEnv(suite.pebble, dir), port, args);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  body: string;
  headers: IncomingMessage['headers'];
}

function get(port: number, path: string, options: { agent?: Agent; headers?: Record<string, string>; method?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: options.agent ?? false, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Raw bytes to the server; everything received until it closes (see rawHttp). */
const raw = (port: number, text: string, waitMs = 5000): Promise<string> => rawHttp(port, text, waitMs);

function stopServe(serve: Serve | undefined): Promise<unknown> {
  if (serve === undefined || serve.child.exitCode !== null) return Promise.resolve();
  serve.child.kill('SIGKILL');
  return serve.exited;
}

describe('serve-challenge with issue --responder', () => {
  let dir: string;
  let serve: Serve | undefined;
  before(async () => {
    dir = await suite.registeredDir();
    // Secrets that a path trick, a symlink or a lenient decoder could reach.
    await writeFile(join(dir, 'secret.txt'), `${SECRET}\n`);
    await writeFile(join(dir, 'secret.json'), encodeTokenEntry({ token: 'secret', keyAuthorization: `secret.${SECRET}`, domain: 'a.test', expiresAt: 9e15 }));
    await mkdir(join(dir, 'challenges'), { recursive: true });
    await symlink(join(dir, 'secret.json'), join(dir, 'challenges', 'linked.json'));
    await writeFile(join(dir, 'challenges', 'secret'), SECRET);
    serve = await startServe(dir, suite.pebble.httpPort, ['--header-timeout', '1000', '--access-log']);
  });
  after(async () => {
    await stopServe(serve);
  });

  it('answers Pebble for a certificate ordered from another process; renew repeats it', async () => {
    const name = uniqueName('responder');
    const r = await suite.certman(dir, ['--json', 'issue', '-d', name, '--responder']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r).status, 'issued');
    assert.ok(suite.pebble.validationsFor(name) >= 1, 'Pebble validated the name');
    assert.match(serve?.stdout() ?? '', new RegExp(`"GET ${P}[A-Za-z0-9_-]+ HTTP/1.1" 200 `), 'the responder answered');
    const meta = JSON.parse(await readFile(join(dir, 'renewal', `${name}.json`), 'utf8')) as { method: unknown };
    assert.deepEqual(meta.method, { kind: 'responder' });
    const renewed = await suite.certman(dir, ['renew', '--no-random-sleep', '--force', '--cert-name', name]);
    assert.equal(renewed.code, 0, renewed.stderr);
    // withdrawn after use: only the planted files are left
    assert.deepEqual((await readdir(join(dir, 'challenges'))).sort(), ['linked.json', 'secret']);
  });

  it('refuses --responder together with another method', async () => {
    const r = await suite.certman(dir, ['issue', '-d', uniqueName('both'), '--responder', '--standalone']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--standalone and --responder exclude each other/);
  });

  it('survives a hostile batch while answering a pending token, and never serves anything outside the store', async () => {
    const port = suite.pebble.httpPort;
    const token = `keep_${randomBytes(8).toString('hex')}`;
    await new FsTokenStore(dir).put(token, `${token}.${THUMB}`, 'keep.test', 600_000);
    const bodies: string[] = [];
    let stop = false;
    let validChecks = 0;
    // A valid token keeps being answered the whole time.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 2 });
    const watcher = (async () => {
      while (!stop) {
        const answer = await get(port, `${P}${token}`, { agent: keepAlive });
        assert.equal(answer.status, 200);
        assert.equal(answer.body, `${token}.${THUMB}`);
        validChecks += 1;
        await sleep(20);
      }
    })();

    const traversal = [
      `${P}../../etc/passwd`,
      `${P}..%2f..%2fetc%2fpasswd`,
      `${P}%2e%2e/%2e%2e/etc/passwd`,
      `${P}%2e%2e%2fsecret`,
      `${P}..%2fsecret`,
      `${P}%2E%2E%2Fsecret.txt`,
      `${P}%252e%252e%252fsecret`,
      `${P}..\\secret`,
      `${P}..\\..\\secret.txt`,
      `${P}secret%00`,
      `${P}secret%00.json`,
      `${P}%00`,
      `${P}secret`,
      `${P}linked`,
      `${P}secret.json`,
      `${P}.%2e/secret`,
      `${P}/secret`,
      `${P}//secret`,
      `/.well-known/acme-challenge//secret`,
      `//.well-known/acme-challenge/secret`,
      `/.well-known//acme-challenge/secret`,
      `/.well-known/acme-challenge/./secret`,
      `/.well-known/acme-challenge%2f..%2fsecret`,
      `/%2ewell-known/acme-challenge/secret`,
      `/\\.well-known\\acme-challenge\\..\\..\\secret.txt`,
      `/secret.txt`,
      `/../secret.txt`,
      `/%2e%2e/secret.txt`,
      `/challenges/secret`,
      `/.well-known/acme-challenge`,
      `/.well-known/acme-challenge/`,
      `${P}${'a'.repeat(129)}`,
    ];
    const rawAnswers = await Promise.all(traversal.map((path) => raw(port, `GET ${path} HTTP/1.1\r\nHost: keep.test\r\nConnection: close\r\n\r\n`)));
    for (const [i, answer] of rawAnswers.entries()) {
      bodies.push(answer);
      assert.match(answer, /^HTTP\/1\.1 (404|400) /, traversal[i]);
    }
    // absolute-form and asterisk targets, and a NUL byte on the wire
    for (const line of ['GET http://keep.test/../secret.txt HTTP/1.1', 'GET * HTTP/1.1', `GET ${P}sec\u0000ret HTTP/1.1`]) {
      const answer = await raw(port, `${line}\r\nHost: keep.test\r\nConnection: close\r\n\r\n`);
      bodies.push(answer);
      assert.match(answer, /^HTTP\/1\.1 400 /, line);
    }

    // An oversized header block: 431, or the connection closed.
    const big = await raw(port, `GET / HTTP/1.1\r\nHost: keep.test\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    assert.ok(big === '' || big.startsWith('HTTP/1.1 431 '), big.slice(0, 80));

    // 1,000 random paths over keep-alive connections: all 404.
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const alphabet = 'abcXYZ019-_.~/';
    const randomPath = (): string => {
      const prefix = [P, '/', '/.well-known/', `${P}..`, '/static/'][randomInt(5)] ?? '/';
      let path = prefix;
      const length = randomInt(1, 40);
      for (let i = 0; i < length; i++) {
        // Percent-encoded printable characters, but never '%' itself (a double encoding could spell a NUL: 400).
        const code = randomInt(0x26, 0x7f);
        path += randomInt(8) === 0 ? `%${code.toString(16)}` : (alphabet[randomInt(alphabet.length)] ?? 'a');
      }
      return path;
    };
    const paths = Array.from({ length: 1000 }, randomPath);
    const statuses = new Map<number, number>();
    for (let i = 0; i < paths.length; i += 50) {
      const answers = await Promise.all(paths.slice(i, i + 50).map((path) => get(port, path, { agent })));
      for (const a of answers) {
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        bodies.push(a.body);
      }
    }
    agent.destroy();
    assert.deepEqual([...statuses], [[404, 1000]]);

    // A slow client sending its headers byte by byte is cut off at the header timeout (1 s here).
    const slowStarted = Date.now();
    let slowSent = 0;
    const slow = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let got = '';
      socket.setEncoding('latin1').on('data', (c: string) => (got += c));
      socket.on('error', () => undefined);
      const text = `GET ${P}${token} HTTP/1.1\r\nHost: keep.test\r\nX-Slow: ${'s'.repeat(1000)}`;
      const timer = setInterval(() => {
        if (socket.destroyed || !socket.writable) return;
        socket.write(text[slowSent] ?? 's');
        slowSent += 1;
      }, 25);
      socket.on('close', () => {
        clearInterval(timer);
        resolve(got);
      });
    });
    const slowMs = Date.now() - slowStarted;
    assert.ok(slowMs < 4000, `slow client kept for ${slowMs} ms`);
    assert.ok(slow === '' || slow.startsWith('HTTP/1.1 408 '), slow);
    assert.ok(!slow.includes(THUMB), 'the slow client got no key authorization');

    stop = true;
    await watcher;
    keepAlive.destroy();
    assert.ok(validChecks > 10, `valid token checked ${validChecks} times`);
    for (const body of bodies) assert.ok(!body.includes(SECRET), `a response contained the secret: ${body.slice(0, 200)}`);
    assert.ok(!(serve?.stdout() ?? '').includes(SECRET));
  });

  it('exits 0 on SIGTERM', async () => {
    assert.ok(serve !== undefined);
    serve.child.kill('SIGTERM');
    const { code } = await serve.exited;
    assert.equal(code, 0, serve.stderr());
    assert.match(serve.stderr(), /stopped \(SIGTERM\)/);
  });
});

/** A tiny origin: echoes each request chunk as it arrives, or holds a response until released. */
async function startOrigin(): Promise<{ server: Server; url: string; seen: IncomingMessage[]; release(): void; held: Promise<void> }> {
  const seen: IncomingMessage[] = [];
  let release: () => void = () => undefined;
  let onHeld: () => void = () => undefined;
  const held = new Promise<void>((r) => (onHeld = r));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req);
    if (req.url === '/hold') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('held;');
      release = () => res.end('released');
      onHeld();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'X-Hop', 'X-Hop': 'origin' });
    req.on('data', (chunk: Buffer) => res.write(`echo:${chunk.length};`));
    req.on('end', () => res.end(`done:${req.headers['x-forwarded-for'] ?? ''}:${req.headers['x-forwarded-proto'] ?? ''}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, release: () => release(), held };
}

describe('serve-challenge fallbacks and shutdown', () => {
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  const started: Serve[] = [];
  before(async () => {
    origin = await startOrigin();
  });
  after(async () => {
    await Promise.all(started.map(stopServe));
    origin.server.closeAllConnections();
    origin.server.close();
  });

  it('--proxy-to streams other requests both ways to the origin and keeps the challenge folder', async () => {
    const dir = await suite.registeredDir();
    const serve = await startServe(dir, await freePort(), ['--proxy-to', origin.url]);
    started.push(serve);
    const upload = randomBytes(3 * 1024 * 1024);
    const answer = await new Promise<{ status: number; body: string; hop: unknown }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: serve.port, path: '/upload', method: 'POST', agent: false, headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, hop: res.headers['x-hop'] }));
      });
      req.on('error', reject);
      for (let i = 0; i < upload.length; i += 256 * 1024) req.write(upload.subarray(i, i + 256 * 1024));
      req.end();
    });
    assert.equal(answer.status, 200);
    const echoed = [...answer.body.matchAll(/echo:(\d+);/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.equal(echoed, upload.length, 'the origin saw the whole body');
    assert.match(answer.body, /done:127\.0\.0\.1:http$/);
    assert.equal(answer.hop, undefined, 'hop-by-hop headers named in Connection are dropped');
    assert.equal((await get(serve.port, `${P}unknown`)).status, 404);
    assert.equal((await get(serve.port, `${P}..%2f..%2fupload`)).status, 404);
    assert.equal(origin.seen.filter((r) => r.url?.includes('acme-challenge')).length, 0, 'challenge paths never reach the origin');
  });

  it('--redirect-https answers 301 to https://<host><path>', async () => {
    const dir = await suite.registeredDir();
    const serve = await startServe(dir, await freePort(), ['--redirect-https']);
    started.push(serve);
    const moved = await get(serve.port, '/shop?item=1', { headers: { Host: 'www.example.test:80' } });
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, 'https://www.example.test/shop?item=1');
    assert.equal((await get(serve.port, `${P}../../shop`, { headers: { Host: 'www.example.test' } })).status, 404);
  });

  it('refuses --redirect-https with --proxy-to, and a bad --address', async () => {
    const dir = await suite.registeredDir();
    const both = await suite.certman(dir, ['serve-challenge', '--redirect-https', '--proxy-to', origin.url]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /exclude each other/);
    const bad = await suite.certman(dir, ['serve-challenge', '--address', 'not-an-ip']);
    assert.equal(bad.code, 2);
  });

  it('--user drops root after binding and still reads the store', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
    const dir = await suite.registeredDir();
    await chmod(dir, 0o755); // a temp dir is 0700; /etc/certman is 0755
    await new FsTokenStore(dir).put('as_nobody', `as_nobody.${THUMB}`, 'a.test', 60_000);
    const serve = await startServe(dir, await freePort(), ['--user', 'nobody']);
    started.push(serve);
    assert.match(serve.stderr(), /running as nobody/);
    const uid = /^Uid:\s+(.*)$/m.exec(await readFile(`/proc/${serve.child.pid ?? 0}/status`, 'utf8'))?.[1]?.split(/\s+/);
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    assert.deepEqual(uid?.map(Number), [nobody, nobody, nobody, nobody], 'real, effective, saved and fs uid');
    assert.equal((await get(serve.port, `${P}as_nobody`)).body, `as_nobody.${THUMB}`);
  });

  it('on SIGTERM stops accepting, finishes the request in flight, and exits 0', async () => {
    const dir = await suite.registeredDir();
    const serve = await startServe(dir, await freePort(), ['--proxy-to', origin.url, '--access-log']);
    started.push(serve);
    const inflight = get(serve.port, '/hold');
    await origin.held;
    serve.child.kill('SIGTERM');
    await sleep(300);
    assert.equal(serve.child.exitCode, null, 'still running while a request is in flight');
    await assert.rejects(get(serve.port, '/'), /ECONNREFUSED/);
    origin.release();
    const answer = await inflight;
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'held;released');
    const { code } = await serve.exited;
    assert.equal(code, 0, serve.stderr());
    assert.match(serve.stdout(), /"GET \/hold HTTP\/1\.1" 200 /);
  });
});
