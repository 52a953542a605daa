/**
 * What a migration would write, decided before anything is written: each lineage and account of the source is
 * either missing from the target (to copy), already there identical (left alone, so a migration can be run
 * again), there as an interrupted copy (its versions are the source's first ones: copied again), or there and
 * different (a conflict: nothing is written at all, nothing is overwritten).
 */
import { withoutNodeLocal } from '../../lineage/node-local.js';
import type { CertificateFiles, CertificateMeta, NewCertificate } from '../../lineage/types.js';
import { CorruptFileError } from '../fs/meta.js';
import type { Store } from '../index.js';
import type { StoredAccount, StoredVersion } from '../types.js';
import { messageOf } from '../../errors.js';

export interface PlannedLineage {
  meta: CertificateMeta;
  /** The metadata the target keeps: without node-local settings when either side may be shared. */
  stored: NewCertificate;
  /** Hooks or challenge details left behind (a shared side). */
  droppedNodeLocal: boolean;
  live: CertificateFiles;
  /** What to copy, oldest first, ending with the live version as the source serves it. */
  versions: StoredVersion[];
  /** Already in the target, identical: nothing to write. */
  present: boolean;
  /** The target holds an interrupted copy (the source's first versions, not its live one): replaced. */
  restart: boolean;
}

export interface MigrationPlan {
  lineages: PlannedLineage[];
  accounts: { account: StoredAccount; present: boolean }[];
  /** Lineages of the source that cannot be read (damaged metadata or files), with why. */
  unreadable: { name: string; reason: string }[];
  /** What the target already holds, different: `certificate <name>: …`, `account <server>: …`. */
  conflicts: string[];
}

/** JSON with sorted keys, so two documents compare equal whatever order their fields were written in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

function withoutVersion(meta: CertificateMeta): NewCertificate {
  const { version: _version, ...rest } = meta;
  return rest;
}

function samePems(a: CertificateFiles, b: CertificateFiles): boolean {
  return a.cert === b.cert && a.chain === b.chain && a.fullchain === b.fullchain && a.privkey === b.privkey;
}

async function lineageConflict(target: Store, planned: PlannedLineage): Promise<string | undefined> {
  const name = planned.meta.name;
  let there: CertificateMeta | undefined;
  try {
    there = await target.get(name);
  } catch (err) {
    if (err instanceof CorruptFileError) return `certificate ${name}: damaged in the target (${err.message})`;
    throw err;
  }
  if (there === undefined) return undefined;
  if (there.serial !== planned.meta.serial) {
    // An earlier migration stopped part-way, or is older than the source's last renewal: the target holds only the
    // source's first versions, so copying the whole lineage again loses nothing.
    const copied = await target.versions(name);
    if (copied.length < planned.versions.length && copied.every((v, i) => planned.versions[i] !== undefined && samePems(v.files, planned.versions[i].files))) {
      planned.restart = true;
      return undefined;
    }
    return `certificate ${name}: the target holds serial ${there.serial}, the source ${planned.meta.serial}`;
  }
  if (canonical(withoutVersion(there)) !== canonical(planned.stored) || !samePems(await target.readFiles(name), planned.live)) {
    return `certificate ${name}: the target holds the same serial with other settings or files`;
  }
  planned.present = true;
  return undefined;
}

export async function planMigration(source: Store, target: Store, dropNodeLocal: boolean): Promise<MigrationPlan> {
  const plan: MigrationPlan = { lineages: [], accounts: [], unreadable: [], conflicts: [] };
  const metas = await source.list();
  plan.unreadable = source.problemDetails().map((p) => ({ name: p.name, reason: p.reason }));
  for (const meta of metas) {
    let live: CertificateFiles;
    let archived: StoredVersion[];
    try {
      live = await source.readFiles(meta.name);
      archived = (await source.versions(meta.name)).filter((v) => v.version !== meta.version);
    } catch (err) {
      // A damaged file, or a private key sealed under a key not given: reported, the others still move.
      plan.unreadable.push({ name: meta.name, reason: messageOf(err) });
      continue;
    }
    const full = withoutVersion(meta);
    const stored = dropNodeLocal ? withoutNodeLocal(full) : full;
    const versions = [...archived, { version: meta.version, files: live }];
    const planned: PlannedLineage = { meta, stored, droppedNodeLocal: canonical(stored) !== canonical(full), live, versions, present: false, restart: false };
    const conflict = await lineageConflict(target, planned);
    if (conflict !== undefined) plan.conflicts.push(conflict);
    plan.lineages.push(planned);
  }
  for (const account of await source.accounts()) {
    const there = await target.getAccount(account.server);
    if (there !== undefined && canonical(there) !== canonical(account)) plan.conflicts.push(`account ${account.server}: the target holds another account (${there.url})`);
    plan.accounts.push({ account, present: there !== undefined });
  }
  return plan;
}
