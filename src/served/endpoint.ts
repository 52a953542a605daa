/**
 * Which TLS endpoints serve a certificate: `host[:port]` as operators write them (`[2001:db8::1]:8443` for IPv6),
 * and the list one certificate is checked at. Pure and light: the config validator imports it.
 */
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { canonicalIp } from '../dns/nameserver.js';
import { isIpIdentifier } from '../dns/ip.js';
import { splitHostPort } from '../dns/host-port.js';
import type { Endpoint } from './types.js';

export const HTTPS_PORT = 443;

const EXPECTED = 'expected host[:port], e.g. www.example.com, 127.0.0.1:8443, [2001:db8::1]:443';
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*$/i;

/** Where an endpoint is, before a name is chosen for it. */
export type EndpointAddress = Pick<Endpoint, 'host' | 'port'>;

/** Why `text` is not `host[:port]`, or undefined. */
export function endpointProblem(text: string): string | undefined {
  return parse(text.trim()).problem;
}

/** `host[:port]` (port 443 when absent), host lowercased, an IP address in its one spelling; UsageError otherwise. */
export function parseEndpoint(text: string): EndpointAddress {
  const parsed = parse(text.trim());
  if (parsed.address === undefined) throw new UsageError(`invalid endpoint ${JSON.stringify(text)}: ${parsed.problem ?? EXPECTED}`);
  return parsed.address;
}

function parse(text: string): { address?: EndpointAddress; problem?: string } {
  const split = splitHostPort(text, HTTPS_PORT);
  if ('problem' in split) return split;
  const { host, port } = split;
  if (host.includes('%')) return { problem: 'a zone id ("%…") is not accepted' };
  const ip = isIP(host) === 0 ? undefined : canonicalIp(host);
  if (ip === undefined && !HOST_NAME.test(host)) return { problem: EXPECTED };
  return { address: { host: ip ?? host.toLowerCase(), port } };
}

/** Endpoints as configured: one list for every certificate, and lists for some certificates by name. */
export interface EndpointsConfig {
  all?: string[];
  byName?: Record<string, string[]>;
}

/** Config `endpoints` (validated): a list is for every certificate; in a map, `"*"` is for those not named. */
export function endpointsConfig(value: string[] | Record<string, string[]>): EndpointsConfig {
  if (Array.isArray(value)) return { all: value };
  const { '*': all, ...byName } = value;
  return { ...(all === undefined ? {} : { all }), byName };
}

/**
 * The endpoints `name` is checked at: the certificate's own list (`--endpoint` given when it was issued), else the
 * config's list for it by name, else the config's list for all, else each of its names on port 443 (wildcards
 * left out: no host answers to `*`). Each endpoint asks for the certificate's name it is for, if it is one of them,
 * else for the certificate's first name (SNI carries host names only: none for an address).
 */
export function endpointsFor(
  cert: { name: string; domains: readonly string[]; endpoints?: readonly string[] },
  config: EndpointsConfig | undefined,
): Endpoint[] {
  const listed = cert.endpoints ?? config?.byName?.[cert.name] ?? config?.all;
  const addresses = listed === undefined
    ? cert.domains.filter((domain) => !domain.startsWith('*.')).map((host) => ({ host, port: HTTPS_PORT }))
    : listed.map(parseEndpoint);
  const fallback = cert.domains.find((domain) => !isIpIdentifier(domain) && !domain.startsWith('*.'));
  return addresses.map((address) => {
    const own = cert.domains.includes(address.host) && !isIpIdentifier(address.host) ? address.host : fallback;
    return own === undefined ? address : { ...address, servername: own };
  });
}
