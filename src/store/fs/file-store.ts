/**
 * Filesystem store with certbot's layout, so existing web server configs keep working:
 *
 *   <configDir>/archive/<name>/{cert,chain,fullchain,privkey}<N>.pem   every version (dir 0700)
 *   <configDir>/live/<name> → .<name>.a (or .<name>.b)                 link to the slot of the live version
 *   <configDir>/live/.<name>.{a,b}/{cert,chain,fullchain,privkey}.pem  relative links ../../archive/<name>/*<N>.pem
 *   <configDir>/live/.<name>.{a,b}/README
 *   <configDir>/renewal/<name>.json                                    CertificateMeta + "format": 1
 *   <configDir>/accounts/<server-key>/{account.json,private_key.pem}  (dirs 0700)
 *   <configDir>/.pending/<name>                                        journal of a live/ switch in progress
 *   <configDir>/.locks/<name>.lock                                     lock between certman runs (lock.ts)
 *   <configDir>/state/<key>.json                                       small JSON documents (state.ts)
 *
 * Every file is written with writeFileAtomic(). save() writes the archive version completely, then the
 * journal, then the metadata, then switches live/ and finally drops the journal. The switch is one rename:
 * the four links of the new version are made in the slot live/<name> does not point to, together with
 * whatever else operators keep in live/<name>/ (carry-over.ts), and a new live/<name> link to that slot
 * is renamed over the old one, so whoever reads live/<name>/ (a web server, or the files left by a crash
 * at any instant) sees all four files of one version, never a mix. A real folder at live/<name> (certman
 * before slots, a certbot copy) is moved into the other slot on the first switch: the one step during
 * which live/<name> is missing for an instant, once per certificate. open() finishes or rolls back
 * whatever a crash interrupted, holding the config-dir lock writers take.
 *
 * Opened with `trustedOwner` (0 when certman runs as root), the store uses no renewal/<name>.json and
 * applies no journal that another user could have written (trust.ts): they name the hooks root runs.
 *
 * Concurrency: operations on one certificate (or one account) are serialised within the process.
 * Between processes, callers coordinate with lock() (a lease per name, see lock.ts). Temp files name
 * their writer's host and pid: list() (renewal/), lock() (.locks/), recovery (.pending/) and the next
 * write in their folder remove those of a dead writer of this host at once, anyone's after an hour
 * (atomic.ts); a slot's go with the slot when it is rebuilt.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, type Stats } from 'node:fs';
import { chmod, readdir, readFile, readlink, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';

import { normalizeSerial } from '../../crypto/certificate.js';
import { CertmanError } from '../../errors.js';
import type { CertificateFiles, CertificateMeta, NewCertificate } from '../../lineage/types.js';
import type {
  AccountStore,
  CertificateStore,
  Lease,
  LeaseOptions,
  LeaseStore,
  LeaseTarget,
  LiveLayout,
  StateStore,
  StoredAccount,
  StoreProblem,
  TokenStore,
  WriteGuard,
} from '../types.js';
import {
  ensureDir,
  errorCode,
  fsErrorHint,
  fsyncDir,
  isTempName,
  makeDirs,
  namingFile,
  removeAbandonedTemps,
  tempPath,
  unlinkIfExists,
  writeFileAtomic,
} from './atomic.js';
import { mapLimit } from '../../concurrency.js';
import { carryOver } from './carry-over.js';
import { lockId, takeFileLease, withUpdateLock } from './lease.js';
import {
  CorruptFileError,
  parseAccount,
  parseJournal,
  parseMetaFile,
  sameStamp,
  type FileStamp,
  serializeAccount,
  serializeJournal,
  serializeMeta,
  type JournalEntry,
} from './meta.js';
import { isValidName, parseServerUrl, serverKey, validateName } from './names.js';
import { readState, stateFilePath, writeState } from './state.js';
import { FsTokenStore } from './tokens.js';
import { readTrustedFileSync } from './trust.js';

/** The four PEM files of every version, in the order they are written and linked. */
export const PEM_KINDS = ['cert', 'chain', 'fullchain', 'privkey'] as const;
export type PemKind = (typeof PEM_KINDS)[number];

const FILE_PUBLIC = 0o644;
const FILE_SECRET = 0o600;
const DIR_PUBLIC = 0o755;
const DIR_SECRET = 0o700;

