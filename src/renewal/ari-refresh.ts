import type { AcmeConnector } from '../acme/index.js';
import { mapLimit } from '../concurrency.js';
import type { Reporter } from '../report.js';
import type { AccountStore, CertificateStore, StateStore } from '../store/types.js';
import type { CertificateMeta } from '../lineage/types.js';
import { refreshAri } from './ari.js';

/** Which servers offer ARI, remembered so that a no-op run talks to no CA. */
const ARI_SERVERS_KEY = 'ari-servers';
const RECHECK_SERVER_MS = 24 * 60 * 60 * 1000;
/** A server that could not be asked is tried again sooner. */
const RECHECK_UNREACHABLE_MS = 60 * 60 * 1000;

interface ServerAri {
  renewalInfo: boolean;
  /** Ask the directory again after this time. */
  nextCheck: string;
}

export interface AriDeps {
  store: CertificateStore & AccountStore & StateStore;
  connect: AcmeConnector;
  report: Reporter;
}

/**
 * Fetches the CA's suggested renewal window (RFC 9773) for every certificate whose last answer
 * has expired, and saves it with the certificate. Failures are warnings: ARI can only make a
 * renewal earlier, never block one.
 */
export async function refreshAriStates(metas: CertificateMeta[], deps: AriDeps, now: Date, concurrency: number): Promise<CertificateMeta[]> {
  const stale = metas.filter((m) => m.revoked === undefined && (m.ari === undefined || Date.parse(m.ari.nextCheck) <= now.getTime()));
  if (stale.length === 0) return metas;
  const servers = (await deps.store.getState<Record<string, ServerAri>>(ARI_SERVERS_KEY)) ?? {};
  const learned: Record<string, ServerAri> = {};
  const updated = new Map<string, CertificateMeta>();

  for (const server of new Set(stale.map((m) => m.server))) {
    const known = servers[server];
    if (known !== undefined && !known.renewalInfo && Date.parse(known.nextCheck) > now.getTime()) continue;
    const account = await deps.store.getAccount(server);
    if (account === undefined) continue;
    let client;
    try {
      client = await deps.connect({ server, accountKeyPem: account.keyPem, accountUrl: account.url });
      const offered = (await client.renewalInfoUrl()) !== undefined;
      learned[server] = { renewalInfo: offered, nextCheck: new Date(now.getTime() + RECHECK_SERVER_MS).toISOString() };
      if (!offered) continue;
    } catch (err) {
      deps.report.warn(`could not ask ${server} for renewal information: ${(err as Error).message}`);
      learned[server] = { renewalInfo: false, nextCheck: new Date(now.getTime() + RECHECK_UNREACHABLE_MS).toISOString() };
      continue;
    }
    const ariClient = client;
    await mapLimit(
      stale.filter((m) => m.server === server),
      concurrency,
      async (meta) => {
        try {
          const { cert } = await deps.store.readFiles(meta.name);
          const ari = await refreshAri(meta, cert, ariClient, now);
          if (ari !== undefined && JSON.stringify(ari) !== JSON.stringify(meta.ari)) {
            // Only for the certificate it was asked about: a renewal meanwhile has a window of its own.
            const next = await deps.store.updateMeta(meta.name, (current) => (current.serial === meta.serial ? { ...current, ari } : undefined));
            updated.set(meta.name, next);
          }
        } catch (err) {
          deps.report.warn(`renewal information for ${meta.name} unavailable: ${(err as Error).message}`);
        }
      },
    );
  }
  // Merged into what is stored now: another run may have learned about other servers meanwhile.
  if (Object.keys(learned).length > 0) {
    // A cache that spares the next runs a question: a store this run cannot write (a read-only user) costs only that.
    await deps.store
      .updateState<Record<string, ServerAri>>(ARI_SERVERS_KEY, (current) => ({ ...current, ...learned }))
      .catch((err: unknown) => deps.report.warn(`could not remember which servers offer renewal information: ${(err as Error).message}`));
  }
  return metas.map((m) => updated.get(m.name) ?? m);
}
