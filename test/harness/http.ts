// Minimal HTTP(S) client for the harness (no dependencies): Node's global
// fetch cannot be given a private CA, so this wraps node:http / node:https.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpOptions {
  method?: string;
  /** Sent as-is; objects are JSON-encoded. */
  body?: string | object;
  headers?: Record<string, string>;
  /** PEM of the CA that must have signed an https server's certificate. */
  ca?: string;
  timeoutMs?: number;
}

/** Performs one request and buffers the whole response body as UTF-8 text. */
export function httpRequestText(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const target = new URL(url);
  const isHttps = target.protocol === 'https:';
  const payload =
    options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = { connection: 'close', ...options.headers };
  if (payload !== undefined) {
    headers['content-length'] = String(Buffer.byteLength(payload));
    if (typeof options.body === 'object') headers['content-type'] ??= 'application/json';
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    };
    const common = { method: options.method ?? 'GET', headers, timeout: timeoutMs, agent: false as const };
    const req = isHttps
      ? httpsRequest(target, { ...common, ...(options.ca !== undefined ? { ca: options.ca } : {}) }, onResponse)
      : httpRequest(target, common, onResponse);
    req.on('timeout', () => req.destroy(new Error(`${common.method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/**
 * Sends bytes verbatim to 127.0.0.1:port (no client-side normalisation of paths or headers) and
 * resolves with everything received until the server closes the connection or `waitMs` passes.
 */
export function rawHttp(port: number, text: string, waitMs = 5000, encoding: BufferEncoding = 'latin1'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.setEncoding(encoding).on('data', (c: string) => (got += c));
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.on('error', () => undefined);
    socket.write(text);
  });
}
