/**
 * `certman store migrate`: copies a whole store into another (folder ↔ Redis, or folder ↔ folder) without loss,
 * then verifies every certificate in the target. What is copied: every lineage with every version the source
 * keeps (oldest first, so the live one is the target's live one too), its metadata, and every account. What is
 * not: leases, pending challenge tokens and state documents (failure budget, rate-limit pauses, ARI servers),
 * which are transient and rebuilt by the next runs. Each lineage is written holding its lease in the target.
 */
import { readCertificateInfo } from '../../crypto/certificate.js';
import { CertmanError, messageOf } from '../../errors.js';
import type { NewCertificate } from '../../lineage/types.js';
import { silentReporter, type Reporter } from '../../report.js';
import type { Store } from '../index.js';
import type { StoredVersion } from '../types.js';
import { planMigration, type PlannedLineage } from './plan.js';
import { verifyLineage, type MigratedLineage } from './verify.js';

export interface MigrateOptions {
  /** Either side may be shared by other hosts (Redis, a folder that is not the config dir): hooks and challenge details are not copied. */
  dropNodeLocal: boolean;
  /** How long to wait for a lineage's lease in the target. */
  leaseWaitMs: number;
  /** Lease length while writing one lineage. */
  leaseMs?: number;
  report?: Reporter;
}

export interface MigratedCertificate {
  name: string;
  /** copied; already there, identical; or failed (unreadable in the source, or the check after the move failed). */
  status: 'copied' | 'present' | 'failed';
  serial?: string;
  versions: number;
  /** Hooks or challenge details left behind. */
  droppedNodeLocal: boolean;
  verified: boolean;
  problem?: string;
}

export interface MigrationResult {
  certificates: MigratedCertificate[];
  accounts: { server: string; status: 'copied' | 'present' }[];
  /** True when every certificate was read back from the target as it is in the source. */
  ok: boolean;
}

/** Metadata for an archived version on its way in: its own serial and dates, so the target is consistent at every step. */
function metaOfVersion(stored: NewCertificate, version: StoredVersion): NewCertificate {
  const info = readCertificateInfo(version.files.cert);
  return { ...stored, serial: info.serial, notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString() };
}

async function copyLineage(target: Store, lineage: PlannedLineage, options: MigrateOptions): Promise<void> {
  const name = lineage.meta.name;
  const lease = await target.lease({ certificate: name }, { wait: true, timeoutMs: options.leaseWaitMs, ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }) });
  try {
    // What an interrupted migration left (the first versions only) goes: the whole lineage follows.
    const guard = { lease, signal: lease.signal };
    if (lineage.restart) await target.delete(name, guard);
    for (const version of lineage.versions.slice(0, -1)) await target.save(metaOfVersion(lineage.stored, version), version.files, guard);
    // The live version last, with the source's metadata whole (ARI window, renewDays, revoked…): the target picks only the number.
    await target.save(lineage.stored, lineage.live, guard);
  } finally {
    await lease.release();
  }
}

export async function migrateStore(source: Store, target: Store, options: MigrateOptions): Promise<MigrationResult> {
  const report = options.report ?? silentReporter;
  const plan = await planMigration(source, target, options.dropNodeLocal);
  if (plan.conflicts.length > 0) {
    throw new CertmanError(`the target already holds ${plan.conflicts.join('; ')}: nothing was written`, {
      hint: 'migrate into an empty store, or delete those from the target first (certman delete --store <target>)',
    });
  }
  const result: MigrationResult = { certificates: [], accounts: [], ok: plan.unreadable.length === 0 };
  for (const { account, present } of plan.accounts) {
    if (!present) await target.saveAccount(account);
    result.accounts.push({ server: account.server, status: present ? 'present' : 'copied' });
  }
  for (const { name, reason } of plan.unreadable) {
    result.certificates.push({ name, status: 'failed', versions: 0, droppedNodeLocal: false, verified: false, problem: `cannot be read in the source: ${reason}` });
  }
  for (const lineage of plan.lineages) {
    const name = lineage.meta.name;
    const entry: MigratedCertificate = { name, status: lineage.present ? 'present' : 'copied', serial: lineage.meta.serial, versions: 0, droppedNodeLocal: false, verified: false };
    try {
      const { versions } = lineage;
      entry.versions = versions.length;
      if (!lineage.present) {
        const again = lineage.restart ? 'again (an earlier migration stopped part-way) ' : '';
        report.step(`copying ${again}${name} (${versions.length} version${versions.length === 1 ? '' : 's'})`);
        await copyLineage(target, lineage, options);
        entry.droppedNodeLocal = lineage.droppedNodeLocal;
      }
      const migrated: MigratedLineage = { name, serial: lineage.meta.serial, live: lineage.live, versions };
      const problem = await verifyLineage(target, migrated);
      entry.verified = problem === undefined;
      if (problem !== undefined) entry.problem = problem;
    } catch (err) {
      entry.problem = messageOf(err);
    }
    if (!entry.verified) {
      entry.status = 'failed';
      result.ok = false;
    }
    result.certificates.push(entry);
  }
  result.certificates.sort((a, b) => a.name.localeCompare(b.name));
  return result;
}