/** Certificates repaired at once by recover(): enough to hide latency, far below any open-files limit. */
const RECOVERY_CONCURRENCY = 16;

/** What certman itself puts in a live/ slot; anything else there is an operator's, and is carried over. */
const SLOT_OWN_ENTRIES = new Set<string>([...PEM_KINDS.map((kind) => `${kind}.pem`), 'README']);

function isCertmanEntry(entry: string): boolean {
  return SLOT_OWN_ENTRIES.has(entry);
}

const ARCHIVE_FILE = /^(cert|chain|fullchain|privkey)([1-9][0-9]*)\.pem$/;

export interface FileStoreOptions {
  /** Use only metadata files and journals this user owns and alone may write (root's uid when running as root). */
  trustedOwner?: number;
  /** Only reading: create nothing, repair nothing (a user who may read the store but not write it). */
  readOnly?: boolean;
}

/** What open() did about one interrupted live/ switch (see {@link FileStore.repairs}). */
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

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A file that could not be read (permissions, I/O), reported like a damaged one but saying so. */
function unreadable(file: string, err: unknown): CorruptFileError {
  const reason = errorMessage(err);
  const hint = fsErrorHint(err);
  return new CorruptFileError(file, reason, { message: `cannot read ${file}: ${reason}`, ...(hint === undefined ? {} : { hint }) });
}

function ioError(action: string, err: unknown): CertmanError {
  if (err instanceof CertmanError) return err;
  const detail = errorMessage(err);
  return new CertmanError(`${action}: ${detail}`, { cause: err, hint: fsErrorHint(err) });
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return [];
    throw err;
  }
}

async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}

