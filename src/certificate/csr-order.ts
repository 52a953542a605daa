/**
 * `issue --csr`: one order finalized with the user's own CSR, as certbot's `certonly --csr`. No key is seen or
 * stored and no lineage is created: the caller writes the certificate where the user asked.
 */
import { certificateHasPublicKey, readCertificateInfo, splitFullchain } from '../crypto/certificate.js';
import { CertmanError } from '../errors.js';
import { placeOrder, type OrderDeps, type OrderRequest } from './order-step.js';

export interface CsrOrderRequest extends Omit<OrderRequest, 'name'> {
  csrDer: Buffer;
  /** The CSR's public key (SPKI DER): the certificate must carry it. */
  publicKeyDer: Buffer;
}

export interface CsrCertificate {
  cert: string;
  chain: string;
  fullchain: string;
  serial: string;
  notAfter: Date;
}

export async function orderFromCsr(request: CsrOrderRequest, deps: OrderDeps): Promise<CsrCertificate> {
  const { csrDer } = request;
  const { fullchainPem } = await placeOrder({ ...request, name: request.domains[0] ?? '' }, deps, () => Promise.resolve({ csrDer }));
  const files = splitFullchain(fullchainPem);
  if (!certificateHasPublicKey(files.cert, request.publicKeyDer)) {
    throw new CertmanError("the CA returned a certificate for another key than the CSR's; nothing was written");
  }
  const info = readCertificateInfo(files.cert);
  return { ...files, serial: info.serial, notAfter: info.notAfter };
}
