import type { Store } from '../store/index.js';
import type { CliContext } from './context.js';

/**
 * What goes with a deleted lineage (`delete`, `revoke --delete`) besides the store's record: its failed renewals,
 * so a certificate of that name issued or imported later starts afresh, and this host's deployed copy (a store
 * without files here, Redis: other hosts keep theirs until they sync).
 */
export async function forgetLineage(store: Store, name: string, ctx: CliContext): Promise<void> {
  const { clearBackoff } = await import('../renewal/backoff.js');
  await clearBackoff(store, name, ctx.report);
  const { deployerFor } = await import('../deploy/index.js');
  await deployerFor(store, ctx.settings.configDir).remove(name);
}
