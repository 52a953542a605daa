import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { ChallengeServer, type AccessEntry, type ChallengeServerOptions } from '../../src/challenge/server/index.js';
import type { PendingToken, TokenStore } from '../../src/store/types.js';
import { AccessLog, formatAccess } from '../../src/cli/commands/serve-challenge.js';
import { rawHttp } from '../harness/http.js';

const THUMB = 'Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg';

class MemoryStore implements TokenStore {
  readonly entries = new Map<string, PendingToken>();
  failing = false;
  async put(token: string, keyAuthorization: string, domain: string): Promise<void> {
    this.entries.set(token, { keyAuthorization, domain });
  }
  async get(token: string): Promise<PendingToken | undefined> {
    if (this.failing) throw new Error('store down');
    return this.entries.get(token);
  }
  async delete(token: string): Promise<void> {
    this.entries.delete(token);
  }
}

const running: { stop(grace?: number): Promise<void> }[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop(0)));
});

async function start(options: Partial<ChallengeServerOptions> = {}): Promise<{ server: ChallengeServer; store: MemoryStore; port: number; log: AccessEntry[] }> {
  const store = new MemoryStore();
  const log: AccessEntry[] = [];
  const server = await ChallengeServer.start({ tokens: store, port: 0, addresses: ['127.0.0.1'], onAccess: (e) => log.push(e), ...options });
  running.push(server);
  return { server, store, port: server.addresses[0]?.port ?? 0, log };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Raw bytes to the server; everything received until it closes (see rawHttp). */
const raw = (port: number, text: string, waitMs = 3000): Promise<string> => rawHttp(port, text, waitMs);

async function origin(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<{ server: Server; url: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  running.push({ stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('ChallengeServer', () => {
  it('answers a pending token with GET and HEAD, and 404 for anything else', async () => {
    const { store, port, log } = await start();
    await store.put('tok', `tok.${THUMB}`, 'a.test');
    const ok = await get(port, '/.well-known/acme-challenge/tok');
    assert.equal(ok.status, 200);
    assert.equal(ok.body, `tok.${THUMB}`);
    assert.equal(ok.headers['content-type'], 'text/plain');
    const head = await get(port, '/.well-known/acme-challenge/tok', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(`tok.${THUMB}`.length));
    assert.equal(head.body, '');
    for (const path of ['/.well-known/acme-challenge/nope', '/.well-known/acme-challenge/%74ok', '/.well-known//acme-challenge/tok', '/', '/etc/passwd']) {
      assert.equal((await get(port, path)).status, 404, path);
    }
    assert.equal((await get(port, '/.well-known/acme-challenge/tok', { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await get(port, '/a%00b')).status, 400);
    assert.deepEqual(
      log.map((e) => e.status),
      [200, 200, 404, 404, 404, 404, 404, 405, 400],
    );
  });

  it('answers a token published right after a miss at once (misses are not cached)', async () => {
    const { store, port } = await start({ cacheMs: 1000 });
    assert.equal((await get(port, '/.well-known/acme-challenge/late')).status, 404);
    await store.put('late', `late.${THUMB}`, 'a.test');
    assert.equal((await get(port, '/.well-known/acme-challenge/late')).status, 200);
  });

  it('with checkHost, answers only when the Host header names the token\'s domain', async () => {
    const { store, port } = await start({ checkHost: true });
    await store.put('tok', `tok.${THUMB}`, 'a.test');
    assert.equal((await get(port, '/.well-known/acme-challenge/tok', { headers: { Host: 'A.test:80' } })).status, 200);
    assert.equal((await get(port, '/.well-known/acme-challenge/tok', { headers: { Host: 'a.test.' } })).status, 200);
    assert.equal((await get(port, '/.well-known/acme-challenge/tok', { headers: { Host: 'b.test' } })).status, 404);
    assert.equal((await get(port, '/.well-known/acme-challenge/tok')).status, 404); // Host: 127.0.0.1:<port>
  });

  it('redirects other paths to https with --redirect-https, never the challenge folder', async () => {
    const { store, port } = await start({ fallback: { kind: 'redirect-https' } });
    await store.put('tok', `tok.${THUMB}`, 'a.test');
    const moved = await get(port, '/shop/?q=1', { headers: { Host: 'Example.com:8080' } });
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, 'https://example.com/shop/?q=1');
    const v6 = await get(port, '/x', { headers: { Host: '[::1]:80' } });
    assert.equal(v6.headers.location, 'https://[::1]/x');
    assert.equal((await get(port, '/.well-known/acme-challenge/../x', { headers: { Host: 'example.com' } })).status, 404);
    assert.equal((await get(port, '/.well-known/acme-challenge/tok')).status, 200);
    assert.equal((await raw(port, 'GET /x HTTP/1.1\r\nHost: a b\r\n\r\n')).split('\r\n')[0], 'HTTP/1.1 400 Bad Request');
  });

  it('proxies other requests, streaming both ways, without hop-by-hop headers, with X-Forwarded-*', async () => {
    let firstChunkAnswered: () => void = () => undefined;
    const answered = new Promise<void>((r) => (firstChunkAnswered = r));
    const o = await origin((req, res) => {
      res.writeHead(201, { Connection: 'X-Origin-Hop', 'X-Origin-Hop': '1', 'Keep-Alive': 'timeout=1', 'X-Kept': 'yes', 'Set-Cookie': ['a=1', 'b=2'] });
      // Echo each request chunk as it arrives: proves the body streams both ways before either ends.
      req.on('data', (chunk: Buffer) => {
        res.write(`echo:${chunk.toString()};`);
        firstChunkAnswered();
      });
      req.on('end', () => res.end('done'));
    });
    const { store, port } = await start({ fallback: { kind: 'proxy', origin: new URL(`${o.url}/base/`) } });
    await store.put('tok', `tok.${THUMB}`, 'a.test');
    const result = await new Promise<Answer>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/upload?x=1',
          method: 'POST',
          agent: false,
          headers: { Host: 'app.test', Connection: 'keep-alive, X-Client-Hop', 'X-Client-Hop': 'secret', 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'https', 'Transfer-Encoding': 'chunked' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.write('one');
      // The second chunk is sent only after the origin answered the first one through the proxy.
      void answered.then(() => req.end('two'));
    });
    assert.equal(result.status, 201);
    assert.equal(result.body, 'echo:one;echo:two;done');
    assert.equal(result.headers['x-kept'], 'yes');
    assert.deepEqual(result.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(result.headers['x-origin-hop'], undefined);
    assert.notEqual(result.headers['keep-alive'], 'timeout=1');
    const seen = o.seen[0];
    assert.ok(seen !== undefined);
    assert.equal(seen.url, '/base/upload?x=1');
    assert.equal(seen.headers.host, 'app.test');
    assert.equal(seen.headers['x-client-hop'], undefined);
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'app.test');
    // the challenge folder is never proxied
    assert.equal((await get(port, '/.well-known/acme-challenge/tok')).status, 200);
    assert.equal((await get(port, '/.well-known/acme-challenge/../../etc/passwd')).status, 404);
    assert.equal((await get(port, '/%2ewell-known/acme-challenge/tok')).status, 404);
    assert.equal(o.seen.length, 1);
  });

  it('answers 502 when the origin is down and 503 when the store fails', async () => {
    const o = await origin(() => undefined);
    const dead = o.url;
    await new Promise<void>((r) => o.server.close(() => r()));
    const { store, port } = await start({ fallback: { kind: 'proxy', origin: new URL(dead) } });
    assert.equal((await get(port, '/app')).status, 502);
    store.failing = true;
    const errors: unknown[] = [];
    const second = await start({ onStoreError: (e) => errors.push(e) });
    second.store.failing = true;
    assert.equal((await get(second.port, '/.well-known/acme-challenge/tok')).status, 503);
    assert.equal(errors.length, 1);
  });

  it('answers 431 to an oversized header, and cuts a slow header block at the timeout', async () => {
    const { port, server } = await start({ headersTimeoutMs: 300 });
    const big = await raw(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
    const started = Date.now();
    const slow = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let got = '';
      socket.setEncoding('utf8').on('data', (c: string) => (got += c));
      socket.on('error', () => undefined);
      const text = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' + 'a'.repeat(100);
      let i = 0;
      const timer = setInterval(() => {
        if (socket.destroyed) return;
        socket.write(text[i % text.length] ?? 'a');
        i += 1;
      }, 20);
      socket.on('close', () => {
        clearInterval(timer);
        resolve(got);
      });
    });
    assert.ok(Date.now() - started < 3000, `cut after ${Date.now() - started} ms`);
    assert.ok(slow === '' || slow.startsWith('HTTP/1.1 408 '), slow);
    assert.ok(server.stats().clientErrors >= 2);
  });

  it('closes connections over the cap on arrival', async () => {
    const { port, server } = await start({ maxConnections: 2 });
    const sockets = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    await Promise.all(sockets.map((s) => new Promise((r) => s.once('connect', r))));
    await new Promise((r) => setTimeout(r, 50));
    const third = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 1000);
    assert.equal(third, '');
    assert.equal(server.stats().dropped, 1);
    for (const s of sockets) s.destroy();
  });

  it('answers 429 at once to a connection pipelining more store reads than maxPipelined, and still answers others', async () => {
    const { store, port, server, log } = await start({ maxPipelined: 4, cacheMs: 0 });
    await store.put('tok', `tok.${THUMB}`, 'a.test');
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const read = store.get.bind(store);
    store.get = async (token) => {
      await held; // every store read waits: the pipelined requests pile up behind the first
      return read(token);
    };
    const pipelined = 'GET /.well-known/acme-challenge/tok HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(20);
    const answers = raw(port, pipelined, 2000);
    await new Promise((r) => setTimeout(r, 300));
    release();
    const text = await answers;
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, Array<number>(20).fill(429), 'refused at once, without waiting for the store');
    assert.equal(server.stats().pipelineOverflows, 1);
    assert.ok(log.filter((e) => e.status === 429).length === 20);
    // One request at a time on another connection is answered as usual.
    assert.equal((await get(port, '/.well-known/acme-challenge/tok')).status, 200);
  });

  it('answers a pipelined burst from the cache without counting it against maxPipelined', async () => {
    const { store, port } = await start({ maxPipelined: 2 });
    await store.put('tok', `tok.${THUMB}`, 'a.test');
    assert.equal((await get(port, '/.well-known/acme-challenge/tok')).status, 200); // now cached
    const text = await raw(port, 'GET /.well-known/acme-challenge/tok HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(10), 1000);
    assert.equal([...text.matchAll(/HTTP\/1\.1 200 /g)].length, 10);
  });

  it('passes at most maxPipelined pipelined requests of one connection to the origin', async () => {
    const o = await origin(() => undefined); // never answers
    const { port, server } = await start({ maxPipelined: 3, fallback: { kind: 'proxy', origin: new URL(o.url) } });
    const text = await raw(port, 'GET /app HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(12), 2000);
    assert.deepEqual([...text.matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => Number(m[1])), Array<number>(12).fill(429));
    assert.ok(o.seen.length <= 3, `the origin saw ${o.seen.length} requests`);
    assert.equal(server.stats().pipelineOverflows, 1);
  });

  it('logs 499, not 200, for a request whose client left before the answer', async () => {
    const { store, port, log } = await start();
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    store.get = async () => {
      await held;
      return { keyAuthorization: `tok.${THUMB}`, domain: 'a.test' };
    };
    await raw(port, 'GET /.well-known/acme-challenge/tok HTTP/1.1\r\nHost: a\r\n\r\n', 300);
    release();
    while (log.length === 0) await new Promise((r) => setTimeout(r, 10));
    assert.equal(log[0]?.status, 499);
  });

  it('stops gracefully: a request in flight finishes, new connections are refused', async () => {
    let release: () => void = () => undefined;
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('start;');
      release = () => res.end('end');
    });
    const { server, port } = await start({ fallback: { kind: 'proxy', origin: new URL(o.url) } });
    const inflight = get(port, '/slow');
    while (o.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    const stopped = server.stop(5000);
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(get(port, '/'), /ECONNREFUSED/);
    release();
    assert.equal((await inflight).body, 'start;end');
    await stopped;
  });
});

describe('access log lines', () => {
  it('are dropped past a 4 MiB backlog, counting those not written yet', () => {
    const written: string[] = [];
    const out = { writableLength: 0, write: (text: string) => written.push(text) > 0 } as unknown as NodeJS.WriteStream;
    const log = new AccessLog(out);
    const entry: AccessEntry = { time: new Date(0), remoteAddress: '127.0.0.1', method: 'GET', url: '/x', httpVersion: '1.1', status: 429, bytes: 28, durationMs: 0.1, host: 'a', userAgent: undefined };
    // A flood answered within one event-loop turn: nothing reaches stdout before the batch is flushed.
    for (let i = 0; i < 100_000; i++) log.write(entry);
    log.flush();
    assert.ok(log.dropped > 0);
    assert.ok(written.join('').length <= 4 * 1024 * 1024 + 200, `${written.join('').length} characters in one batch`);
  });

  it('are one line, with quotes and control characters escaped', () => {
    const line = formatAccess({
      time: new Date('2030-01-01T00:00:00Z'),
      remoteAddress: '::1',
      method: 'GET',
      url: '/a"b\\c',
      httpVersion: '1.1',
      status: 404,
      bytes: 10,
      durationMs: 0.25,
      host: 'x\ny',
      userAgent: 'curl/8 "evil"\r\n2030 fake line',
    });
    assert.equal(line, '2030-01-01T00:00:00.000Z ::1 "GET /a\\x22b\\x5cc HTTP/1.1" 404 10 0.3ms "x\\x0ay" "curl/8 \\x22evil\\x22\\x0d\\x0a2030 fake line"');
  });
});
