/**
 * The filesystem store (certbot-compatible live/ + archive/ layout). See file-store.ts.
 */
import { FileStore } from './file-store.js';

export { FileStore, PEM_KINDS, type PemKind, type Repair, type StoreProblem } from './file-store.js';
export { CorruptFileError } from './meta.js';
export { isValidName, serverKey, validateName } from './names.js';

/** Opens (creating if needed) a config directory and repairs any interrupted live/ switch. */
export async function openFileStore(configDir: string): Promise<FileStore> {
  return FileStore.open(configDir);
}
