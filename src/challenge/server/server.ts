import { createServer, STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { urlHost } from '../../dns/ip.js';
import { CertmanError, UsageError } from '../../errors.js';
import type { PendingToken, TokenStore } from '../../store/types.js';
import { TokenCache } from './cache.js';
import { hostName, parseRequestTarget } from './path.js';
import { ReverseProxy } from './proxy.js';
import { emptyOutcomes, outcomeOf, type RequestOutcome } from './outcomes.js';

/** What happens to requests that are not for the challenge folder. */
export type Fallback = { kind: 'not-found' } | { kind: 'redirect-https' } | { kind: 'proxy'; origin: URL };

export interface ChallengeServerOptions {
  tokens: TokenStore;
  port: number;
  /** Addresses to listen on. Default: `::` dual-stack (IPv6 and IPv4), or 0.0.0.0 where IPv6 is off. */
  addresses?: string[];
  fallback?: Fallback;
  /** Answer a token only when the Host header names the token's domain. */
  checkHost?: boolean;
  /** The whole header block must arrive within this long (slowloris). Default 10 s. */
  headersTimeoutMs?: number;
  /** The whole request, body included, must arrive within this long. Default 30 s. */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this long. Default 5 s. */
  keepAliveTimeoutMs?: number;
  /** A connection with no traffic at all for this long is closed. Default 60 s. */
  idleTimeoutMs?: number;
  /** Largest header block accepted; bigger gets 431. Default 8 KiB. */
  maxHeaderSize?: number;
  /** Connections open at once over all addresses; more are closed on arrival. Default 4096. */
  maxConnections?: number;
  /** Answers (store reads, proxied requests) one connection may wait for at once; see mayWait. Default 8. */
  maxPipelined?: number;
  /** How long a token found in the store is remembered. Default 1000 ms; 0 disables. */
  cacheMs?: number;
  /** A store read slower than this gets 503 (a network store that may be unreachable). Default: none. */
  storeTimeoutMs?: number;
  /** Called once per request (and per rejected connection) after the response: the access log. */
  onAccess?: (entry: AccessEntry) => void;
  /** The token store failed (the request got a 503). */
  onStoreError?: (err: unknown) => void;
  /** A listening socket failed after start, e.g. accept() hitting EMFILE; the server keeps running. */
  onServerError?: (err: Error) => void;
}

export interface AccessEntry {
  time: Date;
  remoteAddress: string;
  /** "-" for a request that could not be parsed (bad request, oversized header, timeout). */
  method: string;
  url: string;
  httpVersion: string;
  /** 499 when the client left before the whole answer was out. */
  status: number;
  /** Body bytes sent. */
  bytes: number;
  durationMs: number;
  host: string | undefined;
  userAgent: string | undefined;
}

export interface ListeningAddress {
  address: string;
  family: string;
  port: number;
}

export interface ServerStats {
  requests: number;
  /** 200 answers with a key authorization. */
  answered: number;
  /** Requests the HTTP parser refused (bad syntax, oversized headers, timeouts). */
  clientErrors: number;
  /** Connections closed on arrival because of the connection cap. */
  dropped: number;
  /** Connections that pipelined more than maxPipelined waiting requests (answered 429 from then on). */
  pipelineOverflows: number;
  storeErrors: number;
}

/**
 * Limits for the open internet. Together they bound what one connection can hold: at most 8 KiB of
 * header, no body (never read; streamed with --proxy-to), and `maxPipelined` requests waiting, for
 * at most `headersTimeoutMs` before a request is complete and `keepAliveTimeoutMs` between
 * requests. test/e2e/serve-challenge-attack.test.ts measures the memory this leaves under attack.
 */
const DEFAULTS = {
  /** A CA sends its few hundred bytes of header at once; 10 s covers a slow path, not a slowloris. */
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  /** A CA's request is well under 1 KiB; Node's own default (16 KiB) only gives an attacker more. */
  maxHeaderSize: 8 * 1024,
  /** A held connection costs ≈ 15 KiB (500 slowloris with 7 KiB of header each: +7.5 MB): 4096 ≈ 60 MiB. */
  maxConnections: 4096,
  /** A CA sends one request at a time per connection; a few more allow honest pipelining. */
  maxPipelined: 8,
  cacheMs: 1000,
};

/** Per connection: its requests waiting for an answer (each with a way to refuse it at once). */
interface Pipeline {
  waiting: Set<() => void>;
  /** It pipelined more than maxPipelined of them: requests that would wait are refused from now on. */
  over: boolean;
}

/** The access log's status for a request whose client left before its whole answer was out (as nginx logs it). */
const NO_ANSWER = 499;

/** Common to every answer that is not proxied. */
const SAFE_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

/**
 * A long-running HTTP-01 responder for the open internet: answers GET/HEAD
 * /.well-known/acme-challenge/<token> from a TokenStore and nothing else from disk.
 */
export class ChallengeServer {
  readonly addresses: ListeningAddress[] = [];
  private readonly servers: Server[] = [];
  private readonly cache: TokenCache;
  private readonly proxy: ReverseProxy | undefined;
  private readonly fallback: Fallback;
  private readonly maxConnections: number;
  private readonly maxPipelined: number;
  private readonly pipelines = new WeakMap<Socket, Pipeline>();
  private readonly counters: ServerStats = { requests: 0, answered: 0, clientErrors: 0, dropped: 0, pipelineOverflows: 0, storeErrors: 0 };
  private readonly outcomeCounts = emptyOutcomes();
  private connections = 0;
  private closing = false;
  private stopping: Promise<void> | undefined;

  private constructor(private readonly options: ChallengeServerOptions) {
    this.cache = new TokenCache(options.tokens, {
      ttlMs: options.cacheMs ?? DEFAULTS.cacheMs,
      ...(options.storeTimeoutMs === undefined ? {} : { storeTimeoutMs: options.storeTimeoutMs }),
    });
    this.fallback = options.fallback ?? { kind: 'not-found' };
    this.proxy = this.fallback.kind === 'proxy' ? new ReverseProxy({ origin: this.fallback.origin }) : undefined;
    this.maxConnections = options.maxConnections ?? DEFAULTS.maxConnections;
    this.maxPipelined = options.maxPipelined ?? DEFAULTS.maxPipelined;
  }

  /** Binds every address (all or none: a failure closes those already bound) and starts serving. */
  static async start(options: ChallengeServerOptions): Promise<ChallengeServer> {
    const server = new ChallengeServer(options);
    try {
      if (options.addresses === undefined || options.addresses.length === 0) {
        await server.listen('::').catch(async (err: NodeJS.ErrnoException) => {
          // A kernel without IPv6: the IPv4 wildcard is what "all addresses" means there.
          if (err.code !== 'EAFNOSUPPORT' && err.code !== 'EADDRNOTAVAIL') throw err;
          await server.listen('0.0.0.0');
        });
      } else {
        for (const address of options.addresses) await server.listen(address);
      }
    } catch (err) {
      await server.stop(0);
      throw listenError(err as NodeJS.ErrnoException, options.port);
    }
    return server;
  }

  stats(): ServerStats {
    return { ...this.counters };
  }

  /** Requests by what became of them (see outcomes.ts), for the metrics. */
  outcomes(): Record<RequestOutcome, number> {
    return { ...this.outcomeCounts };
  }

  /** Tokens the responder remembers from the store (found recently, or kept for when the store fails). */
  get tokensRemembered(): number {
    return this.cache.size;
  }

  /**
   * Stops accepting connections, closes idle keep-alive ones, lets requests in flight finish, and
   * after `graceMs` cuts whatever is left. Resolves when every connection is gone. Safe to call twice.
   */
  stop(graceMs = 10_000): Promise<void> {
    if (this.stopping !== undefined) {
      if (graceMs === 0) this.closeAll();
      return this.stopping;
    }
    this.closing = true;
    const closed = Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of this.servers) s.closeIdleConnections();
    const timer = setTimeout(() => this.closeAll(), graceMs);
    this.stopping = closed.then(() => {
      clearTimeout(timer);
      this.proxy?.close();
    });
    return this.stopping;
  }

  private closeAll(): void {
    for (const s of this.servers) s.closeAllConnections();
  }

  private listen(address: string): Promise<void> {
    const o = this.options;
    const headersTimeout = o.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs;
    const server = createServer({
      maxHeaderSize: o.maxHeaderSize ?? DEFAULTS.maxHeaderSize,
      headersTimeout,
      requestTimeout: Math.max(o.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs, headersTimeout),
      // How often Node looks for connections over those timeouts (its default is every 30 s).
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
      insecureHTTPParser: false,
      requireHostHeader: true,
      noDelay: true,
    });
    server.keepAliveTimeout = o.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs;
    server.timeout = o.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs;
    server.maxConnections = this.maxConnections;
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
    server.on('drop', () => (this.counters.dropped += 1));
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { address })));
      server.listen({ port: o.port, host: address, ...(address === '::' ? { ipv6Only: false } : {}) }, () => {
        // From now on an 'error' (accept() out of file descriptors) must not end the process.
        server.on('error', (err: Error) => o.onServerError?.(err));
        const info = server.address() as AddressInfo;
        this.servers.push(server);
        this.addresses.push({ address: info.address, family: info.family, port: info.port });
        resolve();
      });
    });
  }

  private onConnection(socket: Socket): void {
    if (this.connections >= this.maxConnections) {
      this.counters.dropped += 1;
      socket.destroy();
      return;
    }
    this.connections += 1;
    socket.once('close', () => (this.connections -= 1));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.counters.requests += 1;
    const started = performance.now();
    const sent: { bytes: number; proxied?: boolean } = { bytes: 0 };
    const { onAccess } = this.options;
    if (onAccess !== undefined) {
      res.once('close', () => onAccess(accessEntry(req, res.writableFinished ? res.statusCode : NO_ANSWER, sent.bytes, performance.now() - started)));
    }
    if (this.closing) {
      res.once('finish', () => setImmediate(() => this.servers.forEach((s) => s.closeIdleConnections())));
    }
    const target = parseRequestTarget(req.url ?? '');
    res.once('close', () => (this.outcomeCounts[outcomeOf(target.kind, res.statusCode, res.writableFinished, sent.proxied === true)] += 1));
    switch (target.kind) {
      case 'token':
        return this.challenge(req, res, target.token, sent);
      case 'reject':
        return this.text(req, res, 404, 'not found\n', sent);
      case 'invalid':
        return this.text(req, res, 400, 'bad request\n', sent, { Connection: 'close' });
      case 'other':
        return this.other(req, res, sent);
    }
  }

  private challenge(req: IncomingMessage, res: ServerResponse, token: string, sent: { bytes: number }): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.text(req, res, 405, 'method not allowed\n', sent, { Allow: 'GET, HEAD' });
      return;
    }
    const cached = this.cache.peek(token);
    if (cached !== undefined) {
      this.answer(req, res, cached, sent);
      return;
    }
    if (!this.mayWait(req, res, sent)) return;
    this.cache.get(token).then(
      (pending) => this.answer(req, res, pending, sent),
      (err: unknown) => {
        this.counters.storeErrors += 1;
        this.options.onStoreError?.(err);
        if (!res.destroyed && !res.headersSent) this.text(req, res, 503, 'token store unavailable\n', sent, { 'Retry-After': '1' });
      },
    );
  }

  /**
   * Admits a request whose answer comes later (a store read, the origin), within its connection's
   * `maxPipelined`. Node parses every pipelined request of a received chunk at once (64 KiB: over a
   * thousand requests) and keeps each one, with its response, queued behind the first unanswered
   * one; behind a store read that lasts an event-loop turn, in which every other connection does
   * the same: 1,000 connections sending 256 KiB of pipelined token requests took the process out
   * of memory. So over the limit the connection's waiting requests that have no answer yet, this
   * one and every later one that would wait get 429 at once, and the queue drains in the same turn.
   * `cancel` stops the work a refused request started. False when this request was refused.
   */
  private mayWait(req: IncomingMessage, res: ServerResponse, sent: { bytes: number }, cancel = () => {}): boolean {
    const refuse = (): void => {
      if (res.headersSent || res.destroyed) return;
      cancel();
      this.text(req, res, 429, 'too many pipelined requests\n', sent, { 'Retry-After': '1' });
    };
    let pipeline = this.pipelines.get(req.socket);
    if (pipeline === undefined) {
      pipeline = { waiting: new Set(), over: false };
      this.pipelines.set(req.socket, pipeline);
    }
    if (!pipeline.over && pipeline.waiting.size >= this.maxPipelined) {
      pipeline.over = true;
      this.counters.pipelineOverflows += 1;
      for (const waiting of pipeline.waiting) waiting();
    }
    if (pipeline.over) {
      refuse();
      return false;
    }
    const { waiting } = pipeline;
    waiting.add(refuse);
    // Waiting until delivered: a client that does not read its answers keeps them counted.
    res.once('close', () => waiting.delete(refuse));
    return true;
  }

  private answer(req: IncomingMessage, res: ServerResponse, pending: PendingToken | undefined, sent: { bytes: number }): void {
    // Closed meanwhile, or already refused by mayWait.
    if (res.destroyed || res.headersSent) return;
    if (pending === undefined || (this.options.checkHost === true && hostName(req.headers.host) !== pending.domain)) {
      this.text(req, res, 404, 'not found\n', sent);
      return;
    }
    this.counters.answered += 1;
    this.text(req, res, 200, pending.keyAuthorization, sent);
  }

  private other(req: IncomingMessage, res: ServerResponse, sent: { bytes: number; proxied?: boolean }): void {
    switch (this.fallback.kind) {
      case 'not-found':
        return this.text(req, res, 404, 'not found\n', sent);
      case 'redirect-https': {
        const name = hostName(req.headers.host);
        if (name === undefined) return this.text(req, res, 400, 'bad Host header\n', sent, { Connection: 'close' });
        // The port is dropped: the HTTP port says nothing about the HTTPS one.
        return this.text(req, res, 301, 'moved to https\n', sent, { Location: `https://${urlHost(name)}${req.url ?? '/'}` });
      }
      case 'proxy': {
        const proxy = this.proxy;
        let cancel = (): void => undefined;
        if (proxy === undefined || !this.mayWait(req, res, sent, () => cancel())) return;
        sent.proxied = true;
        cancel = proxy.forward(req, res, (n) => (sent.bytes += n));
        return;
      }
    }
  }

  /** A small plain-text answer; a request with a body gets its connection closed rather than drained. */
  private text(req: IncomingMessage, res: ServerResponse, status: number, body: string, sent: { bytes: number }, extra: OutgoingHttpHeaders = {}): void {
    const length = Buffer.byteLength(body);
    const headers: OutgoingHttpHeaders = { 'Content-Type': 'text/plain', 'Content-Length': length, ...SAFE_HEADERS, ...extra };
    if (this.closing || hasBody(req)) headers.Connection = 'close';
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
    } else {
      sent.bytes = length;
      res.end(body);
    }
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    this.counters.clientErrors += 1;
    if (err.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    // end() flushes the answer; a peer that never reads it does not keep the socket.
    setTimeout(() => socket.destroy(), 1000).unref();
    this.options.onAccess?.({
      time: new Date(),
      remoteAddress: socket.remoteAddress ?? '-',
      method: '-',
      url: '-',
      httpVersion: '-',
      status,
      bytes: 0,
      durationMs: 0,
      host: undefined,
      userAgent: undefined,
    });
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function accessEntry(req: IncomingMessage, status: number, bytes: number, durationMs: number): AccessEntry {
  const userAgent = req.headers['user-agent'];
  return {
    time: new Date(),
    remoteAddress: req.socket.remoteAddress ?? '-',
    method: req.method ?? '-',
    url: req.url ?? '-',
    httpVersion: req.httpVersion,
    status,
    bytes,
    durationMs,
    host: req.headers.host,
    userAgent,
  };
}

/** A listener that could not bind, in one line; `flag` and `portFlag` name its address and port (exit 2 when no such address). */
export function listenError(err: NodeJS.ErrnoException & { address?: string }, port: number, flag = '--address', portFlag = '--port'): CertmanError {
  const address = err.address ?? '*';
  const where = `${urlHost(address)}:${port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new CertmanError(`port ${where} is already in use`, { hint: `stop the service on that port, or pick another with ${portFlag}` });
    case 'EACCES':
      return new CertmanError(`not allowed to listen on ${where}`, {
        hint: 'ports below 1024 need root or CAP_NET_BIND_SERVICE (start as root with --user <name> to drop root after binding)',
      });
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
    case 'ENOTFOUND':
    case 'EINVAL':
      return new UsageError(`cannot listen on ${where}: no such local address`, `check ${flag}`);
    default:
      return new CertmanError(`cannot listen on ${where}: ${err.message}`, { cause: err });
  }
}
