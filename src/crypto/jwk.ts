import { createHash, createPublicKey } from 'node:crypto';

/** The public half of a private key as a JWK with only the members RFC 7638 requires, in lexicographic order. */
export function publicJwk(privateKeyPem: string): Record<string, string | undefined> {
  const jwk = createPublicKey(privateKeyPem).export({ format: 'jwk' });
  return jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a private key's public half. */
export function jwkThumbprint(privateKeyPem: string): string {
  return createHash('sha256').update(JSON.stringify(publicJwk(privateKeyPem))).digest('base64url');
}

/** The HTTP-01 response body: token "." thumbprint (RFC 8555 §8.1). */
export function keyAuthorization(token: string, thumbprint: string): string {
  return `${token}.${thumbprint}`;
}
