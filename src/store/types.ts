/**
 * What certman keeps between runs, independent of where it is kept.
 * The filesystem store (certbot-style live/ + archive/) implements these; a Redis store comes later.
 */
import type { CertmanError } from '../errors.js';

export type KeySpec = { type: 'ecdsa'; curve: 'p256' | 'p384' } | { type: 'rsa'; bits: 2048 | 3072 | 4096 };

/** How the HTTP-01 tokens of a certificate are published; `renew` repeats it. */
export type ChallengeMethod =
  | { kind: 'webroot'; webroot: string }
  | { kind: 'standalone'; port: number; address?: string }
  | { kind: 'responder' };

export interface HookCommands {
  pre?: string;
  post?: string;
  deploy?: string;
}

/** Everything `renew` and `certificates` need, readable without parsing any PEM. */
export interface CertificateMeta {
  /** Lineage name: the folder under live/ and archive/. */
  name: string;
  /** ASCII (punycode) DNS names, first one is the common name. */
  domains: string[];
  key: KeySpec;
  reuseKey: boolean;
  method: ChallengeMethod;
  /** ACME directory URL the certificate was issued by. */
  server: string;
  accountUrl: string;
  /** Archive version currently linked from live/ (cert<version>.pem). */
  version: number;
  /** Lowercase hex serial number without separators. */
  serial: string;
  /** ISO 8601 timestamps of the certificate's validity. */
  notBefore: string;
  notAfter: string;
  /** Per-certificate override of the renewal window in days. */
  renewDays?: number;
  hooks?: HookCommands;
  revoked?: { at: string; reason: string };
  /** The CA's ARI renewal window (RFC 9773) and the time certman picked inside it. */
  ari?: AriState;
}

export interface AriState {
  /** ISO times of the CA's suggestedWindow. */
  windowStart: string;
  windowEnd: string;
  /** Uniformly random time inside the window, chosen once and kept until the window changes. */
  renewAt: string;
  /** Do not ask the CA again before this time (its Retry-After). */
  nextCheck: string;
  explanationUrl?: string;
}

/** PEM texts of one certificate version. */
export interface CertificateFiles {
  cert: string;
  chain: string;
  fullchain: string;
  privkey: string;
}

/** The metadata a caller supplies when saving a new version; the store assigns `version`. */
export type NewCertificate = Omit<CertificateMeta, 'version'>;

/** A certificate whose stored metadata exists but cannot be used: damaged, or (as root) changeable by others. */
export interface StoreProblem {
  name: string;
  file: string;
  reason: string;
  /** What to report for that certificate: says which file and what to do. */
  error: CertmanError;
}

export interface CertificateStore {
  /** Every certificate whose metadata can be used; the others are in {@link problemDetails}. */
  list(): Promise<CertificateMeta[]>;
  /** The certificates the last list() left out, and why (empty before the first list()). */
  problemDetails(): StoreProblem[];
  get(name: string): Promise<CertificateMeta | undefined>;
  /** PEM files of the live version. */
  readFiles(name: string): Promise<CertificateFiles>;
  /**
   * Writes a new archive version and only then switches live/ to it.
   * A crash at any point leaves live/ on a complete, matching version (repaired on next open).
   */
  save(meta: NewCertificate, files: CertificateFiles): Promise<CertificateMeta>;
  /** Rewrites metadata only (e.g. revocation, hooks), never the PEM files. */
  updateMeta(meta: CertificateMeta): Promise<void>;
  delete(name: string): Promise<void>;
  /** Where a user finds the live files, for messages (e.g. "/etc/certman/live/example.com"). */
  location(name: string): string;
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
}

export interface LockOptions {
  /** Wait for the current holder instead of failing at once. */
  wait: boolean;
  /** With wait: give up after this long. */
  timeoutMs?: number;
  /**
   * How long the lock stays held for other hosts if its holder stops extending it (it dies or hangs).
   * The holder extends it while it runs. Default: one minute.
   */
  leaseMs?: number;
}

/** A held lock: a lease its holder keeps extending until release() (which checks it is still the owner). */
export interface StoreLock {
  release(): Promise<void>;
}

/**
 * Mutual exclusion between certman runs sharing a store. A holder that died blocks the next run for at
 * most one lease (on its own host not at all). The filesystem store's locks also hold between hosts
 * sharing the config dir (NFS), as leases.
 */
export interface LockingStore {
  /** Throws LockedError (exit 75) when held elsewhere and `wait` is false. */
  lock(name: string, options: LockOptions): Promise<StoreLock>;
}

/** Small JSON documents that are neither certificates nor accounts (failure budget, schedule). */
export interface StateStore {
  getState<T>(key: string): Promise<T | undefined>;
  putState(key: string, value: unknown): Promise<void>;
}

export interface AccountStore {
  getAccount(server: string): Promise<StoredAccount | undefined>;
  saveAccount(account: StoredAccount): Promise<void>;
}
