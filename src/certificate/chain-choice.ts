/**
 * `--preferred-chain` (certbot's rule since its 1.12: https://github.com/certbot/certbot/pull/8596): among the
 * chains a CA offers (its default first, then the alternates, RFC 8555 §7.4.2), the first whose topmost
 * certificate (the last one, closest to the root) names `issuerName` as its issuer's common name, compared
 * exactly; the default chain when none does. Only the topmost certificate counts, so a root that appears deeper
 * in the default chain still selects the shorter alternate that ends at it. The certificate is issued by then:
 * nothing about an alternate (a failed download, text that is no chain of the same certificate) may lose it.
 */
import { X509Certificate } from 'node:crypto';
import type { AcmeClient } from '../acme/client.js';
import { splitPemBundle } from '../crypto/certificate.js';
import { printableLine } from '../text.js';

export interface ChainChoice {
  pem: string;
  matched: boolean;
  /** One line for the report: which chain was taken and why. */
  note: string;
}

/** Where chains come from: the ACME client. */
export type ChainSource = Pick<AcmeClient, 'downloadCertificate' | 'downloadCertificateWithAlternates'>;

/** Alternates looked at, at most: a CA offers one or two, and a long list is no reason to send many requests. */
export const MAX_ALTERNATES = 10;

/**
 * Downloads the default chain of the certificate at `url` and, only when it does not end at `issuerName`, the
 * alternates one at a time until one does. An alternate that fails or does not hold the same certificate is skipped
 * with a warning.
 */
export async function downloadPreferredChain(source: ChainSource, url: string, issuerName: string, warn: (message: string) => void): Promise<ChainChoice> {
  const { pem, urls, refused } = await source.downloadCertificateWithAlternates(url);
  for (const target of refused) warn(`skipped an alternate chain link that is not https on the CA's origin: ${printableLine(target, 200)}`);
  const offered = [topmostIssuer(pem)];
  if (offered[0] === issuerName) return { pem, matched: true, note: `preferred chain "${issuerName}": took the default chain` };
  if (urls.length > MAX_ALTERNATES) warn(`the CA offers ${urls.length} alternate chains; looked at the first ${MAX_ALTERNATES}`);
  const leaf = leafFingerprint(pem);
  for (const [index, alternate] of urls.slice(0, MAX_ALTERNATES).entries()) {
    const which = `alternate chain ${index + 1}`;
    let chain: string;
    try {
      chain = await source.downloadCertificate(alternate);
    } catch (err) {
      warn(`skipped ${which}: ${(err as Error).message}`);
      continue;
    }
    if (leaf === undefined || leafFingerprint(chain) !== leaf) {
      warn(`skipped ${which}: it does not hold the issued certificate`);
      continue;
    }
    const issuer = topmostIssuer(chain);
    if (issuer === issuerName) return { pem: chain, matched: true, note: `preferred chain "${issuerName}": took ${which}` };
    offered.push(issuer);
  }
  const names = offered.map((name) => (name === undefined ? '(no common name)' : printableLine(name, 200))).join('; ');
  return { pem, matched: false, note: `no chain of the CA ends at a certificate issued by "${issuerName}" (offered: ${names}); kept the default chain` };
}

/** The issuer common name of the last certificate of a PEM chain (leaf first); undefined without one or unreadable. */
export function topmostIssuer(chainPem: string): string | undefined {
  const topmost = splitPemBundle(chainPem).at(-1);
  return topmost === undefined ? undefined : commonNameOf(parsed(topmost)?.issuer);
}

function leafFingerprint(chainPem: string): string | undefined {
  const leaf = splitPemBundle(chainPem).at(0);
  return leaf === undefined ? undefined : parsed(leaf)?.fingerprint256;
}

function parsed(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/**
 * CN of a distinguished name as node:crypto prints it: one `key=value` per line, values escaped the RFC 2253 way
 * (`Root\, X1`; `\XX` for a byte), which is undone so names compare as written.
 */
function commonNameOf(name: string | undefined): string | undefined {
  const line = name?.split('\n').find((l) => l.startsWith('CN='));
  return line?.slice(3).replace(/((?:\\[0-9A-Fa-f]{2})+)|\\(.)/gs, (_, hex: string | undefined, char: string | undefined) =>
    hex === undefined ? (char ?? '') : Buffer.from(hex.replaceAll('\\', ''), 'hex').toString('utf8'),
  );
}
