// Lineages for the no-op renew benchmarks: real X.509 certificates (ECDSA P-256, one SAN) with 90-day
// lifetimes issued over the last 20 days, so none is due and a no-op renew reads every one. Their files have
// the sizes of Let's Encrypt's (what a store holds per certificate is mostly PEM): the leaf carries filler the
// size of an SCT list and the usual extensions (≈ 1.5 KB of PEM), the chain is one certificate of an RSA
// intermediate's size (≈ 1.8 KB, like R10/R11).
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { normalizeSerial } from '../../src/crypto/certificate.js';
import type { CertificateFiles, NewCertificate } from '../../src/lineage/types.js';

const DAY = 86_400_000;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
/** A private extension (non-critical, ignored by every reader) that brings a certificate to a real one's size. */
const FILLER_OID = '1.3.6.1.4.1.55555.1';
/** DER bytes of filler: a leaf's SCT list, AIA, CRL and policy extensions; an intermediate's RSA key and signature. */
const LEAF_FILLER = 700;
const CHAIN_FILLER = 930;

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
  /** The certificate that metadata describes (`filler` bytes of padding: see LEAF_FILLER). */
  const certificateOf = async (meta: NewCertificate, filler = LEAF_FILLER): Promise<string> => {
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: meta.serial.padStart(8, '0'),
      name: `CN=${meta.name}`,
      notBefore: new Date(meta.notBefore),
      notAfter: new Date(meta.notAfter),
      keys,
      signingAlgorithm: ALG,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: meta.name }]), new x509.Extension(FILLER_OID, false, randomBytes(filler))],
    });
    return cert.toString('pem') + '\n';
  };
  const chain = await certificateOf({ ...metaOf(0), name: 'intermediate.bench.test' }, CHAIN_FILLER);
  const filesOf = (pem: string): CertificateFiles => ({ cert: pem, chain, fullchain: pem + chain, privkey });
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
