/**
 * Journal recovery of the filesystem store: a writable open finishes or rolls back every live/ switch a crash
 * interrupted (.pending/<name>), each under the lineage's lease, so a journal a running writer is working on is
 * left to it.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { mapLimit } from '../../concurrency.js';
import { readCertificateInfo } from '../../crypto/certificate.js';
import type { CertificateMeta } from '../../lineage/types.js';
import type { Lease, LeaseStore } from '../types.js';
import { errorCode, fsyncDir, isTempName, removeAbandonedTemps, unlinkIfExists } from './atomic.js';
import { byName, ioError, readdirOrEmpty, type FsLayout } from './layout.js';
import { messageOf } from '../../errors.js';
import { CorruptFileError, parseJournal, type JournalEntry } from './meta.js';
import { lockId, withUpdateLock } from './lease.js';
import { isValidName } from './names.js';
import type { LineageReader } from './read-lineage.js';
import { readTrustedFileSync } from './trust.js';
import { completeVersions, type LineageWriter } from './write-lineage.js';

/** Certificates repaired at once: enough to hide latency, far below any open-files limit. */
const RECOVERY_CONCURRENCY = 16;

/** What open() did about one interrupted live/ switch (see FileStore.repairs). */
export interface Repair {
  name: string;
  /**
   * completed: live/ now points to the version being switched to;
   * rolled-back: that version was incomplete, live/ points to the previous complete one;
   * discarded: there was no complete version to link, only the journal entry was removed;
   * failed: the repair itself failed (see detail), the journal entry is kept for the next open.
   */
  outcome: 'completed' | 'rolled-back' | 'discarded' | 'failed';
  /** Archive version live/ points to afterwards. */
  version?: number;
  detail?: string;
}

export interface RecoveryDeps {
  layout: FsLayout;
  reader: LineageReader;
  writer: LineageWriter;
  leases: LeaseStore;
  /** Serialises work on one lineage within this process (the store's). */
  serialise: <T>(name: string, work: () => Promise<T>) => Promise<T>;
  trustedOwner: number | undefined;
}

/**
 * Reads .pending/ once and repairs each interrupted switch, holding the lineage's lease (a journal seen while
 * a writer holds it is that writer's work in progress). Never throws for one certificate.
 */
export async function recoverInterrupted(deps: RecoveryDeps): Promise<Repair[]> {
  const { pendingRoot } = deps.layout;
  let entries: string[];
  try {
    entries = await readdir(pendingRoot);
  } catch (err) {
    const code = errorCode(err);
    // Not there: nothing was ever interrupted. Not readable: a read-only user; a privileged run repairs.
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') return [];
    throw ioError(`cannot read ${pendingRoot}`, err);
  }
  if (entries.length === 0) return [];
  await removeAbandonedTemps(pendingRoot, entries);
  const names = entries.filter((e) => !isTempName(e) && isValidName(e)).sort();
  const repairs: Repair[] = [];
  await mapLimit(names, RECOVERY_CONCURRENCY, async (name) => {
    let lease: Lease;
    try {
      lease = await deps.leases.lease({ certificate: name }, { wait: false });
    } catch {
      // A writer is at work on it (it or the next run repairs), or the store cannot be written (nor repaired).
      return;
    }
    try {
      repairs.push(await deps.serialise(name, () => recoverOne(deps, name)));
    } catch (err) {
      repairs.push({ name, outcome: 'failed', detail: messageOf(err) });
    } finally {
      await lease.release();
    }
  });
  return repairs.sort(byName);
}

async function recoverOne(deps: RecoveryDeps, name: string): Promise<Repair> {
  const { layout, reader, writer } = deps;
  const journalPath = layout.journalFile(name);
  let journal: JournalEntry | undefined;
  try {
    // Refused when another user could have written it: the repair fails, the journal stays for someone to look at.
    journal = parseJournal(readTrustedFileSync(journalPath, deps.trustedOwner), name);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
  const complete = completeVersions(await readdirOrEmpty(layout.archiveDir(name)));
  let current: CertificateMeta | undefined;
  try {
    current = reader.readMeta(name);
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
  }

  let target: number | undefined;
  let newMeta: CertificateMeta | undefined;
  let outcome: Repair['outcome'];
  if (journal !== undefined && complete.has(journal.version)) {
    // The new version is complete: finish the switch.
    outcome = 'completed';
    target = journal.version;
    if (current?.version === target) newMeta = undefined;
    else if (journal.meta !== undefined) newMeta = journal.meta;
    else if (current !== undefined) newMeta = await metaForVersion(layout, current, target);
  } else {
    // Crashed before the new version was complete: go back to the recorded (or newest complete) one.
    outcome = 'rolled-back';
    if (current !== undefined && complete.has(current.version)) {
      target = current.version;
    } else if (complete.size > 0) {
      target = Math.max(...complete);
      if (current !== undefined) newMeta = await metaForVersion(layout, current, target);
    }
  }

  // Under the metadata lock, like every metadata write: an update read before must not write the old version back.
  const repaired = newMeta;
  if (repaired !== undefined) await withUpdateLock(layout.configDir, lockId('meta', name), () => writer.writeMeta(repaired));
  if (target !== undefined) await writer.linkLive(name, target);
  await unlinkIfExists(journalPath);
  await fsyncDir(layout.pendingRoot);
  return target === undefined ? { name, outcome: 'discarded' } : { name, outcome, version: target };
}

/** `base` moved to `version`, with serial and validity taken from that version's certificate when readable. */
async function metaForVersion(layout: FsLayout, base: CertificateMeta, version: number): Promise<CertificateMeta> {
  const meta: CertificateMeta = { ...structuredClone(base), version };
  try {
    const info = readCertificateInfo(await readFile(path.join(layout.archiveDir(base.name), `cert${version}.pem`), 'utf8'));
    meta.serial = info.serial;
    if (!Number.isNaN(info.notBefore.getTime())) meta.notBefore = info.notBefore.toISOString();
    if (!Number.isNaN(info.notAfter.getTime())) meta.notAfter = info.notAfter.toISOString();
  } catch {
    // Not parseable: keep the previous values, renew will replace the certificate anyway.
  }
  return meta;
}

/**
 * Removes the temp files dead writers of this host (anyone's after an hour) left in renewal/: reads never
 * sweep, so a writable open does. Never throws (a store this user cannot write keeps them).
 */
export async function sweepRenewalTemps(layout: FsLayout): Promise<void> {
  const entries = await readdirOrEmpty(layout.renewalRoot).catch(() => []);
  await removeAbandonedTemps(layout.renewalRoot, entries);
}
