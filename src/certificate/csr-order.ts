/**
 * `issue --csr`: one order finalized with the user's own CSR, as certbot's `certonly --csr`. No key is seen or
 * stored and no lineage is created: the caller writes the certificate where the user asked.
 */
import type { AcmeConnector } from '../acme/index.js';
import { ResponderPool } from '../challenge/index.js';
import { readCertificateInfo, splitFullchain } from '../crypto/certificate.js';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { CertmanError } from '../errors.js';
import type { ChallengeMethod } from '../lineage/types.js';
import type { CaBudget } from '../renewal/ca-budget.js';
import type { Reporter } from '../report.js';
import type { StoredAccount } from '../store/types.js';
import { failedValidations, obtainCertificate, type ObtainInput } from './obtain.js';

export interface CsrOrderRequest {
  domains: string[];
  csrDer: Buffer;
  /** The CSR's public key (SPKI DER): the certificate must carry it. */
  publicKeyDer: Buffer;
  method: ChallengeMethod;
  server: string;
}

export interface CsrOrderDeps {
  account: StoredAccount;
  connect: AcmeConnector;
  report: Reporter;
  responders?: ResponderPool;
  selfCheck?: ObtainInput['selfCheck'];
  /** See IssueDeps.budget. */
  budget?: CaBudget;
  /** The pre-hook, once the order will really be placed. */
  beforeOrder?: () => Promise<void>;
  signal?: AbortSignal;
}

export interface CsrCertificate {
  cert: string;
  chain: string;
  fullchain: string;
  serial: string;
  notAfter: Date;
}

export async function orderFromCsr(request: CsrOrderRequest, deps: CsrOrderDeps): Promise<CsrCertificate> {
  deps.signal?.throwIfAborted();
  deps.budget?.check(request.server, deps.account.url, request.domains, new Date());
  await deps.beforeOrder?.();
  const responder = await (deps.responders ?? new ResponderPool()).acquire(request.method);
  let fullchain: string;
  try {
    const client = await deps.connect({ server: request.server, accountKeyPem: deps.account.keyPem, accountUrl: deps.account.url });
    const account = client.account ?? deps.account.url;
    await deps.budget?.takeOrder(account, new Date(), deps.report);
    try {
      fullchain = await obtainCertificate({
        client,
        domains: request.domains,
        csrDer: request.csrDer,
        accountKeyPem: deps.account.keyPem,
        responder,
        report: deps.report,
        ...(deps.selfCheck === undefined ? {} : { selfCheck: deps.selfCheck }),
        ...(deps.signal === undefined ? {} : { signal: deps.signal }),
      });
    } catch (err) {
      deps.budget?.failures.recordFailures(account, failedValidations(err), new Date());
      throw err;
    }
  } finally {
    await responder.close();
  }
  const files = splitFullchain(fullchain);
  const certKey = new X509Certificate(files.cert).publicKey.export({ type: 'spki', format: 'der' });
  if (!certKey.equals(createPublicKey({ key: request.publicKeyDer, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' }))) {
    throw new CertmanError("the CA returned a certificate for another key than the CSR's; nothing was written");
  }
  const info = readCertificateInfo(files.cert);
  return { ...files, serial: info.serial, notAfter: info.notAfter };
}
