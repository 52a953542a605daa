/**
 * Reading lineages of the filesystem store: renewal/<name>.json and the live certificate. Nothing here
 * writes, creates or removes anything: a user who may read the store but not write it (a monitoring
 * account) gets the same answers as root, and listing a restored backup costs no writes.
 */
import { existsSync, readFileSync, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { readCertificateInfo } from '../../crypto/certificate.js';
import { CertmanError } from '../../errors.js';
import type { CertificateFiles, CertificateMeta } from '../../lineage/types.js';
import type { StoreProblem } from '../types.js';
import { errorCode } from './atomic.js';
import { byName, ioError, readdirOrEmpty, unreadable, type FsLayout, type PemKind } from './layout.js';
import { CorruptFileError, parseMetaFile, sameStamp, type FileStamp } from './meta.js';
import { isValidName } from './names.js';
import { readTrustedFileSync } from './trust.js';

export function stampOf(stats: Stats): FileStamp {
  return { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
}

/** One lineage's metadata as read, and what is wrong with its live certificate, if anything. */
export interface ReadLineage {
  meta: CertificateMeta;
  /** live/<name>/cert.pem is missing or not a certificate file: the lineage is damaged. */
  damage?: CorruptFileError;
}

/** Errors of a stat that say the file is not there (a dangling link, a missing folder). */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

export class LineageReader {
  constructor(
    private readonly layout: FsLayout,
    /** Only files this user owns and alone may write are used as metadata (see trust.ts); any file when unset. */
    private readonly trustedOwner: number | undefined,
  ) {}

  /** Names of the lineages in renewal/ (hidden and temp files are not lineages), sorted; no file is read. */
  async names(): Promise<string[]> {
    return (await this.renewalEntries()).names;
  }

  /**
   * Every lineage whose metadata and live certificate can be used, sorted, and the problems of the others:
   * metadata that cannot be read, parsed or (with `trustedOwner`) trusted, and live certificates that are
   * missing. Read one after the other, synchronously (see readMeta).
   */
  async list(): Promise<{ metas: CertificateMeta[]; problems: StoreProblem[] }> {
    const { names, problems } = await this.renewalEntries();
    const metas: CertificateMeta[] = [];
    for (const name of names) {
      try {
        const read = this.read(name);
        if (read?.damage !== undefined) problems.push(read.damage.asProblem(name));
        else if (read !== undefined) metas.push(read.meta);
      } catch (err) {
        problems.push((err instanceof CorruptFileError ? err : unreadable(this.layout.renewalFile(name), err)).asProblem(name));
      }
    }
    return { metas, problems: problems.sort(byName) };
  }

  /** Metadata of one lineage (see {@link read}); undefined if there is none. */
  readMeta(name: string): CertificateMeta | undefined {
    return this.read(name)?.meta;
  }

  /**
   * Synchronous on purpose: a renewal file is one small read, and `list()` over 10,000 of them is several
   * times faster without four thread-pool round trips (open, fstat, read, close) per file. With
   * `trustedOwner`, a file another user could have written is an UntrustedFileError.
   */
  read(name: string): ReadLineage | undefined {
    const file = this.layout.renewalFile(name);
    let text: string;
    try {
      text = readTrustedFileSync(file, this.trustedOwner);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    const { meta, certStamp } = parseMetaFile(text, name, file);
    return this.checkLive(meta, certStamp);
  }

  async readFiles(name: string): Promise<CertificateFiles> {
    const dir = this.layout.liveDir(name);
    const read = (kind: PemKind): Promise<string> => readFile(path.join(dir, `${kind}.pem`), 'utf8');
    try {
      const [cert, chain, fullchain, privkey] = await Promise.all([read('cert'), read('chain'), read('fullchain'), read('privkey')]);
      return { cert, chain, fullchain, privkey };
    } catch (err) {
      if (errorCode(err) === 'ENOENT') {
        throw new CertmanError(`no live files for certificate "${name}" in ${dir}`, { cause: err });
      }
      throw ioError(`cannot read the files of certificate "${name}"`, err);
    }
  }

  private async renewalEntries(): Promise<{ names: string[]; problems: StoreProblem[] }> {
    let entries: string[];
    try {
      entries = await readdirOrEmpty(this.layout.renewalRoot);
    } catch (err) {
      throw ioError(`cannot list ${this.layout.renewalRoot}`, err);
    }
    const names: string[] = [];
    const problems: StoreProblem[] = [];
    for (const entry of entries) {
      if (!entry.endsWith('.json') || entry.startsWith('.')) continue;
      const name = entry.slice(0, -'.json'.length);
      if (isValidName(name)) names.push(name);
      else problems.push(new CorruptFileError(path.join(this.layout.renewalRoot, entry), 'not a valid certificate name').asProblem(name));
    }
    return { names: names.sort(), problems };
  }

  /**
   * One stat of live/<name>/cert.pem per lineage. Missing (or not a file): the lineage is damaged, unless a
   * switch is in progress or was cut short (it writes the metadata before live/ follows). No longer the file
   * the metadata was written for: replaced by hand, so serial and dates are read from the certificate itself,
   * in memory only; the next write of the lineage stores them. A stat this user may not make (a monitoring
   * account and a 0700 archive/) says nothing either way.
   */
  private checkLive(meta: CertificateMeta, recorded: FileStamp | undefined): ReadLineage {
    const liveCert = path.join(this.layout.liveDir(meta.name), 'cert.pem');
    let stats: Stats;
    try {
      stats = statSync(liveCert);
    } catch (err) {
      const code = errorCode(err);
      if (code === undefined || !MISSING.has(code) || this.switching(meta.name)) return { meta };
      return { meta, damage: this.liveDamage(liveCert, 'the live certificate is missing') };
    }
    if (!stats.isFile() || stats.size === 0) {
      return { meta, damage: this.liveDamage(liveCert, stats.isFile() ? 'the live certificate is empty' : 'the live certificate is not a file') };
    }
    if (recorded === undefined || sameStamp(stampOf(stats), recorded) || this.switching(meta.name)) return { meta };
    try {
      const info = readCertificateInfo(readFileSync(liveCert, 'utf8'));
      const refreshed: CertificateMeta = { ...meta, serial: info.serial, notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString() };
      delete refreshed.ari; // the CA's window was for the certificate that is gone
      return { meta: refreshed };
    } catch {
      return { meta }; // not parseable: renew replaces it anyway
    }
  }

  private switching(name: string): boolean {
    return existsSync(this.layout.journalFile(name));
  }

  private liveDamage(file: string, reason: string): CorruptFileError {
    return new CorruptFileError(file, reason, {
      message: `${file}: ${reason}`,
      hint: 'Restore live/ and archive/ of that certificate from a backup, or delete it and issue it again.',
    });
  }
}
