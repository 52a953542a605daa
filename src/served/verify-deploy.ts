/**
 * `renew --verify-deploy` and `sync --verify-deploy`: once a new version is deployed on this host (files, copies,
 * deploy hooks), its endpoints are asked again and again until every one serves it or the time is up. Web servers
 * pick up new files a moment after a reload, so one look right after the hook would report false misses.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { mapLimit } from '../concurrency.js';
import { messageOf } from '../errors.js';
import type { CertificateMeta } from '../lineage/types.js';
import type { Reporter } from '../report.js';
import type { StateStore, StoreInventory } from '../store/types.js';
import { printableLine } from '../text.js';
import { checkEndpoints, DEFAULT_PROBE_TIMEOUT_MS, recordServedCheck } from './check.js';
import { knownVersions, type KnownVersion } from './classify.js';
import { endpointsFor, type EndpointsConfig } from './endpoint.js';
import { formatEndpoint } from './probe.js';
import type { Endpoint, EndpointCheck } from './types.js';

/** The first pause between two rounds; it doubles up to {@link MAX_PAUSE_MS}. */
const FIRST_PAUSE_MS = 250;
const MAX_PAUSE_MS = 1000;
/** A round started near the deadline still gets this long per handshake. */
const MIN_PROBE_MS = 1000;
/**
 * Certificates verified at once (each probes up to 8 endpoints at once): a handshake a second each is little for a
 * web server, and a run whose every renewal misses (the server down) waits SECONDS per 16 certificates.
 */
const CERTIFICATES_AT_ONCE = 16;

export interface VerifyDeployOptions {
  /** How long the endpoints have to serve the new version. */
  seconds: number;
  /** This host's config `endpoints` (a shared store holds none of its own). */
  endpoints?: EndpointsConfig;
  /** The run's cancellation: verification stops at once, reported as interrupted. */
  signal?: AbortSignal;
}

export interface VerifyDeployDeps {
  /** Where the lineage's versions are read (to name an older one) and the last check is kept. */
  store: StoreInventory & StateStore;
  report: Reporter;
}

/** What verifying one deployed certificate found. */
export interface DeployVerification {
  /** Every endpoint served the new version before the time was up. */
  ok: boolean;
  /** The time allowed. */
  seconds: number;
  elapsedMs: number;
  /** Rounds of probes (only the endpoints not yet serving it are asked again). */
  rounds: number;
  /** The last answer of each endpoint: `live` once it served the new version. */
  endpoints: EndpointCheck[];
  /** Why nothing (or not everything) could be checked: no endpoints, the versions unreadable, interrupted. */
  problem?: string;
}

/** Verifies the deployments of several certificates at once; by name. */
export type DeployVerifier = (deployed: readonly CertificateMeta[]) => Promise<Map<string, DeployVerification>>;

export function deployVerifier(options: VerifyDeployOptions, deps: VerifyDeployDeps): DeployVerifier {
  return async (deployed) => {
    const verifications = await mapLimit(deployed, CERTIFICATES_AT_ONCE, (meta) => verifyDeployed(meta, options, deps));
    return new Map(deployed.map((meta, i) => [meta.name, verifications[i] as DeployVerification]));
  };
}

/**
 * `results` (of renew or sync) with the verification of each `deployed` lineage given to `attach`; unchanged without
 * a verifier. The lineages are verified together, once all are deployed.
 */
export async function withVerifications<R extends { name: string }>(
  results: R[],
  deployed: readonly CertificateMeta[],
  verifier: DeployVerifier | undefined,
  attach: (result: R, verification: DeployVerification) => R,
): Promise<R[]> {
  if (verifier === undefined || deployed.length === 0) return results;
  const verifications = await verifier(deployed);
  return results.map((result) => {
    const verification = verifications.get(result.name);
    return verification === undefined ? result : attach(result, verification);
  });
}

/**
 * Polls the endpoints of `meta` (its live version just deployed) until all serve it or `seconds` have passed. The
 * last answers are kept as the certificate's last served check (`certman metrics`), unless interrupted.
 */
export async function verifyDeployed(meta: CertificateMeta, options: VerifyDeployOptions, deps: VerifyDeployDeps): Promise<DeployVerification> {
  const started = Date.now();
  const deadline = started + options.seconds * 1000;
  const result = (endpoints: EndpointCheck[], rounds: number, problem?: string): DeployVerification => ({
    ok: problem === undefined && endpoints.every((check) => check.status === 'live'),
    seconds: options.seconds,
    elapsedMs: Date.now() - started,
    rounds,
    endpoints,
    ...(problem === undefined ? {} : { problem }),
  });
  const endpoints = endpointsFor(meta, options.endpoints);
  if (endpoints.length === 0) return result([], 0, 'no endpoints to check (only wildcard names): set config endpoints for it');
  let versions: KnownVersion[];
  try {
    versions = knownVersions(await deps.store.versions(meta.name));
  } catch (err) {
    return result([], 0, `cannot read its stored versions: ${printableLine(messageOf(err))}`);
  }
  deps.report.step(`verifying that ${endpoints.map(formatEndpoint).join(', ')} serve ${meta.name} serial ${meta.serial} (up to ${options.seconds} s)`);
  const latest = await pollUntilLive(endpoints, { liveVersion: meta.version, versions }, deadline, options.signal);
  if (options.signal?.aborted === true) return result(latest.checks, latest.rounds, 'interrupted');
  const verification = result(latest.checks, latest.rounds);
  await recordServedCheck(deps.store, meta.name, { checkedAt: new Date().toISOString(), liveSerial: meta.serial, endpoints: latest.checks }).catch((err: unknown) =>
    deps.report.warn(`could not keep the served check of ${meta.name}: ${messageOf(err)}`),
  );
  return verification;
}

async function pollUntilLive(
  endpoints: readonly Endpoint[],
  lineage: { liveVersion: number; versions: readonly KnownVersion[] },
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<{ checks: EndpointCheck[]; rounds: number }> {
  const checks: EndpointCheck[] = [];
  let pending = endpoints.map((_, i) => i);
  let rounds = 0;
  let pauseMs = FIRST_PAUSE_MS;
  const aborted = (): boolean => signal?.aborted === true;
  for (;;) {
    const timeoutMs = Math.min(DEFAULT_PROBE_TIMEOUT_MS, Math.max(MIN_PROBE_MS, deadline - Date.now()));
    const answers = await checkEndpoints(
      pending.map((i) => endpoints[i] as Endpoint),
      lineage,
      { timeoutMs, ...(signal === undefined ? {} : { signal }) },
    );
    rounds += 1;
    answers.forEach((answer, j) => (checks[pending[j] as number] = answer));
    pending = pending.filter((_, j) => answers[j]?.status !== 'live');
    const left = deadline - Date.now();
    if (pending.length === 0 || left <= 0 || aborted()) return { checks, rounds };
    // The last pause ends at the deadline, so one more round looks then.
    await delay(Math.min(pauseMs, left), undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
    if (aborted()) return { checks, rounds };
    pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS);
  }
}
