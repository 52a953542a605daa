import { canonicalIp } from '../../dns/nameserver.js';
import { isSafeToken } from '../token.js';
import { CHALLENGE_PATH } from '../types.js';

/** What a request target asks for, decided before anything is looked up. */
export type RequestTarget =
  /** Exactly /.well-known/acme-challenge/<token> with a valid token: look it up in the store. */
  | { kind: 'token'; token: string }
  /**
   * Inside, or disguised as, the challenge folder without being a valid token (`..`, percent-encoding,
   * doubled slashes, backslashes …): always 404, never redirected or proxied.
   */
  | { kind: 'reject' }
  /** Anything else: the fallback (404, redirect to https, or the origin). */
  | { kind: 'other' }
  /** Not an origin-form target, or one no client sends (NUL, control characters, a fragment): 400. */
  | { kind: 'invalid' };

const CHALLENGE_DIR = CHALLENGE_PATH.slice(0, -1); // "/.well-known/acme-challenge"
/** Printable ASCII without space: what may appear in a request target (RFC 9112 §3.2). */
const TARGET_CHARS = /^[\x21-\x7e]+$/;

/**
 * Classifies a raw request target (`req.url`). Only the canonical spelling of a challenge path
 * reaches the store; the token is then one of [A-Za-z0-9_-]{1,128}, so a file name can be built
 * from it without any further decoding. Any other spelling that still *means* the challenge folder
 * once decoded and normalised is rejected instead of being passed on to a fallback.
 */
export function parseRequestTarget(url: string): RequestTarget {
  if (!url.startsWith('/') || !TARGET_CHARS.test(url) || url.includes('#')) return { kind: 'invalid' };
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (path.startsWith(CHALLENGE_PATH)) {
    const token = path.slice(CHALLENGE_PATH.length);
    return isSafeToken(token) ? { kind: 'token', token } : { kind: 'reject' };
  }
  const normal = normalizePath(path);
  if (normal === undefined) return { kind: 'invalid' };
  if (normal === CHALLENGE_DIR || normal.startsWith(CHALLENGE_PATH)) return { kind: 'reject' };
  return { kind: 'other' };
}

/**
 * The path as a lenient server might understand it: percent-decoded (up to three times, for double
 * encoding), backslashes as slashes, repeated slashes merged, dot segments resolved, lower case.
 * Undefined when it decodes to a NUL or another control character.
 */
export function normalizePath(path: string): string | undefined {
  let decoded = path;
  for (let i = 0; i < 3 && decoded.includes('%'); i++) decoded = decodeLenient(decoded);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(decoded)) return undefined;
  const segments: string[] = [];
  const parts = decoded.replace(/\\/g, '/').split('/');
  for (const [index, part] of parts.entries()) {
    if (part === '' || part === '.') {
      // A trailing slash is kept ("/a/" stays a folder), empty segments in between are merged.
      if (index === parts.length - 1 && index > 0) segments.push('');
      continue;
    }
    if (part === '..') {
      segments.pop();
      if (index === parts.length - 1) segments.push('');
      continue;
    }
    segments.push(part.toLowerCase());
  }
  return `/${segments.join('/')}`;
}

/** Decodes %XX escapes one by one; a malformed escape or invalid UTF-8 sequence stays as it is. */
function decodeLenient(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  });
}

/**
 * The host name of a Host header value: lower case, without port and trailing dot, IP addresses in
 * canonicalIp's one spelling, IPv6 without brackets. Undefined when the value is not a plausible `host[:port]`.
 */
export function hostName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:\[([0-9a-fA-F:.]{2,45})\]|([A-Za-z0-9._-]{1,253}))(?::(\d{1,5}))?$/.exec(header);
  if (match === null) return undefined;
  const name = (match[1] ?? match[2] ?? '').toLowerCase();
  // An IP address in the spelling a token's identifier has (`[0:0::1]:80` is `::1`).
  return canonicalIp(name) ?? (name.endsWith('.') ? name.slice(0, -1) : name);
}
