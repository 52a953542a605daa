/**
 * Reads the certificate a TLS endpoint presents: one handshake, nothing sent after it. The chain is not verified:
 * the question is which certificate is served, and a test CA's or an expired one must be named too.
 */
import { connect } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { NetworkError, messageOf } from '../errors.js';
import { certificateNames, normalizeSerial } from '../crypto/certificate.js';
import type { Endpoint, PresentedCertificate } from './types.js';

export interface ProbeOptions {
  /** Gives up on a silent endpoint after this long. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The leaf certificate `endpoint` presents; NetworkError (one line, naming the endpoint) when there is none. */
export function presentedCertificate(endpoint: Endpoint, options: ProbeOptions): Promise<PresentedCertificate> {
  return new Promise((resolve, reject) => {
    const where = formatEndpoint(endpoint);
    const socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      ...(endpoint.servername === undefined ? {} : { servername: endpoint.servername }),
      rejectUnauthorized: false,
    });
    const onAbort = (): void => fail('cancelled');
    const fail = (reason: string): void => {
      settle();
      reject(new NetworkError(`${where}: ${reason}`));
    };
    const settle = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
    };
    const timer = setTimeout(() => fail(`no TLS handshake within ${options.timeoutMs / 1000} s`), options.timeoutMs);
    if (options.signal?.aborted === true) fail('cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err) => fail(messageOf(err)));
    socket.once('secureConnect', () => {
      const peer = socket.getPeerX509Certificate();
      settle();
      if (peer === undefined) reject(new NetworkError(`${where}: presented no certificate`));
      else resolve(describe(peer));
    });
  });
}

/** `host:port`, IPv6 in brackets: how an endpoint is written and printed. */
export function formatEndpoint(endpoint: Pick<Endpoint, 'host' | 'port'>): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

function describe(x509: X509Certificate): PresentedCertificate {
  return {
    serial: normalizeSerial(x509.serialNumber),
    notBefore: new Date(x509.validFrom).toISOString(),
    notAfter: new Date(x509.validTo).toISOString(),
    fingerprint: fingerprintHex(x509.fingerprint256),
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    names: certificateNames(x509),
  };
}

/** Node writes fingerprints as `AB:CD:…`; certman compares and prints lowercase hex. */
export function fingerprintHex(nodeFingerprint: string): string {
  return nodeFingerprint.replace(/:/g, '').toLowerCase();
}
