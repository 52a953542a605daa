import type { HookCommands } from '../lineage/types.js';
import type { EndpointsConfig } from '../served/endpoint.js';

/** Keys accepted in a certman config file (JSON or YAML, see load.ts). */
export interface FileConfig {
  email?: string;
  /** Directory URL or alias (`letsencrypt`, `letsencrypt-staging`). */
  server?: string;
  caFile?: string;
  /** Where certificates, accounts and tokens are kept: a folder or file: URL (default: the config dir). */
  store?: string;
  /** Prefix of every key in a Redis store (default `certman:`), so several stores can share one Redis. */
  storePrefix?: string;
  /** File holding the store key a Redis store seals private keys with (never the key itself: config is not secret). */
  storeKeyFile?: string;
  /** CA certificates (PEM) a `rediss://` store's certificate must chain to, instead of the system's. */
  storeCaFile?: string;
  /** File holding the Redis sentinels' own password (a redis+sentinel:// store). */
  storeSentinelPasswordFile?: string;
  keyType?: 'ecdsa' | 'rsa';
  ellipticCurve?: 'p256' | 'p384';
  rsaKeySize?: 2048 | 3072 | 4096;
  webroot?: string;
  httpPort?: number;
  httpAddress?: string;
  /** Common name of the issuer of the chain's topmost certificate to prefer among the CA's chains (--preferred-chain). */
  preferredChain?: string;
  /** Renew when fewer than this many days are left (overrides the lifetime rule). */
  renewDays?: number;
  /** Up to this fraction of a lifetime, due dates move earlier per certificate (default 0.1). */
  renewalSpread?: number;
  /** Most requests per second certman sends one CA (default 100). */
  requestsPerSecond?: number;
  /** Longest Retry-After (seconds) certman waits for before asking the CA again within a run (default 30). */
  maxRetryAfter?: number;
  /** Seconds a certificate or account lease lasts unless its holder extends it (default 60): how long a run that stalled or died on another host blocks the others. */
  leaseSeconds?: number;
  /** Where `renew --dry-run` orders for a certificate whose CA has no known staging CA (default: that CA itself). */
  dryRunServer?: string;
  /** Failed validations of one name by one account within an hour after which certman stops ordering it (default 3; Let's Encrypt's limit is 5). */
  failedValidationLimit?: number;
  /** New orders per CA account per 3 hours, counted across every node sharing the store (default 300, Let's Encrypt's limit). */
  newOrderLimit?: number;
  hooks?: HookCommands;
  /** DNS servers (`ip[:port]`) for verify-dns, the DNS gate and the self-check; default the system's. */
  resolver?: string[];
  /** Port the CA validates HTTP-01 on, for the self-check (80 for real CAs). */
  validationPort?: number;
  /** Addresses every name must resolve to (verify-dns; when set, issue and renew check DNS first). */
  expectIp?: string[];
  /** CNAME targets a name's chain may reach instead (same use as expectIp). */
  expectCname?: string[];
  /** The CA's CAA issuer domain name (default letsencrypt.org). */
  caIdentity?: string;
  /** The ACME profile `issue` orders (one of the CA's meta.profiles), unless --profile/--no-profile say otherwise; renew never reads it (it orders the saved one). */
  profile?: string;
  /**
   * TLS endpoints (`host[:port]`, port 443 by default) `check` and `--verify-deploy` connect to: one list for every
   * certificate, or lists by certificate name (`"*"`: every other certificate). Default: each name on port 443.
   */
  endpoints?: string[] | Record<string, string[]>;
  /** After deploying a renewed certificate, wait until its endpoints serve it: `true` (30 s) or seconds; `false` never. */
  verifyDeploy?: boolean | number;
}

export interface LoadedConfig {
  /** Absolute path of the file read, if any. */
  path?: string;
  config: FileConfig;
}

/** Global options as given on the command line (all optional: unset means "not given"). */
export interface GlobalFlags {
  configDir?: string;
  server?: string;
  caFile?: string;
  /** Explicit config file (`--config`). */
  config?: string;
  /** `--max-retry-after <seconds>`, as typed. */
  maxRetryAfter?: string;
  /** `--store <dir|url>`, as typed. */
  store?: string;
  storePrefix?: string;
  storeKeyFile?: string;
  storeCaFile?: string;
}

/** Global settings after precedence: flags > environment > config file > built-in defaults. */
export interface Settings {
  /** This host's things: the config file, logs. */
  configDir: string;
  /** The store: an absolute folder (the config dir unless `store` is set) or a Redis URL; all a command opens through openStore. */
  store: string;
  /** From --store-prefix, CERTMAN_STORE_PREFIX or the config file: the Redis store's key prefix. */
  storePrefix?: string;
  /** Absolute path of the store key file (--store-key-file, CERTMAN_STORE_KEY_FILE, config storeKeyFile). */
  storeKeyFile?: string;
  /** Absolute path (--store-ca-file, CERTMAN_STORE_CA_FILE, config storeCaFile). */
  storeCaFile?: string;
  /** Absolute path (CERTMAN_STORE_SENTINEL_PASSWORD_FILE, config storeSentinelPasswordFile). */
  storeSentinelPasswordFile?: string;
  /** Absolute ACME directory URL (aliases expanded). */
  server: string;
  caFile?: string;
  email?: string;
  keyType: 'ecdsa' | 'rsa';
  ellipticCurve: 'p256' | 'p384';
  rsaKeySize: 2048 | 3072 | 4096;
  webroot?: string;
  httpPort: number;
  httpAddress?: string;
  preferredChain?: string;
  renewDays?: number;
  renewalSpread?: number;
  requestsPerSecond?: number;
  /** Seconds: from --max-retry-after, CERTMAN_MAX_RETRY_AFTER or the config file; unset means the default (30). */
  maxRetryAfter?: number;
  /** Seconds: from CERTMAN_LEASE_SECONDS or the config file; unset means the store's default (60). */
  leaseSeconds?: number;
  failedValidationLimit?: number;
  newOrderLimit?: number;
  /** Absolute directory URL for `renew --dry-run` of a lineage whose CA has no known staging CA (see dryRunServerFor); set only when configured. */
  dryRunServer?: string;
  hooks: HookCommands;
  /** DNS servers (`ip[:port]`) from CERTMAN_RESOLVER or the config file; unset: the system's. */
  resolver?: string[];
  /** From CERTMAN_VALIDATION_PORT or the config file; default 80. */
  validationPort: number;
  expectIp?: string[];
  expectCname?: string[];
  caIdentity?: string;
  /** Config `profile`: what `issue` orders without --profile. */
  profile?: string;
  /** Config `endpoints`: where certificates are served. */
  endpoints?: EndpointsConfig;
  /** Config `verifyDeploy`, in seconds (absent: renew and sync verify only when asked). */
  verifyDeploy?: number;
  /** The config file the settings came from, for messages. */
  configFile?: string;
}
