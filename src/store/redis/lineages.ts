/**
 * Lineages in Redis (keys.ts): the metadata of the live version, and every version's four PEM files, the private
 * key sealed (src/crypto/seal.ts). A save is one Lua script (scripts.ts SAVE_VERSION) that checks the lease and
 * writes the version, its metadata and the name at once, so there is nothing to repair after a crash.
 */
import { CertmanError, LeaseLostError } from '../../errors.js';
import { seal, unseal, type SealKeys } from '../../crypto/seal.js';
import type { CertificateFiles, CertificateMeta, NewCertificate } from '../../lineage/types.js';
import { PEM_KINDS } from '../fs/layout.js';
import { CorruptFileError, parseMeta, serializeMeta, withNormalSerial } from '../fs/meta.js';
import { checkFiles } from '../fs/write-lineage.js';
import type { StoredVersion, StoreProblem, WriteGuard } from '../types.js';
import { compareAndSet } from './cas.js';
import { runScript, type RedisClient } from './connection.js';
import { fileField, type RedisKeys } from './keys.js';
import { isValidName } from '../fs/names.js';
import { describeLeaseTarget } from '../lease-wait.js';
import { DELETE_LINEAGE, LEASE_LOST, SAVE_VERSION, type Script } from './scripts.js';

/** Metadata keys per MGET when listing: small replies, parsed while the next are on their way. */
const LIST_BATCH = 1000;

export class RedisLineages {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly key: SealKeys,
  ) {}

  /** The names of the set that are certificate names: whoever can write Redis could add others (paths, escapes). */
  async names(): Promise<string[]> {
    return (await this.client.sMembers(this.keys.names)).filter(isValidName).sort();
  }

  /**
   * Every usable lineage's metadata, and the damaged ones as problems: MGETs of LIST_BATCH keys sent all at once
   * (one round trip), so each batch is parsed while Redis answers the next and no single reply holds them all.
   */
  async list(): Promise<{ metas: CertificateMeta[]; problems: StoreProblem[] }> {
    // In name order, like the filesystem store's listing (the contract's readers compare it).
    const names = await this.names();
    const batches: string[][] = [];
    for (let i = 0; i < names.length; i += LIST_BATCH) batches.push(names.slice(i, i + LIST_BATCH));
    const parsed = await Promise.all(batches.map(async (batch) => this.parseBatch(batch, await this.client.mGet(batch.map((name) => this.keys.meta(name))))));
    return { metas: parsed.flatMap((p) => p.metas), problems: parsed.flatMap((p) => p.problems) };
  }

  private parseBatch(names: string[], texts: (string | null)[]): { metas: CertificateMeta[]; problems: StoreProblem[] } {
    const metas: CertificateMeta[] = [];
    const problems: StoreProblem[] = [];
    names.forEach((name, i) => {
      const text = texts[i];
      if (text === null || text === undefined) return; // deleted since the name was read
      try {
        metas.push(parseMeta(text, name, this.keys.meta(name)));
      } catch (err) {
        if (!(err instanceof CorruptFileError)) throw err;
        problems.push(err.asProblem(name));
      }
    });
    return { metas, problems };
  }

  async get(name: string): Promise<CertificateMeta | undefined> {
    const text = await this.client.get(this.keys.meta(name));
    return text === null ? undefined : parseMeta(text, name, this.keys.meta(name));
  }

  async readFiles(name: string): Promise<CertificateFiles> {
    const meta = await this.get(name);
    if (meta === undefined) throw new CertmanError(`no certificate named "${name}"`);
    const texts = await this.client.hmGet(this.keys.files(name), PEM_KINDS.map((kind) => fileField(meta.version, kind)));
    const files: Partial<CertificateFiles> = {};
    PEM_KINDS.forEach((kind, i) => {
      const text = texts[i];
      if (typeof text !== 'string') throw new CorruptFileError(this.keys.files(name), `version ${meta.version} has no ${kind}`);
      files[kind] = kind === 'privkey' ? unseal(this.key, text, this.keys.privkeyPlace(name)) : text;
    });
    return files as CertificateFiles;
  }

  /** Every version whose four files are all there, oldest first (see StoreInventory.versions). */
  async versions(name: string): Promise<StoredVersion[]> {
    const fields = await this.client.hGetAll(this.keys.files(name));
    const numbers = new Set(Object.keys(fields).map((field) => Number(field.split(':')[0])).filter((n) => Number.isInteger(n) && n > 0));
    const versions: StoredVersion[] = [];
    for (const version of [...numbers].sort((a, b) => a - b)) {
      const texts = PEM_KINDS.map((kind) => fields[fileField(version, kind)]);
      if (texts.some((text) => text === undefined)) continue;
      const files = Object.fromEntries(PEM_KINDS.map((kind, i) => [kind, texts[i]])) as unknown as CertificateFiles;
      files.privkey = unseal(this.key, files.privkey, this.keys.privkeyPlace(name));
      versions.push({ version, files });
    }
    return versions;
  }

  async save(meta: NewCertificate, files: CertificateFiles, guard: WriteGuard): Promise<CertificateMeta> {
    const name = meta.name;
    checkFiles(files);
    // The version is the script's to choose, whatever `meta` carries.
    const rest: NewCertificate & { version?: number } = withNormalSerial(structuredClone(meta));
    delete rest.version;
    const sealed = seal(this.key[0], files.privkey, this.keys.privkeyPlace(name));
    await this.checkGuard(guard);
    const version = await this.leased(name, guard, SAVE_VERSION, [this.keys.meta(name), this.keys.files(name), this.keys.names], [
      files.cert,
      files.chain,
      files.fullchain,
      sealed,
      JSON.stringify(rest).slice(1),
      name,
      this.keys.changes,
    ]);
    return { ...rest, version: Number(version) };
  }

  async delete(name: string, guard: WriteGuard): Promise<void> {
    await this.checkGuard(guard);
    await this.leased(name, guard, DELETE_LINEAGE, [this.keys.meta(name), this.keys.files(name), this.keys.names], [name, this.keys.changes]);
  }

  /** See CertificateStore.updateMeta: a compare-and-set of the metadata, retried when a save or update came first. */
  updateMeta(name: string, update: (current: CertificateMeta) => CertificateMeta | undefined): Promise<CertificateMeta> {
    const key = this.keys.meta(name);
    return compareAndSet(this.client, key, (text) => {
      if (text === undefined) throw new CertmanError(`no certificate named "${name}"`);
      const current = parseMeta(text, name, key);
      const next = update(structuredClone(current));
      if (next === undefined) return { result: current };
      if (next.version !== current.version || next.name !== name) {
        throw new CertmanError(`cannot update certificate "${name}": an update must keep its name and version`);
      }
      const stored = withNormalSerial(structuredClone(next));
      return { write: serializeMeta(stored), result: stored };
    });
  }

  /** Refuses a write whose run was cancelled or whose lease is lost (the script checks the lease again). */
  private async checkGuard(guard: WriteGuard): Promise<void> {
    guard.signal?.throwIfAborted();
    await guard.lease.assertHeld();
    guard.signal?.throwIfAborted();
  }

  /** Runs a write script that first checks that the lineage's lease is still the guard's. */
  private async leased(name: string, guard: WriteGuard, script: Script, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await runScript(this.client, script, [this.keys.lease({ certificate: name }), ...keys], [guard.lease.owner, ...args]);
    } catch (err) {
      if (err instanceof Error && err.message.includes(LEASE_LOST)) throw new LeaseLostError(describeLeaseTarget({ certificate: name }));
      throw err;
    }
  }
}
