/**
 * A flattened JWS (RFC 7515 §7.2.2) signed with a key of ours. acme-client signs every request certman sends;
 * this is only for the JWS nested inside one (RFC 8555 §7.3.5 keyChange: signed by the new account key).
 */
import { createPrivateKey, sign } from 'node:crypto';
import { publicJwk } from './jwk.js';

export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

/** RFC 7518 §3.1 algorithms for the key types certman makes (RSA, ECDSA P-256 and P-384). */
function algorithmOf(keyPem: string): { alg: string; hash: string } {
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType === 'rsa') return { alg: 'RS256', hash: 'sha256' };
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return { alg: 'ES256', hash: 'sha256' };
  if (curve === 'secp384r1') return { alg: 'ES384', hash: 'sha384' };
  throw new Error(`no JWS algorithm for a ${key.asymmetricKeyType ?? 'unknown'} key${curve === undefined ? '' : ` on ${curve}`}`);
}

/**
 * Signs `payload` with a protected header of only `alg`, the key's public JWK and `url`: the inner JWS of a
 * keyChange must carry no nonce (RFC 8555 §7.3.5).
 */
export function signJwsWithJwk(keyPem: string, url: string, payload: object): FlattenedJws {
  const { alg, hash } = algorithmOf(keyPem);
  const protectedHeader = Buffer.from(JSON.stringify({ alg, jwk: publicJwk(keyPem), url })).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  // ECDSA signatures in JWS are r‖s (RFC 7518 §3.4), not DER.
  const signature = sign(hash, Buffer.from(`${protectedHeader}.${body}`), { key: keyPem, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return { protected: protectedHeader, payload: body, signature };
}
