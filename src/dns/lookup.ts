import type { AddressLookup } from '../challenge/self-check.js';
import type { DnsResolver } from './resolver.js';
import { followCnames, type ChainResult } from './verify.js';

/**
 * Addresses of a name as the CA sees them through `resolver` (CNAMEs followed), IPv6 first like
 * Let's Encrypt's validation. Throws with the DNS problem when neither family resolves.
 */
export function addressLookup(resolver: DnsResolver): AddressLookup {
  return async (name) => {
    const [v6, v4] = await Promise.all([followCnames(resolver, name, 'AAAA'), followCnames(resolver, name, 'A')]);
    const addresses = [...addressesOf(v6), ...addressesOf(v4)];
    if (addresses.length > 0) return addresses;
    const failed = !v4.ok ? v4 : !v6.ok ? v6 : undefined;
    throw new Error(failed === undefined ? 'no A or AAAA records' : `${failed.problem} at ${failed.at}`);
  };
}

function addressesOf(result: ChainResult): string[] {
  return result.ok ? result.records.flatMap((r) => (r.type === 'A' || r.type === 'AAAA' ? [r.address] : [])) : [];
}
