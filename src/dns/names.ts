/**
 * Domain names (and IP addresses, RFC 8738) as given on the command line → the identifiers sent to the CA:
 * ASCII (punycode) DNS names, IP addresses in their one spelling (see ip.ts).
 */
import { domainToASCII } from 'node:url';
import { UsageError } from '../errors.js';
import { ipIdentifier, ipLineageName, isIpIdentifier } from './ip.js';

const MAX_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const WILDCARD_PREFIX = '*.';

/**
 * Splits repeated and comma-separated values (`-d a,b -d c`), trims, lowercases, drops one
 * trailing dot, converts internationalized names to punycode (UTS #46 via `domainToASCII`)
 * and removes duplicates (compared after normalization, first occurrence wins).
 * Empty pieces (`-d a,,b`, a trailing comma) are ignored.
 *
 * Throws UsageError `invalid domain name "<input>": <reason>` for the first bad name, and
 * "no domain names given" when nothing is left.
 */
export function normalizeDomains(input: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const value of input) {
    for (const piece of value.split(',')) {
      const raw = piece.trim();
      if (raw === '') continue;
      const name = normalizeOne(raw);
      if (!seen.has(name)) {
        seen.add(name);
        out.push(name);
      }
    }
  }
  if (out.length === 0) throw new UsageError('no domain names given (use -d <name>)');
  return out;
}

function normalizeOne(raw: string): string {
  const invalid = (reason: string, hint?: string): UsageError =>
    new UsageError(`invalid domain name ${JSON.stringify(raw)}: ${reason}`, hint);

  let name = raw.toLowerCase();
  const wildcard = name.startsWith(WILDCARD_PREFIX);
  if (wildcard) name = name.slice(WILDCARD_PREFIX.length);

  const ip = wildcard ? undefined : ipIdentifier(name);
  if (ip !== undefined) return ip;

  // Reject bad ASCII before domainToASCII, which would silently drop tabs and newlines.
  const badAscii = [...name].find((c) => c.charCodeAt(0) < 0x80 && !/[a-z0-9.*-]/.test(c));
  if (badAscii !== undefined) throw invalid(`contains ${describeChar(badAscii)} (only letters, digits and hyphens are allowed)`);

  if (!/^[\x20-\x7e]*$/.test(name)) {
    // Non-ASCII: let the WHATWG/UTS #46 mapping do the IDN conversion (and lowercasing).
    const ascii = domainToASCII(name);
    if (ascii === '') throw invalid('not a valid internationalized domain name');
    name = ascii;
  }
  if (name.endsWith('.')) name = name.slice(0, -1);

  const reason = dnsNameProblem(name, wildcard);
  if (reason !== undefined) throw invalid(reason);
  return wildcard ? WILDCARD_PREFIX + name : name;
}

/** Why an ASCII name (wildcard prefix already removed) is not a valid DNS name, if it is not. */
function dnsNameProblem(name: string, wildcard: boolean): string | undefined {
  if (name === '') return 'empty name';
  if (name.includes('*')) return 'a wildcard is only allowed as the whole first label ("*.example.com")';
  const total = name.length + (wildcard ? WILDCARD_PREFIX.length : 0);
  if (total > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} characters (${total})`;

  const labels = name.split('.');
  for (const label of labels) {
    if (label === '') return 'empty label (leading dot or two dots in a row)';
    const bad = /[^a-z0-9-]/.exec(label)?.[0];
    if (bad !== undefined) return `contains ${describeChar(bad)} (only letters, digits and hyphens are allowed)`;
    if (label.length > MAX_LABEL_LENGTH) return `label "${label}" is longer than ${MAX_LABEL_LENGTH} characters`;
    if (label.startsWith('-') || label.endsWith('-')) return `label "${label}" starts or ends with a hyphen`;
    if (label.slice(2, 4) === '--') {
      // "??--" labels are reserved for IDNA (RFC 5891 §4.2.3.1); only well-formed "xn--" is allowed.
      if (!label.startsWith('xn--')) return `label "${label}" has "--" in the third and fourth positions, which is reserved`;
      if (domainToASCII(label) !== label) return `label "${label}" is not valid punycode`;
    }
  }
  if (labels.length < 2) {
    return wildcard
      ? 'a wildcard needs at least two labels after "*." (e.g. *.example.com)'
      : 'needs at least two labels (e.g. example.com)';
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return 'the last label must not be all-numeric';
  return undefined;
}

function describeChar(char: string): string {
  if (char === ' ') return 'a space';
  if (char < ' ' || char === '\x7f') return `a control character (U+${char.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()})`;
  return `the character "${char}"`;
}

/**
 * HTTP-01 cannot validate wildcard names; throws a UsageError for the first one.
 * Expects normalized names (see normalizeDomains).
 */
export function assertHttp01Compatible(domains: string[]): void {
  const wildcard = domains.find((d) => d.startsWith(WILDCARD_PREFIX));
  if (wildcard === undefined) return;
  const base = wildcard.slice(WILDCARD_PREFIX.length);
  throw new UsageError(
    `"${wildcard}" is a wildcard name: wildcards need the DNS-01 challenge, which certman does not support yet`,
    `list the names explicitly instead, e.g. -d ${base} -d www.${base}`,
  );
}

/**
 * The default certificate (lineage) name: the first domain, like certbot, except that a
 * leading wildcard label becomes `_wildcard_` (`*.example.com` → `_wildcard_.example.com`)
 * so the folder name has no `*` and does not clash with a certificate for `example.com`
 * (certbot itself drops the `*.` and relies on a -0001 suffix when that clashes), and an IPv6
 * address has no `:` (see ipLineageName: `2001:db8::1` → `2001-db8--1`).
 * Expects normalized names; throws UsageError for an empty list.
 */
export function defaultCertName(domains: string[]): string {
  const first = domains[0];
  if (first === undefined) throw new UsageError('no domain names given (use -d <name>)');
  if (isIpIdentifier(first)) return ipLineageName(first);
  return first.startsWith(WILDCARD_PREFIX) ? `_wildcard_.${first.slice(WILDCARD_PREFIX.length)}` : first;
}
