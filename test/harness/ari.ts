// An ARI (RFC 9773) front for Pebble 2.4, which has no renewalInfo: an HTTPS reverse proxy that passes
// every request to Pebble with the Host header it received (Pebble builds its URLs, and checks each
// JWS "url", from that Host, so all of its answers point back at the proxy), and adds:
//   GET /dir                      Pebble's directory plus "renewalInfo": "https://<proxy>/renewal-info"
//                                 (and meta.caaIdentities when the test sets them)
//   GET /renewal-info/<certId>    the window the test set (404 when none)
// It also records newOrder payloads and can answer one `replaces` order with 409 alreadyReplaced.
import { readFile } from 'node:fs/promises';
import { createServer, request as httpsRequest, Agent, type Server } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { httpRequestText } from './http.js';
import type { PebbleEnv } from './pebble.js';

export interface AriWindow {
  start: Date;
  end: Date;
  /** Sent as explanationURL. */
  explanationUrl?: string;
}

export interface AriProxy {
  /** https://127.0.0.1:<proxy port>/dir: use it as certman's server (with pebble.caFile as CA). */
  directoryUrl: string;
  /**
   * The window /renewal-info answers with. Without certId: for every certificate (and per-certificate
   * windows set before are dropped); with certId: for that one only (undefined removes it again).
   * retryAfterSeconds is sent as Retry-After.
   */
  setWindow(window: AriWindow | undefined, certId?: string, retryAfterSeconds?: number): void;
  /** Certificate ids asked for at /renewal-info/, in order. */
  ariRequests(): string[];
  /** Decoded JWS payloads of every POST to newOrder, in order (including any answered 409). */
  newOrderPayloads(): unknown[];
  /** While enabled, the next newOrder carrying `replaces` gets 409 alreadyReplaced (once, then it turns off). */
  conflictOnReplaces(enabled: boolean): void;
  /** The directory's meta.caaIdentities (RFC 8555 §7.1.1), which Pebble does not send; undefined removes them. */
  setCaaIdentities(identities: string[] | undefined): void;
  stop(): Promise<void>;
}

interface Answer {
  window: AriWindow;
  retryAfterSeconds: number | undefined;
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

function copyHeaders(headers: IncomingHttpHeaders, drop: string[] = []): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The payload of a flattened JWS (RFC 7515 §7.2.2), or the raw text when it is not one. */
function jwsPayload(body: Buffer): unknown {
  try {
    const jws = JSON.parse(body.toString('utf8')) as { payload?: unknown };
    if (typeof jws.payload !== 'string') return body.toString('utf8');
    if (jws.payload === '') return null;
    return JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as unknown;
  } catch {
    return body.toString('utf8');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'public, max-age=0, no-cache', ...headers, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts the proxy on a free 127.0.0.1 port with Pebble's own listener certificate. */
export async function startAriProxy(pebble: PebbleEnv): Promise<AriProxy> {
  const [cert, key, ca] = await Promise.all([
    readFile(join(pebble.dir, 'listener.pem'), 'utf8'),
    readFile(join(pebble.dir, 'listener.key'), 'utf8'),
    readFile(pebble.caFile, 'utf8'),
  ]);
  const upstream = new URL(pebble.directoryUrl);
  const directory = JSON.parse((await httpRequestText(pebble.directoryUrl, { ca })).body) as Record<string, unknown>;
  const newOrderPath = new URL(String(directory.newOrder)).pathname;
  const newNoncePath = new URL(String(directory.newNonce)).pathname;
  const agent = new Agent({ keepAlive: true, ca });

  let defaultAnswer: Answer | undefined;
  const perCert = new Map<string, Answer>();
  const asked: string[] = [];
  const orders: unknown[] = [];
  let conflict = false;
  let caaIdentities: string[] | undefined;

  /** Sends a request on to Pebble with the client's Host header; resolves with Pebble's full answer. */
  const forward = (
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> =>
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

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const pathname = path.split('?')[0] ?? path;
    const host = req.headers.host ?? `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const body = await readBody(req);

    if (method === 'GET' && pathname.startsWith('/renewal-info/')) {
      const certId = decodeURIComponent(pathname.slice('/renewal-info/'.length));
      asked.push(certId);
      const answer = perCert.get(certId) ?? defaultAnswer;
      if (answer === undefined) {
        sendJson(res, 404, { type: 'urn:ietf:params:acme:error:malformed', detail: `no renewal information for ${certId}`, status: 404 }, { 'content-type': 'application/problem+json' });
        return;
      }
      const info = {
        suggestedWindow: { start: answer.window.start.toISOString(), end: answer.window.end.toISOString() },
        ...(answer.window.explanationUrl === undefined ? {} : { explanationURL: answer.window.explanationUrl }),
      };
      sendJson(res, 200, info, answer.retryAfterSeconds === undefined ? {} : { 'retry-after': String(answer.retryAfterSeconds) });
      return;
    }

    const isNewOrder = method === 'POST' && pathname === newOrderPath;
    if (isNewOrder) {
      const payload = jwsPayload(body);
      const replaces = typeof payload === 'object' && payload !== null && 'replaces' in payload;
      if (conflict && replaces) {
        conflict = false;
        orders.push(payload);
        // A fresh nonce from Pebble, as a real CA sends with every error.
        const nonce = await forward('HEAD', newNoncePath, { host }, Buffer.alloc(0));
        const replayNonce = nonce.headers['replay-nonce'];
        sendJson(
          res,
          409,
          { type: 'urn:ietf:params:acme:error:alreadyReplaced', detail: 'the certificate named in "replaces" was already replaced', status: 409 },
          { 'content-type': 'application/problem+json', ...(typeof replayNonce === 'string' ? { 'replay-nonce': replayNonce } : {}) },
        );
        return;
      }
    }

    const answer = await forward(method, path, req.headers, body);
    // A request Pebble refused for its nonce is sent again by the client: record the order once.
    if (isNewOrder && !answer.body.toString('utf8').includes('urn:ietf:params:acme:error:badNonce')) orders.push(jwsPayload(body));
    if (method === 'GET' && pathname === upstream.pathname && answer.status === 200) {
      const dir = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
      dir.renewalInfo = `https://${host}/renewal-info`;
      if (caaIdentities !== undefined) dir.meta = { ...(dir.meta as Record<string, unknown> | undefined), caaIdentities };
      sendJson(res, 200, dir, { ...(copyHeaders(answer.headers, ['content-length', 'content-type']) as Record<string, string>) });
      return;
    }
    res.writeHead(answer.status, { ...copyHeaders(answer.headers, ['content-length']), 'content-length': String(answer.body.length) });
    res.end(method === 'HEAD' ? undefined : answer.body);
  };

  const server: Server = createServer({ cert, key }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, 502, { type: 'about:blank', detail: `ARI proxy: ${(err as Error).message}`, status: 502 });
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
    setWindow(window, certId, retryAfterSeconds) {
      const answer = window === undefined ? undefined : { window: { ...window }, retryAfterSeconds };
      if (certId === undefined) {
        defaultAnswer = answer;
        perCert.clear();
      } else if (answer === undefined) {
        perCert.delete(certId);
      } else {
        perCert.set(certId, answer);
      }
    },
    ariRequests: () => [...asked],
    newOrderPayloads: () => [...orders],
    setCaaIdentities(identities) {
      caaIdentities = identities === undefined ? undefined : [...identities];
    },
    conflictOnReplaces(enabled) {
      conflict = enabled;
    },
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
