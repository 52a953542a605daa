import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import type { MetricsAddress } from '../metrics/listener.js';
import { parsePort } from './parse.js';

/** `ip:port`, an IPv6 address in brackets (`[::1]:9402`): where a listener binds. Exit 2 for anything else. */
export function parseListenAddress(value: string, flag: string): MetricsAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):([^:]*)$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const family = host === undefined ? 0 : isIP(host);
  // A bracketed host must be IPv6, a bare one IPv4 (a bare IPv6 has colons the port cannot be told from).
  if (match === null || host === undefined || family === 0 || (match[1] !== undefined) !== (family === 6)) {
    throw new UsageError(`${flag} must be an IP address and port such as 127.0.0.1:9402 or [::1]:9402, not "${value}"`);
  }
  return { host, port: parsePort(match[3] ?? '', flag) };
}
