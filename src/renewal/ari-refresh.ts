import type { AcmeConnector } from '../acme/index.js';
import { mapLimit } from '../concurrency.js';
import type { Reporter } from '../report.js';
import type { AccountStore, CertificateMeta, CertificateStore, StateStore } from '../store/types.js';
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
  let serversChanged = false;
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
      servers[server] = { renewalInfo: offered, nextCheck: new Date(now.getTime() + RECHECK_SERVER_MS).toISOString() };
      serversChanged = true;
      if (!offered) continue;
    } catch (err) {
      deps.report.warn(`could not ask ${server} for renewal information: ${(err as Error).message}`);
      servers[server] = { renewalInfo: false, nextCheck: new Date(now.getTime() + RECHECK_UNREACHABLE_MS).toISOString() };
      serversChanged = true;
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
            const next = { ...meta, ari };
            await deps.store.updateMeta(next);
            updated.set(meta.name, next);
          }
        } catch (err) {
          deps.report.warn(`renewal information for ${meta.name} unavailable: ${(err as Error).message}`);
        }
      },
    );
  }
  if (serversChanged) await deps.store.putState(ARI_SERVERS_KEY, servers);
  return metas.map((m) => updated.get(m.name) ?? m);
}
