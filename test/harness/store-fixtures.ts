// Metadata and PEM texts for tests that drive the filesystem store directly or write its files by hand.
import type { CertificateFiles, CertificateMeta, NewCertificate } from '../../src/lineage/types.js';
import type { CertificateStore, LeaseStore, PendingToken, TokenStore, WriteGuard } from '../../src/store/types.js';

export function newCert(name: string, overrides: Partial<NewCertificate> = {}): NewCertificate {
  return {
    name,
    domains: [name, `www.${name}`],
    key: { type: 'ecdsa', curve: 'p256' },
    reuseKey: false,
    method: { kind: 'webroot', webroot: '/var/www/html' },
    server: 'https://acme-v02.api.letsencrypt.org/directory',
    accountUrl: 'https://acme-v02.api.letsencrypt.org/acme/acct/1',
    serial: '0a1b2c',
    notBefore: '2025-01-01T00:00:00.000Z',
    notAfter: '2025-04-01T00:00:00.000Z',
    ...overrides,
  };
}

/** PEM-shaped texts (not real certificates) that say which version they are. */
export function pems(tag: string): CertificateFiles {
  return {
    cert: `-----BEGIN CERTIFICATE-----\ncert ${tag}\n-----END CERTIFICATE-----\n`,
    chain: `-----BEGIN CERTIFICATE-----\nchain ${tag}\n-----END CERTIFICATE-----\n`,
    fullchain: `-----BEGIN CERTIFICATE-----\nfullchain ${tag}\n-----END CERTIFICATE-----\n`,
    privkey: `-----BEGIN PRIVATE KEY-----\nkey ${tag}\n-----END PRIVATE KEY-----\n`,
  };
}

/** The parts of a store a writer needs: leases, and the writes a lease guards. */
type LeasedWrites = Pick<LeaseStore, 'lease'> & Pick<CertificateStore, 'save' | 'delete'>;

/** Runs `work` holding the lease on lineage `name`, as a command that writes it does; released afterwards. */
export async function withCertLease<T>(store: Pick<LeaseStore, 'lease'>, name: string, work: (guard: WriteGuard) => Promise<T>): Promise<T> {
  const lease = await store.lease({ certificate: name }, { wait: true, timeoutMs: 60_000 });
  try {
    return await work({ lease });
  } finally {
    await lease.release();
  }
}

/** save() under the lineage's lease. */
export function saveLeased(store: LeasedWrites, meta: NewCertificate, files: CertificateFiles): Promise<CertificateMeta> {
  return withCertLease(store, meta.name, (guard) => store.save(meta, files, guard));
}

/** delete() under the lineage's lease. */
export function deleteLeased(store: LeasedWrites, name: string): Promise<void> {
  return withCertLease(store, name, (guard) => store.delete(name, guard));
}

/** A pending token as a test compares it: without its expiry, which a store may or may not report. */
export async function pendingToken(store: { tokens: Pick<TokenStore, 'get'> }, token: string): Promise<Omit<PendingToken, 'expiresAt'> | undefined> {
  const found = await store.tokens.get(token);
  if (found === undefined) return undefined;
  const { expiresAt: _expiresAt, ...pending } = found;
  return pending;
}
