import { AcmeProblemError, type Subproblem } from '../errors.js';
import { MAX_RATE_LIMIT_PAUSE_MS } from './rate-limited.js';

interface RawProblem {
  type?: unknown;
  detail?: unknown;
  status?: unknown;
  subproblems?: unknown;
  identifier?: { value?: unknown };
}

const HINTS: Record<string, string> = {
  rateLimited: 'the CA rate-limited this request (its detail says which limit); wait before trying again',
  accountDoesNotExist: 'the account is unknown to this server: run certman register',
  externalAccountRequired: 'this CA needs external account binding: pass --eab-kid and --eab-hmac-key',
  userActionRequired: 'the CA needs you to act (e.g. accept new terms of service): see the detail',
  unauthorized: 'the CA could not confirm control of the name: check DNS and that the challenge URL is reachable on port 80',
  connection: 'the CA could not connect to the name: check DNS, firewalls and that the challenge URL is reachable',
  dns: 'the CA could not resolve the name: check its DNS records',
  caa: "a CAA record forbids this CA from issuing for the name",
  rejectedIdentifier: 'the CA will not issue for this name',
  alreadyRevoked: 'the certificate was already revoked',
};

/**
 * Turns an RFC 7807/8555 problem document into a typed error, keeping the per-identifier subproblems
 * and, when the answer had a Retry-After, the time the CA said to ask again.
 */
export function problemError(body: unknown, status: number | undefined, fallback: string, retryAfter?: Date): AcmeProblemError {
  const raw = (typeof body === 'object' && body !== null ? body : {}) as RawProblem;
  const type = typeof raw.type === 'string' ? raw.type : 'about:blank';
  const detail = typeof raw.detail === 'string' ? raw.detail : fallback;
  const subproblems = Array.isArray(raw.subproblems) ? raw.subproblems.map(toSubproblem) : [];
  return new AcmeProblemError({ type, detail, status, subproblems, ...(retryAfter === undefined ? {} : { retryAfter }) }, hintFor(type, retryAfter));
}

/**
 * When a Retry-After of `waitMs` from `now` ends. Longer counts as a week, as everywhere in certman: a header of
 * 14 digits would make no valid Date, and the error carrying it could not even be reported.
 */
export function retryAfterTime(waitMs: number, now: number): Date {
  return new Date(now + Math.min(waitMs, MAX_RATE_LIMIT_PAUSE_MS));
}

export function hintFor(type: string, retryAfter?: Date): string | undefined {
  const hint = HINTS[type.replace('urn:ietf:params:acme:error:', '')];
  if (retryAfter === undefined) return hint;
  return `${hint ?? 'the CA refused the request'}; it says to try again after ${retryAfter.toISOString()}`;
}

export function toSubproblem(raw: RawProblem): Subproblem {
  const identifier = typeof raw.identifier?.value === 'string' ? raw.identifier.value : undefined;
  return {
    ...(identifier === undefined ? {} : { identifier }),
    type: typeof raw.type === 'string' ? raw.type : 'about:blank',
    detail: typeof raw.detail === 'string' ? raw.detail : 'no detail given',
  };
}
