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

/** Ranges no public CA can reach, with the word a message uses for each. */
const NON_PUBLIC: [range: string, prefix: number, family: 'ipv4' | 'ipv6', what: string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'ipv4', 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'ipv4', 'shared carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private (RFC 1918)'],
  ['192.168.0.0', 16, 'ipv4', 'private (RFC 1918)'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved or broadcast'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::ffff:0:0', 96, 'ipv6', 'IPv4-mapped (give the IPv4 address itself)'],
  ['fc00::', 7, 'ipv6', 'unique local (RFC 4193)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local (deprecated)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const RANGES = NON_PUBLIC.map(([range, prefix, family, what]) => {
  const list = new BlockList();
  list.addSubnet(range, prefix, family);
  return { list, family, what, cidr: `${range}/${prefix}` };
});

/**
 * Why a public CA could never validate this normalized address (private, loopback, link-local, unique local,
 * unspecified, multicast …), or undefined. Documentation ranges (192.0.2.0/24, 2001:db8::/32 …) pass: the CA
 * refuses them itself, and they are what examples use.
 */
export function nonPublicReason(ip: string): string | undefined {
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  const hit = RANGES.find((r) => r.family === family && r.list.check(ip, family));
  return hit === undefined ? undefined : `${hit.what}, ${hit.cidr}`;
}

/**
 * A test CA runs on this machine (its directory URL's host is loopback or `localhost`): it validates by
 * connecting here, so loopback and private addresses are what it is meant to be given.
 */
export function isTestCa(server: string): boolean {
  let host: string;
  try {
    host = new URL(server).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && nonPublicReason(host)?.startsWith('loopback') === true;
}

/**
 * Refuses (UsageError, exit 2) the first address a public CA cannot reach, unless the CA is a test CA or the
 * operator said `--allow-private-ip`.
 */
export function assertReachableIps(names: string[], server: string, allowPrivate: boolean): void {
  if (allowPrivate || isTestCa(server)) return;
  for (const name of names) {
    const reason = isIpIdentifier(name) ? nonPublicReason(name) : undefined;
    if (reason !== undefined) {
      throw new UsageError(`${name} is a ${reason} address: no public CA can validate it`, 'give a public address, or --allow-private-ip for a CA inside your network');
    }
  }
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
