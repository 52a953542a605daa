import type { HookCommands } from '../store/types.js';

/** Keys accepted in a certman config file (cosmiconfig module name `certman`). */
export interface FileConfig {
  email?: string;
  /** Directory URL or alias (`letsencrypt`, `letsencrypt-staging`). */
  server?: string;
  caFile?: string;
  keyType?: 'ecdsa' | 'rsa';
  ellipticCurve?: 'p256' | 'p384';
  rsaKeySize?: 2048 | 3072 | 4096;
  webroot?: string;
  httpPort?: number;
  httpAddress?: string;
  /** Renew when fewer than this many days are left (overrides the lifetime rule). */
  renewDays?: number;
  /** Up to this fraction of a lifetime, due dates move earlier per certificate (default 0.1). */
  renewalSpread?: number;
  /** Most requests per second certman sends one CA (default 60). */
  requestsPerSecond?: number;
  /** Where `renew --dry-run` orders (default letsencrypt-staging). */
  dryRunServer?: string;
  /** Failed validations of one name within an hour after which certman stops ordering it (default 3). */
  failedValidationLimit?: number;
  hooks?: HookCommands;
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
}

/** Global settings after precedence: flags > environment > config file > built-in defaults. */
export interface Settings {
  configDir: string;
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
  renewDays?: number;
  renewalSpread?: number;
  requestsPerSecond?: number;
  failedValidationLimit?: number;
  /** Absolute directory URL for `renew --dry-run`. */
  dryRunServer: string;
  hooks: HookCommands;
  /** The config file the settings came from, for messages. */
  configFile?: string;
}
