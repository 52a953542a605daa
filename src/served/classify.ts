/**
 * Names what an endpoint served, given the lineage's stored versions: the live one, an earlier one, or another
 * certificate. Certificates are told apart by the SHA-256 of their DER, never by serial alone (two CAs may reuse one).
 */
import { X509Certificate } from 'node:crypto';
import type { StoredVersion } from '../store/types.js';
import { fingerprintHex } from './probe.js';
import type { PresentedCertificate, ServedStatus } from './types.js';

/** A stored version reduced to what comparison needs. */
export interface KnownVersion {
  version: number;
  fingerprint: string;
}

/** The fingerprint of each stored version (certificate PEM of the leaf). */
export function knownVersions(versions: readonly StoredVersion[]): KnownVersion[] {
  return versions.map(({ version, files }) => ({ version, fingerprint: fingerprintHex(new X509Certificate(files.cert).fingerprint256) }));
}

/** `live` when it is version `liveVersion`, `older` (with its number) when it is another stored version, else `other`. */
export function classifyPresented(
  presented: Pick<PresentedCertificate, 'fingerprint'>,
  liveVersion: number,
  versions: readonly KnownVersion[],
): { status: Exclude<ServedStatus, 'unreachable'>; version?: number } {
  const match = versions.find((known) => known.fingerprint === presented.fingerprint);
  if (match === undefined) return { status: 'other' };
  return match.version === liveVersion ? { status: 'live' } : { status: 'older', version: match.version };
}
