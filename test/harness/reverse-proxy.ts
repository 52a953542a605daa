// An HTTPS reverse proxy in front of Pebble, the base of the test responders (ari.ts, faults.ts).
// It passes requests on with the Host header it received: Pebble builds its URLs, and checks each JWS
// "url", from that Host, so all of its answers point back at the proxy. The responder in front decides
// per request whether to answer itself or forward.
import { readFile } from 'node:fs/promises';
import { createServer, request as httpsRequest, Agent, type Server } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { httpRequestText } from './http.js';
import type { PebbleEnv } from './pebble.js';

export interface ProxiedRequest {
  method: string;
  /** Path with query, as received. */
  path: string;
  pathname: string;
  /** The Host header the client sent (the proxy's own address). */
  host: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface UpstreamAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends a request on to Pebble with the client's Host header; resolves with Pebble's full answer. */
export type Forward = (req: Pick<ProxiedRequest, 'method' | 'path' | 'headers' | 'body'>) => Promise<UpstreamAnswer>;

/** Answers one request: itself (sendJson, relay, or nothing at all) or through `forward`. */
export type ProxyHandler = (req: ProxiedRequest, res: ServerResponse, forward: Forward) => Promise<void>;

export interface ReverseProxy {
  /** https://127.0.0.1:<proxy port>/dir: use it as certman's server (with pebble.caFile as CA). */
  directoryUrl: string;
  /** Pebble's directory as read at start (its URLs point at Pebble itself; compare paths). */
  directory: Record<string, unknown>;
  stop(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer']);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function copyHeaders(headers: IncomingHttpHeaders, drop: string[] = []): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The payload of a flattened JWS (RFC 7515 §7.2.2), or the raw text when it is not one. */
export function jwsPayload(body: Buffer): unknown {
  try {
    const jws = JSON.parse(body.toString('utf8')) as { payload?: unknown };
    if (typeof jws.payload !== 'string') return body.toString('utf8');
    if (jws.payload === '') return null;
    return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as unknown;
  } catch {
    return body.toString('utf8');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'public, max-age=0, no-cache', ...headers, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Sends Pebble's answer back to the client as it came. */
export function relay(res: ServerResponse, method: string, answer: UpstreamAnswer): void {
  res.writeHead(answer.status, { ...copyHeaders(answer.headers, ['content-length']), 'content-length': String(answer.body.length) });
  res.end(method === 'HEAD' ? undefined : answer.body);
}

/** A fresh Replay-Nonce from Pebble, as a real CA sends with every error it answers a POST with. */
export async function freshNonce(forward: Forward, directory: Record<string, unknown>, host: string): Promise<Record<string, string>> {
  const answer = await forward({ method: 'HEAD', path: new URL(String(directory.newNonce)).pathname, headers: { host }, body: Buffer.alloc(0) });
  const nonce = answer.headers['replay-nonce'];
  return typeof nonce === 'string' ? { 'replay-nonce': nonce } : {};
}

/** Starts the proxy on a free 127.0.0.1 port with Pebble's own listener certificate. */
export async function startReverseProxy(pebble: PebbleEnv, handle: ProxyHandler): Promise<ReverseProxy> {
  const [cert, key, ca] = await Promise.all([
    readFile(join(pebble.dir, 'listener.pem'), 'utf8'),
    readFile(join(pebble.dir, 'listener.key'), 'utf8'),
    readFile(pebble.caFile, 'utf8'),
  ]);
  const upstream = new URL(pebble.directoryUrl);
  const directory = JSON.parse((await httpRequestText(pebble.directoryUrl, { ca })).body) as Record<string, unknown>;
  const agent = new Agent({ keepAlive: true, ca });

  const forward: Forward = ({ method, path, headers, body }) =>
    new Promise((resolve, reject) => {
      const out = httpsRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method,
          path,
          agent,
          headers: { ...copyHeaders(headers, ['content-length']), ...(body.length > 0 ? { 'content-length': String(body.length) } : {}) },
          timeout: 10_000,
        },
        (answer) => {
          readBody(answer).then((data) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: data }), reject);
        },
      );
      out.on('timeout', () => out.destroy(new Error(`${method} ${path}: Pebble did not answer`)));
      out.on('error', reject);
      out.end(body);
    });

  const server: Server = createServer({ cert, key }, (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const host = req.headers.host ?? `127.0.0.1:${(server.address() as AddressInfo).port}`;
    readBody(req)
      .then((body) => handle({ method, path, pathname: path.split('?')[0] ?? path, host, headers: req.headers, body }, res, forward))
      .catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendJson(res, 502, { type: 'about:blank', detail: `test proxy: ${(err as Error).message}`, status: 502 });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let stopping: Promise<void> | undefined;
  return {
    directoryUrl: `https://127.0.0.1:${port}${upstream.pathname}`,
    directory,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return stopping;
    },
  };
}
