/**
 * Deploying: putting the live version of a lineage where this host's web servers read it, as certbot's
 * live/<name>/{cert,chain,fullchain,privkey}.pem. Kept apart from storing: the store keeps versions, a
 * deployer names (or, for a store without files on this host, writes) the files. Every path shown to the user
 * and every RENEWED_LINEAGE a deploy hook gets comes from here.
 */
import type { Store } from '../store/index.js';
import { copyDeployer } from './copy.js';
import { lineageFiles, type Deployer, type DeployedLineage } from './files.js';

export type { Deployer, DeployedLineage } from './files.js';

/**
 * The deployer for a store: for one whose own files are the live/ layout (a folder store), naming them; for
 * another (Redis), copying each deployed version into certbot's layout in this host's config dir.
 */
export function deployerFor(store: Store, configDir: string): Deployer {
  const layout = store.liveLayout;
  if (layout === undefined) return copyDeployer(store, configDir);
  const locate = (name: string): DeployedLineage => lineageFiles(layout.liveDir(name));
  return { locate, deploy: (meta) => Promise.resolve(locate(meta.name)), remove: () => Promise.resolve() };
}
