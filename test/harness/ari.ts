// An ARI (RFC 9773) front for Pebble 2.4, which has no renewalInfo: a reverse proxy (reverse-proxy.ts)
// that passes every request to Pebble with the Host header it received, and adds:
//   GET /dir                      Pebble's directory plus "renewalInfo": "https://<proxy>/renewal-info"
//                                 (and meta.caaIdentities and meta.profiles when the test sets them)
//   GET /renewal-info/<certId>    the window the test set (404 when none)
// It also records newOrder payloads and can answer one `replaces` order with 409 alreadyReplaced.
import type { ServerResponse } from 'node:http';

import type { PebbleEnv } from './pebble.js';
import { copyHeaders, freshNonce, jwsPayload, relay, sendJson, startReverseProxy } from './reverse-proxy.js';

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
  /**
   * The directory's meta.profiles, name → description (draft-ietf-acme-profiles; Pebble 2.4 has none, and
   * ignores the `profile` of a new order, which newOrderPayloads records); undefined removes them.
   */
  setProfiles(profiles: Record<string, string> | undefined): void;
  stop(): Promise<void>;
}

interface Answer {
  window: AriWindow;
  retryAfterSeconds: number | undefined;
}

/** Starts the proxy on a free 127.0.0.1 port with Pebble's own listener certificate. */
export async function startAriProxy(pebble: PebbleEnv): Promise<AriProxy> {
  let defaultAnswer: Answer | undefined;
  const perCert = new Map<string, Answer>();
  const asked: string[] = [];
  const orders: unknown[] = [];
  let conflict = false;
  let caaIdentities: string[] | undefined;
  let profiles: Record<string, string> | undefined;

  const sendWindow = (res: ServerResponse, certId: string): void => {
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
  };

  const proxy = await startReverseProxy(pebble, async (req, res, forward) => {
    const { method, pathname, host, body } = req;
    if (method === 'GET' && pathname.startsWith('/renewal-info/')) {
      sendWindow(res, decodeURIComponent(pathname.slice('/renewal-info/'.length)));
      return;
    }

    const isNewOrder = method === 'POST' && pathname === newOrderPath;
    if (isNewOrder) {
      const payload = jwsPayload(body);
      const replaces = typeof payload === 'object' && payload !== null && 'replaces' in payload;
      if (conflict && replaces) {
        conflict = false;
        orders.push(payload);
        sendJson(
          res,
          409,
          { type: 'urn:ietf:params:acme:error:alreadyReplaced', detail: 'the certificate named in "replaces" was already replaced', status: 409 },
          { 'content-type': 'application/problem+json', ...(await freshNonce(forward, proxy.directory, host)) },
        );
        return;
      }
    }

    const answer = await forward(req);
    // A request Pebble refused for its nonce is sent again by the client: record the order once.
    if (isNewOrder && !answer.body.toString('utf8').includes('urn:ietf:params:acme:error:badNonce')) orders.push(jwsPayload(body));
    if (method === 'GET' && pathname === directoryPath && answer.status === 200) {
      const dir = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
      dir.renewalInfo = `https://${host}/renewal-info`;
      if (caaIdentities !== undefined) dir.meta = { ...(dir.meta as Record<string, unknown> | undefined), caaIdentities };
      if (profiles !== undefined) dir.meta = { ...(dir.meta as Record<string, unknown> | undefined), profiles };
      sendJson(res, 200, dir, { ...(copyHeaders(answer.headers, ['content-length', 'content-type']) as Record<string, string>) });
      return;
    }
    relay(res, method, answer);
  });
  const directoryPath = new URL(proxy.directoryUrl).pathname;
  const newOrderPath = new URL(String(proxy.directory.newOrder)).pathname;

  return {
    directoryUrl: proxy.directoryUrl,
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
    setProfiles(offered) {
      profiles = offered === undefined ? undefined : { ...offered };
    },
    conflictOnReplaces(enabled) {
      conflict = enabled;
    },
    stop: () => proxy.stop(),
  };
}
