import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { urlHost } from '../dns/ip.js';
import { CHALLENGE_PATH } from './types.js';

/** Turns a name into the addresses the CA would connect to; throws with a one-line reason. */
export type AddressLookup = (name: string) => Promise<string[]>;

export interface SelfCheckOptions {
  /** Port the CA validates on: 80 for real CAs, Pebble's httpPort in tests. */
  port: number;
  lookup: AddressLookup;
  timeoutMs?: number;
  /** Ctrl-C: the fetch in flight ends at once and the check rejects with the signal's reason. */
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 10;
const MAX_BODY = 4096;

/**
 * Fetches http://<domain>/.well-known/acme-challenge/<token> the way the CA will (same resolver,
 * same port, following redirects) and compares the body. Returns undefined when it answers with the
 * key authorization, otherwise what was seen, e.g. "connection refused on 127.0.0.1:80" or "HTTP 404".
 */
export async function selfCheck(domain: string, token: string, keyAuthorization: string, options: SelfCheckOptions): Promise<string | undefined> {
  // An IP identifier is fetched from the address itself, as the CA does (RFC 8738 §4), with it as the Host.
  let url = new URL(`http://${urlHost(domain)}${options.port === 80 ? '' : `:${options.port}`}${CHALLENGE_PATH}${token}`);
  const seen = new Set<string>();
  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    options.signal?.throwIfAborted();
    if (seen.has(url.href)) return `redirect loop at ${url.href}`;
    seen.add(url.href);
    let addresses: string[];
    try {
      addresses = isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0 ? [url.hostname.replace(/^\[|\]$/g, '')] : await options.lookup(url.hostname);
    } catch (err) {
      return `${url.hostname} does not resolve: ${(err as Error).message}`;
    }
    const address = addresses[0];
    if (address === undefined) return `${url.hostname} has no address`;
    const answer = await fetchOnce(url, address, options.timeoutMs ?? 5000, options.signal);
    options.signal?.throwIfAborted();
    if (typeof answer === 'string') return answer;
    const location = answer.headers.location;
    if (answer.status >= 300 && answer.status < 400 && location !== undefined) {
      url = new URL(location, url);
      continue;
    }
    if (answer.status !== 200) return `HTTP ${answer.status} from ${url.host} (${address})`;
    if (answer.body.trim() !== keyAuthorization) return `unexpected content from ${url.host} (${address}): ${JSON.stringify(answer.body.slice(0, 60))}`;
    return undefined;
  }
  return `more than ${MAX_REDIRECTS} redirects`;
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One GET to `address`, with the URL's host in the Host header (and SNI for https). */
function fetchOnce(url: URL, address: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<Answer | string> {
  const https = url.protocol === 'https:';
  const port = url.port === '' ? (https ? 443 : 80) : Number(url.port);
  const where = `${urlHost(address)}:${port}`;
  return new Promise((resolve) => {
    const options = {
      host: address,
      port,
      path: `${url.pathname}${url.search}`,
      headers: { Host: url.host, 'User-Agent': 'certman self-check' },
      timeout: timeoutMs,
      // The CA does not check certificates of an HTTPS redirect target for HTTP-01 (RFC 8555 §8.3).
      ...(https ? { servername: url.hostname, rejectUnauthorized: false } : {}),
      agent: false,
      ...(signal === undefined ? {} : { signal }),
    };
    const req = (https ? httpsRequest : httpRequest)(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < MAX_BODY) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', (err) => resolve(`${err.message} reading from ${where}`));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(`no answer from ${where} within ${Math.round(timeoutMs / 1000)} s`);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code === 'ECONNREFUSED' ? `connection refused on ${where}` : `${err.code ?? err.message} on ${where}`);
    });
    req.end();
  });
}
