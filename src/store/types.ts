/**
 * What certman keeps between runs, independent of where it is kept: lineages, accounts, leases, small state
 * documents and pending challenge tokens. Every backend implements all of it and passes the contract suite
 * (test/contract/). The filesystem store (certbot's layout) is the only one today; Redis comes next.
 */
import type { CertmanError } from '../errors.js';
import type { CertificateFiles, CertificateMeta, NewCertificate } from '../lineage/types.js';

/** A certificate whose stored metadata exists but cannot be used: damaged, or (as root) changeable by others. */
export interface StoreProblem {
  name: string;
  file: string;
  reason: string;
  /** What to report for that certificate: says which file and what to do. */
  error: CertmanError;
}

/**
 * Proof that a write to one lineage is this run's to make: the lease on it (see {@link LeaseStore}) and
 * the run's cancellation. Writes check both just before their commit point, never after it.
 */
export interface WriteGuard {
  lease: Lease;
  signal?: AbortSignal;
}

export interface CertificateStore {
  /** Names of every stored lineage, sorted, without reading their metadata (shell completion). */
  names(): Promise<string[]>;
  /**
   * Every lineage whose metadata can be used, sorted by name; the others are in {@link problemDetails}.
   * Never writes: what it learns (a certificate replaced by hand) is kept in memory and persisted by the
   * next write of that lineage.
   */
  list(): Promise<CertificateMeta[]>;
  /** The lineages the last list() left out or found damaged, and why (empty before the first list()). */
  problemDetails(): StoreProblem[];
  /** Metadata of one lineage; undefined if there is none; a CorruptFileError when it is damaged. Never writes. */
  get(name: string): Promise<CertificateMeta | undefined>;
  /** PEM texts of the live version. */
  readFiles(name: string): Promise<CertificateFiles>;
  /**
   * Stores a new version and makes it the live one, atomically: a crash at any point leaves the previous or
   * the new version live, complete (repaired on the next writable open). Refuses (LeaseLostError, or the
   * signal's reason) when the guard's lease is lost or its signal fired before the commit point.
   */
  save(meta: NewCertificate, files: CertificateFiles, guard: WriteGuard): Promise<CertificateMeta>;
  /**
   * Read-modify-write of one lineage's metadata (never its PEM files) that loses no concurrent update:
   * `update` gets the current metadata and returns the new one (or undefined to leave it). Throws when
   * there is no such lineage. The update must keep `version`.
   */
  updateMeta(name: string, update: (current: CertificateMeta) => CertificateMeta | undefined): Promise<CertificateMeta>;
  /** Removes every version and the metadata; missing parts are fine. */
  delete(name: string, guard: WriteGuard): Promise<void>;
}

/**
 * A store whose own files are certbot's live/ layout on this host (the filesystem store): deploying a
 * version is then only naming its files (src/deploy/).
 */
export interface LiveLayout {
  /** The live/<name> folder web servers read. */
  liveDir(name: string): string;
}

export interface StoredAccount {
  /** ACME directory URL the account belongs to. */
  server: string;
  /** Account URL (the JWS kid). */
  url: string;
  email?: string;
  /** PKCS#8 PEM private key, ECDSA P-256. */
  keyPem: string;
  createdAt: string;
  /**
   * The terms of service the owner agreed to when certman last registered the account: the directory's
   * `termsOfService` URL then (no `url` when the CA named none). Absent for accounts registered before
   * certman recorded it and for imported ones; certman re-registers a lost account only when it is set.
   */
  termsAgreed?: { url?: string };
  /**
   * The new key of an account key rollover (RFC 8555 §7.3.5) while it is not known whether the CA took it: saved
   * before the keyChange is sent, promoted to `keyPem` once the CA is known to hold it (src/registration/rollover.ts).
   */
  pendingKeyPem?: string;
  /** When the account was deactivated through certman (RFC 8555 §7.3.6): nothing is signed with it any more. */
  deactivatedAt?: string;
}

