/**
 * The filesystem store (certbot-compatible live/ + archive/ layout). See file-store.ts.
 */
import { FileStore, type FileStoreOptions } from './file-store.js';

export { FileStore, PEM_KINDS, type FileStoreOptions, type PemKind, type Repair } from './file-store.js';
export { UntrustedFileError } from './trust.js';
export { CorruptFileError } from './meta.js';
export { isValidName, serverKey, validateName } from './names.js';

/** Opens (creating if needed) a config directory and repairs any interrupted live/ switch. */
export async function openFileStore(configDir: string, options: FileStoreOptions = {}): Promise<FileStore> {
  return FileStore.open(configDir, options);
}
