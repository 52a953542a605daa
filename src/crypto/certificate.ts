import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { canonicalIp } from '../dns/nameserver.js';

/** How Node's X509Certificate#subjectAltName writes an iPAddress name (IPv6 uncompressed). */
const IP_SAN = 'IP Address:';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export interface CertificateInfo {
  /** Lowercase hex, no separators, no leading zeros. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** DNS subjectAltNames, then IP address ones (RFC 8738) in canonicalIp's spelling. */
  domains: string[];
}

/** Splits a PEM bundle into its certificates, in order. */
export function splitPemBundle(pem: string): string[] {
  return (pem.match(PEM_BLOCK) ?? []).map((block) => `${block}\n`);
}

/** Leaf, chain and fullchain texts as certbot writes them. */
export function splitFullchain(fullchainPem: string): { cert: string; chain: string; fullchain: string } {
  const blocks = splitPemBundle(fullchainPem);
  const [cert, ...chain] = blocks;
  if (cert === undefined) throw new Error('the CA returned no certificate');
  return { cert, chain: chain.join(''), fullchain: blocks.join('') };
}

export function normalizeSerial(hex: string): string {
  return hex.replace(/[^0-9a-f]/gi, '').toLowerCase().replace(/^0+(?=.)/, '');
}

/** Parses the first certificate of a PEM text with Node's native X.509 parser. */
export function readCertificateInfo(pem: string): CertificateInfo {
  const x509 = new X509Certificate(pem);
  return {
    serial: normalizeSerial(x509.serialNumber),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    domains: certificateNames(x509),
  };
}

/** DNS subjectAltNames, then IP address ones in canonicalIp's spelling. */
export function certificateNames(x509: X509Certificate): string[] {
  const entries = (x509.subjectAltName ?? '').split(', ');
  const dns = entries.filter((entry) => entry.startsWith('DNS:')).map((entry) => entry.slice('DNS:'.length));
  const ips = entries.filter((entry) => entry.startsWith(IP_SAN)).flatMap((entry) => canonicalIp(entry.slice(IP_SAN.length)) ?? []);
  return [...dns, ...ips];
}

/** True when the certificate's public key belongs to the private key. */
export function certificateMatchesKey(certPem: string, keyPem: string): boolean {
  return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
}

/** Whether the certificate carries this public key (SPKI DER), as a CSR names it: no private key at hand. */
export function certificateHasPublicKey(certPem: string, spkiDer: Buffer): boolean {
  const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
  return spki(new X509Certificate(certPem).publicKey).equals(spki(createPublicKey({ key: spkiDer, format: 'der', type: 'spki' })));
}
