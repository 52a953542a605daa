/** Public API of the config layer. */
export type { FileConfig, GlobalFlags, LoadedConfig, Settings } from './types.js';
export {
  DEFAULT_SERVER,
  DEFAULT_SERVER_ALIAS,
  SERVER_ALIASES,
  defaultConfigDir,
  resolveServer,
  serverProblem,
} from './defaults.js';
export { CONFIG_FILE_NAMES, loadConfigFile } from './load.js';
export { ENV_VARS, resolveConfigDir, resolveSettings, type SettingsInput } from './settings.js';
export { resolveStoreLocation, storeIsConfigDir, storeLocationProblem } from './store-location.js';
export { checkEmail, looksLikeEmail, validateFileConfig } from './validate.js';
