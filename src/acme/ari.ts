/**
 * ACME Renewal Information (RFC 9773): the certificate identifier a client asks about, and the
 * shape of the CA's answer.
 */
import { CertmanError } from '../errors.js';

/** A CA's suggested renewal window for one certificate (RFC 9773 §4.2), as certman uses it. */
export interface RenewalInfo {
  window: { start: Date; end: Date };
  /** Where the CA explains why the window is what it is (e.g. an incident), when it says. */
  explanationUrl?: string;
  /** The CA's Retry-After: when to ask again. */
  retryAfterMs?: number;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/**
 * The RFC 9773 §4.1 certificate identifier: base64url(AKI keyIdentifier) "." base64url(serial), where the
 * serial is the DER INTEGER's content octets (so a serial whose first byte has the high bit set keeps
 * the leading 0x00). Takes a PEM certificate, or a chain whose first certificate is the leaf.
 */
export async function ariCertId(certPem: string): Promise<string> {
  const pem = PEM_CERTIFICATE.exec(certPem)?.[0];
  if (pem === undefined) throw new CertmanError('cannot compute the ARI certificate id: no PEM certificate given');
  const x509 = await import('@peculiar/x509');
  let cert: InstanceType<typeof x509.X509Certificate>;
  try {
    cert = new x509.X509Certificate(pem);
  } catch (err) {
    throw new CertmanError(`cannot compute the ARI certificate id: unreadable certificate (${(err as Error).message})`, { cause: err });
  }
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  const keyId = aki?.keyId;
  if (keyId === undefined || keyId === '') {
    throw new CertmanError('cannot compute the ARI certificate id: the certificate has no authority key identifier');
  }
  return `${Buffer.from(keyId, 'hex').toString('base64url')}.${serialContentOctets(cert.serialNumber).toString('base64url')}`;
}

/**
 * The DER content octets of a (positive) serial number given as hex. @peculiar/x509 drops the sign
 * octet (the 0x00 before a first byte ≥ 0x80), Node's X509Certificate drops it too: put it back.
 */
export function serialContentOctets(serialHex: string): Buffer {
  let hex = serialHex.replace(/[^0-9a-fA-F]/g, '');
  if (hex === '') throw new CertmanError('cannot compute the ARI certificate id: the certificate has no serial number');
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return (bytes[0] ?? 0) >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

/** `<renewalInfo>/<certId>` (RFC 9773 §4.2). */
export function renewalInfoRequestUrl(renewalInfoUrl: string, certId: string): string {
  return `${renewalInfoUrl.replace(/\/+$/, '')}/${certId}`;
}

/**
 * Reads a renewalInfo response body. A window that is missing, unparsable or not start < end is the
 * CA's error; certman does not guess.
 */
export function parseRenewalInfo(body: unknown, retryAfterMs: number | undefined, url: string): RenewalInfo {
  const invalid = (why: string): CertmanError =>
    new CertmanError(`the CA returned invalid renewal information (${why}) from ${url}`);
  if (typeof body !== 'object' || body === null) throw invalid('not a JSON object');
  const raw = body as { suggestedWindow?: unknown; explanationURL?: unknown };
  if (typeof raw.suggestedWindow !== 'object' || raw.suggestedWindow === null) throw invalid('no suggestedWindow');
  const window = raw.suggestedWindow as { start?: unknown; end?: unknown };
  const start = parseTime(window.start);
  const end = parseTime(window.end);
  if (start === undefined || end === undefined) throw invalid('suggestedWindow start and end must be RFC 3339 times');
  if (start.getTime() >= end.getTime()) throw invalid('suggestedWindow ends before it starts');
  return {
    window: { start, end },
    ...(typeof raw.explanationURL === 'string' && raw.explanationURL !== '' ? { explanationUrl: raw.explanationURL } : {}),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/** RFC 3339 date-time (with a time zone), as ACME servers send; undefined for anything else. */
function parseTime(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.toUpperCase();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
