import { join } from 'node:path';

import type { CertificateMeta } from '../lineage/types.js';

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
  /** Removes this host's files of a lineage deleted from the store (the store's own files went with it). */
  remove(name: string): Promise<void>;
}

export function lineageFiles(dir: string): DeployedLineage {
  return {
    dir,
    cert: join(dir, 'cert.pem'),
    chain: join(dir, 'chain.pem'),
    fullchain: join(dir, 'fullchain.pem'),
    privkey: join(dir, 'privkey.pem'),
  };
}
