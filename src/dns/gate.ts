/**
 * The DNS gate: before `issue` or `renew` asks the CA for names, check them the way verify-dns does,
 * so a name that cannot validate never costs a failed authorization (and rate limit) at the CA.
 */
import { CertmanError } from '../errors.js';
import type { Reporter } from '../report.js';
import { DEFAULT_CA_IDENTITY } from './caa.js';
import { createResolver, type ResolverSpec } from './resolver.js';
import { verifyNames, type Expectations, type NameVerdict } from './verify.js';

export interface DnsGateOptions {
  expect: Expectations;
  resolver: ResolverSpec;
  /** The CA's CAA issuer domain names; any one in an `issue` record lets it issue. */
  caIdentities: string[];
}

export interface DnsGateResult {
  passed: string[];
  failed: NameVerdict[];
}

/** The settings the gate reads (config `resolver`, `expectIp`, `expectCname`, `caIdentity`; CERTMAN_RESOLVER). */
export interface DnsGateSettings {
  resolver?: string[];
  expectIp?: string[];
  expectCname?: string[];
  caIdentity?: string;
}

/** Whether the gate is on: expectations configured, or `--verify-dns`. */
export function dnsGateEnabled(settings: DnsGateSettings, verifyDns: boolean): boolean {
  return verifyDns || (settings.expectIp ?? []).length > 0 || (settings.expectCname ?? []).length > 0;
}

/**
 * The gate's options. The CA's CAA identity: config `caIdentity` when set, else what the CA's directory
 * advertises (`meta.caaIdentities`), else letsencrypt.org.
 */
export function dnsGateOptions(settings: DnsGateSettings, advertised: readonly string[] = []): DnsGateOptions {
  const caIdentities = settings.caIdentity !== undefined ? [settings.caIdentity] : advertised.length > 0 ? [...advertised] : [DEFAULT_CA_IDENTITY];
  return {
    expect: { ips: settings.expectIp ?? [], cnames: settings.expectCname ?? [] },
    resolver: { kind: 'dns', servers: settings.resolver ?? [] },
    caIdentities,
  };
}

/** Checks `names` (normalized) and splits them into those that pass and the verdicts of those that fail. */
export async function dnsGate(names: string[], options: DnsGateOptions): Promise<DnsGateResult> {
  const resolver = await createResolver(options.resolver);
  try {
    const verdicts = await verifyNames(names, options.expect, { resolver, caIdentities: options.caIdentities });
    return { passed: verdicts.filter((v) => v.ok).map((v) => v.name), failed: verdicts.filter((v) => !v.ok) };
  } finally {
    resolver.close();
  }
}

/**
 * The names to order after the gate. Any failure is an error (exit 1) naming each failing name and why,
 * unless `allowSubset`: then failing names are dropped with a warning, and only "all failed" is an error.
 */
export function namesToOrder(result: DnsGateResult, allowSubset: boolean, report: Reporter): string[] {
  if (result.failed.length === 0) return result.passed;
  if (!allowSubset || result.passed.length === 0) throw gateError(result.failed, allowSubset);
  for (const verdict of result.failed) report.warn(`dropping ${verdict.name} from the order: ${verdict.reason ?? 'DNS check failed'}`);
  return result.passed;
}

/**
 * The gate as `renew` takes it (RenewOptions.dnsGate): with `allowSubset`, failing names are dropped
 * (warned about) as long as one passes, so the certificate is renewed for the names that do.
 */
export function renewalDnsGate(optionsFor: (server: string) => Promise<DnsGateOptions>, allowSubset: boolean, report: Reporter) {
  return async (names: string[], server: string): Promise<{ passed: string[]; failed: { name: string; reason?: string }[] }> => {
    const result = await dnsGate(names, await optionsFor(server));
    if (!allowSubset || result.passed.length === 0) return result;
    for (const verdict of result.failed) report.warn(`dropping ${verdict.name} from the renewal: ${verdict.reason ?? 'DNS check failed'}`);
    return { passed: result.passed, failed: [] };
  };
}

function gateError(failed: NameVerdict[], allowSubset: boolean): CertmanError {
  return dnsCheckFailed(
    failed,
    allowSubset
      ? 'no name passed; certman verify-dns -d <name> shows what the DNS says'
      : 'fix DNS (certman verify-dns -d <name> shows what it says), or pass --allow-subset-of-names to order only the names that pass',
  );
}

/** The error of an order the DNS check stopped: every failing name with why. */
export function dnsCheckFailed(failed: readonly NameVerdict[], hint: string): CertmanError {
  const list = failed.map((v) => `${v.name}: ${v.reason ?? 'DNS check failed'}`).join('; ');
  return new CertmanError(`DNS check failed, nothing was sent to the CA: ${list}`, { hint });
}
