/**
 * Does each name point where it should, as a CA will see it? A and AAAA through the CNAME chain, then
 * CAA (see caa.ts). Pure logic over a DnsResolver, so tests can hand it a fake one.
 */
import { mapLimit } from '../concurrency.js';
import { caaDecision, DEFAULT_CA_IDENTITY, findRelevantCaa, formatCaaRecord, type CaaRecord } from './caa.js';
import { isIpIdentifier } from './ip.js';
import { canonicalIp } from './nameserver.js';
import { normalizeName, type DnsAnswer, type DnsRecord, type DnsResolver, type DnsStatus, type QueryType } from './resolver.js';

export interface NameVerdict {
  name: string;
  ok: boolean;
  /** Every A and AAAA address at the end of the chain, canonical form, sorted. */
  addresses: string[];
  /** The CNAME targets in order (the name itself not included). */
  cnameChain: string[];
  /** The relevant CAA set (`records` empty: none found) and whether it lets the CA issue; undefined when not checked. */
  caa: { records: string[]; allows: boolean } | undefined;
  /** Why the name fails; absent when it passes. */
  reason?: string;
  /** What a passing verdict did not check, and why. */
  note?: string;
}

export interface Expectations {
  /** The name's addresses must all be among these. */
  ips: string[];
  /** Or its CNAME chain must reach one of these. */
  cnames: string[];
}

export interface VerifyOptions {
  resolver: DnsResolver;
  /** The CA's CAA issuer domain names (any one suffices). Default letsencrypt.org. */
  caIdentities?: readonly string[];
  /** Names checked at the same time. Default 8. */
  concurrency?: number;
}

/** Longest CNAME chain followed (the CA gives up earlier than most resolvers would). */
export const MAX_CNAME_HOPS = 10;

export type ChainResult =
  | { ok: true; chain: string[]; records: DnsRecord[] }
  | { ok: false; chain: string[]; at: string; problem: DnsStatus | 'loop' | 'too-long'; detail?: string };

/**
 * Asks for `type` at `name` and follows CNAMEs: those in the answer first (a recursive resolver chases
 * them itself), then by asking for the last target when the answer stopped there. `records` are the
 * `type` records at the end of the chain; an empty list is "no data". NXDOMAIN anywhere in the chain,
 * SERVFAIL, a timeout, a loop or more than MAX_CNAME_HOPS targets fail.
 */
export async function followCnames(resolver: DnsResolver, name: string, type: QueryType): Promise<ChainResult> {
  let current = normalizeName(name);
  const chain: string[] = [];
  const seen = new Set([current]);
  for (;;) {
    const answer = await resolver.query(current, type);
    if (answer.status !== 'ok' && answer.status !== 'nodata' && answer.status !== 'nxdomain') {
      return { ok: false, chain, at: current, problem: answer.status, ...(answer.detail === undefined ? {} : { detail: answer.detail }) };
    }
    let advanced = false;
    for (;;) {
      const owner = current;
      const cname = answer.records.find((r): r is Extract<DnsRecord, { type: 'CNAME' }> => r.type === 'CNAME' && normalizeName(r.name) === owner);
      if (cname === undefined || type === 'CNAME') break;
      const target = normalizeName(cname.target);
      if (seen.has(target)) return { ok: false, chain: [...chain, target], at: target, problem: 'loop' };
      if (chain.length >= MAX_CNAME_HOPS) return { ok: false, chain, at: current, problem: 'too-long' };
      chain.push(target);
      seen.add(target);
      current = target;
      advanced = true;
    }
    const records = answer.records.filter((r) => r.type === type && normalizeName(r.name) === current);
    if (records.length > 0) return { ok: true, chain, records };
    if (answer.status === 'nxdomain') return { ok: false, chain, at: current, problem: 'nxdomain' };
    if (!advanced) return { ok: true, chain, records: [] };
  }
}

/** Checks every name (see NameVerdict); never rejects for DNS trouble, which is a failing verdict. */
export async function verifyNames(names: string[], expect: Expectations, options: VerifyOptions): Promise<NameVerdict[]> {
  const ips = new Set(expect.ips.map((ip) => canonicalIp(ip) ?? ip));
  const cnames = new Set(expect.cnames.map(normalizeName));
  const caIdentities = options.caIdentities ?? [DEFAULT_CA_IDENTITY];
  const resolver = memoized(options.resolver);
  return mapLimit(names, options.concurrency ?? 8, async (name) => (isIpIdentifier(name) ? ipVerdict(name) : verifyName(name, { ips, cnames }, caIdentities, resolver)));
}

/** An IP identifier (RFC 8738): the CA connects to the address itself, so there is no DNS and no CAA to check. */
function ipVerdict(ip: string): NameVerdict {
  return { name: ip, ok: true, addresses: [ip], cnameChain: [], caa: undefined, note: 'an IP address: no DNS or CAA to check' };
}

