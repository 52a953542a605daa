/**
 * The HTTP listener of `serve-challenge --metrics-address`: GET (or HEAD) /metrics answers the exposition text,
 * anything else 404 (405 for another method on /metrics). It is meant for a scraper on a private address, yet
 * gets limits as tight as the challenge listener's: small headers, short timeouts, few connections, no body read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ListeningAddress } from '../challenge/server/index.js';
import { listenError } from '../challenge/server/server.js';
import { EXPOSITION_CONTENT_TYPE } from './format.js';

export interface MetricsAddress {
  /** An IP address (IPv6 without brackets). */
  host: string;
  port: number;
}

export interface MetricsListenerOptions {
  addresses: readonly MetricsAddress[];
  /** The exposition text of one scrape. */
  render: () => Promise<string>;
  /** A listening socket failed after start; the listener keeps running. */
  onServerError?: (err: Error) => void;
}

const LIMITS = {
  maxHeaderSize: 8 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  /** A few scrapers (an HA pair, a curl): more connections than that are an attack or a bug. */
  maxConnections: 64,
};

const HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

export class MetricsListener {
  readonly addresses: ListeningAddress[] = [];
  private readonly servers: Server[] = [];

  private constructor(private readonly options: MetricsListenerOptions) {}

  /** Binds every address (all or none: a failure closes those already bound). */
  static async start(options: MetricsListenerOptions): Promise<MetricsListener> {
    const listener = new MetricsListener(options);
    for (const address of options.addresses) {
      try {
        await listener.listen(address);
      } catch (err) {
        await listener.stop();
        throw listenError(Object.assign(err as NodeJS.ErrnoException, { address: address.host }), address.port, '--metrics-address', '--metrics-address');
      }
    }
    return listener;
  }

  /** Stops accepting, ends every connection (a scrape is short and repeated: nothing to wait for). */
  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  private listen(address: MetricsAddress): Promise<void> {
    const server = createServer({
      maxHeaderSize: LIMITS.maxHeaderSize,
      headersTimeout: LIMITS.headersTimeoutMs,
      requestTimeout: LIMITS.requestTimeoutMs,
      connectionsCheckingInterval: 1000,
      insecureHTTPParser: false,
      requireHostHeader: true,
    });
    server.keepAliveTimeout = LIMITS.keepAliveTimeoutMs;
    server.timeout = LIMITS.idleTimeoutMs;
    server.maxConnections = LIMITS.maxConnections;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: address.port, host: address.host }, () => {
        server.on('error', (err: Error) => this.options.onServerError?.(err));
        const info = server.address() as AddressInfo;
        this.servers.push(server);
        this.addresses.push({ address: info.address, family: info.family, port: info.port });
        resolve();
      });
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    // Never reads a body: a request that sends one has its connection closed after the answer.
    const close: Record<string, string> = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined ? { Connection: 'close' } : {};
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') return send(req, res, 404, 'text/plain', 'not found\n', close);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, 405, 'text/plain', 'method not allowed\n', { ...close, Allow: 'GET, HEAD' });
    this.options.render().then(
      (text) => send(req, res, 200, EXPOSITION_CONTENT_TYPE, text, close),
      () => send(req, res, 500, 'text/plain', 'metrics unavailable\n', close),
    );
  }
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string>): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...HEADERS, ...extra });
  res.end(req.method === 'HEAD' ? undefined : body);
}
