/**
 * Nameserver addresses as given by people (`1.2.3.4`, `1.2.3.4:5353`, `[2001:db8::1]:53`, `::1`) and IP
 * address comparison. Pure and light: the config validator imports it, so it must not load dns2.
 */
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { splitHostPort } from './host-port.js';

export const DNS_PORT = 53;

export interface Nameserver {
  /** IP literal, without brackets. */
  host: string;
  port: number;
  family: 4 | 6;
}

const EXPECTED = 'expected an IP address with an optional port, e.g. 192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53';

/** Why `spec` is not `ip[:port]`, or undefined when it is. Host names are refused: the point is to name the server exactly. */
export function nameserverProblem(spec: string): string | undefined {
  return parse(spec.trim()).problem;
}

/** `ip[:port]` → host, port (default 53) and family; UsageError `invalid resolver "<spec>": …` otherwise. */
export function parseNameserver(spec: string): Nameserver {
  const parsed = parse(spec.trim());
  if (parsed.server === undefined) throw new UsageError(`invalid resolver ${JSON.stringify(spec)}: ${parsed.problem ?? EXPECTED}`);
  return parsed.server;
}

/** `192.0.2.53:53`, `[2001:db8::53]:53`: how messages and the table name a server. */
export function formatNameserver(server: Nameserver): string {
  return server.family === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

function parse(spec: string): { server?: Nameserver; problem?: string } {
  const split = splitHostPort(spec, DNS_PORT);
  if ('problem' in split) return split;
  const family = isIP(split.host);
  if (family === 0) return { problem: EXPECTED };
  // One spelling, so the answer's source address matches the server we asked (dns2 drops any other).
  return { server: { host: canonicalIp(split.host) ?? split.host, port: split.port, family: family === 6 ? 6 : 4 } };
}

/**
 * `nameserver` lines of resolv.conf(5), in order. Without any, resolv.conf's own default applies: the
 * name server on the local machine.
 */
export function parseResolvConf(text: string): Nameserver[] {
  const servers: Nameserver[] = [];
  for (const line of text.split('\n')) {
    const [keyword, address] = line.trim().split(/\s+/);
    if (keyword !== 'nameserver' || address === undefined) continue;
    // resolv.conf has no port syntax: the value is a bare IPv4 or IPv6 address.
    const family = isIP(address);
    if (family !== 0) servers.push({ host: address, port: DNS_PORT, family: family === 6 ? 6 : 4 });
  }
  return servers.length > 0 ? servers : [{ host: '127.0.0.1', port: DNS_PORT, family: 4 }];
}

/**
 * One spelling per address, so `::1`, `0::1` and `0:0:0:0:0:0:0:1` compare equal (WHATWG URL host
 * serialization is the RFC 5952 form). Undefined when `value` is not an IP address.
 */
export function canonicalIp(value: string): string | undefined {
  const ip = value.trim();
  switch (isIP(ip)) {
    case 4:
      return ip;
    case 6:
      try {
        return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
      } catch {
        return undefined;
      }
    default:
      return undefined;
  }
}
