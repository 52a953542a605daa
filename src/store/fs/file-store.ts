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
 *   <configDir>/.locks/{cert,account,meta,state}.<id>.lock            leases between certman runs (lease.ts)
 *   <configDir>/challenges/                                            pending HTTP-01 tokens (tokens.ts)
 *   <configDir>/state/<key>.json                                       small JSON documents (state.ts)
 *
 * Every file is written with writeFileAtomic(). save() writes the archive version completely, then the
 * journal, then the metadata, then switches live/ and finally drops the journal. The switch is one rename:
 * the four links of the new version are made in the slot live/<name> does not point to, together with
 * whatever else operators keep in live/<name>/ (carry-over.ts), and a new live/<name> link to that slot
 * is renamed over the old one, so whoever reads live/<name>/ (a web server, or the files left by a crash
 * at any instant) sees all four files of one version, never a mix. A real folder at live/<name> (certman
 * before slots, a certbot copy) is moved into the other slot on the first switch: the one step during
 * which live/<name> is missing for an instant, once per certificate. A writable open finishes or rolls
 * back whatever a crash interrupted, holding the lineage's lease (recovery.ts).
 *
 * Opened with `trustedOwner` (0 when certman runs as root), the store uses no renewal/<name>.json and
 * applies no journal that another user could have written (trust.ts): they name the hooks root runs.
 *
 * Jobs: read-lineage.ts reads (and never writes: list(), get(), names(), readFiles() and a read-only open
 * create, sweep and repair nothing), write-lineage.ts writes versions and switches live/, recovery.ts
 * repairs interrupted switches, accounts.ts keeps ACME accounts, lease.ts/lock.ts the leases, state.ts
 * the state documents; this facade ties them to the store interfaces.
 *
 * Concurrency: operations on one certificate (or one account) are serialised within the process.
 * Between processes, writers hold the lineage's lease (save() and delete() check it just before they
 * commit), and read-modify-writes of metadata and state hold a short lock of their own. Temp files name
 * their writer's host and pid: a writable open (renewal/, .pending/), a lease (.locks/) and the next
 * write in their folder remove those of a dead writer of this host at once, anyone's after an hour
 * (atomic.ts); a slot's go with the slot when it is rebuilt.
 */
import { chmod } from 'node:fs/promises';
import path from 'node:path';

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
  StoredVersion,
  StoreInventory,
  StoreProblem,
  TokenStore,
  WriteGuard,
} from '../types.js';
import { readAccount, writeAccount } from './accounts.js';
import { readAllAccounts, readArchiveVersions } from './inventory.js';
import { makeDirs } from './atomic.js';
import { DIR_PUBLIC, FsLayout, ioError } from './layout.js';
import { lockId, takeFileLease, withUpdateLock } from './lease.js';
import { CorruptFileError } from './meta.js';
import { serverKey, validateName } from './names.js';
import { LineageReader } from './read-lineage.js';
import { recoverInterrupted, sweepRenewalTemps, type Repair } from './recovery.js';
import { readState, stateFilePath, writeState } from './state.js';
import { FsTokenStore } from './tokens.js';
import { checkFiles, LineageWriter } from './write-lineage.js';

export { PEM_KINDS, type PemKind } from './layout.js';
export type { Repair } from './recovery.js';

export interface FileStoreOptions {
  /** Use only metadata files and journals this user owns and alone may write (root's uid when running as root). */
  trustedOwner?: number;
  /** Only reading: create nothing, repair nothing (a user who may read the store but not write it). */
  readOnly?: boolean;
}

export class FileStore implements CertificateStore, AccountStore, LeaseStore, StateStore, StoreInventory, LiveLayout {
  /** Absolute config directory. */
  readonly configDir: string;
  /** Pending HTTP-01 tokens, in <configDir>/challenges/. */
  readonly tokens: TokenStore;
  private readonly layout: FsLayout;
  private readonly reader: LineageReader;
  private readonly writer: LineageWriter;
  private lastProblems: StoreProblem[] = [];
  private repairLog: Repair[] = [];
  private readonly queues = new Map<string, Promise<void>>();

  private constructor(
    configDir: string,
    private readonly trustedOwner: number | undefined,
  ) {
    this.configDir = configDir;
    this.layout = new FsLayout(configDir);
    this.reader = new LineageReader(this.layout, trustedOwner);
    this.writer = new LineageWriter(this.layout, this.reader);
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
   * Opens the config directory. Writable (the default): creates it if missing (mode 0755), finishes or rolls
   * back any live/ switch a crash interrupted (one readdir of .pending/ when nothing was) and removes temp
   * files dead writers left in renewal/. Sub-directories are created on first write. Read-only: touches
   * nothing. With `trustedOwner` (0 when certman runs as root), renewal/<name>.json files and journals another
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
    store.repairLog = await recoverInterrupted({
      layout: store.layout,
      reader: store.reader,
      writer: store.writer,
      leases: store,
      serialise: (name, work) => store.serialise(name, work),
      trustedOwner: store.trustedOwner,
    });
    await sweepRenewalTemps(store.layout);
    return store;
  }

