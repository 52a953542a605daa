/**
 * Names of the store locks the commands take. Kept apart from the store itself so that command
 * definitions can name them without loading the store.
 */

/** The lock every writer of a config dir holds: renew, issue, import-certbot, and the store's own repairs. */
export const CONFIG_DIR_LOCK = 'config-dir';
