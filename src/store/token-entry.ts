/**
 * What every backend's TokenStore checks (src/store/types.ts): a key authorization published only for its own
 * token and a plausible name, a positive lifetime, and stored entries read back only when they are whole and
 * well-formed (a store others can write to must not make serve-challenge answer anything else).
 */
import { assertSafeToken } from '../challenge/token.js';
import { CertmanError } from '../errors.js';
import { parseJsonOrUndefined } from './json.js';

const KEY_AUTHORIZATION = /^[A-Za-z0-9_-]{1,128}\.[A-Za-z0-9_-]{1,128}$/;
const DOMAIN = /^[a-z0-9._:-]{1,253}$/;

/** The stored form of a pending token (a JSON document in every backend). */
export interface TokenEntry {
  token: string;
  keyAuthorization: string;
  domain: string;
  /** Epoch milliseconds after which the entry is ignored and may be removed. */
  expiresAt: number;
}

/** The entry put() stores for these arguments, or a CertmanError saying which one is refused. */
export function newTokenEntry(token: string, keyAuthorization: string, domain: string, ttlMs: number, now: number): TokenEntry {
  assertSafeToken(token);
  if (!KEY_AUTHORIZATION.test(keyAuthorization) || keyAuthorization.split('.')[0] !== token) {
    throw new CertmanError(`refusing to publish a key authorization that does not belong to token ${token}`);
  }
  const name = domain.toLowerCase();
  if (!DOMAIN.test(name)) throw new CertmanError(`refusing to publish a token for an invalid name: ${JSON.stringify(domain.slice(0, 64))}`);
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new CertmanError(`token lifetime must be positive, not ${ttlMs}`);
  return { token, keyAuthorization, domain: name, expiresAt: now + ttlMs };
}

/** The exact text a backend stores for an entry. */
export function encodeTokenEntry(entry: TokenEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

/** A stored entry for `token`, or undefined when it is not JSON, names another token or is malformed. */
export function parseTokenEntry(text: string, token: string): TokenEntry | undefined {
  const value = parseJsonOrUndefined(text);
  if (typeof value !== 'object' || value === null) return undefined;
  const entry = value as Partial<Record<keyof TokenEntry, unknown>>;
  if (entry.token !== token) return undefined;
  if (typeof entry.keyAuthorization !== 'string' || !KEY_AUTHORIZATION.test(entry.keyAuthorization)) return undefined;
  if (typeof entry.domain !== 'string' || !DOMAIN.test(entry.domain)) return undefined;
  if (typeof entry.expiresAt !== 'number' || !Number.isFinite(entry.expiresAt)) return undefined;
  return { token, keyAuthorization: entry.keyAuthorization, domain: entry.domain, expiresAt: entry.expiresAt };
}