  /** Absolute live/<name> path. */
  liveDir(name: string): string {
    return this.layout.liveDir(name);
  }

  /** Runs `work` after every earlier one queued under `key` in this process has finished. */
  private async serialise<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    }
  }

  // ---- CertificateStore ----

  names(): Promise<string[]> {
    return this.reader.names();
  }

  /**
   * Metadata of every usable certificate, sorted by name. Lineages whose metadata cannot be read, parsed or
   * (with `trustedOwner`) trusted, or whose live certificate is missing, are left out; {@link problemDetails}
   * lists them until the next list(). Writes nothing (read-lineage.ts).
   */
  async list(): Promise<CertificateMeta[]> {
    const { metas, problems } = await this.reader.list();
    this.lastProblems = problems;
    return metas;
  }

  /** The lineages the last list() left out, with the file, the reason and the error to report. */
  problemDetails(): StoreProblem[] {
    return this.lastProblems.map((p) => ({ ...p }));
  }

  /** What open() repaired (empty when nothing had been interrupted). */
  repairs(): Repair[] {
    return this.repairLog.map((r) => ({ ...r }));
  }

  async get(name: string): Promise<CertificateMeta | undefined> {
    validateName(name);
    let read;
    try {
      read = this.reader.read(name);
    } catch (err) {
      throw ioError(`cannot read ${this.layout.renewalFile(name)}`, err);
    }
    // Damaged live files make the lineage as unusable as damaged metadata: list() reports it, get() refuses it.
    if (read?.damage !== undefined) throw read.damage;
    return read?.meta;
  }

  readFiles(name: string): Promise<CertificateFiles> {
    validateName(name);
    return this.reader.readFiles(name);
  }

  async save(meta: NewCertificate, files: CertificateFiles, guard: WriteGuard): Promise<CertificateMeta> {
    const name = validateName(meta.name);
    checkFiles(files);
    return this.serialise(name, async () => {
      try {
        return await this.writer.saveVersion(name, meta, files, guard);
      } catch (err) {
        throw ioError(`cannot save certificate "${name}"`, err);
      }
    });
  }

  /**
   * Rewrites renewal/<name>.json only, as a read-modify-write under the lineage's metadata lock (saves take
   * it too), so neither a concurrent update nor a new version is lost. What a read learned in memory (a
   * certificate replaced by hand) is stored with it. CertmanError when there is no such lineage, or `update`
   * changed the name or version.
   */
  async updateMeta(name: string, update: (current: CertificateMeta) => CertificateMeta | undefined): Promise<CertificateMeta> {
    validateName(name);
    return this.serialise(name, () =>
      withUpdateLock(this.configDir, lockId('meta', name), async () => {
        try {
          const current = this.reader.readMeta(name);
          if (current === undefined) throw new CertmanError(`no certificate named "${name}"`);
          const next = update(structuredClone(current));
          if (next === undefined) return current;
          if (next.version !== current.version || next.name !== name) {
            throw new CertmanError(`cannot update certificate "${name}": an update must keep its name and version`);
          }
          await this.writer.writeMeta(structuredClone(next));
          return next;
        } catch (err) {
          throw ioError(`cannot update certificate "${name}"`, err);
        }
      }),
    );
  }

  async delete(name: string, guard: WriteGuard): Promise<void> {
    validateName(name);
    await this.serialise(name, async () => {
      try {
        await this.writer.deleteLineage(name, guard);
      } catch (err) {
        throw ioError(`cannot delete certificate "${name}"`, err);
      }
    });
  }

  // ---- StoreInventory ----

  versions(name: string): Promise<StoredVersion[]> {
    return readArchiveVersions(this.layout, validateName(name));
  }

  accounts(): Promise<StoredAccount[]> {
    return readAllAccounts(this.layout);
  }

  // ---- AccountStore ----

  getAccount(server: string): Promise<StoredAccount | undefined> {
    return readAccount(this.layout, server);
  }

  async saveAccount(account: StoredAccount): Promise<void> {
    await this.serialise(`account:${serverKey(account.server)}`, () => writeAccount(this.layout, account));
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
    return this.serialise(`state:${key}`, () => readState<T>(this.configDir, key));
  }

  /**
   * Read-modify-write of <configDir>/state/<key>.json under its lock file; keys are [a-z0-9-]+. A damaged
   * document is handed to `update` as none and replaced.
   */
  async updateState<T>(key: string, update: (current: T | undefined) => T): Promise<T> {
    stateFilePath(this.configDir, key);
    return this.serialise(`state:${key}`, () =>
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
}