/** One lookup per name and type for the whole run: names under one parent share its CAA lookups. */
function memoized(resolver: DnsResolver): DnsResolver {
  const answers = new Map<string, Promise<DnsAnswer>>();
  return {
    label: resolver.label,
    close: () => resolver.close(),
    query(name, type) {
      const key = `${normalizeName(name)} ${type}`;
      let answer = answers.get(key);
      if (answer === undefined) answers.set(key, (answer = resolver.query(name, type)));
      return answer;
    },
  };
}

async function verifyName(
  name: string,
  expect: { ips: Set<string>; cnames: Set<string> },
  caIdentities: readonly string[],
  resolver: DnsResolver,
): Promise<NameVerdict> {
  const queried = normalizeName(name);
  const [a, aaaa] = await Promise.all([followCnames(resolver, queried, 'A'), followCnames(resolver, queried, 'AAAA')]);
  const addresses = [...new Set([a, aaaa].flatMap((r) => (r.ok ? r.records.flatMap(addressOf) : [])))].sort();
  const cnameChain = a.chain.length >= aaaa.chain.length ? a.chain : aaaa.chain;
  const verdict = (reason: string | undefined, caa: NameVerdict['caa'] = undefined): NameVerdict => ({
    name,
    ok: reason === undefined,
    addresses,
    cnameChain,
    caa,
    ...(reason === undefined ? {} : { reason }),
  });
  // Like a CA: the addresses that resolved are enough, even if the other family's query failed.
  if (addresses.length === 0) {
    const broken = [a, aaaa].find((r): r is Extract<ChainResult, { ok: false }> => !r.ok);
    return verdict(broken === undefined ? 'no A or AAAA record' : chainProblem(broken));
  }

  const reasons: string[] = [];
  const expectation = expectationProblem(queried, addresses, cnameChain, expect);
  if (expectation !== undefined) reasons.push(expectation);

  const wildcard = queried.startsWith('*.');
  const found = await findRelevantCaa(queried, async (domain) => {
    const result = await followCnames(resolver, domain, 'CAA');
    if (result.ok) return { ok: true, records: result.records.flatMap(caaOf) };
    if (result.problem === 'nxdomain') return { ok: true, records: [] };
    return { ok: false, reason: `CAA lookup failed: ${chainProblem(result)}` };
  });
  if (!found.ok) return verdict([...reasons, found.reason].join('; '));
  const decision = caaDecision(found.set, caIdentities, wildcard);
  if (!decision.allows) reasons.push(decision.reason);
  const { domain } = found.set;
  const records = domain === undefined ? [] : found.set.records.map((r) => formatCaaRecord(domain, r));
  return verdict(reasons.length === 0 ? undefined : reasons.join('; '), { records, allows: decision.allows });
}

/**
 * No expectations: any address passes. Otherwise every address among the expected IPs, or the chain
 * (or the name itself) reaching an expected CNAME target.
 */
function expectationProblem(name: string, addresses: string[], chain: string[], expect: { ips: Set<string>; cnames: Set<string> }): string | undefined {
  if (expect.ips.size === 0 && expect.cnames.size === 0) return undefined;
  const stray = addresses.filter((address) => !expect.ips.has(address));
  if (expect.ips.size > 0 && stray.length === 0) return undefined;
  if ([name, ...chain].some((host) => expect.cnames.has(host))) return undefined;
  const problems: string[] = [];
  if (expect.ips.size > 0) problems.push(`resolves to ${stray.join(', ')}, expected ${[...expect.ips].join(' or ')}`);
  if (expect.cnames.size > 0) {
    const targets = [...expect.cnames].join(' or ');
    problems.push(chain.length === 0 ? `no CNAME to ${targets}` : `CNAME chain ${[name, ...chain].join(' → ')} does not reach ${targets}`);
  }
  return problems.join(', and ');
}

function chainProblem(result: Extract<ChainResult, { ok: false }>): string {
  const via = result.detail === undefined ? '' : ` (${result.detail})`;
  switch (result.problem) {
    case 'nxdomain':
      return `NXDOMAIN: ${result.at} does not exist`;
    case 'servfail':
      return `SERVFAIL for ${result.at}${via}`;
    case 'refused':
      return `REFUSED for ${result.at}${via}`;
    case 'timeout':
      return `timeout: no answer for ${result.at}${via}`;
    case 'loop':
      return `CNAME loop at ${result.at}`;
    case 'too-long':
      return `CNAME chain longer than ${MAX_CNAME_HOPS} at ${result.at}`;
    case 'ok':
    case 'nodata':
    case 'error':
      return `lookup of ${result.at} failed${via}`;
  }
}

function addressOf(record: DnsRecord): string[] {
  return record.type === 'A' || record.type === 'AAAA' ? [canonicalIp(record.address) ?? record.address] : [];
}

function caaOf(record: DnsRecord): CaaRecord[] {
  return record.type === 'CAA' ? [{ flags: record.flags, tag: record.tag, value: record.value }] : [];
}
