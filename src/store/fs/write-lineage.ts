/**
 * Writing lineages of the filesystem store: a new version into archive/, its metadata, and the switch of
 * live/<name> to it in one rename (see file-store.ts for the order and why a crash at any point is safe).
 */
import { statSync } from 'node:fs';
import { readdir, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';

import { CertmanError } from '../../errors.js';
import type { CertificateFiles, CertificateMeta, NewCertificate } from '../../lineage/types.js';
import type { WriteGuard } from '../types.js';
import { createFileAtomic, ensureDir, errorCode, fsyncDir, namingFile, removeAbandonedTemps, tempPath, unlinkIfExists, writeFileAtomic } from './atomic.js';
import { carryOver } from './carry-over.js';
import {
  DIR_PUBLIC,
  DIR_SECRET,
  FILE_PUBLIC,
  FILE_SECRET,
  isDirectory,
  PEM_KINDS,
  SLOTS,
  slotName,
  type FsLayout,
  type Slot,
} from './layout.js';
import { lockId, withUpdateLock } from './lease.js';
import { CorruptFileError, serializeJournal, serializeMeta, withNormalSerial, type FileStamp, type JournalEntry } from './meta.js';
import { stampOf, type LineageReader } from './read-lineage.js';

const ARCHIVE_FILE = /^(cert|chain|fullchain|privkey)([1-9][0-9]*)\.pem$/;

/** What certman itself puts in a live/ slot; anything else there is an operator's, and is carried over. */
const SLOT_OWN_ENTRIES = new Set<string>([...PEM_KINDS.map((kind) => `${kind}.pem`), 'README']);

function isCertmanEntry(entry: string): boolean {
  return SLOT_OWN_ENTRIES.has(entry);
}

function readmeText(name: string): string {
  return `The .pem files here are links to one version of the certificate "${name}"
in ../../archive/${name}/, which keeps every version. live/${name} leads to the
folder (.${name}.a or .${name}.b) holding the links of the current version: after
each renewal certman makes the links of the new version in the other folder and
then switches live/${name} to it, so all four files change at once. Files of your
own kept in live/${name}/ (a combined PEM, dhparams) are carried over each time.

  fullchain.pem  the certificate followed by its intermediate certificates.
                 This is what most servers want as "the certificate"
                 (nginx ssl_certificate, Apache SSLCertificateFile, HAProxy).
  privkey.pem    the private key (nginx ssl_certificate_key). Keep it secret.
  chain.pem      the intermediate certificates alone (e.g. for OCSP stapling,
                 nginx ssl_trusted_certificate).
  cert.pem       the certificate alone; few servers can use it without the chain.

Configure your server with these paths (not the archive/ files) and do not move
or rename them, or renewed certificates will no longer reach the server.
`;
}

/** Highest version number used by any file in an archive listing (complete or not), 0 if none. */
function highestVersion(entries: readonly string[]): number {
  let max = 0;
  for (const entry of entries) {
    const m = ARCHIVE_FILE.exec(entry);
    if (m?.[2] !== undefined) max = Math.max(max, Number(m[2]));
  }
  return max;
}

/**
 * Versions whose four files are all present. Archive files are only ever created by an atomic
 * rename, so a present file is a complete file.
 */
export function completeVersions(entries: readonly string[]): Set<number> {
  const kinds = new Map<number, Set<string>>();
  for (const entry of entries) {
    const m = ARCHIVE_FILE.exec(entry);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    const version = Number(m[2]);
    const set = kinds.get(version) ?? new Set<string>();
    set.add(m[1]);
    kinds.set(version, set);
  }
  return new Set([...kinds].filter(([, set]) => set.size === PEM_KINDS.length).map(([version]) => version));
}

export function checkFiles(files: CertificateFiles): void {
  for (const kind of PEM_KINDS) {
    if (typeof files[kind] !== 'string') throw new CertmanError(`cannot save certificate: ${kind} is missing`);
  }
  for (const kind of ['cert', 'fullchain', 'privkey'] as const) {
    if (files[kind].trim() === '') throw new CertmanError(`cannot save certificate: ${kind} is empty`);
  }
}

/** Refuses a write whose run was cancelled or whose lease is lost: called just before a commit point. */
async function checkGuard(guard: WriteGuard): Promise<void> {
  guard.signal?.throwIfAborted();
  await guard.lease.assertHeld();
}

export class LineageWriter {
  constructor(
    private readonly layout: FsLayout,
    private readonly reader: LineageReader,
  ) {}

  /**
   * Stores a new version: N = highest number present in archive/<name>/ (or in the stored metadata) + 1,
   * whatever `meta` says; then journal (the commit point, after which the version goes live even after a
   * crash), metadata, live/ links, journal removed. The guard is checked just before the journal, never after.
   */
  async saveVersion(name: string, meta: NewCertificate, files: CertificateFiles, guard: WriteGuard): Promise<CertificateMeta> {
    // Checked first too: a run that lost its lease must not even pick a version number the new holder may use.
    await checkGuard(guard);
    const archiveDir = this.layout.archiveDir(name);
    await ensureDir(this.layout.archiveRoot, DIR_SECRET);
    await ensureDir(archiveDir, DIR_SECRET);
    const entries = await readdir(archiveDir);
    await removeAbandonedTemps(archiveDir, entries);

    let previous: CertificateMeta | undefined;
    try {
      previous = this.reader.readMeta(name);
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err; // a damaged file is replaced below
    }
    const version = Math.max(highestVersion(entries), previous?.version ?? 0) + 1;
    const stored: CertificateMeta = withNormalSerial({ ...structuredClone(meta), version });
    const archived = PEM_KINDS.map((kind) => path.join(archiveDir, `${kind}${version}.pem`));
    const journal = this.layout.journalFile(name);
    const created: string[] = [];
    try {
      // Created, never replaced: files of this number another writer made are not this run's to overwrite.
      await Promise.all(
        PEM_KINDS.map(async (kind, i) => {
          const file = archived[i] ?? '';
          await createFileAtomic(file, files[kind], kind === 'privkey' ? FILE_SECRET : FILE_PUBLIC);
          created.push(file);
        }),
      );
      await ensureDir(this.layout.pendingRoot, DIR_SECRET);
      await checkGuard(guard);
      const entry: JournalEntry = { version, meta: stored };
      await writeFileAtomic(journal, serializeJournal(entry), FILE_SECRET);
    } catch (err) {
      // Without a journal nothing refers to what this call created: take it back (a full disk gets its space back).
      await Promise.all(created.map((file) => unlinkIfExists(file).catch(() => false)));
      throw err;
    }

    await withUpdateLock(this.layout.configDir, lockId('meta', name), () => this.writeMeta(stored));
    await this.linkLive(name, version);

    await unlinkIfExists(journal);
    await fsyncDir(this.layout.pendingRoot);
    return structuredClone(stored);
  }

  /** Writes renewal/<name>.json with the stamp of the certificate file the version's live link will name. */
  async writeMeta(meta: CertificateMeta, certStamp: FileStamp | undefined = this.archiveStamp(meta)): Promise<void> {
    await ensureDir(this.layout.renewalRoot, DIR_PUBLIC);
    await writeFileAtomic(this.layout.renewalFile(meta.name), serializeMeta(meta, certStamp), FILE_PUBLIC);
  }

  /** Removes live/<name> and its slots, archive/<name>, renewal/<name>.json and any journal; missing parts are fine. */
  async deleteLineage(name: string, guard: WriteGuard): Promise<void> {
    await checkGuard(guard);
    // Metadata first: once it is gone, list() no longer shows a half-deleted certificate. Under the metadata lock,
    // so an update read before cannot write the file back.
    await unlinkIfExists(this.layout.journalFile(name));
    await withUpdateLock(this.layout.configDir, lockId('meta', name), () => unlinkIfExists(this.layout.renewalFile(name)));
    await rm(this.layout.liveDir(name), { recursive: true, force: true });
    await Promise.all(SLOTS.map((slot) => rm(this.layout.slotDir(name, slot), { recursive: true, force: true })));
    await rm(this.layout.archiveDir(name), { recursive: true, force: true });
    for (const dir of [this.layout.pendingRoot, this.layout.renewalRoot, this.layout.liveRoot, this.layout.archiveRoot]) {
      await fsyncDir(dir).catch((err: unknown) => {
        if (errorCode(err) !== 'ENOENT') throw err;
      });
    }
  }

  /** Stamp of archive/<name>/cert<version>.pem, the file live/<name>/cert.pem will point to. */
  private archiveStamp(meta: CertificateMeta): FileStamp | undefined {
    try {
      return stampOf(statSync(path.join(this.layout.archiveDir(meta.name), `cert${meta.version}.pem`)));
    } catch {
      return undefined;
    }
  }

  /** The archive version all four files of live/<name>/ link to; undefined if there is none or they differ. */
  private async liveVersion(name: string): Promise<number | undefined> {
    const versions = await Promise.all(
      PEM_KINDS.map(async (kind) => {
        const target = await readlink(path.join(this.layout.liveDir(name), `${kind}.pem`)).catch(() => '');
        const prefix = `../../archive/${name}/${kind}`;
        const version = target.startsWith(prefix) && target.endsWith('.pem') ? target.slice(prefix.length, -'.pem'.length) : '';
        return /^[1-9][0-9]*$/.test(version) ? Number(version) : undefined;
      }),
    );
    const [first] = versions;
    return versions.every((v) => v !== undefined && v === first) ? first : undefined;
  }

  /**
   * Switches live/<name> to archive version `version` in one rename (see file-store.ts); nothing to do when
   * it is there already. The new slot gets, besides certman's own files, every entry operators keep in
   * live/<name>/ (see carry-over.ts): what is reachable there is never dropped by a switch.
   */
  async linkLive(name: string, version: number): Promise<void> {
    if ((await this.liveVersion(name)) === version) return;
    const live = this.layout.liveDir(name);
    const { source, slot, isFolder } = await this.slotPlan(name);
    const slotDir = this.layout.slotDir(name, slot);
    await ensureDir(this.layout.liveRoot, DIR_PUBLIC);
    // Whatever the slot held is a copy of what live/<name>/ shows (see slotPlan), or a switch cut short.
    await rm(slotDir, { recursive: true, force: true });
    await ensureDir(slotDir, DIR_PUBLIC);
    for (const kind of PEM_KINDS) {
      // Relative, like certbot's, so the tree can be moved or bind-mounted elsewhere.
      await symlink(`../../archive/${name}/${kind}${version}.pem`, path.join(slotDir, `${kind}.pem`));
    }
    await writeFileAtomic(path.join(slotDir, 'README'), readmeText(name), FILE_PUBLIC);
    if (source !== undefined) await carryOver(source, slotDir, isCertmanEntry);
    // Made inside the new slot, so a crash leaves no stray link in live/; its target is relative to live/.
    const link = tempPath(path.join(slotDir, 'live'));
    await symlink(slotName(name, slot), link);
    await fsyncDir(slotDir);
    try {
      if (isFolder) {
        // Parked in the other slot, which holds nothing of its own: live/<name> was not pointing to it.
        const other = this.layout.slotDir(name, 'b');
        await rm(other, { recursive: true, force: true });
        await rename(live, other);
      }
      await rename(link, live);
    } catch (err) {
      await unlink(link).catch(() => undefined);
      throw namingFile(err, live);
    }
    await fsyncDir(this.layout.liveRoot);
  }

  /**
   * The folder live/<name>/ shows now (its entries are carried over), whether it is a real folder (certman
   * before slots, a certbot copy) and the slot to build: never the one live/<name> points to. When
   * live/<name> is missing, a switch from a real folder was cut short after parking it in slot b (or
   * someone removed the link): the parked slot, else the only one, is the source and is kept.
   */
  private async slotPlan(name: string): Promise<{ source: string | undefined; slot: Slot; isFolder: boolean }> {
    const live = this.layout.liveDir(name);
    let target: string;
    try {
      target = await readlink(live);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'EINVAL') return { source: live, slot: 'a', isFolder: true };
      if (code !== 'ENOENT') throw err;
      for (const [kept, built] of [['b', 'a'], ['a', 'b']] as const) {
        if (await isDirectory(this.layout.slotDir(name, kept))) return { source: this.layout.slotDir(name, kept), slot: built, isFolder: false };
      }
      return { source: undefined, slot: 'a', isFolder: false };
    }
    const shown = path.resolve(this.layout.liveRoot, target);
    const slot: Slot = shown === this.layout.slotDir(name, 'a') ? 'b' : 'a';
    return { source: (await isDirectory(shown)) ? shown : undefined, slot, isFolder: false };
  }
}
