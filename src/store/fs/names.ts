/**
 * Turning user input (certificate names, ACME directory URLs) into safe path components.
 */
import { UsageError } from '../../errors.js';

const NAME_PATTERN = /^[a-z0-9*][a-z0-9.*_-]*$/i;

/** renewal/<name>.json must fit in one path component (NAME_MAX is 255 bytes on common filesystems). */
export const MAX_NAME_LENGTH = 255 - '.json'.length;

/**
 * A certificate (lineage) name is one folder name under live/ and archive/: letters, digits,
 * `.`, `*`, `_`, `-`, starting with a letter, digit or `*`, at most 250 characters, and never
 * containing `..` (so `.`, `..`, `a/b` and `../x` are all impossible).
 */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(name) && !name.includes('..');
}

/** Returns `name` if it is a valid certificate name, else throws a UsageError. */
export function validateName(name: string): string {
  if (!isValidName(name)) {
    throw new UsageError(
      `invalid certificate name ${JSON.stringify(name)}`,
      'Names may contain letters, digits, ".", "*", "_" and "-", must start with a letter, digit or "*", ' +
        `must not contain ".." and are at most ${MAX_NAME_LENGTH} characters long.`,
    );
  }
  return name;
}

/** File names the account folder uses; a path segment equal to one of them is escaped. */
const RESERVED_SEGMENTS = new Set(['account.json', 'private_key.pem', 'private_key.pending.pem']);

function safeSegment(raw: string): string {
  let seg = raw.replace(/[^A-Za-z0-9._-]/g, '_');
  // No ".", "..", hidden or temp names: a leading dot becomes "_".
  if (seg.startsWith('.')) seg = `_${seg.slice(1)}`;
  if (RESERVED_SEGMENTS.has(seg.toLowerCase())) seg = `_${seg}`;
  return seg;
}

/** Parses an ACME directory URL (http or https only), else throws a UsageError. */
export function parseServerUrl(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`invalid ACME server URL ${JSON.stringify(server)}`, 'Use an absolute https:// directory URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`unsupported ACME server URL ${JSON.stringify(server)}`, 'Use an absolute https:// directory URL.');
  }
  return url;
}

/** Whether two ACME directory URLs name the same directory (a store key may be shared by URLs it escapes alike). */
export function sameServer(a: string, b: string): boolean {
  try {
    return parseServerUrl(a).href === parseServerUrl(b).href;
  } catch {
    return false;
  }
}

/**
 * The relative folder (segments joined with "/") under accounts/ that holds the account of an
 * ACME directory: host, `_port` when not the scheme's default, then each non-empty path segment,
 * e.g. `https://acme-v02.api.letsencrypt.org/directory` → `acme-v02.api.letsencrypt.org/directory`,
 * `https://localhost:14000/dir` → `localhost_14000/dir`. Characters outside `[A-Za-z0-9._-]`
 * become `_` and a leading `.` becomes `_`, so no segment can be `.`, `..` or hidden.
 * Query and fragment are ignored; the scheme is too (http and https of one host share a key).
 */
export function serverKey(server: string): string {
  const url = parseServerUrl(server);
  const host = url.hostname.toLowerCase() + (url.port === '' ? '' : `_${url.port}`);
  const segments = [host, ...url.pathname.split('/').filter((s) => s !== '')].map((s) => {
    let decoded = s;
    try {
      decoded = decodeURIComponent(s);
    } catch {
      // keep the raw segment; safeSegment() escapes it anyway
    }
    return safeSegment(decoded);
  });
  return segments.join('/');
}
