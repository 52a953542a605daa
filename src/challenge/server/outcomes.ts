/**
 * What became of each request serve-challenge received, for the `certman_challenge_requests_total{outcome}`
 * counter: told from the kind of request target and the status it was answered with.
 */
import type { RequestTarget } from './path.js';

export const REQUEST_OUTCOMES = [
  /** A pending token's key authorization (200). */
  'answered',
  /** A token path with no pending token (or, with --check-host, not for that Host): 404. */
  'unknown_token',
  /** Another path, nothing to fall back to: 404. */
  'not_found',
  /** 301 to https (--redirect-https). */
  'redirected',
  /** Passed to the origin (--proxy-to), whatever it answered. */
  'proxied',
  /** An unusable target or Host header: 400. */
  'bad_request',
  /** A token path asked with another method than GET or HEAD: 405. */
  'method_not_allowed',
  /** Refused because its connection pipelined too many requests: 429. */
  'too_many_pipelined',
  /** The token store failed or did not answer in time: 503. */
  'store_error',
  /** The client left before the whole answer was out. */
  'abandoned',
] as const;

export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/** The outcome of a request to `kind` that ended with `status` (`finished`: the whole answer went out). */
export function outcomeOf(kind: RequestTarget['kind'], status: number, finished: boolean, proxied: boolean): RequestOutcome {
  if (!finished) return 'abandoned';
  if (status === 429) return 'too_many_pipelined';
  if (proxied) return 'proxied';
  switch (status) {
    case 200:
      return 'answered';
    case 301:
      return 'redirected';
    case 400:
      return 'bad_request';
    case 405:
      return 'method_not_allowed';
    case 503:
      return 'store_error';
    default:
      return kind === 'token' ? 'unknown_token' : 'not_found';
  }
}

/** One count per outcome, all present from the start (a counter that appears late breaks rate()). */
export function emptyOutcomes(): Record<RequestOutcome, number> {
  return Object.fromEntries(REQUEST_OUTCOMES.map((o) => [o, 0])) as Record<RequestOutcome, number>;
}
