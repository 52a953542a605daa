/**
 * `host[:port]` as people write it: an IPv6 address in brackets when a port follows (`[2001:db8::1]:53`), a bare
 * IPv6 address without one. Splits only; each caller decides which hosts it accepts.
 */
import { isIP } from 'node:net';

/** The host and port texts of `spec` (`defaultPort` when none is written), or why it cannot be split. */
export function splitHostPort(spec: string, defaultPort: number): { host: string; port: number } | { problem: string } {
  let host = spec;
  let port = String(defaultPort);
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(spec);
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    if (bracketed[2] !== undefined) port = bracketed[2];
    if (isIP(host) !== 6) return { problem: `"${host}" is not an IPv6 address` };
  } else if ((spec.match(/:/g) ?? []).length === 1) {
    [host = '', port = ''] = spec.split(':');
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return { problem: `port must be from 1 to 65535, not "${port}"` };
  return { host, port: Number(port) };
}