export interface LeaseOptions {
  /** Wait for the current holder instead of failing at once with LockedError (exit 75). */
  wait: boolean;
  /** With wait: give up after this long. */
  timeoutMs?: number;
  /** How long the lease holds for others if its holder stops extending it (dies, hangs). Default: one minute. */
  leaseMs?: number;
  /** Ends a wait early (with the signal's reason). */
  signal?: AbortSignal;
}

/** What a lease is held on: one lineage, or the account registration at one CA. */
export type LeaseTarget = { certificate: string } | { account: string };

/** A held lease: an owner id and an expiry its holder keeps extending until release(). */
export interface Lease {
  /** Random id of this holding. */
  readonly owner: string;
  /** Aborted when the lease is lost (it expired while its holder stalled, or another run took it over). */
  readonly signal: AbortSignal;
  /** Throws LeaseLostError unless the backend still records this holding, unexpired. */
  assertHeld(): Promise<void>;
  /** Gives the lease up if still held; a second call does nothing; never throws. */
  release(): Promise<void>;
}

/**
 * Mutual exclusion between certman runs sharing a store, on one host or many: a holder that died blocks the
 * next run for at most one lease (on its own host of the filesystem store, not at all).
 */
export interface LeaseStore {
  /** Throws LockedError (exit 75) when held by another run and `wait` is false, or the wait timed out. */
  lease(target: LeaseTarget, options: LeaseOptions): Promise<Lease>;
}

/** Small JSON documents that are neither certificates nor accounts (failure budget, ARI servers, rate limits). */
export interface StateStore {
  getState<T>(key: string): Promise<T | undefined>;
  /**
   * Read-modify-write that loses no concurrent update from any run: `update` gets the current document (undefined
   * when there is none) and returns the new one. Returns what was stored.
   */
  updateState<T>(key: string, update: (current: T | undefined) => T): Promise<T>;
}

/** A pending HTTP-01 key authorization (see {@link TokenStore}). */
export interface PendingToken {
  keyAuthorization: string;
  /** The ASCII (punycode) name the token was issued for, lowercase. */
  domain: string;
  /** Epoch milliseconds when it stops being pending, when the backend says (serve-challenge remembers it until then). */
  expiresAt?: number;
}

/**
 * Where pending HTTP-01 key authorizations live between the run that publishes them (`issue` or `renew`
 * with `--responder`) and the long-running `serve-challenge` that answers the CA.
 */
export interface TokenStore {
  /** Makes the token pending for `ttlMs`; durable once the promise resolves (the CA may fetch at once). */
  put(token: string, keyAuthorization: string, domain: string, ttlMs: number): Promise<void>;
  /** The pending entry, or undefined when the token is unknown, expired or not a valid token. */
  get(token: string): Promise<PendingToken | undefined>;
  /** Withdraws the token; a missing one is not an error. */
  delete(token: string): Promise<void>;
  /** How many tokens are pending now (serve-challenge's metrics); only reads. */
  pendingCount?(): Promise<number>;
}

/** One stored version of a lineage: its number and its four PEM files. */
export interface StoredVersion {
  version: number;
  files: CertificateFiles;
}

/** What moving a whole store elsewhere (`certman store migrate`) reads beyond what commands use every day. */
export interface StoreInventory {
  /** Every complete version a lineage keeps, oldest first, the live one included; never writes. */
  versions(name: string): Promise<StoredVersion[]>;
  /** Every stored account, in no particular order; never writes. */
  accounts(): Promise<StoredAccount[]>;
}

export interface AccountStore {
  getAccount(server: string): Promise<StoredAccount | undefined>;
  saveAccount(account: StoredAccount): Promise<void>;
}

/** The connection behind a change feed was lost (changes made meanwhile are not told: read everything again once it is back), or is back. */
export type ChangeFeedState = { state: 'down'; error: unknown } | { state: 'up' };

/** A running change feed (see Store.watch). */
export interface ChangeFeed {
  /** Stops it and lets go of its connection. */
  close(): Promise<void>;
}
