import { X509Certificate } from 'node:crypto';
import type { AcmeConnector, RevocationReason } from '../acme/index.js';
import { readCertificateInfo } from '../crypto/certificate.js';
import { UsageError } from '../errors.js';
import type { Reporter } from '../report.js';
import type { CertificateStore, StoredAccount } from '../store/types.js';
import type { CertificateMeta } from '../lineage/types.js';

export interface RevokeDeps {
  store: CertificateStore;
  account: StoredAccount;
  connect: AcmeConnector;
  report: Reporter;
}

export interface RevokeResult {
  serial: string;
  reason: RevocationReason;
  /** The lineage whose live certificate this was, now marked revoked. */
  lineage?: string;
}

/** Revokes a certificate with the account that ordered it (RFC 8555 §7.6) and marks its lineage. */
export async function revokeCertificate(
  input: { certPem: string; reason: RevocationReason; lineage?: CertificateMeta; server: string },
  deps: RevokeDeps,
): Promise<RevokeResult> {
  let der: Buffer;
  try {
    der = new X509Certificate(input.certPem).raw;
  } catch {
    throw new UsageError('the file is not a PEM certificate');
  }
  const { serial } = readCertificateInfo(input.certPem);
  deps.report.step(`revoking serial ${serial}`);
  const client = await deps.connect({ server: input.server, accountKeyPem: deps.account.keyPem, accountUrl: deps.account.url });
  await client.revoke(der, input.reason);
  const lineage = input.lineage;
  if (lineage !== undefined && lineage.serial === serial) {
    // Only if it is still that version: a renewal meanwhile made another certificate live.
    const revoked = { at: new Date().toISOString(), reason: input.reason };
    await deps.store.updateMeta(lineage.name, (current) => (current.serial === serial ? { ...current, revoked } : undefined));
  }
  return { serial, reason: input.reason, ...(lineage === undefined ? {} : { lineage: lineage.name }) };
}
