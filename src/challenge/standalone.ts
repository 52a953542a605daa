import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CertmanError, UsageError } from '../errors.js';
import { CHALLENGE_PATH, type Http01Responder } from './types.js';

export interface StandaloneOptions {
  port: number;
  /** Listen address; all addresses (IPv4 and IPv6) when unset. */
  address?: string;
}

/**
 * A built-in HTTP server for the length of one order: answers only the tokens published to it.
 * It binds in `open`, before any order exists, so a busy port costs no authorization at the CA.
 */
export class StandaloneResponder implements Http01Responder {
  private readonly tokens = new Map<string, string>();

  private constructor(private readonly server: Server) {}

  static async open(options: StandaloneOptions): Promise<StandaloneResponder> {
    const responder = new StandaloneResponder(createServer());
    responder.server.on('request', (req, res) => responder.answer(req, res));
    await listen(responder.server, options);
    return responder;
  }

  async publish(_domain: string, token: string, keyAuthorization: string): Promise<void> {
    this.tokens.set(token, keyAuthorization);
  }

  async unpublish(token: string): Promise<void> {
    this.tokens.delete(token);
  }

  async close(): Promise<void> {
    this.tokens.clear();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const token = path.startsWith(CHALLENGE_PATH) ? path.slice(CHALLENGE_PATH.length) : undefined;
    const body = token === undefined ? undefined : this.tokens.get(token);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || body === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

function listen(server: Server, { port, address }: StandaloneOptions): Promise<void> {
  const where = `${address ?? '*'}:${port}`;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new CertmanError(`port ${where} is already in use: the standalone server cannot start`, {
            hint: 'stop the service on that port, use --webroot with the running web server, or pick --http-port',
          }),
        );
      } else if (err.code === 'EACCES') {
        reject(
          new CertmanError(`not allowed to listen on ${where}`, {
            hint: 'ports below 1024 need root or CAP_NET_BIND_SERVICE; or use --webroot',
          }),
        );
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(new UsageError(`cannot listen on ${where}: no such local address`, 'check --http-address'));
      } else {
        reject(new CertmanError(`cannot listen on ${where}: ${err.message}`));
      }
    });
    server.listen({ port, ...(address === undefined ? {} : { host: address }) }, () => resolve());
  });
}
