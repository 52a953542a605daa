/**
 * The Redis store (fleet mode): every node sharing one Redis sees the same lineages, accounts, leases, state and
 * pending tokens. This facade ties lineages.ts, accounts.ts, lease.ts, state.ts and tokens.ts to the store
 * interfaces over one connection (connection.ts); keys.ts says where each lives. Private keys are sealed with the
 * store key before they are sent (src/crypto/seal.ts): a store opened without one refuses to open.
 *
 * Consistency: every write that must not be lost or interleaved is one Lua script (a save's lease check, version
 * number, files, metadata and name; an update's compare-and-set), so there is no journal and nothing to repair.
 */
import type { SealKey } from '../../crypto/seal.js';
import type { CertificateFiles, CertificateMeta, NewCertificate } from '../../lineage/types.js';
import { validateName } from '../fs/names.js';
import type { Store } from '../index.js';
import type { Lease, LeaseOptions, LeaseTarget, StoredAccount, StoreProblem, TokenStore, WriteGuard } from '../types.js';
import { readRedisAccount, writeRedisAccount } from './accounts.js';
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';
import { takeRedisLease } from './lease.js';
import { RedisLineages } from './lineages.js';
import { getRedisState, updateRedisState } from './state.js';
import { RedisTokenStore } from './tokens.js';

export class RedisStore implements Store {
  readonly tokens: TokenStore;
  readonly location: string;
  private readonly lineages: RedisLineages;
  private lastProblems: StoreProblem[] = [];
  /** Leases taken through this store and not released yet. */
  private readonly held = new Set<Lease>();

  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly key: SealKey,
  ) {
    this.location = `${client.location} (prefix ${keys.prefix})`;
    this.lineages = new RedisLineages(client, keys, key);
    this.tokens = new RedisTokenStore(client, keys);
  }

  /**
   * Releases the leases still held (a run ending early, Ctrl-C), so other nodes need not wait for them to expire,
   * then closes the connection; the store is unusable afterwards. Bounded in time: each step waits at most one
   * command timeout, and a lease Redis could not be told about expires on its own.
   */
  async close(): Promise<void> {
    await Promise.all([...this.held].map((lease) => lease.release()));
    await this.client.close();
  }

  // ---- CertificateStore ----

  names(): Promise<string[]> {
    return this.lineages.names();
  }

  async list(): Promise<CertificateMeta[]> {
    const { metas, problems } = await this.lineages.list();
    this.lastProblems = problems;
    return metas;
  }

  problemDetails(): StoreProblem[] {
    return this.lastProblems.map((p) => ({ ...p }));
  }

  get(name: string): Promise<CertificateMeta | undefined> {
    return this.lineages.get(validateName(name));
  }

  readFiles(name: string): Promise<CertificateFiles> {
    return this.lineages.readFiles(validateName(name));
  }

  save(meta: NewCertificate, files: CertificateFiles, guard: WriteGuard): Promise<CertificateMeta> {
    validateName(meta.name);
    return this.lineages.save(meta, files, guard);
  }

  updateMeta(name: string, update: (current: CertificateMeta) => CertificateMeta | undefined): Promise<CertificateMeta> {
    return this.lineages.updateMeta(validateName(name), update);
  }

  delete(name: string, guard: WriteGuard): Promise<void> {
    return this.lineages.delete(validateName(name), guard);
  }

  // ---- AccountStore ----

  getAccount(server: string): Promise<StoredAccount | undefined> {
    return readRedisAccount(this.client, this.keys, this.key, server);
  }

  saveAccount(account: StoredAccount): Promise<void> {
    return writeRedisAccount(this.client, this.keys, this.key, account);
  }

  // ---- LeaseStore ----

  lease(target: LeaseTarget, options: LeaseOptions): Promise<Lease> {
    if ('certificate' in target) validateName(target.certificate);
    return takeRedisLease(this.client, this.keys.lease(target), target, options, this.held);
  }

  // ---- StateStore ----

  getState<T>(key: string): Promise<T | undefined> {
    return getRedisState<T>(this.client, this.keys, key);
  }

  updateState<T>(key: string, update: (current: T | undefined) => T): Promise<T> {
    return updateRedisState(this.client, this.keys, key, update);
  }
}
