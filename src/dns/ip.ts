/**
 * IP address identifiers (RFC 8738): their one spelling, which addresses a public CA can never validate, and
 * how an address becomes a lineage name. Pure and light (names.ts and the config validator import it).
 */
import { BlockList, isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { canonicalIp } from './nameserver.js';

/**
 * `value` as an IP identifier in its one spelling (IPv4 dotted quad; IPv6 compressed lower case, RFC 5952 §4),
 * brackets (`[2001:db8::1]`) removed; undefined when it is not an IP address (a DNS name, or nothing valid).
 * A zone id (`fe80::1%eth0`) names an interface of this host, never something a CA can reach: UsageError.
 */
export function ipIdentifier(value: string): string | undefined {
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (isIP(bare) === 0) return undefined;
  if (bare.includes('%')) {
    throw new UsageError(`invalid IP address ${JSON.stringify(value)}: a zone id ("%…") names a local interface`, `use the address without it: ${bare.split('%')[0] ?? ''}`);
  }
  return canonicalIp(bare);
}

/** Whether a normalized identifier is an IP address (else a DNS name). */
export function isIpIdentifier(name: string): boolean {
  return isIP(name) !== 0;
}

/** The ACME identifier (RFC 8555 §7.1.3, RFC 8738 §3) of a normalized name. */
export function acmeIdentifier(name: string): { type: 'dns' | 'ip'; value: string } {
  return { type: isIpIdentifier(name) ? 'ip' : 'dns', value: name };
}

/** `name` as the host part of a URL or a Host header: IPv6 in brackets. */
export function urlHost(name: string): string {
  return isIP(name) === 6 ? `[${name}]` : name;
}

/** What a range no public CA can reach is, for decisions (isTestCa, the hint) rather than the message's words. */
export type RangeKind =
  | 'unspecified'
  | 'private'
  | 'shared'
  | 'loopback'
  | 'link-local'
  | 'multicast'
  | 'reserved'
  | 'ipv4-mapped'
  | 'ipv4-compatible'
  | 'unique-local'
  | 'site-local';

/** Ranges no public CA can reach, with the words a message uses for each; the first that holds an address wins. */
const NON_PUBLIC: [range: string, prefix: number, family: 'ipv4' | 'ipv6', kind: RangeKind, what: string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified', 'unspecified, "this network"'],
  ['10.0.0.0', 8, 'ipv4', 'private', 'private, RFC 1918'],
  ['100.64.0.0', 10, 'ipv4', 'shared', 'shared carrier-grade NAT, RFC 6598'],
  ['127.0.0.0', 8, 'ipv4', 'loopback', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private', 'private, RFC 1918'],
  ['192.168.0.0', 16, 'ipv4', 'private', 'private, RFC 1918'],
  ['224.0.0.0', 4, 'ipv4', 'multicast', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved', 'reserved or broadcast'],
  ['::', 128, 'ipv6', 'unspecified', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback', 'loopback'],
  // After :: and ::1, which it holds too.
  ['::', 96, 'ipv6', 'ipv4-compatible', 'IPv4-compatible, deprecated by RFC 4291'],
  ['::ffff:0:0', 96, 'ipv6', 'ipv4-mapped', 'IPv4-mapped'],
  ['fc00::', 7, 'ipv6', 'unique-local', 'unique local, RFC 4193'],
  ['fe80::', 10, 'ipv6', 'link-local', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local', 'site-local, deprecated'],
  ['ff00::', 8, 'ipv6', 'multicast', 'multicast'],
];

export interface NonPublicRange {
  kind: RangeKind;
  /** `10.0.0.0/8` */
  cidr: string;
  /** `private, RFC 1918` */
  what: string;
}

const RANGES = NON_PUBLIC.map(([range, prefix, family, kind, what]) => {
  const list = new BlockList();
  list.addSubnet(range, prefix, family);
  return { list, family, range: { kind, what, cidr: `${range}/${prefix}` } };
});

/**
 * The range of a normalized address that a public CA could never validate (private, loopback, link-local, unique
 * local, unspecified, multicast …), or undefined. Documentation ranges (192.0.2.0/24, 2001:db8::/32 …) pass: the
 * CA refuses them itself, and they are what examples use.
 */
export function nonPublicRange(ip: string): NonPublicRange | undefined {
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  return RANGES.find((r) => r.family === family && r.list.check(ip, family))?.range;
}

/** A URL's host (brackets allowed) is this machine: `localhost` or a loopback address. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[|\]$/g, '');
  return bare === 'localhost' || (isIP(bare) !== 0 && nonPublicRange(canonicalIp(bare) ?? bare)?.kind === 'loopback');
}

/**
 * A test CA runs on this machine (its directory URL's host is loopback, `localhost` or `*.localhost`): it
 * validates by connecting here, so loopback and private addresses are what it is meant to be given.
 */
export function isTestCa(server: string): boolean {
  let host: string;
  try {
    host = new URL(server).hostname.toLowerCase();
  } catch {
    return false;
  }
  return isLoopbackHost(host) || host.endsWith('.localhost');
}

/**
 * Refuses (UsageError, exit 2) the first address a public CA cannot reach, unless the CA is a test CA or the
 * operator said `--allow-private-ip`.
 */
export function assertReachableIps(names: string[], server: string, allowPrivate: boolean): void {
  if (allowPrivate || isTestCa(server)) return;
  for (const name of names) {
    const range = isIpIdentifier(name) ? nonPublicRange(name) : undefined;
    if (range !== undefined) {
      const embedded = range.kind === 'ipv4-mapped' || range.kind === 'ipv4-compatible' ? `give the IPv4 address itself (${embeddedIpv4(name)}), ` : 'give a public address, ';
      throw new UsageError(`${name} is in ${range.cidr} (${range.what}): no public CA can validate it`, `${embedded}or --allow-private-ip for a CA inside your network`);
    }
  }
}

/** The IPv4 address in the last 32 bits of a normalized IPv6 address (`::ffff:7f00:1` → `127.0.0.1`). */
function embeddedIpv4(ip: string): string {
  const [high = 0, low = 0] = ip.split(':').slice(-2).map((group) => Number.parseInt(group === '' ? '0' : group, 16));
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/**
 * The default lineage name of an address, one folder name on every filesystem: IPv4 as is (`203.0.113.7`);
 * IPv6 with each `:` as `-`, and a leading `0` when it starts with `::` (`2001:db8::1` → `2001-db8--1`,
 * `::1` → `0--1`: `0::1` is the same address). DNS names have a dot and no all-numeric last label, so no DNS
 * name is ever given one of these names, and the IPv6 text has no `-`, so the rule can be undone.
 */
export function ipLineageName(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const dashed = ip.replace(/:/g, '-');
  return dashed.startsWith('-') ? `0${dashed}` : dashed;
}
