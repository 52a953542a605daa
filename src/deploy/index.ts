/**
 * Deploying: putting the live version of a lineage where this host's web servers read it, as certbot's
 * live/<name>/{cert,chain,fullchain,privkey}.pem. Kept apart from storing: the store keeps versions, a
 * deployer names (or, for a shared store, writes) the files. Every path shown to the user and every
 * RENEWED_LINEAGE a deploy hook gets comes from here.
 */
import { join } from 'node:path';

import { CertmanError } from '../errors.js';
import type { CertificateMeta } from '../lineage/types.js';
import type { Store } from '../store/index.js';

/** Where one lineage's files are on this host. */
export interface DeployedLineage {
  /** The live/<name> folder (certbot's RENEWED_LINEAGE). */
  dir: string;
  cert: string;
  chain: string;
  fullchain: string;
  privkey: string;
}

export interface Deployer {
  /** Makes the stored live version of `meta` what this host's web servers read; returns where it is. */
  deploy(meta: CertificateMeta): Promise<DeployedLineage>;
  /** Where the lineage's files are (or will be) on this host; writes nothing. */
  locate(name: string): DeployedLineage;
}

function lineageFiles(dir: string): DeployedLineage {
  return {
    dir,
    cert: join(dir, 'cert.pem'),
    chain: join(dir, 'chain.pem'),
    fullchain: join(dir, 'fullchain.pem'),
    privkey: join(dir, 'privkey.pem'),
  };
}

/** The deployer for a store: for one whose own files are the live/ layout (the filesystem store), naming them. */
export function deployerFor(store: Store): Deployer {
  const layout = store.liveLayout;
  if (layout === undefined) {
    throw new CertmanError('this store keeps no live/ files on this host, and certman cannot write them from it yet');
  }
  const locate = (name: string): DeployedLineage => lineageFiles(layout.liveDir(name));
  return { locate, deploy: (meta) => Promise.resolve(locate(meta.name)) };
}
