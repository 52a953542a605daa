// Lineages for the no-op renew benchmarks: real X.509 certificates (ECDSA P-256, one SAN) with 90-day
// lifetimes issued over the last 20 days, so none is due and a no-op renew reads every one.
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { normalizeSerial } from '../../src/crypto/certificate.js';
import type { CertificateFiles, NewCertificate } from '../../src/lineage/types.js';

const DAY = 86_400_000;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface BenchLineage {
  meta: NewCertificate;
  files: CertificateFiles;
}

/** Makes lineage number `i` of a benchmark store; `make` is called once per lineage (see benchLineages). */
export type LineageMaker = (i: number) => Promise<BenchLineage>;

/**
 * A maker of lineages named site-<i>.bench.test, all with one private key (what a store does with it is the same).
 * With `pool`, the PEM files come from that many certificates made up front and reused (same sizes; for stores
 * that never read a certificate to list it, and fills of 100,000 that must not take half an hour); the metadata
 * (name, serial, dates) is still each lineage's own.
 */
export async function benchLineages(options: { pool?: number } = {}): Promise<LineageMaker> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const privkey = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`;
  /** Lineage i's metadata: issued over the last 20 days, 90-day lifetime. */
  const metaOf = (i: number): NewCertificate => {
    const name = `site-${i}.bench.test`;
    const notBefore = new Date(Date.now() - ((i * 7919) % 20) * DAY);
    return {
      name,
      domains: [name],
      key: { type: 'ecdsa', curve: 'p256' },
      reuseKey: false,
      method: { kind: 'standalone', port: 80 },
      server: 'https://acme.bench.invalid/directory',
      accountUrl: 'https://acme.bench.invalid/acct/1',
      serial: normalizeSerial((i + 1).toString(16)),
      notBefore: notBefore.toISOString(),
      notAfter: new Date(notBefore.getTime() + 90 * DAY).toISOString(),
    };
  };
  /** The certificate that metadata describes. */
  const certificateOf = async (meta: NewCertificate): Promise<string> => {
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: meta.serial.padStart(8, '0'),
      name: `CN=${meta.name}`,
      notBefore: new Date(meta.notBefore),
      notAfter: new Date(meta.notAfter),
      keys,
      signingAlgorithm: ALG,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: meta.name }])],
    });
    return cert.toString('pem') + '\n';
  };
  // The certificate stands in for the issuer's too: a chain of the usual size.
  const filesOf = (pem: string): CertificateFiles => ({ cert: pem, chain: pem, fullchain: pem + pem, privkey });
  const pool = options.pool;
  if (pool === undefined) {
    return async (i) => {
      const meta = metaOf(i);
      return { meta, files: filesOf(await certificateOf(meta)) };
    };
  }
  const pems = await Promise.all(Array.from({ length: pool }, (_, i) => certificateOf(metaOf(i))));
  return (i) => Promise.resolve({ meta: metaOf(i), files: filesOf(pems[i % pool] ?? '') });
}
