import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream';

/** RFC 9110 §7.6.1 connection-specific fields, plus the non-standard ones proxies also drop. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface ReverseProxyOptions {
  /** http(s)://host[:port][/base]; the request path is appended to the base path. */
  origin: URL;
  /** No byte from the origin for this long: 504 (or the response is cut). Default 60 s. */
  timeoutMs?: number;
}

/**
 * Streams requests to an origin and its answers back, without buffering either body. Hop-by-hop
 * headers (and those named in Connection) are removed both ways; X-Forwarded-For, -Proto and -Host
 * are added. The client's Host header is kept so name-based virtual hosts at the origin still work.
 */
export class ReverseProxy {
  private readonly agent: HttpAgent;
  private readonly basePath: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: ReverseProxyOptions) {
    const https = options.origin.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: 1024, maxFreeSockets: 64 };
    this.agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.basePath = options.origin.pathname.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /**
   * Forwards one request; `onBytes` counts the body bytes sent to the client (access log). Returns
   * a function that abandons the request at the origin (the caller answers the client itself).
   */
  forward(req: IncomingMessage, res: ServerResponse, onBytes: (n: number) => void): () => void {
    const { origin } = this.options;
    const send = origin.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send({
      agent: this.agent,
      protocol: origin.protocol,
      hostname: origin.hostname.replace(/^\[|\]$/g, ''),
      port: origin.port === '' ? undefined : Number(origin.port),
      method: req.method,
      path: `${this.basePath}${req.url ?? '/'}`,
      headers: requestHeaders(req),
      setHost: false,
    });
    upstream.setTimeout(this.timeoutMs, () => upstream.destroy(new ProxyTimeout()));
    const fail = (err: Error | null | undefined): void => {
      // Ended: the whole answer is out, or the caller answered instead (cancelled).
      if (err === null || err === undefined || res.writableEnded) return;
      if (!res.headersSent) {
        const status = err instanceof ProxyTimeout ? 504 : 502;
        const body = status === 504 ? 'the origin did not answer in time\n' : 'the origin cannot be reached\n';
        res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), Connection: 'close' }).end(body);
        onBytes(Buffer.byteLength(body));
      } else {
        res.destroy(); // the status line is out: the client must see a cut response, not a complete one
      }
    };
    upstream.on('response', (answer) => {
      let headers: OutgoingHttpHeaders;
      try {
        headers = responseHeaders(answer);
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      } catch (err) {
        answer.resume();
        fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      answer.on('data', (chunk: Buffer) => onBytes(chunk.length));
      pipeline(answer, res, (err) => {
        if (err) upstream.destroy();
      });
    });
    // The request body streams as it arrives (pipe, not pipeline: an origin error must not destroy
    // the client's socket before the 502 is written); a client that goes away aborts upstream.
    upstream.on('error', fail);
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    return () => upstream.destroy();
  }

  close(): void {
    this.agent.destroy();
  }
}

class ProxyTimeout extends Error {
  constructor() {
    super('origin timeout');
  }
}

/** Names the Connection header lists, which are hop-by-hop for this one connection. */
function connectionTokens(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    text
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ''),
  );
}

function requestHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const dropped = connectionTokens(req.headers.connection);
  const headers: Record<string, string | string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    // Expect: node already answered 100-continue to the client.
    if (HOP_BY_HOP.has(lower) || dropped.has(lower) || lower === 'expect' || lower.startsWith('x-forwarded-')) continue;
    const value = raw[i + 1] as string;
    const previous = headers[lower];
    headers[lower] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  const client = clientAddress(req.socket.remoteAddress);
  const forwardedFor = req.headers['x-forwarded-for'];
  // Keep what earlier proxies recorded, as every proxy does; the origin decides whom to trust.
  headers['x-forwarded-for'] = forwardedFor === undefined || forwardedFor === '' ? client : `${forwardedFor}, ${client}`;
  headers['x-forwarded-proto'] = 'http';
  if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
  return headers;
}

function responseHeaders(answer: IncomingMessage): OutgoingHttpHeaders {
  const dropped = connectionTokens(answer.headers.connection);
  const headers: Record<string, string | string[]> = {};
  const raw = answer.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const lower = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(lower) || dropped.has(lower)) continue;
    const value = raw[i + 1] as string;
    const previous = headers[lower];
    headers[lower] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return headers;
}

function clientAddress(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
