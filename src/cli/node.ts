import { isNetworkStore, storeIsConfigDir } from '../config/store-location.js';
import type { Settings } from '../config/types.js';
import type { NodeSettings } from '../lineage/node-local.js';

/** This host's own hooks, webroot and port, and whether the store may be shared (see src/lineage/node-local.ts). */
export function thisNode(settings: Settings): { node: NodeSettings; sharedStore: boolean } {
  return {
    node: {
      hooks: settings.hooks,
      httpPort: settings.httpPort,
      ...(settings.webroot === undefined ? {} : { webroot: settings.webroot }),
      ...(settings.httpAddress === undefined ? {} : { httpAddress: settings.httpAddress }),
    },
    sharedStore: !storeIsConfigDir(settings),
  };
}

/** The folders whose files and links certman manages itself (config dir, store folder): no copy may be written there. */
export function managedFolders(settings: Settings): string[] {
  return isNetworkStore(settings.store) ? [settings.configDir] : [settings.configDir, settings.store];
}
