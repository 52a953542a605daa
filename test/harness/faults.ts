// A fault-injecting front for Pebble: a reverse proxy (reverse-proxy.ts) that passes every request on,
// except those a test has armed a fault for. Endpoints are matched on the URLs Pebble hands out: the
// directory's (newNonce, newAccount, newOrder, revokeCert, keyChange) and those learned from its answers (each
// order's finalize and certificate URLs), so nothing here knows Pebble's paths.
import type { ServerResponse } from 'node:http';

import { linksOf } from '../../src/acme/link.js';
import type { PebbleEnv } from './pebble.js';
import { copyHeaders, freshNonce, relay, sendJson, startReverseProxy, type Forward, type ProxiedRequest, type UpstreamAnswer } from './reverse-proxy.js';

export type Endpoint = 'directory' | 'newNonce' | 'newAccount' | 'newOrder' | 'revokeCert' | 'keyChange' | 'finalize' | 'certificate' | 'alternate' | 'other';

export type Fault =
  /**
   * Answered by the proxy, Pebble never sees the request: `status` with a problem document (429: a
   * rateLimited one with `detail`) and Retry-After when given. Answers to a POST carry a fresh nonce. With
   * `afterPebble`, Pebble carries the request out first and its answer is replaced (an answer lost on the way).
   */
  | { kind: 'status'; status: number; retryAfter?: string; detail?: string; afterPebble?: boolean }
  /** The connection is closed without an answer; with `afterPebble`, once Pebble has carried the request out. */
  | { kind: 'drop'; afterPebble?: boolean }
  /** No answer ever (until the client gives up or the proxy stops). */
  | { kind: 'stall' }
  /** Pebble's answer, `ms` late. */
  | { kind: 'delay'; ms: number }
  /** Pebble's status and headers at once, then its body one byte every `everyMs`. */
  | { kind: 'trickle'; everyMs: number }
  /** Waits for the test's release() (see hold()), then passes the request on. */
  | { kind: 'hold' };

export interface Hold {
  /** Resolves when the held request has arrived. */
  arrived: Promise<void>;
  /** Lets it go on to Pebble. */
  release(): void;
}

export interface FaultProxy {
  /** https://127.0.0.1:<proxy port>/dir: use it as certman's server (with pebble.caFile as CA). */
  directoryUrl: string;
  /** The next `times` requests to `endpoint` get `fault` (default: every one until clear()); then they pass. */
  inject(endpoint: Endpoint, fault: Fault, times?: number): void;
  /** Holds the next request to `endpoint` until released. */
  hold(endpoint: Endpoint): Hold;
  /** Requests that reached the proxy for `endpoint` since the last clear(), faulted or not. */
  seen(endpoint: Endpoint): number;
  /** Disarms every fault, lets held requests go and resets the counts. */
  clear(): void;
  stop(): Promise<void>;
}

interface Armed {
  fault: Fault;
  left: number;
  onArrival?: () => void;
  released?: Promise<void>;
}

const RATE_LIMITED = 'urn:ietf:params:acme:error:rateLimited';

