/**
 * Entry point of the storage layer: the types, and openStore(), the one place that decides which backend
 * holds the data (the `store` setting: a folder, or a Redis URL for a fleet).
 */
import { fileURLToPath } from 'node:url';
import { openFileStore } from './fs/index.js';
import { acquireFileLock } from './fs/lock.js';
import type { RekeyReport } from './redis/rekey.js';
import type { AccountStore, CertificateStore, ChangeFeed, ChangeFeedState, LeaseOptions, LeaseStore, LiveLayout, StateStore, StoreInventory, TokenStore } from './types.js';
import { isNetworkStore } from '../config/store-location.js';

export type * from './types.js';
export type { RekeyCounts, RekeyReport } from './redis/rekey.js';
export { CorruptFileError, isValidName, validateName } from './fs/index.js';

/** Everything a command needs from a store, whatever the backend. */
export interface Store extends CertificateStore, AccountStore, LeaseStore, StateStore, StoreInventory {
  /** Pending HTTP-01 tokens, answered by `serve-challenge` on any host sharing the store. */
  readonly tokens: TokenStore;
  /** Where the store is, for messages: a folder, or a URL without its credentials. */
  readonly location: string;
  /** Set when the store's own files are the live/ layout web servers on this host read. */
  readonly liveLayout?: LiveLayout;
  /**
   * Seals every private key again under the first store key, for a key rotation without downtime; only stores
   * that seal (Redis) have it.
   */
  rotateKey?(): Promise<RekeyReport>;
  /** Lets go of the store's connections (a network store); a folder has none. */
  close?(): Promise<void>;
  /**
   * Tells `onChange` the name of each lineage any run on any host saves or deletes, soon after its commit (a
   * network store; a folder has no feed). While the store is unreachable nothing arrives; `onState` says when
   * the feed is lost and when it is back.
   */
  watch?(onChange: (name: string) => void, onState?: (state: ChangeFeedState) => void): Promise<ChangeFeed>;
}

export interface OpenStoreOptions {
  /**
   * Running as root: metadata that another user could have written (it names the hooks root runs) is not
   * used: such certificates are problems, and an interrupted update carrying it is not applied.
   */
  strict?: boolean;
  /** Only reading (listing, completion, monitoring): the store is neither created nor repaired. */
  readOnly?: boolean;
  /**
   * The 256-bit store key of a `redis://`, `rediss://` or `redis+sentinel://` store: it seals private keys before
   * they reach Redis. Without it such a store refuses to open. Several keys: the first seals, any of them opens
   * (a key rotation).
   */
  redisKey?: Buffer | readonly Buffer[];
  /** Prefix of every Redis key (default `certman:`). */
  redisPrefix?: string;
  /** PEM file of the CA certificate(s) a `rediss://` server's certificate must chain to (instead of the system's). */
  redisCaFile?: string;
  /** The sentinels' own password for `redis+sentinel://` (the URL's user and password are the master's). */
  redisSentinelPassword?: string;
}

/**
 * A lock between certman runs on this host only (a port a standalone server binds), kept in a node-local folder
 * such as the config dir: never in a shared store, where a fleet's nodes would wait for each other's ports.
 */
export async function lockOnThisHost(dir: string, name: string, options: LeaseOptions): Promise<{ release(): Promise<void> }> {
  return acquireFileLock(dir, name, options);
}


/**
 * Opens the store at `location` (the `store` setting, default the config dir): a folder, or `file:` URL
 * of one. A writable open repairs any interrupted update on the way.
 */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isNetworkStore(location)) {
    // node-redis is loaded only for a Redis store.
    const { openRedisStore } = await import('./redis/index.js');
    return openRedisStore(location, {
      key: options.redisKey,
      readOnly: options.readOnly === true,
      ...(options.redisPrefix === undefined ? {} : { prefix: options.redisPrefix }),
      ...(options.redisCaFile === undefined ? {} : { caFile: options.redisCaFile }),
      ...(options.redisSentinelPassword === undefined ? {} : { sentinelPassword: options.redisSentinelPassword }),
    });
  }
  const dir = location.startsWith('file://') ? fileURLToPath(location) : location;
  return openFileStore(dir, { ...(options.strict === true ? { trustedOwner: 0 } : {}), ...(options.readOnly === true ? { readOnly: true } : {}) });
}
