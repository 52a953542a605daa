/**
 * Entry point of the storage layer: the types, and openStore(), the one place that decides
 * which backend holds the data (today always the filesystem; a Redis store comes later).
 */
import { openFileStore } from './fs/index.js';
import type { AccountStore, CertificateStore, LockingStore, StateStore } from './types.js';

export type * from './types.js';
export { CorruptFileError, isValidName, validateName } from './fs/index.js';

/** Everything a command needs from a store, whatever the backend. */
export interface Store extends CertificateStore, AccountStore, LockingStore, StateStore {
  /**
   * Names of certificates whose metadata the last list() had to skip (damaged or unreadable);
   * list() itself still returns all the others.
   */
  problems(): string[];
}

export interface OpenStoreOptions {
  /**
   * Running as root: metadata that another user could have written (it names the hooks root runs) is not
   * used: such certificates are problems, and an interrupted update carrying it is not applied.
   */
  strict?: boolean;
}

/** Opens the store for a config directory (repairing any interrupted update on the way). */
export async function openStore(configDir: string, options: OpenStoreOptions = {}): Promise<Store> {
  return openFileStore(configDir, options.strict === true ? { trustedOwner: 0 } : {});
}
