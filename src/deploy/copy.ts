/**
 * Deploying from a store that keeps no files on this host (Redis): the live version is copied into a filesystem
 * store in this host's config dir, so web servers read certbot's live/<name>/ files as from a folder store, with
 * the same atomic switch of all four files, versions kept in archive/ and private keys 0600.
 */
import type { CertificateMeta } from '../lineage/types.js';
import { withoutNodeLocal } from '../lineage/node-local.js';
import type { Store, WriteGuard } from '../store/index.js';
import { FsLayout } from '../store/fs/layout.js';
import type { FileStore } from '../store/fs/index.js';
import { lineageFiles, type Deployer, type DeployedLineage } from './files.js';

/** How long a copy waits for another run on this host writing the same lineage's files. */
const COPY_WAIT_MS = 5 * 60_000;

export function copyDeployer(store: Store, configDir: string): Deployer {
  const layout = new FsLayout(configDir);
  let opened: Promise<FileStore> | undefined;
  const copies = (): Promise<FileStore> => {
    opened ??= import('../store/fs/index.js').then(({ openFileStore }) => openFileStore(configDir, process.getuid?.() === 0 ? { trustedOwner: 0 } : {}));
    return opened;
  };
  const locate = (name: string): DeployedLineage => lineageFiles(layout.liveDir(name));
  /** Runs `work` on this host's copy of lineage `name`, holding its lease there. */
  const withCopy = async (name: string, work: (local: FileStore, guard: WriteGuard) => Promise<void>): Promise<void> => {
    const local = await copies();
    const lease = await local.lease({ certificate: name }, { wait: true, timeoutMs: COPY_WAIT_MS });
    try {
      await work(local, { lease });
    } finally {
      await lease.release();
    }
  };
  return {
    locate,
    deploy: async (meta: CertificateMeta) => {
      await withCopy(meta.name, async (local, guard) => {
        // Already this version here (a second deploy of it, or sync after this host's own renewal): nothing to write.
        if ((await local.get(meta.name).catch(() => undefined))?.serial === meta.serial) return;
        const files = await store.readFiles(meta.name);
        const { version: _version, ...fresh } = meta;
        await local.save(withoutNodeLocal(fresh), files, guard);
      });
      return locate(meta.name);
    },
    remove: (name) => withCopy(name, (local, guard) => local.delete(name, guard)),
  };
}
