/**
 * `certman check` over a store: for every certificate (or the named ones) what each of its endpoints serves, set
 * against its stored versions, and the answer kept as its last check (SERVED_CHECK_KEY) for `certman metrics`.
 */
import { mapLimit } from '../concurrency.js';
import { messageOf } from '../errors.js';
import { endpointsOnThisNode } from '../lineage/node-local.js';
import type { CertificateMeta } from '../lineage/types.js';
import type { Reporter } from '../report.js';
import { selectCertificates } from '../renewal/renew.js';
import type { CertificateStore, StateStore, StoreInventory } from '../store/types.js';
import { checkEndpoints, recordServedCheck } from './check.js';
import { knownVersions } from './classify.js';
import { endpointsFor, type EndpointsConfig } from './endpoint.js';
import type { ServedCheck } from './types.js';

/** Certificates checked at once (each checks its own endpoints a few at a time). */
const CERTIFICATES_AT_ONCE = 4;

export interface CheckRunOptions {
  /** Only these certificates (an unknown name is a UsageError); all when empty. */
  names: readonly string[];
  /** `--endpoint`: every certificate is checked there in this run, instead of its own endpoints. */
  endpoints?: readonly string[];
  /** Config `endpoints`. */
  config: EndpointsConfig | undefined;
  /** The store may be shared by other hosts: endpoints stored with a certificate are not this host's (node-local.ts). */
  sharedStore: boolean;
  /** false: read the store only, connect nowhere (`check --expiry --stored-only`). */
  served: boolean;
  timeoutMs: number;
  now: () => Date;
  report: Reporter;
  /**
   * Where each certificate's check is kept (not with `endpoints`: those are this run's); a store that refuses
   * (read-only for this user) costs one warning.
   */
  record?: () => Promise<StateStore>;
}

/** What a certificate's check found: its live version, and what its endpoints serve (none when not `served`). */
export interface CheckedCertificate {
  name: string;
  status: 'checked';
  domains: string[];
  version: number;
  serial: string;
  notAfter: string;
  check: ServedCheck;
}

/** A certificate not checked: retired on purpose (`revoked`), or its stored files cannot be read (`damaged`). */
export type UncheckedCertificate = { name: string; status: 'revoked'; reason: string } | { name: string; status: 'damaged'; reason: string };

export type CertificateCheck = CheckedCertificate | UncheckedCertificate;

/** Every selected certificate's check, sorted by name. */
export async function checkCertificates(store: CertificateStore & StoreInventory, options: CheckRunOptions): Promise<CertificateCheck[]> {
  const { metas, unusable } = await selectCertificates([...options.names], store);
  const recorder = options.record === undefined ? undefined : onceWarning(options.record, options.report);
  const checked = await mapLimit(metas, CERTIFICATES_AT_ONCE, async (meta): Promise<CertificateCheck> => {
    // Revoked by certman: renew leaves it alone too, and what is served for its names is another certificate's job.
    if (meta.revoked !== undefined) return { name: meta.name, status: 'revoked', reason: `revoked ${meta.revoked.at} (${meta.revoked.reason})` };
    try {
      const check = await checkOne(store, meta, options);
      // A check at endpoints given for this run only is not the certificate's: metrics keep reporting its own.
      if (options.served && options.endpoints === undefined) await recorder?.(meta.name, check);
      return { name: meta.name, status: 'checked', domains: meta.domains, version: meta.version, serial: meta.serial, notAfter: meta.notAfter, check };
    } catch (err) {
      return { name: meta.name, status: 'damaged', reason: messageOf(err) };
    }
  });
  const damaged = unusable.map((problem): CertificateCheck => ({ name: problem.name, status: 'damaged', reason: problem.error.message }));
  return [...checked, ...damaged].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function checkOne(store: CertificateStore & StoreInventory, meta: CertificateMeta, options: CheckRunOptions): Promise<ServedCheck> {
  const liveSerial = meta.serial;
  if (!options.served) return { checkedAt: options.now().toISOString(), liveSerial, endpoints: [] };
  const versions = knownVersions(await store.versions(meta.name));
  const own = options.endpoints === undefined ? endpointsOnThisNode(meta, options.sharedStore) : [...options.endpoints];
  const endpoints = endpointsFor({ name: meta.name, domains: meta.domains, ...(own === undefined ? {} : { endpoints: own }) }, options.config);
  const results = await checkEndpoints(endpoints, { liveVersion: meta.version, versions }, { timeoutMs: options.timeoutMs });
  return { checkedAt: options.now().toISOString(), liveSerial, endpoints: results };
}

/** Records each check; after the first refusal, warns once and records nothing more in this run. */
function onceWarning(open: () => Promise<StateStore>, report: Reporter): (name: string, check: ServedCheck) => Promise<void> {
  let refused = false;
  return async (name, check) => {
    if (refused) return;
    try {
      await recordServedCheck(await open(), name, check);
    } catch (err) {
      if (refused) return;
      refused = true;
      report.warn(`the checks are reported but not kept for certman metrics: ${messageOf(err)}`);
    }
  };
}