async function fsyncDirIfExists(dir: string): Promise<void> {
  try {
    await fsyncDir(dir);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
}

/** The two slot folders beside live/<name>; live/<name> links to the one holding the live version. */
const SLOTS = ['a', 'b'] as const;
type Slot = (typeof SLOTS)[number];

function slotName(name: string, slot: Slot): string {
  return `.${name}.${slot}`;
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
function completeVersions(entries: readonly string[]): Set<number> {
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

function checkFiles(files: CertificateFiles): void {
  for (const kind of PEM_KINDS) {
    if (typeof files[kind] !== 'string') throw new CertmanError(`cannot save certificate: ${kind} is missing`);
  }
  for (const kind of ['cert', 'fullchain', 'privkey'] as const) {
    if (files[kind].trim() === '') throw new CertmanError(`cannot save certificate: ${kind} is empty`);
  }
}

function sameServer(a: string, b: string): boolean {
  try {
    return parseServerUrl(a).href === parseServerUrl(b).href;
  } catch {
    return false;
  }
}

export class FileStore implements CertificateStore, AccountStore, LeaseStore, StateStore, LiveLayout {
  /** Absolute config directory. */
  readonly configDir: string;
  private readonly archiveRoot: string;
  private readonly liveRoot: string;
  private readonly renewalRoot: string;
  private readonly accountsRoot: string;
  private readonly pendingRoot: string;
  private lastProblems: StoreProblem[] = [];
  /** Pending HTTP-01 tokens, in <configDir>/challenges/. */
  readonly tokens: TokenStore;
  private readonly repairLog: Repair[] = [];
  private readonly locks = new Map<string, Promise<void>>();

  /** Only files this user owns and alone may write are used as metadata (see trust.ts); any file when unset. */
  private readonly trustedOwner: number | undefined;

  private constructor(configDir: string, trustedOwner: number | undefined) {
    this.configDir = configDir;
    this.trustedOwner = trustedOwner;
    this.archiveRoot = path.join(configDir, 'archive');
    this.liveRoot = path.join(configDir, 'live');
    this.renewalRoot = path.join(configDir, 'renewal');
    this.accountsRoot = path.join(configDir, 'accounts');
    this.pendingRoot = path.join(configDir, '.pending');
    this.tokens = new FsTokenStore(configDir);
  }

  /** Where the store is, for messages. */
  get location(): string {
    return this.configDir;
  }

  /** The store's own live/ folders are what web servers read: deploying is naming them (src/deploy/). */
  get liveLayout(): LiveLayout {
    return this;
  }

  /**
   * Opens (creating it if missing, mode 0755) the config directory and finishes or rolls back any
   * live/ switch a crash interrupted. Costs one readdir of .pending/ when nothing was interrupted.
   * Sub-directories are created on first write, so opening an existing directory writes nothing.
   * With `trustedOwner` (0 when certman runs as root), renewal/<name>.json files and journals another
   * user could have written are refused (trust.ts): listed as problems, never applied.
   */
  static async open(configDir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const store = new FileStore(path.resolve(configDir), options.trustedOwner);
    if (options.readOnly === true) return store;
    try {
      const created = await makeDirs(store.configDir, DIR_PUBLIC);
      if (created !== undefined) await chmod(store.configDir, DIR_PUBLIC);
    } catch (err) {
      throw ioError(`cannot create config directory ${store.configDir}`, err);
    }
    await store.recover();
    return store;
  }

  // ---- paths ----

  private archiveDir(name: string): string {
    return path.join(this.archiveRoot, name);
  }

  /** Absolute live/<name> path. */
  liveDir(name: string): string {
    return path.join(this.liveRoot, validateName(name));
  }

  private renewalFile(name: string): string {
    return path.join(this.renewalRoot, `${name}.json`);
  }

  private journalFile(name: string): string {
    return path.join(this.pendingRoot, name);
  }

  private accountDir(server: string): string {
    return path.join(this.accountsRoot, ...serverKey(server).split('/'));
  }

  // ---- in-process serialisation ----

  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }

  // ---- CertificateStore ----

  /** Names of the lineages in renewal/ (hidden and temp files are not lineages), sorted; no file is read. */
  async names(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdirOrEmpty(this.renewalRoot);
    } catch (err) {
      throw ioError(`cannot list ${this.renewalRoot}`, err);
    }
    return entries
      .filter((entry) => entry.endsWith('.json') && !entry.startsWith('.'))
      .map((entry) => entry.slice(0, -'.json'.length))
      .filter(isValidName)
      .sort();
  }

  /**
   * Metadata of every certificate, sorted by name, read one after the other (see readMeta). Files that
   * cannot be read, parsed or (with `trustedOwner`) trusted are skipped; {@link problemDetails} lists
   * them until the next list().
   */
  async list(): Promise<CertificateMeta[]> {
    let entries: string[];
    try {
      entries = await readdirOrEmpty(this.renewalRoot);
    } catch (err) {
      throw ioError(`cannot list ${this.renewalRoot}`, err);
    }
    const problems: StoreProblem[] = [];
    const names: string[] = [];
    for (const entry of entries) {
      if (!entry.endsWith('.json') || entry.startsWith('.')) continue;
      const name = entry.slice(0, -'.json'.length);
      if (isValidName(name)) names.push(name);
      else problems.push(new CorruptFileError(path.join(this.renewalRoot, entry), 'not a valid certificate name').asProblem(name));
    }
    names.sort();
    const metas = names.map((name) => {
      try {
        return this.readMeta(name);
      } catch (err) {
        problems.push((err instanceof CorruptFileError ? err : unreadable(this.renewalFile(name), err)).asProblem(name));
        return undefined;
      }
    });
    this.lastProblems = problems.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return metas.filter((m): m is CertificateMeta => m !== undefined);
  }

  /**
   * Names whose renewal/<name>.json the last list() skipped because it was unreadable, not JSON,
   * of the wrong shape, of a newer format or not trusted (empty before the first list()).
   */
  problems(): string[] {
    return this.lastProblems.map((p) => p.name);
  }

  /** Like {@link problems}, with the file, the reason and the error to report. */
  problemDetails(): StoreProblem[] {
    return this.lastProblems.map((p) => ({ ...p }));
  }

  /** What open() repaired (empty when nothing had been interrupted). */
  repairs(): Repair[] {
    return this.repairLog.map((r) => ({ ...r }));
  }

  /** Metadata of one certificate; undefined if there is none; CorruptFileError if its file is damaged. */
  async get(name: string): Promise<CertificateMeta | undefined> {
    validateName(name);
    let meta: CertificateMeta | undefined;
    try {
      meta = this.readMeta(name);
    } catch (err) {
      throw ioError(`cannot read ${this.renewalFile(name)}`, err);
    }
    return meta;
  }

  async readFiles(name: string): Promise<CertificateFiles> {
    validateName(name);
    const dir = this.liveDir(name);
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

  /**
   * Stores a new version: N = highest number present in archive/<name>/ (or in the stored
   * metadata) + 1, whatever `meta` says; then journal, metadata, live/ links, journal removed.
   */
  async save(meta: NewCertificate, files: CertificateFiles, guard: WriteGuard): Promise<CertificateMeta> {
    const name = validateName(meta.name);
    checkFiles(files);
    return this.withLock(name, async () => {
      try {
        return await this.saveLocked(name, meta, files, guard);
      } catch (err) {
        throw ioError(`cannot save certificate "${name}"`, err);
      }
    });
  }

  private async saveLocked(name: string, meta: NewCertificate, files: CertificateFiles, guard: WriteGuard): Promise<CertificateMeta> {
    const archiveDir = this.archiveDir(name);
    await ensureDir(this.archiveRoot, DIR_SECRET);
    await ensureDir(archiveDir, DIR_SECRET);
    const entries = await readdir(archiveDir);
    await removeAbandonedTemps(archiveDir, entries);

    let previous: CertificateMeta | undefined;
    try {
      previous = this.readMeta(name);
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err; // a damaged file is replaced below
    }
    const version = Math.max(highestVersion(entries), previous?.version ?? 0) + 1;
    const stored: CertificateMeta = { ...structuredClone(meta), version };
    const archived = PEM_KINDS.map((kind) => path.join(archiveDir, `${kind}${version}.pem`));
    try {
      await Promise.all(PEM_KINDS.map((kind, i) => writeFileAtomic(archived[i] ?? '', files[kind], kind === 'privkey' ? FILE_SECRET : FILE_PUBLIC)));
      await ensureDir(this.pendingRoot, DIR_SECRET);
      // The commit point is the journal: from it on, the new version goes live even after a crash.
      guard.signal?.throwIfAborted();
      await guard.lease.assertHeld();
      const journal: JournalEntry = { version, meta: stored };
      await writeFileAtomic(this.journalFile(name), serializeJournal(journal), FILE_SECRET);
    } catch (err) {
      // Without a journal nothing refers to this version: take it back (a full disk gets its space back).
      await Promise.all(archived.map((file) => unlinkIfExists(file).catch(() => false)));
      throw err;
    }

    await withUpdateLock(this.configDir, lockId('meta', name), () => this.writeMeta(stored));
    await this.linkLive(name, version);

    await unlinkIfExists(this.journalFile(name));
    await fsyncDir(this.pendingRoot);
    return structuredClone(stored);
  }

  /**
   * Rewrites renewal/<name>.json only, as a read-modify-write under the lineage's metadata lock (saves take
   * it too), so neither a concurrent update nor a new version is lost. CertmanError when there is no such
   * lineage, or `update` changed the version.
   */
  async updateMeta(name: string, update: (current: CertificateMeta) => CertificateMeta | undefined): Promise<CertificateMeta> {
    validateName(name);
    return this.withLock(name, () =>
      withUpdateLock(this.configDir, lockId('meta', name), async () => {
        try {
          const current = this.readMeta(name);
          if (current === undefined) throw new CertmanError(`no certificate named "${name}"`);
          const next = update(structuredClone(current));
          if (next === undefined) return current;
          if (next.version !== current.version || next.name !== name) {
            throw new CertmanError(`cannot update certificate "${name}": an update must keep its name and version`);
          }
          await this.writeMeta(structuredClone(next));
          return next;
        } catch (err) {
          throw ioError(`cannot update certificate "${name}"`, err);
        }
      }),
    );
  }

  /** Removes live/<name>, archive/<name>, renewal/<name>.json and any journal entry. Missing parts are fine. */
  async delete(name: string, guard: WriteGuard): Promise<void> {
    validateName(name);
    await this.withLock(name, async () => {
      try {
        guard.signal?.throwIfAborted();
        await guard.lease.assertHeld();
        // Metadata first: once it is gone, list() no longer shows a half-deleted certificate.
        await unlinkIfExists(this.journalFile(name));
        await unlinkIfExists(this.renewalFile(name));
        await rm(this.liveDir(name), { recursive: true, force: true });
        await Promise.all(SLOTS.map((slot) => rm(path.join(this.liveRoot, slotName(name, slot)), { recursive: true, force: true })));
        await rm(this.archiveDir(name), { recursive: true, force: true });
        for (const dir of [this.pendingRoot, this.renewalRoot, this.liveRoot, this.archiveRoot]) await fsyncDirIfExists(dir);
      } catch (err) {
        throw ioError(`cannot delete certificate "${name}"`, err);
      }
    });
  }

  // ---- AccountStore ----

  /** The account for an ACME directory URL, or undefined (also if only half of it was ever written). */
  async getAccount(server: string): Promise<StoredAccount | undefined> {
    const dir = this.accountDir(server);
    const jsonFile = path.join(dir, 'account.json');
    try {
      let text: string;
      let keyPem: string;
      try {
        text = await readFile(jsonFile, 'utf8');
        keyPem = await readFile(path.join(dir, 'private_key.pem'), 'utf8');
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return undefined;
        throw err;
      }
      const data = parseAccount(text, jsonFile);
      // Two URLs that differ only in characters the key escapes share a folder: not our account then.
      if (!sameServer(data.server, server)) return undefined;
      const account: StoredAccount = { server: data.server, url: data.url, keyPem, createdAt: data.createdAt };
      if (data.email !== undefined) account.email = data.email;
      if (data.termsAgreed !== undefined) account.termsAgreed = data.termsAgreed;
      return account;
    } catch (err) {
      throw ioError(`cannot read the account in ${dir}`, err);
    }
  }

  /** Writes private_key.pem (0600) then account.json, each atomically, in folders of mode 0700. */
  async saveAccount(account: StoredAccount): Promise<void> {
    const key = serverKey(account.server);
    if (account.url.trim() === '') throw new CertmanError('cannot save account: its URL is empty');
    if (account.keyPem.trim() === '') throw new CertmanError('cannot save account: its key is empty');
    await this.withLock(`account:${key}`, async () => {
      let dir = this.accountsRoot;
      try {
        await ensureDir(dir, DIR_SECRET);
        for (const segment of key.split('/')) {
          dir = path.join(dir, segment);
          await ensureDir(dir, DIR_SECRET);
        }
        await removeAbandonedTemps(dir, await readdir(dir));
        await writeFileAtomic(path.join(dir, 'private_key.pem'), account.keyPem, FILE_SECRET);
        await writeFileAtomic(path.join(dir, 'account.json'), serializeAccount(account), FILE_PUBLIC);
      } catch (err) {
        throw ioError(`cannot save the account in ${dir}`, err);
      }
    });
  }

  // ---- LeaseStore ----

  /**
   * Takes the lease on a lineage or an account registration (<configDir>/.locks/, see lease.ts) against other
   * certman runs, on this machine and on others sharing the config dir. One left by a dead process of this
   * machine is taken over at once, one of another machine when it has expired. Not re-entrant.
   */
  async lease(target: LeaseTarget, options: LeaseOptions): Promise<Lease> {
    if ('certificate' in target) validateName(target.certificate);
    return takeFileLease(this.configDir, target, options);
  }

  // ---- StateStore ----

  /** The JSON document <configDir>/state/<key>.json; undefined if missing, CorruptFileError if not JSON. */
  async getState<T>(key: string): Promise<T | undefined> {
    stateFilePath(this.configDir, key);
    return this.withLock(`state:${key}`, () => readState<T>(this.configDir, key));
  }

  /**
   * Read-modify-write of <configDir>/state/<key>.json under its lock file; keys are [a-z0-9-]+. A damaged
   * document is handed to `update` as none and replaced.
   */
  async updateState<T>(key: string, update: (current: T | undefined) => T): Promise<T> {
    stateFilePath(this.configDir, key);
    return this.withLock(`state:${key}`, () =>
      withUpdateLock(this.configDir, lockId('state', key), async () => {
        // A damaged document counts as none: state documents are caches a write may replace.
        const current = await readState<T>(this.configDir, key).catch((err: unknown) => {
          if (err instanceof CorruptFileError) return undefined;
          throw err;
        });
        const next = update(current);
        await writeState(this.configDir, key, next);
        return next;
      }),
    );
  }

  // ---- internals ----

  /**
   * Synchronous on purpose: a renewal file is one small read, and `list()` over 10,000 of them is
   * several times faster without four thread-pool round trips (open, fstat, read, close) per file.
   * With `trustedOwner`, a file another user could have written is an UntrustedFileError.
   */
  private readMeta(name: string): CertificateMeta | undefined {
    const file = this.renewalFile(name);
    let text: string;
    try {
      text = readTrustedFileSync(file, this.trustedOwner);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    const { meta, certStamp } = parseMetaFile(text, name, file);
    return certStamp === undefined ? meta : this.checkReplacedByHand(meta, certStamp);
  }

  /**
   * One stat per certificate: when live/<name>/cert.pem is no longer the file the metadata was written for,
   * its serial and dates are read from the certificate itself. Only in memory: reads never write; the next
   * write of the lineage stores them.
   */
  private checkReplacedByHand(meta: CertificateMeta, recorded: FileStamp): CertificateMeta {
    const liveCert = path.join(this.liveDir(meta.name), 'cert.pem');
    let now: FileStamp;
    try {
      now = stampOf(statSync(liveCert));
    } catch {
      return meta; // no live certificate: nothing newer to learn
    }
    // A switch in progress (or cut short by a crash) writes the metadata before live/ follows: not by hand.
    if (sameStamp(now, recorded) || existsSync(this.journalFile(meta.name))) return meta;
    try {
      const x509 = new X509Certificate(readFileSync(liveCert));
      const refreshed: CertificateMeta = {
        ...meta,
        serial: normalizeSerial(x509.serialNumber),
        notBefore: new Date(x509.validFrom).toISOString(),
        notAfter: new Date(x509.validTo).toISOString(),
      };
      delete refreshed.ari; // the CA's window was for the certificate that is gone
      return refreshed;
    } catch {
      return meta;
    }
  }

  private async writeMeta(meta: CertificateMeta, certStamp: FileStamp | undefined = this.archiveStamp(meta)): Promise<void> {
    await ensureDir(this.renewalRoot, DIR_PUBLIC);
    await writeFileAtomic(this.renewalFile(meta.name), serializeMeta(meta, certStamp), FILE_PUBLIC);
  }

  /** Stamp of archive/<name>/cert<version>.pem, the file live/<name>/cert.pem will point to. */
  private archiveStamp(meta: CertificateMeta): FileStamp | undefined {
    try {
      return stampOf(statSync(path.join(this.archiveDir(meta.name), `cert${meta.version}.pem`)));
    } catch {
      return undefined;
    }
  }

  /** The archive version all four files of live/<name>/ link to; undefined if there is none or they differ. */
  private async liveVersion(name: string): Promise<number | undefined> {
    const versions = await Promise.all(
      PEM_KINDS.map(async (kind) => {
        const target = await readlink(path.join(this.liveDir(name), `${kind}.pem`)).catch(() => '');
        const prefix = `../../archive/${name}/${kind}`;
        const version = target.startsWith(prefix) && target.endsWith('.pem') ? target.slice(prefix.length, -'.pem'.length) : '';
        return /^[1-9][0-9]*$/.test(version) ? Number(version) : undefined;
      }),
    );
    const [first] = versions;
    return versions.every((v) => v !== undefined && v === first) ? first : undefined;
  }

  /**
   * Switches live/<name> to archive version `version` in one rename (see the file comment); nothing to do
   * when it is there already. The new slot gets, besides certman's own files, every entry operators keep
   * in live/<name>/ (see carry-over.ts): what is reachable there is never dropped by a switch.
   */
  private async linkLive(name: string, version: number): Promise<void> {
    if ((await this.liveVersion(name)) === version) return;
    const live = this.liveDir(name);
    const { source, slot, isFolder } = await this.slotPlan(name);
    const slotDir = this.slotDir(name, slot);
    await ensureDir(this.liveRoot, DIR_PUBLIC);
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
        const other = this.slotDir(name, 'b');
        await rm(other, { recursive: true, force: true });
        await rename(live, other);
      }
      await rename(link, live);
    } catch (err) {
      await unlink(link).catch(() => undefined);
      throw namingFile(err, live);
    }
    await fsyncDir(this.liveRoot);
  }

  private slotDir(name: string, slot: Slot): string {
    return path.join(this.liveRoot, slotName(name, slot));
  }

  /**
   * The folder live/<name>/ shows now (its entries are carried over), whether it is a real folder (certman
   * before slots, a certbot copy) and the slot to build: never the one live/<name> points to. When
   * live/<name> is missing, a switch from a real folder was cut short after parking it in slot b (or
   * someone removed the link): the parked slot, else the only one, is the source and is kept.
   */
  private async slotPlan(name: string): Promise<{ source: string | undefined; slot: Slot; isFolder: boolean }> {
    const live = this.liveDir(name);
    let target: string;
    try {
      target = await readlink(live);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'EINVAL') return { source: live, slot: 'a', isFolder: true };
      if (code !== 'ENOENT') throw err;
      for (const [kept, built] of [['b', 'a'], ['a', 'b']] as const) {
        if (await isDirectory(this.slotDir(name, kept))) return { source: this.slotDir(name, kept), slot: built, isFolder: false };
      }
      return { source: undefined, slot: 'a', isFolder: false };
    }
    const shown = path.resolve(this.liveRoot, target);
    const slot: Slot = shown === this.slotDir(name, 'a') ? 'b' : 'a';
    return { source: (await isDirectory(shown)) ? shown : undefined, slot, isFolder: false };
  }

  /** `base` moved to `version`, with serial and validity taken from that version's certificate when readable. */
  private async metaForVersion(base: CertificateMeta, version: number): Promise<CertificateMeta> {
    const meta: CertificateMeta = { ...structuredClone(base), version };
    try {
      const x509 = new X509Certificate(await readFile(path.join(this.archiveDir(base.name), `cert${version}.pem`)));
      const notBefore = new Date(x509.validFrom);
      const notAfter = new Date(x509.validTo);
      meta.serial = normalizeSerial(x509.serialNumber);
      if (!Number.isNaN(notBefore.getTime())) meta.notBefore = notBefore.toISOString();
      if (!Number.isNaN(notAfter.getTime())) meta.notAfter = notAfter.toISOString();
    } catch {
      // Not parseable: keep the previous values, renew will replace the certificate anyway.
    }
    return meta;
  }

  /**
   * Reads .pending/ once and repairs each interrupted switch, holding the lock writers take (a journal
   * seen while a writer holds it is that writer's work in progress). Never throws for one certificate.
   */
  private async recover(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.pendingRoot);
    } catch (err) {
      const code = errorCode(err);
      // Not there: nothing was ever interrupted. Not readable: a read-only user; a privileged run repairs.
      if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') return;
      throw ioError(`cannot read ${this.pendingRoot}`, err);
    }
    if (entries.length === 0) return;
    await removeAbandonedTemps(this.pendingRoot, entries).catch(() => undefined);
    const names = entries.filter((e) => !isTempName(e) && isValidName(e)).sort();
    await mapLimit(names, RECOVERY_CONCURRENCY, async (name) => {
      let lease: Lease;
      try {
        lease = await this.lease({ certificate: name }, { wait: false });
      } catch {
        // A writer is at work on it (it or the next run repairs), or the store cannot be written (nor repaired).
        return;
      }
      try {
        this.repairLog.push(await this.withLock(name, () => this.recoverOne(name)));
      } catch (err) {
        this.repairLog.push({ name, outcome: 'failed', detail: errorMessage(err) });
      } finally {
        await lease.release();
      }
    });
    this.repairLog.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async recoverOne(name: string): Promise<Repair> {
    const journalPath = this.journalFile(name);
    let journal: JournalEntry | undefined;
    try {
      // Refused when another user could have written it: the repair fails, the journal stays for someone to look at.
      journal = parseJournal(readTrustedFileSync(journalPath, this.trustedOwner), name);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
    const complete = completeVersions(await readdirOrEmpty(this.archiveDir(name)));
    let current: CertificateMeta | undefined;
    try {
      current = this.readMeta(name);
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
      else if (current !== undefined) newMeta = await this.metaForVersion(current, target);
    } else {
      // Crashed before the new version was complete: go back to the recorded (or newest complete) one.
      outcome = 'rolled-back';
      if (current !== undefined && complete.has(current.version)) {
        target = current.version;
      } else if (complete.size > 0) {
        target = Math.max(...complete);
        if (current !== undefined) newMeta = await this.metaForVersion(current, target);
      }
    }

    if (newMeta !== undefined) await this.writeMeta(newMeta);
    if (target !== undefined) await this.linkLive(name, target);
    await unlinkIfExists(journalPath);
    await fsyncDir(this.pendingRoot);
    return target === undefined ? { name, outcome: 'discarded' } : { name, outcome, version: target };
  }
}

function stampOf(stats: Stats): FileStamp {
  return { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
}
