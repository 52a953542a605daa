import { isIpIdentifier } from '../dns/ip.js';

/**
 * Builds the PKCS#10 request for an order; acme-client's X.509 code is loaded only here. Every name is a SAN
 * (IP addresses as iPAddress, RFC 8738 §3); the CN is the first DNS name, and an address-only request has
 * none, as Let's Encrypt's IP certificates have none (a CN is optional and limited to 64 characters).
 */
export async function createCsrDer(domains: string[], keyPem: string): Promise<Buffer> {
  const { crypto } = await import('acme-client');
  const firstName = domains.find((name) => !isIpIdentifier(name));
  const commonName = firstName !== undefined && firstName.length <= 64 ? firstName : undefined;
  // A copy: acme-client's createCsr puts a CN missing from altNames into the list it is given (unshift).
  const [, csrPem] = await crypto.createCsr({ ...(commonName === undefined ? {} : { commonName }), altNames: [...domains] }, keyPem);
  return pemBodyToDer(csrPem.toString());
}

function pemBodyToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
