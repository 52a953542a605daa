/**
 * `issue --csr FILE`: a PKCS#10 request made elsewhere (PEM or DER), checked before anything reaches the CA: its
 * signature verifies (the requester holds the key), it asks for DNS names only, and its key is one certman issues
 * for. @peculiar/x509 (already loaded by acme-client) reads it.
 */
import { createPublicKey } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { KeySpec } from '../lineage/types.js';

export interface CsrRequest {
  der: Buffer;
  /** The subject's CN first (when it has one), then the DNS names of its subjectAltName, each once. */
  names: string[];
  key: KeySpec;
  /** Its public key, SPKI DER. */
  publicKeyDer: Buffer;
}

export async function readCsr(bytes: Buffer, file: string): Promise<CsrRequest> {
  const x509 = await import('@peculiar/x509');
  const der = derOf(bytes);
  const bad = (why: string) => new UsageError(`--csr ${file}: ${why}`);
  let csr: InstanceType<typeof x509.Pkcs10CertificateRequest>;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
  } catch {
    throw bad('not a PKCS#10 certificate request (PEM or DER)');
  }
  if (!(await csr.verify().catch(() => false))) throw bad('its signature does not verify');
  const san = csr.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension);
  const others = (san?.names.items ?? []).filter((n) => n.type !== 'dns' && n.type !== 'ip');
  if (others.length > 0) throw bad(`certman orders DNS names and IP addresses only, and it also asks for ${others.map((n) => `${n.type} ${n.value}`).join(', ')}`);
  const cn = csr.subjectName.getField('CN');
  const names = [...new Set([...cn, ...(san?.names.items ?? []).map((n) => n.value)])];
  if (names.length === 0) throw bad('it names no domain (no CN, no DNS subjectAltName)');
  const publicKeyDer = Buffer.from(csr.publicKey.rawData);
  return { der, names, key: keySpecOf(publicKeyDer, bad), publicKeyDer };
}

function derOf(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1');
  const pem = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(text);
  return pem === null ? bytes : Buffer.from((pem[1] ?? '').replace(/\s+/g, ''), 'base64');
}

const CURVES: Record<string, 'p256' | 'p384'> = { prime256v1: 'p256', secp384r1: 'p384' };

function keySpecOf(spki: Buffer, bad: (why: string) => UsageError): KeySpec {
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const details = key.asymmetricKeyDetails ?? {};
  const curve = key.asymmetricKeyType === 'ec' ? CURVES[details.namedCurve ?? ''] : undefined;
  if (curve !== undefined) return { type: 'ecdsa', curve };
  const bits = details.modulusLength;
  if (key.asymmetricKeyType === 'rsa' && (bits === 2048 || bits === 3072 || bits === 4096)) return { type: 'rsa', bits };
  const what = key.asymmetricKeyType === 'ec' ? `ECDSA ${details.namedCurve ?? '?'}` : `${key.asymmetricKeyType ?? 'unknown'}${bits === undefined ? '' : ` ${bits}`}`;
  throw bad(`its key is ${what}; certman issues for ECDSA P-256/P-384 and RSA 2048/3072/4096`);
}
