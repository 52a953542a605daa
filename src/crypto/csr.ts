/** Builds the PKCS#10 request for an order; acme-client's X.509 code is loaded only here. */
export async function createCsrDer(domains: string[], keyPem: string): Promise<Buffer> {
  const { crypto } = await import('acme-client');
  const [first] = domains;
  // The CN is optional and limited to 64 characters (RFC 5280 ub-common-name); SANs carry the names.
  const commonName = first !== undefined && first.length <= 64 ? first : undefined;
  const [, csrPem] = await crypto.createCsr({ ...(commonName === undefined ? {} : { commonName }), altNames: domains }, keyPem);
  return pemBodyToDer(csrPem.toString());
}

function pemBodyToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
