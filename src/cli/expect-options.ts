/**
 * `--expect-ip` and `--expect-cname`: where names must point (config expectIp, expectCname), for verify-dns and
 * the DNS gate of issue and renew. Given on the command line, they replace the configured ones (both kinds together).
 */
import { Option } from 'commander';
import { isIpIdentifier } from '../dns/ip.js';
import type { Expectations } from '../dns/verify.js';
import { UsageError } from '../errors.js';
import { collect } from './parse.js';

export interface ExpectFlags {
  expectIp: string[];
  expectCname: string[];
}

/** `--expect-ip`, repeatable (config expectIp). */
export function expectIpOption(): Option {
  return new Option('--expect-ip <ip>', 'every address of a name must be one of these; repeatable (config expectIp)').argParser(collect).default([]);
}

/** `--expect-cname`, repeatable (config expectCname). */
export function expectCnameOption(): Option {
  return new Option('--expect-cname <host>', "or the name's CNAME chain must reach one of these; repeatable (config expectCname)").argParser(collect).default([]);
}

/** The expectations: the flags' when any is given (checked: a bad value is exit 2), else the configured ones. */
export async function expectationsOf(flags: ExpectFlags, configured: { expectIp?: string[]; expectCname?: string[] }): Promise<Expectations> {
  const [{ normalizeDomains }, { canonicalIp }] = await Promise.all([import('../dns/names.js'), import('../dns/nameserver.js')]);
  const ips = splitValues(flags.expectIp).map((ip) => canonicalIp(ip) ?? badValue('--expect-ip', ip, 'not an IP address'));
  const cnames = splitValues(flags.expectCname).map((host) => flagName('--expect-cname', host, normalizeDomains));
  return ips.length > 0 || cnames.length > 0 ? { ips, cnames } : { ips: configured.expectIp ?? [], cnames: configured.expectCname ?? [] };
}

/** Repeated and comma-separated values, trimmed, empty pieces dropped. */
export function splitValues(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

function badValue(flag: string, value: string, why: string): never {
  throw new UsageError(`${flag}: ${JSON.stringify(value)} is ${why}`);
}

/** One DNS name given to `flag`, normalized like -d (lowercase, punycode); a bad one (or an address) names the flag. */
export function flagName(flag: string, value: string, normalize: (input: string[]) => string[]): string {
  let names: string[];
  try {
    names = normalize([value]);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${flag}: ${err.message}`, err.hint);
    throw err;
  }
  if (names.length !== 1) badValue(flag, value, 'not one DNS name');
  const name = names[0] as string;
  // -d takes addresses (RFC 8738); a CNAME target or a CAA issuer domain never is one.
  if (isIpIdentifier(name)) badValue(flag, value, 'an IP address, not a DNS name');
  return name;
}
