import { createHash, createPublicKey } from 'node:crypto';

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a private key's public half. */
export function jwkThumbprint(privateKeyPem: string): string {
  const jwk = createPublicKey(privateKeyPem).export({ format: 'jwk' });
  // RFC 7638: only the required members, in lexicographic order.
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** The HTTP-01 response body: token "." thumbprint (RFC 8555 §8.1). */
export function keyAuthorization(token: string, thumbprint: string): string {
  return `${token}.${thumbprint}`;
}
