import type { AcmeConnector } from '../acme/index.js';
import { issueCertificate } from '../certificate/issue.js';
import { CertmanError, UsageError } from '../errors.js';
import type { Reporter } from '../report.js';
import type { AccountStore, CertificateMeta, CertificateStore } from '../store/types.js';
import { certificateStatus, renewalWindow } from './due.js';

export interface RenewOptions {
  /** Only these lineages; all when empty. */
  names: string[];
  /** Renew even when not due. */
  force: boolean;
  /** Overrides every certificate's renewal window for this run (`--days`). */
  days?: number;
  /** Window for certificates that have none of their own (config `renewDays`). */
  defaultDays?: number;
  now: Date;
}

export interface RenewDeps {
  store: CertificateStore;
  accounts: AccountStore;
  connect: AcmeConnector;
  report: Reporter;
}

export type RenewResult =
  | { name: string; status: 'renewed'; meta: CertificateMeta; previousSerial: string }
  | { name: string; status: 'not-due'; dueAt: Date }
  | { name: string; status: 'skipped'; reason: string }
  | { name: string; status: 'failed'; error: Error };

/**
 * Renews every certificate that is due, repeating how it was issued. Certificates are independent:
 * one failure is recorded and the others go on; a failed one keeps its live files untouched.
 */
export async function renewCertificates(options: RenewOptions, deps: RenewDeps): Promise<RenewResult[]> {
  const selected = await selectCertificates(options.names, deps.store);
  const results: RenewResult[] = [];
  for (const meta of selected) {
    results.push(await renewOne(meta, options, deps));
  }
  return results;
}

async function selectCertificates(names: string[], store: CertificateStore): Promise<CertificateMeta[]> {
  if (names.length === 0) return (await store.list()).sort((a, b) => a.name.localeCompare(b.name));
  const metas = await Promise.all(names.map((name) => store.get(name)));
  const missing = names.filter((_, i) => metas[i] === undefined);
  if (missing.length > 0) throw new UsageError(`no certificate named ${missing.join(', ')}`, 'see certman certificates');
  return metas.filter((meta): meta is CertificateMeta => meta !== undefined);
}

async function renewOne(meta: CertificateMeta, options: RenewOptions, deps: RenewDeps): Promise<RenewResult> {
  const renewDays = options.days ?? meta.renewDays ?? options.defaultDays;
  const status = certificateStatus(meta, options.now, renewDays);
  // A revoked certificate was retired on purpose: renew it only when asked for by name.
  if (status === 'revoked' && !(options.force && options.names.includes(meta.name))) {
    return { name: meta.name, status: 'skipped', reason: 'revoked (renew it with --cert-name and --force, or delete it)' };
  }
  if (!options.force && status === 'valid') {
    return { name: meta.name, status: 'not-due', dueAt: renewalWindow(meta, renewDays).dueAt };
  }
  try {
    const account = await deps.accounts.getAccount(meta.server);
    if (account === undefined) throw new CertmanError(`no account for ${meta.server}`, { hint: 'run certman register for that server' });
    deps.report.step(`renewing ${meta.name}`);
    // The stored metadata is the request that made the certificate: repeat it as it was.
    const outcome = await issueCertificate(
      { ...meta, force: true },
      { store: deps.store, account, connect: deps.connect, report: deps.report, now: options.now },
    );
    return { name: meta.name, status: 'renewed', meta: outcome.meta, previousSerial: meta.serial };
  } catch (err) {
    return { name: meta.name, status: 'failed', error: err as Error };
  }
}
