/**
 * What a certificate lineage is, whatever stores it: its metadata, the key it asks for, how its challenges
 * are answered, and the PEM texts of one version. The store keeps these; the core reasons about them.
 */
export type KeySpec = { type: 'ecdsa'; curve: 'p256' | 'p384' } | { type: 'rsa'; bits: 2048 | 3072 | 4096 };

/** How this host publishes the HTTP-01 tokens of an order. */
export type ChallengeMethod =
  | { kind: 'webroot'; webroot: string; webroots?: WebrootMap }
  | { kind: 'standalone'; port: number; address?: string }
  | { kind: 'responder' };

/**
 * How a lineage's tokens are published, as stored for `renew` to repeat. A store that other hosts may share
 * keeps only the kind: the folder, port and address are each host's own (src/lineage/node-local.ts).
 */
export type StoredMethod =
  | { kind: 'webroot'; webroot?: string; webroots?: WebrootMap }
  | { kind: 'standalone'; port?: number; address?: string }
  | { kind: 'responder' };

/** certbot's several webroots in one order: the folder of each name that does not use the method's `webroot`. */
export type WebrootMap = Record<string, string>;

/** Files each new version is copied to (absolute paths), besides live/. */
export interface CopyPaths {
  cert?: string;
  key?: string;
  fullchain?: string;
  chain?: string;
}

export interface HookCommands {
  pre?: string;
  post?: string;
  deploy?: string;
}

/** Everything `renew` and `certificates` need, readable without parsing any PEM. */
export interface CertificateMeta {
  /** Lineage name: the folder under live/ and archive/. */
  name: string;
  /**
   * ASCII (punycode) DNS names and IP addresses (RFC 8738, in ip.ts's one spelling); the first DNS name is the
   * common name (an address-only certificate has none).
   */
  domains: string[];
  key: KeySpec;
  reuseKey: boolean;
  method: StoredMethod;
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
  /** certbot's --cert-path etc.: where each saved version is also copied. Node-local: never in a shared store. */
  copyTo?: CopyPaths;
  revoked?: { at: string; reason: string };
  /** The CA's ARI renewal window (RFC 9773) and the time certman picked inside it. */
  ari?: AriState;
  /** The CA profile the certificate was ordered with (draft-ietf-acme-profiles); renew orders it again. */
  profile?: string;
  /** `--preferred-chain`: the issuer common name of the topmost certificate of the chain to prefer (RFC 8555 §7.4.2). */
  preferredChain?: string;
  /**
   * `issue --endpoint`: where this certificate is served (`host[:port]`), checked by `certman check` and
   * `--verify-deploy` before the config's `endpoints`. Node-local: never in a shared store.
   */
  endpoints?: string[];
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
