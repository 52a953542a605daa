/**
 * After a migration, every certificate is read back from the target and compared with the source: the same
 * serial, the same PEM texts for the live version and every version copied, and a private key that belongs to
 * the certificate. What is found wrong is reported per certificate; nothing is repaired.
 */
import { certificateMatchesKey, readCertificateInfo } from '../../crypto/certificate.js';
import type { CertificateFiles } from '../../lineage/types.js';
import type { Store } from '../index.js';
import type { StoredVersion } from '../types.js';
import { messageOf } from '../../errors.js';

/** What the source holds of one lineage, as migrated. */
export interface MigratedLineage {
  name: string;
  serial: string;
  live: CertificateFiles;
  versions: StoredVersion[];
}

const KINDS = ['cert', 'chain', 'fullchain', 'privkey'] as const;

function differingKinds(a: CertificateFiles, b: CertificateFiles): string[] {
  return KINDS.filter((kind) => a[kind] !== b[kind]);
}

/** Why the target's copy of `lineage` is not the source's, or undefined when it is. */
export async function verifyLineage(target: Store, lineage: MigratedLineage): Promise<string | undefined> {
  const { name } = lineage;
  try {
    const meta = await target.get(name);
    if (meta === undefined) return 'missing from the target';
    if (meta.serial !== lineage.serial) return `the target's metadata names serial ${meta.serial}, the source's ${lineage.serial}`;
    const live = await target.readFiles(name);
    const differing = differingKinds(live, lineage.live);
    if (differing.length > 0) return `the target's live ${differing.join(', ')} differ from the source's`;
    const serial = readCertificateInfo(live.cert).serial;
    if (serial !== lineage.serial) return `the target's live certificate has serial ${serial}, not ${lineage.serial}`;
    if (!certificateMatchesKey(live.cert, live.privkey)) return "the target's private key does not belong to its certificate";
    const copied = await target.versions(name);
    if (copied.length < lineage.versions.length) return `the target keeps ${copied.length} versions, the source ${lineage.versions.length}`;
    // The target numbers versions itself: compare in order, its newest ones against the source's.
    const offset = copied.length - lineage.versions.length;
    for (const [i, version] of lineage.versions.entries()) {
      const there = copied[offset + i];
      if (there === undefined || differingKinds(there.files, version.files).length > 0) return `version ${version.version} differs in the target`;
    }
    return undefined;
  } catch (err) {
    return `cannot read it back from the target: ${messageOf(err)}`;
  }
}