export async function startFaultProxy(pebble: PebbleEnv): Promise<FaultProxy> {
  const armed = new Map<Endpoint, Armed[]>();
  const counts = new Map<Endpoint, number>();
  const learned = { finalize: new Set<string>(), certificate: new Set<string>(), alternate: new Set<string>() };
  const releases = new Set<() => void>();
  let paths: Map<string, Endpoint> = new Map();

  const endpointOf = (req: ProxiedRequest): Endpoint => {
    if (learned.finalize.has(req.pathname)) return 'finalize';
    if (learned.certificate.has(req.pathname)) return 'certificate';
    if (learned.alternate.has(req.pathname)) return 'alternate';
    return paths.get(req.pathname) ?? 'other';
  };

  /** Takes the fault for this request, if one is armed, counting it down. */
  const take = (endpoint: Endpoint): Armed | undefined => {
    const queue = armed.get(endpoint);
    const next = queue?.[0];
    if (queue === undefined || next === undefined) return undefined;
    next.left -= 1;
    if (next.left <= 0) queue.shift();
    return next;
  };

  /**
   * Remembers each order's finalize and certificate URLs from the JSON Pebble answers with, and the alternate
   * chains' URLs from the Link headers of a certificate download.
   */
  const learn = (answer: UpstreamAnswer): void => {
    // Only the paths count: the links name the proxy's origin, not this base.
    const { urls, refused } = linksOf(answer.headers.link, 'alternate', 'https://pebble.test/');
    for (const target of [...urls, ...refused]) if (URL.canParse(target, 'https://pebble.test/')) learned.alternate.add(new URL(target, 'https://pebble.test/').pathname);
    if (!String(answer.headers['content-type'] ?? '').includes('json')) return;
    try {
      const body = JSON.parse(answer.body.toString('utf8')) as { finalize?: unknown; certificate?: unknown };
      if (typeof body.finalize === 'string') learned.finalize.add(new URL(body.finalize).pathname);
      if (typeof body.certificate === 'string') learned.certificate.add(new URL(body.certificate).pathname);
    } catch {
      // not an order
    }
  };

  const passOn = async (req: ProxiedRequest, res: ServerResponse, forward: Forward): Promise<void> => {
    const answer = await forward(req);
    learn(answer);
    relay(res, req.method, answer);
  };

  const answerStatus = async (req: ProxiedRequest, res: ServerResponse, forward: Forward, fault: Extract<Fault, { kind: 'status' }>): Promise<void> => {
    const headers: Record<string, string> = {
      'content-type': 'application/problem+json',
      ...(fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter }),
      ...(req.method === 'POST' ? await freshNonce(forward, proxy.directory, req.host) : {}),
    };
    const type = fault.status === 429 ? RATE_LIMITED : 'urn:ietf:params:acme:error:serverInternal';
    sendJson(res, fault.status, { type, detail: fault.detail ?? `injected HTTP ${fault.status}`, status: fault.status }, headers);
  };

  const trickle = async (req: ProxiedRequest, res: ServerResponse, forward: Forward, everyMs: number): Promise<void> => {
    const answer = await forward(req);
    learn(answer);
    res.writeHead(answer.status, { ...copyHeaders(answer.headers, ['content-length']), 'content-length': String(answer.body.length), connection: 'close' });
    for (const byte of answer.body) {
      if (res.destroyed) return;
      res.write(Buffer.from([byte]));
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
    res.end();
  };

  const proxy = await startReverseProxy(pebble, async (req, res, forward) => {
    const endpoint = endpointOf(req);
    counts.set(endpoint, (counts.get(endpoint) ?? 0) + 1);
    const armedFault = take(endpoint);
    const fault = armedFault?.fault;
    switch (fault?.kind) {
      case undefined:
        return passOn(req, res, forward);
      case 'status':
        if (fault.afterPebble === true) await forward(req).then(learn);
        return answerStatus(req, res, forward, fault);
      case 'drop':
        if (fault.afterPebble === true) await forward(req).then(learn);
        res.socket?.destroy();
        return;
      case 'stall':
        return;
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        return passOn(req, res, forward);
      case 'trickle':
        return trickle(req, res, forward, fault.everyMs);
      case 'hold':
        armedFault?.onArrival?.();
        await armedFault?.released;
        return passOn(req, res, forward);
    }
  });
  paths = new Map<string, Endpoint>([
    [new URL(proxy.directoryUrl).pathname, 'directory'],
    ...(['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange'] as const).map((name): [string, Endpoint] => [new URL(String(proxy.directory[name])).pathname, name]),
  ]);

  const arm = (endpoint: Endpoint, entry: Armed): void => {
    armed.set(endpoint, [...(armed.get(endpoint) ?? []), entry]);
  };

  return {
    directoryUrl: proxy.directoryUrl,
    inject(endpoint, fault, times = Number.POSITIVE_INFINITY) {
      arm(endpoint, { fault, left: times });
    },
    hold(endpoint) {
      let arrive = (): void => undefined;
      let release = (): void => undefined;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      releases.add(release);
      arm(endpoint, { fault: { kind: 'hold' }, left: 1, onArrival: arrive, released });
      return { arrived, release };
    },
    seen: (endpoint) => counts.get(endpoint) ?? 0,
    clear() {
      armed.clear();
      counts.clear();
      for (const release of releases) release();
      releases.clear();
    },
    stop() {
      for (const release of releases) release();
      return proxy.stop();
    },
  };
}
