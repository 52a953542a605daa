/**
 * `certman sync`: this host's copy of a shared store's certificates. Each lineage's live version is deployed here
 * (the copy deployer: certbot's live/ + archive/ in the config dir, keys 0600, one atomic switch), and this host's
 * deploy hook runs for the lineages whose files changed, once each. A lineage gone from the store keeps its files
 * here: certman never removes what web servers may still be reading because of a change elsewhere.
 */
import { UsageError } from '../errors.js';
import { deployHookEnv, type HookOutcome } from '../hooks/index.js';
import type { CertificateMeta } from '../lineage/types.js';
import { CorruptFileError, type Store } from '../store/index.js';
import { withVerifications, type DeployVerification, type DeployVerifier } from '../served/verify-deploy.js';
import type { Deployer } from './files.js';

export type SyncResult =
  /**
   * The store's live version was written here; `hook` is the deploy hook's outcome when one ran, `verify` what this
   * host's endpoints served afterwards (--verify-deploy).
   */
  | { name: string; status: 'copied'; serial: string; dir: string; hook?: HookOutcome; verify?: DeployVerification }
  | { name: string; status: 'unchanged'; serial: string; dir: string }
  /** No longer in the store: its files here are left as they are. */
  | { name: string; status: 'gone'; dir: string }
  | { name: string; status: 'failed'; error: unknown };

export interface SyncDeps {
  store: Store;
  deployer: Deployer;
  /** This host's deploy hook (its flag or config file, never the store's). */
  deployHook?: string;
  runHook: (command: string, env: Record<string, string>) => Promise<HookOutcome>;
  /** --verify-deploy: asked about the lineages copied here, after their deploy hooks (this host's endpoints). */
  verify?: DeployVerifier;
}

/** Only these lineages (--cert-name), or every one when empty. */
export type Selection = readonly string[];

/**
 * Refuses, before anything is written, a sync that has nothing to do: a store whose own files are this host's
 * live/ layout (a folder) is what its web servers read already.
 */
export function assertSyncable(store: Store): void {
  if (store.liveLayout !== undefined) {
    throw new UsageError(`nothing to sync: the store ${store.location} is a folder, and its live/ files are what web servers read`, 'sync copies from a Redis store (--store redis://…) into the config dir');
  }
}

/**
 * One pass over every lineage of the store and every one with files here (or the selected ones). `strict`: a
 * selected name that is in neither is a UsageError (a one-off sync; a watch waits for it to appear).
 */
export async function syncAll(selection: Selection, deps: SyncDeps, strict = true): Promise<SyncResult[]> {
  const wanted = (name: string) => selection.length === 0 || selection.includes(name);
  const metas = (await deps.store.list()).filter((meta) => wanted(meta.name));
  const damaged = deps.store.problemDetails().filter((p) => wanted(p.name));
  const inStore = new Set([...metas.map((m) => m.name), ...damaged.map((p) => p.name)]);
  const here = (await deps.deployer.deployedNames()).filter((name) => wanted(name) && !inStore.has(name));
  const missing = selection.filter((name) => !inStore.has(name) && !here.includes(name));
  if (strict && missing.length > 0) throw new UsageError(`no certificate named ${missing.join(', ')} in the store ${deps.store.location}`, 'see certman certificates');
  const results: SyncResult[] = [];
  for (const meta of metas) results.push(await syncLineage(meta, deps));
  for (const problem of damaged) results.push({ name: problem.name, status: 'failed', error: problem.error });
  for (const name of here) results.push(gone(name, deps));
  return (await withVerification(results, metas, deps.verify)).sort((a, b) => a.name.localeCompare(b.name));
}

/** One lineage a change message named: copied, unchanged, gone from the store, or nothing at all (never here). */
export async function syncOne(name: string, deps: SyncDeps): Promise<SyncResult | undefined> {
  let meta: CertificateMeta | undefined;
  try {
    meta = await deps.store.get(name);
  } catch (err) {
    if (err instanceof CorruptFileError) return { name, status: 'failed', error: err };
    throw err;
  }
  if (meta !== undefined) return (await withVerification([await syncLineage(meta, deps)], [meta], deps.verify))[0];
  return (await deps.deployer.deployedNames()).includes(name) ? gone(name, deps) : undefined;
}

/** The results, each copied lineage with what the endpoints served once all were copied (see SyncDeps.verify). */
function withVerification(results: SyncResult[], metas: readonly CertificateMeta[], verifier: DeployVerifier | undefined): Promise<SyncResult[]> {
  const copied = metas.filter((meta) => results.some((r) => r.name === meta.name && r.status === 'copied'));
  return withVerifications(results, copied, verifier, (r, verify) => (r.status === 'copied' ? { ...r, verify } : r));
}

function gone(name: string, deps: SyncDeps): SyncResult {
  return { name, status: 'gone', dir: deps.deployer.locate(name).dir };
}

async function syncLineage(meta: CertificateMeta, deps: SyncDeps): Promise<SyncResult> {
  try {
    const deployed = await deps.deployer.deploy(meta);
    if (!deployed.changed) return { name: meta.name, status: 'unchanged', serial: meta.serial, dir: deployed.dir };
    const hook = deps.deployHook === undefined ? undefined : await deps.runHook(deps.deployHook, deployHookEnv(deployed.dir, meta.domains));
    return { name: meta.name, status: 'copied', serial: meta.serial, dir: deployed.dir, ...(hook === undefined ? {} : { hook }) };
  } catch (err) {
    return { name: meta.name, status: 'failed', error: err };
  }
}
