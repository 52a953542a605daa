/**
 * `--preferred-chain` (certbot's rule since its 1.12: https://github.com/certbot/certbot/pull/8596): among the
 * chains a CA offers (its default first, then the alternates, RFC 8555 §7.4.2), the first whose topmost
 * certificate (the last one, closest to the root) names `issuerName` as its issuer's common name, compared
 * exactly; the default chain when none does. Only the topmost certificate counts, so a root that appears deeper
 * in the default chain still selects the shorter alternate that ends at it.
 */
import { X509Certificate } from 'node:crypto';
import { splitPemBundle } from '../crypto/certificate.js';

export interface ChainChoice {
  pem: string;
  matched: boolean;
  /** One line for the report: which chain was taken and why. */
  note: string;
}

export function choosePreferredChain(chains: string[], issuerName: string): ChainChoice {
  const [defaultChain] = chains;
  if (defaultChain === undefined) throw new Error('no certificate chain to choose from');
  const index = chains.findIndex((pem) => topmostIssuer(pem) === issuerName);
  if (index < 0) {
    const offered = chains.map((pem) => topmostIssuer(pem) ?? '(no common name)').join('; ');
    return { pem: defaultChain, matched: false, note: `no chain of the CA ends at a certificate issued by "${issuerName}" (offered: ${offered}); kept the default chain` };
  }
  const which = index === 0 ? 'the default chain' : `alternate chain ${index}`;
  return { pem: chains[index] ?? defaultChain, matched: true, note: `preferred chain "${issuerName}": took ${which}` };
}

/** The issuer common name of the last certificate of a PEM chain (leaf first), if it has one. */
export function topmostIssuer(chainPem: string): string | undefined {
  const topmost = splitPemBundle(chainPem).at(-1);
  return topmost === undefined ? undefined : commonNameOf(new X509Certificate(topmost).issuer);
}

/** CN of a distinguished name as node:crypto prints it (one `key=value` per line). */
function commonNameOf(name: string): string | undefined {
  const line = name.split('\n').find((l) => l.startsWith('CN='));
  return line?.slice(3);
}
